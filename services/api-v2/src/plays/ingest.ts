import type { PlayRecord, PlaysIngestAnswer, Sql } from '@marquee/service-kit';

/**
 * Stores a batch of plays from one display in one statement, once each: the device's play id is
 * the primary key, so a re-delivered play is a no-op but still reported accepted (the display may
 * then delete it). A play is refused if its booking never occupied this display. The caller
 * acknowledges only after this resolves, i.e. after commit.
 */
export async function ingestPlays(sql: Sql, displayId: string, plays: readonly PlayRecord[]): Promise<PlaysIngestAnswer> {
  if (plays.length === 0) return { acceptedPlayIds: [], rejected: [] };
  const valid = await sql<{ play_id: string }[]>`
    with input as (
      select * from unnest(
        ${plays.map((p) => p.playId)}::uuid[],
        ${plays.map((p) => p.bookingId)}::uuid[],
        ${plays.map((p) => p.creativeId)}::uuid[],
        ${plays.map((p) => p.startedAt)}::timestamptz[],
        ${plays.map((p) => p.durationMs)}::int[]
      ) as t(play_id, booking_id, creative_id, started_at, duration_ms)
    ),
    valid as (
      select distinct on (i.play_id) i.* from input i
      where exists (select 1 from booking_slots bs where bs.booking_id = i.booking_id and bs.display_id = ${displayId})
    ),
    inserted as (
      insert into plays (play_id, display_id, booking_id, creative_id, started_at, duration_ms)
      select play_id, ${displayId}, booking_id, creative_id, started_at, duration_ms from valid
      on conflict (play_id) do nothing
      returning play_id
    )
    select play_id from valid`;
  const accepted = new Set(valid.map((r) => r.play_id));
  return {
    acceptedPlayIds: [...accepted],
    rejected: plays.filter((p) => !accepted.has(p.playId)).map((p) => ({ playId: p.playId, reason: 'no booking of this display has that id' })),
  };
}
