/**
 * TOPIC_PLAYLIST_DELTA: one edit's change to many displays' playlists. Each display connected
 * here gets the playlist it holds with the edit applied (once per distinct held content), or, if
 * it holds none at the version before or only one generated too long ago, a fetch of the current one.
 */
import type { DeviceServer } from '../device-server.ts';
import type { PlaylistDelta } from '../directory.ts';
import type { PlaylistContent } from '../playlist-content.ts';

export function onPlaylistDelta(server: DeviceServer, msg: PlaylistDelta): void {
  const { displayIds, versions, edit, publishedAt } = msg;
  const oldestBase = Date.now() - server.options.deltaBaseMaxAgeMs;
  const applied = new Map<PlaylistContent, PlaylistContent | null>();
  const apply = (base: PlaylistContent) => {
    let result = applied.get(base);
    if (result === undefined) applied.set(base, (result = base.generatedMs < oldestBase ? null : base.apply(edit)));
    return result;
  };
  for (let i = 0; i < displayIds.length; i++) server.sessionFor(displayIds[i]!)?.push.applyDelta(versions[i]!, publishedAt, apply);
}
