/**
 * The v1 contract end to end through the local edge (/v1 → api-v1 → account + api-v2 with real
 * PostgreSQL and Redis). Every v1 response shape is frozen with exact key sets and types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgePlatform, type EdgePlatform } from '../../../test/support/edge-platform.ts';
import {
  activeDisplay,
  api,
  expectV1Error,
  hoursFromNow,
  ORDER_SHAPE,
  PASSWORD,
  shapeOf,
  signUpAndLogIn,
  UUID,
  v1User,
  type Session,
  type V1User,
} from './v1-fixtures.ts';
import { serviceCredentialHeader, uniqueName } from '../../../test/support/infra.ts';
import { createDisplay } from '../../../test/support/platform.ts';
import { until } from '../../../test/support/until.ts';

let ep: EdgePlatform;
let operator: Session;
let display: { id: string; name: string };
let advertiser: V1User;

beforeAll(async () => {
  ep = await startEdgePlatform('api_v1_contract');
  operator = await signUpAndLogIn(ep.v2, 'operator');
  display = await activeDisplay(ep.v2, operator, { price: 375, address: 'Unter den Linden 5, Berlin' });
  advertiser = await v1User(ep.v1);
});
afterAll(async () => {
  await ep?.close();
});

describe('lifecycle headers', () => {
  it('every v1 response — success, business failure, 4xx, 404, probe, docs — carries Deprecation, Sunset and Link', async () => {
    const responses = await Promise.all([
      api(ep.v1, 'GET', '/devices'),
      api(ep.v1, 'POST', '/signup', { username: advertiser.username, password: PASSWORD }),
      api(ep.v1, 'POST', '/login', { username: 'nobody-here', password: 'wrong-password' }),
      api(ep.v1, 'GET', '/orders'),
      api(ep.v1, 'POST', '/orders', '{not json', advertiser.auth),
      api(ep.v1, 'GET', '/no-such-route'),
      api(ep.v1, 'GET', '/healthz'),
      api(ep.v1, 'GET', '/openapi.json'),
    ]);
    for (const res of responses) {
      expect(res.headers.get('deprecation')).toMatch(/^@\d{10}$/);
      const deprecatedAt = Number(res.headers.get('deprecation')!.slice(1)) * 1000;
      const sunset = res.headers.get('sunset')!;
      expect(sunset).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      expect(Date.parse(sunset)).toBeGreaterThan(deprecatedAt);
      expect(res.headers.get('link')).toBe('</v2/docs>; rel="successor-version"');
    }
    expect(responses[0]!.headers.get('deprecation')).toBe('@1767225600');
  });
});

describe('POST /v1/signup', () => {
  it('answers the original account service replies, always HTTP 200 with exactly {status, message, userid}', async () => {
    const username = uniqueName('Sign-');
    const ok = await api(ep.v1, 'POST', '/signup', { username, password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(shapeOf(ok.body)).toEqual({ status: 'integer', message: 'string', userid: 'string' });
    expect(ok.body).toMatchObject({ status: 0, message: 'succeed' });
    expect(ok.body.userid).toMatch(UUID);

    for (const taken of [username, username.toLowerCase(), username.toUpperCase()]) {
      const dup = await api(ep.v1, 'POST', '/signup', { username: taken, password: PASSWORD });
      expect(dup.status).toBe(200);
      expect(dup.body).toEqual({ status: -1, message: 'username existed', userid: '' });
    }
    const fresh = uniqueName('weak-');
    for (const password of ['short', '', 'password123', fresh]) {
      const weak = await api(ep.v1, 'POST', '/signup', { username: fresh, password });
      expect(weak.status).toBe(200);
      expect(weak.body).toEqual({ status: -2, message: 'password not strong', userid: '' });
    }
  });

  it('makes advertisers (v1 has no account type)', async () => {
    const login = await api(ep.v2, 'POST', '/auth/login', { username: advertiser.username, password: PASSWORD });
    expect(login.body.user).toMatchObject({ id: advertiser.userid, role: 'advertiser' });
  });

  it('refuses malformed input with 400 {status:-1, message}', async () => {
    const cases: unknown[] = [
      {},
      { username: 'someone' },
      { password: PASSWORD },
      { username: 42, password: PASSWORD },
      { username: 'someone', password: ['x'] },
      { username: 'someone', password: PASSWORD, accountType: 'operator' },
      { username: 'a!', password: PASSWORD },
      { username: 'x'.repeat(65), password: PASSWORD },
      [],
      'null',
      '{"username": "unterminated',
    ];
    for (const body of cases) expectV1Error(await api(ep.v1, 'POST', '/signup', body), 400);
    const form = await api(ep.v1, 'POST', '/signup', 'username=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expectV1Error(form, 415);
    expect(form.body.message).toBe('send the body as application/json');
  });
});

describe('POST /v1/login', () => {
  it('answers {status:0, "login succeed", userid, token} with a normal access token', async () => {
    const res = await api(ep.v1, 'POST', '/login', { username: advertiser.username, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(shapeOf(res.body)).toEqual({ status: 'integer', message: 'string', userid: 'string', token: 'string' });
    expect(res.body).toMatchObject({ status: 0, message: 'login succeed', userid: advertiser.userid });
    const me = await api(ep.v2, 'GET', '/me', undefined, { authorization: `Bearer ${res.body.token}` });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: advertiser.userid, username: advertiser.username });
  });

  it('answers {status:-1, "login fail", userid:""} for a wrong password or an unknown user', async () => {
    for (const body of [
      { username: advertiser.username, password: 'not-the-password' },
      { username: uniqueName('ghost-'), password: PASSWORD },
      { username: advertiser.username, password: '' },
    ]) {
      const res = await api(ep.v1, 'POST', '/login', body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: -1, message: 'login fail', userid: '' });
    }
  });

  it('refuses malformed input with 400', async () => {
    for (const body of [{}, { username: 'x' }, { username: 1, password: 'x' }, { username: 'x', password: 'y', extra: true }, '[1,2', '"str"']) {
      expectV1Error(await api(ep.v1, 'POST', '/login', body), 400);
    }
  });
});

describe('GET /v1/devices', () => {
  it('lists every active display as exactly {deviceid, name, location, online, price}, with presence', async () => {
    const pending = await createDisplay(ep.v2, operator.auth, { name: 'not yet active', pricePerSlotHour: 1 });

    const res = await api(ep.v1, 'GET', '/devices');
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toBeNull();
    expect(Array.isArray(res.body)).toBe(true);
    for (const device of res.body) expect(shapeOf(device)).toEqual({ deviceid: 'string', name: 'string', location: 'string', online: 'boolean', price: 'integer' });
    expect(res.body.map((d: any) => d.deviceid)).not.toContain(pending.id);
    expect(res.body.find((d: any) => d.deviceid === display.id)).toEqual({
      deviceid: display.id,
      name: display.name,
      location: 'Unter den Linden 5, Berlin',
      online: false,
      price: 375,
    });

    // device-tcp reports the display connected: v1 shows it online.
    const presence = await api(ep.apiV2InternalUrl, 'POST', '/internal/presence', {
      events: [
        {
          kind: 'connected',
          displayId: display.id,
          sessionId: 's-1',
          instanceId: 'device-tcp-test',
          at: new Date().toISOString(),
          remoteAddress: '127.0.0.1',
          playlistVersion: 0,
        },
      ],
    }, serviceCredentialHeader('device-tcp'));
    expect(presence.status).toBe(204);
    // api-v1 answers from its last copy when api-v2 is slower than 100 ms (a busy machine), so the
    // next answers, not necessarily the first, show it online.
    await until('v1 showing the display online', async () => (await api(ep.v1, 'GET', '/devices')).body.find((d: any) => d.deviceid === display.id)?.online === true);
  });

  it('ignores a query string and needs no login', async () => {
    const res = await api(ep.v1, 'GET', '/devices?page=2&x=%ff');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
  });
});

describe('OpenAPI and docs', () => {
  it('describes every v1 route and the error style', async () => {
    const spec = await api(ep.v1, 'GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.body.servers).toEqual([{ url: '/v1' }]);
    expect(Object.keys(spec.body.paths).sort()).toEqual(['/devices', '/login', '/orders', '/orders/{id}', '/orders/{id}/content', '/signup']);
    expect(Object.keys(spec.body.paths['/orders/{id}']).sort()).toEqual(['delete', 'get']);
    expect(spec.body.components.schemas.V1Error.properties).toHaveProperty('status');
    expect(spec.body.components.securitySchemes).toHaveProperty('bearerAuth');
    expect(spec.body.paths['/orders'].post.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/V1Error');
    const docs = await fetch(`${ep.v1}/docs`);
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toContain('openapi.json');
    const asset = await fetch(`${ep.v1}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    await asset.arrayBuffer();
  });
});
