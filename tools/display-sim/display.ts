/**
 * One simulated display on the display client library (packages/display-client): it connects,
 * applies playlists, "plays" the loop on the server's clock (the slot at each instant follows
 * `loop.anchorAt`, so simulators on one loop agree and a new playlist never restarts the loop),
 * reports a play per showing of a `booking` entry (never house or emergency content), and
 * answers commands. It downloads no media and has no screen: a screenshot is a small solid-colour PNG whose colour is taken from the hash of the
 * media it would be showing.
 */
import { DisplayClient, compileSchedule, showingAt, slotAt, type ClientState, type ClientStats, type Playlist, type PlayRecord, type Schedule, type Showing, type TlsOptions } from '@marquee/display-client';
import type { BackoffOptions } from '@marquee/display-client';
import { solidPng } from './png.ts';

export interface SimDisplayOptions {
  host: string;
  port: number;
  displayId: string;
  secret: string;
  tls?: TlsOptions;
  localAddress?: string;
  /** Bytes sent before hello (a PROXY header, as a load balancer would add). */
  preamble?: () => Buffer;
  /** Play the loop and report plays. */
  plays?: boolean;
  /**
   * Load generation only: the loop runs this many times faster than real time (2 = twice as
   * fast). Plays are stamped with the real instant they "started" and keep their nominal
   * duration, so at speed ≠ 1 a server that checks slots and overlaps rejects most of them.
   */
  speed?: number;
  /** How soon after a play its batch goes out, ms. */
  batchEveryMs?: number;
  reconnect?: boolean;
  backoff?: Partial<BackoffOptions>;
  connectTimeoutMs?: number;
  welcomeTimeoutMs?: number;
  /** Told of every play once it is recorded (queued for the platform), with its playId. */
  onPlay?: (play: PlayRecord) => void;
  /** Version the display claims to show at start (default 0 = none). */
  playlistVersion?: number;
  log?: (line: string) => void;
}

export type SimStats = ClientStats;

/** How a simulated display names media: type, short creative id and short media hash (the protocol carries no names). */
export function describeMedia(m: { type: string; creativeId?: string | null; mediaSha256: string }): string {
  return `${m.type} ${m.creativeId ? m.creativeId.slice(0, 8) : '(no creative)'} sha ${m.mediaSha256.slice(0, 8)}`;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export class SimDisplay {
  readonly client: DisplayClient;
  /** The playlist being applied or on screen, and its compiled form. */
  private latest: Playlist | null = null;
  private schedule: Schedule<Playlist> | null = null;
  private current: { showing: Showing<Playlist>; startedAt: number } | null = null;
  private loopTimer: NodeJS.Timeout | null = null;
  private playing: boolean;
  /** Virtual loop time = origin + (server time − origin) × speed. */
  private origin = 0;
  /**
   * The booking and slot occurrence of the last play. One play per occurrence: a new playlist
   * that changes the slot mid-occurrence (a creative swap) starts another showing, but the one it
   * cut short is the occurrence's play; and the server clock's estimate may step back a little (a
   * better sample) into a showing that already ended, which is not a second play either.
   */
  private lastPlayedOccurrence = '';

  constructor(private readonly opts: SimDisplayOptions) {
    this.playing = !!opts.plays;
    this.client = new DisplayClient({
      host: opts.host,
      port: opts.port,
      displayId: opts.displayId,
      secret: opts.secret,
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ...(opts.preamble ? { preamble: opts.preamble } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.connectTimeoutMs ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
      ...(opts.welcomeTimeoutMs ? { welcomeTimeoutMs: opts.welcomeTimeoutMs } : {}),
      client: { name: 'marquee-display-sim', version: '2' },
      playlistVersion: opts.playlistVersion ?? 0,
      reconnect: opts.reconnect ?? true,
      batchEveryMs: opts.batchEveryMs ?? 10_000,
      applyPlaylist: (p) => this.apply(p),
      onCommand: (cmd) => {
        if (cmd.kind === 'reload') {
          this.log('command reload: restarting the player loop');
          this.restartLoop();
          return { ok: true, result: {} };
        }
        if (cmd.kind === 'screenshot') return { ok: true, result: this.screenshot() };
        return undefined;
      },
    });
    if (opts.log) this.client.on('log', opts.log);
  }

  get state(): ClientState {
    return this.client.state;
  }

  get playlistVersion(): number {
    return this.client.playlistVersion;
  }

  get stats(): SimStats {
    return this.client.stats;
  }

  get unackedPlays(): number {
    return this.client.unackedPlays;
  }

  /** What the screen would show now: the last applied playlist (null before the first). */
  get currentPlaylist(): Playlist | null {
    return this.client.playlist;
  }

  /** What the simulated screen shows now (null when not playing). */
  get showing(): Showing<Playlist> | null {
    return this.current?.showing ?? null;
  }

  /**
   * The slot occurrence this display's loop is in now, on its estimate of the server's clock
   * (null before a playlist): what `showing` is computed from.
   */
  slotNow(): ReturnType<typeof slotAt> | null {
    const schedule = this.compiled();
    return schedule ? slotAt(schedule, this.virtualNow()) : null;
  }

  async start(): Promise<void> {
    await this.client.start();
  }

  stop(): void {
    this.stopPlaying();
    this.client.stop();
  }

  /** Starts the play loop (a display made with `plays: false`), on the playlist it has. */
  startPlaying(): void {
    if (this.playing) return;
    this.playing = true;
    this.step();
  }

  /** Ends the play loop (what is on screen now is reported as a partial play) but keeps the connection and sends what is queued. */
  stopPlaying(): void {
    this.playing = false;
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.loopTimer = null;
    this.finish(this.virtualNow());
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private apply(p: Playlist): void {
    if (this.opts.log) {
      this.log(`playlist v${p.version}: ${p.loop.slotCount} slots × ${p.loop.slotMs / 1000} s, ${p.entries.length} entries, valid until ${p.validUntil}`);
      for (const e of p.entries) this.log(`  slot ${e.slot}: ${e.kind} ${describeMedia(e)}${e.bookingId ? ` (booking ${e.bookingId.slice(0, 8)})` : ''} ${e.durationMs / 1000} s`);
    }
    // Catch up with the playlist on screen first (a timer may be late): what the new one shows
    // starts now, never at a slot start that passed before it arrived.
    if (this.playing) this.step();
    // Compiled when needed (playing, screenshot): a fleet of idle simulators only applies and acks.
    this.latest = p;
    // Not a restart: whatever the loop shows now continues if the new playlist shows the same.
    if (this.playing) this.step();
  }

  private compiled(): Schedule<Playlist> | null {
    const p = this.latest;
    if (!p) return null;
    if (this.schedule?.playlist !== p) this.schedule = compileSchedule(p);
    return this.schedule;
  }

  private restartLoop(): void {
    if (!this.playing) return;
    this.finish(this.virtualNow());
    this.step();
  }

  private virtualNow(): number {
    const now = this.client.serverNow();
    const speed = this.opts.speed ?? 1;
    if (speed === 1) return now;
    if (this.origin === 0) this.origin = now;
    return this.origin + (now - this.origin) * speed;
  }

  /** Real server time of a virtual instant (equal at speed 1). */
  private realTime(virtual: number): number {
    const speed = this.opts.speed ?? 1;
    return speed === 1 ? virtual : this.origin + (virtual - this.origin) / speed;
  }

  private step(): void {
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.loopTimer = null;
    const schedule = this.compiled();
    if (!this.playing || !schedule) return;
    const v = this.virtualNow();
    const showing = showingAt(schedule, v);
    if (this.current?.showing.key !== showing.key) {
      // A showing that ran its course ended exactly at its end (a timer may fire late); one cut
      // short (new playlist, reload) ends now.
      const at = this.current && this.current.showing.untilMs <= v ? this.current.showing.untilMs : v;
      this.finish(at);
      this.current = { showing, startedAt: at };
      const e = showing.entry;
      if (e) this.log(`▶ ${clock(this.realTime(v))} slot ${showing.slot}: ${showing.kind} ${describeMedia(e)}${e.bookingId ? ` (booking ${e.bookingId.slice(0, 8)})` : ''} until ${clock(this.realTime(showing.untilMs))}`);
      else this.log(`▶ ${clock(this.realTime(v))} slot ${showing.slot}: nothing booked`);
    } else if (this.current) {
      // The same showing goes on (idle or house content spans slots): keep its start, take its new
      // end, or the next showing would be stamped as starting at this one's first end.
      this.current.showing = showing;
    }
    if (Number.isFinite(showing.untilMs)) {
      const delay = Math.max(1, (showing.untilMs - v) / (this.opts.speed ?? 1));
      this.loopTimer = setTimeout(() => this.step(), delay);
    }
  }

  /** Ends the showing on screen at virtual time v; a booking's becomes a play (house/emergency never do). */
  private finish(v: number): void {
    const done = this.current;
    this.current = null;
    const e = done?.showing.entry;
    if (!done || !e || done.showing.kind !== 'booking' || !e.bookingId || !e.creativeId) return;
    const occurrence = `${e.bookingId}:${done.showing.slotStartMs}`;
    if (occurrence === this.lastPlayedOccurrence) return;
    // A showing never outlasts its end, however late the timer or the stop comes.
    const durationMs = Math.round(Math.min(v, done.showing.untilMs) - done.startedAt);
    if (durationMs <= 0) return;
    this.lastPlayedOccurrence = occurrence;
    void this.client
      .recordPlay({ bookingId: e.bookingId, creativeId: e.creativeId, startedAt: new Date(this.realTime(done.startedAt)).toISOString(), durationMs })
      .then((play) => this.opts.onPlay?.(play))
      .catch((err) => this.log(`play not recorded: ${(err as Error).message}`));
  }

  private screenshot(): Record<string, unknown> {
    const schedule = this.compiled();
    const media = schedule ? showingAt(schedule, this.virtualNow()).entry : null;
    const hash = media?.mediaSha256 ?? '000000';
    const rgb: [number, number, number] = [0, 2, 4].map((i) => parseInt(hash.slice(i, i + 2), 16)) as [number, number, number];
    this.log(`command screenshot: ${media ? describeMedia(media) : 'a blank screen'} as a 160×90 solid colour`);
    return { mimeType: 'image/png', dataBase64: solidPng(160, 90, rgb).toString('base64'), width: 160, height: 90 };
  }
}
