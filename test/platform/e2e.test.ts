/**
 * The platform end to end, over real sockets: account + api-v2 + api-v1 behind the local edge,
 * two device-tcp replicas sharing Redis, simulated displays speaking docs/display-protocol.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busChannel } from '@marquee/service-kit';
import { loadDeviceTcpConfig, startDeviceTcp, type RunningDeviceTcp } from '@marquee/device-tcp';
import { SimDisplay } from '../../tools/display-sim/display.ts';
import { FrameConnection } from '@marquee/display-client';
import type { TypedMessage } from '@marquee/display-protocol';
import { PNG_1X1, createUpload, putChunk, sha256Hex } from '../../services/api-v2/test/media-fixtures.ts';
import { startEdgePlatform, type EdgePlatform } from '../support/edge-platform.ts';
import { api, createDisplay, signUpAndLogIn, type Session } from '../support/platform.ts';
import { slotStarts } from '../support/plays.ts';
import { startTcpBalancer, type TcpBalancer } from '../support/tcp-balancer.ts';
import { suiteServiceSecrets } from '../support/infra.ts';
import { until } from '../support/until.ts';

let ep: EdgePlatform;
let db: postgres.Sql;
let op: Session;
let adv: Session;
const replicas = new Map<string, RunningDeviceTcp>();
let balancer: TcpBalancer;
const sims: SimDisplay[] = [];
const displays: { id: string; secret: string }[] = [];
let bookingId: string;
const LOOP = { lengthMs: 6_000, slotCount: 6 };

async function startReplica(name: string, devicePort = 0) {
  const running = await startDeviceTcp(
    loadDeviceTcpConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DEVICE_HOST: '127.0.0.1',
      DEVICE_PORT: String(devicePort),
      REDIS_URL: ep.platform.redisUrl,
      BUS_PREFIX: ep.platform.busPrefix,
      API_V2_URL: ep.apiV2InternalUrl,
      INSTANCE_ID: name,
      LOG_LEVEL: 'silent',
      HEARTBEAT_INTERVAL_MS: '1000',
      SHUTDOWN_GRACE_MS: '2000',
      DRAIN_RECONNECT_MIN_MS: '200',
      DRAIN_RECONNECT_MAX_MS: '500',
      ...suiteServiceSecrets().env,
    }),
  );
  replicas.set(name, running);
  return running;
}

function simulate(display: { id: string; secret: string }, port: number) {
  const sim = new SimDisplay({ host: '127.0.0.1', port, displayId: display.id, secret: display.secret, log: process.env.SIM_LOG ? (l) => console.log(display.id.slice(0, 8), l) : undefined });
  sims.push(sim);
  return sim;
}


const showsCreative = (sim: SimDisplay, creativeId: string) => sim.currentPlaylist?.entries.some((e) => e.bookingId === bookingId && e.creativeId === creativeId);

beforeAll(async () => {
  ep = await startEdgePlatform('e2e');
  db = postgres(ep.platform.db.url, { max: 2, onnotice: () => {} });
  await startReplica('tcp-1');
  await startReplica('tcp-2');
  balancer = await startTcpBalancer(() => [...replicas.values()].map((r) => r.devicePort));
  [op, adv] = await Promise.all([signUpAndLogIn(ep.v2, 'operator'), signUpAndLogIn(ep.v2, 'advertiser')]);
  for (const name of ['North entrance', 'Food court', 'Car park']) {
    displays.push(
      await createDisplay(
        ep.v2,
        op.auth,
        // Six slots of 1 s: a booking's slot comes every 6 s (the plays test needs several).
        { name, location: { address: 'Mall', lat: 52.52, lng: 13.4 }, pricePerSlotHour: 400, audienceMultiplier: 3, loop: LOOP },
        { activate: true },
      ),
    );
  }
}, 60_000);

afterAll(async () => {
  for (const s of sims) s.stop();
  await balancer?.close();
  await Promise.all([...replicas.values()].map((r) => r.close()));
  await db?.end();
  await ep?.close();
});

/** PUT one chunk but drop the connection halfway through its body, as a flaky network would. */
function interruptedChunk(base: string, auth: Record<string, string>, id: string, chunk: Buffer, start: number, total: number) {
  return new Promise<void>((resolve) => {
    const url = new URL(`${base}/uploads/${id}`);
    const req = http.request(url, {
      method: 'PUT',
      headers: {
        ...auth,
        'content-type': 'application/octet-stream',
        'content-length': String(chunk.length),
        'content-range': `bytes ${start}-${start + chunk.length - 1}/${total}`,
      },
    });
    req.on('error', () => resolve());
    req.write(chunk.subarray(0, chunk.length >> 1), () => setTimeout(() => (req.destroy(), resolve()), 200));
  });
}

describe('the whole flow', () => {
  it('upload (resumed) → hold → confirm → displays on both replicas play it → edit → pushed → offline display synced on reconnect → v1 edit pushed too', async () => {
    // Advertiser uploads an image in 100 KiB chunks; the second chunk breaks off midway.
    const file = Buffer.concat([PNG_1X1, randomBytes(300 * 1024)]);
    const chunk = 100 * 1024;
    const upload = await createUpload(ep.v2, adv.auth, { contentType: 'image/png', totalBytes: file.length, sha256: sha256Hex(file) });
    expect(upload.status).toBe(201);
    const uploadId = upload.body.id as string;
    expect((await putChunk(ep.v2, adv.auth, uploadId, file.subarray(0, chunk), 0, file.length)).status).toBe(200);
    await interruptedChunk(ep.v2, adv.auth, uploadId, file.subarray(chunk, 2 * chunk), chunk, file.length);
    const resumeAt = await until('the broken chunk to be rolled back', async () => {
      const state = await api(ep.v2, 'GET', `/uploads/${uploadId}`, undefined, adv.auth);
      return state.status === 200 && state.body.received === chunk ? state.body.received : undefined;
    });
    for (let offset = resumeAt; offset < file.length; offset += chunk) {
      const res = await until('the chunk to be accepted', async () => {
        const r = await putChunk(ep.v2, adv.auth, uploadId, file.subarray(offset, offset + chunk), offset, file.length);
        return r.status === 200 ? r : undefined; // 409 upload-busy while the broken request is cleaned up
      });
      expect(res.status).toBe(200);
    }
    const completed = await api(ep.v2, 'POST', `/uploads/${uploadId}/complete`, undefined, adv.auth);
    expect(completed.status).toBe(200);
    expect(completed.body.sha256).toBe(sha256Hex(file));
    const media = await fetch(`${ep.v2}/media/${completed.body.sha256}`);
    expect(Buffer.from(await media.arrayBuffer()).equals(file)).toBe(true);

    const image = await api(ep.v2, 'POST', '/creatives', { name: 'Summer sale', type: 'image', mediaSha256: completed.body.sha256, durationMs: 10_000 }, adv.auth);
    expect(image.status).toBe(201);

    // Displays 0 and 1 are online, one on each replica; display 2 is offline for now.
    const onFirst = simulate(displays[0]!, replicas.get('tcp-1')!.devicePort);
    const onSecond = simulate(displays[1]!, replicas.get('tcp-2')!.devicePort);
    await Promise.all([onFirst.start(), onSecond.start()]);
    await until('both displays online', () => onFirst.state === 'online' && onSecond.state === 'online');

    const redis = new Redis(ep.platform.redisUrl);
    const changes: { displayId: string; version: number }[] = [];
    redis.on('message', (_topic, message) => changes.push(...(JSON.parse(message).changes ?? [])));
    await redis.subscribe(busChannel(ep.platform.busPrefix, 'playlist.changed'));

    const hold = await api(
      ep.v2,
      'POST',
      '/bookings',
      { displayIds: displays.map((d) => d.id), creativeId: image.body.id, startsAt: new Date(Date.now() + 1_000).toISOString(), endsAt: new Date(Date.now() + 2 * 3_600_000).toISOString() },
      { ...adv.auth, 'idempotency-key': randomUUID() },
    );
    expect(hold.status).toBe(201);
    expect(hold.body.status).toBe('held');
    bookingId = hold.body.id;
    const confirmed = await api(ep.v2, 'POST', `/bookings/${bookingId}/confirm`, undefined, adv.auth);
    expect(confirmed.body.status).toBe('booked');
    await until('both displays to show the booking', () => showsCreative(onFirst, image.body.id) && showsCreative(onSecond, image.body.id));
    await until('a playlist change per display on the bus', () => displays.every((d) => changes.some((c) => c.displayId === d.id)));

    // Edit: swap the creative. Every connected display gets the new playlist pushed (how fast is
    // measured by bench/, not asserted here).
    const text = await api(ep.v2, 'POST', '/creatives', { name: 'Sale ends Sunday', type: 'text', body: 'Sale ends Sunday!', durationMs: 10_000 }, adv.auth);
    const versionsBefore = [onFirst.playlistVersion, onSecond.playlistVersion];
    const edited = await api(ep.v2, 'PATCH', `/bookings/${bookingId}`, { creativeId: text.body.id }, adv.auth);
    expect(edited.status).toBe(200);
    await until('the edit on both replicas', () => showsCreative(onFirst, text.body.id) && showsCreative(onSecond, text.body.id));
    expect(onFirst.playlistVersion).toBeGreaterThan(versionsBefore[0]!);
    expect(onSecond.playlistVersion).toBeGreaterThan(versionsBefore[1]!);
    const [bumped] = await db<{ playlist_version: string }[]>`select playlist_version from displays where id = ${displays[0]!.id}`;
    expect(Number(bumped!.playlist_version)).toBe(onFirst.playlistVersion);

    // The display that was offline during the edit connects (through the balancer) and is synced.
    const late = simulate(displays[2]!, balancer.port);
    await late.start();
    await until('the late display to sync', () => showsCreative(late, text.body.id));

    // An edit through the legacy v1 API reaches the screens exactly like a v2 edit.
    const v1Login = await api(ep.v1, 'POST', '/login', { username: adv.username, password: 'a-long-enough-passphrase' });
    expect(v1Login.body.status).toBe(0);
    const v1Edit = await api(ep.v1, 'PUT', `/orders/${bookingId}/content`, { type: 'text', text: 'Edited from v1' }, { authorization: `Bearer ${v1Login.body.token}` });
    expect(v1Edit.status).toBe(200);
    await until('the v1 edit on every screen', () =>
      [onFirst, onSecond, late].every((s) => s.currentPlaylist?.entries.some((e) => e.bookingId === bookingId && e.creativeId !== text.body.id && e.creativeId !== image.body.id)),
    );
    await redis.quit();
  });
});

describe('proof of play', () => {
  it('plays sent twice and again across a device-tcp restart are counted once in the v2 report', async () => {
    const display = displays[0]!;
    for (const s of sims) s.stop();
    const [{ creative_id: creativeId }] = (await db`select creative_id from bookings where id = ${bookingId}`) as unknown as [{ creative_id: string }];
    const [{ slot }] = (await db`select slot from booking_displays where booking_id = ${bookingId} and display_id = ${display.id}`) as unknown as [{ slot: number }];
    // Five showings of the booking's slot from now on (the server allows PLAY_CLOCK_SKEW_MS of clock skew, 2 min).
    const starts = slotStarts(LOOP, slot, Date.now(), 5);
    const play = () => ({ playId: randomUUID(), bookingId, creativeId, startedAt: new Date(starts.shift()!).toISOString(), durationMs: 1_000 });
    const firstBatch = [play(), play(), play()];

    async function session(port: number) {
      const inbox: TypedMessage[] = [];
      // A raw session (not the client library), so the test can resend a batch it already sent.
      const wire = await FrameConnection.open({ host: '127.0.0.1', port }, { onMessage: (m) => inbox.push(m), onClose: () => {} }, 4096);
      wire.send({ type: 'hello', protocol: 1, displayId: display.id, secret: display.secret, playlistVersion: 0 });
      const welcome = await until('welcome', () => inbox.find((m) => m.type === 'welcome'));
      wire.maxOutgoingBytes = welcome.maxFrameBytes as number;
      const send = async (plays: ReturnType<typeof play>[]) => {
        const batchId = randomUUID().slice(0, 8);
        wire.send({ type: 'plays', batchId, plays });
        return until('plays_ack', () => inbox.find((m) => m.type === 'plays_ack' && m.batchId === batchId));
      };
      return { send, close: () => wire.close() };
    }

    const tcp1 = replicas.get('tcp-1')!;
    const port = tcp1.devicePort;
    const before = await session(port);
    expect((await before.send(firstBatch)).accepted).toHaveLength(3);
    expect((await before.send(firstBatch)).accepted).toHaveLength(3); // ack lost, display resends
    before.close();

    await tcp1.close();
    replicas.delete('tcp-1');
    await startReplica('tcp-1', port);
    const after = await session(port);
    const secondBatch = [...firstBatch, play(), play()];
    expect((await after.send(secondBatch)).accepted).toHaveLength(5);
    after.close();

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const report = await api(ep.v2, 'GET', `/bookings/${bookingId}/plays?from=${from}&to=${to}`, undefined, adv.auth);
    const row = report.body.displays.find((d: { displayId: string }) => d.displayId === display.id);
    expect(row).toMatchObject({ plays: 5, impressions: 15 });
  });
});

describe('drain', () => {
  it('SIGTERM-style drain: displays are told to reconnect and come back on the other replica', async () => {
    const display = displays[1]!;
    // The session id comes from the display's own view (its welcome), so presence rows left by an
    // earlier session of this display cannot be mistaken for the current one.
    let sessionId = '';
    const sim = new SimDisplay({
      host: '127.0.0.1',
      port: balancer.port,
      displayId: display.id,
      secret: display.secret,
      log: (line) => {
        sessionId = /^welcome: session (\S+),/.exec(line)?.[1] ?? sessionId;
      },
    });
    sims.push(sim);
    await sim.start();
    await until('online through the balancer', () => sim.state === 'online' && sessionId);
    const holder = await until('presence to name the replica', async () => {
      const [row] = await db<{ session_instance: string | null; session_id: string | null; online: boolean }[]>`
        select session_instance, session_id, online from displays where id = ${display.id}`;
      return row?.online && row.session_id === sessionId ? row.session_instance : undefined;
    });
    const welcomesBefore = sim.stats.welcomes;
    const draining = replicas.get(holder)!;
    replicas.delete(holder);
    await draining.close();
    await until('the display to reconnect', () => sim.stats.welcomes > welcomesBefore && sim.state === 'online', 15_000);
    const [other] = [...replicas.keys()];
    await until('presence on the other replica', async () => {
      const [row] = await db<{ session_instance: string; online: boolean }[]>`select session_instance, online from displays where id = ${display.id}`;
      return row?.online && row.session_instance === other;
    });
    expect(sim.stats.errors).toEqual({});
  }, 30_000);
});
