/** H1: Hono hello world vs bare node:http, req/s (published ≈ 83 %). */
import { load, paired, summary } from '../lib/load.ts';
import { fmt, progress, type Figure } from '../lib/report.ts';
import { startReferenceServer, type SuiteContext } from '../lib/suite.ts';

const ROUNDS = 3;
const SECONDS = 5;
// The fastify-benchmarks shape the published figure comes from: 100 connections, pipelining 10.
const SHAPE = { connections: 100, pipelining: 10, durationSec: SECONDS };

export async function runH1(ctx: SuiteContext): Promise<Figure[]> {
  const started = performance.now();
  const hono = await startReferenceServer(ctx, 'hello-hono.ts');
  const node = await startReferenceServer(ctx, 'hello-node.ts');
  try {
    const p = await paired(
      () => load({ url: hono.url, ...SHAPE }),
      () => load({ url: node.url, ...SHAPE }),
      ROUNDS,
      (i) => progress(`H1 round ${i + 1}/${ROUNDS}: Hono vs node:http hello world`),
    );
    const h = summary(p.a);
    const n = summary(p.b);
    return [
      {
        id: 'H1',
        measure: 'Hono hello-world vs bare node:http req/s',
        target: 'report (published ≈ 83 %)',
        result: `${fmt.pct(p.rpsRatio)} (${fmt.int(h.rps)} vs ${fmt.int(n.rps)} req/s)`,
        met: null,
        details: { ratio: p.rpsRatio, hono: h, nodeHttp: n, rounds: { hono: p.a, nodeHttp: p.b } },
        method: `autocannon -c ${SHAPE.connections} -p ${SHAPE.pipelining} -d ${SECONDS} against each server in its own process, ${ROUNDS} alternating rounds after one warm-up each; ratio = median of per-round ratios.`,
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await hono.proc.stop();
    await node.proc.stop();
  }
}
