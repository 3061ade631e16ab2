import {
  mountDocs,
  createServiceApp,
  serviceAuth,
  type FailureCounterStore,
  type InternalClient,
  type Logger,
  type MessageBus,
  type ReadinessCheck,
  type ServiceMetrics,
  type ServiceSecrets,
  type Sql,
  type TokenVerifier,
} from '@marquee/service-kit';
import { approvalRoutes } from './approvals/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { creativeRoutes } from './creatives/routes.ts';
import { mediaRoutes } from './media/routes.ts';
import { bookingRoutes } from './bookings/routes.ts';
import { displayRoutes } from './displays/routes.ts';
import { emergencyRoutes } from './emergencies/routes.ts';

import { bearerSecurity, createRouter } from './openapi.ts';
import { playlistInternalRoutes } from './playlists/internal-routes.ts';
import { commandRoutes } from './devices/command-routes.ts';
import { deviceInternalRoutes } from './devices/internal-routes.ts';
import { playInternalRoutes } from './plays/internal-routes.ts';
import { playRoutes } from './plays/routes.ts';
import { v1CatalogueInternalRoutes } from './v1-support/catalogue-routes.ts';
import type { CredentialThrottleLimits } from './displays/credential-throttle.ts';
import { eventRoutes } from './events/routes.ts';
import type { LiveEventHub } from './events/hub.ts';

export interface ApiV2Deps {
  sql: Sql;
  /** The small pool for hot single-statement reads (DATABASE_READ_POOL_MAX); `sql` when absent. */
  readSql?: Sql;
  bus: MessageBus;
  account: InternalClient;
  verifier: TokenVerifier;
  logger: Logger;
  metrics: ServiceMetrics;
  publicBaseUrl: string;
  holdTtlSeconds: number;
  /** How far in the past a new booking may start (BOOKING_START_GRACE_SECONDS); default 300. */
  bookingStartGraceSeconds?: number;
  maxUploadBytes: number;
  /** PLAY_CLOCK_SKEW_MS: how far a display's clock may be off when its plays are judged; default 120 000. */
  playClockSkewMs?: number;
  /** This replica's live event streams (GET /events), fed by the bus; see events/hub.ts. */
  liveEvents: LiveEventHub;
  /** How often an idle event stream gets a heartbeat comment (LIVE_HEARTBEAT_MS); default 15 s. */
  liveHeartbeatMs?: number;
  /** An event stream ends after this long and the client resumes (LIVE_STREAM_MAX_MS); default 10 min. */
  liveStreamMaxMs?: number;
  readiness?: Record<string, ReadinessCheck>;
  /** Secrets of the callers the internal port accepts (device-tcp, api-v1, ops); a caller absent here is refused. */
  serviceSecrets: ServiceSecrets;
  /** Wrong display secrets per display (POST /internal/displays/authenticate is throttled on them). */
  credentialFailures: FailureCounterStore;
  credentialThrottle?: CredentialThrottleLimits;
}

/** The public API (served under /v2 by the edge; this app sees paths without the prefix). */
export function createApiV2App(deps: ApiV2Deps) {
  const app = createServiceApp(
    {
      service: 'api-v2',
      logger: deps.logger,
      metrics: deps.metrics,
      maxBodyBytes: 64 * 1024,
      // Upload chunks stream into storage under their own, larger cap.
      bodyLimitExempt: (p) => p.startsWith('/uploads/'),
      readiness: { postgres: () => deps.sql`select 1`, bus: () => deps.bus.ping(), ...deps.readiness },
    },
    createRouter(),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.route('/', authRoutes(deps));
  app.route('/', mediaRoutes(deps));
  app.route('/', creativeRoutes(deps));
  app.route('/', displayRoutes(deps));
  app.route('/', bookingRoutes(deps));
  app.route('/', playRoutes(deps));
  app.route('/', commandRoutes(deps));
  app.route('/', approvalRoutes(deps));
  app.route('/', emergencyRoutes(deps));
  app.route('/', eventRoutes(deps));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Marquee API v2',
      version: '2.0.0',
      description:
        'Book time on digital displays, manage creatives and read proof of play.\n\n' +
        '**Start here:** sign up (POST /auth/signup) as an `operator` or an `advertiser`, log in (POST /auth/login) and send the ' +
        '`accessToken` as `Authorization: Bearer <accessToken>` (the **Authorize** button). Operators register displays, which stay ' +
        '`pending` (invisible to advertisers) until activated; advertisers upload media, create creatives, then hold and confirm bookings ' +
        'and read what was played.\n\n' +
        'Errors are RFC 9457 `application/problem+json`: `detail` says what to fix, and a 422 lists each field with its rule in `errors`. ' +
        'A 401 carries `WWW-Authenticate: Bearer`. A typed TypeScript client generated from this document is the `@marquee/api-client` package.',
    },
    servers: [{ url: '/v2' }],
    // Every operation needs a bearer token unless it says `security: []` (signup, login, media downloads, ...).
    security: bearerSecurity,
    tags: [
      { name: 'auth', description: 'Accounts and tokens' },
      { name: 'media', description: 'Resumable uploads of images and videos; public, content-addressed downloads' },
      { name: 'creatives', description: 'What advertisers show: an uploaded image or video, or an html/text card' },
      { name: 'displays', description: 'Screens: operators register, run and command them; advertisers browse the active catalogue' },
      { name: 'bookings', description: 'Holding and booking loop slots on displays' },
      { name: 'approvals', description: "Operators review what goes on their `review` displays; trusted advertisers skip the review" },
      { name: 'emergencies', description: 'Emergency override: one message on chosen displays, in every slot, until cleared' },
      { name: 'proof of play', description: 'What was played, per display and hour or day' },
      { name: 'live', description: 'Server-Sent Events about your displays, bookings and commands' },
    ],
  });
  mountDocs(app, { title: 'Marquee API v2', specPath: 'openapi.json' });
  return app;
}

/**
 * Internal endpoints for device-tcp and api-v1, on a port the edge never routes. Their contracts are
 * the kit's schemas (packages/service-kit/src/contracts/), documented at /internal/openapi.json.
 */
export function createApiV2InternalApp(deps: ApiV2Deps) {
  const app = createServiceApp(
    {
      service: 'api-v2-internal',
      // Every call but GET /healthz needs a service credential allowed on its endpoint.
      guard: serviceAuth('api-v2-internal', deps.serviceSecrets),
      logger: deps.logger,
      metrics: deps.metrics,
      maxBodyBytes: 4 * 1024 * 1024,
      readiness: { postgres: () => deps.sql`select 1` },
    },
    createRouter(),
  );
  app.route('/', playlistInternalRoutes(deps));
  app.route('/', deviceInternalRoutes(deps));
  app.route('/', playInternalRoutes(deps));
  app.route('/', v1CatalogueInternalRoutes(deps));
  app.doc31('/internal/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Marquee api-v2 internal endpoints',
      version: '2.0.0',
      description:
        'For device-tcp and api-v1 only, on the internal port (never routed by the edge). Request and answer schemas are the ' +
        "kit's contracts (packages/service-kit/src/contracts/), which the callers validate with too. Errors are RFC 9457 problem+json.",
    },
  });
  return app;
}
