/**
 * The local web server the kiosk Chromium shows (127.0.0.1 only): the player page, media from
 * the cache, sandboxed HTML documents, a server-sent-event stream that pushes the playlist and
 * the server clock to the page, and the endpoint where the page reports what it actually showed.
 * Reports need the per-start token the page got in its URL, and every request must name this
 * server in its Host header (no DNS rebinding from a web page elsewhere).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Playlist, PlaylistEntry } from '@marquee/display-client';
import type { MediaCache } from './media-cache.ts';

const PAGE_DIR = path.resolve(import.meta.dirname, '../page');
// The very file the daemon's own code imports: one definition of the loop arithmetic.
const SCHEDULE_JS = fileURLToPath(import.meta.resolve('@marquee/display-client/schedule.js'));

/** What the page needs of a media item: no URLs (it loads everything from this server by hash). */
type PageMedia = Pick<PlaylistEntry, 'type' | 'mimeType' | 'mediaSha256' | 'durationMs' | 'scripts'>;
export interface PagePlaylist {
  version: number;
  validFrom: string;
  validUntil: string;
  loop: Playlist['loop'];
  entries: (PageMedia & Pick<PlaylistEntry, 'slot' | 'kind' | 'bookingId' | 'creativeId' | 'validFrom' | 'validUntil'>)[];
}

/** One event the page reports: a showing became visible (`start`) or was covered/removed (`stop`). */
export interface ShowingEvent {
  event: 'start' | 'stop';
  key: string;
  kind: 'booking' | 'house' | 'emergency' | 'idle';
  /** Server time (epoch ms) of the frame in which it became visible / stopped being visible. */
  atMs: number;
  slot?: number;
  bookingId?: string;
  creativeId?: string;
  mediaSha256?: string;
}

export interface PageServerOptions {
  cache: MediaCache;
  serverNow: () => number;
  onReport: (events: ShowingEvent[]) => void;
  /** The last page connection closed (reloaded, crashed): nothing is on screen any more. */
  onPageGone: () => void;
  port?: number;
}

const STATIC: Record<string, [file: string, type: string]> = {
  '/': [path.join(PAGE_DIR, 'index.html'), 'text/html; charset=utf-8'],
  '/player.js': [path.join(PAGE_DIR, 'player.js'), 'text/javascript; charset=utf-8'],
  '/player.css': [path.join(PAGE_DIR, 'player.css'), 'text/css; charset=utf-8'],
  '/schedule.js': [SCHEDULE_JS, 'text/javascript; charset=utf-8'],
};

/** The player page itself may load only from here; creatives live in sandboxed frames. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

/** Protocol §6 (rendering text and HTML): no network, no forms, no popups, no top navigation; scripts only when the entry allows. */
export function htmlCsp(scripts: boolean): string {
  return `default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'${scripts ? "; script-src 'unsafe-inline'" : ''}; base-uri 'none'; form-action 'none'; sandbox${scripts ? ' allow-scripts' : ''}`;
}

/** PNG/JPEG/WebP/GIF/MP4 by their first bytes, for media whose type the server did not send. */
export function sniff(head: Buffer): string {
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (head.toString('latin1', 0, 4) === 'GIF8') return 'image/gif';
  if (head.toString('latin1', 4, 8) === 'ftyp') return 'video/mp4';
  return 'application/octet-stream';
}

function toPage(p: Playlist): PagePlaylist {
  const media = (m: PlaylistEntry): PageMedia => ({ type: m.type, mimeType: m.mimeType, mediaSha256: m.mediaSha256, durationMs: m.durationMs, scripts: m.scripts });
  return {
    version: p.version,
    validFrom: p.validFrom,
    validUntil: p.validUntil,
    loop: p.loop,
    entries: p.entries.map((e) => ({ ...media(e), slot: e.slot, kind: e.kind, bookingId: e.bookingId, creativeId: e.creativeId, validFrom: e.validFrom, validUntil: e.validUntil })),
  };
}

export class PageServer {
  readonly token = randomBytes(18).toString('base64url');
  private server: http.Server;
  private streams = new Set<http.ServerResponse>();
  private playlist: Playlist | null = null;
  /** Media the page may still be showing from the playlist before the current one. */
  private previous: Playlist | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  port = 0;

  constructor(private readonly opts: PageServerOptions) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((err as Error).message ?? err));
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.clockTimer = setInterval(() => this.broadcast('clock', { serverNowMs: this.opts.serverNow() }), 2_000);
  }

  /** The page's URL, with the token it needs to report. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.token}`;
  }

  get pageConnections(): number {
    return this.streams.size;
  }

  /** Shows a playlist (null: nothing). The media must be in the cache already. */
  setPlaylist(playlist: Playlist | null): void {
    if (this.playlist && playlist && this.playlist.version !== playlist.version) this.previous = this.playlist;
    this.playlist = playlist;
    this.broadcast('state', this.stateMessage());
  }

  async close(): Promise<void> {
    if (this.clockTimer) clearInterval(this.clockTimer);
    for (const s of this.streams) s.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private stateMessage() {
    return { playlist: this.playlist ? toPage(this.playlist) : null, serverNowMs: this.opts.serverNow() };
  }

  private broadcast(event: string, data: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of this.streams) s.write(text);
  }

  private mediaInfo(sha: string): PlaylistEntry | undefined {
    for (const p of [this.playlist, this.previous]) {
      if (!p) continue;
      for (const m of p.entries) if (m.mediaSha256 === sha) return m;
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${this.port}` && host !== `localhost:${this.port}`) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      return void res.end('wrong host');
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    const authorized = url.searchParams.get('token') === this.token;
    const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

    if (req.method === 'GET' && STATIC[url.pathname]) {
      const [file, type] = STATIC[url.pathname]!;
      res.writeHead(200, { ...common, 'content-type': type, ...(url.pathname === '/' ? { 'content-security-policy': PAGE_CSP } : {}) });
      return void res.end(await readFile(file));
    }
    if (req.method === 'GET' && url.pathname === '/events') {
      if (!authorized) return this.refuse(res, 401);
      res.writeHead(200, { ...common, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(`event: state\ndata: ${JSON.stringify(this.stateMessage())}\n\n`);
      this.streams.add(res);
      req.on('close', () => {
        this.streams.delete(res);
        if (this.streams.size === 0) this.opts.onPageGone();
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/report') {
      if (!authorized) return this.refuse(res, 401);
      const body = await readBody(req, 64 * 1024);
      let events: ShowingEvent[];
      try {
        events = parseEvents(JSON.parse(body));
      } catch {
        return this.refuse(res, 400);
      }
      this.opts.onReport(events);
      res.writeHead(204, common);
      return void res.end();
    }
    const media = /^\/(media|html)\/([0-9a-f]{64})$/.exec(url.pathname);
    if (req.method === 'GET' && media) {
      const [, kind, sha] = media as unknown as [string, string, string];
      const info = this.mediaInfo(sha);
      if (!info || !(await this.opts.cache.has(sha))) return this.refuse(res, 404);
      if (kind === 'html') {
        if (info.type !== 'html') return this.refuse(res, 404);
        res.writeHead(200, { ...common, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': htmlCsp(info.scripts) });
        return void res.end(await readFile(this.opts.cache.pathOf(sha)));
      }
      return this.sendFile(req, res, this.opts.cache.pathOf(sha), info.mimeType, common);
    }
    this.refuse(res, 404);
  }

  private refuse(res: http.ServerResponse, status: number): void {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(http.STATUS_CODES[status]);
  }

  /** A cached file, whole or one byte range (video elements seek with ranges). */
  private async sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, mimeType: string, headers: Record<string, string>): Promise<void> {
    const size = (await stat(file)).size;
    let type = mimeType;
    if (!type) {
      const handle = await open(file, 'r');
      const head = Buffer.alloc(16);
      await handle.read(head, 0, 16, 0);
      await handle.close();
      type = sniff(head);
    }
    const base = { ...headers, 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=31536000, immutable' };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      let start = range[1] ? Number(range[1]) : size - Number(range[2]);
      let end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (!range[1]) start = Math.max(0, start);
      if (start >= size || start > end) {
        res.writeHead(416, { ...base, 'content-range': `bytes */${size}` });
        return void res.end();
      }
      res.writeHead(206, { ...base, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      return void createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, { ...base, 'content-length': size });
    createReadStream(file).pipe(res);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('report too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const KINDS = new Set(['booking', 'house', 'emergency', 'idle']);

function parseEvents(raw: unknown): ShowingEvent[] {
  const list = (raw as { events?: unknown })?.events;
  if (!Array.isArray(list) || list.length > 100) throw new Error('events must be an array of at most 100');
  return list.map((e: Record<string, unknown>) => {
    if ((e.event !== 'start' && e.event !== 'stop') || typeof e.key !== 'string' || !KINDS.has(e.kind as string) || !Number.isFinite(e.atMs)) throw new Error('bad event');
    const str = (v: unknown) => (typeof v === 'string' && v.length <= 128 ? v : undefined);
    return {
      event: e.event,
      key: e.key.slice(0, 512),
      kind: e.kind as ShowingEvent['kind'],
      atMs: e.atMs as number,
      ...(Number.isSafeInteger(e.slot) ? { slot: e.slot as number } : {}),
      ...(str(e.bookingId) ? { bookingId: str(e.bookingId) } : {}),
      ...(str(e.creativeId) ? { creativeId: str(e.creativeId) } : {}),
      ...(str(e.mediaSha256) ? { mediaSha256: str(e.mediaSha256) } : {}),
    };
  });
}
