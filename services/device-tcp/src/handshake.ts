/**
 * hello → welcome (docs/display-protocol.md §3, §5): the steps in the order they run. A step that
 * refuses the display closes the session with an error frame and returns false; the rest are
 * skipped. Only `authenticate` waits (for api-v2); everything from `openSession` on runs in one
 * go, so no bus message or frame is handled in between.
 */
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOLS, type ErrorCode, type ErrorMessage, type Hello } from '@marquee/display-protocol';
import type { DeviceServer } from './device-server.ts';
import { DirectoryUnavailableError, TOPIC_SESSION_OPENED, type HandshakeResult, type SessionOpened } from './directory.ts';
import { jitter } from './limits.ts';
import type { Session } from './session.ts';
import { sendCommand } from './topics/display-command.ts';

interface Handshake {
  readonly session: Session;
  readonly server: DeviceServer;
  readonly hello: Hello;
  /** api-v2's answer, once `authenticate` accepted the display. */
  accepted?: Extract<HandshakeResult, { ok: true }>;
}

type Step = (h: Handshake) => void | boolean | Promise<boolean>;

/** A hello waiting this long for api-v2 (queue + retries) is answered `unavailable`. */
const AUTH_DEADLINE_MS = 15_000;

const HANDSHAKE: readonly Step[] = [
  checkProtocol,
  admit,
  authenticate,
  openSession,
  replaceOldSession,
  sendWelcome,
  reportConnected,
  announce,
  sendPlaylist,
  sendPendingCommands,
  replayQueuedFrames,
];

export async function runHandshake(session: Session, hello: Hello): Promise<void> {
  const h: Handshake = { session, server: session.server, hello };
  for (const step of HANDSHAKE) {
    const result = step(h);
    if ((result instanceof Promise ? await result : result) === false) return;
  }
}

function refuse({ session, server }: Handshake, result: string, code: ErrorCode, message: string, extra?: Partial<ErrorMessage>): false {
  server.deps.metrics?.handshakes.inc({ result });
  session.fail(code, message, extra);
  return false;
}

function checkProtocol(h: Handshake): boolean {
  const { protocol } = h.hello;
  if ((SUPPORTED_PROTOCOLS as readonly number[]).includes(protocol)) return true;
  return refuse(h, 'unsupported_protocol', 'unsupported_protocol', `protocol ${protocol} is not supported`, { supported: [...SUPPORTED_PROTOCOLS] });
}

/** Handshake rates (per address, per replica) and room in the queue of hellos waiting for api-v2. */
function admit(h: Handshake): boolean {
  const refusal = h.server.admission.admitHandshake(h.session.remoteAddress, Date.now());
  if (!refusal) return true;
  return refuse(h, refusal.result, refusal.code, refusal.message, { retryAfterMs: refusal.retryAfterMs });
}

async function authenticate(h: Handshake): Promise<boolean> {
  const { session, server } = h;
  const { displayId, secret, playlistVersion } = h.hello;
  session.authenticating(Date.now() + AUTH_DEADLINE_MS);
  let answer: HandshakeResult;
  try {
    answer = await server.admission.whileWaiting(() => server.deps.directory.handshake({ displayId, secret, playlistVersion }));
  } catch (err) {
    server.deps.logger.warn({ err: String(err), displayId }, 'authentication unavailable');
    const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
    return refuse(h, 'unavailable', 'unavailable', 'credentials cannot be checked right now', { retryAfterMs: jitter(retryAfterMs) });
  }
  if (!session.isAuthenticating) return false; // closed or drained meanwhile
  if (!answer.ok) {
    server.deps.logger.info({ displayId, code: answer.code, remote: session.remoteAddress }, 'display authentication refused');
    if (answer.code === 'disabled') return refuse(h, answer.code, 'display_disabled', 'this display is disabled');
    return refuse(h, answer.code, 'auth_failed', 'unknown display or wrong secret');
  }
  server.deps.metrics?.handshakes.inc({ result: 'ok' });
  h.accepted = answer;
  return true;
}

/** Re-checks the state: another task may have closed the session since `authenticate` resumed. */
function openSession({ session, hello }: Handshake): boolean {
  return session.open(hello.displayId, hello.playlistVersion, Date.now());
}

/** One session per display on this replica; other replicas learn of it from `announce`. */
function replaceOldSession({ session, server }: Handshake): void {
  server.sessionFor(session.displayId)?.fail('replaced', 'a newer connection for this display was accepted');
  server.register(session);
}

function sendWelcome({ session, server }: Handshake): void {
  const opts = server.options;
  session.send({
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    displayId: session.displayId,
    sessionId: session.sessionId,
    serverTime: new Date().toISOString(),
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
    maxFrameBytes: opts.maxFrameBytes,
    maxPlaysPerBatch: opts.maxPlaysPerBatch,
  });
}

function reportConnected({ session, server }: Handshake): void {
  server.presence.record({
    kind: 'connected',
    displayId: session.displayId,
    sessionId: session.sessionId,
    instanceId: server.options.instanceId,
    at: new Date().toISOString(),
    remoteAddress: session.remoteAddress,
    playlistVersion: session.appliedVersion,
  });
}

/** Tells the other replicas, which close their older session for this display (topics/session-opened.ts). */
function announce({ session, server }: Handshake): void {
  const announcement: SessionOpened = { displayId: session.displayId, sessionId: session.sessionId, instanceId: server.options.instanceId };
  server.deps.bus.publish(TOPIC_SESSION_OPENED, announcement).catch((err) => {
    // Without the echo we could never be replaced by another replica; treat as announced.
    session.announced = true;
    server.deps.logger.warn({ err: String(err), displayId: session.displayId }, 'session announcement failed');
  });
}

/** The playlist came with api-v2's answer if the display shows another version; else fetched only if out of step. */
function sendPlaylist({ session, accepted }: Handshake): void {
  session.push.know(accepted!.display.playlistVersion);
  if (accepted!.playlist) session.push.deliver(accepted!.playlist);
  else void session.push.pushIfOutOfStep();
}

function sendPendingCommands({ session, accepted }: Handshake): void {
  for (const command of accepted!.commands) if (session.isOpen) sendCommand(session, command);
}

function replayQueuedFrames({ session }: Handshake): void {
  session.replayQueued();
}
