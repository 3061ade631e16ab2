/**
 * api-v2's own migrations as its processes apply them at start: two instances on one empty
 * database, and an instance whose migration fails.
 */
import { readdirSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, afterEach, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '@marquee/service-kit';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';
import { listeningUrls, startServiceProcess, type ServiceProcess } from '../../../test/support/processes.ts';
import { API_V2_MIGRATIONS } from '../src/server.ts';

const dbs: ScratchDatabase[] = [];
const running: ServiceProcess[] = [];
afterEach(async () => {
  for (const proc of running.splice(0)) await proc.kill();
});
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

async function scratch() {
  const db = await createScratchDatabase('v2migrate');
  dbs.push(db);
  return db;
}

function startApiV2(databaseUrl: string) {
  const proc = startServiceProcess('api-v2', {
    HOST: '127.0.0.1',
    PORT: '0',
    INTERNAL_PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    // Never called: nothing here needs a token.
    ACCOUNT_URL: 'http://127.0.0.1:9',
  });
  running.push(proc);
  return proc;
}

/**
 * Waits until both instances wait for the migration lock the test holds; fails at once if one
 * goes ahead without it (applies a migration or exits).
 */
async function bothWaiting(sql: postgres.Sql, instances: ServiceProcess[]) {
  for (let i = 0; i < 3000; i++) {
    const [row] = await sql`
      select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and not l.granted and a.application_name = 'api-v2' and a.datname = current_database()`;
    if (row!.n === 2) return;
    const early = instances.find((p) => p.exitedAt() !== undefined || p.logs().some((l) => l.msg === 'migration applied'));
    if (early) throw new Error(`an instance went ahead while the test held the migration lock:\n${early.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the two instances never both waited for the migration lock');
}

const files = readdirSync(API_V2_MIGRATIONS).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();

it('two instances started on one empty database apply each migration once, and both serve', async () => {
  const db = await scratch();
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  try {
    // The test holds the migration lock until both instances wait for it, so they start migrating
    // at the same moment rather than one after the other by luck of process start-up.
    const holder = await sql.reserve();
    await holder`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    const instances = [startApiV2(db.serviceUrl('api-v2')), startApiV2(db.serviceUrl('api-v2'))];
    try {
      await bothWaiting(sql, instances);
    } finally {
      await holder`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      holder.release();
    }

    const urls = await Promise.all(instances.map((p) => listeningUrls(p)));
    for (const { url } of urls) expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const rows = await sql<{ name: string; n: number }[]>`
      select name, count(*)::int as n from api_v2.schema_migrations where service = 'api-v2' group by name order by name`;
    expect(rows).toEqual(files.map((name) => ({ name, n: 1 })));
    // Each file was run by exactly one instance: one applied them all, the other none.
    const appliedBy = instances.map((p) => p.logs().filter((l) => l.msg === 'migration applied').map((l) => l.migration as string));
    expect(appliedBy.map((a) => a.length).sort()).toEqual([0, files.length]);
    expect(appliedBy.flat().sort()).toEqual(files);
  } finally {
    await sql.end();
  }
}, 120_000);

it('refuses to start when a migration fails, naming the file, and keeps nothing of it', async () => {
  const db = await scratch();
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    // A table in the way of one created late in 001_domain.sql: the migration fails part-way.
    await sql`create table api_v2.plays (anything int)`;
    const proc = startApiV2(db.serviceUrl('api-v2'));
    // Starting to listen instead of exiting is the failure this test is about: say so at once.
    const listening = listeningUrls(proc).then(
      () => 'listening',
      () => 'exited',
    );
    expect(await Promise.race([proc.exited, listening])).toBe(1);
    expect(proc.output()).toContain('api-v2 cannot start: Migration 001_domain.sql of api-v2 failed, and nothing of it was applied: relation "plays" already exists');
    // The tables 001_domain.sql had created before it failed are gone with it.
    const [made] = await sql`select to_regclass('api_v2.displays') as displays, to_regclass('api_v2.bookings') as bookings`;
    expect(made).toEqual({ displays: null, bookings: null });
    expect(await sql`select version from api_v2.schema_migrations where service = 'api-v2'`).toEqual([]);
  } finally {
    await sql.end();
  }
}, 120_000);
