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
    'The count: see above (file-descriptor limit of this container: its hard nofile limit is 20 000 and CAP_SYS_RESOURCE is not granted, so no process here can hold 50 000 sockets). ' +
    'RSS and CPU are within target at the count reached. CPU is per heartbeat (frame in, heartbeat_ack out; a "seen" presence report at most every 45 s): ' +
    'details.cpuMicrosecondsPerHeartbeat × 50 000 / 30 s gives details.cpuCoreShareLinearEstimateAtTarget. On a quiet machine that is 2.9–3.6 % of a core at 19 500 and 7.5–9.1 % estimated at ' +
    '50 000 (four runs today, one of them with the kit\'s older AsyncLocalStorage code at 3.6 % / 9.1 %, so that change is not why); runs made while other work shared the two cores ' +
    'read 7.7–7.8 % (estimates 19.8–20.1 %): the cost per heartbeat roughly doubles under contention. device-tcp --cpu-prof over the last 33 s of such a run (bench/results/profiles/t1-device-tcp): ' +
    'a third of the busy samples are the heartbeat_ack socket write itself (writeBuffer self 32.8 %), the rest is spread thin (frame decode, JSON, zod, prom-client, the 1 s sweep). ' +
    'A bare Node loop writing one 400-byte frame to each of 10 000 loopback sockets spends 7–10 µs of kernel time per write here (94–124 ms per 10 000; node bench/loopback-floor.mjs): on loopback the receiver\'s ' +
    'TCP processing is charged to the sender. What it would take: a host where nofile can be raised to ≥ 65 536, to hold 50 000 for real (and `ulimits: nofile` on device-tcp in the stack ' +
    'then). The connect wave is no longer bounded by api-v2: since 1732d91 hellos are checked in batches of up to 1 000 (one call answers credentials, pending commands and the playlist).',
  T2:
    'CPU: the edit window keeps both cores busy. Since the run before this one (p99 ≈ 2–3 s): api-v2 publishes the changed playlists themselves, 1 000 displays per bus message with ' +
    'each distinct entry list once, and device-tcp pushes them without asking back (7eb8f44, 69ca24d); the playlist build no longer depends on fresh statistics (bbbc064: ' +
    'EXPLAIN ANALYZE showed 120–400 ms per 1 000 displays right after a big booking, now ~15 ms); presence writes are HOT updates (1b690bf). details.edits[].cpu reads /proc over ' +
    'each edit\'s window (PATCH answered → every display applied; bench/lib/cpu-account.ts): the machine is 67–94 % busy across both cores for the whole window (runs today), and one edit costs ' +
    '≈ 0.8–1.4 s of CPU — api-v2 ≈ 140–260 ms (build and publish 10 000 playlists, take 10 000 presence reports), device-tcp ≈ 210–380 ms (10 000 frames out, 10 000 acks in), ' +
    'the two display simulators ≈ 240–450 ms, PostgreSQL ≈ 80–350 ms (builds, the runner\'s own version check, and the 10 000 applied-version writes when their 1 s presence flush falls inside the window) — i.e. ≥ 0.4–0.7 s of wall time ' +
    'on 2 cores before anything waits on anything. With version-change presence reports switched off as an experiment, PostgreSQL fell to 60–120 ms per edit (one pair of runs while ' +
    'other work shared the machine: p99 ≈ 0.7 s against 0.9–1.2 s); those reports are kept (they are how an operator sees which version each screen shows). The socket work alone has a floor here: a bare Node loop ' +
    'writing one 400-byte frame to each of 10 000 loopback sockets takes 94–124 ms (67–102 ms of it kernel time), and the receiving process needs another 55–89 ms of CPU (node bench/loopback-floor.mjs, two runs of 3 rounds). What it would take: ' +
    'the displays\' side off the server\'s cores (real screens are separate devices; here the simulators are a third of the window\'s CPU) and PostgreSQL on a core of its own, ' +
    'which leaves device-tcp\'s ~0.2–0.4 s for 10 000 frames as the floor of one process; spreading the displays over several device-tcp replicas, as production does, would split that (not measured here).',
  T3:
    'Met since 1732d91. Before it, each reconnect cost three api-v2 round trips (authenticate, pending commands, playlist), 64 in flight; device-tcp shed hellos beyond 1 024 ' +
    'waiting with a fixed 5 s hint and the displays\' backoff stretched 10 000 reconnects to 26–34 s. Now hellos are gathered for ≤ 5 ms into POST /internal/displays/handshakes ' +
    '(≤ 1 000, 4 in flight) answered set-based with credentials, pending commands and the playlist when behind; up to 8 192 hellos wait instead of being refused, and a refused one is ' +
    'told to return when the queue will likely have drained. If this figure is missed, details.work.deviceTcp shows handshakes by result and the connect errors the displays saw.',
  T4:
    'api-v2 --cpu-prof during T4: postgres.js 35 % (unnest insert of each batch), node:http/@hono 19 %, GC 10 %, zod 8 % (per-play safeParse); device-tcp: undici 22 %, zod 9 %, frame parsing 4 %. ' +
    'Ingest keeps up with what the simulators offer on this machine; the limit is the 2 shared cores (simulators, device-tcp, api-v2 and PostgreSQL together).',
};
