import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { createDisplay, type Session } from '../../../test/support/platform.ts';
import { startPresenceSweeper } from '../src/devices/presence.ts';

const HOUR = 3_600_000;
let h: ApiV2TestApp;
let db: postgres.Sql;
let op: Session;
let otherOp: Session;
let adv: Session;
let otherAdv: Session;
let display: { id: string; secret: string };
let bookingId: string;
let creativeId: string;
const internal = (method: string, path: string, body?: unknown) => api(h.internal, method, path, body);

beforeAll(async () => {
  h = await startApiV2TestApp('v2devices');
  db = postgres(h.db.url, { max: 2, onnotice: () => {} });
  [op, otherOp, adv, otherAdv] = [h.user('operator'), h.user('operator'), h.user('advertiser'), h.user('advertiser')];
  display = await createDisplay(h.v2, op.auth, { name: 'Lobby', pricePerSlotHour: 250, audienceMultiplier: 2.5 });
  const [c] = await db`insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 'card', 'text', 'Hello', 5000) returning id`;
  creativeId = c!.id;
  const [b] = await db`
    insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency, confirmed_at)
    values (${adv.userId}, ${creativeId}, now() - interval '8 hours', now() + interval '2 hours', 'booked', 1000, 'EUR', now() - interval '8 hours') returning id`;
  bookingId = b!.id;
  // The rows POST /bookings writes: the booking's part on the display, and the slot it occupies.
  await db`insert into booking_displays (booking_id, display_id, slot, price, window_count) values (${bookingId}, ${display.id}, 0, 1000, 1)`;
  await db`insert into booking_slots (booking_id, display_id, slot, during)
    values (${bookingId}, ${display.id}, 0, tstzrange(now() - interval '8 hours', now() + interval '2 hours'))`;
  await db`insert into booking_display_creatives (booking_id, display_id, creative_id, since) values (${bookingId}, ${display.id}, ${creativeId}, now() - interval '8 hours')`;
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

describe('device handshakes (internal)', () => {
  const handshake = (...hellos: unknown[]) => internal('POST', '/internal/displays/handshakes', { hellos });
  const hello = (o: Record<string, unknown> = {}) => ({ displayId: display.id, secret: display.secret, playlistVersion: 0, ...o });

  it('answers a batch of hellos in order: credentials checked, the playlist when behind, pending commands', async () => {
    const shown = (await db`select playlist_version from displays where id = ${display.id}`)[0]!.playlist_version as string;
    const res = await handshake(
      hello(), hello({ secret: 'nope' }), hello({ displayId: randomUUID() }), hello({ displayId: 'd-1' }), hello({ playlistVersion: Number(shown) }), hello({ playlistVersion: 10_000 }),
    );
    expect(res.status).toBe(200);
    const [ok, bad, unknown, malformed, current, ahead] = res.body.answers;
    expect(ok).toMatchObject({ ok: true, display: { id: display.id }, commands: [] });
    // The display shows version 0: its current playlist (with the booking) comes along.
    expect(ok.playlist).toMatchObject({ displayId: display.id, version: ok.display.playlistVersion, entries: [{ bookingId, creativeId }] });
    expect(bad).toEqual({ ok: false, code: 'bad_secret' });
    expect(unknown).toEqual({ ok: false, code: 'unknown_display' });
    expect(malformed).toEqual({ ok: false, code: 'unknown_display' });
    // A display already on the current version gets no playlist; one ahead of it (a restored
    // database, a reused credential) gets the current one, as one behind does.
    expect(current).toMatchObject({ ok: true });
    expect(current.playlist).toBeUndefined();
    expect(ahead.playlist).toMatchObject({ displayId: display.id, version: Number(shown), entries: [{ bookingId, creativeId }] });
  });

  it('refuses malformed batches; a rotated or disabled credential is refused', async () => {
    expect((await handshake({ displayId: 5, secret: [] })).status).toBe(422);
    expect((await handshake()).status).toBe(422);
    expect((await internal('POST', '/internal/displays/handshakes', { hellos: Array.from({ length: 1001 }, () => hello()) })).status).toBe(422);
    expect((await internal('POST', '/internal/displays/handshakes', '{oops')).status).toBe(400);

    const rotated = await api(h.v2, 'POST', `/displays/${display.id}/credentials`, undefined, op.auth);
    expect(rotated.status).toBe(201);
    expect((await handshake(hello())).body.answers[0]).toEqual({ ok: false, code: 'bad_secret' });
    display.secret = rotated.body.secret;
    expect((await handshake(hello())).body.answers[0].ok).toBe(true);
  });

  it('still answers the per-display calls of device-tcp replicas from before batched hellos (a rolling deploy runs both)', async () => {
    expect((await internal('POST', '/internal/displays/authenticate', { displayId: display.id, secret: display.secret })).body).toMatchObject({ ok: true, display: { id: display.id } });
    expect((await internal('POST', '/internal/displays/authenticate', { displayId: display.id, secret: 'nope' })).body).toEqual({ ok: false, code: 'bad_secret' });
    expect((await internal('POST', '/internal/displays/authenticate', { displayId: 5 })).status).toBe(422);
    const pending = await internal('GET', `/internal/displays/${display.id}/commands/pending`);
    expect(pending.status).toBe(200);
    expect(pending.body.commands).toEqual(expect.any(Array));
    expect((await internal('GET', '/internal/displays/not-a-uuid/commands/pending')).status).toBe(422);
  });

  it('is not reachable on the public port', async () => {
    const res = await api(h.v2, 'POST', '/internal/displays/handshakes', { hellos: [hello()] });
    expect(res.status).toBe(404);
  });
});

describe('presence', () => {
  const at = () => new Date().toISOString();
  it('shows online/last seen to the operator; a late disconnect of a replaced session changes nothing', async () => {
    const first = { displayId: display.id, sessionId: 's1', instanceId: 'tcp-a' };
    const second = { displayId: display.id, sessionId: 's2', instanceId: 'tcp-b' };
    expect((await internal('POST', '/internal/presence', { events: [{ kind: 'connected', ...first, at: at(), remoteAddress: '10.0.0.7', playlistVersion: 1 }] })).status).toBe(204);
    expect((await internal('POST', '/internal/presence', { events: [{ kind: 'connected', ...second, at: at(), remoteAddress: '10.0.0.7', playlistVersion: 1 }] })).status).toBe(204);
    await internal('POST', '/internal/presence', { events: [{ kind: 'disconnected', ...first, at: at(), reason: 'replaced' }] });
    await internal('POST', '/internal/presence', { events: [{ kind: 'seen', displayId: display.id, sessionId: 's2', at: at(), playlistVersion: 2 }] });

    const seen = await api(h.v2, 'GET', `/displays/${display.id}`, undefined, op.auth);
    expect(seen.body.presence).toMatchObject({ online: true, appliedVersion: 2 });
    expect(Date.now() - Date.parse(seen.body.presence.lastSeenAt)).toBeLessThan(10_000);

    await internal('POST', '/internal/presence', { events: [{ kind: 'disconnected', ...second, at: at(), reason: 'closed by display' }] });
    const gone = await api(h.v2, 'GET', `/displays/${display.id}`, undefined, op.auth);
    expect(gone.body.presence.online).toBe(false);
    const events = await db`select kind, detail from display_events where display_id = ${display.id} order by id`;
    expect(events.map((e) => e.kind)).toEqual(['connected', 'connected', 'disconnected']);
  });

  it('marks a display offline when its replica vanished without a word (sweeper), and only such displays', async () => {
    // Two displays online on a replica that then dies: one last heard of long ago, one just now.
    const fresh = await createDisplay(h.v2, op.auth, { name: 'Heard from just now' });
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    await internal('POST', '/internal/presence', {
      events: [
        { kind: 'connected', displayId: display.id, sessionId: 's3', instanceId: 'tcp-c', at: longAgo, remoteAddress: 'x', playlistVersion: 1 },
        { kind: 'connected', displayId: fresh.id, sessionId: 's4', instanceId: 'tcp-c', at: new Date().toISOString(), remoteAddress: 'x', playlistVersion: 1 },
      ],
    });
    const presence = async (id: string) => (await api(h.v2, 'GET', `/displays/${id}`, undefined, op.auth)).body.presence;
    expect((await presence(display.id)).online).toBe(true);
    // The sweeper as api-v2 runs it, with a 60 s staleness window, on a short period.
    const stopSweeper = startPresenceSweeper(h.sql, h.deps.logger, 60_000, 20);
    try {
      for (let i = 0; i < 500 && (await presence(display.id)).online; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      stopSweeper();
    }
    expect((await presence(display.id)).online).toBe(false);
    expect((await presence(fresh.id)).online).toBe(true);
    const [event] = await db`select detail from display_events where display_id = ${display.id} and kind = 'disconnected' order by id desc limit 1`;
    expect(event!.detail).toMatchObject({ sessionId: 's3', reason: 'presence timeout' });
  });

  it('refuses malformed presence batches', async () => {
    expect((await internal('POST', '/internal/presence', { events: [{ kind: 'exploded', displayId: display.id }] })).status).toBe(422);
    expect((await internal('POST', '/internal/presence', { events: 'no' })).status).toBe(422);
  });
});

describe('commands', () => {
  it('queues a command for the device, publishes it, takes the result, and hides it from others', async () => {
    let announce!: (message: unknown) => void;
    const published = new Promise<unknown>((resolve) => (announce = resolve));
    const unsubscribe = await h.bus.subscribe('display.command', (message) => announce(message));
    const sent = await api(h.v2, 'POST', `/displays/${display.id}/commands`, { kind: 'screenshot' }, op.auth);
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe('pending');
    await expect(published).resolves.toMatchObject({ commandId: sent.body.id, displayId: display.id, kind: 'screenshot' });
    await unsubscribe();

    // The display's next handshake takes it (marking it delivered).
    const pending = (await internal('POST', '/internal/displays/handshakes', { hellos: [{ displayId: display.id, secret: display.secret, playlistVersion: 0 }] })).body.answers[0];
    expect(pending.commands.map((c: { commandId: string }) => c.commandId)).toContain(sent.body.id);
    expect((await api(h.v2, 'GET', `/displays/${display.id}/commands/${sent.body.id}`, undefined, op.auth)).body.status).toBe('delivered');
    const result = { displayId: display.id, commandId: sent.body.id, ok: true, result: { imageSha256: 'ab'.repeat(32) }, completedAt: new Date().toISOString() };
    expect((await internal('POST', `/internal/commands/${sent.body.id}/result`, result)).status).toBe(204);
    expect((await internal('POST', `/internal/commands/${sent.body.id}/result`, result)).status).toBe(409);
    expect((await internal('POST', `/internal/commands/${randomUUID()}/result`, { ...result, commandId: undefined })).status).toBe(422);

    const read = await api(h.v2, 'GET', `/displays/${display.id}/commands/${sent.body.id}`, undefined, op.auth);
    expect(read.body).toMatchObject({ status: 'succeeded', result: { imageSha256: 'ab'.repeat(32) } });

    // Ownership: another operator sees nothing; advertisers may not send commands.
    expect((await api(h.v2, 'GET', `/displays/${display.id}/commands/${sent.body.id}`, undefined, otherOp.auth)).status).toBe(404);
    expect((await api(h.v2, 'POST', `/displays/${display.id}/commands`, { kind: 'reload' }, otherOp.auth)).status).toBe(404);
    expect((await api(h.v2, 'GET', `/displays/${display.id}/commands`, undefined, otherOp.auth)).status).toBe(404);
    expect((await api(h.v2, 'POST', `/displays/${display.id}/commands`, { kind: 'reload' }, adv.auth)).status).toBe(403);
  });

  it('keeps a command for an offline display until it expires', async () => {
    const sent = await api(h.v2, 'POST', `/displays/${display.id}/commands`, { kind: 'reload', ttlSeconds: 10 }, op.auth);
    await db`update display_commands set expires_at = now() - interval '1 second' where id = ${sent.body.id}`;
    const pending = (await internal('POST', '/internal/displays/handshakes', { hellos: [{ displayId: display.id, secret: display.secret, playlistVersion: 0 }] })).body.answers[0];
    expect(pending.ok).toBe(true);
    expect(pending.commands.map((c: { commandId: string }) => c.commandId)).not.toContain(sent.body.id);
    const read = await api(h.v2, 'GET', `/displays/${display.id}/commands/${sent.body.id}`, undefined, op.auth);
    expect(read.body.status).toBe('expired');
  });

  it('refuses bad command input', async () => {
    for (const body of [{ kind: 'selfdestruct' }, { kind: 'reload', ttlSeconds: 1 }, { kind: 'reload', extra: 1 }, { kind: 'reload', args: { big: 'x'.repeat(5000) } }, {}]) {
      const res = await api(h.v2, 'POST', `/displays/${display.id}/commands`, body, op.auth);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await api(h.v2, 'POST', `/displays/not-a-uuid/commands`, { kind: 'reload' }, op.auth)).status).toBe(422);
  });
});

describe('proof of play', () => {
  const play = (startedAt: Date, overrides: Record<string, unknown> = {}) => ({
    playId: randomUUID(),
    bookingId,
    creativeId,
    startedAt: startedAt.toISOString(),
    durationMs: 10_000,
    ...overrides,
  });

  /** A new display with a loop of one 1 s slot, booked (confirmed, showing `creativeId`) from `hoursBack` ago to an hour ahead. */
  async function oneSlotBooking(name: string, hoursBack: number) {
    const loop = await createDisplay(h.v2, op.auth, { name, loop: { lengthMs: 1_000, slotCount: 1 }, audienceMultiplier: 1 });
    const since = `${hoursBack} hours`;
    const [b] = await db`
      insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency, confirmed_at)
      values (${adv.userId}, ${creativeId}, now() - ${since}::interval, now() + interval '1 hour', 'booked', 10, 'EUR', now() - ${since}::interval) returning id`;
    await db`insert into booking_displays (booking_id, display_id, slot, price, window_count) values (${b!.id}, ${loop.id}, 0, 10, 1)`;
    await db`insert into booking_slots (booking_id, display_id, slot, during) values (${b!.id}, ${loop.id}, 0, tstzrange(now() - ${since}::interval, now() + interval '1 hour'))`;
    await db`insert into booking_display_creatives (booking_id, display_id, creative_id, since) values (${b!.id}, ${loop.id}, ${creativeId}, now() - ${since}::interval)`;
    return { loop, b: b! };
  }

  it('stores each play once however often it is delivered, and reports plays × audience multiplier', async () => {
    const hourStart = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR);
    const batch = [play(new Date(hourStart.getTime() + 60_000)), play(new Date(hourStart.getTime() + 120_000)), play(new Date(hourStart.getTime() + HOUR + 1_000))];
    const first = await internal('POST', `/internal/displays/${display.id}/plays`, { plays: batch });
    expect(first.status).toBe(200);
    expect(first.body.acceptedPlayIds.sort()).toEqual(batch.map((b) => b.playId).sort());
    // Delivered again (e.g. the ack was lost) and once more mixed with a bad record and a foreign booking.
    const again = await internal('POST', `/internal/displays/${display.id}/plays`, { plays: batch });
    expect(again.body.acceptedPlayIds).toHaveLength(3);
    const foreign = play(new Date(), { bookingId: randomUUID() });
    const mixed = await internal('POST', `/internal/displays/${display.id}/plays`, { plays: [...batch, { playId: 'garbage' }, foreign] });
    expect(mixed.body.acceptedPlayIds).toHaveLength(3);
    expect(mixed.body.rejected).toEqual([
      { playId: 'garbage', code: 'malformed', detail: expect.stringContaining('playId') },
      { playId: foreign.playId, code: 'unknown_booking', detail: expect.any(String) },
    ]);
    const [{ n }] = (await db`select count(*)::int as n from plays where booking_id = ${bookingId}`) as unknown as [{ n: number }];
    expect(n).toBe(3);

    const from = new Date(hourStart.getTime() - HOUR).toISOString();
    const to = new Date(hourStart.getTime() + 3 * HOUR).toISOString();
    const report = await api(h.v2, 'GET', `/bookings/${bookingId}/plays?from=${from}&to=${to}&bucket=hour`, undefined, adv.auth);
    expect(report.status).toBe(200);
    expect(report.body.totals).toEqual({ plays: 3, impressions: 7.5 });
    expect(report.body.displays[0]).toMatchObject({ displayId: display.id, name: 'Lobby', price: 1000, plays: 3, impressions: 7.5, creatives: [{ creativeId, plays: 3, impressions: 7.5 }] });
    expect(report.body.displays[0].buckets).toEqual([
      { start: hourStart.toISOString(), plays: 2, impressions: 5 },
      { start: new Date(hourStart.getTime() + HOUR).toISOString(), plays: 1, impressions: 2.5 },
    ]);
    expect(report.body.creatives).toEqual([{ creativeId, plays: 3, impressions: 7.5 }]);
    // The display's operator may read it; another advertiser or operator may not know it exists.
    expect((await api(h.v2, 'GET', `/bookings/${bookingId}/plays?from=${from}&to=${to}`, undefined, op.auth)).body.totals.plays).toBe(3);
    expect((await api(h.v2, 'GET', `/bookings/${bookingId}/plays?from=${from}&to=${to}`, undefined, otherAdv.auth)).status).toBe(404);
    expect((await api(h.v2, 'GET', `/bookings/${bookingId}/plays?from=${from}&to=${to}`, undefined, otherOp.auth)).status).toBe(404);
  });

  it('reports by creative too: plays across a swap stay one bucket per display, each with the creative shown', async () => {
    const hour = new Date(Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR);
    const [c] = await db`insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 'card 2', 'text', 'Hi', 5000) returning id`;
    const swappedIn = c!.id as string;
    await db`insert into booking_display_creatives (booking_id, display_id, creative_id, since) values (${bookingId}, ${display.id}, ${swappedIn}, ${new Date(hour.getTime() + 30_000)})`;
    try {
      // Slot 0 starts every whole minute: one play before the swap, two after.
      const batch = [play(new Date(hour.getTime() + 1_000)), play(new Date(hour.getTime() + 60_000), { creativeId: swappedIn }), play(new Date(hour.getTime() + 120_000), { creativeId: swappedIn })];
      expect((await internal('POST', `/internal/displays/${display.id}/plays`, { plays: batch })).body.acceptedPlayIds).toHaveLength(3);
      const from = hour.toISOString();
      const to = new Date(hour.getTime() + HOUR).toISOString();
      const report = await api(h.v2, 'GET', `/bookings/${bookingId}/plays?from=${from}&to=${to}&bucket=hour`, undefined, adv.auth);
      expect(report.body.displays).toMatchObject([{ displayId: display.id, plays: 3, impressions: 7.5, buckets: [{ start: hour.toISOString(), plays: 3, impressions: 7.5 }] }]);
      const byPlays = (a: { plays: number }, b: { plays: number }) => a.plays - b.plays;
      const expected = [
        { creativeId, plays: 1, impressions: 2.5 },
        { creativeId: swappedIn, plays: 2, impressions: 5 },
      ];
      expect(report.body.creatives.sort(byPlays)).toEqual(expected);
      expect(report.body.displays[0].creatives.sort(byPlays)).toEqual(expected);
    } finally {
      await db`delete from booking_display_creatives where creative_id = ${swappedIn}`;
    }
  });

  it('a swap reaches a display a little after it is made: the replaced creative is accepted within skew of the swap, refused beyond', async () => {
    const hour = new Date(Math.floor(Date.now() / HOUR) * HOUR - 7 * HOUR);
    const [c] = await db`insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 'card 3', 'text', 'Hey', 5000) returning id`;
    const swappedIn = c!.id as string;
    await db`insert into booking_display_creatives (booking_id, display_id, creative_id, since) values (${bookingId}, ${display.id}, ${swappedIn}, ${new Date(hour.getTime() + 30_000)})`;
    try {
      // Slot 0 starts every whole minute; the swap is at :30, the skew 120 s.
      const late = play(new Date(hour.getTime() + 60_000)); // started before its playlist came
      const stale = play(new Date(hour.getTime() + 180_000)); // 150 s after the swap: beyond skew
      const fresh = play(new Date(hour.getTime() + 240_000), { creativeId: swappedIn });
      const never = play(new Date(hour.getTime() + 300_000), { creativeId: randomUUID() });
      const ack = await internal('POST', `/internal/displays/${display.id}/plays`, { plays: [late, stale, fresh, never] });
      expect(ack.status).toBe(200);
      expect(ack.body.acceptedPlayIds.sort()).toEqual([late.playId, fresh.playId].sort());
      expect(ack.body.rejected.map((r: { playId: string; code: string }) => [r.playId, r.code])).toEqual([
        [stale.playId, 'wrong_creative'],
        [never.playId, 'wrong_creative'],
      ]);
    } finally {
      await db`delete from plays where booking_id = ${bookingId} and started_at >= ${hour} and started_at < ${new Date(hour.getTime() + HOUR)}`;
      await db`delete from booking_display_creatives where creative_id = ${swappedIn}`;
    }
  });
  it('on a one-slot loop, a play begun mid-occurrence and the next occurrence\'s play from its very start are both counted', async () => {
    const { loop, b } = await oneSlotBooking('One slot', 1);
    const k = Math.floor(Date.now() / 1_000) * 1_000 - 60_000;
    // The display started playing 400 ms into occurrence k (it had just connected), then k+1 and k+2 whole.
    const batch = [play(new Date(k + 400), { bookingId: b!.id, durationMs: 600 }), play(new Date(k + 1_000), { bookingId: b!.id, durationMs: 1_000 }), play(new Date(k + 2_000), { bookingId: b!.id, durationMs: 1_000 })];
    const ack = await internal('POST', `/internal/displays/${loop.id}/plays`, { plays: batch });
    expect([ack.body.acceptedPlayIds.sort(), ack.body.rejected]).toEqual([batch.map((p) => p.playId).sort(), []]);
    // Each is stored under the occurrence it started in, named by that occurrence's start.
    const stored = await db<{ occurrence_start_ms: string }[]>`select occurrence_start_ms::text from plays where booking_id = ${b!.id} order by started_at`;
    expect(stored.map((r) => Number(r.occurrence_start_ms))).toEqual([k, k + 1_000, k + 2_000]);
  });

  it('refuses bad report queries and bad batches', async () => {
    const q = (s: string) => api(h.v2, 'GET', `/bookings/${bookingId}/plays?${s}`, undefined, adv.auth);
    expect((await q('from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(422);
    expect((await q('from=yesterday&to=today')).status).toBe(422);
    expect((await q('from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&bucket=hour')).status).toBe(422);
    expect((await q('from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&bucket=minute')).status).toBe(422);
    expect((await internal('POST', `/internal/displays/${display.id}/plays`, { plays: [] })).status).toBe(422);
    expect((await internal('POST', `/internal/displays/nope/plays`, { plays: [play(new Date())] })).status).toBe(422);
  });
  it('judges a batch of 10 000 plays in one go: all stored once, and a resend of all of them changes nothing', async () => {
    // One slot of 1 s: 10 000 consecutive occurrences of it are the last 2 h 47 min.
    const { loop: fast, b } = await oneSlotBooking('Ticker', 3);
    const first = Math.floor(Date.now() / 1_000) * 1_000 - 10_000 * 1_000;
    const batch = Array.from({ length: 10_000 }, (_, i) => play(new Date(first + i * 1_000), { bookingId: b!.id, durationMs: 1_000 }));
    const timed = async () => {
      const t0 = performance.now();
      const res = await internal('POST', `/internal/displays/${fast.id}/plays`, { plays: batch });
      return { res, ms: Math.round(performance.now() - t0) };
    };
    const once = await timed();
    expect(once.res.status).toBe(200);
    expect([once.res.body.acceptedPlayIds.length, once.res.body.rejected]).toEqual([10_000, []]);
    const again = await timed();
    expect([again.res.body.acceptedPlayIds.length, again.res.body.rejected]).toEqual([10_000, []]);
    const [{ n }] = (await db`select count(*)::int as n from plays where display_id = ${fast.id}`) as unknown as [{ n: number }];
    expect(n).toBe(10_000);
    // Recorded, not asserted (timing depends on the machine): the lead compares runs.
    console.log(`10 000-play batch judged and stored in ${once.ms} ms; resent in ${again.ms} ms`);
  });
});
