/**
 * A tiny protocol server for the client's edge cases: it frames and parses with its own few lines
 * (not the client's decoder), records every frame a display sends and lets a test answer by hand.
 */
import net from 'node:net';
import tls from 'node:tls';

export type Json = { type: string; [k: string]: any };

export class FakeConnection {
  readonly received: Json[] = [];
  readonly raw: Buffer[] = [];
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4 && this.buffer.length >= 4 + this.buffer.readUInt32BE(0)) {
        const length = this.buffer.readUInt32BE(0);
        this.received.push(JSON.parse(this.buffer.subarray(4, 4 + length).toString('utf8')));
        this.buffer = this.buffer.subarray(4 + length);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for the n-th (0-based) frame of a type, or fails after timeoutMs. */
  async next(type: string, nth = 0, timeoutMs = 5_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.filter((m) => m.type === type)[nth];
      if (found) return found;
      if (this.closed) throw new Error(`connection closed before a "${type}" frame #${nth}`);
      if (Date.now() > deadline) throw new Error(`no "${type}" frame #${nth} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  count(type: string): number {
    return this.received.filter((m) => m.type === type).length;
  }

  send(message: Json): void {
    const payload = Buffer.from(JSON.stringify(message), 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(payload.length);
    this.socket.write(Buffer.concat([header, payload]));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Answers the hello with a welcome (fast timings unless overridden). */
  async welcome(overrides: Partial<Json> = {}): Promise<Json> {
    const hello = await this.next('hello');
    this.send({
      type: 'welcome',
      protocol: 1,
      displayId: hello.displayId,
      sessionId: `s-${Math.random().toString(16).slice(2, 8)}`,
      serverTime: new Date().toISOString(),
      heartbeatIntervalMs: 60_000,
      heartbeatTimeoutMs: 150_000,
      maxFrameBytes: 262_144,
      maxPlaysPerBatch: 500,
      ...overrides,
    });
    return hello;
  }

  close(): void {
    this.socket.destroy();
  }
}

export class FakeServer {
  readonly connections: FakeConnection[] = [];
  private server!: net.Server;
  port = 0;

  static async start(tlsOptions?: tls.TlsOptions): Promise<FakeServer> {
    const s = new FakeServer();
    const onSocket = (socket: net.Socket) => s.connections.push(new FakeConnection(socket));
    s.server = tlsOptions ? tls.createServer(tlsOptions, onSocket) : net.createServer(onSocket);
    // A TLS handshake the client aborts (pin mismatch) must not crash the test process.
    s.server.on('tlsClientError', () => {});
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.port = (s.server.address() as net.AddressInfo).port;
    return s;
  }

  /** Waits for the n-th (0-based) connection. */
  async connection(nth = 0, timeoutMs = 5_000): Promise<FakeConnection> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connections[nth]) {
      if (Date.now() > deadline) throw new Error(`no connection #${nth} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.connections[nth]!;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A playlist as today's server sends it, with overrides. */
/** A fixed UUID per name (the protocol's booking and creative ids are UUIDs). */
export const testUuid = (name: string) => `00000000-0000-4000-8000-${Buffer.from(name).toString('hex').padEnd(12, '0').slice(0, 12)}`;
export const BOOKING_ID = testUuid('b-1');
export const CREATIVE_ID = testUuid('c-1');

export function playlist(version: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now();
  return {
    displayId: 'd-1',
    version,
    generatedAt: new Date(now).toISOString(),
    validFrom: new Date(now).toISOString(),
    validUntil: new Date(now + 48 * 3600_000).toISOString(),
    loop: { lengthMs: 20_000, slotCount: 2, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' },
    entries: [
      {
        slot: 0,
        kind: 'booking',
        bookingId: BOOKING_ID,
        creativeId: CREATIVE_ID,
        type: 'image',
        mediaUrl: `http://127.0.0.1/media/${'a'.repeat(64)}`,
        mediaSha256: 'a'.repeat(64),
        durationMs: 10_000,
        scripts: false,
        validFrom: new Date(now - 3600_000).toISOString(),
        validUntil: new Date(now + 3600_000).toISOString(),
      },
    ],
    ...overrides,
  };
}
