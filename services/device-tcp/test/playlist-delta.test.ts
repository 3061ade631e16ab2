/**
 * playlist.delta on one replica (in-memory api-v2 stand-in, real TCP): a delta applies to the
 * playlist held at the version before and nothing is fetched; a gap in versions, no held playlist
 * or too old a base fetches instead; old news pushes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Playlist, PlaylistDelta } from '../src/directory.ts';
import { bookingIdOf, creativeIdOf } from './support/memory-directory.ts';
import { sleep, startHarness, type Harness } from './support/harness.ts';
import type { RawClient } from './support/raw-client.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function display(harness: Harness, helloVersion = 0): Promise<{ id: string; c: RawClient; first: Playlist }> {
  const id = randomUUID();
  harness.directory.addDisplay(id, 's');
  const first = harness.directory.setPlaylist(id, 1);
  const c = await harness.connect();
  await c.hello(id, 's', helloVersion);
  return { id, c, first };
}

const delta = (displayIds: string[], versions: number[], edit: PlaylistDelta['edit']): PlaylistDelta => ({ publishedAt: Date.now(), displayIds, versions, edit });

describe('playlist.delta', () => {
  it('applies to the held playlist of the version before, once for displays showing the same, without a fetch', async () => {
    h = await startHarness();
    const a = await display(h);
    const b = await display(h);
    for (const d of [a, b]) expect((await d.c.next('playlist')).playlist).toEqual(d.first);
    await h.bus.publish('playlist.delta', delta([a.id, b.id], [2, 2], { kind: 'creative-duration', creativeId: creativeIdOf(0, 1), durationMs: 60_000 }));
    for (const d of [a, b]) {
      const pushed = (await d.c.next('playlist')).playlist as Playlist;
      // Cut to the 10 s slot, like api-v2's build; the other slot's entry is untouched.
      expect(pushed).toEqual({ ...d.first, version: 2, entries: [{ ...d.first.entries[0]!, durationMs: 10_000 }, d.first.entries[1]] });
    }
    await h.bus.publish('playlist.delta', delta([a.id], [3], { kind: 'booking-content', bookingId: bookingIdOf(1), content: { creativeId: randomUUID(), type: 'text', mediaSha256: 'b'.repeat(64), mediaUrl: 'http://x/media/b', durationMs: 4_000 } }));
    const swapped = (await a.c.next('playlist')).playlist as Playlist;
    expect(swapped.version).toBe(3);
    expect(swapped.entries[1]).toMatchObject({ bookingId: bookingIdOf(1), type: 'text', mediaSha256: 'b'.repeat(64), durationMs: 4_000, scripts: false });
    expect(h.directory.calls.getPlaylist).toBe(0);
  });

  it('fetches when the held playlist is not the version before (a lost message), or there is none', async () => {
    h = await startHarness();
    const behind = await display(h);
    await behind.c.next('playlist');
    // Shows version 1 already: hello brings no playlist, so this replica holds none.
    const bare = await display(h, 1);
    const current = { [behind.id]: h.directory.setPlaylist(behind.id, 3), [bare.id]: h.directory.setPlaylist(bare.id, 2) };
    await h.bus.publish('playlist.delta', delta([behind.id, bare.id], [3, 2], { kind: 'none' }));
    for (const d of [behind, bare]) expect((await d.c.next('playlist')).playlist).toEqual(current[d.id]);
    expect(h.directory.calls.getPlaylist).toBe(2);
  });

  it('fetches rather than extend a base generated longer ago than deltaBaseMaxAgeMs', async () => {
    h = await startHarness({ deltaBaseMaxAgeMs: 1 });
    const d = await display(h);
    await d.c.next('playlist');
    await sleep(5);
    const current = h.directory.setPlaylist(d.id, 2);
    await h.bus.publish('playlist.delta', delta([d.id], [2], { kind: 'none' }));
    expect((await d.c.next('playlist')).playlist).toEqual(current);
    expect(h.directory.calls.getPlaylist).toBe(1);
  });

  it('ignores a delta for a version it already holds', async () => {
    h = await startHarness();
    const d = await display(h);
    await d.c.next('playlist');
    await h.bus.publish('playlist.delta', delta([d.id], [1], { kind: 'none' }));
    await h.bus.publish('playlist.delta', delta([d.id], [2], { kind: 'none' }));
    expect(((await d.c.next('playlist')).playlist as Playlist).version).toBe(2);
    expect(d.c.frames.filter((f) => f.type === 'playlist')).toEqual([]);
    expect(h.directory.calls.getPlaylist).toBe(0);
  });
});
