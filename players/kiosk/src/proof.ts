/**
 * Proof of play from what the page showed: the page reports the frame in which a showing became
 * visible and the one in which it was covered; the pair becomes a play record (start and
 * duration on the server's clock). Only showings of a `booking` entry the daemon actually sent to
 * the page count — house content, emergencies, idle screens and anything the page could not
 * show never do (protocol §6).
 */
import type { PlayRecord, PlaylistEntry } from '@marquee/display-client';
import type { ShowingEvent } from './page-server.ts';

export interface ProofDeps {
  /** The `booking` entry (current or just replaced playlist) a reported showing claims to be. */
  entryFor(bookingId: string, creativeId: string, mediaSha256: string): PlaylistEntry | null;
  record(play: Omit<PlayRecord, 'playId'>): Promise<unknown>;
  serverNow(): number;
  log(line: string): void;
}

export class ProofOfPlay {
  private open = new Map<string, ShowingEvent>();
  /** Booked showings turned into plays since start. */
  recorded = 0;
  /** The latest plays made (at most 1 000), for diagnostics and tests. */
  readonly recent: Omit<PlayRecord, 'playId'>[] = [];

  constructor(private readonly deps: ProofDeps) {}

  onEvents(events: ShowingEvent[]): void {
    for (const e of events) {
      if (e.event === 'start') {
        if (!this.open.has(e.key)) this.open.set(e.key, e);
      } else {
        const started = this.open.get(e.key);
        if (!started) continue;
        this.open.delete(e.key);
        this.finish(started, e.atMs);
      }
    }
  }

  /** The page is gone (reload, crash, shutdown): whatever it showed stopped now. */
  pageGone(): void {
    const now = this.deps.serverNow();
    for (const started of this.open.values()) this.finish(started, now);
    this.open.clear();
  }

  private finish(started: ShowingEvent, stoppedAtMs: number): void {
    if (started.kind !== 'booking') return;
    const { bookingId, creativeId, mediaSha256 } = started;
    const entry = bookingId && creativeId && mediaSha256 ? this.deps.entryFor(bookingId, creativeId, mediaSha256) : null;
    if (!entry || !bookingId || !creativeId) return this.deps.log(`page reported a showing of booking ${bookingId ?? '?'} that no playlist entry matches; not a play`);
    const durationMs = Math.round(stoppedAtMs - started.atMs);
    if (durationMs <= 0) return;
    this.recorded++;
    // entryFor matched these ids on a booking entry.
    const play = { bookingId, creativeId, startedAt: new Date(Math.round(started.atMs)).toISOString(), durationMs };
    this.recent.push(play);
    if (this.recent.length > 1_000) this.recent.shift();
    this.deps
      .record(play)
      .catch((err) => this.deps.log(`play not stored: ${(err as Error).message}`));
  }
}
