import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type Jwks } from '@marquee/service-kit';
import { loadAccountConfig, startAccount, type RunningAccount } from '../src/index.ts';
import {
  TEST_REDIS_URL,
  createScratchDatabase,
  deleteRedisKeys,
  generateSigningKeyPem,
  redisKeyPrefix,
  serviceCredentialHeader,
  suiteServiceSecrets,
  uniqueName,
  type ScratchDatabase,
} from '../../../test/support/infra.ts';

let db: ScratchDatabase;
const signingPem = generateSigningKeyPem();
let account: RunningAccount;
const redisPrefixProbe = new Redis(TEST_REDIS_URL);
const keyPrefix = redisKeyPrefix('account');

/** A call as api-v2 makes it (with its service credential). */
async function call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers = { ...serviceCredentialHeader('api-v2'), ...extra };
  const res = await fetch(account.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  db = await createScratchDatabase('account');
  const config = loadAccountConfig({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_PRIVATE_KEY: signingPem,
    ...suiteServiceSecrets().env,
    LOGIN_MAX_FAILURES_PER_USER: '3',
    LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
    LOGIN_FAILURE_WINDOW_SECONDS: '60',
    ADMIN_USERNAME: 'root-admin',
    ADMIN_PASSWORD: 'correct horse battery staple',
  });
  account = await startAccount(config);
});

afterAll(async () => {
  await account?.close();
  await redisPrefixProbe.quit();
  await db?.drop();
  await deleteRedisKeys(keyPrefix);
});

describe('signup', () => {
  it('creates an advertiser and refuses the same name in any letter case', async () => {
    const name = uniqueName('Alice');
    const created = await call('POST', '/signup', { username: name, password: 'tulips-in-may', accountType: 'advertiser' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: name, role: 'advertiser' });
    expect(created.body.password_hash).toBeUndefined();

    for (const variant of [name, name.toUpperCase(), name.toLowerCase()]) {
      const dup = await call('POST', '/signup', { username: variant, password: 'other-good-pass', accountType: 'operator' });
      expect(dup.status).toBe(409);
      expect(dup.headers.get('content-type')).toBe('application/problem+json');
      expect(dup.body).toMatchObject({ status: 409, code: 'username-taken' });
    }
  });

  it.each([
    ['short', 'Ab1!', /at least 8/],
    ['same as username', 'SAMENAME-1', /same as the username/],
    ['common', 'Password123', /too common/],
  ])('refuses a weak password (%s) with a clear 422', async (_label, password, message) => {
    const username = _label === 'same as username' ? 'samename-1' : uniqueName('weak');
    const res = await call('POST', '/signup', { username, password, accountType: 'advertiser' });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.code).toBe('weak-password');
    expect(res.body.detail).toMatch(message);
  });

  it('answers malformed JSON with 400, wrong types and unknown fields with 422, a huge body with 413', async () => {
    const malformed = await call('POST', '/signup', '{"username": "x", ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');

    const wrongTypes = await call('POST', '/signup', { username: 42, password: ['x'], accountType: 'king' });
    expect(wrongTypes.status).toBe(422);
    expect(wrongTypes.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['accountType', 'password', 'username']);

    const unknown = await call('POST', '/signup', { username: uniqueName('u'), password: 'tulips-in-may', accountType: 'advertiser', role: 'admin' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toMatch(/unknown field.*role/);

    const huge = await call('POST', '/signup', { username: 'x'.repeat(100), password: 'y'.repeat(100_000), accountType: 'advertiser' });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toBe('application/problem+json');

    const notJson = await call('POST', '/signup', 'username=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(notJson.status).toBe(415);
  });

  it('never lets signup create an admin, but the configured first admin exists', async () => {
    const res = await call('POST', '/signup', { username: uniqueName('boss'), password: 'tulips-in-may', accountType: 'admin' });
    expect(res.status).toBe(422);
    const login = await call('POST', '/login', { username: 'ROOT-ADMIN', password: 'correct horse battery staple' });
    expect(login.status).toBe(200);
    expect(login.body.user.role).toBe('admin');
  });
});

describe('login, refresh, logout', () => {
  const password = 'violets-are-blue';
  let username: string;
  beforeAll(async () => {
    username = uniqueName('bob');
    expect((await call('POST', '/signup', { username, password, accountType: 'operator' })).status).toBe(201);
  });

  it('issues an ES256 access token with a kid that the shared verifier accepts via JWKS', async () => {
    const login = await call('POST', '/login', { username: username.toUpperCase(), password });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', user: { username, role: 'operator' } });
    const header = jwt.decode(login.body.accessToken, { complete: true })!.header;
    expect(header.alg).toBe('ES256');
    const jwks = (await call('GET', '/.well-known/jwks.json')).body as Jwks;
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    const verifier = createTokenVerifier({ fetchJwks: async () => jwks });
    await expect(verifier.verify(login.body.accessToken)).resolves.toMatchObject({ username, role: 'operator' });

    const me = await call('GET', '/me', undefined, { authorization: `Bearer ${login.body.accessToken}` });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe(username);
  });

  it('gives the same 401 for an unknown user and a wrong password', async () => {
    const unknown = await call('POST', '/login', { username: uniqueName('nobody'), password });
    const wrong = await call('POST', '/login', { username, password: 'not-the-password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
    // A successful login resets this user's counter, so the wrong attempt above does not linger.
    expect((await call('POST', '/login', { username, password })).status).toBe(200);
  });

  it('rotates refresh tokens; reusing a rotated one revokes the whole family', async () => {
    const login = await call('POST', '/login', { username, password });
    const first = login.body.refreshToken;
    const second = await call('POST', '/refresh', { refreshToken: first });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first);
    const third = await call('POST', '/refresh', { refreshToken: second.body.refreshToken });
    expect(third.status).toBe(200);

    // The first token is presented again: theft. The live token of the family dies with it.
    const reuse = await call('POST', '/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.detail).toMatch(/already used/);
    const afterRevoke = await call('POST', '/refresh', { refreshToken: third.body.refreshToken });
    expect(afterRevoke.status).toBe(401);

    // Another login (another family) is unaffected.
    const other = await call('POST', '/login', { username, password });
    expect((await call('POST', '/refresh', { refreshToken: other.body.refreshToken })).status).toBe(200);
  });

  it('logout revokes the refresh token', async () => {
    const login = await call('POST', '/login', { username, password });
    expect((await call('POST', '/logout', { refreshToken: login.body.refreshToken })).status).toBe(204);
    expect((await call('POST', '/refresh', { refreshToken: login.body.refreshToken })).status).toBe(401);
    expect((await call('POST', '/refresh', { refreshToken: 'made-up' })).status).toBe(401);
  });

  it('throttles repeated failures per username with 429 and Retry-After (counted in Redis)', async () => {
    const victim = uniqueName('carol');
    expect((await call('POST', '/signup', { username: victim, password, accountType: 'advertiser' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await call('POST', '/login', { username: victim, password: 'wrong-guess' })).status).toBe(401);
    const blocked = await call('POST', '/login', { username: victim.toUpperCase(), password });
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(blocked.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(await redisPrefixProbe.get(`${keyPrefix}throttle:login:user:${victim.toLowerCase()}`))).toBe(3);
  });
});

describe('the shared verifier refuses forged tokens', () => {
  it('rejects alg none, HS256 signed with the public key, a foreign key and an expired token', async () => {
    const jwks = (await call('GET', '/.well-known/jwks.json')).body as Jwks;
    const verifier = createTokenVerifier({ fetchJwks: async () => jwks });
    const kid = jwks.keys[0]!.kid!;
    const claims = { sub: '00000000-0000-0000-0000-000000000001', username: 'mallory', role: 'admin', iss: 'marquee-account', aud: 'marquee' };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

    const none = `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 })}.`;
    await expect(verifier.verify(none)).rejects.toThrow(/algorithm/);

    const publicPem = createPublicKey({ key: jwks.keys[0]!, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
    const hmac = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 })}`;
    const hs256 = `${hmac}.${createHmac('sha256', publicPem).update(hmac).digest('base64url')}`;
    await expect(verifier.verify(hs256)).rejects.toThrow(/algorithm/);

    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = jwt.sign(claims, foreign, { algorithm: 'ES256', keyid: kid, expiresIn: 60 });
    await expect(verifier.verify(forged)).rejects.toThrow(/invalid/);

    const expired = jwt.sign(claims, signingPem, { algorithm: 'ES256', keyid: kid, expiresIn: -10 });
    await expect(verifier.verify(expired)).rejects.toThrow(/expired/);
    const genuine = jwt.sign(claims, signingPem, { algorithm: 'ES256', keyid: kid, expiresIn: 60 });
    await expect(verifier.verify(genuine)).resolves.toMatchObject({ username: 'mallory' });

    // Also refused by a live service route, as problem+json 401.
    for (const token of [none, hs256, forged, expired, 'not-a-jwt']) {
      const res = await call('GET', '/me', undefined, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});
