import {
  createServiceApp,
  serviceAuth,
  createTokenVerifier,
  type FailureCounterStore,
  type Logger,
  type ReadinessCheck,
  type ServiceMetrics,
  type ServiceSecrets,
  type Sql,
} from '@marquee/service-kit';
import { sessionRoutes } from './routes/sessions.ts';
import { userRoutes } from './routes/users.ts';
import type { SigningKeys } from './signing-keys.ts';
import { createLoginThrottle, type LoginThrottleLimits } from './throttle.ts';

export interface AccountAppDeps {
  sql: Sql;
  keys: SigningKeys;
  logger: Logger;
  metrics: ServiceMetrics;
  failureCounters: FailureCounterStore;
  limits: LoginThrottleLimits;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  readiness?: Record<string, ReadinessCheck>;
  /** Secrets of the services that may call it; a caller absent here is refused. */
  serviceSecrets: ServiceSecrets;
}

/** The account service's HTTP surface (internal only: the edge never routes to it). */
export function createAccountApp(deps: AccountAppDeps) {
  const app = createServiceApp({
    service: 'account',
    logger: deps.logger,
    metrics: deps.metrics,
    maxBodyBytes: 16 * 1024,
    guard: serviceAuth('account', deps.serviceSecrets),
    readiness: { postgres: () => deps.sql`select 1`, ...deps.readiness },
  });
  // This service verifies its own tokens (for /me) exactly as every other service does.
  const verifier = createTokenVerifier({ fetchJwks: async () => deps.keys.jwks });

  app.get('/.well-known/jwks.json', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(deps.keys.jwks);
  });
  app.route('/', userRoutes({ sql: deps.sql, verifier }));
  app.route(
    '/',
    sessionRoutes({
      sql: deps.sql,
      keys: deps.keys,
      throttle: createLoginThrottle(deps.failureCounters, deps.limits),
      accessTtlSeconds: deps.accessTtlSeconds,
      refreshTtlSeconds: deps.refreshTtlSeconds,
    }),
  );
  return app;
}
