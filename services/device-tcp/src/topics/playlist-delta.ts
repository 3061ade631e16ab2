/**
 * TOPIC_PLAYLIST_DELTA: one edit's change to many displays' playlists. Each display connected
 * here gets the playlist it holds with the edit applied (once per distinct held content), or, if
 * it holds none at the version before, a fetch of the current one.
 */
import type { DeviceServer } from '../device-server.ts';
import type { PlaylistDelta } from '../directory.ts';
import type { PlaylistContent } from '../playlist-content.ts';

export function onPlaylistDelta(server: DeviceServer, msg: PlaylistDelta): void {
  const { displayIds, versions, edit, publishedAt } = msg;
  const applied = new Map<PlaylistContent, PlaylistContent>();
  for (let i = 0; i < displayIds.length; i++) {
    server.sessionFor(displayIds[i]!)?.push.applyDelta(versions[i]!, edit, publishedAt, applied);
  }
}
