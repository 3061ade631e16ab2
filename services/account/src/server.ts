import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  SERVICE_DATABASES,
  ConfigError,
  createDatabase,
  createLogger,
  createMemoryCounterStore,
  createMetrics,
  createRedisCounterStore,
  listen,
  migrate,
  callersOf,
  serviceSecretsOf,
  waitForDatabase,
  type Logger,
  type Sql,
} from '@marquee/service-kit';
import { createAccountApp } from './app.ts';
import type { AccountConfig } from './config.ts';
import { hashPassword, passwordWeakness } from './passwords.ts';
import { loadSigningKeys } from './signing-keys.ts';
import { findUserByName, insertUser } from './users.ts';

export const ACCOUNT_MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations');

export interface RunningAccount {
  url: string;
  close(): Promise<void>;
}

/** Opens the pools, waits for the database, migrates, seeds the first admin and listens. Used by main.ts and the local launcher. */
export async function startAccount(config: AccountConfig, opts: { logger?: Logger } = {}): Promise<RunningAccount> {
  const logger = opts.logger ?? createLogger('account', config.LOG_LEVEL);
  const keys = loadSigningKeys(config.JWT_PRIVATE_KEY, config.JWT_KEY_ID, config.JWT_EXTRA_PUBLIC_KEYS);
  const sql = createDatabase({ url: config.DATABASE_URL, password: config.DATABASE_PASSWORD, applicationName: 'account', schema: SERVICE_DATABASES['account'].schema });
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  try {
    await waitForDatabase(sql, { logger });
    await migrate(sql, 'account', ACCOUNT_MIGRATIONS, logger);
    await ensureFirstAdmin(sql, config, logger);
    const app = createAccountApp({
      sql,
      keys,
      logger,
      metrics: createMetrics('account'),
      failureCounters: redis ? createRedisCounterStore(redis, `${config.REDIS_KEY_PREFIX}throttle:`) : createMemoryCounterStore(),
      limits: {
        maxPerUser: config.LOGIN_MAX_FAILURES_PER_USER,
        maxPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
      },
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      readiness: redis ? { redis: () => redis.ping() } : {},
      serviceSecrets: serviceSecretsOf(config, callersOf('account')),
    });
    const server = await listen(app, config.HOST, config.PORT);
    logger.info({ url: server.url, kid: keys.kid }, 'account service listening');
    return {
      url: server.url,
      async close() {
        try {
          await server.close(config.SHUTDOWN_GRACE_MS);
        } finally {
          await sql.end({ timeout: 5 });
          await redis?.quit().catch(() => {});
        }
      },
    };
  } catch (err) {
    await sql.end({ timeout: 1 });
    redis?.disconnect();
    throw err;
  }
}

async function ensureFirstAdmin(sql: Sql, config: AccountConfig, logger: Logger) {
  if (!config.ADMIN_USERNAME || !config.ADMIN_PASSWORD) return;
  const existing = await findUserByName(sql, config.ADMIN_USERNAME);
  if (existing) {
    if (existing.role !== 'admin') logger.warn({ username: existing.username }, 'ADMIN_USERNAME names an existing non-admin account; not changed');
    return;
  }
  const weakness = passwordWeakness(config.ADMIN_PASSWORD, config.ADMIN_USERNAME);
  if (weakness) throw new ConfigError(`Invalid configuration:\n  ADMIN_PASSWORD: ${weakness}`);
  const created = await insertUser(sql, config.ADMIN_USERNAME, 'admin', await hashPassword(config.ADMIN_PASSWORD));
  if (created) logger.info({ username: created.username }, 'first admin created');
}
