import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { busChannel, createMemoryBus, createMetrics, createRedisBus, type BusMessage, type BusTopic, type MessageBus } from '../src/index.ts';
import { TEST_REDIS_URL, uniqueBusPrefix } from '../../../test/support/infra.ts';

/** The next message on `topic`, and when the subscription is live (subscribe resolves then). */
function nextMessage<T extends BusTopic>(bus: MessageBus, topic: T) {
  let deliver!: (message: BusMessage<T>) => void;
  const message = new Promise<BusMessage<T>>((resolve) => (deliver = resolve));
  return { live: bus.subscribe(topic, (msg) => deliver(msg)), message };
}

const rejectedCount = async (registry: ReturnType<typeof createMetrics>['registry'], topic: string) =>
  (await registry.getSingleMetric('bus_messages_rejected_total')?.get())?.values.find((v) => v.labels.topic === topic)?.value ?? 0;

const command = { commandId: '00000000-0000-4000-8000-000000000001', displayId: 'd1', kind: 'reload' as const, args: {}, expiresAt: '2030-01-01T00:00:00.000Z' };

describe('message bus', () => {
  it('in-process: delivers a copy to every subscriber and stops after unsubscribe', async () => {
    const bus = createMemoryBus();
    const got: unknown[] = [];
    const off = await bus.subscribe('playlist.changed', (m) => void got.push(m));
    const original = { displayId: 'd1', version: 2 };
    await bus.publish('playlist.changed', original);
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([original]);
    expect(got[0]).not.toBe(original);
    await off();
    await bus.publish('playlist.changed', { displayId: 'd1', version: 3 });
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toHaveLength(1);
  });

  it('in-process: a message off its topic schema is counted and dropped; the next one is delivered', async () => {
    const { registry } = createMetrics('test');
    const bus = createMemoryBus({ registry });
    const got: unknown[] = [];
    await bus.subscribe('display.command', (m) => void got.push(m));
    await bus.publish('display.command', { ...command, kind: 'explode' } as never);
    await bus.publish('display.command', command);
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([command]);
    expect(await rejectedCount(registry, 'display.command')).toBe(1);
  });

  it('redis: fans out between two independent connections (two replicas) under their prefix only', async () => {
    const prefix = uniqueBusPrefix('kit-bus');
    const a = createRedisBus(TEST_REDIS_URL, { prefix });
    const b = createRedisBus(TEST_REDIS_URL, { prefix });
    const elsewhere = createRedisBus(TEST_REDIS_URL, { prefix: uniqueBusPrefix('kit-bus-other') });
    const seenElsewhere: unknown[] = [];
    let ownArrived!: () => void;
    const own = new Promise<void>((resolve) => (ownArrived = resolve));
    await elsewhere.subscribe('playlist.changed', (m) => {
      seenElsewhere.push(m);
      if ('version' in m && m.version === 8) ownArrived();
    });
    const onA = nextMessage(a, 'playlist.changed');
    const onB = nextMessage(b, 'playlist.changed');
    await Promise.all([onA.live, onB.live]);
    await a.publish('playlist.changed', { displayId: 'd9', version: 7 });
    await expect(Promise.all([onA.message, onB.message])).resolves.toEqual([{ displayId: 'd9', version: 7 }, { displayId: 'd9', version: 7 }]);
    // Redis orders one server's messages: had the other prefix shared the channel, its own later
    // message would arrive after a's.
    await elsewhere.publish('playlist.changed', { displayId: 'd9', version: 8 });
    await own;
    expect(seenElsewhere).toEqual([{ displayId: 'd9', version: 8 }]);
    await Promise.all([a.close(), b.close(), elsewhere.close()]);
  });

  it('redis: non-JSON and wrongly shaped messages are counted per topic and never reach the handler', async () => {
    const prefix = uniqueBusPrefix('kit-bus-bad');
    const { registry } = createMetrics('test');
    const bus = createRedisBus(TEST_REDIS_URL, { prefix, registry });
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const got: unknown[] = [];
      let handled!: () => void;
      const good = new Promise<void>((resolve) => (handled = resolve));
      await bus.subscribe('display.command', (m) => {
        got.push(m);
        handled();
      });
      const channel = busChannel(prefix, 'display.command');
      await raw.publish(channel, '{not json');
      await raw.publish(channel, JSON.stringify({ commandId: 'x' }));
      await raw.publish(channel, JSON.stringify(command));
      await good;
      expect(got).toEqual([command]);
      expect(await rejectedCount(registry, 'display.command')).toBe(2);
    } finally {
      raw.disconnect();
      await bus.close();
    }
  });
});
