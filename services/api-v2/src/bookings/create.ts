import { createHash } from 'node:crypto';
import { ConflictError, invalidFields, NotFoundError, ValidationError, type AccessClaims, type Queryable, type Sql, type TransactionSql } from '@marquee/service-kit';
import { DEFAULT_BOOKING_START_GRACE_SECONDS } from '../config.ts';
import { blockingBookingIdVisible, creativeVisible } from '../access.ts';
import type { BookingWithWarnings, CreateBooking } from './schemas.ts';
import { representBookings, sweepExpiredHolds, withDeadlockRetry, type BookingRow } from './sql.ts';
import { creativeLengthWarnings } from './warnings.ts';
import { quoteDisplays, type DisplayQuote } from './windows.ts';
import { publishBookingChanges, type LiveEventDeps } from '../events/publish.ts';

export const MAX_BOOKING_MS = 366 * 86_400_000;
export const MAX_LEAD_MS = 2 * 366 * 86_400_000;
const MAX_BLOCKERS_LISTED = 20;

export interface Conflict {
  displayId: string;
  from: string;
  to: string;
  blockedBy: { bookingId?: string; status: string; slot: number; from: string; to: string }[];
}

/**
 * Time limits that depend on "now"; the schema already checked shapes. `startsAt` may lie up to
 * `startGraceSeconds` in the past, so a booking "from now" survives clock skew and a slow client.
 */
export function checkTimes(body: CreateBooking, startGraceSeconds: number, now = Date.now()) {
  const starts = Date.parse(body.startsAt);
  const ends = Date.parse(body.endsAt);
  const errors: { field: string; message: string }[] = [];
  if (!(ends > starts)) errors.push({ field: 'endsAt', message: 'must be after startsAt' });
  if (starts < now - startGraceSeconds * 1000) {
    errors.push({ field: 'startsAt', message: `must not be more than ${startGraceSeconds} seconds in the past` });
  }
  if (starts > now + MAX_LEAD_MS) errors.push({ field: 'startsAt', message: 'must be within 2 years from now' });
  if (ends - starts > MAX_BOOKING_MS) errors.push({ field: 'endsAt', message: 'a booking may last at most 366 days' });
  if (errors.length) throw invalidFields(errors);
}

/** What makes two requests "the same" for idempotency: the normalised body. */
export function requestHash(body: CreateBooking): Buffer {
  const normal = {
    displayIds: body.displayIds.map((i) => i.toLowerCase()).sort(),
    creativeId: body.creativeId.toLowerCase(),
    startsAt: new Date(body.startsAt).toISOString(),
    endsAt: new Date(body.endsAt).toISOString(),
    daypart: body.daypart ? { from: body.daypart.from, to: body.daypart.to, days: body.daypart.days ?? null } : null,
  };
  return createHash('sha256').update(JSON.stringify(normal)).digest();
}

export type CreateResult = { booking: BookingWithWarnings; replayed: boolean };

/**
 * Creates a hold in one transaction: all displays or none. Per display (in id order, so two
 * transactions never wait on each other in a cycle) the free slot numbers are tried in order,
 * each inside a SAVEPOINT; the exclusion constraint booking_slots_no_overbooking is the final
 * judge, so concurrent requests can never overbook. A deadlock Postgres breaks anyway is retried.
 */
export async function createBooking(
  deps: LiveEventDeps & { sql: Sql },
  user: AccessClaims,
  idempotencyKey: string,
  body: CreateBooking,
  holdTtlSeconds: number,
  startGraceSeconds = DEFAULT_BOOKING_START_GRACE_SECONDS,
): Promise<CreateResult> {
  checkTimes(body, startGraceSeconds);
  const hash = requestHash(body);
  const result = await withDeadlockRetry(() => deps.sql.begin((tx) => createInTransaction(tx, user, idempotencyKey, hash, body, holdTtlSeconds)));
  if (!result.replayed) await publishBookingChanges(deps, [{ id: result.booking.id, status: 'held' }]);
  return result;
}

async function createInTransaction(
  sql: TransactionSql,
  user: AccessClaims,
  key: string,
  hash: Buffer,
  body: CreateBooking,
  holdTtlSeconds: number,
): Promise<CreateResult> {
  // One key at a time per owner: a parallel duplicate waits here, then finds the stored answer.
  await sql`select pg_advisory_xact_lock(hashtextextended(${'idempotency:' + user.sub + ':' + key}, 0))`;
  const [seen] = await sql<{ request_hash: Buffer; response: BookingWithWarnings | null }[]>`
    select request_hash, response from idempotency_keys where owner_id = ${user.sub} and key = ${key}`;
  if (seen) {
    if (!Buffer.from(seen.request_hash).equals(hash) || !seen.response) {
      throw new ValidationError('This Idempotency-Key was already used for a different request.', { code: 'idempotency-key-reused' });
    }
    // Answers stored before warnings existed had none.
    return { booking: { ...seen.response, warnings: seen.response.warnings ?? [] }, replayed: true };
  }

  // The booking is the creative owner's: an admin may book on their behalf.
  const [creative] = await sql<{ owner_id: string }[]>`
    select c.owner_id from creatives c where c.id = ${body.creativeId} and ${creativeVisible(sql, user)}`;
  if (!creative) throw new NotFoundError('No such creative.');

  const displayIds = body.displayIds.map((i) => i.toLowerCase()).sort();
  const displays = await sql<{ id: string; currency: string }[]>`
    select id, currency from displays where id = any(${displayIds}::uuid[]) and status = 'active'`;
  const bookable = new Set(displays.map((d) => d.id));
  const unavailable = displayIds.filter((id) => !bookable.has(id));
  if (unavailable.length) {
    throw new ValidationError(`These displays do not exist or are not active: ${unavailable.join(', ')}.`, {
      code: 'displays-unavailable',
      displayIds: unavailable,
    });
  }
  const currencies = [...new Set(displays.map((d) => d.currency.trim()))];
  if (currencies.length > 1) {
    throw new ValidationError(`All displays of one booking must share a currency; these use ${currencies.join(', ')}.`, {
      code: 'mixed-currencies',
      currencies,
    });
  }

  // Queue behind other bookings of the same displays (in id order, so never in a cycle). Without
  // this, two transactions inserting overlapping rows at the same instant both wait on each
  // other inside the exclusion check and Postgres must break the deadlock after deadlock_timeout.
  // The constraint stays the guarantee; this lock only keeps contention cheap.
  for (const id of displayIds) await sql`select pg_advisory_xact_lock(hashtextextended(${'booking-inventory:' + id}, 0))`;

  // A hold past its expiry must never block anyone: release those on our displays first.
  await sweepExpiredHolds(sql, { displayIds });

  const quotes = await quoteDisplays(sql, displayIds, body.startsAt, body.endsAt, body.daypart);
  const quoted = new Set(quotes.map((q) => q.displayId));
  const empty = displayIds.filter((id) => !quoted.has(id));
  if (empty.length) {
    throw new ValidationError(`The daypart leaves no time to book within [startsAt, endsAt) on: ${empty.join(', ')}.`, {
      code: 'empty-daypart',
      displayIds: empty,
    });
  }
  const total = quotes.reduce((sum, q) => sum + BigInt(q.price), 0n);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValidationError('The price of this booking is too large to quote.');

  const [booking] = await sql<{ id: string }[]>`
    insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, hold_expires_at, price_total, currency, daypart)
    values (${creative.owner_id}, ${body.creativeId}, ${body.startsAt}, ${body.endsAt}, 'held',
            now() + make_interval(secs => ${holdTtlSeconds}), ${total.toString()}, ${currencies[0]!},
            ${body.daypart ? sql.json(body.daypart as never) : null})
    returning id`;
  const bookingId = booking!.id;

  for (const [index, quote] of quotes.entries()) {
    const slot = await claimSlot(sql, bookingId, quote);
    if (slot === null) {
      // All-or-nothing: the transaction rolls back whatever was claimed. Name every full display.
      const conflicts = [await describeConflict(sql, quote, user, body)];
      for (const rest of quotes.slice(index + 1)) {
        if ((await freeSlots(sql, rest)).length === 0) conflicts.push(await describeConflict(sql, rest, user, body));
      }
      throw new ConflictError(`No free slot for the requested time on ${conflicts.map((c) => c.displayId).join(', ')}.`, {
        code: 'slots-unavailable',
        conflicts,
      });
    }
    await sql`
      insert into booking_displays (booking_id, display_id, slot, price, window_count)
      values (${bookingId}, ${quote.displayId}, ${slot}, ${quote.price}, ${quote.ranges.length})`;
  }

  const [row] = await sql<BookingRow[]>`select * from bookings where id = ${bookingId}`;
  const [represented] = await representBookings(sql, [row!], user);
  const answer: BookingWithWarnings = { ...represented!, warnings: await creativeLengthWarnings(sql, body.creativeId, displayIds) };
  await sql`
    insert into idempotency_keys (owner_id, key, request_hash, booking_id, response)
    values (${user.sub}, ${key}, ${hash}, ${bookingId}, ${sql.json(answer as never)})`;
  return { booking: answer, replayed: false };
}

/** Slot numbers with nothing active overlapping any window (as far as this snapshot sees). */
async function freeSlots(sql: Queryable, q: DisplayQuote): Promise<number[]> {
  const rows = await sql<{ slot: number }[]>`
    select s as slot from generate_series(0, ${q.slotCount - 1}::int) s
    where not exists (
      select 1 from booking_slots bs
      where bs.display_id = ${q.displayId} and bs.active and bs.slot = s
        and bs.during && ${q.span}::tstzrange and bs.during && any(${q.ranges}::tstzrange[]))
    order by s`;
  return rows.map((r) => r.slot);
}

/**
 * Tries each free slot inside a savepoint. A concurrent transaction may take a slot between our
 * look and our insert: the exclusion constraint then raises 23P01 and we move on.
 */
async function claimSlot(tx: TransactionSql, bookingId: string, q: DisplayQuote): Promise<number | null> {
  for (const slot of await freeSlots(tx, q)) {
    try {
      await tx.savepoint(
        (sp) => sp`
          insert into booking_slots (booking_id, display_id, slot, during)
          select ${bookingId}, ${q.displayId}, ${slot}, r::tstzrange from unnest(${q.ranges}::text[]) as r`,
      );
      return slot;
    } catch (err) {
      // 23P01: someone holds this slot now. 23514: the loop shrank under us (booking_slots_within_loop).
      const code = (err as { code?: string }).code;
      if (code === '23P01' || code === '23514') continue;
      throw err;
    }
  }
  return null;
}

/** What blocks a display: status and times always, booking ids only where the caller may see them. */
async function describeConflict(sql: Queryable, q: DisplayQuote, user: AccessClaims, asked: CreateBooking): Promise<Conflict> {
  const rows = await sql<{ booking_id: string; shows_id: boolean; status: string; slot: number; lo: Date; hi: Date; clip_lo: Date; clip_hi: Date }[]>`
    select b.id as booking_id, ${blockingBookingIdVisible(sql, user)} as shows_id, b.status, bs.slot, lower(bs.during) as lo, upper(bs.during) as hi,
           min(lower(bs.during * w.r)) as clip_lo, max(upper(bs.during * w.r)) as clip_hi
    from booking_slots bs
    join bookings b on b.id = bs.booking_id
    join displays d on d.id = bs.display_id
    join unnest(${q.ranges}::tstzrange[]) as w(r) on bs.during && w.r
    where bs.display_id = ${q.displayId} and bs.active and bs.during && ${q.span}::tstzrange
    group by b.id, d.id, bs.slot, bs.during
    order by lower(bs.during), bs.slot`;
  const listed = rows.slice(0, MAX_BLOCKERS_LISTED);
  return {
    displayId: q.displayId,
    from: rows.length ? new Date(Math.min(...rows.map((r) => r.clip_lo.getTime()))).toISOString() : new Date(asked.startsAt).toISOString(),
    to: rows.length ? new Date(Math.max(...rows.map((r) => r.clip_hi.getTime()))).toISOString() : new Date(asked.endsAt).toISOString(),
    blockedBy: listed.map((r) => ({
      ...(r.shows_id ? { bookingId: r.booking_id } : {}),
      status: r.status,
      slot: r.slot,
      from: r.lo.toISOString(),
      to: r.hi.toISOString(),
    })),
  };
}
