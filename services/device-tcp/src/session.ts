/**
 * One display connection (after aedes' Client): owns its socket, the PROXY header and frame
 * parsing, its state and deadline, its playlist push state and the one way it closes. It has no
 * timers: the server's single sweep calls expire() once `deadline` has passed, and the per-type
 * message handlers live in handlers/.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  FrameDecoder,
  FrameError,
  PRE_AUTH_MAX_FRAME_BYTES,
  describeIssues,
  encodeFrame,
  encodeJsonFrame,
  parsePayload,
  type ErrorCode,
  type ErrorMessage,
  type ServerMessage,
  type TypedMessage,
  type ValidationIssue,
} from '@marquee/display-protocol';
import type { DeviceServer } from './device-server.ts';
import { handle, metricsLabel } from './handlers/index.ts';
import { jitter } from './limits.ts';
import { PlaylistPush } from './playlist-push.ts';
import { parseProxyHeader, type ProxyMode } from './proxy-protocol.ts';
import type { PlaylistContent } from './playlist-content.ts';

enum State {
  /** Waiting for the PROXY protocol header. */
  Proxy = 0,
  /** Waiting for hello. */
  Hello = 1,
  /** hello received, credentials being checked; further frames are queued. */
  Authenticating = 2,
  Open = 3,
  /** Fatal error sent or drain finished; waiting for the socket to go away. */
  Closing = 4,
  Closed = 5,
}

/** Close on fatal error: give the error frame this long to flush before destroying. */
const CLOSING_LINGER_MS = 2_000;
const MAX_QUEUED_PRE_AUTH = 64;

export class Session {
  private state: State;
  private readonly decoder = new FrameDecoder(PRE_AUTH_MAX_FRAME_BYTES);
  /** Partial PROXY header bytes (Proxy state only). */
  private proxyBuf: Buffer | null = null;
  /** Epoch ms: hello deadline, silence deadline, auth deadline or forced-destroy deadline, by state. */
  deadline: number;
  remoteAddress: string;
  displayId = '';
  sessionId = '';
  /** Version the display says it shows (hello, heartbeat, playlist_ack). */
  appliedVersion = 0;
  /** Last "seen" reported to api-v2 for this session: when, and with which applied version. */
  private seenReportedAt = 0;
  private seenReportedVersion = -1;
  /** api-v2 is due a "seen" (new applied version, or the last report is getting old): the next sweep records it. */
  seenDue = false;
  readonly push = new PlaylistPush(this);
  /** plays batches being recorded by api-v2 for this display (handlers/plays.ts bounds it). */
  playsInFlight = 0;
  /** Our own session-opened announcement came back on the bus (topics/session-opened.ts). */
  announced = false;
  /** Frames that arrived after hello while authenticating. */
  private queued: TypedMessage[] | null = null;
  closeReason = '';
  /** Counted in the per-address connection limit (released on close). */
  counted = false;

  constructor(
    readonly server: DeviceServer,
    private readonly socket: Socket,
    now: number,
    /** What this connection's listener expects first: a PROXY header (plain listener behind a balancer) or not. */
    private readonly proxyProtocol: ProxyMode,
  ) {
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.state = proxyProtocol === 'off' ? State.Hello : State.Proxy;
    this.deadline = now + server.options.helloTimeoutMs;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows; resets are routine for displays
    socket.on('close', () => this.onSocketClose());
  }

  get isOpen(): boolean {
    return this.state === State.Open;
  }

  get awaitingHello(): boolean {
    return this.state === State.Hello;
  }

  get isAuthenticating(): boolean {
    return this.state === State.Authenticating;
  }

  // ---------------------------------------------------------------- reading

  private onData(chunk: Buffer): void {
    const tally = this.server.tally;
    if (tally) tally.bytesIn += chunk.length;
    if (this.state >= State.Closing) return;
    if (this.state === State.Proxy) {
      const rest = this.readProxyHeader(chunk);
      if (!rest || rest.length === 0) return;
      chunk = rest;
    }
    if (this.state === State.Open) this.deadline = Date.now() + this.server.options.heartbeatTimeoutMs;
    try {
      this.decoder.push(chunk, (payload) => {
        this.onMessage(parsePayload(payload));
        return this.state < State.Closing;
      });
    } catch (err) {
      if (err instanceof FrameError) this.fail(err.code, err.message);
      else {
        this.server.deps.logger.error({ err, displayId: this.displayId }, 'frame handling failed');
        this.fail('internal_error', 'internal error');
      }
    }
  }

  /** Returns the bytes after the header once it is complete, or null while incomplete/failed. */
  private readProxyHeader(chunk: Buffer): Buffer | null {
    const buf = this.proxyBuf ? Buffer.concat([this.proxyBuf, chunk]) : chunk;
    const parsed = parseProxyHeader(buf, this.proxyProtocol as Exclude<ProxyMode, 'off'>);
    if (parsed.status === 'incomplete') {
      this.proxyBuf = Buffer.from(buf); // copy: do not pin the runtime's read buffer
      return null;
    }
    this.proxyBuf = null;
    if (parsed.status === 'error') {
      this.close('bad_proxy_header');
      return null;
    }
    if (parsed.source) this.remoteAddress = normaliseAddress(parsed.source.address);
    this.state = State.Hello;
    if (!this.server.admitAddress(this)) return null;
    return buf.subarray(parsed.consumed);
  }

  private onMessage(msg: TypedMessage): void {
    this.server.tally?.in(metricsLabel(msg.type));
    switch (this.state) {
      case State.Hello:
        if (msg.type !== 'hello') return this.fail('hello_required', 'the first frame must be hello');
        return handle(this, msg);
      case State.Authenticating:
        if ((this.queued ??= []).length >= MAX_QUEUED_PRE_AUTH) return this.fail('rate_limited', 'too many frames before welcome');
        this.queued.push(msg);
        return;
      case State.Open:
        return handle(this, msg);
    }
  }

  // ---------------------------------------------------------------- handshake transitions

  /** hello accepted for checking: nothing more is read (frames already read are queued) until welcome. */
  authenticating(deadline: number): void {
    this.state = State.Authenticating;
    this.deadline = deadline;
    this.socket.pause();
  }

  /** Credentials accepted: false if the session was closed (or drained) while they were checked. */
  open(displayId: string, appliedVersion: number, now: number): boolean {
    if (this.state !== State.Authenticating) return false;
    this.state = State.Open;
    this.displayId = displayId;
    this.sessionId = randomUUID();
    this.appliedVersion = appliedVersion;
    this.push.checkedAt = now;
    this.deadline = now + this.server.options.heartbeatTimeoutMs;
    this.decoder.maxFrameBytes = this.server.options.maxFrameBytes;
    return true;
  }

  /** After welcome: handles the frames that arrived while authenticating, then reads on. */
  replayQueued(): void {
    const queued = this.queued;
    this.queued = null;
    for (const msg of queued ?? []) {
      if (this.state !== State.Open) break;
      handle(this, msg);
    }
    if (this.state === State.Open) this.socket.resume();
  }

  /** The display reports the version it shows; liveness goes to api-v2 (coalesced). */
  reportApplied(version: number): void {
    this.appliedVersion = version;
    this.recordSeen();
  }

  /** The display was seen; a report, if due, waits for the next sweep (kept off the path of each frame). */
  recordSeen(): void {
    if (this.appliedVersion !== this.seenReportedVersion || Date.now() - this.seenReportedAt >= this.server.options.seenReportEveryMs) this.seenDue = true;
  }

  /** From the sweep: the "seen" recordSeen found due. */
  reportSeen(now: number): void {
    this.seenDue = false;
    if (this.state !== State.Open) return;
    this.seenReportedAt = now;
    this.seenReportedVersion = this.appliedVersion;
    this.server.presence.record({ kind: 'seen', displayId: this.displayId, sessionId: this.sessionId, at: new Date(now).toISOString(), playlistVersion: this.appliedVersion });
  }

  // ---------------------------------------------------------------- writing

  /** Writes one frame; a reader too slow to drain its queue is disconnected. Returns whether sent. */
  send(message: ServerMessage): boolean {
    return this.writeFrame(message.type, () => encodeFrame(message));
  }

  /**
   * A playlist frame: only its head (display id and version) is this session's own; the rest is
   * the content's tail, serialised once for every display showing it and copied in here (one
   * buffer, one write: cheaper than a corked two-part write).
   */
  sendPlaylist(version: number, content: PlaylistContent): boolean {
    return this.writeFrame('playlist', () => encodeJsonFrame(`{"type":"playlist","playlist":{"displayId":${JSON.stringify(this.displayId)},"version":${version}`, content.tail));
  }

  private writeFrame(type: ServerMessage['type'], encode: () => Buffer): boolean {
    if (this.state >= State.Closing && type !== 'error') return false;
    let frame: Buffer;
    try {
      frame = encode();
    } catch (err) {
      this.server.deps.logger.error({ err: String(err), displayId: this.displayId, type }, 'outgoing frame too large; not sent');
      return false;
    }
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return false;
    if (socket.writableLength > 0 && socket.writableLength + frame.length > this.server.options.writeQueueLimitBytes) {
      this.close('slow_consumer');
      return false;
    }
    socket.write(frame);
    this.server.tally?.out(type);
    return true;
  }

  sendError(code: ErrorCode, message: string, fatal: boolean, extra: Partial<ErrorMessage> = {}): void {
    this.send({ type: 'error', code, message, fatal, ...extra });
  }

  /** A message that failed its schema: a non-fatal error naming the first issues. */
  invalid(type: string, issues: readonly ValidationIssue[]): void {
    this.sendError('invalid_message', describeIssues(issues), false, { ref: type });
  }

  // ---------------------------------------------------------------- deadlines and closing

  /** Called by the server's sweep once `deadline` has passed; what it means depends on the state. */
  expire(): void {
    const opts = this.server.options;
    switch (this.state) {
      case State.Proxy:
        return this.close('proxy_timeout');
      case State.Hello:
        return this.fail('hello_timeout', `no hello within ${opts.helloTimeoutMs} ms`);
      case State.Authenticating:
        return this.fail('unavailable', 'credentials could not be checked in time', { retryAfterMs: jitter(5_000) });
      case State.Open:
        return this.fail('heartbeat_timeout', `no frame for ${opts.heartbeatTimeoutMs} ms`);
      case State.Closing:
        return this.close(this.closeReason || 'linger_expired');
    }
  }

  /** Fatal error: the error frame, then close(code) with a linger so the frame can flush. */
  fail(code: ErrorCode, message: string, extra: Partial<ErrorMessage> = {}): void {
    if (this.state >= State.Closing) return;
    this.sendError(code, message, true, extra);
    this.close(code, { linger: true });
  }

  /**
   * The one way a session ends. It leaves the registry and its disconnect is reported at once (not
   * on socket close), so a replacement never meets a stale entry; then the socket is half-closed
   * and read to its end (linger, destroyed at the deadline) or destroyed now. Idempotent: the
   * first reason stands, and a later close without linger still cuts a lingering socket.
   */
  close(reason: string, { linger = false } = {}): void {
    if (this.state === State.Closed) return;
    if (this.state < State.Closing) {
      const wasOpen = this.state === State.Open;
      this.state = State.Closing;
      this.closeReason = reason;
      this.deadline = Date.now() + CLOSING_LINGER_MS;
      this.queued = null;
      if (wasOpen) this.server.sessionEnded(this, reason);
    }
    if (!linger) this.socket.destroy();
    else {
      this.socket.end();
      this.socket.resume(); // keep reading (and discarding) so the peer's FIN is noticed
    }
  }

  private onSocketClose(): void {
    this.close('peer_closed');
    this.state = State.Closed;
    this.server.connectionClosed(this);
  }
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
