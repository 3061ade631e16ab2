/**
 * One connection to device-tcp, plain TCP or TLS (protocol §1, spec D.10), speaking frames. TLS
 * verifies the server with a CA file (chain + host name) and/or a pinned SHA-256 fingerprint of
 * the server certificate; nothing is written before that check passed.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, FrameError, MAX_SERVER_FRAME_BYTES, encodeFrame, parsePayload, type DisplayMessage, type TypedMessage } from '@marquee/display-protocol';

export interface TlsOptions {
  /** PEM CA certificate(s) the server's chain must lead to (default: the system's CAs). */
  ca?: string | Buffer;
  /** SHA-256 fingerprint of the server's certificate (hex, colons optional). */
  pinSha256?: string;
  /** Name to verify and send as SNI; defaults to the host when it is a name. */
  servername?: string;
}

export interface ConnectOptions {
  host: string;
  port: number;
  tls?: TlsOptions;
  localAddress?: string;
  /** Bytes written before the first frame (a load balancer's PROXY header, for simulations; plain TCP only). */
  preamble?: Buffer;
  connectTimeoutMs?: number;
}

export interface ConnectionHandlers {
  /** A frame as decoded: a JSON object with a string `type`, its members not yet checked. */
  onMessage(message: TypedMessage): void;
  /** Called once, when the connection is gone; `error` says why if it was not a clean close. */
  onClose(error?: string): void;
}

/** Normalises a fingerprint as printed by openssl (`AB:CD:…`) or plain hex. */
export function normalizeFingerprint(value: string): string {
  const hex = value.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('a SHA-256 fingerprint is 64 hex digits (colons allowed)');
  return hex;
}

/** SHA-256 fingerprint (lowercase hex) of a DER certificate. */
export function certificateFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

export class FrameConnection {
  private decoder = new FrameDecoder(MAX_SERVER_FRAME_BYTES);
  private closed = false;
  /** Payload limit for frames we send: 4 096 until welcome, then welcome.maxFrameBytes. */
  maxOutgoingBytes: number;

  private constructor(
    private readonly socket: net.Socket,
    private readonly handlers: ConnectionHandlers,
    maxOutgoingBytes: number,
  ) {
    this.maxOutgoingBytes = maxOutgoingBytes;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.finish(err.message));
    socket.on('close', () => this.finish());
  }

  /** Opens the connection (and completes TLS and the pin check); rejects if that fails. */
  static open(opts: ConnectOptions, handlers: ConnectionHandlers, maxOutgoingBytes: number): Promise<FrameConnection> {
    if (opts.tls && opts.preamble) return Promise.reject(new Error('a PROXY preamble is sent by a load balancer, never inside TLS'));
    return new Promise((resolve, reject) => {
      const base = { host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) };
      let socket: net.Socket;
      let readyEvent: string;
      if (opts.tls) {
        const pin = opts.tls.pinSha256 ? normalizeFingerprint(opts.tls.pinSha256) : null;
        const servername = opts.tls.servername ?? (net.isIP(opts.host) ? undefined : opts.host);
        socket = tls.connect({
          ...base,
          ...(servername ? { servername } : {}),
          ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
          // A pin alone trusts exactly that certificate (self-signed included); with a CA the chain is checked too.
          rejectUnauthorized: !pin || !!opts.tls.ca,
        });
        readyEvent = 'secureConnect';
        if (pin) {
          socket.once('secureConnect', () => {
            const cert = (socket as tls.TLSSocket).getPeerCertificate();
            const actual = cert?.raw ? certificateFingerprint(cert.raw) : '';
            if (actual !== pin) socket.destroy(new Error(`server certificate fingerprint ${actual || '(none)'} does not match the pinned one`));
          });
        }
      } else {
        socket = net.connect(base);
        readyEvent = 'connect';
      }
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), opts.connectTimeoutMs ?? 10_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', fail);
      socket.once(readyEvent, () => {
        // The pin check above ran first (same event, registered earlier) and may have destroyed it.
        if (socket.destroyed) return;
        clearTimeout(timer);
        socket.removeListener('error', fail);
        if (opts.preamble) socket.write(opts.preamble);
        resolve(new FrameConnection(socket, handlers, maxOutgoingBytes));
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get localAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  /** Sends one frame. Throws FrameError if it exceeds the current limit (nothing is sent then). */
  send(message: DisplayMessage): void {
    if (this.closed) return;
    this.socket.write(encodeFrame(message, this.maxOutgoingBytes));
  }

  /** Half-closes (lets what was written drain), then tears down. */
  close(): void {
    if (this.closed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  /** Drops the connection at once (dead peer, protocol violation). */
  destroy(reason: string): void {
    this.socket.destroy();
    this.finish(reason);
  }

  private onData(chunk: Buffer): void {
    const messages: TypedMessage[] = [];
    try {
      this.decoder.push(chunk, (payload) => void messages.push(parsePayload(payload)));
    } catch (err) {
      return this.destroy(`server sent an invalid frame: ${(err as FrameError).message}`);
    }
    for (const m of messages) {
      if (this.closed) return;
      this.handlers.onMessage(m);
    }
  }

  private finish(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(error);
  }
}
