/** The durable play store: survives a restart and a torn last line; compacts without losing plays. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePlayStore } from '../src/play-journal.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const play = () => ({ playId: randomUUID(), bookingId: 'b', creativeId: 'c', startedAt: new Date().toISOString(), durationMs: 1000 });

describe('play journal', () => {
  it('keeps plays until removed, across restarts, and ignores a line torn by a power cut', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'marquee-journal-'));
    const file = path.join(dir, 'plays.journal');
    const first = new FilePlayStore(file);
    expect(await first.load()).toEqual([]);
    const [a, b, c] = [play(), play(), play()];
    await first.append([a, b]);
    await first.append([c]);
    await first.remove([b.playId]);
    await first.close();
    appendFileSync(file, '{"add":{"playId":"torn'); // the process died mid-write

    const second = new FilePlayStore(file);
    expect(await second.load()).toEqual([a, c]);
    // Loading compacted the journal: only what is still owed, no torn line.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    await second.remove([a.playId, c.playId]);
    await second.close();
    expect(await new FilePlayStore(file).load()).toEqual([]);
  });

  it('compacts a journal dominated by removals', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'marquee-journal-'));
    const file = path.join(dir, 'plays.journal');
    const store = new FilePlayStore(file);
    await store.load();
    const keep = play();
    await store.append([keep]);
    for (let i = 0; i < 600; i++) {
      const p = play();
      await store.append([p]);
      await store.remove([p.playId]);
    }
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThan(300);
    await store.close();
    expect(await new FilePlayStore(file).load()).toEqual([keep]);
  });
});
