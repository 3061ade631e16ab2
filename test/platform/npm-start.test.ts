/**
 * The one-command local platform, as a user runs it: `npm start` with no DATABASE_URL (embedded
 * PostgreSQL) and no REDIS_URL (in-process bus), on free ports and a fresh data folder; displays
 * reach it over plain TCP and over TLS (a self-signed certificate made once, its fingerprint printed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'marquee-start-')); // 0700: the launcher must cope (root runs PostgreSQL as `postgres`)
let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startPlatform(ports: { http: number; device: number; deviceTls: number; pg: number }) {
  const proc = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: '',
      REDIS_URL: '',
      MARQUEE_DATA_DIR: dataDir,
      MARQUEE_HTTP_PORT: String(ports.http),
      MARQUEE_DEVICE_PORT: String(ports.device),
      MARQUEE_DEVICE_TLS_PORT: String(ports.deviceTls),
      MARQUEE_PG_PORT: String(ports.pg),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group, so stop() can signal the whole group as a terminal's Ctrl-C does.
    detached: true,
  });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const started = performance.now();
  const base = `http://127.0.0.1:${ports.http}`;
  while (performance.now() - started < 30_000) {
    if (proc.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    const ok = await fetch(`${base}/v2/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return { proc, base, output: () => output };
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(-proc.pid!, 'SIGKILL');
  throw new Error(`not healthy within 30 s:\n${output}`);
}

/** The fingerprint printed at start, and the one the TLS listener for displays actually serves. */
async function deviceTlsFingerprints(port: number, output: string): Promise<{ printed: string | undefined; served: string | undefined }> {
  const printed = /SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(output)?.[1];
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    return { printed, served: socket.getPeerX509Certificate()?.fingerprint256 };
  } finally {
    socket.destroy();
  }
}

/** Ctrl-C; resolves with how npm ended (npm re-raises SIGINT once the launcher has exited). */
function stop(proc: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve(code === 0 || signal === 'SIGINT' ? 'clean' : `code ${code} signal ${signal}`));
    process.kill(-proc.pid!, 'SIGINT');
  });
}

it('npm start brings the platform up within 30 s, routes /v1, /v2 and the console at /, stops cleanly and keeps users across a restart', async () => {
  const ports = { http: await freePort(), device: await freePort(), deviceTls: await freePort(), pg: await freePort() };
  const first = await startPlatform(ports); // throws unless healthy within 30 s
  child = first.proc;

  const username = `local${Date.now()}`;
  const signup = await fetch(`${first.base}/v2/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'kept-across-restarts', accountType: 'advertiser' }),
  });
  expect(signup.status).toBe(201);
  expect((await fetch(`${first.base}/v1/healthz`)).status).toBe(200);
  // /v2beta is not api-v2's: it falls through to the console (its app shows "page not found").
  const notV2 = await fetch(`${first.base}/v2beta/healthz`);
  expect(notV2.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(await notV2.text()).toContain('<title>Marquee console</title>');
  // The web console answers / (and any client route) with its app, whose assets load.
  for (const route of ['/', '/bookings']) {
    const page = await fetch(`${first.base}${route}`);
    expect(page.status, route).toBe(200);
    expect(page.headers.get('content-type'), route).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control'), route).toBe('no-cache');
    expect(page.headers.get('content-security-policy'), route).toContain("default-src 'self'");
    const html = await page.text();
    expect(html, route).toContain('<title>Marquee console</title>');
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, route).toBeTruthy();
    const asset = await fetch(`${first.base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  }
  expect(first.output()).toContain('Console');
  expect(first.output()).toContain('Marquee is running');
  // Displays over TLS: a self-signed certificate made into the data folder, its fingerprint printed.
  const firstTls = await deviceTlsFingerprints(ports.deviceTls, first.output());
  expect(firstTls.printed).toBeDefined();
  expect(firstTls.served).toBe(firstTls.printed);

  expect(await stop(first.proc)).toBe('clean');
  // Printed only after every service, the edge and the database have stopped.
  expect(first.output()).toContain('Marquee stopped.');

  const second = await startPlatform(ports);
  child = second.proc;
  const login = await fetch(`${second.base}/v2/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'kept-across-restarts' }),
  });
  expect(login.status).toBe(200);
  // Made once: a restart serves the same certificate, so pinned displays keep connecting.
  expect(await deviceTlsFingerprints(ports.deviceTls, second.output())).toEqual(firstTls);
  expect(await stop(second.proc)).toBe('clean');
  expect(second.output()).toContain('Marquee stopped.');
  child = undefined;
}, 120_000);
