import type { Logger, MessageBus, PresenceEvent, Sql } from '@marquee/service-kit';
import { displayStatusEvent, publishLiveEvents, type DisplayStatusRow, type LiveEventDeps } from '../events/publish.ts';

export type { PresenceEvent };

/**
 * Applies presence reported by device-tcp. Each event only touches a display whose current session
 * it names (a connect always takes over), so events from a replaced session — even arriving late
 * from another replica — change nothing.
 *
 * Locking: the displays a batch touches are locked in id order before anything is written (the
 * order version bumps and the sweeper use too), so concurrent batches, bumps and sweeps never
 * deadlock. "seen" — nearly all events — is applied set-based; connects and disconnects, whose
 * order per display matters, are pipelined one statement each on the locked rows.
 */
export async function applyPresence(sql: Sql, events: readonly PresenceEvent[]): Promise<DisplayStatusRow[]> {
  if (events.length === 0) return [];
  const transitions = events.filter((e): e is Exclude<PresenceEvent, { kind: 'seen' }> => e.kind !== 'seen');
  const latestSeen = new Map<string, Extract<PresenceEvent, { kind: 'seen' }>>();
  for (const e of events) {
    if (e.kind !== 'seen') continue;
    const prev = latestSeen.get(e.displayId + e.sessionId);
    if (!prev || prev.at <= e.at) latestSeen.set(e.displayId + e.sessionId, e);
  }
  const ids = [...new Set(events.map((e) => e.displayId))].sort();
  return sql.begin(async (tx) => {
    const before = await tx<{ id: string; online: boolean; applied_version: string | null }[]>`
      select id, online, applied_version from displays where id = any(${ids}::uuid[]) order by id for no key update`;
    // Transitions first, in the order they happened; pipelined on one connection.
    await Promise.all(
      transitions.map((e) =>
        e.kind === 'connected'
          ? tx`
              with taken as (
                update displays set online = true, session_id = ${e.sessionId}, session_instance = ${e.instanceId},
                  last_seen_at = ${e.at}, applied_version = ${e.playlistVersion}
                where id = ${e.displayId} returning id
              )
              insert into display_events (display_id, kind, at, detail)
              select id, 'connected', ${e.at}, ${tx.json({ sessionId: e.sessionId, instanceId: e.instanceId, remoteAddress: e.remoteAddress })} from taken`
          : tx`
              with left_ as (
                update displays set online = false, last_seen_at = greatest(last_seen_at, ${e.at}::timestamptz)
                where id = ${e.displayId} and session_id = ${e.sessionId} returning id
              )
              insert into display_events (display_id, kind, at, detail)
              select id, 'disconnected', ${e.at}, ${tx.json({ sessionId: e.sessionId, instanceId: e.instanceId, reason: e.reason })} from left_`,
      ),
    );
    const seen = [...latestSeen.values()];
    if (seen.length) {
      await tx`
        update displays d
        set last_seen_at = greatest(d.last_seen_at, s.at), applied_version = s.version
        from unnest(${seen.map((e) => e.displayId)}::uuid[], ${seen.map((e) => e.sessionId)}::text[],
                    ${seen.map((e) => e.at)}::timestamptz[], ${seen.map((e) => e.playlistVersion)}::bigint[])
             as s(id, session_id, at, version)
        where d.id = s.id and d.session_id = s.session_id`;
    }
    // What a console shows changed: online, or the version on screen (not every "seen").
    const after = await tx<DisplayStatusRow[]>`
      select id, operator_id, online, last_seen_at, applied_version, playlist_version from displays where id = any(${ids}::uuid[])`;
    const was = new Map(before.map((r) => [r.id, r]));
    return after.filter((r) => r.online !== was.get(r.id)?.online || String(r.applied_version) !== String(was.get(r.id)?.applied_version));
  });
}

/** Applies presence, then tells the displays' operators what changed (GET /events). */
export async function reportPresence(deps: LiveEventDeps & { sql: Sql }, events: readonly PresenceEvent[]): Promise<void> {
  publishLiveEvents(deps, (await applyPresence(deps.sql, events)).map(displayStatusEvent));
}

/**
 * A device-tcp replica killed with -9 sends no "disconnected". Displays not seen for `staleMs`
 * are marked offline (and the event recorded), so a screen is never shown online when it is not.
 * SKIP LOCKED: a display busy in another transaction is simply swept next time.
 */
export function startPresenceSweeper(sql: Sql, logger: Logger, staleMs: number, everyMs = 5_000, bus?: MessageBus): () => void {
  const sweep = async () => {
    try {
      const rows = await sql<DisplayStatusRow[]>`
        with candidates as (
          select id from displays
          where online and (last_seen_at is null or last_seen_at < now() - ${staleMs} * interval '1 millisecond')
          order by id for no key update skip locked
        ),
        stale as (
          update displays d set online = false from candidates c where d.id = c.id
          returning d.id, d.session_id, d.operator_id, d.online, d.last_seen_at, d.applied_version, d.playlist_version
        ),
        recorded as (
          insert into display_events (display_id, kind, detail)
          select id, 'disconnected', jsonb_build_object('sessionId', session_id, 'reason', 'presence timeout') from stale
        )
        select id, operator_id, online, last_seen_at, applied_version, playlist_version from stale`;
      if (rows.length) logger.info({ count: rows.length }, 'displays marked offline after silence');
      if (bus) publishLiveEvents({ bus, logger }, rows.map(displayStatusEvent));
    } catch (err) {
      logger.warn({ err }, 'presence sweep failed');
    }
  };
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
