/**
 * What a newcomer reads in api-v2's answers (issue 17.3): validation in plain words naming the
 * field and the rule, a problem's `instance` as the public path, `WWW-Authenticate` on every 401,
 * the booking start grace window (documented and configurable), and the docs' redirects and icon.
 * On the app; through the real edge and account service in test/platform/public-answers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { loadApiV2Config } from '../src/config.ts';
import { book, seedCreative, seedDisplay } from './bookings-fixtures.ts';

const GRACE_SECONDS = 60;
const MISSING_KEY = 'Send an Idempotency-Key header (any unique string up to 200 characters) so a retried booking is not made twice.';
const ZOD_WORDING = /Invalid (json|input|query|header)|expected \w+, received|Too (small|big)|Unrecognized key/;

let h: ApiV2TestApp;
beforeAll(async () => {
  h = await startApiV2TestApp('v2answers', { bookingStartGraceSeconds: GRACE_SECONDS });
});
afterAll(async () => h?.close());

const validDisplay = () => ({
  name: 'Lobby',
  location: { lat: 52.52, lng: 13.405 },
  timezone: 'Europe/Berlin',
  resolution: { widthPx: 1920, heightPx: 1080 },
  loop: { lengthMs: 60_000, slotCount: 6 },
  pricePerSlotHour: 250,
});

describe('validation messages', () => {
  it('a schema error on valid JSON names each field and its rule in plain words', async () => {
    const op = h.user('operator');
    const { location: _, ...withoutLocation } = validDisplay();
    const res = await api(h.v2, 'POST', '/displays', { ...withoutLocation, currency: 'euro', resolution: { widthPx: 19.5, heightPx: 1080 } }, op.auth);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.detail).toBe(
      'Check the request body: location is required (an object); resolution.widthPx must be a whole number, not 19.5; currency: ISO 4217 code in capitals, e.g. EUR.',
    );
    expect(res.body.errors).toEqual([
      { field: 'location', message: 'is required (an object)' },
      { field: 'resolution.widthPx', message: 'must be a whole number, not 19.5' },
      { field: 'currency', message: 'ISO 4217 code in capitals, e.g. EUR' },
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(ZOD_WORDING);
  });

  it('query and path values are judged by their rule, with the same wording', async () => {
    const adv = h.user('advertiser');
    const near = await api(h.v2, 'GET', '/displays?near=52.52,13.405&radiusKm=far', undefined, adv.auth);
    expect(near.status).toBe(422);
    expect(near.body.detail).toBe('Check the query string: radiusKm must be a number.');
    const id = await api(h.v2, 'GET', '/bookings/not-a-uuid', undefined, adv.auth);
    expect(id.status).toBe(422);
    expect(id.body).toMatchObject({ detail: 'Check the path: id must be a UUID.', errors: [{ field: 'id', message: 'must be a UUID' }] });
  });

  it('a missing Idempotency-Key says what to send and why', async () => {
    const adv = h.user('advertiser');
    const body = { displayIds: [crypto.randomUUID()], creativeId: crypto.randomUUID(), startsAt: '2030-01-01T08:00:00Z', endsAt: '2030-01-01T09:00:00Z' };
    const res = await api(h.v2, 'POST', '/bookings', body, adv.auth);
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe(MISSING_KEY);
    expect(res.body.errors).toEqual([{ field: 'Idempotency-Key', message: MISSING_KEY }]);
    const spaced = await api(h.v2, 'POST', '/bookings', body, { ...adv.auth, 'idempotency-key': 'two words' });
    expect(spaced.body.detail).toBe('Check the request headers: Idempotency-Key: must be printable ASCII without spaces.');
  });
});

describe('problem instance', () => {
  it('is the public path: the prefix the edge stripped (X-Forwarded-Prefix) comes back', async () => {
    const adv = h.user('advertiser');
    const direct = await api(h.v2, 'GET', '/bookings/not-a-uuid', undefined, adv.auth);
    expect(direct.body.instance).toBe('/bookings/not-a-uuid');
    const viaEdge = await api(h.v2, 'GET', '/bookings/not-a-uuid', undefined, { ...adv.auth, 'x-forwarded-prefix': '/v2' });
    expect(viaEdge.body.instance).toBe('/v2/bookings/not-a-uuid');
    const unrouted = await api(h.v2, 'GET', '/nothing-here', undefined, { 'x-forwarded-prefix': '/v2' });
    expect(unrouted.body).toMatchObject({ status: 404, instance: '/v2/nothing-here', detail: 'No route for GET /v2/nothing-here.' });
  });

  it.each(['https://evil.example', '/v2?next=x', '/../admin', '//evil.example', '/v2/', '/v2, /v3', '/a/b/c/d', `/${'x'.repeat(40)}`])(
    'ignores a prefix header not shaped like a path prefix: %s',
    async (prefix) => {
      const res = await api(h.v2, 'GET', '/nothing-here', undefined, { 'x-forwarded-prefix': prefix });
      expect(res.body.instance).toBe('/nothing-here');
      const root = await request(h.v2, '/', { redirect: 'manual', headers: { 'x-forwarded-prefix': prefix } });
      expect(root.headers.get('location')).toBe('/docs');
    },
  );
});

describe('WWW-Authenticate on 401', () => {
  it.each([
    ['no Authorization header', undefined, 'Bearer'],
    ['another scheme', 'Basic dXNlcjpwYXNz', 'Bearer error="invalid_request", error_description="The Authorization header is not Bearer <token>."'],
    ['a token that is not a JWT', 'Bearer not-a-token', 'Bearer error="invalid_token", error_description="The access token is malformed."'],
  ])('%s', async (_what, authorization, challenge) => {
    const res = await api(h.v2, 'GET', '/displays', undefined, authorization ? { authorization } : {});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('an expired token is invalid_token, saying it expired', async () => {
    const expired = h.user('advertiser', { ttlSeconds: -60 });
    const res = await api(h.v2, 'GET', '/bookings', undefined, expired.auth);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="The access token has expired."');
    expect(res.body.detail).toBe('The access token has expired.');
  });

  it('every 401 in the OpenAPI document says what it is and documents the header', async () => {
    const doc = (await api(h.v2, 'GET', '/openapi.json')).body;
    const unauthorized = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => (op.responses?.['401'] ? [{ at: `${method} ${path}`, response: op.responses['401'] }] : [])),
    );
    expect(unauthorized.length).toBeGreaterThan(20);
    for (const { at, response } of unauthorized) expect(response.headers?.['WWW-Authenticate'], at).toBeDefined();
    const describedAs = (at: string) => unauthorized.find((u) => u.at === at)!.response.description as string;
    expect(describedAs('post /auth/login')).toBe('Wrong username or password');
    expect(describedAs('post /auth/refresh')).toMatch(/^The refresh token is unknown, expired or revoked/);
    expect(describedAs('get /displays')).toMatch(/^No access token/);
    expect(unauthorized.filter((u) => /access token/i.test(u.response.description)).map((u) => u.at)).not.toContain('post /auth/login');
  });
});

describe('booking start grace window', () => {
  it('accepts a start within BOOKING_START_GRACE_SECONDS in the past and refuses an earlier one, naming the limit', async () => {
    const op = h.user('operator');
    const adv = h.user('advertiser');
    const display = await seedDisplay(h.sql, op.userId);
    const creativeId = await seedCreative(h.sql, adv.userId);
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    const inTwoHours = new Date(Date.now() + 2 * 3_600_000).toISOString();

    const tooEarly = await book(h.v2, adv, { displayIds: [display], creativeId, startsAt: ago(2 * GRACE_SECONDS), endsAt: inTwoHours });
    expect(tooEarly.status).toBe(422);
    expect(tooEarly.body.errors).toEqual([{ field: 'startsAt', message: `must not be more than ${GRACE_SECONDS} seconds in the past` }]);
    expect(tooEarly.body.detail).toBe(`Check the request body: startsAt must not be more than ${GRACE_SECONDS} seconds in the past.`);

    const justNow = await book(h.v2, adv, { displayIds: [display], creativeId, startsAt: ago(GRACE_SECONDS / 2), endsAt: inTwoHours });
    expect(justNow.status).toBe(201);
  });

  it('is stated, with the configured value, in the description of POST /bookings', async () => {
    const doc = (await api(h.v2, 'GET', '/openapi.json')).body;
    const description: string = doc.paths['/bookings'].post.description;
    expect(description).toContain(`\`startsAt\` may lie at most ${GRACE_SECONDS} seconds in the past`);
    expect(description).toContain('BOOKING_START_GRACE_SECONDS');
  });

  it('is read from BOOKING_START_GRACE_SECONDS (default 300, 0..3600)', () => {
    const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', ACCOUNT_URL: 'http://127.0.0.1:1' };
    expect(loadApiV2Config(base).BOOKING_START_GRACE_SECONDS).toBe(300);
    expect(loadApiV2Config({ ...base, BOOKING_START_GRACE_SECONDS: '0' }).BOOKING_START_GRACE_SECONDS).toBe(0);
    expect(loadApiV2Config({ ...base, BOOKING_START_GRACE_SECONDS: '90' }).BOOKING_START_GRACE_SECONDS).toBe(90);
    expect(() => loadApiV2Config({ ...base, BOOKING_START_GRACE_SECONDS: '-1' })).toThrow(/BOOKING_START_GRACE_SECONDS/);
    expect(() => loadApiV2Config({ ...base, BOOKING_START_GRACE_SECONDS: '3601' })).toThrow(/BOOKING_START_GRACE_SECONDS/);
  });
});

describe('docs entry points', () => {
  it('the root and docs/ redirect to the docs, keeping the public prefix', async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      ['/', {}, 302, '/docs'],
      ['/', { 'x-forwarded-prefix': '/v2' }, 302, '/v2/docs'],
      ['/docs/', {}, 301, '/docs'],
      ['/docs/', { 'x-forwarded-prefix': '/v2' }, 301, '/v2/docs'],
    ];
    for (const [path, headers, status, location] of cases) {
      const res = await request(h.v2, path, { redirect: 'manual', headers });
      expect(res.status, path).toBe(status);
      expect(res.headers.get('location'), path).toBe(location);
    }
  });

  it('serves a favicon, linked from the docs page', async () => {
    const page = await (await request(h.v2, '/docs')).text();
    expect(page).toContain('<link rel="icon" type="image/svg+xml" href="docs/assets/favicon.svg">');
    for (const path of ['/docs/assets/favicon.svg', '/favicon.ico']) {
      const icon = await request(h.v2, path);
      expect(icon.status, path).toBe(200);
      expect(icon.headers.get('content-type'), path).toBe('image/svg+xml');
      expect(await icon.text(), path).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/);
    }
  });
});

describe('"Try it out" as shipped', () => {
  /** The request Swagger UI builds from the document: each parameter's example or default, the body's example. */
  async function tryItOut(path: string, method: string, who: { auth: Record<string, string> }, pathParams: Record<string, string> = {}) {
    const doc = (await api(h.v2, 'GET', '/openapi.json')).body;
    const op = doc.paths[path][method];
    const query = new URLSearchParams();
    const headers: Record<string, string> = { ...who.auth };
    for (const p of op.parameters ?? []) {
      const value = p.example ?? p.schema?.example ?? p.schema?.default;
      if (value === undefined) continue;
      if (p.in === 'query') query.set(p.name, String(value));
      if (p.in === 'header') headers[p.name] = String(value);
    }
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => pathParams[name]!) + (query.size ? `?${query}` : '');
    return api(h.v2, method.toUpperCase(), url, op.requestBody?.content['application/json']?.example, headers);
  }

  it('works for listing and creating: the examples are requests the API accepts', async () => {
    const op = h.user('operator');
    const adv = h.user('advertiser');
    expect((await tryItOut('/displays', 'get', adv)).status).toBe(200);
    const created = await tryItOut('/displays', 'post', op);
    expect(created.status).toBe(201);
    const displayId = created.body.display.id;
    expect((await tryItOut('/displays/{id}', 'patch', op, { id: displayId })).status).toBe(200);
    expect((await tryItOut('/displays/{id}/availability', 'get', op, { id: displayId })).status).toBe(200);
    expect((await tryItOut('/displays/{id}/commands', 'post', op, { id: displayId })).status).toBe(202);
    const creative = await tryItOut('/creatives', 'post', adv);
    expect(creative.status).toBe(201);
    expect((await tryItOut('/creatives/{id}', 'patch', adv, { id: creative.body.id })).status).toBe(200);
    expect((await tryItOut('/creatives', 'get', adv)).status).toBe(200);
    expect((await tryItOut('/uploads', 'post', adv)).status).toBe(201);
    expect((await tryItOut('/bookings', 'get', adv)).status).toBe(200);
  });
});
