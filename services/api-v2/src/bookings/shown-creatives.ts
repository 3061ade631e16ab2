import type { Queryable } from '@marquee/service-kit';
import { creativeMayShow } from '../approvals/rules.ts';

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

/** Which booking×display pairs to look at: any combination of these narrows it. */
export interface ShowScope {
  bookingId?: string;
  displayIds?: readonly string[];
  operatorId?: string;
  creativeIds?: readonly string[];
  advertiserId?: string;
}

/**
 * Inside the caller's transaction: every booked, unfinished booking×display in `scope` whose
 * booking's current creative may now be shown there (approvals/rules.ts) and is not what it
 * already shows gets its history row. Returns the displays whose content changed, in id order.
 * Pairs still waiting for review keep their latest row: the last approved creative, or nothing
 * (house content).
 */
export async function showClearedCreatives(tx: Queryable, scope: ShowScope): Promise<string[]> {
  const rows = await tx<{ display_id: string }[]>`
    insert into booking_display_creatives (booking_id, display_id, creative_id, since)
    select bd.booking_id, bd.display_id, b.creative_id, now()
    from booking_displays bd
      join bookings b on b.id = bd.booking_id and b.status = 'booked' and b.ends_at > now()
      join displays d on d.id = bd.display_id
    where true
      ${scope.bookingId ? tx`and bd.booking_id = ${scope.bookingId}` : tx``}
      ${scope.displayIds ? tx`and bd.display_id = any(${scope.displayIds}::uuid[])` : tx``}
      ${scope.operatorId ? tx`and d.operator_id = ${scope.operatorId}` : tx``}
      ${scope.creativeIds ? tx`and b.creative_id = any(${scope.creativeIds}::uuid[])` : tx``}
      ${scope.advertiserId ? tx`and b.advertiser_id = ${scope.advertiserId}` : tx``}
      and ${creativeMayShow(tx)}
      and b.creative_id is distinct from (
        select bdc.creative_id from booking_display_creatives bdc
        where bdc.booking_id = bd.booking_id and bdc.display_id = bd.display_id
        order by bdc.since desc limit 1)
    on conflict (booking_id, display_id, since) do update set creative_id = excluded.creative_id
    returning display_id`;
  return [...new Set(rows.map((r) => r.display_id))].sort();
}
