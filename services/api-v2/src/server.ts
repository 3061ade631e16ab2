import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SERVICE_DATABASES,
  createDatabase,
  createInternalClient,
  createMemoryCounterStore,
  createRedisCounterStore,
  ownCredential,
  serviceSecretsOf,
  createLogger,
  createMemoryBus,
  createMetrics,
  createRedisBus,
  createTokenVerifier,
  closeServers,
  listen,
  migrate,
  waitForDatabase,
  type Jwks,
  type Logger,
  type MessageBus,
} from '@marquee/service-kit';
import { createApiV2App, createApiV2InternalApp } from './app.ts';
import { startHoldSweeper } from './bookings/sweeper.ts';
import { startPlaylistRenewal } from './playlists/renewal.ts';
import { startPresenceSweeper } from './devices/presence.ts';
import { createLiveEventHub, type LiveEventHub } from './events/hub.ts';
import { API_V2_SECRETS, type ApiV2Config } from './config.ts';
import { Redis } from 'ioredis';

export const API_V2_MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations');

export interface RunningApiV2 {
  url: string;
  internalUrl: string;
  close(): Promise<void>;
}

/**
 * Opens the pool, waits for the database, migrates, connects the bus and listens on the public and
 * the internal port.
 * `bus` is passed in by the local launcher (shared in-process bus); otherwise Redis is used.
 */
export async function startApiV2(config: ApiV2Config, opts: { logger?: Logger; bus?: MessageBus } = {}): Promise<RunningApiV2> {
  const logger = opts.logger ?? createLogger('api-v2', config.LOG_LEVEL);
  const database = { url: config.DATABASE_URL, password: config.DATABASE_PASSWORD, applicationName: 'api-v2', schema: SERVICE_DATABASES['api-v2'].schema };
  const sql = createDatabase({ ...database, max: config.DATABASE_POOL_MAX });
  const readSql = createDatabase({ ...database, max: config.DATABASE_READ_POOL_MAX });
  const metrics = createMetrics('api-v2');
  const ownsBus = !opts.bus;
  const bus =
    opts.bus ??
    (config.REDIS_URL
      ? createRedisBus(config.REDIS_URL, { prefix: config.BUS_PREFIX, logger, registry: metrics.registry })
      : createMemoryBus({ logger, registry: metrics.registry }));
  const account = createInternalClient({
    name: 'account service',
    baseUrl: config.ACCOUNT_URL,
    timeoutMs: config.ACCOUNT_TIMEOUT_MS,
    credential: ownCredential(config, 'api-v2'),
  });
  // Wrong display secrets are counted across replicas when there is a Redis.
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const verifier = createTokenVerifier({
    fetchJwks: async (context) => (await account.request<Jwks>({ method: 'GET', path: '/.well-known/jwks.json', context })).body,
    maxAgeMs: config.JWKS_MAX_AGE_MS,
    minRefetchMs: config.JWKS_MIN_REFETCH_MS,
  });
  let liveEvents: LiveEventHub | undefined;
  /** `requestsCut`: requests were cut at the grace period, so nobody waits for what they started. */
  const closeAll = async (requestsCut = false) => {
    await liveEvents?.close();
    const timeout = requestsCut ? 0 : 5;
    await Promise.all([sql.end({ timeout }), readSql.end({ timeout })]);
    await (requestsCut ? account.destroy() : account.close());
    redis?.disconnect();
    if (ownsBus) await bus.close();
  };
  try {
    await waitForDatabase(sql, { logger });
    await migrate(sql, 'api-v2', API_V2_MIGRATIONS, logger);
    liveEvents = createLiveEventHub({ bus, logger }, { kept: config.LIVE_EVENTS_KEPT });
    await liveEvents.ready;
    const deps = {
      sql,
      readSql,
      bus,
      account,
      verifier,
      logger,
      metrics,
      publicBaseUrl: config.PUBLIC_BASE_URL.replace(/\/$/, ''),
      holdTtlSeconds: config.HOLD_TTL_SECONDS,
      bookingStartGraceSeconds: config.BOOKING_START_GRACE_SECONDS,
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      playClockSkewMs: config.PLAY_CLOCK_SKEW_MS,
      serviceSecrets: serviceSecretsOf(config, API_V2_SECRETS),
      credentialFailures: redis ? createRedisCounterStore(redis, `${config.BUS_PREFIX}:throttle:`) : createMemoryCounterStore(),
      liveEvents,
      liveHeartbeatMs: config.LIVE_HEARTBEAT_MS,
      liveStreamMaxMs: config.LIVE_STREAM_MAX_MS,
    };
    const publicServer = await listen(createApiV2App(deps), config.HOST, config.PORT);
    const internalServer = await listen(createApiV2InternalApp(deps), config.HOST, config.INTERNAL_PORT);
    const stopPresenceSweeper = startPresenceSweeper(sql, logger, config.PRESENCE_STALE_MS, undefined, bus);
    const holdSweeper = startHoldSweeper({ sql, logger, bus });
    const playlistRenewal = startPlaylistRenewal({ sql, bus, logger, publicBaseUrl: deps.publicBaseUrl });
    logger.info({ url: publicServer.url, internalUrl: internalServer.url }, 'api-v2 listening');
    return {
      url: publicServer.url,
      internalUrl: internalServer.url,
      async close() {
        stopPresenceSweeper();
        let requestsCut = false;
        try {
          // Event streams never finish on their own: end them once the servers stop accepting.
          const closed = closeServers([publicServer, internalServer], config.SHUTDOWN_GRACE_MS);
          await liveEvents!.close();
          await closed.catch((err) => {
            requestsCut = true;
            throw err;
          });
        } finally {
          await Promise.all([holdSweeper.stop(), playlistRenewal.stop()]);
          await closeAll(requestsCut);
        }
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
