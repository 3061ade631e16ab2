import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '@marquee/service-kit';
import { createConsoleApp, IMMUTABLE } from '../src/app.ts';
import { loadSpa, SpaMissingError } from '../src/spa.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'console-spa-'));
const INDEX = '<!doctype html><title>Marquee</title><script type="module" src="/assets/index-abc123.js"></script>';
let app: ReturnType<typeof createConsoleApp>;

beforeAll(async () => {
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), INDEX);
  writeFileSync(path.join(dir, 'assets/index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'assets/index-def456.css'), 'body{}');
  writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(dir, '.stamp'), 'not served');
  app = createConsoleApp({ logger: createLogger('console', 'silent'), metrics: createMetrics('console'), spa: await loadSpa(dir) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const csp = (res: Response) => Object.fromEntries((res.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));

describe('console app', () => {
  it('serves index.html at / with no-cache and the security headers', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
    const policy = csp(res);
    expect(policy['default-src']).toEqual(["'self'"]);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    expect(policy['object-src']).toEqual(["'none'"]);
    // Nothing outside this origin: no CDN, no web font, works without internet.
    expect(res.headers.get('content-security-policy')).not.toMatch(/https?:|\*|'unsafe-eval'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers client routes with index.html (SPA fallback), also deep ones with query strings', async () => {
    for (const route of ['/displays', '/bookings/2f1c3e0e-0000-4000-8000-000000000000', '/operator/displays?status=active', '/index.html']) {
      const res = await app.request(route);
      expect(res.status, route).toBe(200);
      expect(await res.text(), route).toBe(INDEX);
      expect(res.headers.get('cache-control'), route).toBe('no-cache');
    }
  });

  it('serves hashed assets as immutable with their type', async () => {
    const js = await app.request('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe('console.log(1)');
    const css = await app.request('/assets/index-def456.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('content-security-policy')).toBeTruthy();
  });

  it('serves unhashed root files revalidated, and never dotfiles', async () => {
    const icon = await app.request('/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
    expect((await app.request('/.stamp')).status).toBe(404);
  });

  it('answers a missing asset or file with a problem+json 404, not index.html', async () => {
    for (const missing of ['/assets/index-old999.js', '/assets/', '/robots.txt', '/assets/../index.html.map']) {
      const res = await app.request(missing);
      expect(res.status, missing).toBe(404);
      expect(res.headers.get('content-type'), missing).toBe('application/problem+json');
      const body = (await res.json()) as { status: number; detail: string };
      expect(body.status).toBe(404);
      expect(res.headers.get('content-security-policy'), missing).toBeTruthy();
    }
  });

  it('revalidates with the ETag (304) and answers HEAD without a body', async () => {
    const first = await app.request('/assets/index-abc123.js');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request('/assets/index-abc123.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const changed = await app.request('/assets/index-abc123.js', { headers: { 'if-none-match': '"something-else"' } });
    expect(changed.status).toBe(200);
    const head = await app.request('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(INDEX)));
    expect(await head.text()).toBe('');
  });

  it('refuses other methods with problem+json and keeps the kit health endpoints', async () => {
    const post = await app.request('/', { method: 'POST', body: '{}' });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toBe('application/problem+json');
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    expect(await (await app.request('/metrics')).text()).toContain('http_request_duration_seconds');
  });

  it('will not start without a built app, and says how to build it', async () => {
    await expect(loadSpa(path.join(dir, 'nope'))).rejects.toThrow(SpaMissingError);
    await expect(loadSpa(path.join(dir, 'nope'))).rejects.toThrow(/npm run build -w @marquee\/console/);
  });
});
