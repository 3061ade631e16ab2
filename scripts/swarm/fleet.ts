// The Swarm test's displays: @marquee/display-client (the library the kiosk player and the
// simulator use) connected through the edge's TCP port. They reconnect by themselves after a close
// or a `reconnect` (drain), record plays on their booking and keep a ledger of what the platform
// acknowledged, so a check can read every acknowledged play back afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { DisplayClient } from '@marquee/display-client';
import { DEVICE_HOST, DEVICE_PORT } from './support.ts';

/** The fleet's displays run a loop of one 1 s slot, so each plays its booking once a second. */
export const SLOT_MS = 1_000;

export interface FleetDisplay {
  id: string;
  secret: string;
  client: DisplayClient;
  /** Sessions this display was welcomed to, in order. */
  sessions: string[];
  /** Connections lost so far (closed by the server, the edge or a drain). */
  disconnects: number;
}

export interface Booked {
  bookingId: string;
  creativeId: string;
}

export class Fleet {
  readonly displays: FleetDisplay[];
  /** playId → booking, for every play recorded. */
  private readonly bookingOf = new Map<string, string>();
  /** Acknowledged (durably recorded) play ids per booking. */
  readonly acked = new Map<string, Set<string>>();
  rejected = 0;
  private playing: NodeJS.Timeout | null = null;

  constructor(credentials: Array<{ id: string; secret: string }>) {
    this.displays = credentials.map(({ id, secret }) => {
      const client = new DisplayClient({
        host: DEVICE_HOST,
        port: Number(DEVICE_PORT),
        displayId: id,
        secret,
        client: { name: 'swarm-test', version: '1' },
        batchEveryMs: 1_000,
        // Reconnect fast while a replica is gone (the protocol's 1 s base, capped low for a test).
        backoff: { baseMs: 500, capMs: 4_000 },
        connectTimeoutMs: 5_000,
        welcomeTimeoutMs: 10_000,
      });
      const display: FleetDisplay = { id, secret, client, sessions: [], disconnects: 0 };
      client.on('welcome', (w) => display.sessions.push(w.sessionId));
      client.on('disconnect', () => display.disconnects++);
      client.on('playsAck', (outcome) => {
        for (const playId of outcome.accepted) {
          const booking = this.bookingOf.get(playId);
          if (!booking) continue;
          if (!this.acked.has(booking)) this.acked.set(booking, new Set());
          this.acked.get(booking)!.add(playId);
        }
        this.rejected += outcome.rejected.length;
      });
      return display;
    });
  }

  /** Connects the displays one after another, each once welcomed, so the edge's rotation spreads them. */
  async connect(timeoutMs = 15_000): Promise<void> {
    for (const d of this.displays) {
      let timer: NodeJS.Timeout | undefined;
      const welcomed = new Promise<void>((resolve, reject) => {
        d.client.once('welcome', () => resolve());
        timer = setTimeout(() => reject(new Error(`display ${d.id}: no welcome within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await d.client.start();
        await welcomed;
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Each display's disconnect count now, to compare with later (`droppedSince`). */
  disconnectCounts(): number[] {
    return this.displays.map((d) => d.disconnects);
  }

  /** How many displays lost their connection since `counts` was taken. */
  droppedSince(counts: number[]): number {
    return this.displays.filter((d, i) => d.disconnects > counts[i]!).length;
  }

  online(): number {
    return this.displays.filter((d) => d.client.state === 'online').length;
  }

  /** Waits until every display is online again; resolves to the milliseconds it took. */
  async allOnline(timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (this.online() < this.displays.length) {
      if (Date.now() - started > timeoutMs) throw new Error(`${this.online()}/${this.displays.length} displays online after ${timeoutMs} ms`);
      await sleep(50);
    }
    return Date.now() - started;
  }

  /**
   * Every display records one play of its booking per occurrence of its one slot (the displays run
   * a 1-slot loop of `slotMs`), as a display following the protocol does: the occurrence that just
   * ended, from its start for its whole length, on the server's clock (docs/display-protocol.md).
   */
  startPlaying(bookingOf: (displayId: string) => Booked, slotMs = SLOT_MS): void {
    const lastPlayed = new Map<string, number>();
    const shown = new Map<string, { creativeId: string; changedAt: number }>();
    this.playing = setInterval(() => {
      for (const d of this.displays) {
        const now = d.client.serverNow();
        const { bookingId, creativeId } = bookingOf(d.id);
        // The test learns of a swap when its answer arrives, a little after the swap took effect:
        // like a display between two playlists, it does not claim the showings around a swap.
        const seen = shown.get(d.id);
        if (seen?.creativeId !== creativeId) shown.set(d.id, { creativeId, changedAt: seen ? now : -Infinity });
        const occurrence = Math.floor(now / slotMs) - 1;
        if ((lastPlayed.get(d.id) ?? -1) >= occurrence) continue;
        lastPlayed.set(d.id, occurrence);
        if (Math.abs(occurrence * slotMs - shown.get(d.id)!.changedAt) < 2 * slotMs) continue;
        const startedAt = new Date(occurrence * slotMs).toISOString();
        void d.client.recordPlay({ bookingId, creativeId, startedAt, durationMs: slotMs }).then((p) => this.bookingOf.set(p.playId, bookingId));
      }
    }, slotMs / 4);
  }

  stopPlaying(): void {
    if (this.playing) clearInterval(this.playing);
    this.playing = null;
  }

  get recorded(): number {
    return this.displays.reduce((n, d) => n + d.client.stats.plays, 0);
  }

  get unacked(): number {
    return this.displays.reduce((n, d) => n + d.client.unackedPlays, 0);
  }

  ackedCount(): number {
    let n = 0;
    for (const ids of this.acked.values()) n += ids.size;
    return n;
  }

  /** Waits until every recorded play was acknowledged or rejected. */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.unacked > 0) {
      if (Date.now() > deadline) throw new Error(`${this.unacked} plays still unacknowledged after ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  stop(): void {
    this.stopPlaying();
    for (const d of this.displays) d.client.stop();
  }
}
