/**
 * Every list pages one way (src/pagination.ts): the same cursor format, the same 422 naming the
 * `cursor` field for a cursor this API did not hand out, and no row missed or repeated when many
 * rows share one creation instant. Through the app itself (app.request), on a scratch database.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api as request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session as Caller } from '../../../test/support/platform.ts';

let api: InProcess;
let sql: InProcess['sql'];
beforeAll(async () => {
  api = await inProcess('v2pages');
  sql = api.sql;
});
afterAll(async () => api?.close());

const user = (role: 'advertiser' | 'operator' | 'admin') => api.user(role);
const get = (path: string, who: Caller) => api.call('GET', path, who);

/** Follows nextCursor from the first page to the last; every id in the order the pages gave them. */
async function pageThrough(path: string, who: Caller, limit: number) {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, who);
    expect(res.status).toBe(200);
    ids.push(...res.body.items.map((i: { id: string }) => i.id));
    cursor = res.body.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error('more than 50 pages');
}

/** Rows inserted by one statement share created_at (now() is the transaction's start). */
async function sameInstantDisplays(operatorId: string, n: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    insert into displays (operator_id, name, lat, lng, timezone, width_px, height_px, orientation, loop_length_ms, slot_count,
                          price_per_slot_hour, status, credential_hash)
    select ${operatorId}, 'd' || i, 0, 0, 'UTC', 800, 600, 'landscape', 60000, 6, 10, 'active', '\\x00'::bytea
    from generate_series(1, ${n}) i
    returning id`;
  return rows.map((r) => r.id);
}

async function sameInstantCreatives(ownerId: string, n: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    insert into creatives (owner_id, name, type, body, duration_ms)
    select ${ownerId}, 'c' || i, 'text', 'hello', 5000 from generate_series(1, ${n}) i
    returning id`;
  return rows.map((r) => r.id);
}

async function sameInstantBookings(advertiserId: string, creativeId: string, n: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency)
    select ${advertiserId}, ${creativeId}, now() + interval '1 day', now() + interval '2 days', 'booked', 100, 'EUR'
    from generate_series(1, ${n}) i
    returning id`;
  return rows.map((r) => r.id);
}

const lists = ['/displays', '/creatives', '/bookings'] as const;

describe('cursor pagination, the same on every list', () => {
  it('pages through rows that share a creation instant without missing or repeating one, in (created_at, id) order', async () => {
    const operator = user('operator');
    const advertiser = user('advertiser');
    const displays = await sameInstantDisplays(operator.userId, 7);
    const later = await sameInstantDisplays(operator.userId, 2);
    const [creative] = await sameInstantCreatives(advertiser.userId, 1);
    const creatives = [creative!, ...(await sameInstantCreatives(advertiser.userId, 6))];
    const bookings = await sameInstantBookings(advertiser.userId, creative!, 7);

    // Displays: oldest first; within one instant by id.
    expect(await pageThrough('/displays', operator, 2)).toEqual([...[...displays].sort(), ...[...later].sort()]);
    // Creatives and bookings: newest first; within one instant by id, descending.
    expect(await pageThrough('/creatives', advertiser, 2)).toEqual([...creatives.slice(1).sort().reverse(), creative]);
    expect(await pageThrough('/bookings', advertiser, 3)).toEqual([...bookings].sort().reverse());
    // The same rows with filters on top: the cursor composes with them.
    expect(await pageThrough('/creatives?type=text', advertiser, 4)).toHaveLength(7);
    expect(await pageThrough('/bookings?status=booked', advertiser, 2)).toHaveLength(7);
  });

  it('answers a cursor it did not hand out with the same 422 naming the cursor field, on every list', async () => {
    const who = { operator: user('operator'), advertiser: user('advertiser') };
    const foreign = [
      'bm9wZQ', // "nope"
      Buffer.from(randomUUID()).toString('base64url'), // an id alone (an older displays cursor)
      Buffer.from(`12.${randomUUID()}.x`).toString('base64url'),
      Buffer.from(`-5.${randomUUID()}`).toString('base64url'),
      '%00',
    ];
    for (const path of lists) {
      const caller = path === '/displays' ? who.operator : who.advertiser;
      for (const cursor of foreign) {
        const res = await get(`${path}?cursor=${cursor}`, caller);
        expect(res.status, `${path} cursor=${cursor}`).toBe(422);
        expect(res.type).toMatch(/^application\/problem\+json/);
        expect(res.body.detail).toBe('Check the query string: cursor is not a nextCursor this list handed out.');
        expect(res.body.errors).toEqual([{ field: 'cursor', message: 'is not a nextCursor this list handed out' }]);
      }
      const long = await get(`${path}?cursor=${'x'.repeat(201)}`, caller);
      expect(long.status).toBe(422);
      expect(long.body.errors).toEqual([{ field: 'cursor', message: 'must have at most 200 characters' }]);
    }
  });

  it('a cursor from one list is no key into another user’s rows: it only positions, visibility still filters', async () => {
    const owner = user('advertiser');
    const other = user('advertiser');
    await sameInstantCreatives(owner.userId, 3);
    const first = await get('/creatives?limit=1', owner);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const theirs = await get(`/creatives?limit=10&cursor=${first.body.nextCursor}`, other);
    expect(theirs.status).toBe(200);
    expect(theirs.body.items).toEqual([]);
  });
});

/** The app harness with a JSON call as `who` (content type and parsed body, null when empty). */
type InProcess = ApiV2TestApp & {
  call(method: string, path: string, who?: Caller, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; type: string | null; body: any }>;
};

async function inProcess(name: string): Promise<InProcess> {
  const h = await startApiV2TestApp(name);
  return Object.assign(h, {
    async call(method: string, path: string, who?: Caller, body?: unknown, headers: Record<string, string> = {}) {
      const res = await request(h.v2, method, path, body, { ...who?.auth, ...headers });
      return { status: res.status, type: res.headers.get('content-type'), body: res.body ?? null };
    },
  });
}
