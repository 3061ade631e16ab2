/**
 * The auth front door as it runs: api-v2 relaying to a real account service. What api-v2 decides
 * alone (bad input, docs) is tested on the app in front-door-input.test.ts.
 */
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
