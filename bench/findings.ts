/**
 * What bound each missed target, from the profiling runs (BENCH_PROFILE=1 npm run bench -- --only <id>,
 * summarised with bench/lib/cpuprofile.ts) and the services' logs/metrics of the same runs. The runner
 * attaches the note to a figure whose target was missed; the figure's own details carry the run's
 * numbers (e.g. details.work: requests and mean ms per api-v2 route during the step).
 */
export const FINDINGS: Record<string, string> = {
  H2:
    'CPU per request in api-v2, on 2 cores shared with autocannon and PostgreSQL. api-v2 --cpu-prof during H2 (busy samples): ES256 verification of the bearer token on every ' +
    'request 21 % (jwa → node:internal/crypto/sig verify 15.8 % self, jws/jsonwebtoken the rest); @hono/node-server building a WHATWG Request/AbortSignal per request 25.6 %; ' +
    'postgres.js 16.5 % for the one query; GC 7.6 %; crypto.randomFillSync 3.2 % (request ids); service-kit middleware 5.5 %. The diagnostic arm ' +
    '(details.diagnosticHealthzVsHello: api-v2 GET /healthz, the same stack without token or query) shows how much the shared middleware stack alone costs. ' +
    'What it would take: cache verified access tokens in service-kit createTokenVerifier (token → claims until exp, bounded LRU; one ES256 verify per token instead of per request), ' +
    'cheaper request ids, and a production-like host with cores to spare for PostgreSQL and the load generator; the target needs roughly 5× less CPU per read than now.',
  T1:
    'Steady-state CPU is per heartbeat (frame in, heartbeat_ack out, a coalesced "seen" presence report to api-v2 over HTTP): details.cpuMicrosecondsPerHeartbeat × 50 000 / 30 s gives the ' +
    'linear estimate in details.cpuCoreShareLinearEstimateAtTarget. To reach ≤ 15 % at 50 000 the per-heartbeat cost must drop (e.g. report "seen" less often than every heartbeat, or batch it larger), or the heartbeat interval grow. ' +
    'The connect wave is bounded by api-v2, not device-tcp: every handshake costs api-v2 an authenticate call, a playlist fetch and a pending-commands fetch, and presence is applied one ' +
    'statement per event (services/api-v2/src/devices/presence.ts), which deadlocks with the presence sweeper (api-v2 log: PostgresError "deadlock detected" at presence.ts:34 and "presence sweep failed"). ' +
    'Those 500s and 3 s timeouts open device-tcp\'s single circuit breaker for api-v2, so authentications are refused "unavailable" for 5 s at a time (details.errors).',
  T2:
    'Per-display fan-out over HTTP after the edit: api-v2 publishes one playlist.changed per display, then device-tcp fetches every playlist separately ' +
    '(GET /internal/displays/{id}/playlist, at most API_V2_CONCURRENCY = 64 in flight) and api-v2 builds each with its own queries; details.work shows 10 000 such requests per edit and their mean time. ' +
    'At ~1–2 ms of api-v2 CPU each on 2 shared cores the last display is served seconds after the API answered. api-v2 --cpu-prof: postgres.js 36.5 %, node:http + @hono/node-server 22 %, ' +
    'socket writes 23 % self (one write per small query). Also found: the edit itself can fail with 500 "deadlock detected" while presence writes run (bumpPlaylistVersions updates 10 000 display rows ' +
    'in a different order than applyPresence; details.editServerErrors). What it would take: build playlists set-based for many displays in one query and fetch them in batches ' +
    '(e.g. POST /internal/playlists {displayIds}) or put the new playlist (or a shared-content reference) in the bus message; take display row locks in id order everywhere.',
  T3:
    'Handshake cost in api-v2 and the breaker, as in T1: per reconnect an authenticate call + a playlist fetch + a pending-commands fetch + presence writes, one statement per presence event in one ' +
    'transaction, deadlocking with the sweeper and version bumps; failures open device-tcp\'s single api-v2 circuit breaker and displays are told "unavailable", then back off with jitter (up to 60 s), ' +
    'and per-replica handshake limits (2 000/s) add "rate_limited" (details.simulatorStatus.errors, details.work). What it would take: set-based presence (UPDATE … FROM unnest, ids sorted), ' +
    'a breaker per endpoint so presence failures cannot block authentication, and an authenticate answer that carries the playlist version and pending commands (one api-v2 call per handshake).',
  T4:
    'api-v2 --cpu-prof during T4: postgres.js 35 % (unnest insert of each batch), node:http/@hono 19 %, GC 10 %, zod 8 % (per-play safeParse); device-tcp: undici 22 %, zod 9 %, frame parsing 4 %. ' +
    'Ingest keeps up with what the simulators offer on this machine; the limit is the 2 shared cores (simulators, device-tcp, api-v2 and PostgreSQL together).',
};
