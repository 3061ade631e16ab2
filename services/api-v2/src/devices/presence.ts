import type { Logger, Sql } from '@marquee/service-kit';

export type PresenceEvent =
  | { kind: 'connected'; displayId: string; sessionId: string; instanceId: string; at: string; remoteAddress: string; playlistVersion: number }
  | { kind: 'disconnected'; displayId: string; sessionId: string; instanceId: string; at: string; reason: string }
  | { kind: 'seen'; displayId: string; sessionId: string; at: string; playlistVersion: number };

/**
 * Applies presence reported by device-tcp. Events are applied in order; each one only touches a
 * display whose current session it names (a connect always takes over), so events from a replaced
 * session — even arriving late from another replica — change nothing.
 */
export async function applyPresence(sql: Sql, events: readonly PresenceEvent[]): Promise<void> {
  await sql.begin(async (tx) => {
    for (const e of events) {
      if (e.kind === 'connected') {
        const rows = await tx`
          update displays set online = true, session_id = ${e.sessionId}, session_instance = ${e.instanceId},
            last_seen_at = ${e.at}, applied_version = ${e.playlistVersion}
          where id = ${e.displayId} returning id`;
        if (rows.length) {
          await tx`insert into display_events (display_id, kind, at, detail)
            values (${e.displayId}, 'connected', ${e.at}, ${tx.json({ sessionId: e.sessionId, instanceId: e.instanceId, remoteAddress: e.remoteAddress })})`;
        }
      } else if (e.kind === 'disconnected') {
        const rows = await tx`
          update displays set online = false, last_seen_at = greatest(last_seen_at, ${e.at}::timestamptz)
          where id = ${e.displayId} and session_id = ${e.sessionId} returning id`;
        if (rows.length) {
          await tx`insert into display_events (display_id, kind, at, detail)
            values (${e.displayId}, 'disconnected', ${e.at}, ${tx.json({ sessionId: e.sessionId, instanceId: e.instanceId, reason: e.reason })})`;
        }
      } else {
        await tx`
          update displays set last_seen_at = greatest(last_seen_at, ${e.at}::timestamptz), applied_version = ${e.playlistVersion}
          where id = ${e.displayId} and session_id = ${e.sessionId}`;
      }
    }
  });
}

/**
 * A device-tcp replica killed with -9 sends no "disconnected". Displays not seen for `staleMs`
 * are marked offline (and the event recorded), so a screen is never shown online when it is not.
 */
export function startPresenceSweeper(sql: Sql, logger: Logger, staleMs: number, everyMs = 5_000): () => void {
  const sweep = async () => {
    try {
      const rows = await sql<{ id: string }[]>`
        with stale as (
          update displays set online = false
          where online and (last_seen_at is null or last_seen_at < now() - ${staleMs} * interval '1 millisecond')
          returning id, session_id
        )
        insert into display_events (display_id, kind, detail)
        select id, 'disconnected', jsonb_build_object('sessionId', session_id, 'reason', 'presence timeout') from stale
        returning display_id as id`;
      if (rows.length) logger.info({ count: rows.length }, 'displays marked offline after silence');
    } catch (err) {
      logger.warn({ err }, 'presence sweep failed');
    }
  };
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
