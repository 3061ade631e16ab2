/**
 * Proof of play an advertiser can be billed on (issue 12), end to end over real sockets: a display
 * speaks the TCP protocol to device-tcp, which relays its plays to api-v2, which judges and stores
 * them; the report is read through the public API. Every rejection code of docs/display-protocol.md
 * ("What counts as a play") is provoked, and the report must not move; valid plays are counted
 * once, resent or not, attributed to the creative shown, with the multiplier of their time.
 *
 * Bookings are made through the API, then moved 3 h into the past in the database (the rows the
 * API wrote, all by the same amount): the booking "has been running for 3 hours", so plays can lie
 * in the past as real plays do. Displays run a 10-minute loop of six 100 s slots: with the
 * default clock-skew tolerance (2 min) a start in the wrong part of the loop is then detectable.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeviceTcpConfig, startDeviceTcp, type RunningDeviceTcp } from '@marquee/device-tcp';
import { FrameConnection } from '@marquee/display-client';
import type { TypedMessage } from '@marquee/display-protocol';
import { api, createDisplay, deviceTcpEnv, signUpAndLogIn, startTestPlatform, type Session, type TestPlatform } from '../support/platform.ts';
import { slotStarts } from '../support/plays.ts';

const LOOP = { lengthMs: 600_000, slotCount: 6 };
const SLOT_MS = 100_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

let p: TestPlatform;
let tcp: RunningDeviceTcp;
let db: postgres.Sql;
let opA: Session;
let opB: Session;
let adv: Session;
let d1: { id: string; secret: string };
let d3: { id: string; secret: string };
let c1: string;
let c2: string;
/** Booked on d1 (opA) and d3 (opB), running since 3 h ago. */
let b1: { id: string; slot: number };
/** Booked on d1 only, the slot after b1's. */
let b4: { id: string; slot: number };
let held: string;
let cancelled: string;
let tomorrow: string;
let onlyD3: string;
let conn: Awaited<ReturnType<typeof connect>>;

async function until<T>(what: string, probe: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw protocol session (not the client library): the test decides every play record it sends. */
async function connect(display: { id: string; secret: string }) {
  const inbox: TypedMessage[] = [];
  const wire = await FrameConnection.open({ host: '127.0.0.1', port: tcp.devicePort }, { onMessage: (m) => inbox.push(m), onClose: () => {} }, 4096);
  wire.send({ type: 'hello', protocol: 1, displayId: display.id, secret: display.secret, playlistVersion: 0 });
  const welcome = await until('welcome', () => inbox.find((m) => m.type === 'welcome'));
  wire.maxOutgoingBytes = welcome.maxFrameBytes as number;
  return {
    async send(plays: unknown[]): Promise<{ accepted: string[]; rejected: { playId: string; code: string; detail: string }[]; retryAfterMs?: number }> {
      const batchId = randomUUID().slice(0, 8);
      wire.send({ type: 'plays', batchId, plays });
      return (await until('plays_ack', () => inbox.find((m) => m.type === 'plays_ack' && m.batchId === batchId))) as never;
    },
    close: () => wire.close(),
  };
}

async function book(displayIds: string[], creativeId: string, startsAt: number, endsAt: number, confirm = true) {
  const hold = await api(
    p.apiV2.url,
    'POST',
    '/bookings',
    { displayIds, creativeId, startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() },
    { ...adv.auth, 'idempotency-key': randomUUID() },
  );
  expect(hold.status, JSON.stringify(hold.body)).toBe(201);
  if (confirm) expect((await api(p.apiV2.url, 'POST', `/bookings/${hold.body.id}/confirm`, undefined, adv.auth)).status).toBe(200);
  return { id: hold.body.id as string, slot: hold.body.displays.find((d: { displayId: string }) => d.displayId === displayIds[0]).slot as number };
}

/** Moves every instant of a booking the API recorded `ms` into the past. */
async function backdate(bookingId: string, ms: number) {
  const by = `${ms} milliseconds`;
  await db`
    update bookings set starts_at = starts_at - ${by}::interval, ends_at = ends_at - ${by}::interval, created_at = created_at - ${by}::interval,
      confirmed_at = confirmed_at - ${by}::interval, cancelled_at = cancelled_at - ${by}::interval
    where id = ${bookingId}`;
  await db`update booking_slots set during = tstzrange(lower(during) - ${by}::interval, upper(during) - ${by}::interval) where booking_id = ${bookingId}`;
  await db`update booking_display_creatives set since = since - ${by}::interval where booking_id = ${bookingId}`;
}

const play = (bookingId: string, creativeId: string, startedAt: number, durationMs = SLOT_MS) => ({
  playId: randomUUID(),
  bookingId,
  creativeId,
  startedAt: new Date(startedAt).toISOString(),
  durationMs,
});

/** The `n` of a `select count(*)::int as n` query. */
const countOf = async (rows: Promise<{ n: number }[]>) => (await rows)[0]!.n;

/** The fields of one CSV line (RFC 4180 quoting). */
function csvFields(line: string): string[] {
  return [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => (m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!));
}

/** Occurrence starts of b1's slot on d1, oldest first, from 2 h 50 min ago (after its confirmation) to now. */
let b1Starts: number[];
const nextB1Start = () => b1Starts.shift()!;

const report = async (who: Session = adv, query = '') => {
  const res = await api(p.apiV2.url, 'GET', `/bookings/${b1.id}/plays${query}`, undefined, who.auth);
  expect(res.status).toBe(200);
  return res.body;
};
const rejections = async (who: Session = opA, displayId = d1.id) => api(p.apiV2.url, 'GET', `/displays/${displayId}/play-rejections`, undefined, who.auth);
const rejectedMetric = async (code: string) => {
  const text = await (await fetch(`${p.apiV2.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('plays_rejected_total{') && l.includes(`code="${code}"`));
  return line ? Number(line.split(' ').pop()) : 0;
};

beforeAll(async () => {
  p = await startTestPlatform('plays');
  db = postgres(p.db.url, { max: 2, onnotice: () => {} });
  tcp = await startDeviceTcp(loadDeviceTcpConfig(deviceTcpEnv(p, { INSTANCE_ID: 'plays' })));
  [opA, opB, adv] = await Promise.all([signUpAndLogIn(p.apiV2.url, 'operator'), signUpAndLogIn(p.apiV2.url, 'operator'), signUpAndLogIn(p.apiV2.url, 'advertiser')]);
  const screen = { location: { lat: 52.52, lng: 13.4 }, timezone: 'Europe/Berlin', loop: LOOP, pricePerSlotHour: 600 };
  d1 = await createDisplay(p.apiV2.url, opA.auth, { ...screen, name: 'Station hall', audienceMultiplier: 2 }, { activate: true });
  d3 = await createDisplay(p.apiV2.url, opB.auth, { ...screen, name: 'Airport, gate "B"', pricePerSlotHour: 300, audienceMultiplier: 1 }, { activate: true });
  const creative = async (name: string) =>
    (await api(p.apiV2.url, 'POST', '/creatives', { name, type: 'text', body: name, durationMs: SLOT_MS }, adv.auth)).body.id as string;
  [c1, c2] = [await creative('Winter sale'), await creative('Last days')];

  const now = Date.now();
  b1 = await book([d1.id, d3.id], c1, now, now + 4 * HOUR);
  b4 = await book([d1.id], c1, now, now + 4 * HOUR);
  held = (await book([d1.id], c1, now, now + 4 * HOUR, false)).id;
  cancelled = (await book([d1.id], c1, now, now + 4 * HOUR)).id;
  expect((await api(p.apiV2.url, 'POST', `/bookings/${cancelled}/cancel`, undefined, adv.auth)).status).toBe(200);
  tomorrow = (await book([d1.id], c1, now + 24 * HOUR, now + 26 * HOUR)).id;
  onlyD3 = (await book([d3.id], c1, now, now + 4 * HOUR)).id;
  for (const id of [b1.id, b4.id, held, cancelled, onlyD3]) await backdate(id, 3 * HOUR);
  expect(b4.slot).toBe(b1.slot + 1);

  b1Starts = slotStarts(LOOP, b1.slot, Date.now() - 2 * HOUR - 50 * MINUTE, 17).filter((t) => t + SLOT_MS < Date.now());
  conn = await connect(d1);
}, 120_000);

afterAll(async () => {
  conn?.close();
  await tcp?.close();
  await db?.end();
  await p?.close();
});

describe('valid plays', () => {
  it('are counted once, also when resent (same or another batch id) or repeated in a batch', async () => {
    const before = await report();
    const valid = play(b1.id, c1, nextB1Start());
    const first = await conn.send([valid]);
    expect(first).toMatchObject({ accepted: [valid.playId], rejected: [] });
    expect(first.retryAfterMs).toBeUndefined();
    // The ack was lost: the display resends the play, in a new batch and twice within it.
    expect(await conn.send([valid, valid])).toMatchObject({ accepted: [valid.playId], rejected: [] });
    const after = await report();
    expect(after.totals.plays).toBe(before.totals.plays + 1);
    expect(after.totals.impressions).toBe(before.totals.impressions + 2);
    const n = await countOf(db<{ n: number }[]>`select count(*)::int as n from plays where play_id = ${valid.playId}`);
    expect(n).toBe(1);
  });

  it('a play across a creative swap is attributed to the creative shown when it started', async () => {
    const beforeSwap = nextB1Start();
    const afterSwap = nextB1Start();
    const alsoAfter = nextB1Start();
    const swapped = await api(p.apiV2.url, 'PATCH', `/bookings/${b1.id}`, { creativeId: c2 }, adv.auth);
    expect(swapped.status).toBe(200);
    // The swap, as the API recorded it, happened between the two showings.
    await db`update booking_display_creatives set since = ${new Date(beforeSwap + SLOT_MS / 2)} where booking_id = ${b1.id} and creative_id = ${c2}`;
    const before = await report();
    const old = play(b1.id, c1, beforeSwap); // started before the swap, still showing when it came
    const fresh = play(b1.id, c2, afterSwap);
    const stale = play(b1.id, c1, alsoAfter); // claims the old creative after the swap
    const ack = await conn.send([old, fresh, stale]);
    expect(ack.accepted.sort()).toEqual([old.playId, fresh.playId].sort());
    expect(ack.rejected).toEqual([{ playId: stale.playId, code: 'wrong_creative', detail: expect.any(String) }]);
    const after = await report();
    const plays = (r: typeof before, creativeId: string) => r.creatives.find((c: { creativeId: string }) => c.creativeId === creativeId)?.plays ?? 0;
    expect(plays(after, c1)).toBe(plays(before, c1) + 1);
    expect(plays(after, c2)).toBe(plays(before, c2) + 1);
    const d1Row = after.displays.find((d: { displayId: string }) => d.displayId === d1.id);
    expect(d1Row.creatives.find((c: { creativeId: string }) => c.creativeId === c2)).toMatchObject({ plays: 1, impressions: 2 });
  });

  it('keep the audience multiplier of their time when the display’s multiplier changes later', async () => {
    const early = play(b1.id, c2, nextB1Start());
    expect((await conn.send([early])).accepted).toEqual([early.playId]);
    const before = await report();
    expect((await api(p.apiV2.url, 'PATCH', `/displays/${d1.id}`, { audienceMultiplier: 5 }, opA.auth)).status).toBe(200);
    // Past impressions do not move.
    expect(await report()).toEqual(before);
    const late = play(b1.id, c2, nextB1Start());
    expect((await conn.send([late])).accepted).toEqual([late.playId]);
    const after = await report();
    expect(after.totals).toEqual({ plays: before.totals.plays + 1, impressions: before.totals.impressions + 5 });
    const stored = await db<{ play_id: string; audience_multiplier: string }[]>`
      select play_id, audience_multiplier::text from plays where play_id in ${db([early.playId, late.playId])} order by started_at`;
    expect(stored.map((r) => Number(r.audience_multiplier))).toEqual([2, 5]);
  });
  it('on a one-slot loop, where occurrences touch, a play starting on a boundary counts for the occurrence it starts', async () => {
    const oneSlot = { lengthMs: SLOT_MS, slotCount: 1 };
    const screen = { location: { lat: 52.52, lng: 13.4 }, timezone: 'Europe/Berlin', loop: oneSlot, pricePerSlotHour: 600, audienceMultiplier: 1 };
    const single = await createDisplay(p.apiV2.url, opA.auth, { ...screen, name: 'Kiosk, one slot' }, { activate: true });
    const now = Date.now();
    const booking = await book([single.id], c1, now, now + 4 * HOUR);
    await backdate(booking.id, 3 * HOUR);
    const starts = slotStarts(oneSlot, 0, now - HOUR, 3);
    const onSingle = await connect(single);
    try {
      const plays = starts.map((t) => play(booking.id, c1, t));
      const ack = await onSingle.send(plays);
      expect(ack).toMatchObject({ accepted: plays.map((pl) => pl.playId), rejected: [] });
      // An occurrence is named by the instant it starts: the same name in any loop length.
      const stored = await db<{ occurrence_start_ms: string }[]>`
        select occurrence_start_ms::text from plays where display_id = ${single.id} order by started_at`;
      expect(stored.map((r) => Number(r.occurrence_start_ms))).toEqual(starts);
    } finally {
      onSingle.close();
    }
  });
});

describe('every rejection code: acknowledged, never counted', () => {
  /** Sends plays expected to be rejected with `code`; checks the ack, the report, the per-display count and the metric. */
  async function rejects(code: string, plays: ReturnType<typeof play>[]) {
    const reportBefore = await report();
    const countBefore = (await rejections()).body.codes.find((c: { code: string }) => c.code === code)?.rejected ?? 0;
    const metricBefore = await rejectedMetric(code);
    const ack = await conn.send(plays);
    expect(ack.accepted).toEqual([]);
    expect(ack.retryAfterMs).toBeUndefined();
    expect(ack.rejected.map((r) => [r.playId, r.code])).toEqual(plays.map((pl) => [pl.playId, code]));
    for (const r of ack.rejected) expect(r.detail.length).toBeGreaterThan(5);
    expect(await report()).toEqual(reportBefore);
    const n = await countOf(db<{ n: number }[]>`select count(*)::int as n from plays where play_id in ${db(plays.map((pl) => pl.playId))} and display_id = ${d1.id}`);
    expect(n).toBe(0);
    expect((await rejections()).body.codes.find((c: { code: string }) => c.code === code)).toMatchObject({ rejected: countBefore + plays.length });
    expect(await rejectedMetric(code)).toBe(metricBefore + plays.length);
    return ack;
  }

  it('malformed: not a play record (refused by device-tcp), or the playId of another display’s play', async () => {
    await rejects('malformed', [{ ...play(b1.id, c1, nextB1Start()), bookingId: 'not-a-uuid' }]);
    // d3 stores a play (of the creative b1 shows since the swap); d1 then presents the same playId.
    const [{ slot }] = (await db`select slot from booking_displays where booking_id = ${b1.id} and display_id = ${d3.id}`) as unknown as [{ slot: number }];
    const onD3 = play(b1.id, c2, slotStarts(LOOP, slot, Date.now() - HOUR, 1)[0]!);
    const other = await connect(d3);
    expect(await other.send([onD3])).toMatchObject({ accepted: [onD3.playId], rejected: [] });
    other.close();
    await rejects('malformed', [{ ...onD3, startedAt: new Date(b1Starts[0]!).toISOString() }]);
  });

  it('unknown_booking: no such booking, or one without a part on this display', async () => {
    const at = b1Starts[0]!;
    await rejects('unknown_booking', [play(randomUUID(), c1, at), play(onlyD3, c1, at)]);
  });

  it('not_confirmed: a hold, a booking cancelled before the play, one confirmed after it (1970)', async () => {
    const at = b1Starts[0]!;
    await rejects('not_confirmed', [play(held, c1, at + 2 * SLOT_MS), play(cancelled, c1, at + 3 * SLOT_MS), play(b1.id, c1, 0)]);
  });

  it('in_future: an hour, a day and in year 9999 ahead', async () => {
    const now = Date.now();
    await rejects('in_future', [play(b1.id, c1, now + HOUR), play(b1.id, c1, now + 24 * HOUR), { ...play(b1.id, c1, now), startedAt: '9999-12-31T23:59:59Z' }]);
  });

  it('outside_window: before the booking starts (it starts tomorrow)', async () => {
    await rejects('outside_window', [play(tomorrow, c1, Date.now() + 1_000)]);
  });

  it('wrong_slot: started where the loop shows another slot', async () => {
    // 250 s before an occurrence of the booking's slot and 250 s after the one before: beyond the 120 s of skew.
    await rejects('wrong_slot', [play(b1.id, c2, b1Starts[0]! - 250_000)]);
  });

  it('wrong_creative: a creative the booking never showed', async () => {
    await rejects('wrong_creative', [play(b1.id, c1, b1Starts[0]!)]); // c2 is shown since the swap
  });

  it('bad_duration: a whole day on a 100 s slot, and nothing at all', async () => {
    await rejects('bad_duration', [play(b1.id, c2, b1Starts[0]!, 86_400_000), play(b1.id, c2, b1Starts[1]!, 0)]);
  });

  it('not_billable: an emergency message was on the display', async () => {
    const at = nextB1Start();
    const [media] = await db`insert into media (sha256, content_type, size_bytes, lo_oid) values (${'e'.repeat(64)}, 'text/plain', 0, lo_from_bytea(0, '')) returning sha256`;
    const [emergency] = await db`
      insert into emergencies (created_by, media_sha256, started_at, cleared_at) values (${opA.userId}, ${media!.sha256}, ${new Date(at - 1_000)}, ${new Date(at + SLOT_MS)}) returning id`;
    await db`insert into emergency_displays (emergency_id, display_id) values (${emergency!.id}, ${d1.id})`;
    await rejects('not_billable', [play(b1.id, c2, at)]);
  });

  it('duplicate_slot: a second play of the booking in one occurrence of its slot (stored, or earlier in the batch)', async () => {
    const at = nextB1Start();
    const counted = play(b1.id, c2, at);
    expect((await conn.send([counted])).accepted).toEqual([counted.playId]);
    await rejects('duplicate_slot', [play(b1.id, c2, at + 1_000, 5_000)]);
    const fresh = nextB1Start();
    const ack = await conn.send([play(b1.id, c2, fresh, 40_000), play(b1.id, c2, fresh + 50_000, 40_000)]);
    expect([ack.accepted.length, ack.rejected.map((r) => r.code)]).toEqual([1, ['duplicate_slot']]);
  });

  it('overlap: another booking’s play claiming time this display spent on a counted play', async () => {
    const at = nextB1Start();
    const counted = play(b1.id, c2, at);
    expect((await conn.send([counted])).accepted).toEqual([counted.playId]);
    // b4's slot follows b1's: 50 s early is within the skew of its slot, but d1 was showing b1 then.
    await rejects('overlap', [play(b4.id, c1, at + SLOT_MS / 2, SLOT_MS / 2)]);
    // Back to back is fine.
    const next = play(b4.id, c1, at + SLOT_MS);
    expect((await conn.send([next])).accepted).toEqual([next.playId]);
  });
});

describe('the report and who sees what', () => {
  it('defaults to the booking’s window and lists every display, zero where nothing played', async () => {
    const r = await report();
    const [b] = await db<{ starts_at: Date; ends_at: Date }[]>`select starts_at, ends_at from bookings where id = ${b1.id}`;
    expect([r.from, r.to, r.bucket]).toEqual([b!.starts_at.toISOString(), b!.ends_at.toISOString(), 'hour']);
    expect(r.displays.map((d: { displayId: string }) => d.displayId).sort()).toEqual([d1.id, d3.id].sort());
    const n = await countOf(db<{ n: number }[]>`select count(*)::int as n from plays where booking_id = ${b1.id}`);
    expect(r.totals.plays).toBe(n);
    expect(r.displays.reduce((sum: number, d: { plays: number }) => sum + d.plays, 0)).toBe(n);
  });

  it('is CSV on Accept: text/csv, one line per display, creative and bucket', async () => {
    const json = await report();
    const res = await fetch(`${p.apiV2.url}/bookings/${b1.id}/plays`, { headers: { ...adv.auth, accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe('booking_id,display_id,display_name,creative_id,bucket,bucket_start,plays,impressions');
    expect(lines.at(-1)).toBe('');
    const rows = lines.slice(1, -1).map(csvFields);
    const sum = (i: number) => rows.reduce((n, r) => n + Number(r[i]), 0);
    expect(sum(6)).toBe(json.totals.plays);
    expect(sum(7)).toBeCloseTo(json.totals.impressions, 3);
    for (const r of rows) expect(r[0]).toBe(b1.id);
    // d3 played once (the malformed test's play); its name is quoted as CSV wants.
    expect(lines.filter((l) => l.includes(d3.id))).toEqual([expect.stringContaining(`${d3.id},"Airport, gate ""B""",${c2},hour,`)]);
    const d3Row = rows.find((r) => r[1] === d3.id)!;
    expect([d3Row[3], d3Row[6], d3Row[7]]).toEqual([c2, '1', '1']);
    expect(rows.filter((r) => r[1] === d1.id && r[3] === c2).length).toBeGreaterThan(0);
  });

  it('an operator sees only its own displays and its own share of the price', async () => {
    const whole = (await api(p.apiV2.url, 'GET', `/bookings/${b1.id}`, undefined, adv.auth)).body;
    const part = (id: string) => whole.displays.find((d: { displayId: string }) => d.displayId === id).price as number;
    expect(part(d1.id)).toBeGreaterThan(0);
    expect(part(d3.id)).toBeGreaterThan(0);
    expect(whole.priceTotal).toBe(part(d1.id) + part(d3.id));
    const asA = await report(opA);
    expect(asA.displays.map((d: { displayId: string }) => d.displayId)).toEqual([d1.id]);
    expect(asA.price).toBe(part(d1.id));
    expect((await api(p.apiV2.url, 'GET', `/bookings/${b1.id}`, undefined, opA.auth)).body.priceTotal).toBe(part(d1.id));
    const asB = await report(opB);
    expect(asB.displays.map((d: { displayId: string }) => d.displayId)).toEqual([d3.id]);
    expect(asB.price).toBe(part(d3.id));
    expect((await report(adv)).price).toBe(whole.priceTotal);
    const csvForA = await (await fetch(`${p.apiV2.url}/bookings/${b1.id}/plays`, { headers: { ...opA.auth, accept: 'text/csv' } })).text();
    expect(csvForA).not.toContain(d3.id);
  });

  it('rejection counts are for the display’s operator (and admins) only', async () => {
    const mine = await rejections(opA);
    expect(mine.status).toBe(200);
    expect(mine.body.codes.map((c: { code: string }) => c.code)).toEqual(
      ['bad_duration', 'duplicate_slot', 'in_future', 'malformed', 'not_billable', 'not_confirmed', 'outside_window', 'overlap', 'unknown_booking', 'wrong_creative', 'wrong_slot'],
    );
    expect(mine.body.total).toBe(mine.body.codes.reduce((n: number, c: { rejected: number }) => n + c.rejected, 0));
    expect((await rejections(opB)).status).toBe(404);
    expect((await rejections(adv)).status).toBe(403);
    expect((await rejections(opB, d3.id)).body).toEqual({ displayId: d3.id, total: 0, codes: [] });
  });
});
