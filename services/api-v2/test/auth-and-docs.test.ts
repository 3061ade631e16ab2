import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signUpAndLogIn, startTestPlatform, type TestPlatform } from '../../../test/support/platform.ts';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform('v2auth');
});
afterAll(async () => p?.close());

describe('auth front door', () => {
  it('signs up, logs in, reads /me, refreshes and logs out through api-v2', async () => {
    const s = await signUpAndLogIn(p.apiV2.url, 'advertiser');
    const me = await api(p.apiV2.url, 'GET', '/me', undefined, s.auth);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: s.userId, username: s.username, role: 'advertiser' });

    const login = await api(p.apiV2.url, 'POST', '/auth/login', { username: s.username, password: 'a-long-enough-passphrase' });
    const refreshed = await api(p.apiV2.url, 'POST', '/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect((await api(p.apiV2.url, 'POST', '/auth/logout', { refreshToken: refreshed.body.refreshToken })).status).toBe(204);
    expect((await api(p.apiV2.url, 'POST', '/auth/refresh', { refreshToken: refreshed.body.refreshToken })).status).toBe(401);
  });

  it('relays the account service verdicts as problem+json', async () => {
    const s = await signUpAndLogIn(p.apiV2.url, 'operator');
    const dup = await api(p.apiV2.url, 'POST', '/auth/signup', { username: s.username.toUpperCase(), password: 'another-passphrase', accountType: 'operator' });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toBe('application/problem+json');
    const weak = await api(p.apiV2.url, 'POST', '/auth/signup', { username: 'weakling-x', password: 'password', accountType: 'operator' });
    expect(weak.status).toBe(422);
    expect(weak.body.code).toBe('weak-password');
  });

  it('refuses bad input before calling anyone: malformed JSON, wrong types, unknown fields, no token', async () => {
    const malformed = await api(p.apiV2.url, 'POST', '/auth/login', '{"username":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    const wrongTypes = await api(p.apiV2.url, 'POST', '/auth/login', { username: 1, password: true });
    expect(wrongTypes.status).toBe(422);
    const unknown = await api(p.apiV2.url, 'POST', '/auth/signup', { username: 'abc-def', password: 'x-long-pass', accountType: 'operator', admin: true });
    expect(unknown.status).toBe(422);
    const huge = await api(p.apiV2.url, 'POST', '/auth/login', { username: 'a', password: 'b'.repeat(200_000) });
    expect(huge.status).toBe(413);
    const noToken = await api(p.apiV2.url, 'GET', '/me');
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('docs', () => {
  it('serves an OpenAPI 3.1 document and a docs page with its assets', async () => {
    const doc = await api(p.apiV2.url, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/auth/signup', '/auth/login', '/me']));
    const page = await fetch(p.apiV2.url + '/docs');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const asset = await fetch(p.apiV2.url + '/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});

describe('account service down', () => {
  it('answers 503 problem+json instead of hanging, and the breaker then fails fast without calling', async () => {
    await p.account.close();
    const details: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await api(p.apiV2.url, 'POST', '/auth/login', { username: 'someone', password: 'whatever-pass' });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      details.push(res.body.detail);
    }
    // The first calls found nobody listening; then the breaker opened and calls stopped going out.
    expect(details[0]).not.toMatch(/circuit open/);
    expect(details.at(-1)).toMatch(/circuit open/);
  });
});
