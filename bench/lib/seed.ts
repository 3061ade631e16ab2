/**
 * Test data through the public API where it matters (users, tokens, creatives, bookings) and
 * straight into PostgreSQL where the API would only add minutes (tens of thousands of displays
 * with known device secrets; the rows are what POST /displays + /activate would write).
 */
import { createHash, randomBytes } from 'node:crypto';
import type postgres from 'postgres';

export interface User {
  id: string;
  username: string;
  token: string;
  auth: { authorization: string };
}

async function json(res: Response, what: string): Promise<any> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function signUpAndLogIn(apiV2: string, accountType: 'advertiser' | 'operator', prefix = 'bench'): Promise<User> {
  const username = `${prefix}-${accountType.slice(0, 3)}-${randomBytes(4).toString('hex')}`;
  const password = 'a-long-enough-bench-passphrase';
  await json(await post(apiV2, '/auth/signup', { username, password, accountType }), 'signup');
  const body = await json(await post(apiV2, '/auth/login', { username, password }), 'login');
  return { id: body.user.id, username, token: body.accessToken, auth: { authorization: `Bearer ${body.accessToken}` } };
}

export function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export const DISPLAY_BODY = {
  name: 'Bench screen',
  location: { address: 'Bench street 1', lat: 52.52, lng: 13.405 },
  timezone: 'Europe/Berlin',
  resolution: { widthPx: 1920, heightPx: 1080 },
  tags: ['bench'],
  loop: { lengthMs: 60_000, slotCount: 6 },
  pricePerSlotHour: 100,
  // Bench bookings must play as soon as they are confirmed: no operator review.
  contentPolicy: 'auto',
};

/** One display through the API: register (operator) and activate. Returns id + device secret. */
export async function createDisplayViaApi(apiV2: string, operator: User, overrides: Record<string, unknown> = {}) {
  const created = await json(await post(apiV2, '/displays', { ...DISPLAY_BODY, ...overrides }, operator.auth), 'create display');
  await json(await post(apiV2, `/displays/${created.display.id}/activate`, {}, operator.auth), 'activate display');
  return { id: created.display.id as string, secret: created.credential.secret as string };
}

export async function createTextCreative(apiV2: string, advertiser: User, durationMs = 5_000): Promise<string> {
  const body = await json(
    await post(apiV2, '/creatives', { name: 'Bench card', type: 'text', body: 'Hello from the benchmark', durationMs }, advertiser.auth),
    'create creative',
  );
  return body.id;
}

export interface DeviceCredential {
  id: string;
  secret: string;
}

/**
 * Active displays owned by `operatorId`, inserted in batches. The loop is 6 slots of 1 s, so a
 * booked display plays one entry per second of wall-clock time (times the simulator's --speed).
 */
export async function insertDisplays(sql: postgres.Sql, operatorId: string, count: number, loop = { lengthMs: 6_000, slotCount: 6 }): Promise<DeviceCredential[]> {
  const out: DeviceCredential[] = [];
  const BATCH = 5_000;
  for (let start = 0; start < count; start += BATCH) {
    const n = Math.min(BATCH, count - start);
    const secrets = Array.from({ length: n }, () => randomBytes(32).toString('base64url'));
    const hashes = secrets.map((s) => createHash('sha256').update(s, 'utf8').digest('hex'));
    const rows = await sql<{ id: string }[]>`
      insert into displays (operator_id, name, lat, lng, timezone, width_px, height_px, orientation, tags,
                            loop_length_ms, slot_count, price_per_slot_hour, status, content_policy, credential_hash)
      select ${operatorId}, 'bench ' || h.ord, 52.52, 13.405, 'Europe/Berlin', 1920, 1080, 'landscape', '{bench}',
             ${loop.lengthMs}, ${loop.slotCount}, 100, 'active', 'auto', decode(h.hash, 'hex')
      from unnest(${hashes}::text[]) with ordinality as h(hash, ord)
      order by h.ord
      returning id`;
    rows.forEach((r, i) => out.push({ id: r.id, secret: secrets[i]! }));
  }
  return out;
}

/**
 * Confirmed bookings of one creative over many displays (≤ 50 per booking, the API's limit),
 * through POST /bookings + /confirm, a few in parallel.
 */
export async function bookDisplays(apiV2: string, advertiser: User, creativeId: string, displayIds: string[], hours = 6, parallel = 4): Promise<string[]> {
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const endsAt = new Date(Date.now() + hours * 3_600_000).toISOString();
  const chunks: string[][] = [];
  for (let i = 0; i < displayIds.length; i += 50) chunks.push(displayIds.slice(i, i + 50));
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      const key = randomBytes(8).toString('hex');
      const held = await json(
        await post(apiV2, '/bookings', { displayIds: chunk, creativeId, startsAt, endsAt }, { ...advertiser.auth, 'idempotency-key': key }),
        'hold',
      );
      await json(await post(apiV2, `/bookings/${held.id}/confirm`, {}, advertiser.auth), 'confirm');
      ids.push(held.id);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return ids;
}
