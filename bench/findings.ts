/**
 * What bound each missed target, from the profiling runs (BENCH_PROFILE=1 npm run bench -- --only <id>,
 * summarised with bench/lib/cpuprofile.ts) and the services' logs/metrics of the same runs. The runner
 * attaches the note to a figure whose target was missed; the figure's own details carry the run's
 * numbers (e.g. details.work: requests and mean ms per api-v2 route during the step).
 */
export const FINDINGS: Record<string, string> = {
  H2:
    'CPU per request in api-v2, on 2 cores shared with autocannon and PostgreSQL. Two layers: (1) the shared service stack alone — the diagnostic arm ' +
    '(details.diagnosticHealthzVsHello: api-v2 GET /healthz, no token, no query) reaches only about 20 % of Hono hello world, so the service-kit middleware (request id from ' +
    'crypto.randomFillSync, trace context in AsyncLocalStorage, pino child logger, prom-client histogram, body limit, problem+json wrapper) already costs several hello worlds per request, ' +
    'and reading headers through the WHATWG Request makes @hono/node-server build a full undici Request + AbortSignal per request (webidl ByteString conversions, createAbortSignal in the profile); ' +
    '(2) the read itself takes it from ~20 % to ~7 %: api-v2 --cpu-prof during H2 (busy samples) shows ES256 verification of the bearer token on every request at 21 % ' +
    '(jwa → node:internal/crypto/sig verify 15.8 % self, plus jws/jsonwebtoken), @hono/node-server 25.6 %, postgres.js 16.5 % for the one query, GC 7.6 %, randomFillSync 3.2 %. ' +
    'What it would take: a verified-token cache in service-kit createTokenVerifier (token → claims until exp, bounded LRU: one ES256 verify per token, not per request), ' +
    'request ids without a crypto call per request, middleware that reads the raw Node request instead of materialising the WHATWG Request, then re-measure; ' +
    'on 2 shared cores the target needs roughly 5× less CPU per authenticated read than now.',
  H3:
    'At one connection (no request sharing) the hop adds one more HTTP exchange over loopback (api-v1 → undici pool → api-v2) to a read that itself takes well under a millisecond, ' +
    'so throughput there is about half of direct: the single-connection ratio sits on the 50 % line (48–68 % across runs on this noisy machine) and p50 rises by ≤ 1 ms ' +
    '(autocannon reports latency in whole milliseconds). Under concurrency (-c 20) api-v1 is faster than direct because concurrent /v1/devices requests share one upstream fetch. ' +
    'What it would take to clear 50 % at one connection: a cheaper v1 stack per request (see H2: the shared service-kit middleware is the dominant cost) — the hop itself is one keep-alive request.',
  T1:
    'Steady-state CPU is per heartbeat (frame in, heartbeat_ack out, a coalesced "seen" presence report to api-v2 over HTTP): details.cpuMicrosecondsPerHeartbeat × 50 000 / 30 s gives the ' +
    'linear estimate in details.cpuCoreShareLinearEstimateAtTarget. To reach ≤ 15 % at 50 000 the per-heartbeat cost must drop (e.g. report "seen" less often than every heartbeat, or batch it larger), or the heartbeat interval grow. ' +
    'The connect wave is bounded by api-v2, not device-tcp: every handshake costs api-v2 an authenticate call, a playlist fetch and a pending-commands fetch, and presence is applied one ' +
    'statement per event (services/api-v2/src/devices/presence.ts), which deadlocks with the presence sweeper (api-v2 log: PostgresError "deadlock detected" at presence.ts:34 and "presence sweep failed"). ' +
    'Those 500s and 3 s timeouts open device-tcp\'s single circuit breaker for api-v2, so authentications are refused "unavailable" for 5 s at a time (details.errors).',
  T2:
    'Per-display fan-out over HTTP after the edit: api-v2 publishes one playlist.changed per display, then device-tcp fetches every playlist separately ' +
    '(GET /internal/displays/{id}/playlist, at most API_V2_CONCURRENCY = 64 in flight) and api-v2 builds each with its own queries: details.work shows ~11 700 such requests per edit ' +
    '(35 165 for 3 edits, some displays fetched twice) at ~49 ms mean under that concurrency, i.e. 10 000 × 49 ms / 64 ≈ 7.6 s of queueing — the measured p99 is 9–11 s. ' +
    'Meanwhile POST /internal/presence took ~2.8 s mean and some answered 500 (deadlocks), and the PATCH itself ~2 s. api-v2 --cpu-prof: postgres.js 36.5 %, node:http + @hono/node-server 22 %, ' +
    'socket writes 23 % self (one write per small query). Also found: the edit itself can fail with 500 "deadlock detected" while presence writes run (bumpPlaylistVersions updates 10 000 display rows ' +
    'in a different order than applyPresence; details.editServerErrors). What it would take: build playlists set-based for many displays in one query and fetch them in batches ' +
    '(e.g. POST /internal/playlists {displayIds}) or put the new playlist (or a shared-content reference) in the bus message; take display row locks in id order everywhere.',
  T3:
    'Handshake cost in api-v2 and the breaker, as in T1: per reconnect an authenticate call + a playlist fetch + a pending-commands fetch + presence writes (details.work: 10 000 of each, ' +
    '~15 ms / ~14 ms / ~40 ms mean; 29 158 hellos for 10 000 displays, 17 712 closed "unavailable" and 1 446 "rate_limited"), one statement per presence event in one ' +
    'transaction, deadlocking with the sweeper and version bumps; failures open device-tcp\'s single api-v2 circuit breaker and displays are told "unavailable", then back off with jitter (up to 60 s), ' +
    'and per-replica handshake limits (2 000/s) add "rate_limited" (details.simulatorStatus.errors, details.work). What it would take: set-based presence (UPDATE … FROM unnest, ids sorted), ' +
    'a breaker per endpoint so presence failures cannot block authentication, and an authenticate answer that carries the playlist version and pending commands (one api-v2 call per handshake).',
  T4:
    'api-v2 --cpu-prof during T4: postgres.js 35 % (unnest insert of each batch), node:http/@hono 19 %, GC 10 %, zod 8 % (per-play safeParse); device-tcp: undici 22 %, zod 9 %, frame parsing 4 %. ' +
    'Ingest keeps up with what the simulators offer on this machine; the limit is the 2 shared cores (simulators, device-tcp, api-v2 and PostgreSQL together).',
};
