/**
 * What bound each missed target, from the profiling runs (BENCH_PROFILE=1 npm run bench -- --only <id>,
 * summarised with bench/lib/cpuprofile.ts) and the services' logs/metrics of the same runs. The runner
 * attaches the note to a figure whose target was missed; the figure's own details carry the run's
 * numbers (e.g. details.work: requests and mean ms per api-v2 route during the step).
 */
export const FINDINGS: Record<string, string> = {
  H2:
    'Against the floor (bench/servers/display-read-floor.ts: the same query, view and token check in bare node:http + postgres.js, pool 4), from the profiles of the read rounds ' +
    '(BENCH_PROFILE=1 npm run bench -- --only H2, then npx tsx bench/lib/cpuprofile.ts --segments <the read rounds>; 2026-11-30). Changed: (1) pool sizing — api-v2 read on its ' +
    '20-connection pool, so under 50 concurrent readers most reads woke a PostgreSQL backend of their own; its backends spent 67–71 µs per read against the floor\'s 35–39 µs (two runs). ' +
    'GET /displays/{id} now reads on a 4-connection pool of its own (DATABASE_READ_POOL_MAX), as the floor does; the three runs since measured 54, 39 and 76 µs against the floor\'s 48, 50 ' +
    'and 36 µs, so on this shared machine the effect is not settled (PostgreSQL\'s CPU per query moves with how many queries arrive together, which the other load changes). The main pool stays at 20 ' +
    'for transactions and upload chunks. (2) per-request middleware — every request made a pino child logger (its bindings serialised through redaction, ~1.7 % of api-v2\'s busy samples) ' +
    'that almost no request uses at warn; it is now made when the request first logs (a first version cost 0.6 % in esbuild\'s __name helper under tsx, fixed by sharing the proxy handler). ' +
    'The verified-token cache keyed by the token string (expiry and key rotation honoured) was already in place. What api-v2 still adds over the floor, busy samples of its read rounds: ' +
    'hono 9.9 % (compose/dispatch, the trie router\'s search and path split, c.json, the param validator), the kit\'s per-request contract ≈ 8 % (request and trace ids, the x-request-id ' +
    'header, token cache lookup, prom-client histogram 1.7 %), zod param validation ≈ 1 %; the rest (@hono/node-server\'s HTTP parse and response write, 36 % with the writev syscall ' +
    'at 29 % self; postgres.js 20 %; GC 5 %) is what the floor spends too (its writev 34 % self, postgres.js 34 %, GC 4 %). Not done: an in-process cache of display reads invalidated over ' +
    'the bus — every writer of the displays row (edits, status, credential rotation, set-based playlist version bumps, presence flushes and the presence sweeper) would have to publish ' +
    'an invalidation, and the row carries presence that changes every few seconds, so it was not safe to add in this change. The machine was shared with other engineers\' test runs ' +
    '(load average 25–46 on 2 cores): per-round req/s of one side varied up to 4× between rounds, more than the remaining gap, so the ratio is noisy; the CPU per request is steadier.',
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
    'then). The connect wave is no longer bounded by api-v2: since 1732d91 hellos are checked in batches of up to 1 000 (one call answers credentials, pending commands and the playlist).' +
    ' Against Mosquitto (issue 16; both fleets connected throughout, alternating 35 s windows): Mosquitto spends one read, one 2-byte PINGRESP write and a keep-alive timestamp per ' +
    'PINGREQ; device-tcp decodes a framed JSON heartbeat, validates it, looks up the session, updates its seen/presence bookkeeping, counts it in prom-client and writes a JSON ' +
    'heartbeat_ack (the issue\'s profiles: per-frame counters, sessionFor, recordSeen and presence records besides the unavoidable write). Per connection it keeps a Node socket, ' +
    'stream state and the session object (≈ 3–4 KB against Mosquitto\'s ≈ 1.1 KB of C structs). Since issue 16 items 1–2 each session also holds its newest playlist (shared ' +
    'between displays with equal content), and metrics are tallied in plain numbers and handed to prom-client at scrape time; RSS per connection is noisy on this shared machine ' +
    '(0.8 KB and 3.3 KB in two runs on 2026-11-30, 1.2–3.7 KB in the issue\'s own runs).',
  T2:
    'Since issue 16 items 1–2 (2026-11-30): an edit is one playlist.delta bus message; api-v2 bumps 10 000 versions in one UPDATE and builds no playlist, and its CPU per ' +
    'edit fell from 140–580 ms to 30–120 ms; device-tcp applies the delta once per distinct held content and writes one pre-assembled frame per display. Per edit ' +
    '(details.edits[].cpu, bench/lib/cpu-account.ts, two runs on 2026-11-30 while other work shared the machine): device-tcp 450–720 ms, this run\'s PostgreSQL ' +
    'backends 110–230 ms, api-v2 30–120 ms, the display simulators 620–940 ms, and the machine is 84–100 % busy on both cores for the whole window, so p99 is the time ' +
    'two cores take to do ≈ 1.5 s of CPU. device-tcp --cpu-prof over the T2 run (bench/results/profiles/t2-device-tcp, whole run, connects included): the socket write ' +
    'path is the widest frame (writeFrame → Socket._writeGeneric 28 % inclusive, writeBuffer 21 % self), then ioredis 7.5 %, zod 7 % (acks and handshakes), GC 6.5 %; ' +
    'applying the delta is small (PlaylistContent.tailJson 1.5 %). What Marquee does that Mosquitto\'s QoS 0 fan-out does not: every display answers playlist_ack ' +
    '(10 000 frames in, parsed and validated) and device-tcp reports each applied version to api-v2, which writes it to PostgreSQL (the PostgreSQL share above): that is ' +
    'how an operator sees which version each screen shows. The socket work alone has a floor: a bare Node loop writing one 400-byte frame to each of 10 000 loopback sockets takes ' +
    '94–124 ms (node bench/loopback-floor.mjs). What it would take: the simulators off the server\'s cores (real screens are separate devices), acks and applied-version ' +
    'reports coalesced further, and displays spread over device-tcp replicas as in production (not measured here).',
  'T2 CPU':
    'details.marqueeCpuMsPerEdit splits each edit\'s CPU (see T2): device-tcp is most of it (10 000 frames out and 10 000 acks in, with applied-version reports), then ' +
    'PostgreSQL (the version bump and 10 000 applied-version writes), api-v2 30–120 ms since the O(1)-per-edit path; Mosquitto\'s CPU for the same fan-out is one copy of ' +
    'each ready message to a socket, with no acknowledgement. Before issue 16 items 1–2 the ratio was 5.3× (1 120 ms per edit); since, 3.9–4.5×.',
  T3:
    'Met since 1732d91. Before it, each reconnect cost three api-v2 round trips (authenticate, pending commands, playlist), 64 in flight; device-tcp shed hellos beyond 1 024 ' +
    'waiting with a fixed 5 s hint and the displays\' backoff stretched 10 000 reconnects to 26–34 s. Now hellos are gathered for ≤ 5 ms into POST /internal/displays/handshakes ' +
    '(≤ 1 000, 4 in flight) answered set-based with credentials, pending commands and the playlist when behind; up to 8 192 hellos wait instead of being refused, and a refused one is ' +
    'told to return when the queue will likely have drained. If this figure is missed, details.work.deviceTcp shows handshakes by result and the connect errors the displays saw.',
  T4:
    'api-v2 --cpu-prof during T4: postgres.js 35 % (unnest insert of each batch), node:http/@hono 19 %, GC 10 %, zod 8 % (per-play safeParse); device-tcp: undici 22 %, zod 9 %, frame parsing 4 %. ' +
    'Ingest keeps up with what the simulators offer on this machine; the limit is the 2 shared cores (simulators, device-tcp, api-v2 and PostgreSQL together).',
};
