/**
 * TOPIC_PLAYLIST_CHANGED: a batch of changes (usually carrying the playlists) or one bare notice,
 * matched against its schema on receipt. Carried playlists go straight to the displays connected
 * here, each frame assembled around its entry set serialised once per message (one edit reaches
 * thousands of displays sharing a few entry lists). Bare notices, and changes naming an entry set
 * the message lacks, fall back to a fetch.
 */
import type { DeviceServer } from '../device-server.ts';
import type { PlaylistChangedMessage, PlaylistChangeNotice, PlaylistsChanged } from '../directory.ts';

export function onPlaylistChanged(server: DeviceServer, msg: PlaylistChangedMessage): void {
  if ('changes' in msg) onChanges(server, msg);
  else onNotice(server, msg, msg.publishedAt);
}

function onChanges(server: DeviceServer, msg: PlaylistsChanged): void {
  const { publishedAt, entrySets = [], window: w } = msg;
  const windowJson = w
    ? `"generatedAt":${JSON.stringify(w.generatedAt)},"validFrom":${JSON.stringify(w.validFrom)},"validUntil":${JSON.stringify(w.validUntil)}`
    : null;
  const entriesJson: string[] = [];
  for (const change of msg.changes) {
    const session = server.sessionFor(change.displayId);
    if (!session) continue;
    const { entrySet: set, loop } = change;
    if (windowJson === null || set === undefined || !entrySets[set] || !loop) {
      onNotice(server, change, publishedAt);
      continue;
    }
    if (!session.push.offer(change.version, publishedAt)) continue;
    const loopJson = JSON.stringify(loop);
    const json = `{"type":"playlist","playlist":{"displayId":${JSON.stringify(session.displayId)},"version":${change.version},${windowJson},"loop":${loopJson},"entries":${(entriesJson[set] ??= JSON.stringify(entrySets[set]))}}}`;
    session.push.sendJson(change.version, json);
  }
}

function onNotice(server: DeviceServer, msg: PlaylistChangeNotice, publishedAt: number | undefined): void {
  server.sessionFor(msg.displayId)?.push.notice(msg.version, publishedAt ?? Date.now());
}
