/**
 * A database that goes away under a running service: its requests answer 503 problem+json with
 * Retry-After (never 500), /readyz says not ready, /healthz (liveness, once ready) stays 200, and
 * everything recovers when the database is back. The service's pool reaches a real PostgreSQL
 * through a local TCP relay the test closes, and its backends are ended with pg_terminate_backend.
 */
import net from 'node:net';
import { Hono } from 'hono';
import postgres from 'postgres';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';
import { until } from '../../../test/support/until.ts';
import { createDatabase, createMetrics, createServiceApp, problemFor, type ServiceEnv, type Sql } from '../src/index.ts';

const APPLICATION = 'kit-db-away-test';

let db: ScratchDatabase;
let admin: Sql;
let sql: Sql;
let relay: { port: number; open(): Promise<void>; close(): Promise<void> };
let app: Hono<ServiceEnv>;

/** Relays a local port to the scratch database's PostgreSQL; close() stops listening and cuts every relayed connection. */
async function startRelay(): Promise<typeof relay> {
  const target = new URL(db.url);
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const open = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  };
  await open();
  return {
    get port() {
      return port;
    },
    open,
    async close() {
      const closed = new Promise((r) => server!.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

beforeAll(async () => {
  db = await createScratchDatabase('kitdbaway');
  admin = postgres(db.url, { max: 1, onnotice: () => {} });
  relay = await startRelay();
  const url = new URL(db.url);
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  sql = createDatabase({ url: url.toString(), applicationName: APPLICATION, max: 2 });
  app = createServiceApp({ service: 'kit-db-away', logger: pino({ level: 'silent' }), metrics: createMetrics('kit_db_away'), readiness: { postgres: () => sql`select 1` } }, new Hono<ServiceEnv>());
  app.get('/now', async (c) => c.json((await sql<{ now: Date }[]>`select now()`)[0]));
  app.get('/slow', async (c) => c.json(await sql`select pg_sleep(30)`));
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await relay?.close().catch(() => {});
  await admin?.end();
  await db?.drop();
});

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const problem = (await res.json()) as { type: string; status: number };
  expect(problem).toMatchObject({ type: 'https://marquee.dev/problems/service-unavailable', status: 503 });
}

/** Resolves once the slow query runs on a backend of this pool, with that backend's pid. */
function slowQueryBackend(): Promise<number> {
  return until('the slow query to run', async () => {
    const [row] = await admin<{ pid: number }[]>`
      select pid from pg_stat_activity where application_name = ${APPLICATION} and query like '%pg_sleep%' and state = 'active'`;
    return row?.pid;
  });
}

it('answers 200 while the database is there; /readyz and /healthz too', async () => {
  expect((await app.request('/now')).status).toBe(200);
  expect((await app.request('/readyz')).status).toBe(200);
  expect((await app.request('/healthz')).status).toBe(200);
});

it('answers 503 with Retry-After when its backend is terminated mid-query (57P01 admin_shutdown)', async () => {
  const pending = app.request('/slow');
  const pid = await slowQueryBackend();
  await admin`select pg_terminate_backend(${pid})`;
  await expectUnavailable(await pending);
  // The pool opens a new connection for the next query.
  expect((await app.request('/now')).status).toBe(200);
});

it('answers 503 while the database is unreachable (connection cut, then refused); /readyz not ready, /healthz live; recovers when it is back', async () => {
  const pending = app.request('/slow');
  await slowQueryBackend();
  await relay.close();
  await expectUnavailable(await pending);
  for (let i = 0; i < 3; i++) await expectUnavailable(await app.request('/now'));
  const ready = await app.request('/readyz');
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: Record<string, string> }).checks.postgres).not.toBe('ok');
  // Liveness: the service answers; a container health check must not kill it for its database.
  expect((await app.request('/healthz')).status).toBe(200);

  await relay.open();
  await until('the service to answer again', async () => (await app.request('/now')).status === 200, 30_000);
  expect((await app.request('/readyz')).status).toBe(200);
});

it('maps the other "database away" failures alike: too many clients, starting up, a connect timeout, a wrapped one', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  for (const err of [withCode('53300', 'sorry, too many clients already'), withCode('57P03', 'the database system is starting up'), withCode('CONNECT_TIMEOUT'), new Error('query failed', { cause: withCode('ECONNRESET') })]) {
    const { problem, headers } = problemFor(err);
    expect(problem.status).toBe(503);
    expect(headers['retry-after']).toBeDefined();
  }
  expect(problemFor(withCode('23505', 'duplicate key')).problem.status).toBe(500);
});

it('is not ready, and not live, until it has been ready once: a release that never gets ready fails its health check', async () => {
  const fresh = createServiceApp({ service: 'kit-never-ready', logger: pino({ level: 'silent' }), metrics: createMetrics('kit_never_ready'), readiness: { bus: () => Promise.reject(new Error('bus unreachable')) } }, new Hono<ServiceEnv>());
  const health = await fresh.request('/healthz');
  expect(health.status).toBe(503);
  expect(await health.json()).toMatchObject({ status: 'starting', checks: { bus: 'bus unreachable' } });
  expect((await fresh.request('/readyz')).status).toBe(503);
});
