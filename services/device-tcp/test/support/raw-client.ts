/** A bare-bones protocol client over a real socket, for tests that poke at the wire. */
import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame, parsePayload, type TypedMessage } from '@marquee/display-protocol';

export class RawClient {
  readonly frames: TypedMessage[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(8 * 1024 * 1024);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.decoder.push(chunk, (p) => void this.frames.push(parsePayload(p)));
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(message: object): void {
    this.socket.write(encodeFrame(message));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Resolves with the first not-yet-consumed frame of that type (frames stay in `frames`). */
  async next(type: string, timeoutMs = 10_000): Promise<TypedMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex((f) => f.type === type);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`connection closed while waiting for ${type}; got ${JSON.stringify(this.frames)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type}; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Completes hello → welcome. */
  async hello(displayId: string, secret: string, playlistVersion = 0): Promise<TypedMessage> {
    this.send({ type: 'hello', protocol: 1, displayId, secret, playlistVersion });
    return this.next('welcome');
  }

  close(): void {
    this.socket.destroy();
  }
}
