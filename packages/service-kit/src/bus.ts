import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type BusHandler = (message: unknown, topic: string) => void | Promise<void>;

/**
 * Fire-and-forget fan-out between services. Delivery is at most once: consumers must heal a
 * missed message by themselves (device-tcp compares playlist versions on every heartbeat).
 */
export interface MessageBus {
  publish(topic: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is live; the returned function unsubscribes. */
  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>>;
  /** Resolves if the transport answers (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** In-process bus for the single-machine run: all services share one process and one instance. */
export function createMemoryBus(logger?: Logger): MessageBus {
  const handlers = new Map<string, Set<BusHandler>>();
  return {
    async publish(topic, message) {
      // Serialise like the Redis adapter would, so no subscriber can mutate the publisher's object.
      const payload = JSON.stringify(message);
      for (const handler of handlers.get(topic) ?? []) {
        queueMicrotask(() => deliver(handler, JSON.parse(payload), topic, logger));
      }
    },
    async subscribe(topic, handler) {
      let set = handlers.get(topic);
      if (!set) handlers.set(topic, (set = new Set()));
      set.add(handler);
      return async () => {
        set.delete(handler);
      };
    },
    async ping() {},
    async close() {
      handlers.clear();
    },
  };
}

/** Redis pub/sub: one connection publishes, one subscribes (a subscribed connection can do nothing else). */
export function createRedisBus(url: string, logger?: Logger): MessageBus {
  // The offline queue lets a publish issued while (re)connecting wait; maxRetriesPerRequest bounds
  // how long, so an outage fails publishes (healed by version checks) instead of piling them up.
  const publisher = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  const subscriber = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  const handlers = new Map<string, Set<BusHandler>>();
  for (const client of [publisher, subscriber]) client.on('error', (err) => logger?.warn({ err }, 'redis bus connection error'));

  subscriber.on('message', (topic: string, payload: string) => {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch {
      logger?.warn({ topic }, 'dropping non-JSON bus message');
      return;
    }
    for (const handler of handlers.get(topic) ?? []) deliver(handler, message, topic, logger);
  });

  return {
    async publish(topic, message) {
      await publisher.publish(topic, JSON.stringify(message));
    },
    async subscribe(topic, handler) {
      let set = handlers.get(topic);
      if (!set) {
        handlers.set(topic, (set = new Set()));
        await subscriber.subscribe(topic);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(topic);
          await subscriber.unsubscribe(topic);
        }
      };
    },
    async ping() {
      await publisher.ping();
    },
    async close() {
      handlers.clear();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

function deliver(handler: BusHandler, message: unknown, topic: string, logger?: Logger) {
  try {
    const result = handler(message, topic);
    if (result instanceof Promise) result.catch((err) => logger?.error({ err, topic }, 'bus handler failed'));
  } catch (err) {
    logger?.error({ err, topic }, 'bus handler failed');
  }
}
