/**
 * Prometheus scrapes of the services' /metrics, reduced to what explains a figure: requests and
 * mean time per route (api-v2), handshakes/closes by result (device-tcp). Diffed before/after a step.
 */
import { credentialHeader } from './platform.ts';
export type MetricTotals = Record<string, number>;

export async function scrape(baseUrl: string): Promise<MetricTotals> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: credentialHeader('ops'), signal: AbortSignal.timeout(5_000) })).text();
  const out: MetricTotals = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const m = /^(http_request_duration_seconds_(?:count|sum)|device_tcp_[a-z_]+_total)\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    delete labels.service;
    const key = `${m[1]}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}}`;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

/** Per route: requests and mean ms between two scrapes; device-tcp counters as deltas. */
export function diff(before: MetricTotals, after: MetricTotals) {
  const routes: Record<string, { requests: number; meanMs: number }> = {};
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d <= 0) continue;
    if (k.startsWith('http_request_duration_seconds_count')) {
      const labels = k.slice(k.indexOf('{'));
      const sum = (after[`http_request_duration_seconds_sum${labels}`] ?? 0) - (before[`http_request_duration_seconds_sum${labels}`] ?? 0);
      routes[labels] = { requests: d, meanMs: Math.round((sum / d) * 1000 * 100) / 100 };
    } else if (k.startsWith('device_tcp_')) counters[k] = d;
  }
  return { routes, counters };
}

/** Current values of unlabelled (or label-summed) gauges, e.g. nodejs_heap_size_used_bytes. */
export async function scrapeGauges<K extends string>(baseUrl: string, names: readonly K[]): Promise<Record<K, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: credentialHeader('ops'), signal: AbortSignal.timeout(5_000) })).text();
  const out = Object.fromEntries(names.map((n) => [n, 0])) as Record<K, number>;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && (names as readonly string[]).includes(m[1]!)) out[m[1] as K] += Number(m[2]);
  }
  return out;
}
