import type { Redis } from 'ioredis';

/**
 * Counts failures per key in a fixed window. Used for login throttling: Redis when several
 * replicas must agree, in-process for the single-machine run.
 */
export interface FailureCounterStore {
  /** Adds one failure; returns the count in the current window and seconds until it resets. */
  increment(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }>;
  /** Current count without adding (0 when the window has lapsed). */
  peek(key: string): Promise<{ count: number; resetInSeconds: number }>;
  reset(key: string): Promise<void>;
}

export function createMemoryCounterStore(now: () => number = Date.now): FailureCounterStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string) => {
    const w = windows.get(key);
    if (w && w.resetAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  // Drop lapsed windows now and then so an address scan cannot grow memory without bound.
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, w] of windows) if (w.resetAt <= t) windows.delete(key);
  }, 60_000);
  sweep.unref();
  return {
    async increment(key, windowSeconds) {
      let w = live(key);
      if (!w) windows.set(key, (w = { count: 0, resetAt: now() + windowSeconds * 1000 }));
      w.count += 1;
      return { count: w.count, resetInSeconds: Math.ceil((w.resetAt - now()) / 1000) };
    },
    async peek(key) {
      const w = live(key);
      return w ? { count: w.count, resetInSeconds: Math.ceil((w.resetAt - now()) / 1000) } : { count: 0, resetInSeconds: 0 };
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

export function createRedisCounterStore(redis: Redis, prefix = 'throttle:'): FailureCounterStore {
  return {
    async increment(key, windowSeconds) {
      const k = prefix + key;
      const result = await redis.multi().incr(k).expire(k, windowSeconds, 'NX').pttl(k).exec();
      if (!result) throw new Error('throttle transaction aborted');
      const count = Number(result[0]![1]);
      const pttl = Number(result[2]![1]);
      return { count, resetInSeconds: Math.max(1, Math.ceil(pttl / 1000)) };
    },
    async peek(key) {
      const k = prefix + key;
      const [count, pttl] = await Promise.all([redis.get(k), redis.pttl(k)]);
      return { count: Number(count ?? 0), resetInSeconds: pttl > 0 ? Math.ceil(pttl / 1000) : 0 };
    },
    async reset(key) {
      await redis.del(prefix + key);
    },
  };
}
