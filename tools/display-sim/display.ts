/**
 * One simulated display, behaving as docs/display-protocol.md asks of a real one: hello, heartbeats
 * at the announced interval, apply + ack playlists, play the loop and report plays in batches
 * (one in flight), execute commands (de-duplicated), and reconnect with jittered backoff.
 */
import { randomUUID } from 'node:crypto';
import { Wire, type Message } from './wire.ts';

export interface SimDisplayOptions {
  host: string;
  port: number;
  displayId: string;
  secret: string;
  localAddress?: string;
  /** Bytes sent before hello (a PROXY header, as a load balancer would add). */
  preamble?: () => Buffer;
  /** Play the loop and report plays. */
  plays?: boolean;
  /** Time compression for the play loop (2 = twice as fast); reported durations stay nominal. */
  speed?: number;
  /** How often to send a plays batch, ms. */
  batchEveryMs?: number;
  reconnect?: boolean;
  log?: (line: string) => void;
}

export interface SimStats {
  connects: number;
  welcomes: number;
  playlists: number;
  plays: number;
  playsAcked: number;
  playsRejected: number;
  commands: number;
  errors: Record<string, number>;
}

interface Entry {
  slot: number;
  bookingId: string;
  creativeId: string;
  type: string;
  durationMs: number;
  validFrom: string;
  validUntil: string;
}

interface PlayRecord {
  playId: string;
  bookingId: string;
  creativeId: string;
  startedAt: string;
  durationMs: number;
}

/** 1×1 transparent PNG: what a simulated screen "looks like". */
const PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

export class SimDisplay {
  readonly stats: SimStats = { connects: 0, welcomes: 0, playlists: 0, plays: 0, playsAcked: 0, playsRejected: 0, commands: 0, errors: {} };
  state: 'idle' | 'connecting' | 'hello' | 'online' | 'waiting' | 'stopped' = 'idle';
  playlistVersion = 0;
  private playlist: { version: number; loop: { slotCount: number; slotMs: number }; entries: Entry[] } | null = null;
  private wire: Wire | null = null;
  private heartbeatIntervalMs = 30_000;
  private heartbeatTimeoutMs = 75_000;
  private lastFrameAt = 0;
  private timers = new Set<NodeJS.Timeout>();
  private attempt = 0;
  private connectedAt = 0;
  private nextDelayFloorMs = 0;
  private unsent: PlayRecord[] = [];
  private inFlight: { batchId: string; plays: PlayRecord[] } | null = null;
  private playsBlockedUntil = 0;
  private doneCommands = new Map<string, Message>();
  private loopTimer: NodeJS.Timeout | null = null;
  private slotIndex = 0;

  constructor(private readonly opts: SimDisplayOptions) {}

  /** What the screen would show now: the last applied playlist (null before the first). */
  get currentPlaylist(): { version: number; entries: readonly Entry[] } | null {
    return this.playlist;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Connects (and keeps reconnecting unless reconnect: false). Resolves after the first attempt. */
  async start(): Promise<void> {
    await this.connect();
  }

  stop(): void {
    this.state = 'stopped';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.wire?.close();
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    this.stats.connects++;
    try {
      this.wire = await Wire.open(
        { host: this.opts.host, port: this.opts.port, localAddress: this.opts.localAddress, preamble: this.opts.preamble?.() },
        { onMessage: (m) => this.onMessage(m), onClose: (e) => this.onClose(e) },
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      this.countError(`connect:${code}`);
      this.log(`connect failed: ${code}`);
      this.scheduleReconnect();
      return;
    }
    this.state = 'hello';
    this.lastFrameAt = Date.now();
    this.wire.send({
      type: 'hello',
      protocol: 1,
      displayId: this.opts.displayId,
      secret: this.opts.secret,
      playlistVersion: this.playlistVersion,
      client: { name: 'marquee-display-sim', version: '1' },
    });
  }

  private onClose(error?: string): void {
    this.wire = null;
    // An unacknowledged batch was not recorded as far as we know: resend it, same playIds, on the
    // next session (protocol §5). Leaving it "in flight" would block every later batch.
    if (this.inFlight) {
      this.unsent.unshift(...this.inFlight.plays);
      this.inFlight = null;
    }
    if (this.state === 'stopped') return;
    if (Date.now() - this.connectedAt > 60_000) this.attempt = 0;
    this.log(`connection closed${error ? ` (${error})` : ''}`);
    this.scheduleReconnect();
  }

  /** Full-jitter exponential backoff, never sooner than the server asked (protocol §8). */
  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.state = 'waiting';
    if (this.opts.reconnect === false) return;
    const cap = Math.min(60_000, 1_000 * 2 ** this.attempt);
    this.attempt++;
    const delay = Math.max(this.nextDelayFloorMs, Math.random() * cap);
    this.nextDelayFloorMs = 0;
    this.log(`reconnecting in ${Math.round(delay)} ms`);
    this.later(delay, () => void this.connect());
  }

  private onMessage(m: Message): void {
    this.lastFrameAt = Date.now();
    switch (m.type) {
      case 'welcome':
        this.state = 'online';
        this.stats.welcomes++;
        this.connectedAt = Date.now();
        this.heartbeatIntervalMs = m.heartbeatIntervalMs;
        this.heartbeatTimeoutMs = m.heartbeatTimeoutMs;
        this.log(`welcome: session ${m.sessionId}, heartbeat every ${m.heartbeatIntervalMs} ms`);
        this.scheduleHeartbeat();
        if (this.opts.plays) this.later(this.opts.batchEveryMs ?? 10_000, () => this.flushPlays());
        return;
      case 'heartbeat_ack':
        return;
      case 'playlist':
        return this.applyPlaylist(m.playlist);
      case 'plays_ack':
        return this.onPlaysAck(m);
      case 'command':
        return this.onCommand(m);
      case 'command_result_ack':
        if (!m.recorded) this.later(m.retryAfterMs ?? 5_000, () => this.resendResult(m.commandId));
        return;
      case 'reconnect':
        this.log(`server draining: reconnect in ${m.afterMs} ms`);
        this.nextDelayFloorMs = m.afterMs;
        this.attempt = 0;
        this.wire?.close();
        return;
      case 'error':
        return this.onError(m);
      default:
        return; // unknown types are ignored (protocol §4)
    }
  }

  private onError(m: Message): void {
    this.countError(m.code);
    this.log(`error ${m.code}${m.fatal ? ' (fatal)' : ''}: ${m.message}`);
    if (!m.fatal) return;
    const floors: Record<string, number> = { auth_failed: 300_000, display_disabled: 300_000, replaced: 60_000 };
    this.nextDelayFloorMs = Math.max(m.retryAfterMs ?? 0, floors[m.code] ?? 0);
  }

  private countError(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  private scheduleHeartbeat(): void {
    const jitter = 1 + (Math.random() - 0.5) * 0.2; // ±10 %
    this.later(this.heartbeatIntervalMs * jitter, () => {
      if (this.state !== 'online' || !this.wire) return;
      if (Date.now() - this.lastFrameAt > this.heartbeatTimeoutMs) {
        this.log('server silent for too long; reconnecting');
        this.wire.close();
        return;
      }
      this.wire.send({ type: 'heartbeat', playlistVersion: this.playlistVersion });
      this.scheduleHeartbeat();
    });
  }

  private applyPlaylist(p: Message): void {
    if (p.version > this.playlistVersion) {
      this.playlist = p as never;
      this.playlistVersion = p.version;
      this.stats.playlists++;
      this.log(`playlist v${p.version}: ${p.loop.slotCount} slots × ${p.loop.slotMs / 1000} s, ${p.entries.length} entries, valid until ${p.validUntil}`);
      for (const e of p.entries as Entry[]) this.log(`  slot ${e.slot}: ${e.type} ${e.creativeId} (booking ${e.bookingId}) ${e.durationMs / 1000} s`);
      if (this.opts.plays) this.restartLoop();
    }
    this.wire?.send({ type: 'playlist_ack', version: this.playlistVersion });
  }

  // -------------------------------------------------------------- the play loop

  private restartLoop(): void {
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.slotIndex = 0;
    this.playSlot();
  }

  private playSlot(): void {
    const p = this.playlist;
    if (!p || this.state === 'stopped') return;
    const speed = this.opts.speed ?? 1;
    const slot = this.slotIndex % p.loop.slotCount;
    this.slotIndex++;
    const now = Date.now();
    const entry = p.entries.find((e) => e.slot === slot && Date.parse(e.validFrom) <= now && now < Date.parse(e.validUntil));
    if (entry) {
      const startedAt = new Date(now).toISOString();
      this.log(`▶ ${startedAt.slice(11, 19)} slot ${slot}: ${entry.type} ${entry.creativeId} (booking ${entry.bookingId}) for ${entry.durationMs / 1000} s`);
      this.unsent.push({ playId: randomUUID(), bookingId: entry.bookingId, creativeId: entry.creativeId, startedAt, durationMs: entry.durationMs });
      this.stats.plays++;
    } else {
      this.log(`▶ slot ${slot}: filler`);
    }
    this.loopTimer = setTimeout(() => this.playSlot(), p.loop.slotMs / speed);
  }

  private flushPlays(): void {
    if (this.state === 'stopped') return;
    this.later(this.opts.batchEveryMs ?? 10_000, () => this.flushPlays());
    if (this.state !== 'online' || !this.wire || this.inFlight || Date.now() < this.playsBlockedUntil || this.unsent.length === 0) return;
    const plays = this.unsent.splice(0, 500);
    this.inFlight = { batchId: randomUUID().slice(0, 8), plays };
    this.wire.send({ type: 'plays', batchId: this.inFlight.batchId, plays });
  }

  private onPlaysAck(m: Message): void {
    if (!this.inFlight || m.batchId !== this.inFlight.batchId) return;
    const done = new Set<string>([...m.accepted, ...m.rejected.map((r: { playId: string }) => r.playId)]);
    const keep = this.inFlight.plays.filter((p) => !done.has(p.playId));
    this.stats.playsAcked += m.accepted.length;
    this.stats.playsRejected += m.rejected.length;
    this.log(`plays batch ${m.batchId}: ${m.accepted.length} recorded, ${m.rejected.length} rejected, ${keep.length} to resend`);
    this.unsent.unshift(...keep);
    if (m.retryAfterMs) this.playsBlockedUntil = Date.now() + m.retryAfterMs;
    this.inFlight = null;
  }

  /** Plays recorded but not yet acknowledged (in flight or waiting). */
  get unackedPlays(): number {
    return this.unsent.length + (this.inFlight?.plays.length ?? 0);
  }

  // -------------------------------------------------------------- commands

  private onCommand(m: Message): void {
    this.stats.commands++;
    const previous = this.doneCommands.get(m.commandId);
    if (previous) return void this.wire?.send(previous); // delivered again: resend the result only
    let result: Message;
    if (Date.parse(m.expiresAt) <= Date.now()) result = { type: 'command_result', commandId: m.commandId, ok: false, error: 'expired' };
    else if (m.kind === 'reload') {
      this.log('command reload: restarting the player loop');
      if (this.opts.plays && this.playlist) this.restartLoop();
      result = { type: 'command_result', commandId: m.commandId, ok: true, result: {} };
    } else if (m.kind === 'screenshot') {
      this.log('command screenshot: sending a 1×1 PNG');
      result = { type: 'command_result', commandId: m.commandId, ok: true, result: { mimeType: 'image/png', dataBase64: PIXEL_PNG, width: 1, height: 1 } };
    } else {
      result = { type: 'command_result', commandId: m.commandId, ok: false, error: 'unsupported_command' };
    }
    this.doneCommands.set(m.commandId, result);
    if (this.doneCommands.size > 100) this.doneCommands.delete(this.doneCommands.keys().next().value!);
    this.wire?.send(result);
  }

  private resendResult(commandId: string): void {
    const result = this.doneCommands.get(commandId);
    if (result && this.state === 'online') this.wire?.send(result);
  }
}
