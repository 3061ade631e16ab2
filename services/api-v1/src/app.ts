import { Counter, createServiceApp, mountDocs, type InternalClient, type Logger, type ServiceMetrics } from '@marquee/service-kit';
import { authRoutes } from './auth-routes.ts';
import { DEPRECATION_HEADERS, deprecationHeaders } from './deprecation.ts';
import { createCatalogueCache } from './devices/catalogue-cache.ts';
import { deviceRoutes } from './devices/routes.ts';

import { renderV1Error, V1Error } from './errors.ts';
import { createV1Router } from './openapi.ts';
import { orderRoutes } from './orders/routes.ts';

export interface ApiV1Deps {
  account: InternalClient;
  /** api-v2's public port (orders, with the caller's token). */
  apiV2: InternalClient;
  /** api-v2's internal port (the device list with presence). */
  apiV2Internal: InternalClient;
  logger: Logger;
  metrics: ServiceMetrics;
  /** With a last good device list, how long GET /devices waits for a fresh one. */
  devicesStaleAfterMs?: number;
}

/**
 * The legacy v1 API: a facade over the account service and api-v2 that owns no tables, so the two
 * versions can never disagree about data. Served under /v1 by the edge; sees paths without it.
 */
export function createApiV1App(deps: ApiV1Deps) {
  // Registered first, so it wraps everything — probes, 404s and errors get the headers too.
  const base = createV1Router();
  base.use('*', deprecationHeaders());
  const app = createServiceApp(
    {
      service: 'api-v1',
      logger: deps.logger,
      metrics: deps.metrics,
      maxBodyBytes: 64 * 1024,
      readiness: {
        'api-v2': (context) => deps.apiV2.request({ method: 'GET', path: '/healthz', timeoutMs: 1_000, context }),
        'api-v2-internal': (context) => deps.apiV2Internal.request({ method: 'GET', path: '/healthz', timeoutMs: 1_000, context }),
        account: (context) => deps.account.request({ method: 'GET', path: '/healthz', timeoutMs: 1_000, context }),
      },
    },
    base,
  );
  app.onError(renderV1Error);
  app.notFound((c) => renderV1Error(new V1Error(404, `no route for ${c.req.method} ${c.req.path}`), c));

  const staleServed = new Counter({
    name: 'api_v1_devices_stale_total',
    help: 'GET /devices answered from the last good copy because api-v2 did not answer in time',
    registers: [deps.metrics.registry],
  });
  const catalogue = createCatalogueCache({
    apiV2Internal: deps.apiV2Internal,
    staleAfterMs: deps.devicesStaleAfterMs ?? 100,
    onStale: () => staleServed.inc(),
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'tokenHeader', { type: 'apiKey', in: 'header', name: 'token' });
  app.route('/', authRoutes(deps));
  app.route('/', deviceRoutes({ catalogue }));
  app.route('/', orderRoutes(deps));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Marquee API v1 (deprecated)',
      version: '1.0.0',
      description:
        `The legacy API for old clients, kept unchanged; new work uses [v2](/v2/docs). Every response carries ` +
        `\`Deprecation: ${DEPRECATION_HEADERS.deprecation}\`, \`Sunset: ${DEPRECATION_HEADERS.sunset}\` and \`Link: ${DEPRECATION_HEADERS.link}\`.\n\n` +
        'Errors are `{"status": -1, "message": "..."}` with a 4xx/5xx HTTP status (400 invalid input, 401 no or bad token, ' +
        '404 unknown order/device, 409 slot taken or order over, 413 body over 64 KiB, 503 a dependency is down). ' +
        'Signup and login answer their business outcomes with HTTP 200 and a `status` code instead. Times are RFC 3339 instants.',
    },
    servers: [{ url: '/v1' }],
  });
  mountDocs(app, { title: 'Marquee API v1', specPath: 'openapi.json' });
  return app;
}
