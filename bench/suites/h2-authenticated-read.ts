/** H2: GET /v2/displays/{id} (token verify + one indexed query) vs Hono hello world. */
import path from 'node:path';
import { load, median, paired, summary, type LoadResult } from '../lib/load.ts';
import { startPlatform } from '../lib/platform.ts';
import { isAlive, sampleProc } from '../lib/proc.ts';
import { fmt, progress, type Figure } from '../lib/report.ts';
import { createDisplayViaApi, signUpAndLogIn } from '../lib/seed.ts';
import { startReferenceServer, type SuiteContext } from '../lib/suite.ts';

const ROUNDS = 3;
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
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const display = await createDisplayViaApi(platform.apiV2Url, operator);
    const readUrl = `${platform.apiV2Url}/displays/${display.id}`;
    const check = await fetch(readUrl, { headers: operator.auth });
    if (check.status !== 200) throw new Error(`GET /displays/{id} answered ${check.status}`);
    const apiV2Pid = platform.procs['api-v2']!.pid;
    // api-v2's pool connections (application_name api-v2): its PostgreSQL backends' CPU is the query's.
    const backends = async () => (await platform.sql<{ pid: number }[]>`select pid from pg_stat_activity where application_name = 'api-v2'`).map((r) => r.pid);
    const readGroups = async () => ({ apiV2: [apiV2Pid], postgres: await backends() });
    const helloGroups = async () => ({ server: [hono.proc.pid] });
    const p = await paired(
      () => metered(readGroups, () => load({ url: readUrl, headers: operator.auth, ...SHAPE })),
      () => metered(helloGroups, () => load({ url: hono.url, ...SHAPE })),
      ROUNDS,
      (i) => progress(`H2 round ${i + 1}/${ROUNDS}: GET /v2/displays/{id} vs Hono hello world`),
    );
    // Diagnostic, for the bottleneck note: the same service stack (request ids, logging, metrics,
    // body limit, problem+json) without token verification or a query.
    progress('H2 diagnostic: api-v2 GET /healthz vs Hono hello world');
    const stack = await paired(
      () => metered(async () => ({ apiV2: [apiV2Pid] }), () => load({ url: `${platform.apiV2Url}/healthz`, ...SHAPE })),
      () => metered(helloGroups, () => load({ url: hono.url, ...SHAPE })),
      1,
    );
    const read = summary(p.a);
    const hello = summary(p.b);
    const met = p.rpsRatio >= 0.4 && p.p99Ratio <= 10 && read.non2xx === 0 && read.errors === 0;
    return [
      {
        id: 'H2',
        measure: 'GET /v2 authenticated read (token verify + one indexed query) vs Hono hello-world',
        target: '≥ 40 % req/s, p99 ≤ 10× hello-world p99',
        result: `${fmt.pct(p.rpsRatio)} req/s (${fmt.int(read.rps)} vs ${fmt.int(hello.rps)}), p99 ${p.p99Ratio.toFixed(1)}× (${read.p99} vs ${hello.p99} ms)`,
        met,
        details: {
          rpsRatio: p.rpsRatio,
          p99Ratio: p.p99Ratio,
          read,
          helloWorld: hello,
          // Median over the measured rounds of each process group's CPU per request (µs).
          cpuMicrosecondsPerRequest: { read: medianCpu(p.a as MeteredResult[]), helloWorld: medianCpu(p.b as MeteredResult[]), healthz: medianCpu(stack.a as MeteredResult[]) },
          rounds: { read: p.a, helloWorld: p.b },
          diagnosticHealthzVsHello: { rpsRatio: stack.rpsRatio, healthz: summary(stack.a), helloWorld: summary(stack.b) },
        },
        method:
          `autocannon -c ${SHAPE.connections} -p 1 -d ${SHAPE.durationSec} with an operator's bearer token against GET /displays/{id} on api-v2 ` +
          `(its own process, LOG_LEVEL=warn, Postgres pool 20, JWKS cached) and against a Hono hello world; ${ROUNDS} alternating rounds after a warm-up; ratios are medians of per-round ratios. ` +
          `CPU per request (details.cpuMicrosecondsPerRequest) is each process's user + system time from /proc over a round divided by its requests: api-v2, its PostgreSQL backends, the Hono server, and the load generator (autocannon, in the runner's process).`,
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await hono.proc.stop();
    await platform.close();
  }
}
