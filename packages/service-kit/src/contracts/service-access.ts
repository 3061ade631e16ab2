/**
 * Who may call what on the internal listeners: the one table of callers and their endpoints.
 * `serviceAuth` (../service-auth.ts) enforces it on every internal listener, the kit's internal
 * client sends the caller's credential, and the tests call every entry without, with a wrong and
 * with another caller's credential. A route a listener serves that is missing here is refused
 * (403) to every caller; the tests also check that every route of a listener is listed.
 */

/** Callers with a credential of their own. `ops` is whoever probes and scrapes (Docker health checks, Prometheus). */
export const SERVICE_CALLERS = ['api-v1', 'api-v2', 'device-tcp', 'ops'] as const;
export type ServiceCaller = (typeof SERVICE_CALLERS)[number];

/** "METHOD /path", the path as the route declares it (`{id}` for a path parameter). */
export type EndpointKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

const probes = { 'GET /readyz': ['ops'], 'GET /metrics': ['ops'] } as const satisfies Record<EndpointKey, readonly ServiceCaller[]>;

export const INTERNAL_ENDPOINTS = {
  /** api-v2's INTERNAL_PORT. */
  'api-v2-internal': {
    ...probes,
    'GET /internal/openapi.json': ['device-tcp', 'api-v1', 'ops'],
    // device-tcp: hellos, playlists, presence, plays and command results of the displays it serves.
    'POST /internal/displays/handshakes': ['device-tcp'],
    'POST /internal/displays/authenticate': ['device-tcp'],
    'GET /internal/displays/{id}/commands/pending': ['device-tcp'],
    'GET /internal/displays/{id}/playlist': ['device-tcp'],
    'POST /internal/playlists/versions': ['device-tcp'],
    'POST /internal/playlists': ['device-tcp'],
    'POST /internal/presence': ['device-tcp'],
    'POST /internal/displays/{id}/plays': ['device-tcp'],
    'POST /internal/commands/{id}/result': ['device-tcp'],
    // api-v1: the v1 device list with presence (read only).
    'GET /internal/displays/catalogue': ['api-v1'],
  },
  /** The account service (internal only): api-v2 relays every auth call, api-v1 signs up and logs in. */
  account: {
    ...probes,
    'POST /signup': ['api-v2', 'api-v1'],
    'POST /login': ['api-v2', 'api-v1'],
    'POST /refresh': ['api-v2'],
    'POST /logout': ['api-v2'],
    'GET /me': ['api-v2'],
    'GET /.well-known/jwks.json': ['api-v2'],
  },
  /** device-tcp's ops HTTP port. */
  'device-tcp-ops': { ...probes },
} as const satisfies Record<string, Record<EndpointKey, readonly ServiceCaller[]>>;

export type InternalListener = keyof typeof INTERNAL_ENDPOINTS;

/** Answered to anyone on every listener: liveness says nothing and changes nothing. */
export const OPEN_ENDPOINTS: readonly EndpointKey[] = ['GET /healthz'];

/** The callers a listener accepts at all (whose secrets it must know). */
export function callersOf(listener: InternalListener): ServiceCaller[] {
  const all = new Set<ServiceCaller>(Object.values(INTERNAL_ENDPOINTS[listener]).flat());
  return SERVICE_CALLERS.filter((c) => all.has(c));
}
