/**
 * H3: the internal hop. GET /v1/devices (api-v1 → api-v2's internal catalogue) vs the api-v2 read it
 * makes, GET /internal/displays/catalogue, called directly. Same data, same machine, one extra
 * process hop (undici keep-alive pool) plus api-v1's mapping.
 */
import path from 'node:path';
import { load, paired, summary } from '../lib/load.ts';
import { credentialHeader, startPlatform } from '../lib/platform.ts';
import { fmt, progress, type Figure } from '../lib/report.ts';
import { insertDisplays, signUpAndLogIn } from '../lib/seed.ts';
import type { SuiteContext } from '../lib/suite.ts';

const ROUNDS = 3;
const CATALOGUE = 20;
const SHAPE = { connections: 20, pipelining: 1, durationSec: 5 };

export async function runH3(ctx: SuiteContext): Promise<Figure[]> {
  const started = performance.now();
  progress('H3: starting account + api-v2 + api-v1');
  const prof = (n: string) => (ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, `h3-${n}`)}`] : []);
  const platform = await startPlatform('h3', { apiV1: true, logDir: ctx.logDir, nodeArgs: { 'api-v1': prof('api-v1'), 'api-v2': prof('api-v2') } });
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    await insertDisplays(platform.sql, operator.id, CATALOGUE);
    const v1 = `${platform.apiV1Url}/devices`;
    const direct = `${platform.apiV2InternalUrl}/internal/displays/catalogue`;
    // api-v2's internal port answers the catalogue to api-v1's credential, as api-v1 sends it.
    const asApiV1 = credentialHeader('api-v1');
    for (const u of [v1, direct]) {
      const r = await fetch(u, { headers: u === direct ? asApiV1 : {} });
      if (r.status !== 200) throw new Error(`${u} answered ${r.status}`);
    }
    const p = await paired(
      () => load({ url: v1, ...SHAPE }),
      () => load({ url: direct, headers: asApiV1, ...SHAPE }),
      ROUNDS,
      (i) => progress(`H3 round ${i + 1}/${ROUNDS}: GET /v1/devices vs api-v2 GET /internal/displays/catalogue`),
    );
    // One connection: no concurrent v1 requests to share an upstream fetch, so this is the bare hop.
    const single = await paired(
      () => load({ url: v1, connections: 1, durationSec: 4 }),
      () => load({ url: direct, headers: asApiV1, connections: 1, durationSec: 4 }),
      ROUNDS,
      (i) => progress(`H3 round ${i + 1}/${ROUNDS}, one connection: GET /v1/devices vs api-v2 direct`),
    );
    const a = summary(p.a);
    const b = summary(p.b);
    const met = p.rpsRatio >= 0.5 && single.rpsRatio >= 0.5 && single.p50DeltaMs <= 1 && a.non2xx === 0 && a.errors === 0;
    return [
      {
        id: 'H3',
        measure: 'the internal hop: the same read through api-v1 (→ api-v2) vs api-v2 direct',
        target: '≥ 50 % req/s, ≤ 1 ms added at p50',
        result:
          `-c 20: ${fmt.pct(p.rpsRatio)} req/s (${fmt.int(a.rps)} vs ${fmt.int(b.rps)}; v1 shares one upstream fetch among concurrent requests); ` +
          `-c 1 (bare hop): ${fmt.pct(single.rpsRatio)} req/s, p50 +${single.p50DeltaMs.toFixed(2)} ms (${summary(single.a).p50} vs ${summary(single.b).p50} ms)`,
        met,
        details: { concurrent20: { rpsRatio: p.rpsRatio, p50AddedMs: p.p50DeltaMs, p99Ratio: p.p99Ratio, viaV1: a, direct: b, rounds: { viaV1: p.a, direct: p.b } }, singleConnection: { rpsRatio: single.rpsRatio, p50AddedMs: single.p50DeltaMs, viaV1: summary(single.a), direct: summary(single.b) } },
        method:
          `autocannon -c ${SHAPE.connections} -p 1 -d ${SHAPE.durationSec}: GET /v1/devices on api-v1 (which reads api-v2's internal GET /internal/displays/catalogue over its undici pool; ` +
          `concurrent v1 requests share one in-flight fetch) vs that api-v2 endpoint called directly; ${CATALOGUE} active displays; ${ROUNDS} alternating rounds after a warm-up. ` +
          'Repeated with one connection (autocannon -c 1 -d 4), where no fetch can be shared: that is the bare cost of the hop, and the p50 target is judged there.',
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await platform.close();
  }
}
