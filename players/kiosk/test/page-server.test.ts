/** The local page server: who may talk to it, what it serves with which headers. */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePlaylist } from '@marquee/display-client';
import { testUuid } from '../../../packages/display-client/test/support/fake-server.ts';
import { MediaCache } from '../src/media-cache.ts';
import { PageServer, type ShowingEvent } from '../src/page-server.ts';
import { MediaServer } from './support/media-server.ts';
import { sha256, solidPng } from './support/pixels.ts';

let dir: string;
let server: PageServer;
const reports: ShowingEvent[][] = [];
let gone = 0;
const png = solidPng([1, 2, 3], 8, 8);
const html = '<p>hi</p>';
const text = 'plain words';

function get(pathAndQuery: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathAndQuery, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'marquee-page-'));
  const cache = new MediaCache(dir);
  await cache.init();
  const base = { durationMs: 1000, validFrom: '2020-01-01T00:00:00Z', validUntil: '2099-01-01T00:00:00Z', kind: 'booking', bookingId: testUuid('b'), creativeId: testUuid('c'), scripts: false };
  // Stored the way the player stores them (downloaded and verified); only playlist media are served.
  const origin = await MediaServer.start();
  for (const [body, type] of [[png, 'image'], [html, 'html'], [text, 'text']] as const) {
    const m = origin.add(body, 'application/octet-stream');
    await cache.ensure({ type, mimeType: '', ...m, sizeBytes: null, durationMs: 1, scripts: false });
  }
  await origin.close();
  server = new PageServer({ cache, serverNow: () => Date.now(), onReport: (e) => reports.push(e), onPageGone: () => gone++ });
  await server.listen();
  const { playlist } = normalizePlaylist({
    displayId: 'd-1',
    version: 1,
    generatedAt: base.validFrom,
    validFrom: base.validFrom,
    validUntil: base.validUntil,
    loop: { lengthMs: 3000, slotCount: 3, slotMs: 1000, anchorAt: '1970-01-01T00:00:00.000Z' },
    entries: [
      { ...base, slot: 0, type: 'image', mediaUrl: 'http://x/1', mediaSha256: sha256(png) },
      { ...base, slot: 1, type: 'html', mediaUrl: 'http://x/2', mediaSha256: sha256(html), scripts: true },
      { ...base, slot: 2, type: 'text', mediaUrl: 'http://x/3', mediaSha256: sha256(text), mimeType: 'text/plain; charset=utf-8' },
    ],
  });
  server.setPlaylist(playlist);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const host = () => ({ host: `127.0.0.1:${server.port}` });

describe('page server', () => {
  it('serves the page with a strict CSP and refuses a foreign Host (DNS rebinding)', async () => {
    const page = await get('/', host());
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'; script-src 'self'");
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get('/schedule.js', host())).body.toString()).toContain('export function showingAt');
  });

  it('needs the token for the event stream and for reports, and checks reports', async () => {
    expect((await get('/events', host())).status).toBe(401);
    expect((await get('/report?token=wrong', { ...host(), 'content-type': 'application/json' }, 'POST', '{"events":[]}')).status).toBe(401);
    const event = { event: 'start', key: 'k', kind: 'booking', atMs: 1, bookingId: 'b', creativeId: 'c', mediaSha256: sha256(png) };
    expect((await get(`/report?token=${server.token}`, host(), 'POST', JSON.stringify({ events: [event] }))).status).toBe(204);
    expect(reports.at(-1)).toEqual([event]);
    expect((await get(`/report?token=${server.token}`, host(), 'POST', JSON.stringify({ events: [{ ...event, kind: 'paid!' }] }))).status).toBe(400);
    expect((await get(`/report?token=${server.token}`, host(), 'POST', 'not json')).status).toBe(400);
  });

  it('serves playlist media by hash with its type (sniffed when unknown) and byte ranges', async () => {
    const image = await get(`/media/${sha256(png)}`, host());
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['x-content-type-options']).toBe('nosniff');
    expect(image.body.equals(png)).toBe(true);
    const part = await get(`/media/${sha256(png)}`, { ...host(), range: 'bytes=0-7' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-7/${png.length}`);
    expect(part.body.equals(png.subarray(0, 8))).toBe(true);
    expect((await get(`/media/${sha256(png)}`, { ...host(), range: `bytes=${png.length}-` })).status).toBe(416);
    expect((await get(`/media/${'0'.repeat(64)}`, host())).status).toBe(404);
    expect((await get(`/media/${sha256(text)}`, host())).headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('serves html only as a sandboxed document without network, scripts only where the entry allows', async () => {
    const doc = await get(`/html/${sha256(html)}`, host());
    expect(doc.status).toBe(200);
    const csp = doc.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'unsafe-inline'");
    expect(csp).toMatch(/sandbox allow-scripts$/);
    expect((await get(`/html/${sha256(png)}`, host())).status).toBe(404);
  });
});
