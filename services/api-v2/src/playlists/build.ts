import type { Sql } from '@marquee/service-kit';

/** How far ahead a playlist reaches; device-tcp re-pushes on every change well within it. */
export const PLAYLIST_HORIZON_MS = 48 * 3600 * 1000;

export type { Playlist, PlaylistEntry } from '@marquee/service-kit';
import type { Playlist, PlaylistEntry } from '@marquee/service-kit';

interface EntryRow {
  slot: number;
  booking_id: string;
  creative_id: string;
  type: PlaylistEntry['type'];
  media_sha256: string | null;
  body: string | null;
  duration_ms: number;
  valid_from: Date;
  valid_until: Date;
}

/**
 * The playlist for a display's current version: every booked, active slot overlapping
 * [now, now + 48 h], clipped to that window, with the booking's current creative. Version and
 * entries come from one REPEATABLE READ snapshot, so a version always describes its contents.
 * Returns null for an unknown display.
 */
export async function buildPlaylist(sql: Sql, displayId: string, publicBaseUrl: string, now: Date = new Date()): Promise<Playlist | null> {
  const from = now;
  const until = new Date(now.getTime() + PLAYLIST_HORIZON_MS);
  const base = publicBaseUrl.replace(/\/$/, '');
  return sql.begin('isolation level repeatable read read only', async (t) => {
    const tx = t as unknown as Sql;
    const [display] = await tx<{ loop_length_ms: number; slot_count: number; playlist_version: string }[]>`
      select loop_length_ms, slot_count, playlist_version from displays where id = ${displayId}`;
    if (!display) return null;
    const rows = await tx<EntryRow[]>`
      select bs.slot, bs.booking_id, c.id as creative_id, c.type, c.media_sha256, c.body, c.duration_ms,
        greatest(lower(bs.during), ${from}::timestamptz) as valid_from,
        least(upper(bs.during), ${until}::timestamptz) as valid_until
      from booking_slots bs
      join bookings b on b.id = bs.booking_id
      join creatives c on c.id = b.creative_id
      where bs.display_id = ${displayId} and bs.active and b.status = 'booked'
        and bs.during && tstzrange(${from}::timestamptz, ${until}::timestamptz, '[)')
      order by bs.slot, valid_from, bs.booking_id`;
    const slotMs = display.loop_length_ms / display.slot_count;
    return {
      displayId,
      version: Number(display.playlist_version),
      generatedAt: now.toISOString(),
      validFrom: from.toISOString(),
      validUntil: until.toISOString(),
      loop: { lengthMs: display.loop_length_ms, slotCount: display.slot_count, slotMs },
      entries: rows.map((r) => entryOf(r, base, slotMs)),
    };
  }) as Promise<Playlist | null>;
}

function entryOf(r: EntryRow, base: string, slotMs: number): PlaylistEntry {
  const sha = r.media_sha256?.trim() ?? '';
  return {
    slot: r.slot,
    bookingId: r.booking_id,
    creativeId: r.creative_id,
    type: r.type,
    mediaSha256: sha,
    mediaUrl: sha ? `${base}/media/${sha}` : '',
    ...(sha ? {} : { body: r.body ?? '' }),
    // A creative never overruns its slot; the display cuts it at the slot boundary.
    durationMs: Math.min(r.duration_ms, slotMs),
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
