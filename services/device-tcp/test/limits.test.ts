import { describe, expect, it } from 'vitest';
import { KeyedTokenBuckets, Semaphore, TokenBucket } from '../src/limits.ts';

describe('Semaphore', () => {
  it('never runs more than max at once, even as slots are released and taken', async () => {
    const sem = new Semaphore(3);
    let active = 0;
    let peak = 0;
    const task = () =>
      sem.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        active--;
      });
    await Promise.all(Array.from({ length: 60 }, () => task()));
    // Newcomers arriving while slots are being handed over must still wait their turn.
    await Promise.all(Array.from({ length: 30 }, (_, i) => new Promise((r) => setTimeout(r, i % 4)).then(task)));
    expect(peak).toBe(3);
    expect(sem.queued).toBe(0);
  });
});

describe('token buckets', () => {
  it('grants the burst, then tells how long to wait, and refills over time', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 0]);
    expect(b.take(0)).toBe(500);
    expect(b.take(500)).toBe(0);
    expect(b.isFull(10_000)).toBe(true);
  });

  it('keeps one bucket per key and forgets idle ones', () => {
    const k = new KeyedTokenBuckets(1, 1);
    expect(k.take('a', 0)).toBe(0);
    expect(k.take('a', 0)).toBeGreaterThan(0);
    expect(k.take('b', 0)).toBe(0);
    k.sweep(5_000);
    expect(k.size).toBe(0);
  });
});
