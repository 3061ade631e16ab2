/**
 * A display's connection to Marquee (docs/display-protocol.md): hello,
 * reconnect with full-jitter backoff and the server's floors, heartbeats and dead-connection
 * detection, the server clock, playlist apply + ack, the proof-of-play outbox and commands
 * de-duplicated by id. The simulator and the kiosk player are both built on this class; what a
 * playlist *means* (downloading media, showing it) is theirs, through `applyPlaylist` and
 * `onCommand`.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_MAX_FRAME_BYTES,
  PRE_AUTH_MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  commandResultAckSchema,
  commandSchema,
  describeIssues,
  errorMessageSchema,
  heartbeatAckSchema,
  payloadBytes,
  playsAckSchema,
  reconnectSchema,
  welcomeSchema,
  type CommandMessage,
  type CommandResultAckMessage,
  type CommandResultMessage,
  type DisplayMessage,
  type PlaysAckMessage,
  type ReceivedErrorMessage,
  type TypedMessage,
  type WelcomeMessage,
} from '@marquee/display-protocol';
import { z } from 'zod';
import { ERROR_FLOORS_MS, PROTOCOL_BACKOFF, reconnectDelay, type BackoffOptions } from './backoff.ts';
import { ServerClock, localNow } from './clock.ts';
import { normalizePlaylist, type Command, type CommandOutcome, type PlayRecord, type Playlist, type ServerError } from './messages.ts';
import { MemoryPlayStore, PlaysOutbox, type AckOutcome, type PlayStore } from './plays.ts';
import { FrameConnection, normalizeFingerprint, type TlsOptions } from './transport.ts';

export type ClientState = 'idle' | 'connecting' | 'hello' | 'online' | 'waiting' | 'stopped';

export interface CommandContext {
  /** Largest `command_result` payload the server accepts now (welcome.maxFrameBytes). */
  maxResultBytes: number;
}

export interface DisplayClientOptions {
  host: string;
  port: number;
  displayId: string;
  secret: string;
  tls?: TlsOptions;
  localAddress?: string;
  /** Bytes sent before hello on each connection (a simulated load balancer's PROXY header). */
  preamble?: () => Buffer;
  client?: { name: string; version: string };
  /** Version of the playlist the display already shows (e.g. restored from its cache); 0 = none. */
  playlistVersion?: number;
  /** A previous server-clock offset (restored after a restart), used until the first sample. */
  clockOffsetMs?: number;
  /**
   * Makes a received playlist the one on screen (download + verify media, switch the loop).
   * Resolve when applied; throw to refuse (it is retried later, the old one stays on screen).
   */
  applyPlaylist?: (playlist: Playlist) => Promise<void> | void;
  /** Executes a command; return undefined for kinds the display does not know. */
  onCommand?: (command: Command, ctx: CommandContext) => Promise<CommandOutcome | undefined> | CommandOutcome | undefined;
  /** Where unacknowledged plays are kept (default: memory). */
  playStore?: PlayStore;
  /** A batch goes out this long after the first unsent play (default 10 s; the protocol asks ≤ 60 s). */
  batchEveryMs?: number;
  /** Reconnect after a close (default true). */
  reconnect?: boolean;
  backoff?: Partial<BackoffOptions>;
  connectTimeoutMs?: number;
  /** How long to wait for `welcome` after hello before giving up on the connection (default 30 s). */
  welcomeTimeoutMs?: number;
  random?: () => number;
}

export interface ClientStats {
  connects: number;
  welcomes: number;
  playlists: number;
  playlistsFailed: number;
  plays: number;
  playsAcked: number;
  playsRejected: number;
  commands: number;
  errors: Record<string, number>;
}

export interface DisplayClientEvents {
  state: [state: ClientState];
  welcome: [welcome: WelcomeMessage];
  /** A playlist is now applied (on screen) and acknowledged. */
  playlist: [playlist: Playlist];
  /** A playlist could not be used (malformed, or applyPlaylist threw); null if it did not even parse. */
  playlistFailed: [playlist: Playlist | null, error: Error];
  playsAck: [outcome: AckOutcome];
  command: [command: Command, outcome: CommandOutcome];
  serverError: [error: ServerError];
  disconnect: [reason: string | undefined];
  clock: [clock: ServerClock];
  /** Human-readable progress lines, for a log. */
  log: [line: string];
}

const MAX_REMEMBERED_COMMANDS = 256;

/**
 * The server frames a display reads, each checked against its protocol schema before use. A
 * `playlist`'s playlist is checked entry by entry (normalizePlaylist), so one bad entry is left
 * out rather than the whole playlist.
 */
const ServerFrameSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  heartbeatAckSchema,
  z.object({ type: z.literal('playlist'), playlist: z.unknown() }),
  playsAckSchema,
  commandSchema,
  commandResultAckSchema,
  reconnectSchema,
  errorMessageSchema,
]);
const SERVER_FRAME_TYPES: ReadonlySet<string> = new Set(ServerFrameSchema.options.map((o) => o.shape.type.value));

export class DisplayClient extends EventEmitter<DisplayClientEvents> {
  readonly stats: ClientStats = { connects: 0, welcomes: 0, playlists: 0, playlistsFailed: 0, plays: 0, playsAcked: 0, playsRejected: 0, commands: 0, errors: {} };
  readonly clock: ServerClock;
  state: ClientState = 'idle';
  /** Version of the playlist applied (on screen). */
  playlistVersion: number;
  /** The playlist applied through this client (null until one is, even if playlistVersion was restored). */
  playlist: Playlist | null = null;
  sessionId: string | null = null;

  private readonly opts: DisplayClientOptions;
  private readonly backoff: BackoffOptions;
  private readonly outbox: PlaysOutbox;
  private conn: FrameConnection | null = null;
  private welcome: WelcomeMessage | null = null;
  private welcomedAt = 0;
  private helloSentAt = 0;
  private lastFrameAt = 0;
  private attempt = 0;
  private floorMs = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatSentAt = 0;
  private heartbeatsUnanswered = 0;
  private pendingPlaylist: Playlist | null = null;
  private failedPlaylist: Playlist | null = null;
  private applying = false;
  /** commandId → the result frame (undefined while the command runs). */
  private commands = new Map<string, CommandResultMessage | undefined>();

  constructor(opts: DisplayClientOptions) {
    super();
    if (opts.tls?.pinSha256) normalizeFingerprint(opts.tls.pinSha256); // a typo fails now, not at every reconnect
    this.opts = opts;
    this.backoff = { ...PROTOCOL_BACKOFF, ...opts.backoff };
    this.playlistVersion = opts.playlistVersion ?? 0;
    this.clock = new ServerClock(opts.clockOffsetMs ?? null);
    this.outbox = new PlaysOutbox(opts.playStore ?? new MemoryPlayStore());
  }

  /** Connects (and keeps reconnecting unless `reconnect: false`); resolves after the first attempt. */
  async start(): Promise<void> {
    await this.outbox.loaded();
    await this.connect();
  }

  /** Closes the connection and stops every timer. Queued plays stay in the store. */
  stop(): void {
    this.setState('stopped');
    for (const t of [this.tickTimer, this.flushTimer, this.reconnectTimer]) if (t) clearTimeout(t);
    this.tickTimer = this.flushTimer = this.reconnectTimer = null;
    this.conn?.close();
  }

  /**
   * The display no longer shows its playlist (its validity window ended): from now on hello and
   * heartbeats report version 0, which differs from any real version, so the server sends the
   * current playlist again.
   */
  resetPlaylist(): void {
    this.playlist = null;
    this.playlistVersion = 0;
  }

  /** The server's clock now (epoch ms). */
  serverNow(): number {
    return this.clock.now();
  }

  /** Plays recorded but not yet acknowledged or rejected. */
  get unackedPlays(): number {
    return this.outbox.size;
  }

  /** Records a play (durably, in the play store) and schedules its batch. */
  async recordPlay(play: Omit<PlayRecord, 'playId'> & { playId?: string }): Promise<PlayRecord> {
    const record: PlayRecord = { playId: play.playId ?? randomUUID(), bookingId: play.bookingId, creativeId: play.creativeId, startedAt: play.startedAt, durationMs: play.durationMs };
    await this.outbox.add(record, localNow());
    this.stats.plays++;
    this.scheduleFlush(this.opts.batchEveryMs ?? 10_000);
    return record;
  }

  // ---------------------------------------------------------------- connection

  private log(line: string): void {
    if (this.listenerCount('log') > 0) this.emit('log', line);
  }

  private setState(state: ClientState): void {
    if (this.state === state || this.state === 'stopped') return;
    this.state = state;
    this.emit('state', state);
  }

  private countError(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = null;
    if (this.state === 'stopped') return;
    this.setState('connecting');
    this.stats.connects++;
    let conn: FrameConnection | null = null;
    try {
      conn = await FrameConnection.open(
        {
          host: this.opts.host,
          port: this.opts.port,
          ...(this.opts.tls ? { tls: this.opts.tls } : {}),
          ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
          ...(this.opts.preamble ? { preamble: this.opts.preamble() } : {}),
          ...(this.opts.connectTimeoutMs ? { connectTimeoutMs: this.opts.connectTimeoutMs } : {}),
        },
        { onMessage: (m) => this.onMessage(conn!, m), onClose: (e) => this.onClose(conn!, e) },
        PRE_AUTH_MAX_FRAME_BYTES,
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      this.countError(`connect:${code}`);
      this.log(`connect to ${this.opts.host}:${this.opts.port} failed: ${(err as Error).message}`);
      this.welcomedAt = 0;
      this.scheduleReconnect();
      return;
    }
    if ((this.state as ClientState) === 'stopped') return conn.close(); // stop() ran while connecting
    this.conn = conn;
    this.welcome = null;
    this.welcomedAt = 0;
    this.setState('hello');
    this.helloSentAt = this.lastFrameAt = localNow();
    conn.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      displayId: this.opts.displayId,
      secret: this.opts.secret,
      playlistVersion: this.playlistVersion,
      client: this.opts.client ?? { name: 'marquee-display-client', version: '1' },
    });
    this.arm(this.opts.welcomeTimeoutMs ?? 30_000);
  }

  private onClose(conn: FrameConnection, error?: string): void {
    if (conn !== this.conn) return;
    this.conn = null;
    this.welcome = null;
    this.sessionId = null;
    this.outbox.release();
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    this.heartbeatsUnanswered = 0;
    this.emit('disconnect', error);
    if (this.state === 'stopped') return;
    this.log(`connection closed${error ? ` (${error})` : ''}`);
    if (this.welcomedAt && localNow() - this.welcomedAt >= this.backoff.stableMs) this.attempt = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.setState('waiting');
    if (this.opts.reconnect === false) return;
    const delay = reconnectDelay(this.attempt, this.floorMs, this.backoff, this.opts.random);
    this.attempt++;
    this.floorMs = 0;
    this.log(`reconnecting in ${Math.round(delay)} ms`);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /** (Re)arms the one timer of a connection: welcome timeout before welcome, heartbeats after. */
  private arm(ms: number): void {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.tickTimer = null;
    const conn = this.conn;
    if (!conn) return;
    const now = localNow();
    if (!this.welcome) return conn.destroy('no welcome from the server in time');
    if (now - this.lastFrameAt > this.welcome.heartbeatTimeoutMs) {
      return conn.destroy(`no frame from the server for ${Math.round(now - this.lastFrameAt)} ms`);
    }
    const batch = this.outbox.batchInFlight;
    if (batch && now - batch.sentAt > this.welcome.heartbeatTimeoutMs) {
      // No answer in that long: the batch was lost somewhere; send its plays again (same playIds).
      this.outbox.release();
      this.flushPlays();
    }
    if (this.failedPlaylist && !this.pendingPlaylist && !this.applying) {
      this.pendingPlaylist = this.failedPlaylist;
      void this.applyPending();
    }
    this.heartbeatsUnanswered++;
    this.heartbeatSentAt = now;
    this.send({ type: 'heartbeat', playlistVersion: this.playlistVersion });
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    const interval = this.welcome!.heartbeatIntervalMs;
    this.arm(interval * (0.9 + 0.2 * (this.opts.random ?? Math.random)()));
  }

  private send(message: DisplayMessage): boolean {
    if (!this.conn || this.state !== 'online') return false;
    try {
      this.conn.send(message);
      return true;
    } catch (err) {
      this.log(`not sent: ${(err as Error).message}`);
      return false;
    }
  }

  // ---------------------------------------------------------------- incoming

  private onMessage(conn: FrameConnection, raw: TypedMessage): void {
    if (conn !== this.conn) return;
    const receivedAt = (this.lastFrameAt = localNow());
    if (!SERVER_FRAME_TYPES.has(raw.type)) return; // unknown message types are ignored (protocol §4)
    const parsed = ServerFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const problem = `invalid ${raw.type} frame: ${describeIssues(parsed.error.issues)}`;
      // Without a usable welcome the session has no limits or timings to work with.
      if (raw.type === 'welcome') return conn.destroy(problem);
      return this.log(`${problem} (ignored)`);
    }
    const m = parsed.data;
    switch (m.type) {
      case 'welcome':
        return this.onWelcome(conn, m, receivedAt);
      case 'heartbeat_ack':
        // Only an unambiguous pair (one heartbeat outstanding) gives a round trip to trust.
        if (this.heartbeatsUnanswered === 1 && this.clock.addSample(this.heartbeatSentAt, receivedAt, m.serverTime)) {
          this.emit('clock', this.clock);
        }
        this.heartbeatsUnanswered = Math.max(0, this.heartbeatsUnanswered - 1);
        return;
      case 'playlist':
        return this.onPlaylist(m.playlist);
      case 'plays_ack':
        return void this.onPlaysAck(m);
      case 'command':
        return void this.onCommand(m);
      case 'command_result_ack':
        return this.onCommandResultAck(m);
      case 'reconnect':
        this.log(`server draining: reconnecting after ${m.afterMs} ms`);
        // A drain is not a failed connection: no growing backoff, just the server's delay.
        this.attempt = 0;
        this.floorMs = Math.max(this.floorMs, m.afterMs);
        conn.close();
        return;
      case 'error':
        return this.onError(m);
    }
  }

  private onWelcome(conn: FrameConnection, welcome: WelcomeMessage, receivedAt: number): void {
    if (this.welcome) return;
    this.welcome = welcome;
    this.sessionId = welcome.sessionId;
    this.welcomedAt = receivedAt;
    conn.maxOutgoingBytes = welcome.maxFrameBytes;
    this.stats.welcomes++;
    this.setState('online');
    if (this.clock.addSample(this.helloSentAt, receivedAt, welcome.serverTime)) this.emit('clock', this.clock);
    this.log(`welcome: session ${welcome.sessionId}, heartbeat every ${welcome.heartbeatIntervalMs} ms`);
    this.emit('welcome', welcome);
    this.armHeartbeat();
    // A backlog from offline time goes out at once; otherwise on the usual batch schedule.
    if (this.outbox.size > 0) this.flushPlays();
  }

  private onError({ type: _, ...error }: ReceivedErrorMessage): void {
    this.countError(error.code);
    this.log(`error ${error.code}${error.fatal ? ' (fatal)' : ''}: ${error.message}`);
    this.emit('serverError', error);
    if (error.fatal) this.floorMs = Math.max(this.floorMs, error.retryAfterMs ?? 0, ERROR_FLOORS_MS[error.code] ?? 0);
  }

  // ---------------------------------------------------------------- playlists

  private onPlaylist(raw: unknown): void {
    let playlist: Playlist;
    try {
      const normalized = normalizePlaylist(raw);
      for (const problem of normalized.dropped) this.log(`playlist v${normalized.playlist.version}: left out ${problem}`);
      playlist = normalized.playlist;
    } catch (err) {
      this.stats.playlistsFailed++;
      this.log(`playlist refused: ${(err as Error).message}`);
      this.emit('playlistFailed', null, err as Error);
      return;
    }
    // Protocol §6: apply every version that differs from the one shown (newer, or older after a server restore).
    if (playlist.version === this.playlistVersion && !this.applying) {
      this.send({ type: 'playlist_ack', version: this.playlistVersion });
      return;
    }
    this.pendingPlaylist = playlist;
    this.failedPlaylist = null;
    void this.applyPending();
  }

  private async applyPending(): Promise<void> {
    if (this.applying) return;
    this.applying = true;
    try {
      while (this.pendingPlaylist && this.state !== 'stopped') {
        const playlist = this.pendingPlaylist;
        this.pendingPlaylist = null;
        if (playlist.version !== this.playlistVersion) {
          try {
            await this.opts.applyPlaylist?.(playlist);
          } catch (err) {
            this.stats.playlistsFailed++;
            this.failedPlaylist = playlist;
            this.log(`playlist v${playlist.version} not applied: ${(err as Error).message}`);
            this.emit('playlistFailed', playlist, err as Error);
            continue;
          }
          this.playlist = playlist;
          this.playlistVersion = playlist.version;
          this.stats.playlists++;
          this.emit('playlist', playlist);
        }
        this.send({ type: 'playlist_ack', version: this.playlistVersion });
      }
    } finally {
      this.applying = false;
    }
  }

  // ---------------------------------------------------------------- plays

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer || this.state === 'stopped') return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushPlays();
    }, delayMs);
  }

  private flushPlays(): void {
    if (this.state !== 'online' || !this.welcome) return;
    const now = localNow();
    const wait = this.outbox.waitMs(now);
    if (wait > 0) return this.scheduleFlush(wait + 1);
    const batch = this.outbox.takeBatch(this.welcome.maxPlaysPerBatch, now);
    if (!batch) return;
    if (!this.send({ type: 'plays', batchId: batch.batchId, plays: batch.plays })) this.outbox.release();
  }

  private async onPlaysAck(m: PlaysAckMessage): Promise<void> {
    let outcome: AckOutcome | null;
    try {
      outcome = await this.outbox.acknowledge(m, localNow());
    } catch (err) {
      this.log(`plays acknowledged but not removed from the store: ${(err as Error).message}`);
      return;
    }
    if (!outcome) return;
    this.stats.playsAcked += outcome.accepted.length;
    this.stats.playsRejected += outcome.rejected.length;
    this.log(
      `plays batch ${outcome.batchId.slice(0, 8)}: ${outcome.accepted.length} recorded, ${outcome.rejected.length} rejected` +
        (outcome.rejected.length ? ` (${[...new Set(outcome.rejected.map((r) => r.code))].join(', ')})` : '') +
        (outcome.unresolved ? `, ${outcome.unresolved} to resend` : ''),
    );
    this.emit('playsAck', outcome);
    if (this.outbox.size === 0) return;
    if (outcome.retryAfterMs !== null) return this.scheduleFlush(outcome.retryAfterMs);
    // A backlog (offline time, a full batch) drains batch after batch; a trickle waits for the usual schedule.
    const batchEveryMs = this.opts.batchEveryMs ?? 10_000;
    if (this.outbox.size >= (this.welcome?.maxPlaysPerBatch ?? 500) || this.outbox.overdue(localNow(), batchEveryMs)) this.flushPlays();
    else this.scheduleFlush(batchEveryMs);
  }

  // ---------------------------------------------------------------- commands

  private async onCommand({ type: _, ...command }: CommandMessage): Promise<void> {
    const commandId = command.commandId;
    this.stats.commands++;
    if (this.commands.has(commandId)) {
      // Delivered again (after a reconnect): answer with the result we have, never run it twice.
      const previous = this.commands.get(commandId);
      if (previous) this.send(previous);
      return;
    }
    this.commands.set(commandId, undefined);
    if (this.commands.size > MAX_REMEMBERED_COMMANDS) this.commands.delete(this.commands.keys().next().value!);
    const maxResultBytes = this.welcome?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    let outcome: CommandOutcome;
    if (Date.parse(command.expiresAt) <= this.serverNow()) outcome = { ok: false, error: 'expired' };
    else {
      try {
        outcome = (await this.opts.onCommand?.(command, { maxResultBytes })) ?? { ok: false, error: 'unsupported_command' };
      } catch (err) {
        outcome = { ok: false, error: String((err as Error).message ?? err).slice(0, 1000) };
      }
    }
    let frame: CommandResultMessage = outcome.ok
      ? { type: 'command_result', commandId, ok: true, result: outcome.result ?? {} }
      : { type: 'command_result', commandId, ok: false, error: outcome.error.slice(0, 1000) };
    if (payloadBytes(frame) > maxResultBytes) {
      outcome = { ok: false, error: 'result_too_large' };
      frame = { type: 'command_result', commandId, ok: false, error: `the result exceeds ${maxResultBytes} bytes` };
    }
    this.commands.set(commandId, frame);
    this.log(`command ${command.kind} ${commandId.slice(0, 8)}: ${outcome.ok ? 'ok' : outcome.error}`);
    this.emit('command', command, outcome);
    this.send(frame);
  }

  private onCommandResultAck(m: CommandResultAckMessage): void {
    if (m.recorded) return;
    const frame = this.commands.get(m.commandId);
    if (!frame) return;
    // Without a positive delay from the server, a resend waits 5 s.
    const retryAfterMs = m.retryAfterMs || 5_000;
    const commandId = m.commandId;
    setTimeout(() => {
      // Resent on this connection if still up; otherwise the server re-delivers the command.
      if (this.commands.get(commandId) === frame) this.send(frame);
    }, retryAfterMs).unref();
  }
}
