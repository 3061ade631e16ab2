/**
 * The account service as production runs it: `src/main.ts` in its own process, configured by
 * environment (secrets through *_FILE), stopped by SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { listeningUrls, startServiceProcess, waitUntilRefused, type ServiceProcess } from '../../../test/support/processes.ts';
import { createScratchDatabase, generateSigningKeyPem, serviceCredentialHeader, type ScratchDatabase } from '../../../test/support/infra.ts';

const secrets = mkdtempSync(path.join(tmpdir(), 'account-secrets-'));
let db: ScratchDatabase;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('acctproc');
  writeFileSync(path.join(secrets, 'jwt.pem'), generateSigningKeyPem());
  writeFileSync(path.join(secrets, 'admin-password'), 'an-admin-passphrase\n');
});
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.kill();
});
afterAll(async () => {
  rmSync(secrets, { recursive: true, force: true });
  await db?.drop();
});

function run(env: Record<string, string>) {
  const proc = startServiceProcess('account', env);
  running.push(proc);
  return proc;
}

it('refuses to start with a message naming each bad variable', async () => {
  const proc = run({ PORT: 'eighty', JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' });
  expect(await proc.exited).toBe(1);
  expect(proc.output()).toMatch(/PORT: invalid/);
  expect(proc.output()).toMatch(/DATABASE_URL: missing/);
  expect(proc.output()).toMatch(/JWT_PRIVATE_KEY_FILE: cannot read \/nonexistent\/key.pem/);
});

it('reads secrets from *_FILE, serves, and on SIGTERM stops accepting, finishes the login it is working on and exits 0', async () => {
  const proc = run({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    JWT_PRIVATE_KEY_FILE: path.join(secrets, 'jwt.pem'),
    ADMIN_USERNAME: 'first-admin',
    ADMIN_PASSWORD_FILE: path.join(secrets, 'admin-password'),
    SHUTDOWN_GRACE_MS: '20000',
  });
  const { url } = await listeningUrls(proc);
  // The test holds refresh_tokens locked, so a login (password checked, then its refresh token
  // stored) blocks inside its handler until the test lets go — after SIGTERM.
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    const gate = await sql.reserve();
    await gate`begin`;
    await gate`lock table refresh_tokens in exclusive mode`;
    const login = fetch(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...serviceCredentialHeader('api-v2') },
      body: JSON.stringify({ username: 'first-admin', password: 'an-admin-passphrase' }), // the password came from the file
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
    await waitForLockWaiter(gate, 'account', 'refresh_tokens');

    proc.child.kill('SIGTERM');
    await waitUntilRefused(url);
    await gate`commit`;
    gate.release();

    expect(await login).toMatchObject({ status: 200, body: { tokenType: 'Bearer', user: { username: 'first-admin', role: 'admin' } } });
  } finally {
    await sql.end();
  }
  // 0 only if every step finished within the grace period (after it the process exits 1).
  expect(await proc.exited).toBe(0);
  expect(proc.output()).toContain('shutdown complete');
  expect(proc.output()).not.toContain('grace period exceeded');
  // Logs are JSON lines with a request id.
  const requestLine = proc.logs().find((l) => l.msg === 'request');
  expect(requestLine).toMatchObject({ service: 'account', reqId: expect.any(String), status: 200 });
}, 90_000);

/** Waits until a backend of `application` waits for a lock on `table` (a request blocked on the test's lock). */
async function waitForLockWaiter(sql: postgres.Sql | postgres.ReservedSql, application: string, table: string) {
  for (let i = 0; i < 1500; i++) {
    const [row] = await sql`
      select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid join pg_class c on c.oid = l.relation
      where not l.granted and a.application_name = ${application} and c.relname = ${table}`;
    if (row!.n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${application} backend ever waited for ${table}`);
}
