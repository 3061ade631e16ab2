import { createServiceApp, type InternalClient, type Logger, type ServiceMetrics } from '@marquee/service-kit';

export interface ApiV1Deps {
  account: InternalClient;
  apiV2: InternalClient;
  logger: Logger;
  metrics: ServiceMetrics;
}

/**
 * The legacy v1 API: a facade over the account service and api-v2 that owns no tables, so the two
 * versions can never disagree about data. (The v1 contract routes land with their own issue.)
 */
export function createApiV1App(deps: ApiV1Deps) {
  return createServiceApp({
    service: 'api-v1',
    logger: deps.logger,
    metrics: deps.metrics,
    maxBodyBytes: 64 * 1024,
    readiness: {
      'api-v2': () => deps.apiV2.request({ method: 'GET', path: '/healthz', timeoutMs: 1_000 }),
      account: () => deps.account.request({ method: 'GET', path: '/healthz', timeoutMs: 1_000 }),
    },
  });
}
