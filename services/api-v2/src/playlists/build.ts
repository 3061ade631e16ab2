import type { Sql } from '@marquee/service-kit';

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

interface ContentRow {
  booking_id: string;
  display_id: string;
  creative_id: string;
  type: PlaylistEntry['type'];
  media_sha256: string;
  duration_ms: number;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One playlist entry as read: a booked slot with its booking's current content. */
type EntryRow = SlotRow & ContentRow;

/**
 * The playlist for a display's current version: every booked, active slot overlapping
 * [now, now + 48 h], clipped to that window, with the booking's current creative. Version and
 * entries come from one REPEATABLE READ snapshot, so a version always describes its contents.
 * Returns null for an unknown display.
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
    const displays = await tx<{ id: string; loop_length_ms: number; slot_count: number; playlist_version: string; html_scripts: boolean }[]>`
      select id, loop_length_ms, slot_count, playlist_version, html_scripts from displays where id = any(${ids}::uuid[])`;
    if (displays.length === 0) return;
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
      const playlist = result.get(r.display_id)!;
      playlist.entries.push(entryOf(r, base, playlist.loop.slotMs, scriptsOn.has(r.display_id)));
    }
  });
  return result;
}

function entryOf(r: EntryRow, base: string, slotMs: number, htmlScripts: boolean): PlaylistEntry {
  const sha = r.media_sha256.trim();
  return {
    slot: r.slot,
    kind: 'booking',
    bookingId: r.booking_id,
    creativeId: r.creative_id,
    type: r.type,
    mediaSha256: sha,
    mediaUrl: `${base}/media/${sha}`,
    // A creative never overruns its slot; the display cuts it at the slot boundary.
    durationMs: Math.min(r.duration_ms, slotMs),
    scripts: r.type === 'html' && htmlScripts,
    validFrom: r.valid_from.toISOString(),
    validUntil: r.valid_until.toISOString(),
  };
}

/** Current playlist versions of many displays; unknown ids are simply absent. */
export async function playlistVersions(sql: Sql, displayIds: readonly string[]): Promise<Record<string, number>> {
  if (displayIds.length === 0) return {};
  const rows = await sql<{ id: string; playlist_version: string }[]>`
    select id, playlist_version from displays where id = any(${[...new Set(displayIds)]}::uuid[])`;
  return Object.fromEntries(rows.map((r) => [r.id, Number(r.playlist_version)]));
}
