import { NotFoundError, type AccessClaims, type Queryable } from '@marquee/service-kit';
import { displayManaged } from '../access.ts';
import type { PlayRejections } from './schemas.ts';
import { rejectionCounts } from './sql.ts';

/** How many of a display's plays were rejected, by code: for the display's operator and admins (404 for anyone else). */
export async function playRejections(sql: Queryable, user: AccessClaims, displayId: string): Promise<PlayRejections> {
  const [display] = await sql`select d.id from displays d where d.id = ${displayId} and ${displayManaged(sql, user)}`;
  if (!display) throw new NotFoundError('No such display.');
  const codes = (await rejectionCounts(sql, displayId)).map((r) => ({
    code: r.code,
    rejected: Number(r.rejected),
    firstAt: r.first_at.toISOString(),
    lastAt: r.last_at.toISOString(),
    lastDetail: r.last_detail,
  }));
  return { displayId, total: codes.reduce((n, c) => n + c.rejected, 0), codes };
}
