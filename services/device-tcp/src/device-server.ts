/**
 * The display-facing TCP server: accepts sockets, parses PROXY headers and frames, runs the
 * handshake, keeps one session per display (across replicas via the bus), pushes playlists and
 * commands, relays plays and command results, and drains on shutdown. Protocol:
 * docs/display-protocol.md.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { Connection, ConnState } from './connection.ts';
import {
  DirectoryUnavailableError,
  TOPIC_DISPLAY_COMMAND,
  TOPIC_DISPLAY_REVOKED,
  TOPIC_PLAYLIST_CHANGED,
  TOPIC_SESSION_OPENED,
  type DisplayDirectory,
  type DisplayRevoked,
  type HandshakeResult,
  type SessionOpened,
} from './directory.ts';
import { Admission } from './admission.ts';
import { Semaphore, jitter } from './limits.ts';
import { defaultDeviceServerOptions, type DeviceServerDeps, type DeviceServerOptions } from './options.ts';
import { PlaylistPusher } from './playlist-pusher.ts';
import { PlaysAndCommands } from './plays-and-commands.ts';
import { PresenceReporter } from './presence.ts';
import type { SessionIO } from './session-io.ts';
import { parseProxyHeader, type ProxyMode } from './proxy-protocol.ts';
import { FrameError, encodeFrame, encodeJsonFrame, parsePayload, type TypedMessage } from './protocol/framing.ts';
import {
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOLS,
  heartbeatSchema,
  helloSchema,
  playlistAckSchema,
  type ErrorCode,
  type ErrorMessage,
  type ServerMessage,
} from './protocol/messages.ts';

/** Close on fatal error: give the error frame this long to flush before destroying. */
const CLOSING_LINGER_MS = 2_000;
const MAX_QUEUED_PRE_AUTH = 64;
/** A hello waiting this long for api-v2 (queue + retries) is answered `unavailable`. */
const AUTH_DEADLINE_MS = 15_000;

export class DeviceServer implements SessionIO {
  private readonly opts: DeviceServerOptions;
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly sessions = new Map<string, Connection>();
  private readonly admission: Admission;
  readonly directoryLimit: Semaphore;
  private readonly pusher: PlaylistPusher;
  private readonly traffic: PlaysAndCommands;
  private readonly presence: PresenceReporter;
  private readonly unsubscribers: (() => Promise<void>)[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private lastPresenceFlush = 0;
  private lastVersionRecheck = 0;
  private draining = false;
  private address: AddressInfo | null = null;

  constructor(
    options: Partial<DeviceServerOptions>,
    readonly deps: DeviceServerDeps,
  ) {
    this.opts = { ...defaultDeviceServerOptions, ...options };
    this.admission = new Admission(this.opts);
    this.directoryLimit = new Semaphore(this.opts.directoryConcurrency);
    this.presence = new PresenceReporter(deps.directory, deps.logger);
    this.pusher = new PlaylistPusher(this);
    this.traffic = new PlaysAndCommands(this);
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => deps.logger.error({ err }, 'device server error'));
    deps.metrics?.bindGauges({
      connectionCount: () => this.connections.size,
      sessionCount: () => this.sessions.size,
      displaysBehind: () => this.pusher.displaysBehind(),
      presencePending: () => this.presence.pending,
    });
  }

  get options(): Readonly<DeviceServerOptions> {
    return this.opts;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  sessionFor(displayId: string): Connection | undefined {
    return this.sessions.get(displayId);
  }

  openSessions(): Iterable<Connection> {
    return this.sessions.values();
  }

  /** True when all presence recorded so far has been reported (tests, diagnostics). */
  get presenceSettled(): boolean {
    return this.presence.settled;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Subscribes to the bus, starts the sweep and listens. */
  async listen(): Promise<{ host: string; port: number }> {
    const { bus } = this.deps;
    this.unsubscribers.push(
      await bus.subscribe(TOPIC_PLAYLIST_CHANGED, (m) => this.pusher.onPlaylistChanged(m)),
      await bus.subscribe(TOPIC_DISPLAY_COMMAND, (m) => this.traffic.onBusCommand(m)),
      await bus.subscribe(TOPIC_SESSION_OPENED, (m) => this.onSessionOpened(m)),
      await bus.subscribe(TOPIC_DISPLAY_REVOKED, (m) => this.onRevoked(m)),
    );
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepIntervalMs);
    this.sweepTimer.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.opts.host, port: this.opts.port, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.address = this.server.address() as AddressInfo;
    return { host: this.address.address, port: this.address.port };
  }

  /**
   * Graceful drain: stop accepting, tell every display to reconnect after a jittered delay,
   * wait for them to leave, cut the rest at the deadline, report presence one last time.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const { reconnectAfterMinMs: min, reconnectAfterMaxMs: max } = this.opts;
    for (const conn of this.connections) {
      if (conn.isOpen) {
        this.send(conn, { type: 'reconnect', reason: 'draining', afterMs: Math.round(min + Math.random() * (max - min)) });
      } else if (conn.state < ConnState.Closing) {
        this.fail(conn, 'unavailable', 'server is shutting down', { retryAfterMs: min });
      }
    }
    const deadline = Date.now() + graceMs;
    while (this.connections.size > 0 && Date.now() < deadline) await sleep(Math.min(100, this.opts.sweepIntervalMs));
    for (const conn of this.connections) this.destroy(conn, 'drain_deadline');
    await closed;
    await this.stop();
  }

  /** Immediate stop (tests, after drain): closes everything and flushes presence. */
  async close(): Promise<void> {
    this.draining = true;
    if (this.server.listening) this.server.close();
    for (const conn of this.connections) this.destroy(conn, 'server_closed');
    await this.stop();
  }

  private async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const unsubs = this.unsubscribers.splice(0);
    await Promise.allSettled(unsubs.map((u) => u()));
    await this.presence.flush();
  }

  // ---------------------------------------------------------------- accept & read

  private accept(socket: Socket): void {
    const now = Date.now();
    const viaProxy = this.opts.proxyProtocol !== 'off';
    const conn = new Connection(
      socket,
      normaliseAddress(socket.remoteAddress),
      viaProxy ? ConnState.Proxy : ConnState.Hello,
      now + this.opts.helloTimeoutMs,
    );
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => {}); // 'close' follows; resets are routine for displays
    socket.on('close', () => this.onClose(conn));
    if (this.draining) {
      this.fail(conn, 'unavailable', 'server is shutting down', { retryAfterMs: this.opts.reconnectAfterMinMs });
      return;
    }
    if (!viaProxy) this.admitAddress(conn);
  }

  /** Counts the connection against its source address; refuses it above the limit. */
  private admitAddress(conn: Connection): boolean {
    conn.counted = true;
    if (!this.admission.admitConnection(conn.remoteAddress)) {
      this.fail(conn, 'too_many_connections', `more than ${this.opts.maxConnectionsPerAddress} connections from this address`, {
        retryAfterMs: 60_000,
      });
      return false;
    }
    return true;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    this.deps.metrics?.bytesIn.inc(chunk.length);
    if (conn.state >= ConnState.Closing) return;
    if (conn.state === ConnState.Proxy) {
      const rest = this.readProxyHeader(conn, chunk);
      if (!rest || rest.length === 0) return;
      chunk = rest;
    }
    if (conn.state === ConnState.Open) conn.deadline = Date.now() + this.opts.heartbeatTimeoutMs;
    try {
      conn.decoder.push(chunk, (payload) => {
        this.onMessage(conn, parsePayload(payload));
        return conn.state < ConnState.Closing;
      });
    } catch (err) {
      if (err instanceof FrameError) this.fail(conn, err.code, err.message);
      else {
        this.deps.logger.error({ err, displayId: conn.displayId }, 'frame handling failed');
        this.fail(conn, 'internal_error', 'internal error');
      }
    }
  }

  /** Returns the bytes after the header once it is complete, or null while incomplete/failed. */
  private readProxyHeader(conn: Connection, chunk: Buffer): Buffer | null {
    const buf = conn.proxyBuf ? Buffer.concat([conn.proxyBuf, chunk]) : chunk;
    const parsed = parseProxyHeader(buf, this.opts.proxyProtocol as Exclude<ProxyMode, 'off'>);
    if (parsed.status === 'incomplete') {
      conn.proxyBuf = Buffer.from(buf); // copy: do not pin the runtime's read buffer
      return null;
    }
    conn.proxyBuf = null;
    if (parsed.status === 'error') {
      this.destroy(conn, 'bad_proxy_header');
      return null;
    }
    if (parsed.source) conn.remoteAddress = normaliseAddress(parsed.source.address);
    conn.state = ConnState.Hello;
    if (!this.admitAddress(conn)) return null;
    return buf.subarray(parsed.consumed);
  }

  private onMessage(conn: Connection, msg: TypedMessage): void {
    this.deps.metrics?.framesIn.inc({ type: knownType(msg.type) });
    switch (conn.state) {
      case ConnState.Hello:
        if (msg.type !== 'hello') return this.fail(conn, 'hello_required', 'the first frame must be hello');
        return void this.handshake(conn, msg);
      case ConnState.Authenticating:
        if ((conn.queued ??= []).length >= MAX_QUEUED_PRE_AUTH) return this.fail(conn, 'rate_limited', 'too many frames before welcome');
        conn.queued.push(msg);
        return;
      case ConnState.Open:
        return this.onSessionMessage(conn, msg);
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- handshake

  private async handshake(conn: Connection, msg: TypedMessage): Promise<void> {
    const metrics = this.deps.metrics;
    const hello = helloSchema.safeParse(msg);
    if (!hello.success) {
      metrics?.handshakes.inc({ result: 'invalid' });
      return this.fail(conn, 'invalid_hello', describeIssues(hello.error.issues));
    }
    const { displayId, secret, protocol, playlistVersion } = hello.data;
    if (!(SUPPORTED_PROTOCOLS as readonly number[]).includes(protocol)) {
      metrics?.handshakes.inc({ result: 'unsupported_protocol' });
      return this.fail(conn, 'unsupported_protocol', `protocol ${protocol} is not supported`, { supported: [...SUPPORTED_PROTOCOLS] });
    }
    const now = Date.now();
    const refusal = this.admission.admitHandshake(conn.remoteAddress, now);
    if (refusal) {
      metrics?.handshakes.inc({ result: refusal.result });
      return this.fail(conn, refusal.code, refusal.message, { retryAfterMs: refusal.retryAfterMs });
    }
    conn.state = ConnState.Authenticating;
    conn.deadline = now + AUTH_DEADLINE_MS;
    conn.socket.pause(); // frames already in this read are queued; nothing more is read until welcome

    let auth;
    try {
      auth = await this.admission.whileWaiting(() => this.deps.directory.handshake({ displayId, secret, playlistVersion }));
    } catch (err) {
      metrics?.handshakes.inc({ result: 'unavailable' });
      this.deps.logger.warn({ err: String(err), displayId }, 'authentication unavailable');
      const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
      return this.fail(conn, 'unavailable', 'credentials cannot be checked right now', { retryAfterMs: jitter(retryAfterMs) });
    }
    if (conn.state !== ConnState.Authenticating) return; // closed or drained meanwhile
    if (!auth.ok) {
      metrics?.handshakes.inc({ result: auth.code });
      this.deps.logger.info({ displayId, code: auth.code, remote: conn.remoteAddress }, 'display authentication refused');
      if (auth.code === 'disabled') return this.fail(conn, 'display_disabled', 'this display is disabled');
      return this.fail(conn, 'auth_failed', 'unknown display or wrong secret');
    }
    metrics?.handshakes.inc({ result: 'ok' });
    this.openSession(conn, displayId, playlistVersion, auth);
  }

  private openSession(conn: Connection, displayId: string, appliedVersion: number, accepted: Extract<HandshakeResult, { ok: true }>): void {
    const latestVersion = accepted.display.playlistVersion;
    const now = Date.now();
    conn.state = ConnState.Open;
    conn.displayId = displayId;
    conn.sessionId = randomUUID();
    conn.appliedVersion = appliedVersion;
    conn.versionCheckedAt = now;
    conn.deadline = now + this.opts.heartbeatTimeoutMs;
    conn.decoder.maxFrameBytes = this.opts.maxFrameBytes;

    const previous = this.sessions.get(displayId);
    if (previous && previous !== conn) this.fail(previous, 'replaced', 'a newer connection for this display was accepted');
    this.sessions.set(displayId, conn);
    this.pusher.know(displayId, latestVersion);

    this.send(conn, {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      displayId,
      sessionId: conn.sessionId,
      serverTime: new Date(now).toISOString(),
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      heartbeatTimeoutMs: this.opts.heartbeatTimeoutMs,
      maxFrameBytes: this.opts.maxFrameBytes,
      maxPlaysPerBatch: this.opts.maxPlaysPerBatch,
    });
    this.presence.record({
      kind: 'connected',
      displayId,
      sessionId: conn.sessionId,
      instanceId: this.opts.instanceId,
      at: new Date(now).toISOString(),
      remoteAddress: conn.remoteAddress,
      playlistVersion: appliedVersion,
    });
    const announcement: SessionOpened = { displayId, sessionId: conn.sessionId, instanceId: this.opts.instanceId };
    this.deps.bus.publish(TOPIC_SESSION_OPENED, announcement).catch((err) => {
      // Without the echo we could never be replaced by another replica; treat as announced.
      conn.announced = true;
      this.deps.logger.warn({ err: String(err), displayId }, 'session announcement failed');
    });

    if (accepted.playlist) this.pusher.deliver(conn, accepted.playlist);
    else void this.pusher.pushIfBehind(conn);
    for (const command of accepted.commands) if (conn.isOpen) this.traffic.sendCommand(conn, command);
    const queued = conn.queued;
    conn.queued = null;
    for (const msg of queued ?? []) {
      if (conn.state !== ConnState.Open) break;
      this.onSessionMessage(conn, msg);
    }
    if (conn.state === ConnState.Open) conn.socket.resume();
  }

  /**
   * Cross-replica replacement. Redis delivers one channel's messages to every subscriber in the
   * same order, so "the later announcement wins" is decided identically everywhere: a local
   * session closes only for an announcement that arrives after its own came back.
   */
  private onSessionOpened(msg: SessionOpened): void {
    const conn = this.sessions.get(msg.displayId);
    if (!conn) return;
    if (conn.sessionId === msg.sessionId) {
      conn.announced = true;
      return;
    }
    if (conn.announced) this.fail(conn, 'replaced', 'a newer connection for this display was accepted elsewhere');
  }

  private onRevoked(msg: DisplayRevoked): void {
    const conn = this.sessions.get(msg.displayId);
    if (!conn) return;
    if (msg.reason === 'disabled') this.fail(conn, 'display_disabled', 'this display was disabled');
    else this.fail(conn, 'auth_failed', 'the credentials of this display are no longer valid');
  }

  // ---------------------------------------------------------------- session messages

  private onSessionMessage(conn: Connection, msg: TypedMessage): void {
    switch (msg.type) {
      case 'heartbeat': {
        const hb = heartbeatSchema.safeParse(msg);
        if (!hb.success) return this.invalid(conn, msg.type, hb.error.issues);
        conn.appliedVersion = hb.data.playlistVersion;
        this.send(conn, { type: 'heartbeat_ack', serverTime: new Date().toISOString() });
        this.recordSeen(conn);
        void this.pusher.pushIfBehind(conn);
        return;
      }
      case 'playlist_ack': {
        const ack = playlistAckSchema.safeParse(msg);
        if (!ack.success) return this.invalid(conn, msg.type, ack.error.issues);
        conn.appliedVersion = ack.data.version;
        this.recordSeen(conn);
        return;
      }
      case 'plays':
        return void this.traffic.onPlays(conn, msg);
      case 'command_result':
        return void this.traffic.onCommandResult(conn, msg);
      case 'hello':
        return this.sendError(conn, 'invalid_message', 'already authenticated', false, { ref: 'hello' });
      default:
        return this.sendError(conn, 'unsupported_message', `unknown message type "${msg.type.slice(0, 64)}"`, false, {
          ref: msg.type.slice(0, 64),
        });
    }
  }

  recordSeen(conn: Connection): void {
    const now = Date.now();
    if (conn.appliedVersion === conn.seenReportedVersion && now - conn.seenReportedAt < this.opts.seenReportEveryMs) return;
    conn.seenReportedAt = now;
    conn.seenReportedVersion = conn.appliedVersion;
    this.presence.record({
      kind: 'seen',
      displayId: conn.displayId,
      sessionId: conn.sessionId,
      at: new Date(now).toISOString(),
      playlistVersion: conn.appliedVersion,
    });
  }

  // ---------------------------------------------------------------- periodic sweep

  /** One shared timer for every connection: deadlines, presence flush, version re-checks. */
  private sweep(): void {
    const now = Date.now();
    for (const conn of this.connections) {
      if (now < conn.deadline) continue;
      switch (conn.state) {
        case ConnState.Proxy:
          this.destroy(conn, 'proxy_timeout');
          break;
        case ConnState.Hello:
          this.fail(conn, 'hello_timeout', `no hello within ${this.opts.helloTimeoutMs} ms`);
          break;
        case ConnState.Open:
          this.fail(conn, 'heartbeat_timeout', `no frame for ${this.opts.heartbeatTimeoutMs} ms`);
          break;
        case ConnState.Closing:
          this.destroy(conn, conn.closeReason || 'linger_expired');
          break;
        case ConnState.Authenticating:
          this.fail(conn, 'unavailable', 'credentials could not be checked in time', { retryAfterMs: jitter(5_000) });
          break;
        default:
          break;
      }
    }
    this.admission.sweep(now);
    if (now - this.lastPresenceFlush >= this.opts.presenceFlushMs) {
      this.lastPresenceFlush = now;
      void this.presence.flush();
    }
    if (now - this.lastVersionRecheck >= Math.min(60_000, this.opts.versionRecheckMs)) {
      this.lastVersionRecheck = now;
      void this.pusher.recheckVersions(now);
    }
  }

  // ---------------------------------------------------------------- writing & closing

  /** Writes one frame; a reader too slow to drain its queue is disconnected. Returns whether sent. */
  send(conn: Connection, message: ServerMessage): boolean {
    return this.writeFrame(conn, message.type, () => encodeFrame(message));
  }

  /** send() for a message already serialised to JSON (e.g. assembled from shared parts). */
  sendJson(conn: Connection, type: ServerMessage['type'], json: string): boolean {
    return this.writeFrame(conn, type, () => encodeJsonFrame(json));
  }

  private writeFrame(conn: Connection, type: ServerMessage['type'], encode: () => Buffer): boolean {
    if (conn.state >= ConnState.Closing && type !== 'error') return false;
    let frame: Buffer;
    try {
      frame = encode();
    } catch (err) {
      this.deps.logger.error({ err: String(err), displayId: conn.displayId, type }, 'outgoing frame too large; not sent');
      return false;
    }
    const socket = conn.socket;
    if (socket.destroyed || !socket.writable) return false;
    if (socket.writableLength > 0 && socket.writableLength + frame.length > this.opts.writeQueueLimitBytes) {
      this.destroy(conn, 'slow_consumer');
      return false;
    }
    socket.write(frame);
    this.deps.metrics?.framesOut.inc({ type });
    return true;
  }

  sendError(conn: Connection, code: ErrorCode, message: string, fatal: boolean, extra: Partial<ErrorMessage> = {}): void {
    this.send(conn, { type: 'error', code, message, fatal, ...extra });
  }

  invalid(conn: Connection, type: string, issues: readonly { path: PropertyKey[]; message: string }[]): void {
    this.sendError(conn, 'invalid_message', describeIssues(issues), false, { ref: type });
  }

  /** Fatal error: send the error frame, half-close, and destroy if the peer lingers. */
  private fail(conn: Connection, code: ErrorCode, message: string, extra: Partial<ErrorMessage> = {}): void {
    if (conn.state >= ConnState.Closing) return;
    this.sendError(conn, code, message, true, extra);
    this.beginClose(conn, code);
    conn.socket.end();
    conn.socket.resume(); // keep reading (and discarding) so the peer's FIN is noticed
  }

  private destroy(conn: Connection, reason: string): void {
    if (conn.state === ConnState.Closed) return;
    if (conn.state < ConnState.Closing) this.beginClose(conn, reason);
    conn.socket.destroy();
  }

  private beginClose(conn: Connection, reason: string): void {
    const wasOpen = conn.state === ConnState.Open;
    conn.state = ConnState.Closing;
    conn.closeReason = reason;
    conn.deadline = Date.now() + CLOSING_LINGER_MS;
    conn.queued = null;
    if (wasOpen) this.endSession(conn, reason);
  }

  /** Removes the session at once (not on socket close) so a replacement never sees a stale entry. */
  private endSession(conn: Connection, reason: string): void {
    if (this.sessions.get(conn.displayId) === conn) {
      this.sessions.delete(conn.displayId);
      this.pusher.forget(conn.displayId);
    }
    this.presence.record({
      kind: 'disconnected',
      displayId: conn.displayId,
      sessionId: conn.sessionId,
      instanceId: this.opts.instanceId,
      at: new Date().toISOString(),
      reason,
    });
  }

  private onClose(conn: Connection): void {
    if (conn.state < ConnState.Closing) this.beginClose(conn, 'peer_closed');
    conn.state = ConnState.Closed;
    this.connections.delete(conn);
    if (conn.counted) this.admission.releaseConnection(conn.remoteAddress);
    this.deps.metrics?.closed.inc({ reason: conn.closeReason || 'unknown' });
  }
}

const KNOWN_TYPES = new Set(['hello', 'heartbeat', 'playlist_ack', 'plays', 'command_result']);
/** Bounded label set for metrics: arbitrary client strings must not create time series. */
function knownType(type: string): string {
  return KNOWN_TYPES.has(type) ? type : 'other';
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
