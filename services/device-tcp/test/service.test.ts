/**
 * The service as deployed: startDeviceTcp with the HTTP directory (against a stand-in for
 * api-v2's internal endpoints) and the Redis bus (real Redis on 127.0.0.1:6379), two replicas.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, createRedisBus } from '@marquee/service-kit';
import { TEST_REDIS_URL, serviceCredentialHeader, suiteServiceSecrets, uniqueBusPrefix } from '../../../test/support/infra.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDeviceTcpConfig } from '../src/config.ts';
import { startDeviceTcp, type RunningDeviceTcp } from '../src/server.ts';
import { MemoryDirectory, bookingIdOf, creativeIdOf } from './support/memory-directory.ts';
import { startFakeApiV2, type FakeApiV2 } from './support/fake-api-v2.ts';
import { RawClient } from './support/raw-client.ts';
import { sleep, until } from './support/harness.ts';

const REDIS_URL = TEST_REDIS_URL;
const BUS_PREFIX = uniqueBusPrefix('device-tcp-service');
let directory: MemoryDirectory;
let api: FakeApiV2;
let a: RunningDeviceTcp;
let b: RunningDeviceTcp;
const clients: RawClient[] = [];
// Unique ids per run (UUIDs, as api-v2 issues them).
const run = randomUUID().slice(0, 24);
const id = (n: number) => `${run}${n.toString(16).padStart(12, '0')}`;

function config(instance: string) {
  return loadDeviceTcpConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DEVICE_HOST: '127.0.0.1',
    DEVICE_PORT: '0',
    REDIS_URL,
    BUS_PREFIX,
    API_V2_URL: api.url,
    INSTANCE_ID: instance,
    LOG_LEVEL: 'silent',
    ...suiteServiceSecrets().env,
    SHUTDOWN_GRACE_MS: '2500',
    // The raw test clients send no heartbeats: a long timeout, so none is cut for silence.
    HEARTBEAT_INTERVAL_MS: '10000',
  });
}

async function connect(to: RunningDeviceTcp) {
  const c = await RawClient.connect(to.devicePort);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  directory = new MemoryDirectory();
  for (let i = 1; i <= 3; i++) directory.addDisplay(id(i), `s-${i}`);
  api = await startFakeApiV2(directory);
  a = await startDeviceTcp(config('a'));
  b = await startDeviceTcp(config('b'));
});
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.allSettled([a?.close(), b?.close()]);
  await api?.close();
});

describe('device-tcp service over Redis and HTTP', () => {
  it('parses configuration once and derives the heartbeat timeout', () => {
    const c = config('x');
    expect(c.HEARTBEAT_TIMEOUT_MS).toBe(25_000);
    expect(c.PROXY_PROTOCOL).toBe('off');
    expect(() => loadDeviceTcpConfig({ API_V2_URL: 'not a url', PROXY_PROTOCOL: 'v3' })).toThrow(/API_V2_URL[\s\S]*PROXY_PROTOCOL/);
  });

  it('answers health, readiness and metrics on the ops port', async () => {
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${a.url}/readyz`, { headers: serviceCredentialHeader('ops') });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { displays: 'ok', bus: 'ok' } });
    const metrics = await (await fetch(`${a.url}/metrics`, { headers: serviceCredentialHeader('ops') })).text();
    for (const name of ['device_tcp_connections', 'device_tcp_frames_in_total', 'device_tcp_push_latency_seconds', 'device_tcp_displays_behind']) {
      expect(metrics).toContain(name);
    }
  });

  it('authenticates through api-v2, pushes a change published on Redis, and records plays', async () => {
    directory.setPlaylist(id(1), 1);
    const c = await connect(a);
    await c.hello(id(1), 's-1', 1);
    directory.setPlaylist(id(1), 2);
    const publisher = createRedisBus(REDIS_URL, { prefix: BUS_PREFIX });
    try {
      // The kit's publisher refuses commands until connected (no offline queue).
      await until(() => publisher.ping().then(() => true, () => false));
      await publisher.publish('playlist.changed', { displayId: id(1), version: 2, publishedAt: Date.now() });
    } finally {
      await publisher.close();
    }
    expect((await c.next('playlist')).playlist).toMatchObject({ version: 2 });
    const playId = randomUUID();
    c.send({ type: 'plays', batchId: 'p1', plays: [{ playId, bookingId: bookingIdOf(0), creativeId: creativeIdOf(0, 1), startedAt: new Date().toISOString(), durationMs: 9000 }] });
    expect(await c.next('plays_ack')).toMatchObject({ accepted: [playId], rejected: [] });
    await until(() => directory.presence.some((e) => e.kind === 'connected' && e.displayId === id(1)));
    expect(api.requests).toEqual(expect.arrayContaining(['POST /internal/displays/handshakes', 'POST /internal/playlists', 'POST /internal/presence']));
    c.close();
    await until(() => a.server.sessionCount === 0);
  });

  it('checks a crowd of hellos in batched calls (each hello once, at most 4 calls out) whose answers carry the playlist and waiting commands', async () => {
    const crowd = Array.from({ length: 40 }, (_, i) => id(100 + i));
    for (const d of crowd) {
      directory.addDisplay(d, 's');
      directory.setPlaylist(d, 3);
    }
    const command = { commandId: randomUUID(), displayId: crowd[0]!, kind: 'reload' as const, args: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() };
    directory.pending.set(crowd[0]!, [command]);
    const playlistCalls = () => api.requests.filter((r) => r === 'POST /internal/playlists').length;
    const before = { handshakeCalls: api.handshakeCalls.length, playlistCalls: playlistCalls() };
    const callsSince = () => api.handshakeCalls.length - before.handshakeCalls;
    // api-v2 holds every answer until released, so the calls device-tcp makes stay open.
    const release = directory.holdAuthentication();
    try {
      const cs = await Promise.all(crowd.map(() => connect(a)));
      // Eight waves of five hellos; each of the first four waits until a call carrying it is out.
      for (let wave = 0; wave < 8; wave++) {
        cs.slice(wave * 5, wave * 5 + 5).forEach((c, i) => c.send({ type: 'hello', protocol: 1, displayId: crowd[wave * 5 + i], secret: 's', playlistVersion: 0 }));
        if (wave < 4) await until(() => callsSince() >= wave + 1);
      }
      // Four calls are open: the later waves must wait in device-tcp. This pause only gives a
      // batcher without that bound the chance to send a fifth call (the test cannot pass
      // because of it).
      await sleep(100);
      expect(api.maxHandshakesInFlight).toBeLessThanOrEqual(4);
      release();
      for (const [i, c] of cs.entries()) {
        expect(await c.next('welcome')).toMatchObject({ displayId: crowd[i] });
        expect((await c.next('playlist')).playlist).toMatchObject({ displayId: crowd[i], version: 3 });
      }
      expect(await cs[0]!.next('command')).toMatchObject({ commandId: command.commandId, kind: 'reload' });
      for (const c of cs) c.close();
    } finally {
      release();
    }
    // What the batcher guarantees, whatever the timing: every hello was checked exactly once, in
    // calls of 1 to 1 000 hellos, with at most 4 calls out at once; the playlists came with the
    // answers (no fetch per display).
    const calls = api.handshakeCalls.slice(before.handshakeCalls);
    expect(calls.flat().sort()).toEqual([...crowd].sort());
    for (const call of calls) expect(call.length).toBeGreaterThanOrEqual(1);
    for (const call of calls) expect(call.length).toBeLessThanOrEqual(1_000);
    expect(api.maxHandshakesInFlight).toBeLessThanOrEqual(4);
    expect(playlistCalls() - before.playlistCalls).toBe(0);
    await until(() => a.server.sessionCount === 0);
  });

  it('still lets displays in against an api-v2 from before batched hellos (rolling deploy), commands and playlist included', async () => {
    const legacyApi = await startFakeApiV2(directory, { legacy: true });
    const legacy = await startDeviceTcp({ ...config('legacy-client'), API_V2_URL: legacyApi.url });
    try {
      const d = id(200);
      directory.addDisplay(d, 's');
      directory.setPlaylist(d, 4);
      const command = { commandId: randomUUID(), displayId: d, kind: 'reload' as const, args: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() };
      directory.pending.set(d, [command]);
      const c = await connect(legacy);
      c.send({ type: 'hello', protocol: 1, displayId: d, secret: 's', playlistVersion: 0 });
      await c.next('welcome');
      expect((await c.next('playlist')).playlist).toMatchObject({ version: 4 });
      expect(await c.next('command')).toMatchObject({ commandId: command.commandId });
      const bad = await connect(legacy);
      bad.send({ type: 'hello', protocol: 1, displayId: d, secret: 'wrong', playlistVersion: 0 });
      expect(await bad.next('error')).toMatchObject({ code: 'auth_failed' });
      expect(legacyApi.requests).toEqual(expect.arrayContaining(['POST /internal/displays/handshakes', 'POST /internal/displays/authenticate', `GET /internal/displays/${d}/commands/pending`]));
      c.close();
    } finally {
      await legacy.close();
      await legacyApi.close();
    }
  });

  it('refuses bad credentials relayed from api-v2 and reports api-v2 outages as unavailable', async () => {
    const bad = await connect(a);
    bad.send({ type: 'hello', protocol: 1, displayId: id(2), secret: 'wrong', playlistVersion: 0 });
    expect(await bad.next('error')).toMatchObject({ code: 'auth_failed' });
    directory.down = true;
    try {
      const c = await connect(a);
      c.send({ type: 'hello', protocol: 1, displayId: id(2), secret: 's-2', playlistVersion: 0 });
      expect(await c.next('error', 10_000)).toMatchObject({ code: 'unavailable', fatal: true });
    } finally {
      directory.down = false;
    }
  });

  it('treats ids api-v2 rejects as final answers, not outages', async () => {
    const c = await connect(a);
    c.send({ type: 'hello', protocol: 1, displayId: 'x'.repeat(100), secret: 's', playlistVersion: 0 });
    expect(await c.next('error')).toMatchObject({ code: 'auth_failed', fatal: true });

    const d = await connect(a);
    await d.hello(id(1), 's-1', 2);
    d.send({ type: 'command_result', commandId: 'not-a-uuid', ok: true, result: {} });
    expect(await d.next('command_result_ack')).toMatchObject({ commandId: 'not-a-uuid', recorded: true });
    const real = randomUUID();
    d.send({ type: 'command_result', commandId: real, ok: true, result: {} });
    expect(await d.next('command_result_ack')).toMatchObject({ commandId: real, recorded: true });
    expect(directory.results.map((r) => r.commandId)).toContain(real);
    d.close();
    await until(() => a.server.sessionCount === 0);
  });

  it('a display moving from replica a to replica b closes its old session on a (Redis fan-out)', async () => {
    const onA = await connect(a);
    await onA.hello(id(3), 's-3');
    await sleep(100); // a's announcement has come back through Redis
    const onB = await connect(b);
    await onB.hello(id(3), 's-3');
    expect(await onA.next('error')).toMatchObject({ code: 'replaced' });
    await sleep(100);
    expect(onB.closed).toBe(false);
    expect([a, b].map((r) => r.server.sessionCount)).toEqual([0, 1]);
  });

  it('drains on close: not ready, reconnect advice, then gone', async () => {
    const c = await connect(b);
    await c.hello(id(2), 's-2');
    const closing = b.close();
    const advice = await c.next('reconnect');
    expect(advice.afterMs).toBeGreaterThanOrEqual(1000);
    const ready = await fetch(`${b.url}/readyz`, { headers: serviceCredentialHeader('ops') }).catch(() => null);
    if (ready) expect(ready.status).toBe(503);
    c.close();
    await closing;
    await until(() => directory.presence.some((e) => e.kind === 'disconnected' && e.displayId === id(2)));
  });
});
