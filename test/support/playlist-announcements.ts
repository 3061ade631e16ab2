/**
 * For tests that watch the bus: the display versions a playlist.changed (built playlists or bare
 * notices) or playlist.delta (an edit's delta) message announces, in one shape.
 */
import type { BusMessage } from '@marquee/service-kit';

export const PLAYLIST_TOPICS = ['playlist.changed', 'playlist.delta'] as const;

export function announcedVersions(message: BusMessage<'playlist.changed'> | BusMessage<'playlist.delta'>): { displayId: string; version: number }[] {
  if ('displayIds' in message) return message.displayIds.map((displayId, i) => ({ displayId, version: message.versions[i]! }));
  if ('changes' in message) return message.changes.map((c) => ({ displayId: c.displayId, version: c.version }));
  return [{ displayId: message.displayId, version: message.version }];
}
