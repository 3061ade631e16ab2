/**
 * The one-command local platform, as a user runs it: `npm start` with no DATABASE_URL (embedded
 * PostgreSQL) and no REDIS_URL (in-process bus), on free ports and a fresh data folder; displays
 * reach it over plain TCP and over TLS (a self-signed certificate made once, its fingerprint printed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, expect, it } from 'vitest';
import { waitUntilRefused } from '../support/processes.ts';
import { alive, descendants, freePort, npmRun, type NpmProcess } from '../support/npm-run.ts';

const dataDirs: string[] = [];
const running = new Set<NpmProcess>();

afterAll(() => {
  for (const npm of running) npm.killGroup();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh data folder; 0700 (mkdtemp): the launcher must cope (root runs PostgreSQL as `postgres`). */
function newDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'marquee-start-'));
  dataDirs.push(dir);
  return dir;
}

async function startPlatform(dataDir: string, ports: { http: number; device: number; deviceTls: number; pg: number }, healthyWithinMs = 30_000) {
  const npm = npmRun(['start'], {
    DATABASE_URL: '',
    REDIS_URL: '',
    MARQUEE_DATA_DIR: dataDir,
    MARQUEE_HTTP_PORT: String(ports.http),
    MARQUEE_DEVICE_PORT: String(ports.device),
    MARQUEE_DEVICE_TLS_PORT: String(ports.deviceTls),
    MARQUEE_PG_PORT: String(ports.pg),
  });
  running.add(npm);
  const started = performance.now();
  const base = `http://127.0.0.1:${ports.http}`;
  while (performance.now() - started < healthyWithinMs) {
    if (npm.proc.exitCode !== null) throw new Error(`npm start exited early:\n${npm.output()}`);
    const ok = await fetch(`${base}/v2/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return { proc: npm.proc, npm, base, output: npm.output };
    await new Promise((r) => setTimeout(r, 100));
  }
  npm.killGroup();
  throw new Error(`not healthy within ${healthyWithinMs / 1000} s:\n${npm.output()}`);
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

/** Ctrl-C in a terminal (SIGINT to the whole group); resolves with how npm ended (npm re-raises SIGINT once the launcher has exited). */
async function stop(npm: NpmProcess): Promise<string> {
  process.kill(-npm.proc.pid!, 'SIGINT');
  const { code, signal } = await npm.exited;
  running.delete(npm);
  return code === 0 || signal === 'SIGINT' ? 'clean' : `code ${code} signal ${signal}`;
}

it('npm start brings the platform up within 30 s, routes /v1, /v2 and the console at /, stops cleanly and keeps users across a restart', async () => {
  const dataDir = newDataDir();
  const ports = { http: await freePort(), device: await freePort(), deviceTls: await freePort(), pg: await freePort() };
  const first = await startPlatform(dataDir, ports); // throws unless healthy within 30 s

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

  expect(await stop(first.npm)).toBe('clean');
  // Printed only after every service, the edge and the database have stopped.
  expect(first.output()).toContain('Marquee stopped.');

  const second = await startPlatform(dataDir, ports);
  const login = await fetch(`${second.base}/v2/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'kept-across-restarts' }),
  });
  expect(login.status).toBe(200);
  // Made once: a restart serves the same certificate, so pinned displays keep connecting.
  expect(await deviceTlsFingerprints(ports.deviceTls, second.output())).toEqual(firstTls);
  expect(await stop(second.npm)).toBe('clean');
  expect(second.output()).toContain('Marquee stopped.');
}, 120_000);

it('SIGINT to npm\'s own process (npm start in the background) stops the launcher and everything it started, freeing its ports', async () => {
  // In the background (`npm start &`, a supervisor, a test) only npm gets the signal, not its
  // process group. npm forwards it to its child; the script must make that child the launcher
  // itself: a shell (sh -c) in between holds SIGINT until its own child exits, which it never does.
  const ports = { http: await freePort(), device: await freePort(), deviceTls: await freePort(), pg: await freePort() };
  const platform = await startPlatform(newDataDir(), ports, 90_000); // no start-up target here: a generous deadline
  const tree = descendants(platform.proc.pid!);
  expect(tree.length).toBeGreaterThan(0);
  const signalledAt = performance.now();
  process.kill(platform.proc.pid!, 'SIGINT');
  const ended = await Promise.race([platform.npm.exited, new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
  expect(ended, `npm start still running 60 s after SIGINT to npm:\n${platform.output()}`).not.toBeNull();
  const { code, signal } = ended!;
  running.delete(platform.npm);
  expect(code === 0 || signal === 'SIGINT', `npm ended with code ${code} signal ${signal}:\n${platform.output()}`).toBe(true);
  expect(platform.output()).toContain('Marquee stopped.');
  // Every process npm started (the launcher, embedded PostgreSQL, esbuild's service) is gone …
  const deadline = performance.now() + 20_000;
  while (tree.some(alive) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(tree.filter(alive), 'processes left running').toEqual([]);
  // … and so are its listeners.
  for (const port of [ports.http, ports.device, ports.deviceTls, ports.pg]) await waitUntilRefused(`http://127.0.0.1:${port}`, 5_000);
  console.log(`npm start stopped ${((performance.now() - signalledAt) / 1000).toFixed(1)} s after SIGINT to npm (${tree.length} processes)`);
}, 120_000);
