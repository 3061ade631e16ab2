import type { Logger, MessageBus, Queryable, Sql } from '@marquee/service-kit';
import { startBatchJob, type BatchJob } from '../batch-job.ts';
import { publishPlaylistChanges, type PlaylistChange } from '../playlist-changes.ts';

/** A playlist unchanged this long gets a new version (and so a new 48 h window): a day of margin. */
export const RENEW_AFTER_MS = 24 * 3600 * 1000;
const BATCH = 1_000;

/**
 * Gives up to `limit` displays whose playlist version is older than `olderThanMs` a new version,
 * and returns them (publish after commit). Only the version and its time change: the display's
 * updatedAt is the operator's, not this. Rows another transaction holds are skipped (that one is
 * changing the playlist anyway); replicas running this at once take disjoint rows.
 */
export async function renewStalePlaylists(tx: Queryable, olderThanMs: number, limit = BATCH): Promise<PlaylistChange[]> {
  const rows = await tx<{ id: string; playlist_version: string }[]>`
    update displays set playlist_version = playlist_version + 1, playlist_since = now()
    where id in (
      select id from displays where playlist_since < now() - ${olderThanMs}::int8 * interval '1 ms'
      order by id limit ${limit} for no key update skip locked
    )
    returning id, playlist_version`;
  return rows.map((r) => ({ displayId: r.id, version: Number(r.playlist_version) }));
}

/**
 * Without an edit a playlist runs out 48 h after it was built and the screen goes blank; this
 * renews playlists a day old (runOnce resolves with the changes), publishing them like any change
 * so device-tcp pushes them.
 */
export function startPlaylistRenewal(
  deps: { sql: Sql; bus: MessageBus; logger: Logger; publicBaseUrl: string },
  opts: { intervalMs?: number; renewAfterMs?: number } = {},
): BatchJob<PlaylistChange> {
  return startBatchJob({
    what: 'playlists renewed before their window ran out',
    intervalMs: opts.intervalMs ?? 10 * 60_000,
    batchSize: BATCH,
    logger: deps.logger,
    batch: async () => {
      const renewed = await renewStalePlaylists(deps.sql, opts.renewAfterMs ?? RENEW_AFTER_MS);
      publishPlaylistChanges(deps, renewed);
      return renewed;
    },
  });
}
