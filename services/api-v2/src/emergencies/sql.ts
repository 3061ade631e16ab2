import type { AccessClaims, Queryable } from '@marquee/service-kit';
import { creativeUsableForEmergency, displayManaged, emergencyClearable, emergencyVisible } from '../access.ts';
import { keyset, type Page, type PageRequest, type Positioned } from '../pagination.ts';
import type { Emergency } from './schemas.ts';

export interface EmergencyRow {
  id: string;
  display_ids: string[];
  message: string | null;
  creative_id: string | null;
  type: Emergency['type'];
  media_sha256: string;
  created_by: string;
  started_at: Date;
  cleared_at: Date | null;
  cleared_by: string | null;
}

export const emergencyView = (r: EmergencyRow, publicBaseUrl: string): Emergency => ({
  id: r.id,
  displayIds: r.display_ids,
  message: r.message,
  creativeId: r.creative_id,
  type: r.type,
  mediaUrl: `${publicBaseUrl}/media/${r.media_sha256.trim()}`,
  createdBy: r.created_by,
  startedAt: r.started_at.toISOString(),
  clearedAt: r.cleared_at?.toISOString() ?? null,
  clearedBy: r.cleared_by,
});

/** Columns of an emergency `e` as the caller sees it: only the displays they run (admins all). */
const columns = (sql: Queryable, user: AccessClaims) => sql`
  e.id, e.message, e.creative_id, coalesce(c.type, 'text') as type, e.media_sha256, e.created_by, e.started_at, e.cleared_at, e.cleared_by,
  array(select ed.display_id from emergency_displays ed join displays d on d.id = ed.display_id
        where ed.emergency_id = e.id and ${displayManaged(sql, user)} order by ed.display_id) as display_ids`;

/** Of these ids, the displays the caller runs, in id order. */
export async function managedDisplayIds(sql: Queryable, user: AccessClaims, ids: readonly string[]): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select d.id from displays d where d.id = any(${ids.map((i) => i.toLowerCase())}::uuid[]) and ${displayManaged(sql, user)} order by d.id`;
  return rows.map((r) => r.id);
}

/** A creative the caller may put on screens as an emergency, with what displays would download. */
export async function usableCreative(sql: Queryable, user: AccessClaims, id: string) {
  const [row] = await sql<{ id: string; media_sha256: string }[]>`
    select c.id, c.media_sha256 from creatives c where c.id = ${id} and ${creativeUsableForEmergency(sql, user)}`;
  return row;
}

export async function insertEmergency(
  tx: Queryable,
  e: { createdBy: string; creativeId: string | null; message: string | null; mediaSha256: string | null; displayIds: string[] },
): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into emergencies (created_by, creative_id, message, media_sha256)
    values (${e.createdBy}, ${e.creativeId}, ${e.message}, ${e.mediaSha256}) returning id`;
  await tx`insert into emergency_displays (emergency_id, display_id) select ${row!.id}, unnest(${e.displayIds}::uuid[])`;
  return row!.id;
}

export async function readEmergency(sql: Queryable, user: AccessClaims, id: string): Promise<EmergencyRow | undefined> {
  const [row] = await sql<EmergencyRow[]>`
    select ${columns(sql, user)} from emergencies e left join creatives c on c.id = e.creative_id
    where e.id = ${id} and ${emergencyVisible(sql, user)}`;
  return row;
}

/** An emergency the caller may clear, locked for their transaction; with all of its displays. */
export async function lockClearable(tx: Queryable, user: AccessClaims, id: string) {
  const [row] = await tx<{ id: string; cleared_at: Date | null; display_ids: string[] }[]>`
    select e.id, e.cleared_at, array(select ed.display_id from emergency_displays ed where ed.emergency_id = e.id) as display_ids
    from emergencies e where e.id = ${id} and ${emergencyClearable(tx, user)}
    for update of e`;
  return row;
}

export async function markCleared(tx: Queryable, id: string, clearedBy: string): Promise<void> {
  await tx`update emergencies set cleared_at = now(), cleared_by = ${clearedBy} where id = ${id}`;
}

/** One page of the emergencies in force that the caller sees, oldest first. */
export async function listActiveEmergencies(sql: Queryable, user: AccessClaims, q: PageRequest): Promise<Page<EmergencyRow>> {
  const page = keyset(sql, 'e', q, 'oldest first');
  const rows = await sql<(EmergencyRow & Positioned)[]>`
    select ${columns(sql, user)}, ${page.position}
    from emergencies e left join creatives c on c.id = e.creative_id
    where e.cleared_at is null and ${emergencyVisible(sql, user)} and ${page.after}
    order by ${page.orderBy}
    limit ${page.limit}`;
  return page.page(rows);
}
