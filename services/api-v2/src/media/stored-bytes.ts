import { createHash } from 'node:crypto';
import type { Queryable } from '@marquee/service-kit';
import { createLargeObject, unlinkLargeObject } from './large-objects.ts';
import { findMedia, insertMediaIfNew } from './uploads-sql.ts';

/**
 * Stores small bytes the server itself produced (an emergency message, a text card) as media,
 * inside the caller's transaction, so displays download and verify them like any upload.
 * Returns their SHA-256; identical bytes are stored once.
 */
export async function storeBytesAsMedia(tx: Queryable, bytes: Buffer, contentType: string): Promise<string> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (await findMedia(tx, sha256)) return sha256;
  const loOid = await createLargeObject(tx);
  await tx`select lo_put(${loOid}, 0, ${bytes})`;
  if (!(await insertMediaIfNew(tx, { sha256, contentType, sizeBytes: bytes.length, loOid }))) await unlinkLargeObject(tx, loOid);
  return sha256;
}
