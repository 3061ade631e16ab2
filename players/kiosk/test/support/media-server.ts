/** A stand-in for api-v2's GET /media/{sha256}: serves the buffers it is given, counts requests, can be switched off. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from './pixels.ts';

export class MediaServer {
  private files = new Map<string, { body: Buffer; type: string }>();
  private server = http.createServer((req, res) => {
    this.requests++;
    const sha = /^\/media\/([0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
    const file = sha ? this.files.get(sha) : undefined;
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
    res.end(file.body);
  });
  requests = 0;
  port = 0;

  static async start(): Promise<MediaServer> {
    const m = new MediaServer();
    await new Promise<void>((r) => m.server.listen(0, '127.0.0.1', r));
    m.port = (m.server.address() as AddressInfo).port;
    return m;
  }

  /** Adds a file; returns its URL and hash. */
  add(body: Buffer | string, type: string): { mediaUrl: string; mediaSha256: string; sizeBytes: number } {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const hash = sha256(buf);
    this.files.set(hash, { body: buf, type });
    return { mediaUrl: `http://127.0.0.1:${this.port}/media/${hash}`, mediaSha256: hash, sizeBytes: buf.length };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
