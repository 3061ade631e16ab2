import { createHash, randomBytes } from 'node:crypto';
import type { Queryable, Sql } from '@marquee/service-kit';

const hashOf = (token: string) => createHash('sha256').update(token).digest();

/** Opaque, 256-bit, URL-safe. Only its SHA-256 is stored. */
function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function issueRefreshToken(sql: Queryable, userId: string, ttlSeconds: number, familyId?: string): Promise<string> {
  const token = newToken();
  await sql`
    insert into refresh_tokens (family_id, user_id, token_hash, expires_at)
    values (${familyId ?? sql`gen_random_uuid()`}, ${userId}, ${hashOf(token)}, now() + ${ttlSeconds} * interval '1 second')`;
  return token;
}

export type RotationResult =
  | { outcome: 'rotated'; userId: string; token: string }
  | { outcome: 'invalid' }
  | { outcome: 'reused' };

/**
 * Exchanges a refresh token for a new one in the same family. The update that marks the old
 * token rotated is conditional, so two concurrent refreshes cannot both succeed; the loser is
 * treated as reuse and the family is revoked.
 */
export async function rotateRefreshToken(sql: Sql, token: string, ttlSeconds: number): Promise<RotationResult> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ id: string; family_id: string; user_id: string; rotated_at: Date | null; revoked_at: Date | null; expired: boolean }[]>`
      select id, family_id, user_id, rotated_at, revoked_at, expires_at <= now() as expired
      from refresh_tokens where token_hash = ${hashOf(token)} for update`;
    if (!row || row.revoked_at || row.expired) return { outcome: 'invalid' } as const;
    if (row.rotated_at) {
      await tx`update refresh_tokens set revoked_at = now() where family_id = ${row.family_id} and revoked_at is null`;
      return { outcome: 'reused' } as const;
    }
    await tx`update refresh_tokens set rotated_at = now() where id = ${row.id}`;
    const next = await issueRefreshToken(tx, row.user_id, ttlSeconds, row.family_id);
    return { outcome: 'rotated', userId: row.user_id, token: next } as const;
  });
}

/** Logout: revokes the token's whole family. Unknown tokens are ignored (logout is idempotent). */
export async function revokeFamilyOf(sql: Sql, token: string): Promise<void> {
  await sql`
    update refresh_tokens set revoked_at = now()
    where revoked_at is null
      and family_id = (select family_id from refresh_tokens where token_hash = ${hashOf(token)})`;
}
