// Client traffic through the edge while a fault runs: reads (api-v1 → api-v2 readiness, a booking,
// availability) and writes (a booking held and confirmed on a fresh hour, a creative swap), every
// acknowledged write kept in a ledger that `verify` reads back afterwards.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { http, type HttpResult } from './support.ts';

export interface WriteLedger {
  /**
   * Booking id → what the platform acknowledged: confirmed (200) and the creative of the last
   * acknowledged swap (null when a swap failed: the server may or may not have applied it).
   */
  bookings: Map<string, { confirmed: boolean; creativeId: string | null }>;
  /** Next hour offset for a fresh, never conflicting booking window. */
  nextHour: number;
}

export interface LoadParams {
  advertiserToken: string;
  /** A display the writer books (active, bookable). */
  displayId: string;
  /** Two creatives of the advertiser: swaps alternate between them. */
  creatives: [string, string];
  /** A booking reads may fetch. */
  readBookingId: string;
  ledger: WriteLedger;
  /** Stop writing after a failure (a fault that is expected to fail requests, e.g. a database restart). */
  pauseAfterFailureMs?: number;
  /**
   * How long a request may take before it counts as failed (default 10 s). A database restart
   * passes 30 s: a request queued behind the pool's reconnection attempts is answered (503) after
   * more than 10 s, and what must hold there is the answer; its latency is reported (`slowestMs`).
   */
  requestTimeoutMs?: number;
}

export interface LoadResult {
  reads: number;
  writes: number;
  failures: string[];
  /** Failures that were the platform's own "unavailable, retry": 503 problem+json with Retry-After. */
  unavailable: number;
  /** The longest any request took to be answered (or given up on). */
  slowestMs: number;
  ms: number;
}

function failure(what: string, res: HttpResult): string {
  return `${what} ${res.status}${res.retryAfter ? ` retry-after=${res.retryAfter}` : ''} ${JSON.stringify(res.json).slice(0, 160)}`;
}

/** A service's answer while a dependency is away: 503, Retry-After, the service-unavailable problem. */
function isUnavailable(res: HttpResult): boolean {
  return res.status === 503 && res.retryAfter !== null && String(res.json?.type ?? '').endsWith('/service-unavailable');
}

/** Starts 3 readers and 1 writer; `stop()` ends them and resolves with the counts. */
export function startLoad(p: LoadParams): { stop(): Promise<LoadResult> } {
  const started = Date.now();
  let running = true;
  const result: LoadResult = { reads: 0, writes: 0, failures: [], unavailable: 0, slowestMs: 0, ms: 0 };
  const timeoutMs = p.requestTimeoutMs ?? 10_000;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => http(method, path, body, p.advertiserToken, headers, timeoutMs);
  const fail = async (text: string) => {
    result.failures.push(text);
    if (p.pauseAfterFailureMs) await sleep(p.pauseAfterFailureMs);
  };
  const attempt = async (what: string, fn: () => Promise<HttpResult>, ok: number): Promise<HttpResult | undefined> => {
    const started = Date.now();
    try {
      const res = await fn().finally(() => (result.slowestMs = Math.max(result.slowestMs, Date.now() - started)));
      if (res.status === ok) return res;
      if (isUnavailable(res)) result.unavailable++;
      await fail(failure(what, res));
    } catch (err) {
      await fail(`${what} ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
    return undefined;
  };

  const reads: Array<[string, () => Promise<HttpResult>]> = [
    ['GET /v1/readyz', () => http('GET', '/v1/readyz', undefined, undefined, {}, timeoutMs)],
    ['GET /v2/bookings/{id}', () => call('GET', `/v2/bookings/${p.readBookingId}`)],
    [
      'GET /v2/displays/{id}/availability',
      () => {
        const from = new Date(Date.now() + 86_400_000);
        const to = new Date(from.getTime() + 86_400_000);
        return call('GET', `/v2/displays/${p.displayId}/availability?from=${from.toISOString()}&to=${to.toISOString()}`);
      },
    ],
  ];
  const reader = async (which: number) => {
    while (running) {
      const [what, fn] = reads[which % reads.length]!;
      if (await attempt(what, fn, 200)) result.reads++;
    }
  };

  const writer = async () => {
    let swap = 0;
    while (running) {
      const hour = p.ledger.nextHour++;
      const startsAt = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + hour * 3_600_000).toISOString();
      const endsAt = new Date(Date.parse(startsAt) + 3_600_000).toISOString();
      const creativeId = p.creatives[0];
      const key = randomBytes(8).toString('hex');
      const held = await attempt('POST /v2/bookings', () => call('POST', '/v2/bookings', { displayIds: [p.displayId], creativeId, startsAt, endsAt }, { 'idempotency-key': key }), 201);
      if (!held) continue;
      const id = String(held.json.id);
      const entry: { confirmed: boolean; creativeId: string | null } = { confirmed: false, creativeId };
      p.ledger.bookings.set(id, entry);
      result.writes++;
      if (await attempt('POST /v2/bookings/{id}/confirm', () => call('POST', `/v2/bookings/${id}/confirm`, {}), 200)) {
        entry.confirmed = true;
        result.writes++;
      }
      const next = p.creatives[++swap % 2]!;
      if (await attempt('PATCH /v2/bookings/{id}', () => call('PATCH', `/v2/bookings/${id}`, { creativeId: next }), 200)) {
        entry.creativeId = next;
        result.writes++;
      } else entry.creativeId = null;
    }
  };

  const workers = [reader(0), reader(1), reader(2), writer()];
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      result.ms = Date.now() - started;
      return result;
    },
  };
}

/** Reads every acknowledged booking back: missing, not booked though confirmed, or a lost swap is a lost write. */
export async function verifyWrites(ledger: WriteLedger, advertiserToken: string): Promise<{ checked: number; lost: string[] }> {
  const lost: string[] = [];
  const entries = [...ledger.bookings.entries()];
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const [id, want] = entries[next++]!;
      const res = await http('GET', `/v2/bookings/${id}`, undefined, advertiserToken);
      if (res.status !== 200) lost.push(`${id}: GET ${res.status}`);
      else if (want.confirmed && res.json.status !== 'booked') lost.push(`${id}: confirmed but ${res.json.status}`);
      else if (want.creativeId !== null && res.json.creativeId !== want.creativeId) lost.push(`${id}: creative ${res.json.creativeId}, acknowledged ${want.creativeId}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { checked: entries.length, lost };
}

export function summarize(r: LoadResult): string {
  const kinds = new Map<string, number>();
  for (const f of r.failures) {
    const key = f.split(' ').slice(0, 3).join(' ');
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  const unavailable = r.failures.length ? `, ${r.unavailable} of them 503 + Retry-After` : '';
  return `${r.reads} reads + ${r.writes} writes in ${(r.ms / 1000).toFixed(1)} s (slowest answer ${(r.slowestMs / 1000).toFixed(1)} s), ${r.failures.length} failed${unavailable}${r.failures.length ? ` (${[...kinds].map(([k, n]) => `${k}: ${n}`).join(', ')}; first: ${r.failures[0]})` : ''}`;
}
