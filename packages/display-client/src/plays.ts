/**
 * Proof-of-play outbox (protocol §5 `plays`, §6 `plays_ack`): records stay in the store until the
 * server acknowledged or rejected them; at most one batch is in flight; a batch that got no
 * answer (connection lost, ack timeout, `retryAfterMs`) is sent again with the same playIds.
 */
import { randomUUID } from 'node:crypto';
import type { PlaysAckMessage } from '@marquee/display-protocol';
import type { PlayRecord, RejectedPlay } from './messages.ts';

/** Where unacknowledged plays live. A player uses a durable one (disk); the default keeps them in memory. */
export interface PlayStore {
  /** Every stored play, oldest first (called once, at start). */
  load(): Promise<PlayRecord[]>;
  /** Stores new plays durably before this resolves. */
  append(plays: PlayRecord[]): Promise<void>;
  /** Forgets plays (acknowledged or rejected) durably before this resolves. */
  remove(playIds: string[]): Promise<void>;
}

export class MemoryPlayStore implements PlayStore {
  async load(): Promise<PlayRecord[]> {
    return [];
  }
  async append(): Promise<void> {}
  async remove(): Promise<void> {}
}

export interface Batch {
  batchId: string;
  plays: PlayRecord[];
  sentAt: number;
}

export interface AckOutcome {
  batchId: string;
  accepted: string[];
  rejected: RejectedPlay[];
  /** Plays of the batch the server neither accepted nor rejected: they stay queued. */
  unresolved: number;
  retryAfterMs: number | null;
}

export class PlaysOutbox {
  /** Unacknowledged plays, oldest first; the in-flight batch is a prefix of this list. */
  private queue: PlayRecord[] = [];
  private inFlight: Batch | null = null;
  /** When each queued play was added (0 for those loaded from the store: they are overdue). */
  private addedAt = new Map<string, number>();
  private blockedUntil = 0;
  private ready: Promise<void>;
  /** Serialises store writes so removals never overtake the appends they refer to. */
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly store: PlayStore) {
    this.ready = store.load().then((plays) => {
      this.queue.push(...plays);
    });
  }

  /** Resolves once the stored backlog is loaded. */
  loaded(): Promise<void> {
    return this.ready;
  }

  get size(): number {
    return this.queue.length;
  }

  /** How long the server asked us to wait before the next batch (0 = no wait). */
  waitMs(now: number): number {
    return Math.max(0, this.blockedUntil - now);
  }

  get batchInFlight(): Batch | null {
    return this.inFlight;
  }

  /** Records a play durably; resolves after the store has it. */
  async add(play: PlayRecord, now: number): Promise<void> {
    await this.ready;
    const write = this.writes.then(() => this.store.append([play]));
    this.writes = write.catch(() => {});
    await write;
    this.queue.push(play);
    this.addedAt.set(play.playId, now);
  }

  /** Whether the oldest queued play has waited at least `ms` (a backlog, not a trickle). */
  overdue(now: number, ms: number): boolean {
    const oldest = this.queue[0];
    return oldest !== undefined && (this.addedAt.get(oldest.playId) ?? 0) <= now - ms;
  }

  /** The next batch to send now, or null (nothing queued, one in flight, or told to wait). */
  takeBatch(maxPlays: number, now: number): Batch | null {
    if (this.inFlight || this.queue.length === 0 || now < this.blockedUntil) return null;
    this.inFlight = { batchId: randomUUID(), plays: this.queue.slice(0, maxPlays), sentAt: now };
    return this.inFlight;
  }

  /** The batch got no answer (connection closed, ack timeout): its plays go out again later. */
  release(): void {
    this.inFlight = null;
  }

  /**
   * Applies a `plays_ack`. Returns null for an ack that does not answer the batch in flight (a
   * late answer to an abandoned batch: its plays are still queued and will be resent, which the
   * server de-duplicates by playId).
   */
  async acknowledge(ack: PlaysAckMessage, now: number): Promise<AckOutcome | null> {
    const batch = this.inFlight;
    if (!batch || ack.batchId !== batch.batchId) return null;
    const inBatch = new Set(batch.plays.map((p) => p.playId));
    const accepted = ack.accepted.filter((id) => inBatch.has(id));
    const rejected = ack.rejected.filter((r) => inBatch.has(r.playId));
    const done = new Set([...accepted, ...rejected.map((r) => r.playId)]);
    const retryAfterMs = ack.retryAfterMs !== undefined && ack.retryAfterMs > 0 ? ack.retryAfterMs : null;
    try {
      if (done.size > 0) {
        const write = this.writes.then(() => this.store.remove([...done]));
        this.writes = write.catch(() => {});
        await write;
        this.queue = this.queue.filter((p) => !done.has(p.playId));
        for (const id of done) this.addedAt.delete(id);
      }
    } finally {
      // If the store failed, the plays stay queued and are sent again: the server answers "accepted" again.
      if (retryAfterMs !== null) this.blockedUntil = now + retryAfterMs;
      this.inFlight = null;
    }
    return { batchId: batch.batchId, accepted, rejected, unresolved: batch.plays.length - done.size, retryAfterMs };
  }
}
