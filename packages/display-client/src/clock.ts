/**
 * The server's clock as seen from the display (protocol §6 `serverTime`). Each sample pairs a frame's
 * `serverTime` with the local send and receive instants of the exchange that produced it; the
 * server wrote it somewhere in between, so the midpoint is the best guess and half the round trip
 * bounds the error. The estimate uses the sample with the smallest round trip among the recent
 * ones. Local time is monotonic (performance.now), so a stepped system clock does not move the
 * loop.
 */

/** Local monotonic time as epoch milliseconds. */
export const localNow = (): number => performance.timeOrigin + performance.now();

export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

export class ServerClock {
  private samples: ClockSample[] = [];
  private best: ClockSample | null;

  /** `initialOffsetMs`: a previous estimate (e.g. persisted before a restart), used until a sample arrives. */
  constructor(initialOffsetMs: number | null = null, private readonly keep = 8) {
    this.best = initialOffsetMs === null ? null : { offsetMs: initialOffsetMs, rttMs: Infinity };
  }

  /** Records one exchange; returns false (and ignores it) if the timestamp is unusable. */
  addSample(sentAt: number, receivedAt: number, serverTime: string): boolean {
    const server = Date.parse(serverTime);
    if (!Number.isFinite(server) || receivedAt < sentAt) return false;
    const rttMs = receivedAt - sentAt;
    this.samples.push({ offsetMs: server - (sentAt + rttMs / 2), rttMs });
    if (this.samples.length > this.keep) this.samples.shift();
    this.best = this.samples.reduce((a, b) => (b.rttMs < a.rttMs ? b : a));
    return true;
  }

  /** Server time minus local time, ms (0 before any sample). */
  get offsetMs(): number {
    return this.best?.offsetMs ?? 0;
  }

  /** Half the round trip of the sample in use: how far off the estimate can be. */
  get uncertaintyMs(): number {
    return this.best ? this.best.rttMs / 2 : Infinity;
  }

  get synced(): boolean {
    return this.samples.length > 0;
  }

  /** The server's clock now, epoch ms. */
  now(): number {
    return localNow() + this.offsetMs;
  }
}
