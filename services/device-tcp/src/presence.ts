/**
 * Batches presence for api-v2: connect/disconnect events in order, plus at most one "seen" per
 * display per flush. A failed flush keeps the events (bounded) and retries on the next tick.
 */
import type { Logger } from '@marquee/service-kit';
import type { DisplayDirectory, PresenceEvent } from './directory.ts';

type SeenEvent = Extract<PresenceEvent, { kind: 'seen' }>;

export class PresenceReporter {
  private events: PresenceEvent[] = [];
  private seen = new Map<string, SeenEvent>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly directory: DisplayDirectory,
    private readonly logger: Logger,
    private readonly maxBuffered = 100_000,
    private readonly batchSize = 1_000,
  ) {}

  record(event: PresenceEvent): void {
    if (event.kind === 'seen') {
      this.seen.set(event.displayId, event);
      return;
    }
    // A connect/disconnect supersedes an older "seen" for the same display.
    this.seen.delete(event.displayId);
    this.events.push(event);
    if (this.events.length > this.maxBuffered) this.events.splice(0, this.events.length - this.maxBuffered);
  }

  get pending(): number {
    return this.events.length + this.seen.size;
  }

  /** Nothing buffered and no report in flight: everything recorded so far has reached api-v2. */
  get settled(): boolean {
    return this.pending === 0 && this.flushing === null;
  }

  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending === 0) return;
    const batch = [...this.events, ...this.seen.values()];
    this.events = [];
    this.seen = new Map();
    for (let i = 0; i < batch.length; i += this.batchSize) {
      const slice = batch.slice(i, i + this.batchSize);
      try {
        await this.directory.reportPresence(slice);
      } catch (err) {
        this.logger.warn({ err: String(err), events: batch.length - i }, 'presence report failed; will retry');
        // Put the unsent rest back in front of anything recorded meanwhile, keeping order.
        const rest = batch.slice(i);
        const newer = this.events;
        const newerSeen = this.seen;
        this.events = [];
        this.seen = new Map();
        for (const e of rest) this.record(e);
        for (const e of newer) this.record(e);
        for (const e of newerSeen.values()) this.record(e);
        return;
      }
    }
  }
}
