/**
 * waitForDatabase() against a real PostgreSQL reached through a local TCP relay that the test
 * opens late (a database task still starting) or never (one that never comes).
 */
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';
import { MigrationError, createDatabase, waitForDatabase, type Sql } from '../src/index.ts';

let db: ScratchDatabase;
const pools: Sql[] = [];
const servers: net.Server[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('kitwaitdb');
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
  for (const s of servers) s.close();
  await db?.drop();
});

/** A free local port: bound, then released, so nothing listens there until the test says so. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Starts relaying `port` to the scratch database's PostgreSQL. */
async function relay(port: number): Promise<void> {
  const target = new URL(db.url);
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
}

function poolVia(port: number, database?: string): Sql {
  const url = new URL(db.url);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  if (database) url.pathname = `/${database}`;
  const sql = createDatabase({ url: url.toString(), applicationName: 'kit-wait-test', max: 1 });
  pools.push(sql);
  return sql;
}

function logLines() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) };
}

it('waits for a database that starts listening later, logging each refused attempt, then answers', async () => {
  const port = await freePort();
  const sql = poolVia(port);
  const { lines, logger } = logLines();
  setTimeout(() => void relay(port), 1_200);
  const { attempts } = await waitForDatabase(sql, { timeoutMs: 20_000, logger });
  expect(attempts).toBeGreaterThan(1);
  const retries = lines.filter((l) => l.msg === 'database not reachable yet; retrying');
  expect(retries.length).toBe(attempts - 1);
  expect(retries[0]).toMatchObject({ code: 'ECONNREFUSED', attempt: 1 });
  expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
});

it('gives up after its timeout with a message naming the last error', async () => {
  const sql = poolVia(await freePort());
  const started = Date.now();
  const err = await waitForDatabase(sql, { timeoutMs: 800 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MigrationError);
  expect((err as Error).message).toMatch(/did not answer within 800 ms \(last error: ECONNREFUSED/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(800);
});

it('does not retry what waiting cannot fix: a database that does not exist fails at once', async () => {
  const port = await freePort();
  await relay(port);
  const sql = poolVia(port, `${db.name}_missing`);
  const { lines, logger } = logLines();
  const err = await waitForDatabase(sql, { timeoutMs: 20_000, logger }).catch((e: unknown) => e);
  expect((err as { code?: string }).code).toBe('3D000');
  expect(lines.filter((l) => l.msg === 'database not reachable yet; retrying')).toEqual([]);
});
