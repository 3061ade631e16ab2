/**
 * The console's session against the real account + api-v2: concurrent 401s share one refresh
 * (a second refresh with the same token would be taken for theft and end the session), requests
 * are resent intact, and a reused refresh token ends the session.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSession, type TokenStore } from '../web/src/api/session.ts';
import { uniqueName } from '../../../test/support/infra.ts';
import { startTestPlatform, type TestPlatform } from '../../../test/support/platform.ts';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform('console_session');
}, 60_000);
afterAll(async () => p?.close());

function memoryStore(): TokenStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return { values, getItem: (k) => values.get(k) ?? null, setItem: (k, v) => void values.set(k, v), removeItem: (k) => void values.delete(k) };
}

async function logIn() {
  const username = uniqueName('adv-');
  const password = 'a-long-enough-passphrase';
  const post = (path: string, body: unknown) => fetch(`${p.apiV2.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('/auth/signup', { username, password, accountType: 'advertiser' })).status).toBe(201);
  return (await (await post('/auth/login', { username, password })).json()) as Parameters<ReturnType<typeof createSession>['session']['signedIn']>[0];
}

function instrumented(store: TokenStore) {
  const calls = { refresh: 0 };
  const { session, authFetch } = createSession({
    apiBase: p.apiV2.url,
    storage: () => store,
    fetch: (request) => {
      if (new URL(request.url).pathname === '/auth/refresh') calls.refresh++;
      return fetch(request);
    },
  });
  return { session, authFetch, calls };
}

it('answers concurrent 401s with a single refresh and resends every request, bodies included', async () => {
  const tokens = await logIn();
  const store = memoryStore();
  const { session, authFetch, calls } = instrumented(store);
  // An access token the API refuses, as an expired one would be.
  session.signedIn({ ...tokens, accessToken: 'expired.access.token' });
  const me = () => authFetch(new Request(`${p.apiV2.url}/me`));
  const card = (i: number) =>
    authFetch(
      new Request(`${p.apiV2.url}/creatives`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `card ${i}`, type: 'text', body: `hello ${i}`, durationMs: 5000 }),
      }),
    );
  const answers = await Promise.all([me(), me(), me(), card(1), card(2)]);
  expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 201, 201]);
  expect(calls.refresh).toBe(1);
  expect(((await answers[3]!.json()) as { name: string }).name).toBe('card 1');
  expect(session.accessToken).not.toBe('expired.access.token');
  expect(store.values.get('marquee.refreshToken')).not.toBe(tokens.refreshToken); // rotated

  // A request sent with the old token after the refresh finished is resent without refreshing again.
  expect((await me()).status).toBe(200);
  expect(calls.refresh).toBe(1);
});

it('ends the session when a rotated refresh token is used again (the family is revoked)', async () => {
  const tokens = await logIn();
  const store = memoryStore();
  const { session, authFetch } = instrumented(store);
  session.signedIn({ ...tokens, accessToken: 'expired.access.token' });
  expect((await authFetch(new Request(`${p.apiV2.url}/me`))).status).toBe(200);

  // Someone replays the first refresh token (e.g. copied from storage earlier).
  const thief = instrumented(memoryStore());
  thief.session.signedIn({ ...tokens, accessToken: 'expired.access.token' });
  expect(await thief.session.refresh()).toBe(false);
  expect(thief.session.user).toBeNull();

  // The real tab's next refresh is refused too: it is signed out, not left half signed in.
  session.signedIn({ ...tokens, accessToken: 'expired.access.token', refreshToken: store.values.get('marquee.refreshToken')! });
  const res = await authFetch(new Request(`${p.apiV2.url}/me`));
  expect(res.status).toBe(401);
  expect(session.user).toBeNull();
  expect(session.hasStoredSession()).toBe(false);
});
