/**
 * Who gets in, shared by every session of one server: connections per source address, handshake
 * rates (per address and for the replica) and the queue of hellos waiting for api-v2.
 */
import type { ErrorCode } from '@marquee/display-protocol';
import { KeyedTokenBuckets, TokenBucket, jitter } from './limits.ts';
import type { DeviceServerOptions } from './options.ts';

export interface Refusal {
  /** Label of the handshake metric. */
  result: string;
  code: ErrorCode;
  message: string;
  retryAfterMs: number;
}

export class Admission {
  private readonly perAddress = new Map<string, number>();
  private readonly addressBuckets: KeyedTokenBuckets;
  private readonly globalBucket: TokenBucket;
  /** Hellos waiting for api-v2's answer, answers so far, and answers per second (EWMA, per sweep). */
  private waiting = 0;
  private answered = 0;
  private answerRate = 0;
  private lastRateSample = { at: Date.now(), answered: 0 };

  constructor(private readonly opts: Readonly<DeviceServerOptions>) {
    this.addressBuckets = new KeyedTokenBuckets(opts.handshakesPerSecPerAddress, opts.handshakeBurstPerAddress);
    this.globalBucket = new TokenBucket(opts.handshakesPerSecTotal, opts.handshakeBurstTotal, Date.now());
  }

  /** Counts a connection against its source address; false above the limit (it stays counted until released). */
  admitConnection(address: string): boolean {
    const count = (this.perAddress.get(address) ?? 0) + 1;
    this.perAddress.set(address, count);
    return count <= this.opts.maxConnectionsPerAddress;
  }

  releaseConnection(address: string): void {
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }

  /** A hello may go on to api-v2 unless its address or this replica is over its rate, or too many wait. */
  admitHandshake(address: string, now: number): Refusal | null {
    const wait = Math.max(this.addressBuckets.take(address, now), this.globalBucket.take(now));
    if (wait > 0) {
      return { result: 'rate_limited', code: 'rate_limited', message: 'too many handshakes', retryAfterMs: wait + Math.round(Math.random() * 1000) };
    }
    if (this.waiting >= this.opts.maxHandshakesWaiting) {
      // Come back when the queue ahead has likely drained, spread so the returns do not clump.
      return { result: 'overloaded', code: 'unavailable', message: 'too many handshakes waiting', retryAfterMs: jitter(this.queueDrainMs()) };
    }
    return null;
  }

  /** Runs one hello's call to api-v2, counted in the waiting queue and the answer rate. */
  async whileWaiting<T>(call: () => Promise<T>): Promise<T> {
    this.waiting++;
    try {
      return await call();
    } finally {
      this.waiting--;
      this.answered++;
    }
  }

  /** Called by the server's sweep: forgets idle address buckets, samples the answer rate. */
  sweep(now: number): void {
    this.addressBuckets.sweep(now);
    const elapsed = now - this.lastRateSample.at;
    if (elapsed < 1_000) return;
    const rate = ((this.answered - this.lastRateSample.answered) * 1000) / elapsed;
    this.answerRate = this.answerRate === 0 ? rate : 0.5 * this.answerRate + 0.5 * rate;
    this.lastRateSample = { at: now, answered: this.answered };
  }

  /** How long the hellos waiting now will likely take, from the recent answer rate (1–30 s). */
  private queueDrainMs(): number {
    const perSecond = Math.max(this.answerRate, 100);
    return Math.min(30_000, Math.max(1_000, Math.round((this.waiting / perSecond) * 1000)));
  }
}
