import { z } from 'zod';
import { busPrefixSchema, callersOf, commonConfigShape, env, loadConfig, serviceSecretsShape } from '@marquee/service-kit';

export const DEFAULT_BOOKING_START_GRACE_SECONDS = 300;
export const DEFAULT_PLAY_CLOCK_SKEW_MS = 120_000;

/** api-v2 calls the account service as itself; its internal port checks its callers' secrets. */
export const API_V2_SECRETS = ['api-v2', ...callersOf('api-v2-internal')] as const;

export const apiV2ConfigShape = {
  ...commonConfigShape,
  /** Internal-only port (device-tcp's endpoints); the edge routes only PORT. */
  INTERNAL_PORT: env.port(3001),
  DATABASE_URL: z.string().min(1),
  DATABASE_PASSWORD: z.string().optional(),
  /** Connections for transactions and writes (row locks, upload chunks hold one each for a while). */
  DATABASE_POOL_MAX: env.int(20, 1, 200),
  /**
   * Connections for hot single-statement reads (GET /displays/{id}). Few on purpose: under load
   * concurrent reads queue on each connection and go out pipelined, so PostgreSQL and this process
   * handle several per wake-up; a transaction never waits behind them, nor they behind one.
   */
  DATABASE_READ_POOL_MAX: env.int(4, 1, 50),
  REDIS_URL: z.string().optional(),
  /** Bus channels are `<BUS_PREFIX>.<topic>` (deployments sharing one Redis stay apart). */
  BUS_PREFIX: busPrefixSchema,
  ACCOUNT_URL: z.string().url(),
  /** How long a call to the account service (signup, login: a password hash each) may take before it answers 503. */
  ACCOUNT_TIMEOUT_MS: env.int(3_000, 100, 60_000),
  /**
   * How long the account service's signing keys (its JWKS) are trusted before the next token
   * refetches them: a key dropped from the JWKS is refused at most this long afterwards.
   */
  JWKS_MAX_AGE_MS: env.int(300_000, 100, 86_400_000),
  /** A token signed by a key not in the JWKS fetched refetches it, at most this often (forged kids cannot flood the account service). */
  JWKS_MIN_REFETCH_MS: env.int(30_000, 0, 3_600_000),
  /** Where clients reach this API, used in absolute links (media URLs in playlists). */
  PUBLIC_BASE_URL: z.string().url().default('http://127.0.0.1:8080/v2'),
  HOLD_TTL_SECONDS: env.int(900, 10, 86_400),
  /** How far in the past a new booking's startsAt may lie (a booking "from now" survives clock skew and slow clients). */
  BOOKING_START_GRACE_SECONDS: env.int(DEFAULT_BOOKING_START_GRACE_SECONDS, 0, 3_600),
  /** A display not heard from for this long is marked offline (covers a device-tcp replica killed -9). */
  /** How far a display's clock may be off when its plays are judged (future, booking window, slot). */
  PLAY_CLOCK_SKEW_MS: env.int(DEFAULT_PLAY_CLOCK_SKEW_MS, 0, 3_600_000),
  PRESENCE_STALE_MS: env.int(90_000, 2_000, 3_600_000),
  /** GET /events: an idle stream gets a heartbeat comment this often (proxies close silent connections). */
  LIVE_HEARTBEAT_MS: env.int(15_000, 100, 300_000),
  /** GET /events: a stream ends after this long; the client reconnects (re-authenticated) and resumes. */
  LIVE_STREAM_MAX_MS: env.int(600_000, 1_000, 86_400_000),
  /** GET /events: recent events each replica keeps for Last-Event-ID resume. */
  LIVE_EVENTS_KEPT: env.int(10_000, 10, 1_000_000),
  MAX_UPLOAD_BYTES: env.int(512 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
  /** Its own credential (to call the account service) and those of the internal port's callers. */
  ...serviceSecretsShape(API_V2_SECRETS),
};

export type ApiV2Config = ReturnType<typeof loadApiV2Config>;

export function loadApiV2Config(source: Record<string, string | undefined> = process.env) {
  return loadConfig(apiV2ConfigShape, source);
}
