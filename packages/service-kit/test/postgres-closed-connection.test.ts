/**
 * postgres.js 3.4.9 crashed the process (TypeError in connection.js nextWrite) when a query went
 * to a reserved connection whose socket had closed — the ROLLBACK sql.begin() sends after its
 * backend was terminated, as in a database restart. scripts/patch-deps.mjs makes those queries
 * fail with CONNECTION_CLOSED instead; without it this test ends in an uncaught exception.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';
import { until } from '../../../test/support/until.ts';

let db: ScratchDatabase;
let admin: postgres.Sql;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createScratchDatabase('kitclosedconn');
  admin = postgres(db.url, { max: 1, onnotice: () => {} });
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await admin?.end({ timeout: 1 });
  await db?.drop();
});

it('a reserved connection whose backend was terminated fails its next queries instead of crashing the process; the pool goes on', async () => {
  const conn = await sql.reserve();
  const [{ pid }] = (await conn`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  const running = conn`select pg_sleep(30)`.then(
    () => null,
    (err: Error) => err,
  );
  await until('the query running', async () => (await admin`select 1 from pg_stat_activity where pid = ${pid} and state = 'active'`).length > 0);
  await admin`select pg_terminate_backend(${pid})`;
  expect(await running).toBeInstanceOf(Error);
  // What sql.begin() does next: a ROLLBACK on the same, now closed, connection.
  await expect(conn`rollback`).rejects.toThrow();
  await expect(conn`select 1`).rejects.toThrow();
  conn.release();
  // Released, the dead connection is not handed out again: every connection of the pool answers.
  expect(await Promise.all([sql`select 1 as one`, sql`select 2 as one`])).toEqual([[{ one: 1 }], [{ one: 2 }]]);
});

it('a transaction whose backend is terminated rejects (its ROLLBACK has nowhere to go) and the pool goes on', async () => {
  let pid = 0;
  const transaction = sql
    .begin(async (tx) => {
      [{ pid }] = (await tx`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      await tx`select pg_sleep(30)`;
    })
    .then(
      () => null,
      (err: Error) => err,
    );
  await until('the transaction running', async () => pid > 0 && (await admin`select 1 from pg_stat_activity where pid = ${pid} and state = 'active'`).length > 0);
  await admin`select pg_terminate_backend(${pid})`;
  expect(await transaction).toBeInstanceOf(Error);
  expect(await Promise.all([sql`select 1 as one`, sql`select 2 as one`])).toEqual([[{ one: 1 }], [{ one: 2 }]]);
});
