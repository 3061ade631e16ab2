/**
 * TOPIC_PLAYLIST_CHANGED: a batch of changes (usually carrying the playlists) or one bare notice,
 * matched against its schema on receipt. Carried playlists go straight to the displays connected
 * here (and are held as the base of later deltas), each distinct content built and serialised
 * once per message (one edit reaches thousands of displays sharing a few entry lists). Bare
 * notices, and changes naming an entry set the message lacks, fall back to a fetch.
 */
import type { DeviceServer } from '../device-server.ts';
import type { PlaylistChangedMessage, PlaylistChangeNotice, PlaylistsChanged } from '../directory.ts';
import { PlaylistContent } from '../playlist-content.ts';

export function onPlaylistChanged(server: DeviceServer, msg: PlaylistChangedMessage): void {
  if ('changes' in msg) onChanges(server, msg);
  else onNotice(server, msg, msg.publishedAt);
}

function onChanges(server: DeviceServer, msg: PlaylistsChanged): void {
  const { publishedAt, entrySets = [], window: w } = msg;
  const contents = new Map<string, PlaylistContent>();
  for (const change of msg.changes) {
    const session = server.sessionFor(change.displayId);
    if (!session) continue;
    const { entrySet: set, loop } = change;
    const entries = set === undefined ? undefined : entrySets[set];
    if (!w || !entries || !loop) {
      onNotice(server, change, publishedAt);
      continue;
    }
    const key = `${set}/${loop.lengthMs}/${loop.slotCount}/${loop.slotMs}`;
    let content = contents.get(key);
    if (!content) contents.set(key, (content = server.contents.intern(new PlaylistContent(w.generatedAt, w.validFrom, w.validUntil, loop, entries))));
    session.push.offer(change.version, content, publishedAt);
  }
}

function onNotice(server: DeviceServer, msg: PlaylistChangeNotice, publishedAt: number | undefined): void {
  server.sessionFor(msg.displayId)?.push.notice(msg.version, publishedAt ?? Date.now());
}
