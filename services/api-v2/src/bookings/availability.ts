import { NotFoundError, ValidationError, type AccessClaims, type Sql } from '@marquee/service-kit';
import type { z } from '@hono/zod-openapi';
import { blockingBookingIdVisible, displayAvailabilityVisible } from '../access.ts';
import type { AvailabilitySchema } from './schemas.ts';

export const MAX_AVAILABILITY_WINDOW_MS = 93 * 86_400_000;
const MAX_BLOCKS = 1000;

/**
 * Free capacity of one display over [from, to) and what blocks the rest. Holds past their expiry
 * are ignored even before the sweeper has released them.
 */
export async function displayAvailability(sql: Sql, user: AccessClaims, displayId: string, from: string, to: string): Promise<z.infer<typeof AvailabilitySchema>> {
  const span = Date.parse(to) - Date.parse(from);
  if (!(span > 0)) throw new ValidationError('to must be after from.', { errors: [{ field: 'to', message: 'must be after from' }] });
  if (span > MAX_AVAILABILITY_WINDOW_MS) {
    throw new ValidationError('The window may span at most 93 days.', { errors: [{ field: 'to', message: 'at most 93 days after from' }] });
  }
  const [display] = await sql<{ id: string; slot_count: number }[]>`
    select d.id, d.slot_count from displays d where d.id = ${displayId} and ${displayAvailabilityVisible(sql, user)}`;
  if (!display) throw new NotFoundError('No such display.');

  const blocking = sql`
    bs.display_id = ${displayId} and bs.active and bs.during && tstzrange(${from}::timestamptz, ${to}::timestamptz)
    and not (b.status = 'held' and b.hold_expires_at <= now())`;
  const rows = await sql<{ slot: number; lo: Date; hi: Date; status: 'held' | 'booked'; booking_id: string; shows_id: boolean }[]>`
    select bs.slot, lower(bs.during) as lo, upper(bs.during) as hi, b.status, b.id as booking_id, ${blockingBookingIdVisible(sql, user)} as shows_id
    from booking_slots bs join bookings b on b.id = bs.booking_id join displays d on d.id = bs.display_id
    where ${blocking}
    order by lower(bs.during), bs.slot
    limit ${MAX_BLOCKS + 1}`;
  const [free] = await sql<{ n: number }[]>`
    select count(*)::int as n from generate_series(0, ${display.slot_count - 1}::int) s
    where not exists (select 1 from booking_slots bs join bookings b on b.id = bs.booking_id where ${blocking} and bs.slot = s)`;
  return {
    displayId: display.id,
    slotCount: display.slot_count,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    freeSlots: free!.n,
    blocks: rows.slice(0, MAX_BLOCKS).map((r) => ({
      slot: r.slot,
      from: r.lo.toISOString(),
      to: r.hi.toISOString(),
      status: r.status,
      ...(r.shows_id ? { bookingId: r.booking_id } : {}),
    })),
    truncated: rows.length > MAX_BLOCKS,
  };
}
