// The Swarm test's displays: the display simulator (tools/display-sim, on @marquee/display-client)
// connected through the edge's TCP port. Each plays its playlist on the display-client's schedule
// (showingAt, the server's clock) and reports a play per showing, as real players do, so a
// rejected play is the platform's verdict on a correct display. They reconnect by themselves
// after a close or a `reconnect` (drain) and keep a ledger of what the platform acknowledged, so
// a check can read every acknowledged play back afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DisplayClient, PlayRecord } from '@marquee/display-client';
import { SimDisplay } from '../../tools/display-sim/display.ts';
import { DEVICE_HOST, DEVICE_PORT } from './support.ts';

/** The fleet's displays run a loop of one 1 s slot, so each plays its booking once a second. */
export const SLOT_MS = 1_000;

export interface FleetDisplay {
  id: string;
  secret: string;
  sim: SimDisplay;
  client: DisplayClient;
  /** Sessions this display was welcomed to, in order. */
  sessions: string[];
  /** Connections lost so far (closed by the server, the edge or a drain). */
  disconnects: number;
}

export class Fleet {
  readonly displays: FleetDisplay[];
  /** playId → the play and its display, for every play recorded. */
  private readonly plays = new Map<string, PlayRecord & { displayId: string }>();
  /** Every rejected play, with its code and when the answer came. */
  readonly rejectedPlays: Array<{ play: (PlayRecord & { displayId: string }) | undefined; code: string; at: Date }> = [];
  /** Acknowledged (durably recorded) play ids per booking. */
  readonly acked = new Map<string, Set<string>>();
  /** Rejected plays by the platform's code (plays_ack.rejected[].code), with one detail each. */
  readonly rejections = new Map<string, { count: number; detail: string }>();

  constructor(credentials: Array<{ id: string; secret: string }>) {
    this.displays = credentials.map(({ id, secret }) => {
      const sim = new SimDisplay({
        host: DEVICE_HOST,
        port: Number(DEVICE_PORT),
        displayId: id,
        secret,
        plays: false,
        batchEveryMs: 1_000,
        // Reconnect fast while a replica is gone (the protocol's 1 s base, capped low for a test).
        backoff: { baseMs: 500, capMs: 4_000 },
        connectTimeoutMs: 5_000,
        welcomeTimeoutMs: 10_000,
        onPlay: (play) => this.plays.set(play.playId, { ...play, displayId: id }),
      });
      const client = sim.client;
      const display: FleetDisplay = { id, secret, sim, client, sessions: [], disconnects: 0 };
      client.on('welcome', (w) => display.sessions.push(w.sessionId));
      client.on('disconnect', () => display.disconnects++);
      client.on('playsAck', (outcome) => {
        for (const playId of outcome.accepted) {
          const booking = this.plays.get(playId)?.bookingId;
          if (!booking) continue;
          if (!this.acked.has(booking)) this.acked.set(booking, new Set());
          this.acked.get(booking)!.add(playId);
        }
        for (const r of outcome.rejected) {
          this.rejectedPlays.push({ play: this.plays.get(r.playId), code: r.code, at: new Date() });
          const seen = this.rejections.get(r.code);
          this.rejections.set(r.code, { count: (seen?.count ?? 0) + 1, detail: seen?.detail ?? r.detail });
        }
      });
      return display;
    });
  }

  /** Plays the platform rejected, all codes. */
  get rejected(): number {
    let n = 0;
    for (const { count } of this.rejections.values()) n += count;
    return n;
  }

  /**
   * The first rejected plays with the display's other plays of the same booking around them (the
   * occurrence they collided with), for the diagnosis.
   */
  rejectedDetails(limit = 3): string {
    const line = (p: PlayRecord) => `${p.startedAt} +${p.durationMs} ms creative ${p.creativeId.slice(0, 8)} play ${p.playId.slice(0, 8)}`;
    return this.rejectedPlays
      .slice(0, limit)
      .map(({ play, code, at }) => {
        if (!play) return `${code} at ${at.toISOString()}: (unknown play)`;
        const t = Date.parse(play.startedAt);
        const near = [...this.plays.values()].filter((o) => o.displayId === play.displayId && o.bookingId === play.bookingId && o.playId !== play.playId && Math.abs(Date.parse(o.startedAt) - t) <= 3 * SLOT_MS);
        return `${code} answered ${at.toISOString()} for display ${play.displayId.slice(0, 8)}: ${line(play)}; its plays around it: ${near.map(line).join(' | ') || 'none'}`;
      })
      .join(' || ');
  }

  /** e.g. "wrong_creative 2 (not a creative ...), duplicate_slot 1 (...)", or "none". */
  rejectionsByCode(): string {
    if (this.rejections.size === 0) return 'none';
    return [...this.rejections].map(([code, { count, detail }]) => `${code} ${count} (${detail})`).join(', ');
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
        await d.sim.start();
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

  /** Every display plays its playlist from now on, reporting a play per showing of its booking. */
  startPlaying(): void {
    for (const d of this.displays) d.sim.startPlaying();
  }

  /** Ends the displays' loops (what is on screen now is reported as a partial play); they stay connected. */
  stopPlaying(): void {
    for (const d of this.displays) d.sim.stopPlaying();
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
    for (const d of this.displays) d.sim.stop();
  }
}
