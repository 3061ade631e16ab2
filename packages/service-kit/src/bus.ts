import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { busTopics, type BusMessage, type BusMessageInput, type BusTopic } from './contracts/bus-topics.ts';

export type BusHandler<T extends BusTopic> = (message: BusMessage<T>, topic: T) => void | Promise<void>;

/**
 * Fire-and-forget fan-out between services over the topics of `busTopics`. A publisher's message is
 * type-checked against its topic's schema; a subscriber receives it parsed by that schema, and a
 * message that is not JSON or fails the schema is counted (bus_messages_rejected_total{topic}),
 * logged and dropped, never handed on. Delivery is at most once: consumers must heal a missed
 * message by themselves (device-tcp compares playlist versions on every heartbeat).
 */
export interface MessageBus {
  publish<T extends BusTopic>(topic: T, message: BusMessageInput<T>): Promise<void>;
  /** Resolves once the subscription is live; the returned function unsubscribes. */
  subscribe<T extends BusTopic>(topic: T, handler: BusHandler<T>): Promise<() => Promise<void>>;
  /** Resolves if the transport answers (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface BusOptions {
  logger?: Logger;
  /** The service's metrics registry, which gets bus_messages_rejected_total{topic}. */
  registry?: Registry;
}

export interface RedisBusOptions extends BusOptions {
  /** Channels are `<prefix>.<topic>`: deployments (and test suites) sharing one Redis stay apart. */
  prefix?: string;
}

export const DEFAULT_BUS_PREFIX = 'marquee';

/** BUS_PREFIX in every service's config: dot-separated words of letters, digits, `_`, `-`, `:`. */
export const busPrefixSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/, 'dot-separated words of letters, digits, _ - :')
  .default(DEFAULT_BUS_PREFIX);

/** The Redis channel of a topic under a prefix (for tests that watch the wire). */
export const busChannel = (prefix: string, topic: BusTopic): string => `${prefix}.${topic}`;

type AnyHandler = (message: unknown, topic: BusTopic) => void | Promise<void>;

/** In-process bus for the single-machine run: all services share one process and one instance. */
export function createMemoryBus(opts: BusOptions = {}): MessageBus {
  const handlers = new Map<BusTopic, Set<AnyHandler>>();
  const receive = receiver(opts);
  return {
    async publish(topic, message) {
      // Serialised and parsed like the Redis adapter does, so no subscriber shares the publisher's object.
      const payload = JSON.stringify(message);
      const subscribed = handlers.get(topic);
      if (!subscribed?.size) return;
      queueMicrotask(() => {
        const parsed = receive(topic, payload);
        if (parsed !== undefined) for (const handler of subscribed) deliver(handler, parsed, topic, opts.logger);
      });
    },
    async subscribe(topic, handler) {
      let set = handlers.get(topic);
      if (!set) handlers.set(topic, (set = new Set()));
      set.add(handler as AnyHandler);
      return async () => {
        set.delete(handler as AnyHandler);
      };
    },
    async ping() {},
    async close() {
      handlers.clear();
    },
  };
}

/** Redis pub/sub: one connection publishes, one subscribes (a subscribed connection can do nothing else). */
export function createRedisBus(url: string, opts: RedisBusOptions = {}): MessageBus {
  const { logger } = opts;
  const prefix = opts.prefix ?? DEFAULT_BUS_PREFIX;
  // The offline queue lets a publish issued while (re)connecting wait; maxRetriesPerRequest bounds
  // how long, so an outage fails publishes (healed by version checks) instead of piling them up.
  const publisher = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  const subscriber = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  const handlers = new Map<string, { topic: BusTopic; set: Set<AnyHandler> }>();
  const receive = receiver(opts);
  for (const client of [publisher, subscriber]) client.on('error', (err) => logger?.warn({ err }, 'redis bus connection error'));

  subscriber.on('message', (channel: string, payload: string) => {
    const subscribed = handlers.get(channel);
    if (!subscribed) return;
    const parsed = receive(subscribed.topic, payload);
    if (parsed !== undefined) for (const handler of subscribed.set) deliver(handler, parsed, subscribed.topic, logger);
  });

  return {
    async publish(topic, message) {
      await publisher.publish(busChannel(prefix, topic), JSON.stringify(message));
    },
    async subscribe(topic, handler) {
      const channel = busChannel(prefix, topic);
      let subscribed = handlers.get(channel);
      if (!subscribed) {
        handlers.set(channel, (subscribed = { topic, set: new Set() }));
        await subscriber.subscribe(channel);
      }
      const { set } = subscribed;
      set.add(handler as AnyHandler);
      return async () => {
        set.delete(handler as AnyHandler);
        if (set.size === 0 && handlers.get(channel)?.set === set) {
          handlers.delete(channel);
          await subscriber.unsubscribe(channel);
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

const REJECTED_METRIC = 'bus_messages_rejected_total';

/**
 * Parses a received payload once for all local subscribers: JSON, then the topic's schema.
 * Returns undefined (counted and logged) for anything else.
 */
function receiver(opts: BusOptions): (topic: BusTopic, payload: string) => unknown {
  const registry = opts.registry;
  const rejected = registry
    ? ((registry.getSingleMetric(REJECTED_METRIC) as Counter<'topic'> | undefined) ??
      new Counter({ name: REJECTED_METRIC, help: 'Bus messages dropped on receipt: not JSON or not matching their topic schema', labelNames: ['topic'] as const, registers: [registry] }))
    : undefined;
  return (topic, payload) => {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      rejected?.inc({ topic });
      opts.logger?.warn({ topic, bytes: payload.length }, 'dropping non-JSON bus message');
      return undefined;
    }
    const parsed = busTopics[topic].safeParse(json);
    if (!parsed.success) {
      rejected?.inc({ topic });
      opts.logger?.warn({ topic, issues: parsed.error.issues.slice(0, 3) }, 'dropping bus message that does not match its topic schema');
      return undefined;
    }
    return parsed.data;
  };
}

function deliver(handler: AnyHandler, message: unknown, topic: BusTopic, logger?: Logger) {
  try {
    const result = handler(message, topic);
    if (result instanceof Promise) result.catch((err) => logger?.error({ err, topic }, 'bus handler failed'));
  } catch (err) {
    logger?.error({ err, topic }, 'bus handler failed');
  }
}
