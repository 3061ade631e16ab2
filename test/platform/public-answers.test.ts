/**
 * Issue 17.3 through the real edge, account service, api-v2 and api-v1, as a client sees them:
 * problems name the public path (also those relayed from the account service), every 401 carries
 * a Bearer challenge, and /vN, /vN/ and /vN/docs/ lead to the docs, which have an icon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startEdgePlatform, type EdgePlatform } from '../support/edge-platform.ts';
import { uniqueName } from '../support/infra.ts';

let ep: EdgePlatform;
beforeAll(async () => {
  ep = await startEdgePlatform('answers');
});
afterAll(async () => ep?.close());

describe('through the edge', () => {
  it("a problem relayed from the account service names the public path, not the account service's", async () => {
    const username = uniqueName('dup-');
    const signup = { username, password: 'a-long-enough-passphrase', accountType: 'advertiser' };
    expect((await api(ep.v2, 'POST', '/auth/signup', signup)).status).toBe(201);
    const taken = await api(ep.v2, 'POST', '/auth/signup', signup);
    expect(taken.status).toBe(409);
    expect(taken.body.instance).toBe('/v2/auth/signup');
    // api-v2's own problems too.
    const invalid = await api(ep.v2, 'POST', '/auth/signup', { ...signup, accountType: 'king' });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ instance: '/v2/auth/signup', detail: 'Check the request body: accountType must be one of: advertiser, operator.' });
  });

  it('every 401 carries WWW-Authenticate: Bearer (error="invalid_token" for a refused token), v1 included', async () => {
    const login = await api(ep.v2, 'POST', '/auth/login', { username: uniqueName('nobody-'), password: 'not-the-password' });
    expect(login.status).toBe(401);
    expect(login.headers.get('www-authenticate')).toBe('Bearer');
    expect(login.body.instance).toBe('/v2/auth/login');

    const refresh = await api(ep.v2, 'POST', '/auth/refresh', { refreshToken: 'not-a-refresh-token' });
    expect(refresh.status).toBe(401);
    expect(refresh.headers.get('www-authenticate')).toBe('Bearer');

    const noToken = await api(ep.v2, 'GET', '/me');
    expect([noToken.status, noToken.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    const badToken = await api(ep.v2, 'GET', '/me', undefined, { authorization: 'Bearer abc.def.ghi' });
    expect(badToken.status).toBe(401);
    expect(badToken.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);

    const v1NoToken = await api(ep.v1, 'GET', '/orders');
    expect([v1NoToken.status, v1NoToken.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    // A well-formed token api-v2 refuses: v1 relays api-v2's challenge.
    const v1Refused = await api(ep.v1, 'GET', '/orders', undefined, { authorization: 'Bearer abc.def.ghi' });
    expect(v1Refused.status).toBe(401);
    expect(v1Refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it.each(['v1', 'v2'] as const)('/%s, /%s/ and /%s/docs/ lead to the docs; the docs have an icon', async (version) => {
    const base = ep[version];
    for (const [path, status] of [['', 302], ['/', 302], ['/docs/', 301]] as const) {
      const res = await fetch(base + path, { redirect: 'manual' });
      expect(res.status, path).toBe(status);
      expect(res.headers.get('location'), path).toBe(`/${version}/docs`);
    }
    const followed = await fetch(base);
    expect(followed.url).toBe(`${base}/docs`);
    expect(await followed.text()).toContain('swagger-ui');
    const icon = await fetch(`${base}/favicon.ico`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
  });
});
