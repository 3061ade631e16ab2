/**
 * The account service as production runs it: `src/main.ts` in its own process, configured by
 * environment (secrets through *_FILE), stopped by SIGTERM.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, generateSigningKeyPem, type ScratchDatabase } from '../../../test/support/infra.ts';

const main = path.resolve(import.meta.dirname, '../src/main.ts');
const secrets = mkdtempSync(path.join(tmpdir(), 'account-secrets-'));
let db: ScratchDatabase;

beforeAll(async () => {
  db = await createScratchDatabase('acctproc');
  writeFileSync(path.join(secrets, 'jwt.pem'), generateSigningKeyPem());
  writeFileSync(path.join(secrets, 'admin-password'), 'an-admin-passphrase\n');
});
afterAll(async () => {
  rmSync(secrets, { recursive: true, force: true });
  await db?.drop();
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=marquee-source', main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

it('refuses to start with a message naming each bad variable', async () => {
  const proc = run({ PORT: 'eighty', JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' });
  expect(await proc.exited).toBe(1);
  expect(proc.output()).toMatch(/PORT: invalid/);
  expect(proc.output()).toMatch(/DATABASE_URL: missing/);
  expect(proc.output()).toMatch(/JWT_PRIVATE_KEY_FILE: cannot read \/nonexistent\/key.pem/);
});

it('reads secrets from *_FILE, serves, and on SIGTERM finishes in-flight work and exits 0 within the grace period', async () => {
  const port = await freePort();
  const proc = run({
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    JWT_PRIVATE_KEY_FILE: path.join(secrets, 'jwt.pem'),
    ADMIN_USERNAME: 'first-admin',
    ADMIN_PASSWORD_FILE: path.join(secrets, 'admin-password'),
    SHUTDOWN_GRACE_MS: '3000',
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // A login the server has started on when SIGTERM arrives: it asks "Expect: 100-continue", so
  // the server's 100 Continue shows it has the request; the body follows the signal.
  const body = JSON.stringify({ username: 'first-admin', password: 'an-admin-passphrase' }); // the password came from the file
  const req = http.request(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const login = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  await new Promise((resolve) => req.once('continue', resolve));
  proc.child.kill('SIGTERM');
  req.end(body);
  expect(await login).toBe(200);
  // 0 only if every step finished within the grace period (after it the process exits 1).
  expect(await proc.exited).toBe(0);
  expect(proc.output()).toContain('shutdown complete');
  expect(proc.output()).not.toContain('grace period exceeded');
  // Logs are JSON lines with a request id.
  const requestLine = proc.output().split('\n').find((l) => l.includes('"msg":"request"'));
  expect(JSON.parse(requestLine!)).toMatchObject({ service: 'account', reqId: expect.any(String), status: 200 });
}, 60_000);
