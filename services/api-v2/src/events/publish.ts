import { randomUUID } from 'node:crypto';
import { TOPIC_LIVE_EVENT, type LiveEvent, type LiveEventAudience, type MessageBus, type Queryable } from '@marquee/service-kit';
import { approvalEventAudience, bookingEventAudiences, displayEventAudience } from '../access.ts';

export interface LiveEventDeps {
  bus: MessageBus;
  logger?: { warn: (o: object, m: string) => void };
}

export interface AddressedEvent {
  event: LiveEvent;
  audience: LiveEventAudience;
}

/**
 * Publishes events for people's consoles on the bus, after the change they report has committed,
 * without holding up the caller. Every api-v2 replica (this one too) receives them, keeps them for
 * resume and hands each to its listeners in the audience. Lost on a bus outage like any bus
 * message: consoles refetch when their stream comes back.
 */
export function publishLiveEvents(deps: LiveEventDeps, events: readonly AddressedEvent[]): void {
  for (const { event, audience } of events) {
    const message = { id: randomUUID(), at: new Date().toISOString(), audience, event };
    deps.bus.publish(TOPIC_LIVE_EVENT, message).catch((err) => deps.logger?.warn({ err, type: event.type }, 'live event not published'));
  }
}

/** A display's status as its operator's console shows it (from a `displays` row). */
export interface DisplayStatusRow {
  id: string;
  operator_id: string;
  online: boolean;
  last_seen_at: Date | null;
  applied_version: string | number | null;
  playlist_version: string | number;
}

export const displayStatusEvent = (r: DisplayStatusRow): AddressedEvent => ({
  event: {
    type: 'display.status',
    displayId: r.id,
    online: r.online,
    lastSeenAt: r.last_seen_at?.toISOString() ?? null,
    appliedVersion: r.applied_version === null ? null : Number(r.applied_version),
    playlistVersion: Number(r.playlist_version),
  },
  audience: displayEventAudience(r.operator_id),
});

/** The current status of these displays, to publish after a change to them committed. */
export async function displayStatusEvents(sql: Queryable, displayIds: readonly string[]): Promise<AddressedEvent[]> {
  if (displayIds.length === 0) return [];
  const rows = await sql<DisplayStatusRow[]>`
    select id, operator_id, online, last_seen_at, applied_version, playlist_version from displays where id = any(${[...displayIds]}::uuid[])`;
  return rows.map(displayStatusEvent);
}

export type BookingEventStatus = Extract<LiveEvent, { type: 'booking.changed' }>['status'];

/** Publishes `booking.changed` for bookings whose status or content changed (call after commit; never throws). */
export async function publishBookingChanges(deps: LiveEventDeps & { sql: Queryable }, bookings: readonly { id: string; status: BookingEventStatus }[]): Promise<void> {
  if (bookings.length === 0) return;
  try {
    const audiences = await bookingEventAudiences(deps.sql, bookings.map((b) => b.id));
    publishLiveEvents(
      deps,
      bookings.flatMap((b) => {
        const audience = audiences.get(b.id);
        return audience ? [{ event: { type: 'booking.changed', bookingId: b.id, status: b.status }, audience }] : [];
      }),
    );
  } catch (err) {
    deps.logger?.warn({ err }, 'booking live events not published');
  }
}

/** `approval.changed` for a decided approval (a creative's review for one operator's displays). */
export const approvalChangedEvent = (r: {
  id: string;
  creative_id: string;
  operator_id: string;
  owner_id: string;
  state: 'pending' | 'approved' | 'rejected';
  reason: string | null;
}): AddressedEvent => ({
  event: { type: 'approval.changed', approvalId: r.id, creativeId: r.creative_id, state: r.state, reason: r.reason },
  audience: approvalEventAudience(r.operator_id, r.owner_id),
});
