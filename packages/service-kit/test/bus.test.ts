import { describe, expect, it } from 'vitest';
import { createMemoryBus, createRedisBus, type MessageBus } from '../src/index.ts';
import { TEST_REDIS_URL, uniqueName } from '../../../test/support/infra.ts';

/** The next message on `topic`, and when the subscription is live (subscribe resolves then). */
function nextMessage(bus: MessageBus, topic: string) {
  let deliver!: (message: unknown) => void;
  const message = new Promise<unknown>((resolve) => (deliver = resolve));
  return { live: bus.subscribe(topic, (msg) => deliver(msg)), message };
}

describe('message bus', () => {
  it('in-process: delivers a copy to every subscriber and stops after unsubscribe', async () => {
    const bus = createMemoryBus();
    const got: unknown[] = [];
    const off = await bus.subscribe('t', (m) => void got.push(m));
    const original = { displayId: 'd1', version: 2 };
    await bus.publish('t', original);
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([original]);
    expect(got[0]).not.toBe(original);
    await off();
    await bus.publish('t', { displayId: 'd1', version: 3 });
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toHaveLength(1);
  });

  it('redis: fans out between two independent connections (two replicas)', async () => {
    const a = createRedisBus(TEST_REDIS_URL);
    const b = createRedisBus(TEST_REDIS_URL);
    const topic = uniqueName('test.topic.');
    const onA = nextMessage(a, topic);
    const onB = nextMessage(b, topic);
    await Promise.all([onA.live, onB.live]);
    await a.publish(topic, { displayId: 'd9', version: 7 });
    await expect(Promise.all([onA.message, onB.message])).resolves.toEqual([{ displayId: 'd9', version: 7 }, { displayId: 'd9', version: 7 }]);
    await Promise.all([a.close(), b.close()]);
  });
});
