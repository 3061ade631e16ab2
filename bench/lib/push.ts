/** Edit → push measurement shared by T2 and the chaos runs: PATCH a booked creative, time arrivals. */
import { epochNow, percentile, type Fleet } from './displays.ts';
import type { Platform } from './platform.ts';
import type { User } from './seed.ts';
import { waitFor } from './sim.ts';

/** 5xx answers to the edit, kept as evidence (e.g. deadlocks between version bumps and presence writes). */
export const editFailures: { at: string; status: number; body: string }[] = [];

/** PATCH /creatives/{id} {durationMs}; a 5xx is recorded and retried (as a client would), up to 5 times. */
export async function patchCreative(platform: Platform, advertiser: User, creativeId: string, durationMs: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${platform.apiV2Url}/creatives/${creativeId}`, {
      method: 'PATCH',
      headers: { ...advertiser.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ durationMs }),
    });
    const answeredAt = epochNow();
    if (res.status === 200) return answeredAt;
    const body = await res.text();
    if (res.status < 500 || attempt >= 5) throw new Error(`PATCH /creatives answered ${res.status}: ${body}`);
    editFailures.push({ at: new Date().toISOString(), status: res.status, body: body.slice(0, 300) });
  }
}

export async function playlistVersions(platform: Platform, ids: string[]): Promise<[string, number][]> {
  const rows = await platform.sql<{ id: string; v: string }[]>`select id, playlist_version as v from displays where id = any(${ids}::uuid[])`;
  return rows.map((r) => [r.id, Number(r.v)]);
}

export async function appliedTimes(fleet: Fleet, expect: [string, number][]) {
  const shardOf = new Map<string, number>();
  fleet.shards.forEach((shard, w) => shard.forEach((c) => shardOf.set(c.id, w)));
  const parts = await Promise.all(
    fleet.sims.map((s, w) => s.call<{ times: (number | null)[]; stale: number }>({ op: 'applied', expect: expect.filter(([id]) => shardOf.get(id) === w) })),
  );
  return { times: parts.flatMap((p) => p.times), stale: parts.reduce((n, p) => n + p.stale, 0) };
}

export interface PushSample {
  p50: number;
  p99: number;
  max: number;
  received: number;
  stale: number;
}

/** One edit of a creative booked on all `ids`; waits (≤ timeoutMs) until every display applied it. */
export async function measureOnePush(platform: Platform, advertiser: User, creativeId: string, fleet: Fleet, ids: string[], durationMs: number, timeoutMs = 30_000): Promise<PushSample> {
  const answeredAt = await patchCreative(platform, advertiser, creativeId, durationMs);
  const expect = await playlistVersions(platform, ids);
  const got = await waitFor('applied', () => appliedTimes(fleet, expect), (r) => r.stale === 0, timeoutMs, undefined, 100);
  const lat = got.value.times.filter((t): t is number => t !== null).map((t) => t - answeredAt).sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] ?? NaN, received: lat.length, stale: got.value.stale };
}
