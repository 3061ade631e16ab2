import type { AccessClaims, Queryable } from '@marquee/service-kit';
import { uploadVisible } from '../access.ts';
import type { UploadContentType } from './sniff.ts';

export interface UploadRow {
  id: string;
  owner_id: string;
  content_type: UploadContentType;
  total_bytes: string;
  received_bytes: string;
  expected_sha256: string | null;
  lo_oid: number;
  status: 'open' | 'completed' | 'aborted';
  media_sha256: string | null;
  media_content_type: UploadContentType | null;
  media_size_bytes: string | null;
  created_at: Date;
  expires_at: Date;
}

export interface MediaRow {
  sha256: string;
  content_type: string;
  size_bytes: string;
  lo_oid: number;
}

export async function insertUpload(
  sql: Queryable,
  u: { ownerId: string; contentType: string; totalBytes: number; expectedSha256: string | null; loOid: number; ttlSeconds: number },
): Promise<UploadRow> {
  const [row] = await sql<UploadRow[]>`
    insert into uploads (owner_id, content_type, total_bytes, expected_sha256, lo_oid, expires_at)
    values (${u.ownerId}, ${u.contentType}, ${u.totalBytes}, ${u.expectedSha256}, ${u.loOid}, now() + make_interval(secs => ${u.ttlSeconds}))
    returning *, null as media_content_type, null as media_size_bytes`;
  return row!;
}

export async function countOpenUploads(sql: Queryable, ownerId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from uploads where owner_id = ${ownerId} and status = 'open' and expires_at > now()`;
  return row!.n;
}

export async function findUpload(sql: Queryable, id: string, user: AccessClaims): Promise<UploadRow | undefined> {
  const [row] = await sql<UploadRow[]>`
    select u.*, m.content_type as media_content_type, m.size_bytes as media_size_bytes
    from uploads u left join media m on m.sha256 = u.media_sha256
    where u.id = ${id} and ${uploadVisible(sql, user)}`;
  return row;
}

/**
 * Locks the upload row for this transaction without waiting: a second request on the same upload
 * while one is writing gets `null` (and a 409) rather than queueing behind a slow client.
 */
export async function lockUpload(tx: Queryable, id: string, user: AccessClaims): Promise<UploadRow | undefined | 'busy'> {
  try {
    const [row] = await tx<UploadRow[]>`
      select u.*, null as media_content_type, null as media_size_bytes
      from uploads u where u.id = ${id} and ${uploadVisible(tx, user)}
      for update nowait`;
    return row;
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return 'busy';
    throw err;
  }
}

export async function setReceived(tx: Queryable, id: string, received: number): Promise<void> {
  await tx`update uploads set received_bytes = ${received} where id = ${id}`;
}

export async function markAborted(tx: Queryable, id: string): Promise<void> {
  await tx`update uploads set status = 'aborted' where id = ${id}`;
}

export async function markCompleted(tx: Queryable, id: string, sha256: string): Promise<void> {
  await tx`update uploads set status = 'completed', media_sha256 = ${sha256} where id = ${id}`;
}

export async function findMedia(sql: Queryable, sha256: string): Promise<MediaRow | undefined> {
  const [row] = await sql<MediaRow[]>`select sha256, content_type, size_bytes, lo_oid from media where sha256 = ${sha256}`;
  return row;
}

/** Inserts the media row unless identical bytes are already stored; true if this call stored it. */
export async function insertMediaIfNew(tx: Queryable, m: { sha256: string; contentType: string; sizeBytes: number; loOid: number }): Promise<boolean> {
  const rows = await tx`
    insert into media (sha256, content_type, size_bytes, lo_oid) values (${m.sha256}, ${m.contentType}, ${m.sizeBytes}, ${m.loOid})
    on conflict (sha256) do nothing returning sha256`;
  return rows.length === 1;
}

/** Open uploads past their expiry (anyone's), locked for cleanup by this transaction. */
export async function lockExpiredUploads(tx: Queryable, limit: number): Promise<{ id: string; lo_oid: number }[]> {
  return tx<{ id: string; lo_oid: number }[]>`
    select id, lo_oid from uploads where status = 'open' and expires_at < now()
    order by expires_at limit ${limit} for update skip locked`;
}
