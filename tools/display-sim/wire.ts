/**
 * Wire layer of the simulated display, written from docs/display-protocol.md §2 only (it does not
 * import the server's code, so it checks the document, not the implementation).
 */
import { connect, type Socket } from 'node:net';

export type Message = { type: string; [key: string]: any };

/** Largest frame a display must accept from the server (protocol §2). */
const MAX_INCOMING = 4 * 1024 * 1024;

export function frame(message: Message): Buffer {
  const payload = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

export interface WireHandlers {
  onMessage(message: Message): void;
  onClose(error?: string): void;
}

/** One TCP connection speaking length-prefixed JSON frames. */
export class Wire {
  private pending: Buffer = Buffer.alloc(0);
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: WireHandlers,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.finish(err.message));
    socket.on('close', () => this.finish());
  }

  static open(
    opts: { host: string; port: number; localAddress?: string; preamble?: Buffer; connectTimeoutMs?: number },
    handlers: WireHandlers,
  ): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), opts.connectTimeoutMs ?? 10_000);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        if (opts.preamble) socket.write(opts.preamble);
        resolve(new Wire(socket, handlers));
      });
    });
  }

  send(message: Message): void {
    if (!this.closed) this.socket.write(frame(message));
  }

  close(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  get localAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (length === 0 || length > MAX_INCOMING) {
        this.socket.destroy();
        return this.finish(`server sent an invalid frame length ${length}`);
      }
      if (this.pending.length < 4 + length) break;
      const payload = this.pending.subarray(4, 4 + length);
      this.pending = this.pending.subarray(4 + length);
      let message: Message;
      try {
        message = JSON.parse(payload.toString('utf8'));
      } catch {
        this.socket.destroy();
        return this.finish('server sent invalid JSON');
      }
      this.handlers.onMessage(message);
    }
    // Do not pin a large read buffer for a small remainder.
    if (this.pending.length > 0 && this.pending.length < 4096) this.pending = Buffer.from(this.pending);
  }

  private finish(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(error);
  }
}
