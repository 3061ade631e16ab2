import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, request, type Target } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { book, hoursFromNow, key, openSql, seedCreative, seedDisplay, type TestSql } from './bookings-fixtures.ts';

let h: ApiV2TestApp;
let sql: TestSql;
let operator: Session;
let advertiser: Session;
let base: Target;
let display: string;
let creativeId: string;
let heldId: string;

beforeAll(async () => {
  h = await startApiV2TestApp('v2bookin');
  base = h.v2;
  sql = openSql(h.db.url);
  [operator, advertiser] = [h.user('operator'), h.user('advertiser')];
  display = await seedDisplay(sql, operator.userId);
  creativeId = await seedCreative(sql, advertiser.userId);
  const held = await book(base, advertiser, valid());
  heldId = held.body.id;
});
afterAll(async () => {
  await sql?.end();
  await h?.close();
});

const valid = () => ({ displayIds: [display], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) });
const DAY = 86_400_000;
const at = (ms: number) => new Date(Date.parse(hoursFromNow(2)) + ms).toISOString();

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
}

const bookingCount = async () => (await sql`select count(*)::int as n from bookings`)[0]!.n as number;

describe('POST /bookings refuses bad input with 4xx problem+json and books nothing', () => {
  const cases: [string, () => unknown, number][] = [
    ['wrong types', () => ({ ...valid(), displayIds: display, startsAt: 12 }), 422],
    ['numbers for ids', () => ({ ...valid(), displayIds: [1, 2], creativeId: true }), 422],
    ['missing creativeId', () => ({ displayIds: [display], startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) }), 422],
    ['missing times', () => ({ displayIds: [display], creativeId }), 422],
    ['unknown field', () => ({ ...valid(), price: 0 }), 422],
    ['unknown daypart field', () => ({ ...valid(), daypart: { from: '07:00', to: '10:00', tz: 'UTC' } }), 422],
    ['null body', () => 'null', 422],
    ['array body', () => [valid()], 422],
    ['end before start', () => ({ ...valid(), startsAt: hoursFromNow(5), endsAt: hoursFromNow(3) }), 422],
    ['end equal to start', () => ({ ...valid(), endsAt: hoursFromNow(2) }), 422],
    ['100-year booking', () => ({ ...valid(), endsAt: at(100 * 366 * DAY) }), 422],
    ['367-day booking', () => ({ ...valid(), endsAt: at(367 * DAY) }), 422],
    ['start more than 2 years ahead', () => ({ ...valid(), startsAt: at(800 * DAY), endsAt: at(801 * DAY) }), 422],
    ['start in the past', () => ({ ...valid(), startsAt: new Date(Date.now() - 3_600_000).toISOString() }), 422],
    ['year 0001', () => ({ ...valid(), startsAt: '0001-01-01T00:00:00Z' }), 422],
    ['time without offset', () => ({ ...valid(), startsAt: hoursFromNow(2).replace('Z', '') }), 422],
    ['date only', () => ({ ...valid(), startsAt: hoursFromNow(2).slice(0, 10) }), 422],
    ['not a date', () => ({ ...valid(), endsAt: 'tomorrow' }), 422],
    ['no displays', () => ({ ...valid(), displayIds: [] }), 422],
    ['51 displays', () => ({ ...valid(), displayIds: Array.from({ length: 51 }, () => crypto.randomUUID()) }), 422],
    ['duplicate displays', () => ({ ...valid(), displayIds: [display, display.toUpperCase()] }), 422],
    ['non-uuid display', () => ({ ...valid(), displayIds: ["1' or '1'='1"] }), 422],
    ['daypart 25:00', () => ({ ...valid(), daypart: { from: '07:00', to: '25:00' } }), 422],
    ['daypart from = to', () => ({ ...valid(), daypart: { from: '07:00', to: '07:00' } }), 422],
    ['daypart bad day', () => ({ ...valid(), daypart: { from: '07:00', to: '10:00', days: ['funday'] } }), 422],
    ['daypart repeated day', () => ({ ...valid(), daypart: { from: '07:00', to: '10:00', days: ['mon', 'mon'] } }), 422],
    ['unknown display', () => ({ ...valid(), displayIds: [crypto.randomUUID()] }), 422],
    ['unknown creative', () => ({ ...valid(), creativeId: crypto.randomUUID() }), 404],
  ];

  for (const [name, body, status] of cases) {
    it(name, async () => {
      const before = await bookingCount();
      const b = body();
      expectProblem(await book(base, advertiser, typeof b === 'string' ? b : b), status);
      expect(await bookingCount()).toBe(before);
    });
  }

  it('malformed JSON → 400, oversized body → 413, other content type → 415', async () => {
    const headers = { ...advertiser.auth, 'idempotency-key': key() };
    expectProblem(await api(base, 'POST', '/bookings', '{"displayIds": [', headers), 400);
    expectProblem(await api(base, 'POST', '/bookings', { ...valid(), pad: 'x'.repeat(100_000) }, headers), 413);
    const form = await request(base, '/bookings', { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: JSON.stringify(valid()) });
    expect(form.status).toBe(415);
    expect(form.headers.get('content-type')).toBe('application/problem+json');
    const none = await request(base, '/bookings', { method: 'POST', headers });
    expect(none.status).toBeGreaterThanOrEqual(400);
    expect(none.status).toBeLessThan(500);
  });

  it('Idempotency-Key is required, at most 200 printable characters', async () => {
    expectProblem(await api(base, 'POST', '/bookings', valid(), advertiser.auth), 422);
    expectProblem(await api(base, 'POST', '/bookings', valid(), { ...advertiser.auth, 'idempotency-key': 'k'.repeat(201) }), 422);
    expectProblem(await api(base, 'POST', '/bookings', valid(), { ...advertiser.auth, 'idempotency-key': 'two words' }), 422);
    expect((await api(base, 'POST', '/bookings', valid(), { ...advertiser.auth, 'idempotency-key': 'k'.repeat(200) })).status).toBe(201);
  });

  it('displays that are not active, or use different currencies, are named in a 422', async () => {
    const pending = await seedDisplay(sql, operator.userId, { status: 'pending' });
    const disabled = await seedDisplay(sql, operator.userId, { status: 'disabled' });
    const res = await book(base, advertiser, { ...valid(), displayIds: [display, pending, disabled] });
    expectProblem(res, 422);
    expect(res.body.code).toBe('displays-unavailable');
    expect([...res.body.displayIds].sort()).toEqual([pending, disabled].sort());

    const dollars = await seedDisplay(sql, operator.userId, { currency: 'USD' });
    const mixed = await book(base, advertiser, { ...valid(), displayIds: [display, dollars] });
    expectProblem(mixed, 422);
    expect(mixed.body.code).toBe('mixed-currencies');
  });

  it('no token → 401', async () => {
    expectProblem(await api(base, 'POST', '/bookings', valid(), { 'idempotency-key': key() }), 401);
    expectProblem(await api(base, 'POST', '/bookings', valid(), { authorization: 'Bearer nope', 'idempotency-key': key() }), 401);
  });
});

describe('object routes refuse bad input', () => {
  it('PATCH /bookings/{id}: wrong types, missing/unknown fields, malformed JSON, oversized body, bad id', async () => {
    const path = `/bookings/${heldId}`;
    expectProblem(await api(base, 'PATCH', path, { creativeId: 42 }, advertiser.auth), 422);
    expectProblem(await api(base, 'PATCH', path, {}, advertiser.auth), 422);
    expectProblem(await api(base, 'PATCH', path, { creativeId, status: 'booked' }, advertiser.auth), 422);
    expectProblem(await api(base, 'PATCH', path, { creativeId: 'not-a-uuid' }, advertiser.auth), 422);
    expectProblem(await api(base, 'PATCH', path, '{"creativeId":', advertiser.auth), 400);
    expectProblem(await api(base, 'PATCH', path, { creativeId, pad: 'x'.repeat(100_000) }, advertiser.auth), 413);
    expectProblem(await api(base, 'PATCH', '/bookings/not-a-uuid', { creativeId }, advertiser.auth), 422);
    expectProblem(await api(base, 'PATCH', `/bookings/${crypto.randomUUID()}`, { creativeId }, advertiser.auth), 404);
    const unchanged = await api(base, 'GET', path, undefined, advertiser.auth);
    expect(unchanged.body.creativeId).toBe(creativeId);
  });

  it('confirm / cancel / get: bad ids → 422, unknown ids → 404, oversized body → 413', async () => {
    for (const action of ['confirm', 'cancel']) {
      expectProblem(await api(base, 'POST', `/bookings/123/${action}`, undefined, advertiser.auth), 422);
      expectProblem(await api(base, 'POST', `/bookings/${crypto.randomUUID()}/${action}`, undefined, advertiser.auth), 404);
      expectProblem(await api(base, 'POST', `/bookings/${heldId}/${action}`, 'x'.repeat(100_000), advertiser.auth), 413);
    }
    expectProblem(await api(base, 'GET', '/bookings/%27%3B--', undefined, advertiser.auth), 422);
    expectProblem(await api(base, 'GET', `/bookings/${crypto.randomUUID()}`, undefined, advertiser.auth), 404);
    expectProblem(await api(base, 'GET', '/bookings?status=paid', undefined, advertiser.auth), 422);
    expectProblem(await api(base, 'GET', '/bookings?limit=abc', undefined, advertiser.auth), 422);
    expectProblem(await api(base, 'GET', `/bookings?cursor=${'x'.repeat(300)}`, undefined, advertiser.auth), 422);
    const still = await api(base, 'GET', `/bookings/${heldId}`, undefined, advertiser.auth);
    expect(still.body.status).toBe('held');
  });
});

describe('documentation', () => {
  it('the booking routes are in /openapi.json with their request schemas', async () => {
    const doc = await api(base, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/bookings', '/bookings/{id}', '/bookings/{id}/confirm', '/bookings/{id}/cancel', '/displays/{id}/availability']),
    );
    const create = doc.body.paths['/bookings'].post;
    expect(create.parameters.map((x: any) => x.name)).toContain('idempotency-key');
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '422']));
  });
});
