import type { Sql } from '@marquee/service-kit';

/** Where displays download a media file (every entry is media). */
export function mediaUrlOf(publicBaseUrl: string, sha256: string): string {
  return `${publicBaseUrl.replace(/\/$/, '')}/media/${sha256}`;
}

/** How far ahead a playlist reaches; device-tcp re-pushes on every change well within it. */
export const PLAYLIST_HORIZON_MS = 48 * 3600 * 1000;

export type { Playlist, PlaylistEntry } from '@marquee/service-kit';
import { LOOP_ANCHOR_AT, type Playlist, type PlaylistEntry } from '@marquee/service-kit';

interface SlotRow {
  display_id: string;
  slot: number;
  booking_id: string;
  valid_from: Date;
  valid_until: Date;
}

/** What an entry plays: a creative, or (emergency text) bare media. */
interface Content {
  creative_id: string | null;
  type: PlaylistEntry['type'];
  media_sha256: string;
  duration_ms: number;
}

interface ContentRow extends Content {
  booking_id: string;
  display_id: string;
}

interface DisplayRow {
  id: string;
  loop_length_ms: number;
  slot_count: number;
  playlist_version: string;
  html_scripts: boolean;
}

/** The display's house content, or an emergency in force on it. */
interface FillRow extends Content {
  display_id: string;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One playlist entry as read: a booked slot with its booking's current content. */
type EntryRow = SlotRow & ContentRow;

/**
 * The playlist for a display's current version: every booked, active slot overlapping
 * [now, now + 48 h], clipped to that window, with the creative the booking shows there; the
 * display's house content wherever no booking shows anything; and while an emergency is in force
 * on the display, only the emergency, in every slot. Version and entries come from one
 * REPEATABLE READ snapshot, so a version always describes its contents. Returns null for an
 * unknown display.
 */
export async function buildPlaylist(sql: Sql, displayId: string, publicBaseUrl: string, now: Date = new Date()): Promise<Playlist | null> {
  return (await buildPlaylists(sql, [displayId], publicBaseUrl, now)).get(displayId) ?? null;
}

/**
 * Playlists of many displays from two set-based queries in one snapshot (a booking edit on
 * thousands of screens is thousands of playlists at once). Unknown ids are absent from the map.
 */
export async function buildPlaylists(sql: Sql, displayIds: readonly string[], publicBaseUrl: string, now: Date = new Date()): Promise<Map<string, Playlist>> {
  const ids = [...new Set(displayIds)];
  const result = new Map<string, Playlist>();
  if (ids.length === 0) return result;
  const from = now;
  const until = new Date(now.getTime() + PLAYLIST_HORIZON_MS);
  const base = publicBaseUrl.replace(/\/$/, '');
  await sql.begin('isolation level repeatable read read only', async (tx) => {
    const displays = await tx<DisplayRow[]>`
      select id, loop_length_ms, slot_count, playlist_version, html_scripts from displays where id = any(${ids}::uuid[])`;
    if (displays.length === 0) return;
    // The newest emergency in force on each display, and the house content of the others.
    const emergencies = await tx<FillRow[]>`
      select distinct on (ed.display_id) ed.display_id, e.creative_id, coalesce(c.type, 'text') as type, e.media_sha256,
        coalesce(c.duration_ms, 2147483647) as duration_ms
      from emergency_displays ed join emergencies e on e.id = ed.emergency_id and e.cleared_at is null
        left join creatives c on c.id = e.creative_id
      where ed.display_id = any(${displays.map((d) => d.id)}::uuid[])
      order by ed.display_id, e.started_at desc, e.id`;
    const emergencyOf = new Map(emergencies.map((e) => [e.display_id, e]));
    const houses = await tx<FillRow[]>`
      select d.id as display_id, c.id as creative_id, c.type, c.media_sha256, c.duration_ms
      from displays d join creatives c on c.id = d.house_creative_id
      where d.id = any(${displays.filter((d) => !emergencyOf.has(d.id)).map((d) => d.id)}::uuid[])`;
    const houseOf = new Map(houses.map((h) => [h.display_id, h]));
    // Two single-table lookups joined here rather than one SQL join: the join's plan depended on
    // fresh statistics and, right after a big booking, scanned every slot once per booking.
    const slots = await tx<SlotRow[]>`
      select display_id, slot, booking_id,
        greatest(lower(during), ${from}::timestamptz) as valid_from,
        least(upper(during), ${until}::timestamptz) as valid_until
      from booking_slots
      where display_id = any(${displays.map((d) => d.id)}::uuid[]) and active
        and during && tstzrange(${from}::timestamptz, ${until}::timestamptz, '[)')`;
    const bookingIds = [...new Set(slots.map((r) => r.booking_id))];
    // What each booking shows on each display is the latest row of its history (nothing yet: the
    // slot stays empty).
    const contents = bookingIds.length
      ? await tx<ContentRow[]>`
          select distinct on (bdc.booking_id, bdc.display_id)
            bdc.booking_id, bdc.display_id, c.id as creative_id, c.type, c.media_sha256, c.duration_ms
          from booking_display_creatives bdc
            join bookings b on b.id = bdc.booking_id and b.status = 'booked'
            join creatives c on c.id = bdc.creative_id
          where bdc.booking_id = any(${bookingIds}::uuid[]) and bdc.display_id = any(${displays.map((d) => d.id)}::uuid[])
          order by bdc.booking_id, bdc.display_id, bdc.since desc`
      : [];
    const contentOf = new Map(contents.map((c) => [`${c.booking_id}/${c.display_id}`, c]));
    const rows: EntryRow[] = [];
    for (const slot of slots) {
      const content = contentOf.get(`${slot.booking_id}/${slot.display_id}`);
      if (content) rows.push({ ...slot, ...content });
    }
    rows.sort(
      (a, b) =>
        compare(a.display_id, b.display_id) || a.slot - b.slot || a.valid_from.getTime() - b.valid_from.getTime() || compare(a.booking_id, b.booking_id),
    );
    for (const d of displays) {
      const slotMs = d.loop_length_ms / d.slot_count;
      result.set(d.id, {
        displayId: d.id,
        version: Number(d.playlist_version),
        generatedAt: now.toISOString(),
        validFrom: from.toISOString(),
        validUntil: until.toISOString(),
        loop: { lengthMs: d.loop_length_ms, slotCount: d.slot_count, slotMs, anchorAt: LOOP_ANCHOR_AT },
        entries: [],
      });
    }
    const scriptsOn = new Set(displays.filter((d) => d.html_scripts).map((d) => d.id));
    for (const r of rows) {
      if (emergencyOf.has(r.display_id)) continue;
      const playlist = result.get(r.display_id)!;
      playlist.entries.push(entryOf('booking', r, r.slot, r.booking_id, r.valid_from, r.valid_until, base, playlist.loop.slotMs, scriptsOn.has(r.display_id)));
    }
    for (const playlist of result.values()) {
      const emergency = emergencyOf.get(playlist.displayId);
      const house = houseOf.get(playlist.displayId);
      const scripts = scriptsOn.has(playlist.displayId);
      if (emergency) playlist.entries = fillAll('emergency', emergency, playlist.loop.slotCount, from, until, base, playlist.loop.slotMs, scripts);
      else if (house) playlist.entries = withHouseContent(playlist.entries, house, playlist.loop.slotCount, from, until, base, playlist.loop.slotMs, scripts);
    }
  });
  return result;
}

function entryOf(
  kind: PlaylistEntry['kind'],
  r: Content,
  slot: number,
  bookingId: string | null,
  validFrom: Date,
  validUntil: Date,
  base: string,
  slotMs: number,
  htmlScripts: boolean,
): PlaylistEntry {
  const sha = r.media_sha256.trim();
  return {
    slot,
    kind,
    bookingId,
    creativeId: r.creative_id,
    type: r.type,
    mediaSha256: sha,
    mediaUrl: mediaUrlOf(base, sha),
    // A creative never overruns its slot; the display cuts it at the slot boundary.
    durationMs: Math.min(r.duration_ms, slotMs),
    scripts: r.type === 'html' && htmlScripts,
    validFrom: validFrom.toISOString(),
    validUntil: validUntil.toISOString(),
  };
}

/** One entry of `content` per slot for the whole window (an emergency replaces everything). */
function fillAll(kind: PlaylistEntry['kind'], content: Content, slotCount: number, from: Date, until: Date, base: string, slotMs: number, scripts: boolean): PlaylistEntry[] {
  return Array.from({ length: slotCount }, (_, slot) => entryOf(kind, content, slot, null, from, until, base, slotMs, scripts));
}

/**
 * The booking entries (sorted by slot, then time) with house content in every stretch of every
 * slot that no booking shows anything in.
 */
function withHouseContent(
  bookings: PlaylistEntry[],
  house: Content,
  slotCount: number,
  from: Date,
  until: Date,
  base: string,
  slotMs: number,
  scripts: boolean,
): PlaylistEntry[] {
  const entries: PlaylistEntry[] = [];
  let next = 0;
  for (let slot = 0; slot < slotCount; slot++) {
    let free = from.getTime();
    for (; next < bookings.length && bookings[next]!.slot === slot; next++) {
      const booked = bookings[next]!;
      const start = Date.parse(booked.validFrom);
      if (start > free) entries.push(entryOf('house', house, slot, null, new Date(free), new Date(start), base, slotMs, scripts));
      entries.push(booked);
      free = Math.max(free, Date.parse(booked.validUntil));
    }
    if (free < until.getTime()) entries.push(entryOf('house', house, slot, null, new Date(free), until, base, slotMs, scripts));
  }
  return entries;
}

/** Current playlist versions of many displays; unknown ids are simply absent. */
export async function playlistVersions(sql: Sql, displayIds: readonly string[]): Promise<Record<string, number>> {
  if (displayIds.length === 0) return {};
  const rows = await sql<{ id: string; playlist_version: string }[]>`
    select id, playlist_version from displays where id = any(${[...new Set(displayIds)]}::uuid[])`;
  return Object.fromEntries(rows.map((r) => [r.id, Number(r.playlist_version)]));
}
