import { z } from 'zod';
import { ConfigError, callersOf, commonConfigShape, env, loadConfig, serviceSecretsShape } from '@marquee/service-kit';

export const accountConfigShape = {
  ...commonConfigShape,
  DATABASE_URL: z.string().min(1),
  DATABASE_PASSWORD: z.string().optional(),
  REDIS_URL: z.string().optional(),
  /** Start of every Redis key this service writes (login throttling), so several deployments or test suites can share one Redis. */
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/).default('marquee:'),
  /** PEM (PKCS#8 or SEC1) EC P-256 private key; give it as JWT_PRIVATE_KEY_FILE in production. */
  JWT_PRIVATE_KEY: z.string().min(1),
  /** Defaults to the key's RFC 7638 thumbprint, so a new key gets a new kid by itself. */
  JWT_KEY_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  /** JWKS JSON of retired keys still accepted while their tokens live (key rotation). */
  JWT_EXTRA_PUBLIC_KEYS: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: env.int(900, 1, 86_400),
  REFRESH_TOKEN_TTL_SECONDS: env.int(30 * 86_400, 1, 365 * 86_400),
  ADMIN_USERNAME: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  LOGIN_MAX_FAILURES_PER_USER: env.int(5, 1, 1000),
  LOGIN_MAX_FAILURES_PER_ADDRESS: env.int(30, 1, 100_000),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int(900, 1, 86_400),
  /** Secrets of its callers (api-v2, api-v1, ops): every endpoint but /healthz needs one. */
  ...serviceSecretsShape(callersOf('account')),
};

export type AccountConfig = ReturnType<typeof loadAccountConfig>;

export function loadAccountConfig(source: Record<string, string | undefined> = process.env) {
  const config = loadConfig(accountConfigShape, source);
  if (config.ADMIN_USERNAME && !config.ADMIN_PASSWORD) {
    throw new ConfigError('Invalid configuration:\n  ADMIN_PASSWORD: missing — required when ADMIN_USERNAME is set (use ADMIN_PASSWORD_FILE)');
  }
  return config;
}
