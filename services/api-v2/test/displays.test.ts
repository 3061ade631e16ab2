import { createHash, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_DATABASES, createDatabase, createMetrics, createServiceApp } from '@marquee/service-kit';
import { verifyDisplayCredential } from '../src/displays/credentials.ts';
import { displayRoutes } from '../src/displays/routes.ts';
import { createRouter } from '../src/openapi.ts';
import { TOPIC_DISPLAY_REVOKED, TOPIC_PLAYLIST_CHANGED } from '../src/playlist-changes.ts';
import { api, request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';

let h: ApiV2TestApp;
let db: postgres.Sql;
let op: Session;
let otherOp: Session;
let adv: Session;
let admin: Session;

/** Messages api-v2 published on a topic (its in-process bus), for `waitFor`. */
const seen: { topic: string; message: any }[] = [];

beforeAll(async () => {
  h = await startApiV2TestApp('v2displays');
  // Three: a staged race holds two (a transaction and the statement waiting on it) while
  // waitingOnLock watches; as the superuser it sees every session's query, api-v2's role only its own.
  db = postgres(h.db.url, { max: 3, onnotice: () => {} });
  for (const topic of [TOPIC_DISPLAY_REVOKED, TOPIC_PLAYLIST_CHANGED] as const) await h.bus.subscribe(topic, (message: any) => {
      // playlist.changed carries a batch of changes: record each one like a single message.
      for (const m of topic === TOPIC_PLAYLIST_CHANGED ? message.changes : [message]) seen.push({ topic, message: m });
    });
  [op, otherOp, adv, admin] = [h.user('operator'), h.user('operator'), h.user('advertiser'), h.user('admin')];
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

const validDisplay = (over: Record<string, unknown> = {}) => ({
  name: 'Hauptbahnhof north entrance',
  location: { address: 'Europaplatz 1, Berlin', lat: 52.5251, lng: 13.3694 },
  timezone: 'Europe/Berlin',
  resolution: { widthPx: 1920, heightPx: 1080 },
  orientation: 'landscape',
  tags: ['station', 'indoor'],
  loop: { lengthMs: 60_000, slotCount: 6 },
  pricePerSlotHour: 1250,
  currency: 'EUR',
  audienceMultiplier: 3.5,
  ...over,
});

async function createDisplay(s: Session, over: Record<string, unknown> = {}) {
  const res = await api(h.v2, 'POST', '/displays', validDisplay(over), s.auth);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { display: any; credential: { displayId: string; secret: string } };
}

async function activate(s: Session, id: string) {
  const res = await api(h.v2, 'POST', `/displays/${id}/activate`, undefined, s.auth);
  expect(res.status).toBe(200);
  return res.body;
}

async function waitFor<T>(find: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until a statement of this database matching `like` waits for a lock: a race staged, not hoped for. */
async function waitingOnLock(like: string) {
  for (let i = 0; i < 500; i++) {
    const [row] = await db<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and query ilike ${like}`;
    if (row!.n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no statement like ${like} waited for a lock within 10 s`);
}

/** A booked (or other status) booking occupying `slot` of a display over [from, to). */
async function seedBooking(displayId: string, slot: number, from: Date, to: Date, opts: { status?: string; active?: boolean; durationMs?: number } = {}) {
  const [creative] = await db`
    insert into creatives (owner_id, name, type, body, duration_ms)
    values (${adv.userId}, 'seed', 'text', 'Hello', ${opts.durationMs ?? 5_000}) returning id`;
  const [booking] = await db`
    insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency)
    values (${adv.userId}, ${creative!.id}, ${from}, ${to}, ${opts.status ?? 'booked'}, 100, 'EUR') returning id`;
  await db`
    insert into booking_slots (booking_id, display_id, slot, during, active)
    values (${booking!.id}, ${displayId}, ${slot}, tstzrange(${from}::timestamptz, ${to}::timestamptz, '[)'), ${opts.active ?? true})`;
  return booking!.id as string;
}

describe('creating displays', () => {
  it('creates a pending display and shows a 256-bit credential once; only its SHA-256 is stored', async () => {
    const { display, credential } = await createDisplay(op);
    expect(display).toMatchObject({
      operatorId: op.userId,
      status: 'pending',
      name: 'Hauptbahnhof north entrance',
      location: { address: 'Europaplatz 1, Berlin', lat: 52.5251, lng: 13.3694 },
      timezone: 'Europe/Berlin',
      resolution: { widthPx: 1920, heightPx: 1080 },
      orientation: 'landscape',
      tags: ['station', 'indoor'],
      loop: { lengthMs: 60_000, slotCount: 6, slotMs: 10_000 },
      pricePerSlotHour: 1250,
      currency: 'EUR',
      audienceMultiplier: 3.5,
      presence: { online: false, lastSeenAt: null, playlistVersion: 1, appliedVersion: null },
    });
    expect(credential.displayId).toBe(display.id);
    expect(credential.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(credential.secret, 'base64url')).toHaveLength(32);

    const [row] = await db`select credential_hash from displays where id = ${display.id}`;
    expect(Buffer.from(row!.credential_hash).equals(createHash('sha256').update(credential.secret).digest())).toBe(true);

    const again = await api(h.v2, 'GET', `/displays/${display.id}`, undefined, op.auth);
    expect(again.status).toBe(200);
    expect(JSON.stringify(again.body)).not.toContain(credential.secret);
    expect(again.body).not.toHaveProperty('credential');
  });

  it('derives orientation from the resolution when omitted and normalises tags', async () => {
    const { display } = await createDisplay(op, { orientation: undefined, resolution: { widthPx: 1080, heightPx: 1920 }, tags: ['Mall', 'mall', 'food-court'] });
    expect(display.orientation).toBe('portrait');
    expect(display.tags).toEqual(['mall', 'food-court']);
  });

  it('refuses every kind of bad field with 422 naming the field', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['bad timezone', { timezone: 'Mars/Olympus_Mons' }, 'timezone'],
      ['lat 200', { location: { lat: 200, lng: 0 } }, 'location.lat'],
      ['lng -181', { location: { lat: 0, lng: -181 } }, 'location.lng'],
      ['slotCount not dividing the loop', { loop: { lengthMs: 60_000, slotCount: 7 } }, 'loop.slotCount'],
      ['slots shorter than 1 s', { loop: { lengthMs: 5_000, slotCount: 10 } }, 'loop.slotCount'],
      ['loop over an hour', { loop: { lengthMs: 3_600_001, slotCount: 1 } }, 'loop.lengthMs'],
      ['fractional width', { resolution: { widthPx: 19.5, heightPx: 1080 } }, 'resolution.widthPx'],
      ['zero height', { resolution: { widthPx: 1920, heightPx: 0 } }, 'resolution.heightPx'],
      ['orientation', { orientation: 'diagonal' }, 'orientation'],
      ['negative price', { pricePerSlotHour: -1 }, 'pricePerSlotHour'],
      ['price as string', { pricePerSlotHour: '12.50' }, 'pricePerSlotHour'],
      ['currency', { currency: 'euro' }, 'currency'],
      ['negative audience', { audienceMultiplier: -0.5 }, 'audienceMultiplier'],
      ['empty name', { name: '   ' }, 'name'],
      ['name wrong type', { name: 42 }, 'name'],
      ['tag with comma', { tags: ['a,b'] }, 'tags.0'],
      ['too many tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
      ['unknown field', { operatorId: randomUUID() }, '(body)'],
      ['unknown nested field', { location: { lat: 1, lng: 1, altitude: 3 } }, 'location'],
      ['missing loop', { loop: undefined }, 'loop'],
    ];
    for (const [what, over, field] of cases) {
      const res = await api(h.v2, 'POST', '/displays', validDisplay(over), op.auth);
      expect(res.status, what).toBe(422);
      expect(res.headers.get('content-type'), what).toBe('application/problem+json');
      expect(res.body.errors.map((e: any) => e.field), what).toContain(field);
    }
    const malformed = await api(h.v2, 'POST', '/displays', '{"name": "x",', op.auth);
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    const notJson = await request(h.v2, '/displays', { method: 'POST', headers: { ...op.auth, 'content-type': 'text/plain' }, body: 'hi' });
    expect([400, 415]).toContain(notJson.status);
    const array = await api(h.v2, 'POST', '/displays', [validDisplay()], op.auth);
    expect(array.status).toBe(422);
  });
});

describe('ownership and roles', () => {
  it("hides another operator's display (404) on every object route, and keeps advertisers out of writes (403)", async () => {
    const { display } = await createDisplay(op);
    const id = display.id;
    for (const [method, path, body] of [
      ['GET', `/displays/${id}`, undefined],
      ['PATCH', `/displays/${id}`, { name: 'mine now' }],
      ['POST', `/displays/${id}/disable`, undefined],
      ['POST', `/displays/${id}/activate`, undefined],
      ['POST', `/displays/${id}/credentials`, undefined],
    ] as const) {
      const res = await api(h.v2, method, path, body, otherOp.auth);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await api(h.v2, 'POST', '/displays', validDisplay(), adv.auth)).status).toBe(403);
    expect((await api(h.v2, 'PATCH', `/displays/${id}`, { name: 'x' }, adv.auth)).status).toBe(403);
    expect((await api(h.v2, 'POST', `/displays/${id}/credentials`, undefined, adv.auth)).status).toBe(403);
    expect((await api(h.v2, 'POST', `/displays/${id}/disable`, undefined, adv.auth)).status).toBe(403);
    // Nothing changed.
    const [row] = await db`select name, status from displays where id = ${id}`;
    expect(row).toEqual({ name: 'Hauptbahnhof north entrance', status: 'pending' });
    expect((await api(h.v2, 'GET', `/displays/${id}`)).status).toBe(401);
    expect((await api(h.v2, 'GET', `/displays/${randomUUID()}`, undefined, op.auth)).status).toBe(404);
    expect((await api(h.v2, 'GET', `/displays/not-a-uuid`, undefined, op.auth)).status).toBe(422);
  });

  it('shows advertisers only active displays, without presence, ownership or credential details', async () => {
    const { display } = await createDisplay(op);
    expect((await api(h.v2, 'GET', `/displays/${display.id}`, undefined, adv.auth)).status).toBe(404);
    await activate(op, display.id);
    const res = await api(h.v2, 'GET', `/displays/${display.id}`, undefined, adv.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: display.id, status: 'active', loop: { slotMs: 10_000 } });
    for (const hidden of ['presence', 'operatorId', 'credentialRotatedAt', 'credential', 'updatedAt']) expect(res.body).not.toHaveProperty(hidden);
  });

  it('lets admins see and change any display', async () => {
    const { display } = await createDisplay(otherOp);
    const got = await api(h.v2, 'GET', `/displays/${display.id}`, undefined, admin.auth);
    expect(got.status).toBe(200);
    expect(got.body.operatorId).toBe(otherOp.userId);
    const patched = await api(h.v2, 'PATCH', `/displays/${display.id}`, { name: 'Renamed by admin' }, admin.auth);
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Renamed by admin');
    const list = await api(h.v2, 'GET', '/displays?limit=200', undefined, admin.auth);
    const owners = new Set(list.body.items.map((d: any) => d.operatorId));
    expect(owners.has(op.userId) && owners.has(otherOp.userId)).toBe(true);
  });
});

describe('device credentials', () => {
  it('verifies the secret in constant time and tells unknown, bad and disabled apart', async () => {
    const { display, credential } = await createDisplay(op);
    expect(await verifyDisplayCredential(db as never, display.id, credential.secret)).toEqual({
      ok: true,
      display: { id: display.id, status: 'pending', playlistVersion: 1 },
    });
    expect(await verifyDisplayCredential(db as never, display.id, credential.secret.slice(1) + 'A')).toEqual({ ok: false, code: 'bad_secret' });
    expect(await verifyDisplayCredential(db as never, display.id, '')).toEqual({ ok: false, code: 'bad_secret' });
    expect(await verifyDisplayCredential(db as never, randomUUID(), credential.secret)).toEqual({ ok: false, code: 'unknown_display' });
    expect(await verifyDisplayCredential(db as never, 'd-1', credential.secret)).toEqual({ ok: false, code: 'unknown_display' });
  });

  it('rotation replaces the credential at once and announces the revocation on the bus', async () => {
    const { display, credential: old } = await createDisplay(op);
    const res = await api(h.v2, 'POST', `/displays/${display.id}/credentials`, undefined, op.auth);
    expect(res.status).toBe(201);
    expect(res.body.displayId).toBe(display.id);
    expect(res.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body.secret).not.toBe(old.secret);
    const [row] = await db`select credential_hash from displays where id = ${display.id}`;
    const stored = Buffer.from(row!.credential_hash);
    expect(stored.equals(createHash('sha256').update(old.secret).digest())).toBe(false);
    expect(stored.equals(createHash('sha256').update(res.body.secret).digest())).toBe(true);
    expect((await verifyDisplayCredential(db as never, display.id, old.secret)).ok).toBe(false);
    expect((await verifyDisplayCredential(db as never, display.id, res.body.secret)).ok).toBe(true);
    await waitFor(() => seen.find((m) => m.topic === TOPIC_DISPLAY_REVOKED && m.message.displayId === display.id));
  });

  it('disabling revokes the device (bus message, credential refused); re-activating restores it', async () => {
    const { display, credential } = await createDisplay(op);
    await activate(op, display.id);
    const disabled = await api(h.v2, 'POST', `/displays/${display.id}/disable`, undefined, op.auth);
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    await waitFor(() => seen.find((m) => m.topic === TOPIC_DISPLAY_REVOKED && m.message.displayId === display.id));
    expect(await verifyDisplayCredential(db as never, display.id, credential.secret)).toEqual({ ok: false, code: 'disabled' });
    expect((await api(h.v2, 'GET', `/displays/${display.id}`, undefined, adv.auth)).status).toBe(404);
    // The owner still sees it; disabling twice is harmless.
    expect((await api(h.v2, 'POST', `/displays/${display.id}/disable`, undefined, op.auth)).status).toBe(200);
    const list = await api(h.v2, 'GET', '/displays?limit=200', undefined, op.auth);
    expect(list.body.items.find((d: any) => d.id === display.id)?.status).toBe('disabled');
    await activate(op, display.id);
    expect((await verifyDisplayCredential(db as never, display.id, credential.secret)).ok).toBe(true);
  });
});

describe('updating displays', () => {
  it('changes plain fields without bumping the playlist version, validating like create', async () => {
    const { display } = await createDisplay(op);
    const res = await api(h.v2, 'PATCH', `/displays/${display.id}`, { name: 'Platform 3', tags: ['rail'], timezone: 'America/New_York' }, op.auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Platform 3', tags: ['rail'], timezone: 'America/New_York', presence: { playlistVersion: 1 } });
    for (const bad of [{}, { timezone: 'Nowhere/Land' }, { loop: { lengthMs: 60_000, slotCount: 7 } }, { status: 'active' }, { name: null }]) {
      const r = await api(h.v2, 'PATCH', `/displays/${display.id}`, bad, op.auth);
      expect(r.status, JSON.stringify(bad)).toBe(422);
    }
    expect((await api(h.v2, 'PATCH', `/displays/${display.id}`, '{', op.auth)).status).toBe(400);
  });

  it('a loop change bumps the playlist version in the same transaction and publishes it', async () => {
    const { display } = await createDisplay(op);
    const res = await api(h.v2, 'PATCH', `/displays/${display.id}`, { loop: { lengthMs: 120_000, slotCount: 8 } }, op.auth);
    expect(res.status).toBe(200);
    expect(res.body.loop).toEqual({ lengthMs: 120_000, slotCount: 8, slotMs: 15_000 });
    expect(res.body.presence.playlistVersion).toBe(2);
    const msg = await waitFor(() => seen.find((m) => m.topic === TOPIC_PLAYLIST_CHANGED && m.message.displayId === display.id));
    expect(msg.message.version).toBe(2);
    // The same loop again is not a change.
    const same = await api(h.v2, 'PATCH', `/displays/${display.id}`, { loop: { lengthMs: 120_000, slotCount: 8 } }, op.auth);
    expect(same.body.presence.playlistVersion).toBe(2);
  });

  it('refuses (409, naming them) a loop change that would strand bookings, and changes nothing', async () => {
    const { display } = await createDisplay(op);
    const now = Date.now();
    const removedSlot = await seedBooking(display.id, 5, new Date(now + 3600_000), new Date(now + 7200_000));
    const longCreative = await seedBooking(display.id, 0, new Date(now + 3600_000), new Date(now + 7200_000), { durationMs: 9_000 });
    // A past booking in a removed slot does not block.
    await seedBooking(display.id, 4, new Date(now - 7200_000), new Date(now - 3600_000));

    const res = await api(h.v2, 'PATCH', `/displays/${display.id}`, { loop: { lengthMs: 40_000, slotCount: 5 } }, op.auth);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.conflicts).toEqual(
      expect.arrayContaining([
        { bookingId: removedSlot, slot: 5, reason: 'slot_removed' },
        { bookingId: longCreative, slot: 0, reason: 'creative_longer_than_slot' },
      ]),
    );
    expect(res.body.conflicts).toHaveLength(2);
    const [row] = await db`select slot_count, loop_length_ms, playlist_version from displays where id = ${display.id}`;
    expect(row).toEqual({ slot_count: 6, loop_length_ms: 60_000, playlist_version: '1' });

    // Shrinking to 6 x 9 s keeps slot 5 and the 9 s creative: allowed.
    const ok = await api(h.v2, 'PATCH', `/displays/${display.id}`, { loop: { lengthMs: 54_000, slotCount: 6 } }, op.auth);
    expect(ok.status).toBe(200);
  });

  it('a loop change and a concurrent booking of a removed slot serialise: whichever commits second loses', async () => {
    const now = Date.now();
    // Booking first: the PATCH waits for the booking's transaction, then sees its slot and refuses.
    const first = (await createDisplay(op)).display.id;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let bookingId = '';
    const booking = db.begin(async (tx) => {
      const [creative] = await tx`insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 's', 'text', 'x', 1000) returning id`;
      const [b] = await tx`
        insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency)
        values (${adv.userId}, ${creative!.id}, ${new Date(now + 3600_000)}, ${new Date(now + 7200_000)}, 'booked', 1, 'EUR') returning id`;
      await tx`insert into booking_slots (booking_id, display_id, slot, during)
        values (${b!.id}, ${first}, 5, tstzrange(${new Date(now + 3600_000)}::timestamptz, ${new Date(now + 7200_000)}::timestamptz))`;
      bookingId = b!.id; // only now: the slot row (and its lock on the display) exists
      await gate;
    });
    while (!bookingId) await new Promise((r) => setTimeout(r, 10));
    const patch = api(h.v2, 'PATCH', `/displays/${first}`, { loop: { lengthMs: 50_000, slotCount: 5 } }, op.auth);
    await waitingOnLock('%displays%'); // the loop change waits for the booking's transaction
    release();
    await booking;
    const refused = await patch;
    expect(refused.status).toBe(409);
    expect(refused.body.conflicts).toEqual([{ bookingId, slot: 5, reason: 'slot_removed' }]);

    // Loop change first: the booking's slot insert waits for it, then fails on the new loop.
    const second = (await createDisplay(op)).display.id;
    let releaseLoop!: () => void;
    const loopGate = new Promise<void>((r) => (releaseLoop = r));
    let locked = false;
    const loopChange = db.begin(async (tx) => {
      await tx`select 1 from displays where id = ${second} for update`;
      await tx`update displays set slot_count = 5, loop_length_ms = 50000 where id = ${second}`;
      locked = true;
      await loopGate;
    });
    while (!locked) await new Promise((r) => setTimeout(r, 10));
    const late = seedBooking(second, 5, new Date(now + 3600_000), new Date(now + 7200_000)).then(
      () => 'inserted',
      (err: Error) => err.message,
    );
    await waitingOnLock('%insert into booking_slots%'); // the booking waits for the loop change
    releaseLoop();
    await loopChange;
    expect(await late).toMatch(/slot 5 does not exist/);
  });

  it('the database refuses a booking slot beyond the loop whatever the application does', async () => {
    const { display } = await createDisplay(op);
    const now = Date.now();
    await expect(seedBooking(display.id, 6, new Date(now), new Date(now + 3600_000))).rejects.toThrow(/booking_slots_within_loop|does not exist/);
  });
});

describe('listing and the catalogue', () => {
  it('pages with an opaque cursor without duplicates or misses', async () => {
    const owner = h.user('operator');
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await createDisplay(owner, { name: `Screen ${i}` })).display.id);
    const seenIds: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/displays?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api(h.v2, 'GET', q, undefined, owner.auth);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seenIds.push(...res.body.items.map((d: any) => d.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seenIds).toEqual(created);
    expect((await api(h.v2, 'GET', '/displays?limit=201', undefined, owner.auth)).status).toBe(422);
    expect((await api(h.v2, 'GET', '/displays?limit=0', undefined, owner.auth)).status).toBe(422);
    expect((await api(h.v2, 'GET', '/displays?cursor=bm9wZQ', undefined, owner.auth)).status).toBe(422);
  });

  it('filters the catalogue by tags (all must match), area and availability', async () => {
    const t = `t${Date.now().toString(36)}`;
    const make = async (name: string, tags: string[], lat: number, lng: number, slotCount = 2) => {
      const { display } = await createDisplay(op, { name, tags: [t, ...tags], location: { lat, lng }, loop: { lengthMs: 20_000, slotCount } });
      await activate(op, display.id);
      return display.id as string;
    };
    const berlin = await make('berlin', ['outdoor', 'big'], 52.52, 13.405);
    const potsdam = await make('potsdam', ['outdoor'], 52.39, 13.065);
    const paris = await make('paris', ['outdoor', 'big'], 48.8566, 2.3522);
    const fiji = await make('fiji', ['big'], -17.7, 179.9);
    const pending = (await createDisplay(op, { name: 'pending', tags: [t, 'big'] })).display.id;

    const names = async (query: string, who = adv) => {
      const res = await api(h.v2, 'GET', `/displays?limit=200&tag=${t}${query}`, undefined, who.auth);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items.map((d: any) => d.name).sort();
    };
    expect(await names('')).toEqual(['berlin', 'fiji', 'paris', 'potsdam']);
    expect(await names('&tag=outdoor&tag=big')).toEqual(['berlin', 'paris']);
    expect(await names(',big')).toEqual(['berlin', 'fiji', 'paris']);
    // Operators see their own pending display too.
    expect(await names(',big', op)).toEqual(['berlin', 'fiji', 'paris', 'pending']);
    expect(pending).toBeTruthy();

    // Berlin-Potsdam is ~27 km; Paris ~880 km.
    expect(await names('&near=52.52,13.405&radiusKm=10')).toEqual(['berlin']);
    expect(await names('&near=52.52,13.405&radiusKm=40')).toEqual(['berlin', 'potsdam']);
    expect(await names('&near=52.52,13.405&radiusKm=1000')).toEqual(['berlin', 'paris', 'potsdam']);
    expect(await names('&bbox=2,48,14,53')).toEqual(['berlin', 'paris', 'potsdam']);
    expect(await names('&bbox=13.2,52.3,13.3,52.6')).toEqual([]);
    // A box across the antimeridian.
    expect(await names('&bbox=179,-20,-179,-15')).toEqual(['fiji']);

    // Availability: both of berlin's slots are booked over part of the range, one of potsdam's.
    const from = new Date(Date.now() + 24 * 3600_000);
    const to = new Date(from.getTime() + 3600_000);
    await seedBooking(berlin, 0, new Date(from.getTime() - 600_000), new Date(from.getTime() + 600_000));
    await seedBooking(berlin, 1, new Date(to.getTime() - 60_000), new Date(to.getTime() + 600_000));
    await seedBooking(potsdam, 0, from, to);
    // Inactive slots do not count: paris's only free slot is 0, held by a released (inactive) booking.
    await seedBooking(paris, 0, from, to, { active: false });
    await seedBooking(paris, 1, from, to);
    // Ranges are half-open: bookings that only touch the range's ends leave fiji's slots free.
    await seedBooking(fiji, 0, to, new Date(to.getTime() + 3600_000));
    await seedBooking(fiji, 1, new Date(from.getTime() - 3600_000), from);
    const range = `&availableFrom=${from.toISOString()}&availableTo=${to.toISOString()}`;
    expect(await names(range)).toEqual(['fiji', 'paris', 'potsdam']);
    expect(await names(range + '&tag=outdoor')).toEqual(['paris', 'potsdam']);
    expect(await names(`&availableFrom=${new Date(from.getTime() + 20 * 60_000).toISOString()}&availableTo=${new Date(to.getTime() - 20 * 60_000).toISOString()}`)).toEqual([
      'berlin',
      'fiji',
      'paris',
      'potsdam',
    ]);
  });

  it('refuses bad filters with 422', async () => {
    for (const q of [
      'near=52.5&radiusKm=5',
      'near=95,10&radiusKm=5',
      'near=52.5,13.4',
      'radiusKm=5',
      'near=52.5,13.4&radiusKm=-1',
      'bbox=1,2,3',
      'bbox=0,50,10,40',
      'availableFrom=2030-01-01T00:00:00Z',
      'availableFrom=2030-01-02T00:00:00Z&availableTo=2030-01-01T00:00:00Z',
      'availableFrom=yesterday&availableTo=2030-01-01T00:00:00Z',
      'availableFrom=2030-01-01T00:00:00Z&availableTo=2032-01-01T00:00:00Z',
      'limit=abc',
    ]) {
      const res = await api(h.v2, 'GET', `/displays?${q}`, undefined, adv.auth);
      expect(res.status, q).toBe(422);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});

describe('the read pool', () => {
  it('GET /displays/{id} runs on the read pool (readSql), the same document as every caller is shown', async () => {
    const { display } = await createDisplay(op);
    await activate(op, display.id);
    // A read pool told apart by its application name; the main pool stays the harness's.
    const reads = createDatabase({ url: h.db.serviceUrl('api-v2'), applicationName: 'api-v2-reads-under-test', schema: SERVICE_DATABASES['api-v2'].schema, max: 4 });
    try {
      const router = createServiceApp({ service: 'api-v2', logger: h.deps.logger, metrics: createMetrics('api-v2') }, createRouter());
      router.route('/', displayRoutes({ ...h.deps, readSql: reads }));
      for (const caller of [op, adv, admin]) {
        const viaReadPool = await api((path, init) => router.request(path, init), 'GET', `/displays/${display.id}`, undefined, caller.auth);
        const viaApp = await api(h.v2, 'GET', `/displays/${display.id}`, undefined, caller.auth);
        expect(viaReadPool.status).toBe(200);
        expect(viaReadPool.body).toEqual(viaApp.body);
      }
      const ran = await db<{ query: string }[]>`select query from pg_stat_activity where application_name = 'api-v2-reads-under-test'`;
      expect(ran.length).toBeGreaterThan(0);
      expect(ran.some((r) => /from displays d where d\.id = \$1/.test(r.query))).toBe(true);
      const other = await api((path, init) => router.request(path, init), 'GET', `/displays/${display.id}`, undefined, otherOp.auth);
      expect(other.status).toBe(404);
    } finally {
      await reads.end({ timeout: 5 });
    }
  });
});

describe('docs', () => {
  it('documents every display route and list filter in the OpenAPI document', async () => {
    // The display router on its own, so this checks this module's schemas, not its neighbours'.
    const router = createRouter();
    router.route('/', displayRoutes({ sql: db as never, bus: h.bus, verifier: { verify: async () => ({}) as never }, logger: {} as never, publicBaseUrl: 'http://localhost' }));
    const doc = router.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'displays', version: '1' } });
    expect(Object.keys(doc.paths!)).toEqual(
      expect.arrayContaining(['/displays', '/displays/{id}', '/displays/{id}/activate', '/displays/{id}/disable', '/displays/{id}/credentials']),
    );
    const listParams = ((doc.paths!['/displays'] as any).get.parameters as any[]).map((param) => param.name);
    expect(listParams).toEqual(expect.arrayContaining(['limit', 'cursor', 'tag', 'near', 'radiusKm', 'bbox', 'availableFrom', 'availableTo']));
  });
});
