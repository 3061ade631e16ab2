import type { components } from '../api/schema.ts';
import { formatDateTime } from '../lib/format.ts';
import { StatusBadge } from './ui.tsx';

type Booking = components['schemas']['Booking'];

/** A booking's status and when it runs, as table cells. */
export function BookingStateCells({ booking }: { booking: Pick<Booking, 'status' | 'startsAt' | 'endsAt'> }) {
  return (
    <>
      <td>
        <StatusBadge status={booking.status} />
      </td>
      <td>
        {formatDateTime(booking.startsAt)} → {formatDateTime(booking.endsAt)}
      </td>
    </>
  );
}
