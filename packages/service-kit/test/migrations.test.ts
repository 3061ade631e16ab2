/**
 * The kit's migrate() against a real PostgreSQL, with migration directories made here: racing
 * replicas, a migration that fails half-way, and two files claiming one version.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';
import { MigrationError, createDatabase, migrate, type Sql } from '../src/index.ts';

let db: ScratchDatabase;
let admin: postgres.Sql;
const pools: Sql[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('kitmigrate');
  admin = postgres(db.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await admin?.end();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A pool of its own, as each replica of a service has; `settings` are its connections' PostgreSQL settings. */
function replica(settings: Record<string, string> = {}): Sql {
  const url = new URL(db.url);
  for (const [name, value] of Object.entries(settings)) url.searchParams.set(name, value);
  const sql = createDatabase({ url: url.href, applicationName: 'kit-migrate-test', max: 2 });
  pools.push(sql);
  return sql;
}

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const tableExists = async (name: string) => (await admin`select to_regclass(${name}) is not null as e`)[0]!.e as boolean;
const appliedVersions = async (service: string) =>
  (await tableExists('schema_migrations'))
    ? (await admin<{ version: number }[]>`select version from schema_migrations where service = ${service} order by version`).map((r) => r.version)
    : [];

it('two replicas migrating one database at once apply each migration exactly once', async () => {
  // Sequences count every time a migration's text runs, even in a transaction rolled back later.
  await admin`create sequence race_runs_1`;
  await admin`create sequence race_runs_2`;
  await admin`create table race_gate (x int)`;
  const dir = migrationsDir({
    '001_gated.sql': `select nextval('race_runs_1'); lock table race_gate in share mode; create table race_one (id int);`,
    '002_second.sql': `select nextval('race_runs_2'); create table race_two (id int);`,
  });
  // The test holds the gate, so whichever replica gets into 001 first stays inside it.
  const gate = await admin.reserve();
  try {
    await gate`begin`;
    await gate`lock table race_gate in exclusive mode`;
    const runs = [migrate(replica(), 'race', dir), migrate(replica(), 'race', dir)];
    // Both replicas are waiting: one inside 001 on the gate, the other for the migration lock.
    for (let i = 0; ; i++) {
      const [row] = await admin`
        select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where not l.granted and a.application_name = 'kit-migrate-test' and a.datname = current_database()`;
      if (row!.n >= 2) break;
      if (i > 1500) throw new Error('the two replicas never both waited');
      await new Promise((r) => setTimeout(r, 20));
    }
    await gate`commit`;
    const results = await Promise.all(runs);
    expect(results.map((r) => r.applied).sort()).toEqual([[], ['001_gated.sql', '002_second.sql']]);
  } finally {
    gate.release();
  }
  expect(await appliedVersions('race')).toEqual([1, 2]);
  const [one] = await admin`select last_value, is_called from race_runs_1`;
  const [two] = await admin`select last_value, is_called from race_runs_2`;
  expect([one, two]).toEqual([
    { last_value: '1', is_called: true },
    { last_value: '1', is_called: true },
  ]);
});

it('a migration that fails leaves nothing of itself, stops the later ones and names its file', async () => {
  const good = `create table broken_kept (id int);`;
  const failing = `create table broken_half (id int); insert into broken_kept values (1); select 1 / 0;`;
  const later = `create table broken_later (id int);`;
  const dir = migrationsDir({ '001_kept.sql': good, '002_fails.sql': failing, '003_later.sql': later });
  const sql = replica();

  const error = await migrate(sql, 'broken', dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as Error).message).toMatch(/^Migration 002_fails\.sql of broken failed, and nothing of it was applied: division by zero$/);

  expect(await appliedVersions('broken')).toEqual([1]);
  expect(await tableExists('broken_kept')).toBe(true);
  expect((await admin`select count(*)::int as n from broken_kept`)[0]!.n).toBe(0); // its insert was rolled back
  expect(await tableExists('broken_half')).toBe(false); // and so was its DDL
  expect(await tableExists('broken_later')).toBe(false);
  // The migration lock was let go and the pool is usable: with the file fixed, the rest applies.
  expect((await admin`select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`)[0]!.n).toBe(0);
  writeFileSync(path.join(dir, '002_fails.sql'), `create table broken_half (id int);`);
  expect((await migrate(sql, 'broken', dir)).applied).toEqual(['002_fails.sql', '003_later.sql']);
  expect(await appliedVersions('broken')).toEqual([1, 2, 3]);
});

it('a file that ran but could not be recorded keeps nothing of itself, and the next start applies it', async () => {
  const dir = migrationsDir({ '001_unrecorded.sql': `create table unrecorded (id int); insert into unrecorded values (1);` });
  await migrate(replica(), 'unrecorded', migrationsDir({})); // makes schema_migrations
  // The test holds schema_migrations until the replica gives up recording the file it has run (its
  // connection's lock_timeout): the file's text and its row must stand or fall together.
  const gate = await admin.reserve();
  try {
    await gate`begin`;
    await gate`lock table schema_migrations in exclusive mode`;
    const error = await migrate(replica({ lock_timeout: '200ms' }), 'unrecorded', dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/^Migration 001_unrecorded\.sql of unrecorded failed, and nothing of it was applied: canceling statement due to lock timeout$/);
  } finally {
    await gate`commit`;
    gate.release();
  }
  expect(await tableExists('unrecorded')).toBe(false);
  expect(await appliedVersions('unrecorded')).toEqual([]);
  expect((await migrate(replica(), 'unrecorded', dir)).applied).toEqual(['001_unrecorded.sql']);
  expect((await admin`select count(*)::int as n from unrecorded`)[0]!.n).toBe(1);
});

it('refuses two files with one version number, naming both, before applying anything', async () => {
  const dir = migrationsDir({
    '001_first.sql': `create table dup_first (id int);`,
    '002_mine.sql': `create table dup_mine (id int);`,
    '0002_yours.sql': `create table dup_yours (id int);`,
  });
  const error = await migrate(replica(), 'dup', dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as Error).message).toMatch(/^Migrations (002_mine\.sql and 0002_yours\.sql|0002_yours\.sql and 002_mine\.sql) in .+ share version 2; give each file a version of its own\.$/);
  expect(await appliedVersions('dup')).toEqual([]);
  expect(await tableExists('dup_first')).toBe(false);
});

it("keeps a service's tables and migrations table in its schema, made on first start when the role may create it", async () => {
  const sql = createDatabase({ url: db.url, applicationName: 'kit-migrate-test', schema: 'kit_own_schema', max: 1 });
  pools.push(sql);
  const dir = migrationsDir({ '001_thing.sql': 'create table thing (id int);' });
  expect((await migrate(sql, 'own', dir)).applied).toEqual(['001_thing.sql']);
  const tables = await admin<{ table: string }[]>`select tablename as table from pg_tables where schemaname = 'kit_own_schema' order by 1`;
  expect(tables.map((t) => t.table)).toEqual(['schema_migrations', 'thing']);
  // A second start finds the schema and applies nothing.
  expect(await migrate(sql, 'own', dir)).toEqual({ applied: [], alreadyApplied: 1 });
});
