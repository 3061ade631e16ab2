import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CredentialCheck, Sql } from '@marquee/service-kit';
import { isUuid } from '../ids.ts';

/** 256 random bits, base64url: 43 characters. Only its SHA-256 is ever stored. */
export function newDeviceSecret(): { secret: string; hash: Buffer } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashDeviceSecret(secret) };
}

export function hashDeviceSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * Checks a device's credential. Hashes are compared in constant time; the secret is checked
 * before the status so a disabled display's id alone reveals nothing about its state.
 */
export async function verifyDisplayCredential(sql: Sql, displayId: string, secret: string): Promise<CredentialCheck> {
  // Hash even for ids that can't exist, so timing doesn't say which ids are real.
  const presented = hashDeviceSecret(typeof secret === 'string' ? secret : '');
  if (typeof displayId !== 'string' || !isUuid(displayId)) return { ok: false, code: 'unknown_display' };
  const [row] = await sql<CredentialRow[]>`
    select id, status, playlist_version, credential_hash from displays where id = ${displayId}`;
  return credentialVerdict(row, presented);
}

export interface CredentialRow {
  id: string;
  status: string;
  playlist_version: string;
  credential_hash: Buffer;
}

/** The verdict on a presented secret's hash for a display row (undefined: no such display). */
export function credentialVerdict(row: CredentialRow | undefined, presented: Buffer): CredentialCheck {
  if (!row) return { ok: false, code: 'unknown_display' };
  const stored = Buffer.from(row.credential_hash);
  if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return { ok: false, code: 'bad_secret' };
  if (row.status === 'disabled') return { ok: false, code: 'disabled' };
  return { ok: true, display: { id: row.id, status: row.status, playlistVersion: Number(row.playlist_version) } };
}
