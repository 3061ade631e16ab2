-- The instants at which a clock in time zone `tz` reads a local time in [lo, hi): one day's
-- window of a booking's daypart (src/bookings/windows.ts).
-- Usually one range. On the night the clocks go back the repeated times count on both passes, so
-- the window may be two ranges (Berlin 01:00–02:30: 01:00–02:30 CEST, then 02:00–02:30 CET) or one
-- longer range (01:00–04:00: 4 real hours). On the night they go forward the skipped times never
-- come, so a boundary inside the gap falls on the jump (02:30–05:00 starts at 03:00 CEST) and a
-- window wholly inside it is empty (no rows).
-- Assumes the zone changes its UTC offset at most once within a day of the window, as every
-- zone's rules do.
create function local_time_ranges(tz text, lo timestamp, hi timestamp) returns setof tstzrange
language plpgsql stable strict parallel safe rows 1 as $$
declare
  -- Every instant whose local time is in [lo, hi) lies between these two.
  first_t timestamptz := (lo at time zone tz) - interval '1 day';
  last_t timestamptz := (hi at time zone tz) + interval '1 day';
  offset_before interval := (first_t at time zone tz) - (first_t at time zone 'UTC');
  offset_after interval := (last_t at time zone tz) - (last_t at time zone 'UTC');
  a bigint;
  b bigint;
  m bigint;
  change timestamptz;
  lo1 timestamptz;
  hi1 timestamptz;
  lo2 timestamptz;
  hi2 timestamptz;
begin
  if offset_before = offset_after then
    if lo < hi then
      return next tstzrange((lo - offset_before) at time zone 'UTC', (hi - offset_before) at time zone 'UTC');
    end if;
    return;
  end if;
  -- The change: the first whole second on the new offset (zones change on whole seconds).
  a := floor(extract(epoch from first_t));
  b := ceil(extract(epoch from last_t));
  while b - a > 1 loop
    m := (a + b) / 2;
    if (to_timestamp(m) at time zone tz) - (to_timestamp(m) at time zone 'UTC') = offset_before then a := m; else b := m; end if;
  end loop;
  change := to_timestamp(b);
  -- Before the change local time is UTC + offset_before, from it on UTC + offset_after.
  lo1 := (lo - offset_before) at time zone 'UTC';
  hi1 := least((hi - offset_before) at time zone 'UTC', change);
  lo2 := greatest((lo - offset_after) at time zone 'UTC', change);
  hi2 := (hi - offset_after) at time zone 'UTC';
  if lo1 < hi1 and lo2 < hi2 and hi1 = lo2 then
    return next tstzrange(lo1, hi2);
    return;
  end if;
  if lo1 < hi1 then return next tstzrange(lo1, hi1); end if;
  if lo2 < hi2 then return next tstzrange(lo2, hi2); end if;
end
$$;
