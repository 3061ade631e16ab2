import { z } from '@hono/zod-openapi';
import { invalidFields, type Queryable } from '@marquee/service-kit';

/**
 * Keyset pagination, the one way every growing list pages. A list is ordered by its table's
 * (created_at, id), newest or oldest first; a cursor names the last row of a page as
 * base64url("<created_at in µs since the epoch>.<id>"). Clients treat it as opaque. Rows added
 * while a client pages never shift the pages it has yet to read, and no page costs an offset scan.
 */

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z.string().max(200).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page' }),
});
export type PageRequest = { limit: number; cursor?: string | undefined };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The response schema of a list of `item`s, registered in /openapi.json as `name`. */
export const pageSchema = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last' }) }).openapi(name);

/** A row selected with `keyset(...).position`. */
export interface Positioned {
  id: string;
  page_position: string;
}

const CURSOR = /^(\d{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const encodeCursor = (row: Positioned) => Buffer.from(`${row.page_position}.${row.id}`).toString('base64url');

/** The last row a cursor names; a 422 naming the `cursor` field for anything this API did not hand out. */
function decodeCursor(cursor: string): { us: string; id: string } {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw invalidFields([{ field: 'cursor', message: 'is not a nextCursor this list handed out' }], 'query');
  return { us: m[1]!, id: m[2]! };
}

/**
 * The pieces of one page's query over table alias `t`: select `position`, filter by `after`, sort
 * by `orderBy`, fetch `limit` rows (one more than the page, to learn whether another follows) and
 * hand them to `page`. A bad cursor is refused here, before any query runs.
 */
export function keyset(sql: Queryable, t: string, req: PageRequest, order: 'newest first' | 'oldest first') {
  const after = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
  const table = sql(t);
  const last = after && sql`(timestamptz 'epoch' + ${after.us}::bigint * interval '1 microsecond', ${after.id}::uuid)`;
  const newest = order === 'newest first';
  return {
    position: sql`(extract(epoch from ${table}.created_at) * 1000000)::bigint::text as page_position`,
    after: !last ? sql`true` : newest ? sql`(${table}.created_at, ${table}.id) < ${last}` : sql`(${table}.created_at, ${table}.id) > ${last}`,
    orderBy: newest ? sql`${table}.created_at desc, ${table}.id desc` : sql`${table}.created_at, ${table}.id`,
    limit: req.limit + 1,
    page<R extends Positioned>(rows: R[]): Page<R> {
      const items = rows.slice(0, req.limit);
      return { items, nextCursor: rows.length > req.limit ? encodeCursor(items[items.length - 1]!) : null };
    },
  };
}
