/**
 * api-v2 as one service under test: its public and internal Hono apps built by `createApiV2App` /
 * `createApiV2InternalApp` from injected dependencies — a scratch database (migrated), the
 * in-process bus, and a token verifier trusting a key pair made here — called with
 * `app.request()`. Users are tokens signed in-process exactly as the account service signs them,
 * so no account service runs. Suites whose behaviour crosses services use platform.ts instead.
 */
import { randomUUID } from 'node:crypto';
import {
  SERVICE_DATABASES,
  createDatabase,
  createInternalClient,
  createLogger,
  createMemoryBus,
  createMemoryCounterStore,
  createMetrics,
  SERVICE_CREDENTIAL_HEADER,
  createTokenVerifier,
  listen,
  migrate,
  type MessageBus,
  type Role,
  type Sql,
} from '@marquee/service-kit';
import { loadSigningKeys, signAccessToken } from '../../services/account/src/signing-keys.ts';
import { createApiV2App, createApiV2InternalApp, type ApiV2Deps } from '../../services/api-v2/src/app.ts';
import { API_V2_MIGRATIONS } from '../../services/api-v2/src/server.ts';
import { createLiveEventHub } from '../../services/api-v2/src/events/hub.ts';
import { createScratchDatabase, generateSigningKeyPem, serviceCredentialHeader, suiteServiceSecrets, uniqueName, type ScratchDatabase } from './infra.ts';
import type { Target } from './http.ts';
import type { Session } from './platform.ts';

export interface ApiV2TestApp {
  db: ScratchDatabase;
  /** The app's own pool (application_name 'api-v2'); tests may read and seed through it too. */
  sql: Sql;
  /** The in-process bus the app publishes on; subscribe to see what it sends device-tcp. */
  bus: MessageBus;
  deps: ApiV2Deps;
  /** The public app (what the edge serves under /v2). */
  v2: Target;
  /**
   * The internal app (device-tcp's and api-v1's endpoints), called as device-tcp (its credential
   * is added unless the request carries one).
   */
  internal: Target;
  /** The internal app with nothing added: the request's own credential or none. */
  internalBare: Target;
  /**
   * The public app on a real socket (127.0.0.1, ephemeral port), for what only a socket shows: a
   * client that stalls or drops its connection mid-body. Closed with the harness.
   */
  listen(): Promise<string>;
  /** A user of this role with a valid access token (a fresh id unless `userId` is given; `ttlSeconds` < 0: already expired). */
  user(role: Role, opts?: { userId?: string; username?: string; ttlSeconds?: number }): Session;
  close(): Promise<void>;
}

export interface ApiV2TestAppOptions {
  holdTtlSeconds?: number;
  bookingStartGraceSeconds?: number;
  maxUploadBytes?: number;
  publicBaseUrl?: string;
  playClockSkewMs?: number;
  /** The bus (default: the in-process one); the harness closes it. A Redis bus lets a second replica share it. */
  bus?: MessageBus;
  liveHeartbeatMs?: number;
  liveStreamMaxMs?: number;
}

export async function startApiV2TestApp(name: string, opts: ApiV2TestAppOptions = {}): Promise<ApiV2TestApp> {
  const db = await createScratchDatabase(name);
  const logger = createLogger('api-v2', process.env.TEST_LOG_LEVEL ?? 'silent');
  const database = { url: db.serviceUrl('api-v2'), applicationName: 'api-v2', schema: SERVICE_DATABASES['api-v2'].schema };
  const sql = createDatabase({ ...database, max: 20 });
  // As in production (server.ts): hot single-statement reads on their own small pool.
  const readSql = createDatabase({ ...database, max: 4 });
  const bus = opts.bus ?? createMemoryBus({ logger });
  const keys = loadSigningKeys(generateSigningKeyPem());
  // Only the /auth relay and /me call the account service; none runs here, so they answer 503.
  const account = createInternalClient({ name: 'account service', baseUrl: 'http://127.0.0.1:9', timeoutMs: 1_000, retries: 0 });
  try {
    await migrate(sql, 'api-v2', API_V2_MIGRATIONS, logger);
  } catch (err) {
    await sql.end();
    await readSql.end();
    await db.drop();
    throw err;
  }
  const deps: ApiV2Deps = {
    sql,
    readSql,
    bus,
    account,
    verifier: createTokenVerifier({ fetchJwks: async () => keys.jwks }),
    logger,
    metrics: createMetrics('api-v2'),
    publicBaseUrl: opts.publicBaseUrl ?? 'http://127.0.0.1:8080/v2',
    holdTtlSeconds: opts.holdTtlSeconds ?? 900,
    bookingStartGraceSeconds: opts.bookingStartGraceSeconds,
    maxUploadBytes: opts.maxUploadBytes ?? 512 * 1024 * 1024,
    playClockSkewMs: opts.playClockSkewMs,
    serviceSecrets: suiteServiceSecrets().secrets,
    credentialFailures: createMemoryCounterStore(),
    liveEvents: createLiveEventHub({ bus, logger }),
    liveHeartbeatMs: opts.liveHeartbeatMs,
    liveStreamMaxMs: opts.liveStreamMaxMs,
  };
  await deps.liveEvents.ready;
  const publicApp = createApiV2App(deps);
  const internalApp = createApiV2InternalApp(deps);
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  return {
    db,
    sql,
    bus,
    deps,
    v2: (path, init) => publicApp.request(path, init),
    internal: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has(SERVICE_CREDENTIAL_HEADER)) for (const [k, v] of Object.entries(serviceCredentialHeader('device-tcp'))) headers.set(k, v);
      return internalApp.request(path, { ...init, headers });
    },
    internalBare: (path, init) => internalApp.request(path, init),
    async listen() {
      server ??= await listen(publicApp, '127.0.0.1', 0);
      return server.url;
    },
    user(role, o = {}) {
      const userId = o.userId ?? randomUUID();
      const username = o.username ?? uniqueName(`${role.slice(0, 3)}-`);
      const token = signAccessToken(keys, { sub: userId, username, role }, o.ttlSeconds ?? 3_600);
      return { userId, username, token, auth: { authorization: `Bearer ${token}` } };
    },
    async close() {
      await deps.liveEvents.close();
      await server?.close(1_000);
      await account.close();
      await bus.close();
      await sql.end({ timeout: 5 });
      await readSql.end({ timeout: 5 });
      await db.drop();
    },
  };
}
