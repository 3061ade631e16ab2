import type { AccessClaims, Queryable } from '@marquee/service-kit';
import { bookingDisplayVisible, bookingVisible } from '../access.ts';
import { creativeMayShow } from '../approvals/rules.ts';
import { keyset, type Page, type Positioned } from '../pagination.ts';
import type { Booking, BookingListFilters, Daypart } from './schemas.ts';

export interface BookingRow {
  id: string;
  advertiser_id: string;
  creative_id: string;
  starts_at: Date;
  ends_at: Date;
  status: Booking['status'];
  hold_expires_at: Date | null;
  price_total: string;
  currency: string;
  daypart: Daypart | null;
  created_at: Date;
  updated_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
}

interface BookingDisplayRow {
  booking_id: string;
  display_id: string;
  slot: number;
  price: string;
  window_count: number;
  shown_creative_id: string | null;
  may_show: boolean;
  approval_state: 'pending' | 'approved' | 'rejected' | null;
  approval_reason: string | null;
  /** How many parts the booking has in all, visible or not. */
  parts: number;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Whether the booking's current creative may play on this display, as the advertiser sees it. */
function approvalOf(p: BookingDisplayRow): Booking['displays'][number]['approval'] {
  if (p.may_show) return { state: 'approved', reason: null };
  if (p.approval_state === 'rejected') return { state: 'rejected', reason: p.approval_reason };
  return { state: 'pending', reason: null };
}

/** Bookings as the API shows them, with the parts (displays) the caller may see. */
export async function representBookings(sql: Queryable, rows: BookingRow[], user: AccessClaims): Promise<Booking[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const parts = await sql<BookingDisplayRow[]>`
    select bd.booking_id, bd.display_id, bd.slot, bd.price, bd.window_count, ${creativeMayShow(sql)} as may_show,
      ca.state as approval_state, ca.reason as approval_reason,
      (select bdc.creative_id from booking_display_creatives bdc
       where bdc.booking_id = bd.booking_id and bdc.display_id = bd.display_id order by bdc.since desc limit 1) as shown_creative_id,
      (select count(*)::int from booking_displays x where x.booking_id = bd.booking_id) as parts
    from booking_displays bd join displays d on d.id = bd.display_id join bookings b on b.id = bd.booking_id
      left join creative_approvals ca on ca.operator_id = d.operator_id and ca.creative_id = b.creative_id
    where bd.booking_id = any(${ids}::uuid[]) and ${bookingDisplayVisible(sql, user)}
    order by bd.booking_id, bd.display_id`;
  const byBooking = new Map<string, BookingDisplayRow[]>();
  for (const p of parts) byBooking.set(p.booking_id, [...(byBooking.get(p.booking_id) ?? []), p]);
  // A caller who sees only some parts (an operator of some of the displays) sees only their price.
  const priceOf = (r: BookingRow) => {
    const seen = byBooking.get(r.id) ?? [];
    return seen.length > 0 && seen.length < seen[0]!.parts ? seen.reduce((n, p) => n + Number(p.price), 0) : Number(r.price_total);
  };
  return rows.map((r) => ({
    id: r.id,
    advertiserId: r.advertiser_id,
    creativeId: r.creative_id,
    status: r.status,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    daypart: r.daypart,
    holdExpiresAt: r.status === 'held' ? iso(r.hold_expires_at) : null,
    priceTotal: priceOf(r),
    currency: r.currency.trim(),
    displays: (byBooking.get(r.id) ?? []).map((p) => ({
      displayId: p.display_id,
      slot: p.slot,
      price: Number(p.price),
      windowCount: p.window_count,
      approval: approvalOf(p),
      shownCreativeId: p.shown_creative_id,
    })),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    confirmedAt: iso(r.confirmed_at),
    cancelledAt: iso(r.cancelled_at),
  }));
}

export async function findVisibleBooking(sql: Queryable, id: string, user: AccessClaims): Promise<BookingRow | undefined> {
  const [row] = await sql<BookingRow[]>`select b.* from bookings b where b.id = ${id} and ${bookingVisible(sql, user)}`;
  return row;
}

/** One page of the bookings the caller may see, newest first, by status and/or display if asked. */
export async function listBookings(sql: Queryable, user: AccessClaims, q: BookingListFilters): Promise<Page<Booking>> {
  const page = keyset(sql, 'b', q, 'newest first');
  const rows = await sql<(BookingRow & Positioned)[]>`
    select b.*, ${page.position}
    from bookings b
    where ${bookingVisible(sql, user)} and ${page.after}
      ${q.status ? sql`and b.status = ${q.status}` : sql``}
      ${q.displayId ? sql`and exists (select 1 from booking_displays bd join displays d on d.id = bd.display_id
                                       where bd.booking_id = b.id and bd.display_id = ${q.displayId}
                                         and ${bookingDisplayVisible(sql, user)})` : sql``}
    order by ${page.orderBy}
    limit ${page.limit}`;
  const { items, nextCursor } = page.page(rows);
  return { items: await representBookings(sql, items, user), nextCursor };
}

/**
 * Releases holds past their expiry: status 'expired', their slots inactive. Limited to holds on
 * `displayIds` when given (the start of a booking transaction) or to `limit` rows (the timer).
 * SKIP LOCKED: a hold another transaction is handling right now is left to it.
 */
export async function sweepExpiredHolds(sql: Queryable, opts: { displayIds?: readonly string[]; limit?: number } = {}): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    with due as (
      select b.id from bookings b
      where b.status = 'held' and b.hold_expires_at <= now()
        ${
          opts.displayIds
            ? sql`and exists (select 1 from booking_slots s
                              where s.booking_id = b.id and s.active and s.display_id = any(${[...opts.displayIds]}::uuid[]))`
            : sql``
        }
      order by b.id
      limit ${opts.limit ?? 10_000}
      for update of b skip locked
    ), expired as (
      update bookings set status = 'expired', updated_at = now()
      from due where bookings.id = due.id
      returning bookings.id
    ), released as (
      update booking_slots set active = false
      where booking_id in (select id from expired) and active
      returning 1
    )
    select id from expired`;
  return rows.map((r) => r.id);
}

/** Marks one locked booking row ended (cancelled/expired) and frees its inventory. */
export async function releaseBooking(sql: Queryable, id: string, status: 'cancelled' | 'expired'): Promise<void> {
  await sql`
    update bookings set status = ${status}, updated_at = now(),
      cancelled_at = case when ${status} = 'cancelled' then now() else cancelled_at end
    where id = ${id}`;
  await sql`update booking_slots set active = false where booking_id = ${id} and active`;
}

export async function displayIdsOf(sql: Queryable, bookingId: string): Promise<string[]> {
  const rows = await sql<{ display_id: string }[]>`select display_id from booking_displays where booking_id = ${bookingId} order by display_id`;
  return rows.map((r) => r.display_id);
}

/** Reruns a transaction that Postgres aborted to break a deadlock or a serialization failure. */
export async function withDeadlockRetry<T>(run: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === '40P01' || code === '40001') && attempt < attempts) continue;
      throw err;
    }
  }
}
