import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// postgres.js's pool queues leak a slot per query unless scripts/patch-deps.mjs (the root
// postinstall) has fixed them; see that script for the bug and the measurements.
const ROOT = path.resolve(import.meta.dirname, '../../..');
const postgresDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '../..');

interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}

async function loadQueue(): Promise<<T>(initial?: T[]) => Queue<T>> {
  return (await import(pathToFileURL(path.join(postgresDir, 'src/queue.js')).href)).default;
}

describe('postgres.js pool queue', () => {
  it('is patched in the installed package', async () => {
    const { patchDependencies } = await import(pathToFileURL(path.join(ROOT, 'scripts/patch-deps.mjs')).href);
    expect(patchDependencies({ root: ROOT, apply: false })).toEqual([]);
  });

  it('keeps FIFO order, length and remove() through the pool’s move pattern, long past a compaction', async () => {
    const Queue = await loadQueue();
    const q = Queue<number>();
    const model: number[] = [];
    for (let c = 0; c < 20; c++) {
      q.push(c);
      model.push(c);
    }
    // What the pool does per query while the queue never runs empty: shift a connection, try to
    // remove it (it is already gone), push it back later; now and then a live one leaves for good.
    for (let i = 0; i < 20_000; i++) {
      const c = q.shift()!;
      expect(c).toBe(model.shift());
      expect(q.remove(c)).toBeNull();
      q.push(c);
      model.push(c);
      if (i % 997 === 0) {
        const victim = model[7]!;
        expect(q.remove(victim)).toBe(victim);
        model.splice(7, 1);
        q.push(victim);
        model.push(victim);
      }
      expect(q.length).toBe(model.length);
    }
    while (model.length) expect(q.shift()).toBe(model.shift());
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
    q.push(99);
    expect(q.length).toBe(1);
    expect(q.shift()).toBe(99);
  });
});
