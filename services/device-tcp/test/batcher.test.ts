/**
 * The Batcher's guarantees, on a fake clock so they do not depend on how fast the machine is:
 * requests gathered within the delay go out together, no call exceeds `max`, at most
 * `concurrency` calls are out, and requests arriving meanwhile wait for the next call.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../src/batcher.ts';

/** A run function whose calls the test answers by hand. */
function manualRun() {
  const calls: { reqs: number[]; answer(): void; fail(err: Error): void }[] = [];
  const run = (reqs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ reqs, answer: () => resolve(reqs.map((r) => `answer ${r}`)), fail: reject });
    });
  return { run, calls, outstanding: () => calls.length };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher', () => {
  it('sends what arrived within the delay as one call, not before the delay, and answers each in order', async () => {
    const { run, calls } = manualRun();
    const batcher = new Batcher(run, { delayMs: 5, max: 100, concurrency: 4 });
    const answers = [1, 2, 3].map((n) => batcher.add(n));
    await vi.advanceTimersByTimeAsync(4);
    expect(calls).toHaveLength(0);
    expect(batcher.waiting).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.reqs)).toEqual([[1, 2, 3]]);
    expect(batcher.waiting).toBe(0);
    calls[0]!.answer();
    expect(await Promise.all(answers)).toEqual(['answer 1', 'answer 2', 'answer 3']);
  });

  it('sends at once when max are waiting, never more than max in one call', async () => {
    const { run, calls } = manualRun();
    const batcher = new Batcher(run, { delayMs: 1_000, max: 3, concurrency: 4 });
    for (let n = 1; n <= 7; n++) void batcher.add(n);
    expect(calls.map((c) => c.reqs)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    // The seventh waits for the delay.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.map((c) => c.reqs)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('keeps at most `concurrency` calls out; what arrives meanwhile goes in the next call', async () => {
    const { run, calls } = manualRun();
    const batcher = new Batcher(run, { delayMs: 5, max: 2, concurrency: 2 });
    const answers = Array.from({ length: 9 }, (_, i) => batcher.add(i));
    await vi.advanceTimersByTimeAsync(50);
    expect(calls.map((c) => c.reqs)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(batcher.waiting).toBe(5);
    calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    // One call came back: one more goes out (full, so at once), still two out.
    expect(calls.map((c) => c.reqs)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    for (let i = 1; i < 5; i++) {
      calls[i]!.answer();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(calls.map((c) => c.reqs)).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8]]);
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 9 }, (_, i) => `answer ${i}`));
  });

  it('rejects every request of a failed call and keeps going with the next', async () => {
    const { run, calls } = manualRun();
    const batcher = new Batcher(run, { delayMs: 5, max: 10, concurrency: 1 });
    const failed = [batcher.add(1), batcher.add(2)];
    await vi.advanceTimersByTimeAsync(5);
    const later = batcher.add(3);
    calls[0]!.fail(new Error('api-v2 down'));
    for (const p of failed) await expect(p).rejects.toThrow('api-v2 down');
    await vi.advanceTimersByTimeAsync(5);
    expect(calls.map((c) => c.reqs)).toEqual([[1, 2], [3]]);
    calls[1]!.answer();
    expect(await later).toBe('answer 3');
  });

  it('rejects the requests when the run function throws synchronously', async () => {
    const batcher = new Batcher<number, string>(
      () => {
        throw new Error('bad batch');
      },
      { delayMs: 5, max: 10, concurrency: 1 },
    );
    const p = batcher.add(1);
    const rejected = expect(p).rejects.toThrow('bad batch');
    await vi.advanceTimersByTimeAsync(5);
    await rejected;
  });
});
