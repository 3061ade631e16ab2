/**
 * The display-facing TCP server (after aedes' broker): accepts sockets into Sessions, keeps the
 * admission limits, the registry of open sessions (one per display, across replicas via the bus),
 * the one sweep timer that serves every session's deadline, presence reporting and the drain on
 * shutdown. Per-connection work lives in session.ts, handlers/ and handshake.ts; bus topics in
 * topics/. Protocol: docs/display-protocol.md.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Admission } from './admission.ts';
import { TOPIC_DISPLAY_COMMAND, TOPIC_DISPLAY_REVOKED, TOPIC_PLAYLIST_CHANGED, TOPIC_PLAYLIST_DELTA, TOPIC_SESSION_OPENED } from './directory.ts';
import { Semaphore } from './limits.ts';
import type { FrameTally } from './metrics.ts';
import { ContentInterner } from './playlist-content.ts';
import { defaultDeviceServerOptions, type DeviceServerDeps, type DeviceServerOptions } from './options.ts';
import { PresenceReporter } from './presence.ts';
import type { ProxyMode } from './proxy-protocol.ts';
import { Session } from './session.ts';
import { onDisplayCommand } from './topics/display-command.ts';
import { onDisplayRevoked } from './topics/display-revoked.ts';
import { onPlaylistChanged } from './topics/playlist-changed.ts';
import { onPlaylistDelta } from './topics/playlist-delta.ts';
import { onSessionOpened } from './topics/session-opened.ts';
import { recheckVersions } from './version-recheck.ts';

export class DeviceServer {
  private readonly opts: DeviceServerOptions;
  private readonly server: Server;
  /** Terminates TLS itself (options.tls); after the handshake a connection is a Session like any other. */
  private readonly tlsServer: TlsServer | null;
  /** Every connection, in any state (the sweep's worklist). */
  private readonly connections = new Set<Session>();
  /** Open sessions by display id. */
  private readonly sessions = new Map<string, Session>();
  readonly admission: Admission;
  /** Bounds concurrent api-v2 calls made on behalf of displays (version re-checks). */
  readonly directoryLimit: Semaphore;
  readonly presence: PresenceReporter;
  /** Per-frame figures for the metrics (null without metrics). */
  readonly tally: FrameTally | null;
  /** The playlist contents sessions hold, shared between displays showing the same. */
  readonly contents = new ContentInterner();
  private readonly unsubscribers: (() => Promise<void>)[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private lastPresenceFlush = 0;
  private lastVersionRecheck = 0;
  private draining = false;
  private address: AddressInfo | null = null;
  private tlsAddress: AddressInfo | null = null;

  constructor(
    options: Partial<DeviceServerOptions>,
    readonly deps: DeviceServerDeps,
  ) {
    this.opts = { ...defaultDeviceServerOptions, ...options };
    this.admission = new Admission(this.opts);
    this.directoryLimit = new Semaphore(this.opts.directoryConcurrency);
    this.presence = new PresenceReporter(deps.directory, deps.logger);
    this.tally = deps.metrics?.tally ?? null;
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket, this.opts.proxyProtocol));
    this.server.on('error', (err) => deps.logger.error({ err }, 'device server error'));
    // A bad key or certificate throws here, so the service refuses to start.
    this.tlsServer = this.opts.tls
      ? createTlsServer({ key: this.opts.tls.key, cert: this.opts.tls.cert, noDelay: true, handshakeTimeout: this.opts.helloTimeoutMs, minVersion: 'TLSv1.2' }, (socket) =>
          this.accept(socket, 'off'),
        )
      : null;
    this.tlsServer?.on('error', (err) => deps.logger.error({ err }, 'device TLS server error'));
    // Failed handshakes (wrong protocol, a client refusing our certificate) are routine, not errors.
    this.tlsServer?.on('tlsClientError', (err) => deps.logger.debug({ err: err.message }, 'device TLS handshake failed'));
    deps.metrics?.bindGauges({
      connectionCount: () => this.connections.size,
      sessionCount: () => this.sessions.size,
      displaysBehind: () => {
        let behind = 0;
        for (const session of this.sessions.values()) if (session.push.isOutOfStep) behind++;
        return behind;
      },
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

  /** The TLS listener's port (0 without options.tls). */
  get tlsPort(): number {
    return this.tlsAddress?.port ?? 0;
  }

  /** True when all presence recorded so far has been reported (tests, diagnostics). */
  get presenceSettled(): boolean {
    for (const session of this.sessions.values()) if (session.seenDue) return false;
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
    // The bus hands each handler its message parsed by the topic's schema (or drops it).
    this.unsubscribers.push(
      await bus.subscribe(TOPIC_PLAYLIST_CHANGED, (m) => onPlaylistChanged(this, m)),
      await bus.subscribe(TOPIC_PLAYLIST_DELTA, (m) => onPlaylistDelta(this, m)),
      await bus.subscribe(TOPIC_DISPLAY_COMMAND, (m) => onDisplayCommand(this, m)),
      await bus.subscribe(TOPIC_SESSION_OPENED, (m) => onSessionOpened(this, m)),
      await bus.subscribe(TOPIC_DISPLAY_REVOKED, (m) => onDisplayRevoked(this, m)),
    );
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepIntervalMs);
    this.sweepTimer.unref();
    this.address = await listenOn(this.server, this.opts.host, this.opts.port);
    if (this.tlsServer && this.opts.tls) {
      try {
        this.tlsAddress = await listenOn(this.tlsServer, this.opts.tls.host, this.opts.tls.port);
      } catch (err) {
        this.server.close();
        throw err;
      }
    }
    return { host: this.address.address, port: this.address.port };
  }

  /**
   * Graceful drain: stop accepting, tell every display to reconnect after a jittered delay,
   * wait for them to leave, cut the rest at the deadline, report presence one last time.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const closed = Promise.all([this.server, this.tlsServer].map((s) => new Promise<void>((resolve) => (s?.listening ? s.close(() => resolve()) : resolve()))));
    const { reconnectAfterMinMs: min, reconnectAfterMaxMs: max } = this.opts;
    for (const session of this.connections) {
      if (session.isOpen) session.send({ type: 'reconnect', reason: 'draining', afterMs: Math.round(min + Math.random() * (max - min)) });
      else session.fail('unavailable', 'server is shutting down', { retryAfterMs: min });
    }
    const deadline = Date.now() + graceMs;
    while (this.connections.size > 0 && Date.now() < deadline) await sleep(Math.min(100, this.opts.sweepIntervalMs));
    for (const session of this.connections) session.close('drain_deadline');
    await closed;
    await this.stop();
  }

  /** Immediate stop (tests, after drain): closes everything and flushes presence. */
  async close(): Promise<void> {
    this.draining = true;
    if (this.server.listening) this.server.close();
    if (this.tlsServer?.listening) this.tlsServer.close();
    for (const session of this.connections) session.close('server_closed');
    await this.stop();
  }

  private async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const unsubs = this.unsubscribers.splice(0);
    await Promise.allSettled(unsubs.map((u) => u()));
    // A flush already in flight carries only what was recorded before it: flush once more for
    // the rest (the disconnects of the sessions just closed).
    await this.presence.flush();
    await this.presence.flush();
  }

  // ---------------------------------------------------------------- accept and admission

  /** A connection, plain or after its TLS handshake: the same Session either way. */
  private accept(socket: Socket, proxyProtocol: ProxyMode): void {
    const session = new Session(this, socket, Date.now(), proxyProtocol);
    this.connections.add(session);
    if (this.draining) return session.fail('unavailable', 'server is shutting down', { retryAfterMs: this.opts.reconnectAfterMinMs });
    if (proxyProtocol === 'off') this.admitAddress(session);
  }

  /** Counts the connection against its source address (known after any PROXY header); refuses it above the limit. */
  admitAddress(session: Session): boolean {
    session.counted = true;
    if (this.admission.admitConnection(session.remoteAddress)) return true;
    const limit = this.opts.maxConnectionsPerAddress;
    session.fail('too_many_connections', `more than ${limit} connections from this address`, { retryAfterMs: 60_000 });
    return false;
  }

  /** The socket is gone (Session calls this last). */
  connectionClosed(session: Session): void {
    this.connections.delete(session);
    if (session.counted) this.admission.releaseConnection(session.remoteAddress);
    this.deps.metrics?.closed.inc({ reason: session.closeReason || 'unknown' });
  }

  // ---------------------------------------------------------------- registry of open sessions

  sessionFor(displayId: string): Session | undefined {
    return this.sessions.get(displayId);
  }

  openSessions(): Iterable<Session> {
    return this.sessions.values();
  }

  /** Makes `session` its display's session here (the handshake closed any older one first). */
  register(session: Session): void {
    this.sessions.set(session.displayId, session);
  }

  /** An open session is closing (Session calls this at once, not on socket close). */
  sessionEnded(session: Session, reason: string): void {
    if (this.sessions.get(session.displayId) === session) this.sessions.delete(session.displayId);
    this.presence.record({
      kind: 'disconnected',
      displayId: session.displayId,
      sessionId: session.sessionId,
      instanceId: this.opts.instanceId,
      at: new Date().toISOString(),
      reason,
    });
  }

  // ---------------------------------------------------------------- periodic sweep

  /** One shared timer for every connection: deadlines, admission upkeep, presence flush, version re-checks. */
  private sweep(): void {
    const now = Date.now();
    for (const session of this.connections) {
      if (session.seenDue) session.reportSeen(now);
      if (now >= session.deadline) session.expire();
    }
    this.admission.sweep(now);
    if (now - this.lastPresenceFlush >= this.opts.presenceFlushMs) {
      this.lastPresenceFlush = now;
      void this.presence.flush();
    }
    if (now - this.lastVersionRecheck >= Math.min(60_000, this.opts.versionRecheckMs)) {
      this.lastVersionRecheck = now;
      void recheckVersions(this, now);
    }
  }
}

function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
