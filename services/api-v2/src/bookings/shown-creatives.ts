import type { Queryable } from '@marquee/service-kit';

/**
 * Records, inside the caller's transaction, that `bookingId` shows `creativeId` from now on, on
 * the given displays of the booking (all of them when `displayIds` is omitted). Displays already
 * showing that creative get no new row, so the history holds changes only.
 */
export async function recordShownCreative(tx: Queryable, bookingId: string, creativeId: string, displayIds?: readonly string[]): Promise<void> {
  await tx`
    insert into booking_display_creatives (booking_id, display_id, creative_id, since)
    select bd.booking_id, bd.display_id, ${creativeId}, now()
    from booking_displays bd
    where bd.booking_id = ${bookingId}
      ${displayIds ? tx`and bd.display_id = any(${displayIds}::uuid[])` : tx``}
      and ${creativeId}::uuid is distinct from (
        select bdc.creative_id from booking_display_creatives bdc
        where bdc.booking_id = bd.booking_id and bdc.display_id = bd.display_id
        order by bdc.since desc limit 1)
    on conflict (booking_id, display_id, since) do update set creative_id = excluded.creative_id`;
}
