import type { Logger, MessageBus, Queryable, Sql } from '@marquee/service-kit';
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

export interface PlaylistRenewal {
  /** Renews every stale playlist now (also what the timer runs); resolves with the changes. */
  renewOnce(): Promise<PlaylistChange[]>;
  /** Stops the timer and waits for a run in progress, so the pool can close cleanly. */
  stop(): Promise<void>;
}

/**
 * Without an edit a playlist runs out 48 h after it was built and the screen goes blank; this
 * renews playlists a day old, publishing them like any change so device-tcp pushes them.
 */
export function startPlaylistRenewal(
  deps: { sql: Sql; bus: MessageBus; logger: Logger; publicBaseUrl: string },
  opts: { intervalMs?: number; renewAfterMs?: number } = {},
): PlaylistRenewal {
  const renewAfterMs = opts.renewAfterMs ?? RENEW_AFTER_MS;
  let running: Promise<PlaylistChange[]> | undefined;
  let stopped = false;

  const renewOnce = async () => {
    const renewed: PlaylistChange[] = [];
    for (;;) {
      const batch = await renewStalePlaylists(deps.sql, renewAfterMs);
      publishPlaylistChanges(deps, batch);
      renewed.push(...batch);
      if (batch.length < BATCH || stopped) break;
    }
    if (renewed.length) deps.logger.info({ count: renewed.length }, 'playlists renewed before their window ran out');
    return renewed;
  };

  const tick = () => {
    if (running || stopped) return;
    running = renewOnce()
      .catch((err) => {
        deps.logger.warn({ err }, 'playlist renewal failed; retrying on the next tick');
        return [];
      })
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, opts.intervalMs ?? 10 * 60_000);
  timer.unref();

  return {
    renewOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
