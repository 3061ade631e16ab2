/** H2: GET /v2/displays/{id} (token verify + one indexed query) vs Hono hello world. */
import path from 'node:path';
import { load, paired, summary } from '../lib/load.ts';
import { startPlatform } from '../lib/platform.ts';
import { fmt, progress, type Figure } from '../lib/report.ts';
import { createDisplayViaApi, signUpAndLogIn } from '../lib/seed.ts';
import { startReferenceServer, type SuiteContext } from '../lib/suite.ts';

const ROUNDS = 3;
const SHAPE = { connections: 50, pipelining: 1, durationSec: 5 };

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
    const p = await paired(
      () => load({ url: readUrl, headers: operator.auth, ...SHAPE }),
      () => load({ url: hono.url, ...SHAPE }),
      ROUNDS,
      (i) => progress(`H2 round ${i + 1}/${ROUNDS}: GET /v2/displays/{id} vs Hono hello world`),
    );
    // Diagnostic, for the bottleneck note: the same service stack (request ids, logging, metrics,
    // body limit, problem+json) without token verification or a query.
    progress('H2 diagnostic: api-v2 GET /healthz vs Hono hello world');
    const stack = await paired(
      () => load({ url: `${platform.apiV2Url}/healthz`, ...SHAPE }),
      () => load({ url: hono.url, ...SHAPE }),
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
        details: { rpsRatio: p.rpsRatio, p99Ratio: p.p99Ratio, read, helloWorld: hello, rounds: { read: p.a, helloWorld: p.b }, diagnosticHealthzVsHello: { rpsRatio: stack.rpsRatio, healthz: summary(stack.a), helloWorld: summary(stack.b) } },
        method:
          `autocannon -c ${SHAPE.connections} -p 1 -d ${SHAPE.durationSec} with an operator's bearer token against GET /displays/{id} on api-v2 ` +
          `(its own process, LOG_LEVEL=warn, Postgres pool 20, JWKS cached) and against a Hono hello world; ${ROUNDS} alternating rounds after a warm-up; ratios are medians of per-round ratios.`,
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await hono.proc.stop();
    await platform.close();
  }
}
