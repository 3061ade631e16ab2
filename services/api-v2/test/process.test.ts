/**
 * api-v2 as production runs it (`src/main.ts` in its own process, the account service beside it)
 * stopped by SIGTERM while an upload chunk is provably in flight: the server holds the upload's
 * row lock while it reads a body the test is still sending.
 */
import http from 'node:http';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RunningAccount } from '@marquee/account';
import { api } from '../../../test/support/http.ts';
import { createScratchDatabase, deleteRedisKeys, redisKeyPrefix, serviceCredentialHeader, type ScratchDatabase } from '../../../test/support/infra.ts';
import { startTestAccount } from '../../../test/support/platform.ts';
import { listeningUrls, startServiceProcess, waitUntilRefused, type ServiceProcess } from '../../../test/support/processes.ts';

const CHUNK = 64 * 1024;
let db: ScratchDatabase;
let sql: postgres.Sql;
let keyPrefix: string;
let account: RunningAccount;
let auth: { authorization: string };
const running: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('v2proc');
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  keyPrefix = redisKeyPrefix('v2proc');
  account = await startTestAccount({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: keyPrefix, ADMIN_USERNAME: 'proc-admin', ADMIN_PASSWORD: 'a-long-admin-passphrase' });
  const login = await api(account.url, 'POST', '/login', { username: 'proc-admin', password: 'a-long-admin-passphrase' }, serviceCredentialHeader('api-v2'));
  expect(login.status).toBe(200);
  auth = { authorization: `Bearer ${login.body.accessToken}` };
});
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.kill();
});
afterAll(async () => {
  await account?.close();
  await sql?.end();
  await db?.drop();
  await deleteRedisKeys(keyPrefix);
});

async function startApiV2Process(graceMs: number) {
  const proc = startServiceProcess('api-v2', {
    HOST: '127.0.0.1',
    PORT: '0',
    INTERNAL_PORT: '0',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: String(graceMs),
    DATABASE_URL: db.url,
    ACCOUNT_URL: account.url,
  });
  running.push(proc);
  const urls = await listeningUrls(proc);
  return { proc, url: urls.url, internalUrl: urls.internalUrl! };
}

/**
 * Opens an upload of CHUNK bytes and starts its one chunk, sending only the first half; resolves
 * once the server holds the upload's row lock, i.e. its handler is reading this body.
 */
async function startHalfSentChunk(url: string) {
  const created = await api(url, 'POST', '/uploads', { contentType: 'image/png', totalBytes: CHUNK }, auth);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const body = Buffer.alloc(CHUNK, 7);
  const target = new URL(`${url}/uploads/${id}`);
  const req = http.request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'PUT',
    agent: false,
    headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(CHUNK), 'content-range': `bytes 0-${CHUNK - 1}/${CHUNK}` },
  });
  const outcome = new Promise<{ status: number; body: any } | { error: string }>((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
  await new Promise<void>((resolve) => req.write(body.subarray(0, CHUNK / 2), () => resolve()));
  await uploadLocked();
  // The API agrees: another request on this upload is refused while ours is being received.
  const probe = await fetch(`${url}/uploads/${id}`, {
    method: 'PUT',
    headers: { ...auth, 'content-range': `bytes 0-0/${CHUNK}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from([7]),
  });
  expect(probe.status).toBe(409);
  expect(((await probe.json()) as { code: string }).code).toBe('upload-busy');
  return { id, outcome, finish: () => req.end(body.subarray(CHUNK / 2)) };
}

/**
 * Waits until a transaction of api-v2 holds a row lock on uploads (SELECT … FOR UPDATE takes a
 * ROW SHARE lock on the table): only a chunk's handler, which is reading the body, does that.
 */
async function uploadLocked() {
  for (let i = 0; i < 1500; i++) {
    const [row] = await sql`
      select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation
      where l.database = (select oid from pg_database where datname = current_database())
        and c.relname = 'uploads' and l.mode = 'RowShareLock' and l.granted and l.pid <> pg_backend_pid()`;
    if (row!.n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no chunk handler ever locked the upload');
}

const receivedBytes = async (id: string) => Number((await sql`select received_bytes from uploads where id = ${id}`)[0]!.received_bytes);

it('on SIGTERM stops accepting on both ports, finishes the chunk still being sent and exits 0', async () => {
  const { proc, url, internalUrl } = await startApiV2Process(20_000);
  const chunk = await startHalfSentChunk(url);

  proc.child.kill('SIGTERM');
  await waitUntilRefused(url);
  await waitUntilRefused(internalUrl);
  chunk.finish();

  expect(await chunk.outcome).toMatchObject({ status: 200, body: { id: chunk.id, received: CHUNK } });
  expect(await proc.exited).toBe(0);
  expect(proc.logs().map((l) => l.msg)).toContain('shutdown complete');
  expect(await receivedBytes(chunk.id)).toBe(CHUNK);
}, 120_000);

it('a chunk outliving SHUTDOWN_GRACE_MS is cut when it ends, leaves nothing behind, and the process exits 1, saying so', async () => {
  const graceMs = 1_500;
  const { proc, url } = await startApiV2Process(graceMs);
  const chunk = await startHalfSentChunk(url);

  const signalledAt = performance.now();
  proc.child.kill('SIGTERM');
  await waitUntilRefused(url);

  expect(await proc.exited).toBe(1);
  // It waited out the grace period (the one bound asserted here; the upper side has wide slack).
  const waited = proc.exitedAt()! - signalledAt;
  expect(waited).toBeGreaterThanOrEqual(graceMs);
  expect(waited).toBeLessThan(graceMs + 30_000);
  expect(await chunk.outcome).toMatchObject({ error: expect.any(String) });
  // The server itself cut the request at the configured grace period and the shutdown went on to
  // its end, rather than the last-resort deadline (graceMs + 1 s) ending a drain that never did.
  const cut = proc.logs().find((l) => l.msg === 'shutdown grace period exceeded; requests still running were cut');
  expect(cut).toMatchObject({ level: 50, graceMs, connectionsCut: expect.any(Number) });
  expect(cut!.connectionsCut).toBeGreaterThanOrEqual(1);
  expect(proc.logs().map((l) => l.msg)).not.toContain('shutdown complete');
  // The cut chunk's transaction rolled back: the upload is where it was, and unlocked.
  expect(await receivedBytes(chunk.id)).toBe(0);
  expect((await sql`select id from uploads where id = ${chunk.id} for update nowait`).length).toBe(1);
}, 120_000);
