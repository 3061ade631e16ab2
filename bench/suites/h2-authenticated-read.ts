/**
 * H2: GET /v2/displays/{id} (token verify + one indexed query) against its floor (the same query,
 * view and token check in a bare node:http server, bench/servers/display-read-floor.ts), with a
 * Hono hello world beside them for scale.
 */
import path from 'node:path';
import { load, median, paired, ratios, rotated, summary, type LoadResult } from '../lib/load.ts';
import { credentialHeader, startPlatform } from '../lib/platform.ts';
import { isAlive, sampleProc } from '../lib/proc.ts';
import { fmt, progress, type Figure } from '../lib/report.ts';
import { createDisplayViaApi, signUpAndLogIn } from '../lib/seed.ts';
import { startReferenceServer, type SuiteContext } from '../lib/suite.ts';

const ROUNDS = 5;
const SHAPE = { connections: 50, pipelining: 1, durationSec: 5 };

/** A load run plus the CPU each process group spent on it, in microseconds per request. */
type MeteredResult = LoadResult & { cpuUsPerRequest: Record<string, number> };

/**
 * Runs `run` and charges each group's CPU (user + system, from /proc) to its requests. The load
 * generator (autocannon) runs in this process, so its share is this process's CPU.
 */
async function metered(groups: () => Promise<Record<string, number[]>>, run: () => Promise<LoadResult>): Promise<MeteredResult> {
  const pids = await groups();
  const cpu = (list: number[]) => list.reduce((sum, pid) => sum + (isAlive(pid) ? sampleProc(pid).cpuSeconds : 0), 0);
  const before = Object.fromEntries(Object.entries(pids).map(([k, list]) => [k, cpu(list)]));
  const self = process.cpuUsage();
  const result = await run();
  const selfUsed = process.cpuUsage(self);
  const perRequest = (seconds: number) => Math.round(((seconds * 1e6) / Math.max(result.total, 1)) * 10) / 10;
  const cpuUsPerRequest: Record<string, number> = Object.fromEntries(Object.entries(pids).map(([k, list]) => [k, perRequest(cpu(list) - before[k]!)]));
  cpuUsPerRequest.loadGenerator = perRequest((selfUsed.user + selfUsed.system) / 1e6);
  return { ...result, cpuUsPerRequest };
}

const medianCpu = (rounds: MeteredResult[]) =>
  Object.fromEntries(Object.keys(rounds[0]?.cpuUsPerRequest ?? {}).map((k) => [k, median(rounds.map((r) => r.cpuUsPerRequest[k]!))]));

export async function runH2(ctx: SuiteContext): Promise<Figure[]> {
  const started = performance.now();
  progress('H2: starting account + api-v2 on a scratch database');
  const platform = await startPlatform('h2', {
    logDir: ctx.logDir,
    nodeArgs: ctx.profile ? { 'api-v2': ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, 'h2-api-v2')}`] } : {},
  });
  const hono = await startReferenceServer(ctx, 'hello-hono.ts');
  let floor: Awaited<ReturnType<typeof startReferenceServer>> | undefined;
  try {
    const jwks = await fetch(`${platform.accountUrl}/.well-known/jwks.json`, { headers: credentialHeader('api-v2') });
    if (!jwks.ok) throw new Error(`account JWKS answered ${jwks.status}`);
    floor = await startReferenceServer(ctx, 'display-read-floor.ts', {
      env: { DATABASE_URL: platform.databaseUrl, JWKS_JSON: await jwks.text() },
      readyPath: '/healthz',
      nodeArgs: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, 'h2-floor')}`] : [],
    });
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const display = await createDisplayViaApi(platform.apiV2Url, operator);
    const readUrl = `${platform.apiV2Url}/displays/${display.id}`;
    const floorUrl = `${floor.url}displays/${display.id}`;
    const check = await fetch(readUrl, { headers: operator.auth });
    if (check.status !== 200) throw new Error(`GET /displays/{id} answered ${check.status}`);
    const floorCheck = await fetch(floorUrl, { headers: operator.auth });
    // The floor must do the same work: the same document for the same caller.
    if (floorCheck.status !== 200 || (await floorCheck.text()) !== (await check.text())) throw new Error(`the floor server does not answer what api-v2 answers (${floorCheck.status})`);
    const apiV2Pid = platform.procs['api-v2']!.pid;
    const floorPid = floor.proc.pid;
    // Each server's pool connections (by application_name): their PostgreSQL backends' CPU is the query's.
    const backends = async (app: string) => (await platform.sql<{ pid: number }[]>`select pid from pg_stat_activity where application_name = ${app}`).map((r) => r.pid);
    const readGroups = async () => ({ apiV2: [apiV2Pid], postgres: await backends('api-v2') });
    const floorGroups = async () => ({ server: [floorPid], postgres: await backends('display-read-floor') });
    const helloGroups = async () => ({ server: [hono.proc.pid] });
    const r = await rotated(
      {
        read: () => metered(readGroups, () => load({ url: readUrl, headers: operator.auth, ...SHAPE })),
        floor: () => metered(floorGroups, () => load({ url: floorUrl, headers: operator.auth, ...SHAPE })),
        hello: () => metered(helloGroups, () => load({ url: hono.url, ...SHAPE })),
      },
      ROUNDS,
      (i) => progress(`H2 round ${i + 1}/${ROUNDS}: GET /v2/displays/{id} vs its floor vs Hono hello world`),
    );
    const vsFloor = ratios(r.read, r.floor);
    const vsHello = ratios(r.read, r.hello);
    // Diagnostic, for the bottleneck note: the same service stack (request ids, logging, metrics,
    // body limit, problem+json) without token verification or a query.
    progress('H2 diagnostic: api-v2 GET /healthz vs Hono hello world');
    const stack = await paired(
      () => metered(async () => ({ apiV2: [apiV2Pid] }), () => load({ url: `${platform.apiV2Url}/healthz`, ...SHAPE })),
      () => metered(helloGroups, () => load({ url: hono.url, ...SHAPE })),
      1,
    );
    const read = summary(r.read);
    const floorSummary = summary(r.floor);
    const hello = summary(r.hello);
    const met = vsFloor.rpsRatio >= 0.9 && vsFloor.p99Ratio <= 1.5 && read.non2xx === 0 && read.errors === 0 && floorSummary.non2xx === 0;
    return [
      {
        id: 'H2',
        measure: 'GET /v2/displays/{id} (token verify + one indexed query) vs its floor (node:http + postgres.js, same query, token verified once, pool 4)',
        target: '≥ 90 % of the floor\'s req/s, p99 ≤ 1.5× the floor\'s',
        result:
          `${fmt.pct(vsFloor.rpsRatio)} of the floor's req/s (${fmt.int(read.rps)} vs ${fmt.int(floorSummary.rps)}), p99 ${vsFloor.p99Ratio.toFixed(2)}× (${read.p99} vs ${floorSummary.p99} ms); ` +
          `vs Hono hello world ${fmt.pct(vsHello.rpsRatio)} req/s`,
        met,
        details: {
          rpsRatio: vsFloor.rpsRatio,
          p99Ratio: vsFloor.p99Ratio,
          vsHelloWorld: vsHello,
          read,
          floor: floorSummary,
          helloWorld: hello,
          // Median over the measured rounds of each process group's CPU per request (µs).
          cpuMicrosecondsPerRequest: { read: medianCpu(r.read), floor: medianCpu(r.floor), helloWorld: medianCpu(r.hello), healthz: medianCpu(stack.a as MeteredResult[]) },
          rounds: r,
          diagnosticHealthzVsHello: { rpsRatio: stack.rpsRatio, healthz: summary(stack.a), helloWorld: summary(stack.b) },
        },
        method:
          `autocannon -c ${SHAPE.connections} -p 1 -d ${SHAPE.durationSec} with an operator's bearer token against GET /displays/{id} on api-v2 ` +
          `(its own process, LOG_LEVEL=warn, JWKS cached), against the floor server (bench/servers/display-read-floor.ts: node:http, postgres.js pool 4, api-v2's findVisibleDisplay + viewFor, ` +
          `the token verified once then looked up; checked to answer byte for byte what api-v2 answers) and against a Hono hello world; ` +
          `${ROUNDS} rounds after a warm-up each, the order rotating every round; ratios are medians of per-round ratios. ` +
          `CPU per request (details.cpuMicrosecondsPerRequest) is each process's user + system time from /proc over a round divided by its requests: api-v2 or the floor, their PostgreSQL backends, the Hono server, and the load generator (autocannon, in the runner's process).`,
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await floor?.proc.stop();
    await hono.proc.stop();
    await platform.close();
  }
}
