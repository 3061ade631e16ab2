import type { PlayRecord, PlayRejectionCode, Queryable, RejectedPlay } from '@marquee/service-kit';

/** How much longer than its slot a play may last, and how much two plays may overlap: frame and timer jitter of real players. */
export const PLAY_TIMING_TOLERANCE_MS = 1_000;

export interface Verdict {
  play_id: string;
  /** null: accepted (stored now, or already stored for this display). */
  code: PlayRejectionCode | null;
  /** The booking's slot on this display and the display's slot length, for the rejection's detail. */
  slot: number | null;
  slot_ms: string | null;
  /** Passed every rule but was not stored (a race the caller's lock prevents): left unanswered. */
  unanswered: boolean;
}

const ms = (n: number) => Math.round(n);

/**
 * Judges a batch of one display's well-formed plays and stores the accepted ones, in one
 * statement (see ingestPlays for the rules, in the order they are applied). The caller holds the
 * display's plays lock, so "stored plays" below include every earlier batch.
 */
export async function judgeAndStore(tx: Queryable, displayId: string, plays: readonly PlayRecord[], now: Date, skewMs: number): Promise<Verdict[]> {
  const skew = ms(skewMs);
  const tolerance = PLAY_TIMING_TOLERANCE_MS;
  return tx<Verdict[]>`
    with input as (
      select * from unnest(
        ${plays.map((p) => p.playId)}::uuid[],
        ${plays.map((p) => p.bookingId)}::uuid[],
        ${plays.map((p) => p.creativeId)}::uuid[],
        ${plays.map((p) => p.startedAt)}::timestamptz[],
        ${plays.map((p) => p.durationMs)}::int[]
      ) with ordinality as t(play_id, booking_id, creative_id, started_at, duration_ms, ord)
    ),
    firsts as (
      select distinct on (play_id) play_id, booking_id, creative_id, started_at, duration_ms,
        started_at + duration_ms * interval '1 ms' as ended_at
      from input order by play_id, ord
    ),
    display as (
      select id, slot_count, audience_multiplier, loop_length_ms::numeric / slot_count as slot_ms
      from displays where id = ${displayId}
    ),
    judged as (
      select i.*, bd.slot, d.slot_ms, d.audience_multiplier, round(occ.k * d.slot_ms)::bigint as occurrence_start_ms,
        case
          when stored.display_id is not null then case when stored.display_id = ${displayId}::uuid then 'stored' else 'malformed' end
          when bd.booking_id is null then 'unknown_booking'
          when b.confirmed_at is null or b.confirmed_at > i.started_at or b.cancelled_at <= i.started_at then 'not_confirmed'
          when i.started_at > ${now}::timestamptz + ${skew}::int * interval '1 ms' then 'in_future'
          when not exists (
            select 1 from booking_slots bs
            where bs.booking_id = i.booking_id and bs.display_id = ${displayId}
              and bs.during && tstzrange(i.started_at - ${skew}::int * interval '1 ms', i.started_at + ${skew}::int * interval '1 ms', '[]')
          ) then 'outside_window'
          when occ.distance > ${skew}::int then 'wrong_slot'
          -- The creative was the booking's on this display at some instant within skew of startedAt:
          -- a display's clock is trusted no closer than that, and a swap reaches it a little after
          -- it is made (a display that started the slot just before its playlist came is right).
          when not exists (
            select 1 from booking_display_creatives bdc
            where bdc.booking_id = i.booking_id and bdc.display_id = ${displayId} and bdc.creative_id = i.creative_id
              and bdc.since <= i.started_at + ${skew}::int * interval '1 ms'
              and not exists (
                select 1 from booking_display_creatives later
                where later.booking_id = bdc.booking_id and later.display_id = bdc.display_id
                  and later.since > bdc.since and later.since <= i.started_at - ${skew}::int * interval '1 ms')
          ) then 'wrong_creative'
          when i.duration_ms <= 0 or i.duration_ms > d.slot_ms + ${tolerance}::int then 'bad_duration'
          when exists (
            select 1 from emergency_displays ed join emergencies e on e.id = ed.emergency_id
            where ed.display_id = ${displayId} and e.started_at <= i.started_at and (e.cleared_at is null or i.started_at < e.cleared_at)
          ) then 'not_billable'
        end as code
      from firsts i
      cross join display d
      left join plays stored on stored.play_id = i.play_id
      left join bookings b on b.id = i.booking_id
      left join booking_displays bd on bd.booking_id = i.booking_id and bd.display_id = ${displayId}
      -- The occurrence of the booking's slot nearest to startedAt (distance 0 when inside it). Occurrences
      -- are half-open: at a boundary shared by two (a one-slot loop), the one starting there wins.
      left join lateral (
        select c.k, greatest(c.k * d.slot_ms - e.t, e.t - (c.k + 1) * d.slot_ms, 0) as distance
        from (select extract(epoch from i.started_at) * 1000 as t) e
        cross join lateral (select floor(floor(e.t / d.slot_ms) / d.slot_count) * d.slot_count + bd.slot as base) o
        cross join lateral (values (o.base - d.slot_count), (o.base), (o.base + d.slot_count)) as c(k)
        order by distance, c.k desc
        limit 1
      ) occ on true
    ),
    -- One play per booking and occurrence: a stored one wins, then the earliest of the batch.
    counted as (
      select j.*,
        case
          when exists (
            select 1 from plays p
            where p.booking_id = j.booking_id and p.display_id = ${displayId} and p.occurrence_start_ms = j.occurrence_start_ms
          ) or row_number() over (partition by j.booking_id, j.occurrence_start_ms order by j.started_at, j.play_id) > 1
          then 'duplicate_slot'
        end as counted_code
      from judged j
      where j.code is null
    ),
    -- Never two plays of a display at once: an earlier candidate of the batch, or a stored play.
    timed as (
      select c.*,
        -- (least() ignores nulls: the first play has no earlier end, so it falls back to its own start)
        least(coalesce(max(c.ended_at) over (order by c.started_at, c.play_id rows between unbounded preceding and 1 preceding), c.started_at), c.ended_at)
          - c.started_at > ${tolerance}::int * interval '1 ms' as overlaps_batch
      from counted c
      where c.counted_code is null
    ),
    accepted as (
      select t.* from timed t
      where not t.overlaps_batch and not exists (
        select 1 from plays p
        where p.display_id = ${displayId}
          and p.started_at > t.started_at - (t.slot_ms + ${tolerance}::int)::float8 * interval '1 ms'
          and p.started_at < t.ended_at
          and least(p.started_at + p.duration_ms * interval '1 ms', t.ended_at) - greatest(p.started_at, t.started_at)
              > ${tolerance}::int * interval '1 ms'
      )
    ),
    inserted as (
      insert into plays (play_id, display_id, booking_id, creative_id, started_at, duration_ms, audience_multiplier, occurrence_start_ms)
      select play_id, ${displayId}, booking_id, creative_id, started_at, duration_ms, audience_multiplier, occurrence_start_ms from accepted
      on conflict do nothing
      returning play_id
    )
    select j.play_id, j.slot, j.slot_ms::text as slot_ms,
      case
        when j.code = 'stored' then null
        when j.code is not null then j.code
        when c.counted_code is not null then c.counted_code
        when a.play_id is null then 'overlap'
      end as code,
      (j.code is null and c.counted_code is null and a.play_id is not null and ins.play_id is null) as unanswered
    from judged j
    left join counted c on c.play_id = j.play_id
    left join accepted a on a.play_id = j.play_id
    left join inserted ins on ins.play_id = j.play_id`;
}

/** Adds a batch's rejections to the display's per-code counts (rows locked in code order: no deadlock between batches). */
export async function countRejections(tx: Queryable, displayId: string, rejected: readonly RejectedPlay[]): Promise<void> {
  const byCode = new Map<string, { n: number; detail: string }>();
  for (const r of rejected) byCode.set(r.code, { n: (byCode.get(r.code)?.n ?? 0) + 1, detail: r.detail });
  const codes = [...byCode.keys()].sort();
  await tx`
    insert into play_rejections (display_id, code, rejected, first_at, last_at, last_detail)
    select d.id, t.code, t.n, now(), now(), t.detail
    from unnest(${codes}::text[], ${codes.map((c) => byCode.get(c)!.n)}::bigint[], ${codes.map((c) => byCode.get(c)!.detail)}::text[]) as t(code, n, detail)
      join displays d on d.id = ${displayId}
    on conflict (display_id, code) do update
      set rejected = play_rejections.rejected + excluded.rejected, last_at = excluded.last_at, last_detail = excluded.last_detail`;
}

export interface RejectionCountRow {
  code: PlayRejectionCode;
  rejected: string;
  first_at: Date;
  last_at: Date;
  last_detail: string;
}

export async function rejectionCounts(sql: Queryable, displayId: string): Promise<RejectionCountRow[]> {
  return sql<RejectionCountRow[]>`
    select code, rejected::text, first_at, last_at, last_detail from play_rejections where display_id = ${displayId} order by code`;
}
