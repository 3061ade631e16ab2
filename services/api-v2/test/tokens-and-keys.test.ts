/**
 * Access tokens across the real account service and api-v2's verifier, over sockets: signing-key
 * rotation (JWT_EXTRA_PUBLIC_KEYS) and token lifetimes (ACCESS_/REFRESH_TOKEN_TTL_SECONDS).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RunningAccount } from '@marquee/account';
import { loadApiV2Config, startApiV2, type RunningApiV2 } from '../src/index.ts';
import { api } from '../../../test/support/http.ts';
import { createScratchDatabase, deleteRedisKeys, generateSigningKeyPem, redisKeyPrefix, serviceCredentialHeader, suiteServiceSecrets, type ScratchDatabase } from '../../../test/support/infra.ts';
import { ACCOUNT_TIMEOUT_MS, signUpAndLogIn, startTestAccount } from '../../../test/support/platform.ts';

const PASSWORD = 'a-long-enough-passphrase'; // what signUpAndLogIn signs up with
const secrets = mkdtempSync(path.join(tmpdir(), 'token-keys-'));
let db: ScratchDatabase;
let sql: postgres.Sql;
let keyPrefix: string;
/** Services this test started and has not stopped, closed after each test (last started first). */
const running = new Set<{ close(): Promise<void> }>();

beforeAll(async () => {
  db = await createScratchDatabase('v2keys');
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
  keyPrefix = redisKeyPrefix('v2keys');
  writeFileSync(path.join(secrets, 'k1.pem'), generateSigningKeyPem());
  writeFileSync(path.join(secrets, 'k2.pem'), generateSigningKeyPem());
});
afterEach(async () => {
  for (const service of [...running].reverse()) await stop(service);
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
  await deleteRedisKeys(keyPrefix);
  rmSync(secrets, { recursive: true, force: true });
});

async function stop(service: { close(): Promise<void> }) {
  running.delete(service);
  await service.close();
}

async function account(env: Record<string, string>): Promise<RunningAccount> {
  const service = await startTestAccount({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: keyPrefix, ...env });
  running.add(service);
  return service;
}

async function apiV2(accountUrl: string, env: Record<string, string> = {}): Promise<RunningApiV2> {
  const service = await startApiV2(
    loadApiV2Config({
      HOST: '127.0.0.1',
      PORT: '0',
      INTERNAL_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...suiteServiceSecrets().env,
      DATABASE_URL: db.url,
      ACCOUNT_URL: accountUrl,
      ACCOUNT_TIMEOUT_MS,
      ...env,
    }),
  );
  running.add(service);
  return service;
}

const login = async (apiUrl: string, username: string) => {
  const res = await api(apiUrl, 'POST', '/auth/login', { username, password: PASSWORD });
  expect(res.status).toBe(200);
  return res.body as { accessToken: string; expiresIn: number; refreshToken: string; refreshExpiresIn: number };
};
/** A call api-v2 answers on its own verification of the token alone. */
const listBookings = (apiUrl: string, token: string) => api(apiUrl, 'GET', '/bookings', undefined, { authorization: `Bearer ${token}` });
const kidOf = (token: string) => (jwt.decode(token, { complete: true }) as jwt.Jwt).header.kid;

it('rotates signing keys: K1 tokens stay valid while K1 is retired-but-published, and are refused once it is dropped', async () => {
  const k1 = path.join(secrets, 'k1.pem');
  const k2 = path.join(secrets, 'k2.pem');
  let acct = await account({ JWT_PRIVATE_KEY_FILE: k1 });
  const port = new URL(acct.url).port;
  // api-v2 trusts fetched keys for 1 s and refetches on any unknown kid.
  const v2 = await apiV2(acct.url, { JWKS_MAX_AGE_MS: '1000', JWKS_MIN_REFETCH_MS: '0' });

  const user = await signUpAndLogIn(v2.url, 'advertiser');
  const byK1 = user.token;
  expect((await listBookings(v2.url, byK1)).status).toBe(200);
  const k1Jwks = (await api(acct.url, 'GET', '/.well-known/jwks.json', undefined, serviceCredentialHeader('api-v2'))).body as { keys: { kid: string }[] };
  expect(k1Jwks.keys.map((k) => k.kid)).toEqual([kidOf(byK1)]);

  // Rotate: the account service restarts (same address) signing with K2; K1's public key stays
  // published as a retired key.
  writeFileSync(path.join(secrets, 'retired.json'), JSON.stringify(k1Jwks));
  await stop(acct);
  acct = await account({ PORT: port, JWT_PRIVATE_KEY_FILE: k2, JWT_EXTRA_PUBLIC_KEYS_FILE: path.join(secrets, 'retired.json') });
  const byK2 = (await login(v2.url, user.username)).accessToken;
  expect(kidOf(byK2)).not.toBe(kidOf(byK1));
  const published = (await api(acct.url, 'GET', '/.well-known/jwks.json', undefined, serviceCredentialHeader('api-v2'))).body as { keys: { kid: string }[] };
  expect(published.keys.map((k) => k.kid)).toEqual([kidOf(byK2), kidOf(byK1)]);
  // K2's token made api-v2 refetch the JWKS; K1's token is still accepted under the new set.
  expect((await listBookings(v2.url, byK2)).status).toBe(200);
  expect((await listBookings(v2.url, byK1)).status).toBe(200);

  // Drop K1: restart with K2 alone. api-v2 refuses K1's token once its keys are older than
  // JWKS_MAX_AGE_MS (1 s; the exact bound is the kit's token verifier test) — K2's stays valid.
  await stop(acct);
  acct = await account({ PORT: port, JWT_PRIVATE_KEY_FILE: k2 });
  expect(((await api(acct.url, 'GET', '/.well-known/jwks.json', undefined, serviceCredentialHeader('api-v2'))).body as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([kidOf(byK2)]);
  let refused: Awaited<ReturnType<typeof listBookings>> | undefined;
  for (let i = 0; i < 600 && !refused; i++) {
    const res = await listBookings(v2.url, byK1);
    if (res.status !== 200) refused = res;
    else await new Promise((r) => setTimeout(r, 50));
  }
  expect(refused).toMatchObject({ status: 401, body: { detail: 'The access token was signed by an unknown key.' } });
  expect((await listBookings(v2.url, byK2)).status).toBe(200);
}, 120_000);

it('honours ACCESS_TOKEN_TTL_SECONDS and REFRESH_TOKEN_TTL_SECONDS: expired tokens are refused with a clear detail', async () => {
  const acct = await account({ ACCESS_TOKEN_TTL_SECONDS: '2', REFRESH_TOKEN_TTL_SECONDS: '3' });
  const v2 = await apiV2(acct.url);
  const user = await signUpAndLogIn(v2.url, 'advertiser');
  const tokens = await login(v2.url, user.username);
  expect([tokens.expiresIn, tokens.refreshExpiresIn]).toEqual([2, 3]);
  const claims = jwt.decode(tokens.accessToken) as jwt.JwtPayload;
  expect(claims.exp! - claims.iat!).toBe(2);
  // The refresh token's expiry, as the account service stored it.
  const [stored] = await sql<{ ttl: number; expired: boolean }[]>`
    select extract(epoch from expires_at - issued_at)::int as ttl from refresh_tokens
    where user_id = ${user.userId} order by issued_at desc limit 1`;
  expect(stored!.ttl).toBe(3);

  // Wait for the instants themselves (the token's exp by the clock api-v2 reads, the refresh
  // token's expires_at by PostgreSQL's), not for a guessed duration.
  while (Date.now() < claims.exp! * 1000) await new Promise((r) => setTimeout(r, 50));
  const expiredAccess = await listBookings(v2.url, tokens.accessToken);
  expect(expiredAccess).toMatchObject({ status: 401, body: { status: 401, detail: 'The access token has expired.' } });
  expect(expiredAccess.headers.get('content-type')).toMatch(/^application\/problem\+json/);

  for (;;) {
    const [row] = await sql<{ expired: boolean }[]>`
      select bool_and(expires_at <= now()) as expired from refresh_tokens where user_id = ${user.userId}`;
    if (row!.expired) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const refreshed = await api(v2.url, 'POST', '/auth/refresh', { refreshToken: tokens.refreshToken });
  expect(refreshed).toMatchObject({ status: 401, body: { detail: 'The refresh token is unknown, expired or revoked.' } });
}, 60_000);
