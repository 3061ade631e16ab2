/** How built playlists are cut into bus messages (pure: no database needed). */
import { describe, expect, it } from 'vitest';
import type { Playlist } from '@marquee/service-kit';
import { contentMessages } from '../src/playlist-changes.ts';

const loop = { lengthMs: 60_000, slotCount: 6, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' as const };
/** A playlist of about `bytes` serialised bytes (a long media URL stands in for many entries). */
function playlist(displayId: string, bytes: number, version = 2): Playlist {
  return {
    displayId,
    version,
    generatedAt: '2026-01-01T00:00:00.000Z',
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: '2026-01-03T00:00:00.000Z',
    loop,
    entries: [
      {
        slot: 0, kind: 'booking', bookingId: `b-${displayId}`, creativeId: 'c', type: 'html', mediaSha256: 'a'.repeat(64),
        mediaUrl: `https://x/${'x'.repeat(bytes)}`, durationMs: 10_000, scripts: false, validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2026-01-02T00:00:00.000Z',
      },
    ],
  };
}
const mapOf = (ps: Playlist[]) => new Map(ps.map((p) => [p.displayId, p]));
const changesOf = (ps: Playlist[]) => ps.map((p) => ({ displayId: p.displayId, version: p.version }));

describe('contentMessages', () => {
  it('carries a shared entry list once', () => {
    const shared = playlist('a', 100);
    const ps = ['a', 'b', 'c'].map((id) => ({ ...shared, displayId: id }));
    const [message, ...rest] = contentMessages(1, changesOf(ps), mapOf(ps));
    expect(rest).toEqual([]);
    expect(message!.entrySets).toHaveLength(1);
    expect(message!.changes.map((c) => [c.displayId, c.entrySet])).toEqual([['a', 0], ['b', 0], ['c', 0]]);
  });

  it('splits messages that would pass ~4 MiB, and sends a playlist too big on its own as a bare notice', () => {
    const big = ['a', 'b', 'c', 'd', 'e'].map((id) => playlist(id, 1_500_000));
    const huge = playlist('z', 5_000_000);
    const all = [...big, huge];
    const messages = contentMessages(1, changesOf(all), mapOf(all));
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) expect(JSON.stringify(m).length).toBeLessThanOrEqual(4 * 1024 * 1024);
    // Every display exactly once, in order; the huge one without content (device-tcp fetches it).
    expect(messages.flatMap((m) => m.changes.map((c) => c.displayId))).toEqual(['a', 'b', 'c', 'd', 'e', 'z']);
    const notice = messages.flatMap((m) => m.changes).find((c) => c.displayId === 'z');
    expect(notice).toEqual({ displayId: 'z', version: 2 });
  });

  it('leaves out displays that were deleted before the build', () => {
    const ps = [playlist('a', 10)];
    expect(contentMessages(1, [...changesOf(ps), { displayId: 'gone', version: 3 }], mapOf(ps))[0]!.changes.map((c) => c.displayId)).toEqual(['a']);
  });
});
