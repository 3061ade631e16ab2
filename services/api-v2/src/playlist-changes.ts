import type { MessageBus, Sql } from '@marquee/service-kit';

export { TOPIC_DISPLAY_COMMAND, TOPIC_DISPLAY_REVOKED, TOPIC_PLAYLIST_CHANGED } from '@marquee/service-kit';
import { TOPIC_PLAYLIST_CHANGED } from '@marquee/service-kit';

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
export async function bumpPlaylistVersions(tx: Sql, displayIds: readonly string[]): Promise<PlaylistChange[]> {
  if (displayIds.length === 0) return [];
  const rows = await tx<{ id: string; playlist_version: string }[]>`
    update displays set playlist_version = playlist_version + 1, updated_at = now()
    where id in (select id from displays where id = any(${[...new Set(displayIds)]}::uuid[]) order by id for no key update)
    returning id, playlist_version`;
  return rows.map((r) => ({ displayId: r.id, version: Number(r.playlist_version) }));
}

/** Fire-and-forget after commit: a lost message is healed by device-tcp's heartbeat version check. */
export async function publishPlaylistChanges(bus: MessageBus, changes: readonly PlaylistChange[], logger?: { warn: (o: object, m: string) => void }) {
  const publishedAt = Date.now();
  await Promise.all(
    changes.map((change) =>
      bus.publish(TOPIC_PLAYLIST_CHANGED, { ...change, publishedAt }).catch((err) => logger?.warn({ err, ...change }, 'playlist change not published')),
    ),
  );
}
