import { TOPIC_LIVE_EVENT, type AccessClaims, type LiveEventMessage, type Logger, type MessageBus } from '@marquee/service-kit';
import { liveEventVisible } from '../access.ts';

/** What one open stream gets: the caller's events, in bus order. */
export interface LiveListener {
  user: AccessClaims;
  deliver(message: LiveEventMessage): void;
  /** The hub is closing (shutdown): end the stream now. */
  end(): void;
}

export type Resume =
  /** Everything after the given id that this caller may see (possibly nothing). */
  | { kind: 'replay'; messages: LiveEventMessage[] }
  /** The id is not among the events kept here: the caller must refetch what it shows. */
  | { kind: 'unknown' };

export interface LiveEventHub {
  /** Resolves once the bus subscription is live (events published after that are kept). */
  ready: Promise<void>;
  /**
   * Registers a listener and, atomically with that, answers what it missed after `lastEventId`
   * (none given: nothing to replay). The returned function unregisters it.
   */
  listen(listener: LiveListener, lastEventId?: string): { resume: Resume; stop: () => void };
  /** Listeners connected to this replica (for tests and metrics). */
  readonly listeners: number;
  /** Ends every stream (and any opened later) and unsubscribes. */
  close(): Promise<void>;
}

export const DEFAULT_LIVE_EVENTS_KEPT = 10_000;

/**
 * This replica's side of GET /events: one bus subscription to TOPIC_LIVE_EVENT for all its
 * streams, and a bounded ring of the most recent events for Last-Event-ID resume.
 *
 * Why a ring per replica and not a Redis stream: every replica subscribes to the same channel and
 * Redis delivers a channel's messages to every subscriber in one order, so every replica's ring
 * holds the same events in the same order under the same (publisher-chosen) ids, and a client may
 * resume on any replica. It needs nothing beyond the bus that already runs (and works on the
 * in-process bus of `npm start`). What it cannot replay — an id older than the ring, or one from
 * before this replica started or while its subscription was down — is answered with "unknown",
 * and the console refetches, which it must be able to do anyway once an id falls out of any
 * bounded history.
 */
export function createLiveEventHub(deps: { bus: MessageBus; logger: Logger }, opts: { kept?: number } = {}): LiveEventHub {
  const kept = opts.kept ?? DEFAULT_LIVE_EVENTS_KEPT;
  // A ring: `ring[(start + i) % kept]` is the i-th oldest event; ids map to their absolute sequence.
  const ring: LiveEventMessage[] = [];
  let first = 0; // absolute sequence number of the oldest kept event
  const sequenceOf = new Map<string, number>();
  const listeners = new Set<LiveListener>();
  let unsubscribe: (() => Promise<void>) | undefined;
  let closed = false;

  const at = (seq: number) => ring[seq % kept]!;
  const keep = (message: LiveEventMessage) => {
    const seq = first + sequenceOf.size;
    if (sequenceOf.size === kept) {
      sequenceOf.delete(at(first).id);
      first++;
    }
    ring[seq % kept] = message;
    sequenceOf.set(message.id, seq);
  };

  const ready = deps.bus
    .subscribe(TOPIC_LIVE_EVENT, (message) => {
      if (sequenceOf.has(message.id)) return; // a duplicate publish changes nothing
      keep(message);
      for (const listener of listeners) {
        if (liveEventVisible(listener.user, message.audience)) listener.deliver(message);
      }
    })
    .then((stop) => {
      unsubscribe = stop;
    });
  ready.catch((err) => deps.logger.error({ err }, 'live events: bus subscription failed'));

  return {
    ready,
    listen(listener, lastEventId) {
      let resume: Resume = { kind: 'replay', messages: [] };
      if (lastEventId !== undefined) {
        const seq = sequenceOf.get(lastEventId);
        if (seq === undefined) resume = { kind: 'unknown' };
        else {
          const messages: LiveEventMessage[] = [];
          const end = first + sequenceOf.size;
          for (let s = seq + 1; s < end; s++) if (liveEventVisible(listener.user, at(s).audience)) messages.push(at(s));
          resume = { kind: 'replay', messages };
        }
      }
      if (closed) listener.end();
      else listeners.add(listener);
      return { resume, stop: () => void listeners.delete(listener) };
    },
    get listeners() {
      return listeners.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const listener of [...listeners]) listener.end();
      listeners.clear();
      await ready.catch(() => {});
      await unsubscribe?.();
    },
  };
}
