/**
 * HTTP/1.1 on one raw keep-alive socket, request after request, exactly as written: what a
 * browser or a pooling client does, without a client library that would quietly reconnect when
 * the server closes a connection it had promised to keep open.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class KeepAliveSocket {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(url: string): Promise<KeepAliveSocket> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.off('error', reject);
        resolve(new KeepAliveSocket(socket));
      });
      socket.once('error', reject);
    });
  }

  /** True once the peer closed (or reset) the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /**
   * Writes one request (headers, then the body in one go) and reads its answer (Content-Length
   * framed, as every answer of these services and the edge is). null: the connection closed
   * before a whole answer arrived.
   */
  async send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawAnswer | null> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const all = { host: 'localhost', ...(payload ? { 'content-length': String(payload.length) } : {}), ...headers };
    const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
    // The write may fail half-way when the server answers early and closes: that is the answer.
    this.socket.write(payload ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head, () => {});
    return this.readAnswer();
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  private async readAnswer(): Promise<RawAnswer | null> {
    for (;;) {
      const headEnd = this.buffered.indexOf('\r\n\r\n');
      if (headEnd >= 0) {
        const lines = this.buffered.subarray(0, headEnd).toString('latin1').split('\r\n');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.buffered.length >= headEnd + 4 + length) {
          const body = this.buffered.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
          this.buffered = this.buffered.subarray(headEnd + 4 + length);
          return { status, headers, body };
        }
      }
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}
