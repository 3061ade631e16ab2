/**
 * Edits that travel as bus deltas (playlist.delta) and edits that travel as built playlists
 * (playlist.changed), with the real api-v2 (scratch PostgreSQL, Redis bus), two device-tcp
 * replicas and displays on real TCP: after each edit, every display, on either replica, has been
 * pushed exactly the playlist api-v2's full build gives for that version and window — also after a
 * change whose bus message never came (the replica cannot apply the next delta and fetches).
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBus, type MessageBus, type Playlist, type PlaylistDelta, type Sql } from '@marquee/service-kit';
import { api, createDisplay, deviceTcpEnv, signUpAndLogIn, startTestPlatform, type Session, type TestPlatform } from '../../../test/support/platform.ts';
import { TEST_REDIS_URL } from '../../../test/support/infra.ts';
import { buildPlaylists } from '../../api-v2/src/playlists/build.ts';
import { loadDeviceTcpConfig } from '../src/config.ts';
import { startDeviceTcp, type RunningDeviceTcp } from '../src/server.ts';
import { RawClient } from './support/raw-client.ts';
import { until } from './support/harness.ts';

const BASE = 'http://screens.example/v2';
/** The start of the current hour: bookings in whole hours after it lie in the future for the suite's run. */
const HOUR = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const hours = (h: number) => new Date(HOUR + h * 3_600_000).toISOString();

let p: TestPlatform;
let db: postgres.Sql;
let bus: MessageBus;
let op: Session;
let adv: Session;
const replicas: RunningDeviceTcp[] = [];
const displays: { id: string; client: RawClient }[] = [];
const deltas: PlaylistDelta[] = [];
let bookingId: string;

beforeAll(async () => {
  p = await startTestPlatform('deltas', { apiV2: { PUBLIC_BASE_URL: BASE } });
  db = postgres(p.db.serviceUrl('api-v2'), { max: 2, onnotice: () => {} });
  bus = createRedisBus(TEST_REDIS_URL, { prefix: p.busPrefix });
  await bus.subscribe('playlist.delta', (m) => void deltas.push(m));
  for (const name of ['a', 'b']) replicas.push(await startDeviceTcp(loadDeviceTcpConfig(deviceTcpEnv(p, { INSTANCE_ID: name }))));
  op = await signUpAndLogIn(p.apiV2.url, 'operator');
  adv = await signUpAndLogIn(p.apiV2.url, 'advertiser');
  // Two loops, so a duration is cut to two different slot lengths; two displays on each replica.
  const loops = [
    { lengthMs: 60_000, slotCount: 6 },
    { lengthMs: 12_000, slotCount: 6 },
    { lengthMs: 60_000, slotCount: 6 },
    { lengthMs: 12_000, slotCount: 6 },
  ];
  for (const [i, loop] of loops.entries()) {
    const d = await createDisplay(p.apiV2.url, op.auth, { name: `Screen ${i}`, loop }, { activate: true });
    const client = await RawClient.connect(replicas[i % 2]!.devicePort);
    await client.hello(d.id, d.secret, 0);
    displays.push({ id: d.id, client });
  }
}, 60_000);

afterAll(async () => {
  for (const d of displays) d.client.close();
  await Promise.allSettled(replicas.map((r) => r.close()));
  await bus?.close();
  await db?.end();
  await p?.close();
});

async function creative(type: 'text' | 'html', durationMs: number): Promise<string> {
  const created = await api(p.apiV2.url, 'POST', '/creatives', { name: `c-${randomUUID().slice(0, 8)}`, type, body: `<p>${randomUUID()}</p>`, durationMs }, adv.auth);
  expect(created.status).toBe(201);
  return created.body.id;
}

function lastPushed(client: RawClient): Playlist | undefined {
  let last: Playlist | undefined;
  for (const f of client.frames) {
    const playlist = f.type === 'playlist' ? (f.playlist as Playlist) : undefined;
    if (playlist && (!last || playlist.version >= last.version)) last = playlist;
  }
  return last;
}

/**
 * Waits until every display was pushed its current version, then checks each is exactly api-v2's
 * full build of that version for the window it carries. Returns the pushed playlists.
 */
async function everyDisplayMatchesTheFullBuild(): Promise<Map<string, Playlist>> {
  const ids = displays.map((d) => d.id);
  const current = new Map((await db<{ id: string; v: string }[]>`select id, playlist_version as v from displays where id = any(${ids}::uuid[])`).map((r) => [r.id, Number(r.v)]));
  const pushed = new Map<string, Playlist>();
  for (const d of displays) {
    const got = await until(() => {
      const last = lastPushed(d.client);
      return last?.version === current.get(d.id) ? last : undefined;
    });
    const built = await buildPlaylists(db as unknown as Sql, [d.id], BASE, new Date(got.generatedAt));
    expect(got).toEqual(built.get(d.id));
    pushed.set(d.id, got);
  }
  return pushed;
}

/** The delta api-v2 published for this edit: kind, and the displays it named. */
async function deltaOf(kind: PlaylistDelta['edit']['kind'], since: number): Promise<PlaylistDelta> {
  return until(() => deltas.slice(since).find((m) => m.edit.kind === kind));
}

describe('playlists pushed from bus deltas equal the full build, on either replica', () => {
  let before: Map<string, Playlist>;

  it('a confirmed booking (built in full) reaches every display', async () => {
    const c = await creative('text', 5_000);
    const held = await api(p.apiV2.url, 'POST', '/bookings', { displayIds: displays.map((d) => d.id), creativeId: c, startsAt: hours(2), endsAt: hours(4) }, { ...adv.auth, 'idempotency-key': randomUUID() });
    expect(held.status).toBe(201);
    bookingId = held.body.id;
    expect((await api(p.apiV2.url, 'POST', `/bookings/${bookingId}/confirm`, undefined, adv.auth)).status).toBe(200);
    before = await everyDisplayMatchesTheFullBuild();
    for (const playlist of before.values()) expect(playlist.entries.some((e) => e.kind === 'booking' && e.creativeId === c)).toBe(true);
  });

  it("a creative's new duration: one delta for all displays, applied to the held playlists (same window: nothing fetched)", async () => {
    const booking = (await api(p.apiV2.url, 'GET', `/bookings/${bookingId}`, undefined, adv.auth)).body;
    const since = deltas.length;
    expect((await api(p.apiV2.url, 'PATCH', `/creatives/${booking.creativeId}`, { durationMs: 7_000 }, adv.auth)).status).toBe(200);
    const delta = await deltaOf('creative-duration', since);
    expect([...delta.displayIds].sort()).toEqual(displays.map((d) => d.id).sort());
    const after = await everyDisplayMatchesTheFullBuild();
    for (const [id, playlist] of after) {
      expect(playlist.generatedAt).toBe(before.get(id)!.generatedAt);
      // Cut to the slot where it is shorter than the creative (12 s / 6 slots).
      const booked = playlist.entries.find((e) => e.kind === 'booking')!;
      expect(booked.durationMs).toBe(Math.min(7_000, playlist.loop.slotMs));
    }
    before = after;
  });

  it("a booking's swapped creative: a booking-content delta, applied on both replicas", async () => {
    const c = await creative('text', 3_000);
    const since = deltas.length;
    expect((await api(p.apiV2.url, 'PATCH', `/bookings/${bookingId}`, { creativeId: c }, adv.auth)).status).toBe(200);
    await deltaOf('booking-content', since);
    const after = await everyDisplayMatchesTheFullBuild();
    for (const [id, playlist] of after) {
      expect(playlist.generatedAt).toBe(before.get(id)!.generatedAt);
      expect(playlist.entries.filter((e) => e.kind === 'booking').every((e) => e.creativeId === c)).toBe(true);
    }
    before = after;
  });

  it('after a change whose bus message was lost, the next delta does not apply: the replicas fetch and converge', async () => {
    const ids = displays.map((d) => d.id);
    const { creativeId } = (await api(p.apiV2.url, 'GET', `/bookings/${bookingId}`, undefined, adv.auth)).body;
    // An edit whose message never arrived: the content and the versions change, nothing is published.
    await db.begin(async (tx) => {
      await tx`update creatives set duration_ms = 4000 where id = ${creativeId}`;
      await tx`update displays set playlist_version = playlist_version + 1 where id = any(${ids}::uuid[])`;
    });
    const since = deltas.length;
    expect((await api(p.apiV2.url, 'PATCH', `/creatives/${creativeId}`, { durationMs: 4_500 }, adv.auth)).status).toBe(200);
    await deltaOf('creative-duration', since);
    const after = await everyDisplayMatchesTheFullBuild();
    for (const [id, playlist] of after) {
      // Fetched: a newer window than the held playlist's.
      expect(playlist.generatedAt > before.get(id)!.generatedAt).toBe(true);
      expect(playlist.entries.find((e) => e.kind === 'booking')!.durationMs).toBe(Math.min(4_500, playlist.loop.slotMs));
    }
  });

  it('an emergency (built in full), a duration delta under it, and its end', async () => {
    const on = [displays[0]!.id, displays[3]!.id];
    const started = await api(p.apiV2.url, 'POST', '/emergencies', { displayIds: on, message: 'Please leave the building' }, op.auth);
    expect(started.status).toBe(201);
    const during = await everyDisplayMatchesTheFullBuild();
    for (const id of on) expect(during.get(id)!.entries.every((e) => e.kind === 'emergency')).toBe(true);

    const { creativeId } = (await api(p.apiV2.url, 'GET', `/bookings/${bookingId}`, undefined, adv.auth)).body;
    expect((await api(p.apiV2.url, 'PATCH', `/creatives/${creativeId}`, { durationMs: 6_000 }, adv.auth)).status).toBe(200);
    await everyDisplayMatchesTheFullBuild();

    expect((await api(p.apiV2.url, 'POST', `/emergencies/${started.body.id}/clear`, undefined, op.auth)).status).toBe(200);
    const cleared = await everyDisplayMatchesTheFullBuild();
    for (const id of on) expect(cleared.get(id)!.entries.some((e) => e.kind === 'booking')).toBe(true);
  });

  it('a swap to an HTML creative (built in full: scripts depend on the display), then the cancellation', async () => {
    const c = await creative('html', 2_000);
    expect((await api(p.apiV2.url, 'PATCH', `/bookings/${bookingId}`, { creativeId: c }, adv.auth)).status).toBe(200);
    const swapped = await everyDisplayMatchesTheFullBuild();
    for (const playlist of swapped.values()) expect(playlist.entries.find((e) => e.kind === 'booking')).toMatchObject({ creativeId: c, type: 'html' });

    expect((await api(p.apiV2.url, 'POST', `/bookings/${bookingId}/cancel`, undefined, adv.auth)).status).toBe(200);
    const cancelled = await everyDisplayMatchesTheFullBuild();
    for (const playlist of cancelled.values()) expect(playlist.entries.filter((e) => e.kind === 'booking')).toEqual([]);
  });
});
