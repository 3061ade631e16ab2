import type { AccessClaims, Queryable } from '@marquee/service-kit';
import { displayManaged, displayVisible, displayVisibleText, seesDisplayOwnerView } from '../access.ts';
import { houseCreativeAllowed } from '../approvals/rules.ts';
import { keyset, type Page, type Positioned } from '../pagination.ts';
import type { CreateDisplayInput, ListDisplaysFilters, UpdateDisplayInput } from './schemas.ts';

export interface DisplayRow {
  id: string;
  operator_id: string;
  name: string;
  address: string;
  lat: number;
  lng: number;
  timezone: string;
  width_px: number;
  height_px: number;
  orientation: 'landscape' | 'portrait';
  tags: string[];
  loop_length_ms: number;
  slot_count: number;
  price_per_slot_hour: string;
  currency: string;
  audience_multiplier: string;
  status: 'pending' | 'active' | 'disabled';
  credential_rotated_at: Date;
  playlist_version: string;
  online: boolean;
  last_seen_at: Date | null;
  applied_version: string | null;
  html_scripts: boolean;
  created_at: Date;
  updated_at: Date;
  content_policy: 'review' | 'auto';
  house_creative_id: string | null;
}

/** Every column except the credential hash, which never leaves the database layer. */
export const DISPLAY_COLUMNS = [
  'id', 'operator_id', 'name', 'address', 'lat', 'lng', 'timezone', 'width_px', 'height_px', 'orientation', 'tags',
  'loop_length_ms', 'slot_count', 'price_per_slot_hour', 'currency', 'audience_multiplier', 'status', 'credential_rotated_at',
  'playlist_version', 'online', 'last_seen_at', 'applied_version', 'html_scripts', 'created_at', 'updated_at', 'content_policy', 'house_creative_id',
];

export function toPublicView(r: DisplayRow) {
  return {
    id: r.id,
    name: r.name,
    location: { address: r.address, lat: r.lat, lng: r.lng },
    timezone: r.timezone,
    resolution: { widthPx: r.width_px, heightPx: r.height_px },
    orientation: r.orientation,
    tags: r.tags,
    loop: { lengthMs: r.loop_length_ms, slotCount: r.slot_count, slotMs: r.loop_length_ms / r.slot_count },
    pricePerSlotHour: Number(r.price_per_slot_hour),
    currency: r.currency,
    audienceMultiplier: Number(r.audience_multiplier),
    status: r.status,
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * The public view's members, in the same order, then the owner's. Written out rather than
 * `{ ...toPublicView(r), ... }`: V8 copies that spread on a slow path (5.3 vs 1.1 us per display,
 * measured), and this is built for every GET /displays/{id}. test/display-views.test.ts keeps the
 * two in step.
 */
export function toOwnerView(r: DisplayRow) {
  return {
    id: r.id,
    name: r.name,
    location: { address: r.address, lat: r.lat, lng: r.lng },
    timezone: r.timezone,
    resolution: { widthPx: r.width_px, heightPx: r.height_px },
    orientation: r.orientation,
    tags: r.tags,
    loop: { lengthMs: r.loop_length_ms, slotCount: r.slot_count, slotMs: r.loop_length_ms / r.slot_count },
    pricePerSlotHour: Number(r.price_per_slot_hour),
    currency: r.currency,
    audienceMultiplier: Number(r.audience_multiplier),
    status: r.status,
    createdAt: r.created_at.toISOString(),
    operatorId: r.operator_id,
    updatedAt: r.updated_at.toISOString(),
    credentialRotatedAt: r.credential_rotated_at.toISOString(),
    htmlScripts: r.html_scripts,
    presence: {
      online: r.online,
      lastSeenAt: r.last_seen_at?.toISOString() ?? null,
      playlistVersion: Number(r.playlist_version),
      appliedVersion: r.applied_version === null ? null : Number(r.applied_version),
    },
    contentPolicy: r.content_policy,
    houseCreativeId: r.house_creative_id,
  };
}

/** The display as this caller is shown it: the owner's view or the catalogue view. */
export const viewFor = (user: AccessClaims, row: DisplayRow) => (seesDisplayOwnerView(user) ? toOwnerView(row) : toPublicView(row));

export async function insertDisplay(sql: Queryable, operatorId: string, d: CreateDisplayInput, credentialHash: Buffer): Promise<DisplayRow> {
  const orientation = d.orientation ?? (d.resolution.heightPx > d.resolution.widthPx ? 'portrait' : 'landscape');
  const [row] = await sql<DisplayRow[]>`
    insert into displays (operator_id, name, address, lat, lng, timezone, width_px, height_px, orientation, tags,
      loop_length_ms, slot_count, price_per_slot_hour, currency, audience_multiplier, content_policy, html_scripts, credential_hash)
    values (${operatorId}, ${d.name}, ${d.location.address}, ${d.location.lat}, ${d.location.lng}, ${d.timezone},
      ${d.resolution.widthPx}, ${d.resolution.heightPx}, ${orientation}, ${d.tags}, ${d.loop.lengthMs}, ${d.loop.slotCount},
      ${d.pricePerSlotHour}, ${d.currency}, ${d.audienceMultiplier}, ${d.contentPolicy}, ${d.htmlScripts}, ${credentialHash})
    returning ${sql(DISPLAY_COLUMNS)}`;
  return row!;
}

/** `select <every display column> from displays d where d.id = $1 and `, quoted once (the names are constants). */
const SELECT_DISPLAY_BY_ID = `select ${DISPLAY_COLUMNS.map((c) => `"${c}"`).join(', ')} from displays d where d.id = $1 and `;

/**
 * One display, if the caller may see it. This is the read behind GET /displays/{id}, so it runs
 * as fixed SQL text (one prepared statement per role) rather than composed fragments.
 */
export async function findVisibleDisplay(sql: Queryable, user: AccessClaims, id: string): Promise<DisplayRow | undefined> {
  const visible = displayVisibleText(user);
  const [row] = await sql.unsafe<DisplayRow[]>(SELECT_DISPLAY_BY_ID + visible.condition, [id, ...visible.params], { prepare: true });
  return row;
}

/** One display the caller runs, locked for the rest of their transaction; undefined if they don't run it. */
export async function lockManagedDisplay(tx: Queryable, user: AccessClaims, id: string): Promise<DisplayRow | undefined> {
  const [row] = await tx<DisplayRow[]>`
    select ${tx(DISPLAY_COLUMNS)} from displays d where d.id = ${id} and ${displayManaged(tx, user)} for update`;
  return row;
}

/** Whether the caller runs this display (no lock: for reads of what belongs to it). */
export async function isManagedDisplay(sql: Queryable, user: AccessClaims, id: string): Promise<boolean> {
  const [row] = await sql`select 1 from displays d where d.id = ${id} and ${displayManaged(sql, user)}`;
  return row !== undefined;
}

/** Writes the fields a PATCH gave (the loop as length and slot count). */
export async function updateDisplayFields(tx: Queryable, id: string, p: UpdateDisplayInput): Promise<void> {
  const set: Record<string, unknown> = {};
  if (p.name !== undefined) set.name = p.name;
  if (p.location) Object.assign(set, { address: p.location.address, lat: p.location.lat, lng: p.location.lng });
  if (p.timezone !== undefined) set.timezone = p.timezone;
  if (p.resolution) Object.assign(set, { width_px: p.resolution.widthPx, height_px: p.resolution.heightPx });
  if (p.orientation !== undefined) set.orientation = p.orientation;
  if (p.tags !== undefined) set.tags = p.tags;
  if (p.loop) Object.assign(set, { loop_length_ms: p.loop.lengthMs, slot_count: p.loop.slotCount });
  if (p.pricePerSlotHour !== undefined) set.price_per_slot_hour = p.pricePerSlotHour;
  if (p.currency !== undefined) set.currency = p.currency;
  if (p.audienceMultiplier !== undefined) set.audience_multiplier = p.audienceMultiplier;
  if (p.contentPolicy !== undefined) set.content_policy = p.contentPolicy;
  if (p.houseCreativeId !== undefined) set.house_creative_id = p.houseCreativeId;
  if (p.htmlScripts !== undefined) set.html_scripts = p.htmlScripts;
  await tx`update displays set ${tx(set as Record<string, any>, Object.keys(set))}, updated_at = now() where id = ${id}`;
}

/** A display by id, whoever asks: for code that has already checked access (or needs none). */
export async function readDisplay(sql: Queryable, id: string): Promise<DisplayRow | undefined> {
  const [row] = await sql<DisplayRow[]>`select ${sql(DISPLAY_COLUMNS)} from displays where id = ${id}`;
  return row;
}

/** Sets the status; updated_at moves only if it changed (activating twice is a no-op). */
export async function setDisplayStatus(tx: Queryable, id: string, status: 'active' | 'disabled'): Promise<DisplayRow> {
  const [row] = await tx<DisplayRow[]>`
    update displays set status = ${status}, updated_at = case when status = ${status} then updated_at else now() end
    where id = ${id} returning ${tx(DISPLAY_COLUMNS)}`;
  return row!;
}

export async function setCredentialHash(tx: Queryable, id: string, hash: Buffer): Promise<DisplayRow> {
  const [row] = await tx<DisplayRow[]>`
    update displays set credential_hash = ${hash}, credential_rotated_at = now(), updated_at = now()
    where id = ${id} returning ${tx(DISPLAY_COLUMNS)}`;
  return row!;
}

const EARTH_RADIUS_KM = 6371.0088;

/** One page of the displays the caller may see, filtered, oldest first. */
export async function listDisplays(sql: Queryable, user: AccessClaims, f: ListDisplaysFilters): Promise<Page<DisplayRow>> {
  const page = keyset(sql, 'd', f, 'oldest first');
  const conditions = [displayVisible(sql, user), page.after];
  if (f.tag?.length) conditions.push(sql`tags @> ${f.tag}::text[]`);
  if (f.near && f.radiusKm !== undefined) {
    const [lat, lng] = f.near;
    // Bounding box first (index-friendly, cheap), then the exact great-circle distance.
    const dLat = (f.radiusKm / EARTH_RADIUS_KM) * (180 / Math.PI);
    conditions.push(sql`lat between ${lat - dLat}::float8 and ${lat + dLat}::float8`);
    conditions.push(sql`
      2 * ${EARTH_RADIUS_KM}::float8 * asin(least(1, sqrt(
        power(sin(radians(lat - ${lat}::float8) / 2), 2) +
        cos(radians(${lat}::float8)) * cos(radians(lat)) * power(sin(radians(lng - ${lng}::float8) / 2), 2)
      ))) <= ${f.radiusKm}::float8`);
  }
  if (f.bbox) {
    const [west, south, east, north] = f.bbox;
    conditions.push(sql`lat between ${south}::float8 and ${north}::float8`);
    // west > east means the box crosses the antimeridian.
    conditions.push(west <= east ? sql`lng between ${west}::float8 and ${east}::float8` : sql`(lng >= ${west}::float8 or lng <= ${east}::float8)`);
  }
  if (f.availableFrom && f.availableTo) {
    // Some slot number has no active booking overlapping the whole range.
    conditions.push(sql`exists (
      select 1 from generate_series(0, slot_count - 1) as s(slot)
      where not exists (
        select 1 from booking_slots bs
        where bs.display_id = d.id and bs.slot = s.slot and bs.active
          and bs.during && tstzrange(${f.availableFrom}::timestamptz, ${f.availableTo}::timestamptz, '[)')))`);
  }
  const where = conditions.reduce((acc, c) => sql`${acc} and ${c}`);
  const rows = await sql<(DisplayRow & Positioned)[]>`
    select ${sql(DISPLAY_COLUMNS)}, ${page.position} from displays d
    where ${where}
    order by ${page.orderBy}
    limit ${page.limit}::int`;
  return page.page(rows);
}

export interface StrandedBooking {
  bookingId: string;
  slot: number;
  reason: 'slot_removed' | 'creative_longer_than_slot';
}

/**
 * Bookings that a new loop would strand: current or future active slots whose slot number no
 * longer exists, or whose creative would no longer fit in the shorter slot.
 */
export async function findStrandedBookings(sql: Queryable, displayId: string, slotCount: number, slotMs: number): Promise<StrandedBooking[]> {
  const rows = await sql<{ booking_id: string; slot: number; removed: boolean }[]>`
    select bs.booking_id, bs.slot, bs.slot >= ${slotCount} as removed
    from booking_slots bs
    join bookings b on b.id = bs.booking_id
    join creatives c on c.id = b.creative_id
    where bs.display_id = ${displayId} and bs.active and (upper_inf(bs.during) or upper(bs.during) > now())
      and (bs.slot >= ${slotCount} or c.duration_ms > ${slotMs})
    order by bs.booking_id, bs.slot
    limit 100`;
  return rows.map((r) => ({ bookingId: r.booking_id, slot: r.slot, reason: r.removed ? 'slot_removed' : 'creative_longer_than_slot' }));
}

/** Whether a creative may be this display's house content (approvals/rules.ts). */
export async function houseCreativeUsable(sql: Queryable, displayId: string, creativeId: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from displays d join creatives c on c.id = ${creativeId} where d.id = ${displayId} and ${houseCreativeAllowed(sql)}`;
  return row !== undefined;
}
