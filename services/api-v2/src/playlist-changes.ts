import type { MessageBus, Playlist, PlaylistChangeNotice, PlaylistEdit, PlaylistEntry, PlaylistsChanged, Queryable, Sql } from '@marquee/service-kit';
import { buildPlaylists } from './playlists/build.ts';

export { TOPIC_DISPLAY_COMMAND, TOPIC_DISPLAY_REVOKED, TOPIC_PLAYLIST_CHANGED, TOPIC_PLAYLIST_DELTA } from '@marquee/service-kit';
import { TOPIC_PLAYLIST_CHANGED, TOPIC_PLAYLIST_DELTA } from '@marquee/service-kit';

export interface PlaylistChange {
  displayId: string;
  version: number;
}

/**
 * Bumps the playlist version of each display, inside the caller's transaction, and returns the
 * new versions. Publish them with `publishPlaylistChanges` only after that transaction commits.
 * Rows are locked in id order, the order every multi-display writer uses (presence, sweepers), so
 * two such transactions can wait for each other but never deadlock. NO KEY UPDATE, like the UPDATE
 * itself, so it does not conflict with the KEY SHARE a new booking slot takes (migration 010).
 */
export async function bumpPlaylistVersions(tx: Queryable, displayIds: readonly string[]): Promise<PlaylistChange[]> {
  if (displayIds.length === 0) return [];
  const rows = await tx<{ id: string; playlist_version: string }[]>`
    update displays set playlist_version = playlist_version + 1, playlist_since = now(), updated_at = now()
    where id in (select id from displays where id = any(${[...new Set(displayIds)]}::uuid[]) order by id for no key update)
    returning id, playlist_version`;
  return rows.map((r) => ({ displayId: r.id, version: Number(r.playlist_version) }));
}

/**
 * Displays per set-based build and per published message. Small enough that device-tcp pushes
 * the first thousand while the next is being built (bench T2, one side-by-side pair of runs: p50 ~25 % lower than
 * building 5 000 at once, same p99), large enough that a build's fixed cost is noise.
 */
const DISPLAYS_PER_MESSAGE = 1_000;

export interface PlaylistPublishDeps {
  sql: Sql;
  bus: MessageBus;
  publicBaseUrl: string;
  logger?: { warn: (o: object, m: string) => void };
}

/**
 * After commit, and without holding up the caller's answer: builds the changed displays'
 * playlists set-based and publishes them, so device-tcp pushes each without a round trip back
 * here. Entry lists shared by many displays (one booking on thousands of screens) travel once per
 * message. If the build fails the versions still go out as bare notices (device-tcp then fetches);
 * if publishing fails too, device-tcp's periodic version re-check heals it.
 */
export function publishPlaylistChanges(deps: PlaylistPublishDeps, changes: readonly PlaylistChange[]): void {
  if (changes.length === 0) return;
  const publishedAt = Date.now();
  void (async () => {
    for (let i = 0; i < changes.length; i += DISPLAYS_PER_MESSAGE) {
      const chunk = changes.slice(i, i + DISPLAYS_PER_MESSAGE);
      let messages: PlaylistsChanged[];
      try {
        messages = contentMessages(publishedAt, chunk, await buildPlaylists(deps.sql, chunk.map((c) => c.displayId), deps.publicBaseUrl));
      } catch (err) {
        deps.logger?.warn({ err, displays: chunk.length }, 'playlists not built for publishing; sending bare version notices');
        messages = [bareNotices(publishedAt, chunk)];
      }
      for (const message of messages) {
        await deps.bus.publish(TOPIC_PLAYLIST_CHANGED, message).catch((err) => deps.logger?.warn({ err, displays: message.changes.length }, 'playlist changes not published'));
      }
    }
  })();
}

/**
 * What an edit did to one display's playlist, as a delta from the version before (null: not
 * expressible, the playlist is built in full).
 */
export type EditOf = (displayId: string) => PlaylistEdit | null;

/**
 * After commit, without holding up the caller's answer: one bus message per distinct edit naming
 * its displays and their new versions (device-tcp applies the edit to the playlists it holds, so
 * the edit costs nothing here per display's playlist), and the rest of `changes` built in full
 * (publishPlaylistChanges). A lost message is healed like any other: device-tcp's version re-check.
 */
export function publishPlaylistEdit(deps: PlaylistPublishDeps, changes: readonly PlaylistChange[], editOf: EditOf): void {
  const publishedAt = Date.now();
  const byEdit = new Map<PlaylistEdit, PlaylistChange[]>();
  const full: PlaylistChange[] = [];
  for (const change of changes) {
    const edit = editOf(change.displayId);
    if (!edit) full.push(change);
    else {
      const same = byEdit.get(edit);
      if (same) same.push(change);
      else byEdit.set(edit, [change]);
    }
  }
  for (const [edit, part] of byEdit) {
    const message = { publishedAt, displayIds: part.map((c) => c.displayId), versions: part.map((c) => c.version), edit };
    deps.bus.publish(TOPIC_PLAYLIST_DELTA, message).catch((err) => deps.logger?.warn({ err, displays: part.length }, 'playlist delta not published'));
  }
  publishPlaylistChanges(deps, full);
}

/** Above this a message is split: one bus message should not hold a consumer up for long. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

function bareNotices(publishedAt: number, changes: readonly PlaylistChange[]): PlaylistsChanged {
  return { publishedAt, changes: changes.map((c) => ({ displayId: c.displayId, version: c.version })) };
}

/**
 * The built playlists as messages of at most ~MAX_MESSAGE_BYTES: halves until they fit (displays
 * with long, all-different playlists). A single playlist larger than that goes as a bare notice;
 * device-tcp fetches it and applies the protocol's frame limit.
 */
export function contentMessages(publishedAt: number, changes: readonly PlaylistChange[], playlists: Map<string, Playlist>): PlaylistsChanged[] {
  const { message, entryBytes } = withContent(publishedAt, changes, playlists);
  if (entryBytes + 200 * message.changes.length <= MAX_MESSAGE_BYTES) return [message];
  if (changes.length === 1) return [bareNotices(publishedAt, changes)];
  const half = Math.ceil(changes.length / 2);
  return [...contentMessages(publishedAt, changes.slice(0, half), playlists), ...contentMessages(publishedAt, changes.slice(half), playlists)];
}

/** One message for built playlists; each distinct entry list is carried once. */
function withContent(publishedAt: number, changes: readonly PlaylistChange[], playlists: Map<string, Playlist>): { message: PlaylistsChanged; entryBytes: number } {
  const entrySets: PlaylistEntry[][] = [];
  const entrySetIndex = new Map<string, number>();
  let window: PlaylistsChanged['window'];
  let entryBytes = 0;
  const notices: PlaylistChangeNotice[] = [];
  for (const change of changes) {
    const playlist = playlists.get(change.displayId);
    // Deleted meanwhile: nothing to push. A newer version than the change is fine (same snapshot).
    if (!playlist) continue;
    window ??= { generatedAt: playlist.generatedAt, validFrom: playlist.validFrom, validUntil: playlist.validUntil };
    const key = JSON.stringify(playlist.entries);
    let entrySet = entrySetIndex.get(key);
    if (entrySet === undefined) {
      entrySet = entrySets.push(playlist.entries) - 1;
      entryBytes += key.length;
      entrySetIndex.set(key, entrySet);
    }
    notices.push({ displayId: playlist.displayId, version: playlist.version, loop: playlist.loop, entrySet });
  }
  return { message: window ? { publishedAt, changes: notices, window, entrySets } : { publishedAt, changes: notices }, entryBytes };
}
