/** Shared steps of the device benchmarks: connect a fleet of simulated displays and wait for it. */
import { fmt, throttled } from './report.ts';
import type { DeviceCredential } from './seed.ts';
import { SimProcess, totalStatus, waitFor, type SimStatus } from './sim.ts';

export interface Fleet {
  sims: SimProcess[];
  /** credentials per simulator process, in launch order */
  shards: DeviceCredential[][];
  status(): Promise<SimStatus>;
  close(): Promise<void>;
}

export function spawnFleet(name: string, creds: DeviceCredential[], workers: number): Fleet {
  const per = Math.ceil(creds.length / workers);
  const sims = Array.from({ length: workers }, (_, w) => new SimProcess(`${name}-${w}`));
  const shards = Array.from({ length: workers }, (_, w) => creds.slice(w * per, (w + 1) * per));
  return {
    sims,
    shards,
    status: () => totalStatus(sims),
    async close() {
      for (const s of sims) await s.close();
    },
  };
}

/**
 * Displays per source address. Real screens come from many addresses; device-tcp limits handshakes
 * per address (20/s, burst 100), so packing hundreds behind one address would measure that limit.
 */
export const PER_ADDRESS = 20;

export interface LaunchOptions {
  port: number;
  /** total connects per second over all workers */
  rate: number;
  plays?: boolean;
  speed?: number;
  batchEveryMs?: number;
  playlistVersion?: number;
  perAddress?: number;
}

export async function launchFleet(fleet: Fleet, o: LaunchOptions): Promise<void> {
  await Promise.all(
    fleet.sims.map((sim, w) =>
      sim.call({
        op: 'launch',
        credentials: fleet.shards[w]!.map((c) => [c.id, c.secret]),
        port: o.port,
        rate: Math.max(1, Math.round(o.rate / fleet.sims.length)),
        perAddress: o.perAddress ?? PER_ADDRESS,
        addressBase: w * 10,
        plays: o.plays ?? false,
        speed: o.speed ?? 1,
        batchEveryMs: o.batchEveryMs ?? 60_000,
        ...(o.playlistVersion !== undefined ? { playlistVersion: o.playlistVersion } : {}),
      }),
    ),
  );
}

/** Waits until every display is online and has received at least one playlist. */
export async function waitOnline(label: string, fleet: Fleet, count: number, timeoutMs: number, needPlaylists = true) {
  const tick = throttled();
  return waitFor(
    'online',
    () => fleet.status(),
    (s) => s.online >= count && (!needPlaylists || s.playlists >= count),
    timeoutMs,
    (s) => tick(`${label}: online ${fmt.int(s.online)}/${fmt.int(count)} · playlists ${fmt.int(s.playlists)} · errors ${JSON.stringify(s.errors)}`),
    250,
  );
}

export const epochNow = () => performance.timeOrigin + performance.now();

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
