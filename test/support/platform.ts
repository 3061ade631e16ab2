/**
 * Starts real services for integration tests: account + api-v2 on a scratch database, the bus on
 * the machine's Redis, all on 127.0.0.1 ephemeral ports. Tests talk to them over real sockets.
 */
import { loadAccountConfig, startAccount, type RunningAccount } from '@marquee/account';
import { loadApiV2Config, startApiV2, type RunningApiV2 } from '@marquee/api-v2';
import { api, type Target } from './http.ts';
import {
  TEST_REDIS_URL,
  createScratchDatabase,
  deleteRedisKeys,
  generateSigningKeyPem,
  redisKeyPrefix,
  suiteServiceSecrets,
  uniqueBusPrefix,
  uniqueName,
  type ScratchDatabase,
} from './infra.ts';

export { api };

export interface TestPlatform {
  db: ScratchDatabase;
  /** The suite's own Redis key prefix (deleted on close). */
  redisKeyPrefix: string;
  account: RunningAccount;
  apiV2: RunningApiV2;
  redisUrl: string;
  /** This platform's BUS_PREFIX (unique per suite); give it to every service joining its bus. */
  busPrefix: string;
  close(): Promise<void>;
}

/**
 * Signup and login cost a password hash each; on a machine other jobs keep busy that has taken
 * longer than the services' 3 s default, failing suites in their setup. No suite tests that
 * timeout's value (outages are tested with a stopped account service).
 */
export const ACCOUNT_TIMEOUT_MS = '20000';

export async function startTestPlatform(name: string, overrides: { apiV2?: Record<string, string> } = {}): Promise<TestPlatform> {
  const db = await createScratchDatabase(name);
  const busPrefix = uniqueBusPrefix(name);
  const keyPrefix = redisKeyPrefix(name);
  const common = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...suiteServiceSecrets().env };
  const account = await startTestAccount({ DATABASE_URL: db.serviceUrl('account'), REDIS_KEY_PREFIX: keyPrefix });
  const apiV2 = await startApiV2(
    loadApiV2Config({
      ...common,
      INTERNAL_PORT: '0',
      DATABASE_URL: db.serviceUrl('api-v2'),
      REDIS_URL: TEST_REDIS_URL,
      BUS_PREFIX: busPrefix,
      ACCOUNT_URL: account.url,
      ACCOUNT_TIMEOUT_MS,
      ...overrides.apiV2,
    }),
  );
  return {
    db,
    account,
    apiV2,
    redisKeyPrefix: keyPrefix,
    redisUrl: TEST_REDIS_URL,
    busPrefix,
    async close() {
      await apiV2.close();
      await account.close();
      await db.drop();
      await deleteRedisKeys(keyPrefix);
    },
  };
}

/**
 * The account service on 127.0.0.1 (an ephemeral port unless PORT is given) with a fresh signing
 * key and the machine's Redis; `env` adds to or replaces its configuration (DATABASE_URL and
 * REDIS_KEY_PREFIX are required: the suite's own).
 */
export function startTestAccount(env: Record<string, string> & { DATABASE_URL: string; REDIS_KEY_PREFIX: string }): Promise<RunningAccount> {
  const hasKey = env.JWT_PRIVATE_KEY !== undefined || env.JWT_PRIVATE_KEY_FILE !== undefined;
  return startAccount(
    loadAccountConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      REDIS_URL: TEST_REDIS_URL,
      ...suiteServiceSecrets().env,
      ...(hasKey ? {} : { JWT_PRIVATE_KEY: generateSigningKeyPem() }),
      ...env,
    }),
  );
}

export interface Session {
  userId: string;
  username: string;
  token: string;
  auth: { authorization: string };
}

/**
 * The environment of a device-tcp joining this platform: its bus (Redis under the platform's
 * prefix), api-v2's internal port, loopback listeners on free ports. Every test that starts a
 * device-tcp against a platform builds its config here, so what joining takes is said once.
 */
export function deviceTcpEnv(p: TestPlatform, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    DEVICE_HOST: '127.0.0.1',
    DEVICE_PORT: '0',
    REDIS_URL: p.redisUrl,
    BUS_PREFIX: p.busPrefix,
    API_V2_URL: p.apiV2.internalUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...suiteServiceSecrets().env,
    ...overrides,
  };
}

/** Signs up and logs in a fresh user through the public API. */
export async function signUpAndLogIn(apiUrl: string, accountType: 'advertiser' | 'operator'): Promise<Session> {
  const username = uniqueName(accountType.slice(0, 3) + '-');
  const password = 'a-long-enough-passphrase';
  const signup = await fetch(`${apiUrl}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, accountType }),
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${await signup.text()}`);
  const login = await fetch(`${apiUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const body = (await login.json()) as { accessToken: string; user: { id: string } };
  return { userId: body.user.id, username, token: body.accessToken, auth: { authorization: `Bearer ${body.accessToken}` } };
}

/**
 * Creates a display through the public API as an operator (and activates it if asked); returns
 * the device credential. Overrides replace the defaults field by field. Content policy `auto`
 * unless overridden: suites about something else expect what they book to play at once.
 */
export async function createDisplay(
  apiUrl: Target,
  auth: Record<string, string>,
  overrides: Record<string, unknown> = {},
  opts: { activate?: boolean } = {},
): Promise<{ id: string; secret: string }> {
  const created = await api(
    apiUrl,
    'POST',
    '/displays',
    {
      name: 'Test screen',
      location: { lat: 52.5, lng: 13.4 },
      timezone: 'Europe/Berlin',
      resolution: { widthPx: 1920, heightPx: 1080 },
      loop: { lengthMs: 60_000, slotCount: 6 },
      pricePerSlotHour: 100,
      contentPolicy: 'auto',
      ...overrides,
    },
    auth,
  );
  if (created.status !== 201) throw new Error(`display not created: ${created.status} ${JSON.stringify(created.body)}`);
  const display = { id: created.body.display.id as string, secret: created.body.credential.secret as string };
  if (opts.activate) {
    const activated = await api(apiUrl, 'POST', `/displays/${display.id}/activate`, undefined, auth);
    if (activated.status !== 200) throw new Error(`display not activated: ${activated.status}`);
  }
  return display;
}
