import type { AccessClaims, Queryable } from '@marquee/service-kit';
import { creativeVisible, mediaUsable } from '../access.ts';
import { keyset, type Page, type Positioned } from '../pagination.ts';
import type { CreativeListFilters, CreativeType } from './schemas.ts';

export interface CreativeRow {
  id: string;
  owner_id: string;
  name: string;
  type: CreativeType;
  media_sha256: string;
  media_content_type: string;
  media_size_bytes: string;
  body: string | null;
  duration_ms: number;
  created_at: Date;
  updated_at: Date;
}

const columns = (sql: Queryable) => sql`c.*, m.content_type as media_content_type, m.size_bytes as media_size_bytes`;

/** The media's content type if it exists and the caller may put it in a creative. */
export async function usableMediaType(sql: Queryable, sha256: string, user: AccessClaims): Promise<string | undefined> {
  const [row] = await sql<{ content_type: string }[]>`
    select m.content_type from media m where m.sha256 = ${sha256} and ${mediaUsable(sql, user)}`;
  return row?.content_type;
}

/** Inserts a creative; a text/HTML one's media are made from its body by the database (migration 110). */
export async function insertCreative(
  sql: Queryable,
  c: { ownerId: string; name: string; type: CreativeType; mediaSha256: string | null; body: string | null; durationMs: number },
): Promise<CreativeRow> {
  const [inserted] = await sql<{ id: string }[]>`
    insert into creatives (owner_id, name, type, media_sha256, body, duration_ms)
    values (${c.ownerId}, ${c.name}, ${c.type}, ${c.mediaSha256}, ${c.body}, ${c.durationMs})
    returning id`;
  // A second statement: media the insert's trigger made are not visible to the insert's own snapshot.
  const [row] = await sql<CreativeRow[]>`
    select ${columns(sql)} from creatives c left join media m on m.sha256 = c.media_sha256 where c.id = ${inserted!.id}`;
  return row!;
}

export async function findCreative(sql: Queryable, id: string, user: AccessClaims): Promise<CreativeRow | undefined> {
  const [row] = await sql<CreativeRow[]>`
    select ${columns(sql)} from creatives c left join media m on m.sha256 = c.media_sha256
    where c.id = ${id} and ${creativeVisible(sql, user)}`;
  return row;
}

/** A creative as the API shows it; media (text/HTML bodies too) are served from `publicBaseUrl`/media/<sha256>. */
export const creativeView = (r: CreativeRow, publicBaseUrl: string) => ({
  id: r.id,
  ownerId: r.owner_id,
  name: r.name,
  type: r.type,
  mediaSha256: r.media_sha256,
  mediaUrl: `${publicBaseUrl}/media/${r.media_sha256}`,
  mediaContentType: r.media_content_type,
  mediaSizeBytes: Number(r.media_size_bytes),
  body: r.body,
  durationMs: r.duration_ms,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** One page of the creatives the caller may see, newest first, of one type if asked. */
export async function listCreatives(sql: Queryable, user: AccessClaims, q: CreativeListFilters): Promise<Page<CreativeRow>> {
  const page = keyset(sql, 'c', q, 'newest first');
  const rows = await sql<(CreativeRow & Positioned)[]>`
    select ${columns(sql)}, ${page.position} from creatives c left join media m on m.sha256 = c.media_sha256
    where ${creativeVisible(sql, user)} and ${page.after}
      ${q.type ? sql`and c.type = ${q.type}` : sql``}
    order by ${page.orderBy}
    limit ${page.limit}`;
  return page.page(rows);
}

export async function updateCreativeFields(
  sql: Queryable,
  id: string,
  user: AccessClaims,
  u: { name?: string; durationMs?: number },
): Promise<{ row: CreativeRow; durationChanged: boolean } | undefined> {
  const [row] = await sql<(CreativeRow & { old_duration_ms: number })[]>`
    with old as (select c.id, c.duration_ms from creatives c where c.id = ${id} and ${creativeVisible(sql, user)} for update),
    c as (
      update creatives set
        name = coalesce(${u.name ?? null}, creatives.name),
        duration_ms = coalesce(${u.durationMs ?? null}::int, creatives.duration_ms),
        updated_at = now()
      from old where creatives.id = old.id
      returning creatives.*, old.duration_ms as old_duration_ms)
    select ${columns(sql)}, c.old_duration_ms from c left join media m on m.sha256 = c.media_sha256`;
  if (!row) return undefined;
  return { row, durationChanged: row.old_duration_ms !== row.duration_ms };
}

/** Displays that will still play this creative (booked, not yet over; or as house content): their playlists change with it. */
export async function displaysPlaying(sql: Queryable, creativeId: string): Promise<string[]> {
  const rows = await sql<{ display_id: string }[]>`
    select s.display_id from booking_slots s join bookings b on b.id = s.booking_id
    where b.creative_id = ${creativeId} and b.status = 'booked' and s.active and upper(s.during) > now()
    union
    select d.id from displays d where d.house_creative_id = ${creativeId}`;
  return rows.map((r) => r.display_id);
}
