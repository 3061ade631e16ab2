import type { Queryable } from '@marquee/service-kit';
import { DAY_NAMES, type Daypart } from './schemas.ts';

/** What one display of a booking would occupy and cost. */
export interface DisplayQuote {
  displayId: string;
  slotCount: number;
  /** tstzrange literals as Postgres printed them, so they round-trip exactly. */
  ranges: string[];
  /** One range covering all of `ranges`, for a cheap index-friendly overlap pre-filter. */
  span: string;
  /** price_per_slot_hour × booked hours, rounded up, in minor units (a decimal string: bigint). */
  price: string;
}

/**
 * The time windows a booking occupies on each display, computed in SQL in the display's own
 * timezone: each day's window is exactly the instants at which the display's clock reads a time
 * in [daypart.from, daypart.to) (`local_time_ranges`, migration 085). So a daypart across a DST
 * change keeps its local times (its real length changes), the hour repeated in autumn counts on
 * both passes (which may split that night's window in two), and the hour skipped in spring never
 * counts: a boundary inside it falls on the jump, and a window wholly inside it is empty. Without
 * a daypart there is one window, [startsAt, endsAt).
 */
export async function quoteDisplays(
  sql: Queryable,
  displayIds: readonly string[],
  startsAt: string,
  endsAt: string,
  daypart: Daypart | undefined,
): Promise<DisplayQuote[]> {
  const ids = [...displayIds];
  const days = daypart?.days ? daypart.days.map((n) => DAY_NAMES.indexOf(n) + 1) : null;
  const windows = daypart
    ? sql`
        select greatest(lower(r), ${startsAt}::timestamptz) as lo, least(upper(r), ${endsAt}::timestamptz) as hi
        from generate_series(
            ((${startsAt}::timestamptz at time zone d.timezone)::date - 1)::timestamp,
            (${endsAt}::timestamptz at time zone d.timezone)::date::timestamp,
            interval '1 day') as day
          cross join lateral local_time_ranges(
            d.timezone,
            day::date + ${daypart.from}::time,
            day::date + ${daypart.to <= daypart.from ? 1 : 0}::int + ${daypart.to}::time) as r
        where (${days}::int[] is null or extract(isodow from day)::int = any(${days}::int[]))
          and lower(r) < ${endsAt}::timestamptz and upper(r) > ${startsAt}::timestamptz`
    : sql`select ${startsAt}::timestamptz as lo, ${endsAt}::timestamptz as hi`;
  const rows = await sql<{ display_id: string; slot_count: number; ranges: string[]; span: string; price: string }[]>`
    select d.id as display_id, d.slot_count,
           array_agg(tstzrange(w.lo, w.hi)::text order by w.lo) as ranges,
           tstzrange(min(w.lo), max(w.hi))::text as span,
           ceil(d.price_per_slot_hour::numeric * sum(extract(epoch from w.hi - w.lo)) / 3600)::bigint::text as price
    from displays d
    cross join lateral (${windows}) w
    where d.id = any(${ids}::uuid[]) and w.lo < w.hi
    group by d.id
    order by d.id`;
  return rows.map((r) => ({ displayId: r.display_id, slotCount: r.slot_count, ranges: r.ranges, span: r.span, price: r.price }));
}
