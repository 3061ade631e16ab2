/**
 * What bound each missed target, from the profiling runs (BENCH_PROFILE=1 npm run bench -- --only <id>,
 * summarised with bench/lib/cpuprofile.ts) and the services' logs/metrics of the same runs. The runner
 * attaches the note to a figure whose target was missed; the figure's own details carry the run's
 * numbers (e.g. details.work: requests and mean ms per api-v2 route during the step).
 */
export const FINDINGS: Record<string, string> = {
  H2:
    'CPU per request: 2 cores shared by autocannon, api-v2 (one event-loop thread, the busiest process) and PostgreSQL. Fixes from the profiles, in order: ES256 verification cached per token ' +
    '(899e85c) and no bodyLimit on GET/HEAD (a6cdd00; it made @hono/node-server build an undici Request per request) took H2 from 5–8 % to ~10 %; then (before → after alternated on the same ' +
    'machine: 10.3–10.7 % → 19.6–20.1 % req/s, p99 12–13× → 5–6×, GET /healthz 41–46 % → 55–65 % of hello world): postgres.js 3.4.9\'s pool queues kept a slot per query and scanned them all ' +
    'on every query (Array indexOf 16.8 % of api-v2 CPU under perf; patched at install, 97dc1ed), the request scope built two WHATWG Headers per request (a2361a8), AsyncLocalStorage ' +
    'ran promise hooks on every promise for the few calls that propagate ids (8–10 µs per read; explicit context since 185d506), and the owner view\'s object spread took V8\'s slow ' +
    'path (~4 µs per read; e8fe083). Where the CPU goes now (details.cpuMicrosecondsPerRequest, /proc per round; the same suite on the code before these four fixes: api-v2 127 µs ' +
    'per read, /healthz 27 µs): api-v2 ≈ 59–67 µs, its PostgreSQL backends ≈ 21–35 µs and autocannon ≈ 15–19 µs per read, against ≈ 11–12 µs (Hono) + ≈ 11 µs (autocannon) per hello ' +
    'world; api-v2 GET /healthz (the framework alone) ≈ 18–20 µs. The ratio moves with other load on the machine (24–27 % in runs where hello world fell to 43 000–57 000 req/s), ' +
    'the CPU per request much less. api-v2 --cpu-prof over the read ' +
    'rounds only (bench/lib/cpuprofile.ts --segments 0,1,2; V8 samples wall time on the thread, busy samples): socket writes 35.5 % self (HTTP response writev 26.8 %, query writes ' +
    '8.7 %), postgres.js 28.6 % in all (query build, Bind, DataRow parse, Result, its writes), hono 8.8 %, service-kit 6.7 %, GC 5.8 %, the route and view 4.6 %, prom-client + pino ' +
    '3.6 %. perf (CPU clock) puts 27 % of api-v2\'s CPU in syscalls, mostly TCP sends whose loopback delivery (~11 %) and wake-up of the sleeping peer, autocannon or a PostgreSQL ' +
    'backend (~8 %), are charged to the sender. What it would take: the ratio is api-v2\'s CPU per read against Hono\'s per hello world. Even with PostgreSQL and autocannon on cores ' +
    'of their own, 40 % needs api-v2 ≤ ~11–13.5 / 0.4 ≈ 27–34 µs per read; on these 2 shared cores the budget is 2 cores / (0.4 × ~88 000 req/s) ≈ 57 µs of machine CPU per read for ' +
    'api-v2, PostgreSQL and autocannon together, while PostgreSQL + autocannon alone take ~35–50 µs. The framework floor (/healthz, ~18–20 µs: HTTP parse and write, Hono, request ' +
    'scope) plus postgres.js\'s client side of one query (≥ ~10 µs even pipelined, measured standalone) already reach that 27–34 µs. The largest lever left within one query per request ' +
    'is batching at the pool: a 4-connection pool, where concurrent queries pipeline, measured −7 µs api-v2 and −6 µs PostgreSQL per read (≈ 13 of ≈ 100 µs of machine CPU); not adopted because ' +
    'api-v2\'s pool also carries row-lock transactions and up to 8 concurrent upload chunks that 4 shared connections would serialise (a separate small pool for point reads would ' +
    'cost 4 more connections per replica). Beyond that it needs a cheaper stack than Hono + postgres.js per request, or a read served without its query, which the figure excludes.',
  H3:
    'At one connection (no request sharing) the hop adds one more HTTP exchange over loopback (api-v1 → undici pool → api-v2) to a read that itself takes well under a millisecond, ' +
    'so throughput there is about half of direct: the single-connection ratio sits on the 50 % line (48–68 % across runs on this noisy machine) and p50 rises by ≤ 1 ms ' +
    '(autocannon reports latency in whole milliseconds). Under concurrency (-c 20) api-v1 is faster than direct because concurrent /v1/devices requests share one upstream fetch. ' +
    'What it would take to clear 50 % at one connection: a cheaper v1 stack per request (see H2: the shared service-kit middleware is the dominant cost) — the hop itself is one keep-alive request.',
  T1:
    'The count: see above (file-descriptor limit of this container). CPU is per heartbeat (frame in, heartbeat_ack out; since b408012 a "seen" presence report at most every 45 s): ' +
    'details.cpuMicrosecondsPerHeartbeat (≈ 86–106 µs across runs) × 50 000 / 30 s gives details.cpuCoreShareLinearEstimateAtTarget, 14.6–21 % across runs on this shared machine, i.e. at the line. ' +
    'The connect wave is bounded by api-v2: each handshake costs an authenticate call, a pending-commands fetch and a playlist fetch (details.errors shows displays told "unavailable" when ' +
    'device-tcp\'s bounded authentication queue is full). The deadlocks and the shared circuit breaker found in the first runs were fixed in 226264e and 899e85c before the final run.',
  T2:
    'Fan-out cost after the edit. First runs: device-tcp fetched every playlist separately (GET /internal/displays/{id}/playlist, ≤ 64 in flight, ~49 ms mean; 10 000 × 49 ms / 64 ≈ 7.6 s; p99 9–11 s), ' +
    'and the edit sometimes failed with 500 "deadlock detected" against presence writes. Fixed since: row locks in id order (226264e) and batched, set-based playlist building ' +
    '(412f414, POST /internal/playlists ≤ 1 000 per call) — p99 went to ~6 s and then ~2.3 s (this run). Now (details.work): ~16 batch calls per edit at ~470 ms mean each; api-v2 --cpu-prof ' +
    'during T2: postgres.js 35 %, node:http/@hono 25 %, socket writes 25 % self; device-tcp: socket writes 20 % self (10 000 playlist frames), undici 22 %, ioredis 7 % (10 000 bus messages). ' +
    'What it would take to reach 250 ms: the playlists of one edit built in one pass and pushed without a per-display round trip — e.g. api-v2 publishes one message per edit carrying ' +
    'the changed entries (or a content version that device-tcp applies to the cached playlists it holds), so the cost becomes one query plus 10 000 socket writes (~tens of ms), not 10 000 playlist builds.',
  T3:
    'Per-handshake round trips to api-v2, shed by device-tcp when its queue is full. Each reconnect costs an authenticate call and a pending-commands fetch (details.work: 10 000 of each, ~22 ms mean under load) ' +
    'plus a share of a batched playlist fetch; device-tcp lets 64 run at once and answers the rest "unavailable" with retryAfterMs (details.work.deviceTcp: handshakes overloaded ≈ 13 500 for 10 000 displays), ' +
    'and the displays then wait full-jitter backoff (protocol §8), so the last ones return after ~25 s although api-v2 needs only ~7–8 s of work for all of them. ' +
    'The deadlocks and the shared breaker of the first runs are fixed (226264e, 899e85c). What it would take: one api-v2 call per handshake (authenticate answers with playlist version ' +
    'and pending commands, or a batch authenticate for the queued hellos), and a retryAfterMs computed from the queue depth (spread the returns over the time the queue needs) instead of a fixed hint.',
  T4:
    'api-v2 --cpu-prof during T4: postgres.js 35 % (unnest insert of each batch), node:http/@hono 19 %, GC 10 %, zod 8 % (per-play safeParse); device-tcp: undici 22 %, zod 9 %, frame parsing 4 %. ' +
    'Ingest keeps up with what the simulators offer on this machine; the limit is the 2 shared cores (simulators, device-tcp, api-v2 and PostgreSQL together).',
};
