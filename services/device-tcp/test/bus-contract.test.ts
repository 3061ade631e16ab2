/**
 * Bus messages are checked against their topic's schema on receipt: device-tcp, on real Redis,
 * is sent a message that is not JSON and one of the wrong shape on every topic it consumes. It
 * stays up, counts them (bus_messages_rejected_total on /metrics) and handles the next good one.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { busChannel, createRedisBus, type BusTopic, type MessageBus } from '@marquee/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, serviceCredentialHeader, suiteServiceSecrets, uniqueBusPrefix } from '../../../test/support/infra.ts';
import { loadDeviceTcpConfig } from '../src/config.ts';
import { startDeviceTcp, type RunningDeviceTcp } from '../src/server.ts';
import { MemoryDirectory } from './support/memory-directory.ts';
import { RawClient } from './support/raw-client.ts';
import { until } from './support/harness.ts';

const BUS_PREFIX = uniqueBusPrefix('device-tcp-bus-contract');
/** Every topic device-tcp consumes (live.event is api-v2's, between its replicas). */
type Consumed = Exclude<BusTopic, 'live.event'>;
const TOPICS: Consumed[] = ['playlist.changed', 'playlist.delta', 'display.command', 'display.revoked', 'display.session.opened'];
const MALFORMED: Record<Consumed, unknown> = {
  'playlist.changed': { publishedAt: 'yesterday', changes: 'all of them' },
  // One version short: which display would be at which version?
  'playlist.delta': { publishedAt: 1, displayIds: ['a', 'b'], versions: [3], edit: { kind: 'none' } },
  'display.command': { commandId: 'not-a-uuid', displayId: 'x', kind: 'explode' },
  'display.revoked': { reason: 'no display named' },
  'display.session.opened': { displayId: 42 },
};

let directory: MemoryDirectory;
let device: RunningDeviceTcp;
let bus: MessageBus;
let raw: Redis;
const clients: RawClient[] = [];

beforeAll(async () => {
  directory = new MemoryDirectory();
  device = await startDeviceTcp(
    loadDeviceTcpConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DEVICE_HOST: '127.0.0.1',
      DEVICE_PORT: '0',
      REDIS_URL: TEST_REDIS_URL,
      BUS_PREFIX,
      API_V2_URL: 'http://127.0.0.1:9', // unused: the directory is in memory
      LOG_LEVEL: 'silent',
      ...suiteServiceSecrets().env,
    }),
    { directory },
  );
  bus = createRedisBus(TEST_REDIS_URL, { prefix: BUS_PREFIX });
  raw = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  for (const c of clients) c.close();
  raw?.disconnect();
  await bus?.close();
  await device?.close();
});

async function display(version = 1) {
  const id = randomUUID();
  directory.addDisplay(id, 's');
  directory.setPlaylist(id, version);
  const c = await RawClient.connect(device.devicePort);
  clients.push(c);
  await c.hello(id, 's', version);
  return { id, c };
}

async function sendMalformed(topic: Consumed) {
  const channel = busChannel(BUS_PREFIX, topic);
  await raw.publish(channel, '{"not json');
  await raw.publish(channel, JSON.stringify(MALFORMED[topic]));
}

async function rejectedOnMetrics(): Promise<Record<string, number>> {
  const text = await (await fetch(`${device.url}/metrics`, { headers: serviceCredentialHeader('ops') })).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^bus_messages_rejected_total\{[^}]*topic="([^"]+)"[^}]*\} (\d+)$/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}

describe('device-tcp and malformed bus messages (real Redis)', () => {
  it('drops a non-JSON and a wrongly shaped message on every topic, counts them, and handles the next good one', async () => {
    const a = await display();

    await sendMalformed('playlist.changed');
    const next = directory.setPlaylist(a.id, 2);
    await bus.publish('playlist.changed', { publishedAt: Date.now(), changes: [{ displayId: a.id, version: 2 }] });
    expect((await a.c.next('playlist')).playlist).toEqual(next);

    await sendMalformed('playlist.delta');
    await bus.publish('playlist.delta', { publishedAt: Date.now(), displayIds: [a.id], versions: [3], edit: { kind: 'none' } });
    expect((await a.c.next('playlist')).playlist).toEqual({ ...next, version: 3 });

    await sendMalformed('display.command');
    const command = { commandId: randomUUID(), displayId: a.id, kind: 'reload' as const, args: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() };
    await bus.publish('display.command', command);
    expect(await a.c.next('command')).toMatchObject({ commandId: command.commandId, kind: 'reload' });

    // A session is replaced only by an announcement after its own: watch its own go by first
    // (Redis delivers one channel's messages to every subscriber in the same order).
    const watcher = new Redis(TEST_REDIS_URL);
    const announced: string[] = [];
    watcher.on('message', (_channel, m: string) => void announced.push(m));
    await watcher.subscribe(busChannel(BUS_PREFIX, 'display.session.opened'));
    const b = await display();
    await until(() => announced.some((m) => m.includes(b.id)));
    await watcher.quit();
    await sendMalformed('display.session.opened');
    await bus.publish('display.session.opened', { displayId: b.id, sessionId: randomUUID(), instanceId: 'another-replica' });
    expect(await b.c.next('error')).toMatchObject({ code: 'replaced', fatal: true });

    await sendMalformed('display.revoked');
    await bus.publish('display.revoked', { displayId: a.id, reason: 'disabled' });
    expect(await a.c.next('error')).toMatchObject({ code: 'display_disabled', fatal: true });

    // Each good message was handled after the malformed ones before it on its channel.
    expect(await rejectedOnMetrics()).toEqual(Object.fromEntries(TOPICS.map((t) => [t, 2])));
    const ready = await fetch(`${device.url}/readyz`, { headers: serviceCredentialHeader('ops') });
    expect(ready.status).toBe(200);
    const c = await display(); // still serving displays
    expect(c.c.closed).toBe(false);
  });
});
