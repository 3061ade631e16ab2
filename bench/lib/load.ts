/**
 * HTTP load through autocannon (a maintained load generator), and helpers to measure a figure
 * against its baseline in the same run: A and B alternate round by round, and the reported ratio is
 * the median of the per-round ratios, so machine noise hits both sides alike.
 */
import autocannon, { type Request as AutocannonRequest } from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  connections?: number;
  durationSec?: number;
  amount?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: AutocannonRequest[];
  pipelining?: number;
  timeoutSec?: number;
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections ?? 50,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationSec ?? 5 }),
    pipelining: opts.pipelining ?? 1,
    timeout: opts.timeoutSec ?? 10,
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.requests ? { requests: opts.requests } : {}),
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (s as { count: number }).count;
  const seconds = result.duration || opts.durationSec || 1;
  return {
    rps: opts.amount ? result.requests.total / seconds : result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Paired {
  a: LoadResult[];
  b: LoadResult[];
  /** median over rounds of a.rps / b.rps */
  rpsRatio: number;
  /** median over rounds of a.p99 / b.p99 */
  p99Ratio: number;
  /** median over rounds of a.p50 - b.p50, ms */
  p50DeltaMs: number;
}

/** Alternates A and B (A B, B A, A B …) `rounds` times after one warm-up each. */
export async function paired(a: () => Promise<LoadResult>, b: () => Promise<LoadResult>, rounds: number, onRound?: (i: number) => void): Promise<Paired> {
  await a();
  await b();
  const ra: LoadResult[] = [];
  const rb: LoadResult[] = [];
  for (let i = 0; i < rounds; i++) {
    onRound?.(i);
    if (i % 2 === 0) {
      ra.push(await a());
      rb.push(await b());
    } else {
      rb.push(await b());
      ra.push(await a());
    }
  }
  return {
    a: ra,
    b: rb,
    rpsRatio: median(ra.map((x, i) => x.rps / rb[i]!.rps)),
    p99Ratio: median(ra.map((x, i) => x.p99 / Math.max(rb[i]!.p99, 0.001))),
    p50DeltaMs: median(ra.map((x, i) => x.p50 - rb[i]!.p50)),
  };
}

export const summary = (rs: LoadResult[]) => ({
  rps: Math.round(median(rs.map((r) => r.rps))),
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
  non2xx: rs.reduce((n, r) => n + Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).reduce((m, [, v]) => m + v, 0), 0),
  errors: rs.reduce((n, r) => n + r.errors + r.timeouts, 0),
});

/**
 * Like `paired` for any number of sides: after one warm-up each, `rounds` rounds in which the
 * order rotates (A B C, B C A, C A B …), so no side always runs first or last. Ratios are per round.
 */
export async function rotated<K extends string, R extends LoadResult>(sides: Record<K, () => Promise<R>>, rounds: number, onRound?: (i: number) => void): Promise<Record<K, R[]>> {
  const names = Object.keys(sides) as K[];
  for (const n of names) await sides[n]();
  const out = Object.fromEntries(names.map((n) => [n, [] as R[]])) as Record<K, R[]>;
  for (let i = 0; i < rounds; i++) {
    onRound?.(i);
    for (let k = 0; k < names.length; k++) {
      const n = names[(i + k) % names.length]!;
      out[n].push(await sides[n]());
    }
  }
  return out;
}

/** Median over rounds of a[i].rps / b[i].rps and of a[i].p99 / b[i].p99. */
export const ratios = (a: LoadResult[], b: LoadResult[]) => ({
  rpsRatio: median(a.map((x, i) => x.rps / b[i]!.rps)),
  p99Ratio: median(a.map((x, i) => x.p99 / Math.max(b[i]!.p99, 0.001))),
});
