import type { AccessClaims, LiveEventAudience, Queryable } from '@marquee/service-kit';

/**
 * Who may see and change which objects: every such rule of api-v2, and the only place that asks
 * for a caller's role (whole actions are gated by role with requireRole in authz.ts, 403).
 *
 * Each rule is a SQL condition over a fixed table alias — displays `d`, bookings `b`, creatives
 * `c`, uploads `u`, media `m`, creative approvals `ca`, trusted advertisers `ta`, emergencies `e` — that domain queries AND into their WHERE clause. A row the caller
 * may not reach is then simply not found, so routes answer 404 exactly as for a nonexistent id and
 * ids never leak.
 *
 * Live events (GET /events) are matched in memory instead: the publisher fixes each event's
 * audience with the rules below when it happens, and `liveEventVisible` decides per listener.
 */

/** Displays the caller sees: admins all, operators their own (any status), advertisers the active catalogue. */
export function displayVisible(sql: Queryable, user: AccessClaims) {
  switch (user.role) {
    case 'admin':
      return sql`true`;
    case 'operator':
      return sql`d.operator_id = ${user.sub}`;
    case 'advertiser':
      return sql`d.status = 'active'`;
  }
}

/**
 * `displayVisible` as fixed SQL text ($2 is the caller's id when `params` holds it), for the point
 * read behind GET /displays/{id}: a prepared statement per role costs far less CPU per call than a
 * query composed from fragments. Keep the two in step.
 */
export function displayVisibleText(user: AccessClaims): { condition: string; params: string[] } {
  switch (user.role) {
    case 'admin':
      return { condition: 'true', params: [] };
    case 'operator':
      return { condition: 'd.operator_id = $2', params: [user.sub] };
    case 'advertiser':
      return { condition: "d.status = 'active'", params: [] };
  }
}

/** Displays the caller runs (changes them, sends commands, rotates credentials): admins all, operators their own. */
export function displayManaged(sql: Queryable, user: AccessClaims) {
  switch (user.role) {
    case 'admin':
      return sql`true`;
    case 'operator':
      return sql`d.operator_id = ${user.sub}`;
    case 'advertiser':
      return sql`false`;
  }
}

/** Displays whose availability the caller may read: the active catalogue, and any display they run. */
export function displayAvailabilityVisible(sql: Queryable, user: AccessClaims) {
  return sql`(d.status = 'active' or ${displayManaged(sql, user)})`;
}

/** Whether the caller gets the owner's view of the displays they see (advertisers get the catalogue view). */
export const seesDisplayOwnerView = (user: AccessClaims): boolean => user.role !== 'advertiser';

/** Bookings the caller sees: advertisers their own, operators those touching their displays, admins all. */
export function bookingVisible(sql: Queryable, user: AccessClaims) {
  switch (user.role) {
    case 'admin':
      return sql`true`;
    case 'operator':
      return sql`exists (select 1 from booking_displays bd join displays od on od.id = bd.display_id
                         where bd.booking_id = b.id and od.operator_id = ${user.sub})`;
    case 'advertiser':
      return sql`b.advertiser_id = ${user.sub}`;
  }
}

/** Which displays of a visible booking the caller sees (its parts, its plays): operators only their own. */
export function bookingDisplayVisible(sql: Queryable, user: AccessClaims) {
  return user.role === 'operator' ? sql`d.operator_id = ${user.sub}` : sql`true`;
}

/** Bookings the caller may change (confirm, cancel, swap the creative): advertisers their own, admins all. */
export function bookingChangeable(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin' ? sql`true` : sql`b.advertiser_id = ${user.sub}`;
}

/**
 * Whether the id of booking `b`, blocking a slot of display `d`, is shown to the caller (in
 * availability and booking conflicts): their own bookings, any on displays they run. Everyone
 * else learns only that the slot is taken.
 */
export function blockingBookingIdVisible(sql: Queryable, user: AccessClaims) {
  return sql`(b.advertiser_id = ${user.sub} or ${displayManaged(sql, user)})`;
}

/** Creatives the caller sees, changes and books: their own; admins all (booking on the owner's behalf). */
export function creativeVisible(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin' ? sql`true` : sql`c.owner_id = ${user.sub}`;
}

/** Uploads the caller sees, resumes, completes and abandons: their own; admins all. */
export function uploadVisible(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin' ? sql`true` : sql`u.owner_id = ${user.sub}`;
}

/**
 * Media the caller may put in a creative: bytes they completed an upload of (knowing a hash alone
 * is not enough); admins any.
 */
export function mediaUsable(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin'
    ? sql`true`
    : sql`exists (select 1 from uploads mu where mu.media_sha256 = m.sha256 and mu.owner_id = ${user.sub} and mu.status = 'completed')`;
}

/** Approvals the caller sees and decides: operators those of their displays, admins all (advertisers are refused by role). */
export function approvalVisible(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin' ? sql`true` : sql`ca.operator_id = ${user.sub}`;
}

/** An operator's list of trusted advertisers is theirs alone (the routes are for operators). */
export function trustManaged(sql: Queryable, user: AccessClaims) {
  return sql`ta.operator_id = ${user.sub}`;
}

/**
 * Creatives the caller may put on screens they run as an emergency message: admins any; operators
 * their own and those they approved.
 */
export function creativeUsableForEmergency(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin'
    ? sql`true`
    : sql`(c.owner_id = ${user.sub} or exists (select 1 from creative_approvals uca
                                              where uca.creative_id = c.id and uca.operator_id = ${user.sub} and uca.state = 'approved'))`;
}

/** Emergencies the caller sees: admins all; operators those on at least one display they run. */
export function emergencyVisible(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin'
    ? sql`true`
    : sql`exists (select 1 from emergency_displays ved join displays d on d.id = ved.display_id
                  where ved.emergency_id = e.id and ${displayManaged(sql, user)})`;
}

/** Emergencies the caller may clear: admins any; operators those whose every display they run. */
export function emergencyClearable(sql: Queryable, user: AccessClaims) {
  return user.role === 'admin'
    ? sql`true`
    : sql`not exists (select 1 from emergency_displays ced join displays d on d.id = ced.display_id
                      where ced.emergency_id = e.id and not ${displayManaged(sql, user)})`;
}

/** Hears a display's live events (its status, its commands' results): the operator running it (and admins). */
export const displayEventAudience = (operatorId: string): LiveEventAudience => ({ operatorIds: [operatorId], advertiserIds: [] });

/** Hears an approval's live events: the operator reviewing and the advertiser whose creative it is (and admins). */
export const approvalEventAudience = (operatorId: string, advertiserId: string): LiveEventAudience => ({ operatorIds: [operatorId], advertiserIds: [advertiserId] });

/**
 * Hears a booking's live events: whoever `bookingVisible` lets see it — its advertiser and the
 * operators of its displays (and admins). One row per booking asked for that still exists.
 */
export async function bookingEventAudiences(sql: Queryable, bookingIds: readonly string[]): Promise<Map<string, LiveEventAudience>> {
  if (bookingIds.length === 0) return new Map();
  const rows = await sql<{ id: string; advertiser_id: string; operator_ids: string[] }[]>`
    select b.id, b.advertiser_id,
           coalesce(array_agg(distinct od.operator_id) filter (where od.operator_id is not null), '{}') as operator_ids
    from bookings b
    left join booking_displays bd on bd.booking_id = b.id
    left join displays od on od.id = bd.display_id
    where b.id = any(${[...bookingIds]}::uuid[])
    group by b.id`;
  return new Map(rows.map((r) => [r.id, { operatorIds: r.operator_ids, advertiserIds: [r.advertiser_id] }]));
}

/** Whether a live event with this audience reaches the caller: admins hear all, everyone else only their own. */
export function liveEventVisible(user: AccessClaims, audience: LiveEventAudience): boolean {
  switch (user.role) {
    case 'admin':
      return true;
    case 'operator':
      return audience.operatorIds.includes(user.sub);
    case 'advertiser':
      return audience.advertiserIds.includes(user.sub);
  }
}
