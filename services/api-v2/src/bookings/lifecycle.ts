import { ConflictError, NotFoundError, type AccessClaims, type Logger, type MessageBus, type Queryable, type Sql } from '@marquee/service-kit';
import { bookingChangeable } from '../access.ts';
import { bumpPlaylistVersions, publishPlaylistEdit, type EditOf, type PlaylistChange } from '../playlist-changes.ts';
import { mediaUrlOf } from '../playlists/build.ts';
import type { Booking, BookingWithWarnings } from './schemas.ts';
import { lockReviewsOf, operatorsOf, requestApprovals } from '../approvals/sql.ts';
import { showClearedCreatives } from './shown-creatives.ts';
import { creativeLengthWarnings } from './warnings.ts';
import { publishBookingChanges } from '../events/publish.ts';
import { displayIdsOf, releaseBooking, withDeadlockRetry, representBookings, type BookingRow } from './sql.ts';

interface LockedBooking extends BookingRow {
  hold_lapsed: boolean;
  ended: boolean;
}

export interface LifecycleDeps {
  sql: Sql;
  bus: MessageBus;
  logger: Logger;
  publicBaseUrl: string;
}

/**
 * Runs one change to a booking the caller may change with its row
 * locked. Playlist versions are bumped inside the transaction; the bus hears of them only after
 * commit, so a display never fetches a playlist that is not there yet. A refusal decided inside
 * (e.g. the hold lapsed) is thrown after commit so its side effect (the expiry) sticks.
 */
async function changeBooking(
  deps: LifecycleDeps,
  user: AccessClaims,
  id: string,
  change: (tx: Queryable, b: LockedBooking) => Promise<{ changes?: PlaylistChange[]; editOf?: EditOf; refusal?: Error }>,
): Promise<Booking> {
  const { booking, changed, changes, editOf, refusal } = await withDeadlockRetry(() => deps.sql.begin(async (sql) => {
    const [b] = await sql<LockedBooking[]>`
      select b.*, b.hold_expires_at <= now() as hold_lapsed, b.ends_at <= now() as ended
      from bookings b
      where b.id = ${id} and ${bookingChangeable(sql, user)}
      for update`;
    if (!b) throw new NotFoundError('No such booking.');
    const outcome = await change(sql, b);
    const [row] = await sql<BookingRow[]>`select * from bookings where id = ${id}`;
    const [represented] = await representBookings(sql, [row!], user);
    const changed = row!.status !== b.status || row!.creative_id !== b.creative_id;
    return { booking: represented!, changed, changes: outcome.changes ?? [], editOf: outcome.editOf ?? (() => null), refusal: outcome.refusal };
  }));
  if (changed) await publishBookingChanges(deps, [{ id: booking.id, status: booking.status }]);
  if (refusal) throw refusal;
  publishPlaylistEdit(deps, changes, editOf);
  return booking;
}

/**
 * Bumps the playlist versions of a booking's displays after locking their rows in id order:
 * booking transactions take FOR SHARE on the same rows (trigger booking_slots_within_loop) in id
 * order too, so the two can wait on each other but never in a cycle.
 */
async function bumpDisplaysOf(sql: Queryable, bookingId: string): Promise<PlaylistChange[]> {
  const ids = await displayIdsOf(sql, bookingId);
  await sql`select id from displays where id = any(${ids}::uuid[]) order by id for no key update`;
  return bumpPlaylistVersions(sql, ids);
}

/**
 * The booking's creative goes on screen on each display that may show it (auto policy, trusted
 * advertiser, already approved); for the others it waits in the operator's review queue and the
 * display keeps the booking's last approved creative, or its house content. The caller holds the
 * review locks of the booking's operators (lockReviewsOf).
 */
async function showOrQueue(tx: Queryable, bookingId: string): Promise<string[]> {
  const shown = await showClearedCreatives(tx, { bookingId });
  await requestApprovals(tx, bookingId);
  return shown;
}

/**
 * A swap's playlist changes as deltas: where the booking already showed something (so its entries
 * are in the playlist) and now shows the new creative, those entries take its content; where the
 * new creative waits for review nothing changes but the version. Displays where the booking
 * showed nothing yet (house content in its slots) and HTML creatives (scripts depend on the
 * display) are left to the full build.
 */
async function swapEdits(tx: Queryable, bookingId: string, creativeId: string, hadContent: readonly string[], shown: readonly string[], publicBaseUrl: string): Promise<EditOf> {
  const shownSet = new Set(shown);
  const hadSet = new Set(hadContent);
  const none = { kind: 'none' } as const;
  const [c] = await tx<{ id: string; type: 'image' | 'video' | 'html' | 'text'; media_sha256: string; duration_ms: number }[]>`
    select id, type, media_sha256, duration_ms from creatives where id = ${creativeId}`;
  const sha = c?.media_sha256.trim() ?? '';
  const swapped =
    c && c.type !== 'html'
      ? { kind: 'booking-content' as const, bookingId, content: { creativeId: c.id, type: c.type, mediaSha256: sha, mediaUrl: mediaUrlOf(publicBaseUrl, sha), durationMs: c.duration_ms } }
      : null;
  return (displayId) => (!shownSet.has(displayId) ? none : hadSet.has(displayId) ? swapped : null);
}

/** Lapsed holds are expired on the spot (their inventory freed) and refused. */
async function expireIfLapsed(tx: Queryable, b: LockedBooking): Promise<Error | undefined> {
  if (b.status !== 'held' || !b.hold_lapsed) return undefined;
  await releaseBooking(tx, b.id, 'expired');
  return new ConflictError('The hold has expired; its inventory was released. Book again.', { code: 'hold-expired' });
}

export function confirmBooking(deps: LifecycleDeps, user: AccessClaims, id: string) {
  return changeBooking(deps, user, id, async (tx, b) => {
    if (b.status === 'booked') return {}; // confirming twice is harmless
    const lapsed = await expireIfLapsed(tx, b);
    if (lapsed) return { refusal: lapsed };
    if (b.status !== 'held') throw new ConflictError(`A ${b.status} booking cannot be confirmed.`, { code: `booking-${b.status}` });
    if (b.ended) throw new ConflictError('The booked time is already over.', { code: 'booking-ended' });
    await lockReviewsOf(tx, await operatorsOf(tx, b.id));
    await tx`
      update bookings set status = 'booked', hold_expires_at = null, confirmed_at = now(), updated_at = now() where id = ${b.id}`;
    const changes = await bumpDisplaysOf(tx, b.id);
    await showOrQueue(tx, b.id);
    return { changes };
  });
}

export function cancelBooking(deps: LifecycleDeps, user: AccessClaims, id: string) {
  return changeBooking(deps, user, id, async (tx, b) => {
    if (b.status === 'cancelled') return {}; // cancelling twice is harmless
    const lapsed = await expireIfLapsed(tx, b);
    if (lapsed) return { refusal: lapsed };
    if (b.status === 'expired') throw new ConflictError('The hold has expired; there is nothing to cancel.', { code: 'booking-expired' });
    if (b.ended) throw new ConflictError('The booked time is already over.', { code: 'booking-ended' });
    await releaseBooking(tx, b.id, 'cancelled');
    // A hold never played; a booked booking leaves the playlists of its displays.
    return { changes: b.status === 'booked' ? await bumpDisplaysOf(tx, b.id) : [] };
  });
}

/** Swaps the creative of a held or booked booking that has not ended; warns of a creative longer than a slot. */
export async function swapCreative(deps: LifecycleDeps, user: AccessClaims, id: string, creativeId: string): Promise<BookingWithWarnings> {
  const booking = await changeBooking(deps, user, id, async (sql, b) => {
    const lapsed = await expireIfLapsed(sql, b);
    if (lapsed) return { refusal: lapsed };
    if (b.status !== 'held' && b.status !== 'booked') {
      throw new ConflictError(`The creative of a ${b.status} booking cannot be changed.`, { code: `booking-${b.status}` });
    }
    if (b.ended) throw new ConflictError('The booked time is already over.', { code: 'booking-ended' });
    // The creative must belong to the booking's advertiser (the caller, unless an admin acts).
    // FOR SHARE: a concurrent duration edit either commits first (the delta below carries its
    // duration) or waits and then bumps these displays itself; taken before the display rows, in
    // the order that edit takes them (creative, then displays).
    const [creative] = await sql`select 1 from creatives where id = ${creativeId} and owner_id = ${b.advertiser_id} for share`;
    if (!creative) throw new NotFoundError('No such creative.');
    if (b.creative_id === creativeId.toLowerCase()) return {};
    await sql`update bookings set creative_id = ${creativeId}, updated_at = now() where id = ${b.id}`;
    if (b.status !== 'booked') return {};
    await lockReviewsOf(sql, await operatorsOf(sql, b.id));
    const hadContent = await sql<{ display_id: string }[]>`
      select distinct display_id from booking_display_creatives where booking_id = ${b.id}`;
    const changes = await bumpDisplaysOf(sql, b.id);
    const shown = await showOrQueue(sql, b.id);
    return { changes, editOf: await swapEdits(sql, b.id, creativeId, hadContent.map((r) => r.display_id), shown, deps.publicBaseUrl) };
  });
  const warnings = await creativeLengthWarnings(deps.sql, booking.creativeId, booking.displays.map((d) => d.displayId));
  return { ...booking, warnings };
}
