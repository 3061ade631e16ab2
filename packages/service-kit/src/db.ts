import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import postgres, { type Sql, type TransactionSql } from 'postgres';
import type { Logger } from 'pino';
import { DATABASE_UNAVAILABLE_CODES } from './errors.ts';

export type { Sql, TransactionSql } from 'postgres';

/**
 * Whatever a query runs on: the pool or a transaction handle from `sql.begin` / `savepoint`.
 * postgres.js types the transaction handle apart (it has no begin/end/reserve, which a query
 * helper never needs), so every helper that may run inside a transaction takes a `Queryable`,
 * and neither side casts.
 */
export type Queryable = Sql | TransactionSql;

export interface DatabaseOptions {
  url: string;
  /** Overrides the URL's password (from DATABASE_PASSWORD_FILE). */
  password?: string;
  max?: number;
  applicationName: string;
  /**
   * The service's own schema (its tables and its migrations table live there): every connection
   * starts with `search_path` set to it alone, so unqualified names never reach another service's
   * tables. Unset: the server's default search_path (tests of the kit itself).
   */
  schema?: string;
}

export function createDatabase(opts: DatabaseOptions): Sql {
  return postgres(opts.url, {
    max: opts.max ?? 10,
    ...(opts.password ? { password: opts.password } : {}),
    idle_timeout: 60,
    // A request that meets the database away waits at most this long for a connection before it
    // is answered 503: while a restarting database's name does not resolve, a lookup can hang for
    // seconds, and a client (or the edge) gives up at 10 s.
    connect_timeout: 5,
    connection: { application_name: opts.applicationName, ...(opts.schema ? { search_path: opts.schema } : {}) },
    onnotice: () => {},
  });
}

/**
 * Waits until the database answers, retrying the failures that mean it is not there yet (DATABASE_UNAVAILABLE_CODES) with a
 * capped backoff for up to `timeoutMs`: a service started beside its database (a first deploy, a
 * database restart during a rolling update) waits for it instead of exiting 1, which an
 * orchestrator would count as a failed task (and a failed update, rolled back). Anything else
 * (a wrong password, a missing database) fails at once.
 */
export async function waitForDatabase(sql: Sql, opts: { timeoutMs?: number; logger?: Logger } = {}): Promise<{ attempts: number }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`select 1`;
      if (attempt > 1) opts.logger?.info({ attempts: attempt }, 'database reachable');
      return { attempts: attempt };
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      if (!DATABASE_UNAVAILABLE_CODES.has(code)) throw err;
      if (Date.now() >= deadline) throw new MigrationError(`The database did not answer within ${opts.timeoutMs ?? 60_000} ms (last error: ${code} ${(err as Error).message}).`, { cause: err });
      opts.logger?.warn({ code, attempt }, 'database not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** Math.min(attempt - 1, 3), 2_000, Math.max(0, deadline - Date.now()))));
    }
  }
}

/**
 * Same key for every service: replicas of one service must not race, and holding it while a
 * missing schema is created keeps two services on one superuser (tests) from racing either.
 */
export const MIGRATION_LOCK_KEY = 0x6d61727175; // "marqu"

/** The migrations cannot be applied: a service that gets this must not start. Its message says why. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

const MIGRATION_FILE = /^(\d+)_([a-z0-9_-]+)\.sql$/i;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/** Creates the first schema of the search_path when none of the path exists (so nothing could be created). */
async function ensureCurrentSchema(conn: Sql): Promise<void> {
  const [current] = await conn<{ schema: string | null; first: string }[]>`
    select current_schema() as schema, trim(both '"' from trim(split_part(current_setting('search_path'), ',', 1))) as first`;
  if (current?.schema || !current?.first) return;
  try {
    await conn`create schema if not exists ${conn(current.first)}`;
  } catch (err) {
    throw new MigrationError(`Schema ${current.first} does not exist and this role cannot create it (${(err as Error).message}); create it owned by the service's role (docs/deploy.md, "Database roles").`, { cause: err });
  }
}

/**
 * Applies `dir`'s numbered .sql files that this service has not applied yet, each in its own
 * transaction, while holding a session advisory lock so concurrent replicas never race. The
 * migrations table lives in the connection's current schema (the service's own, see
 * `DatabaseOptions.schema`); when that schema does not exist yet it is created, which only a role
 * allowed to create schemas can do; a service's least-privilege role is given its schema instead
 * (see docs/deploy.md, "Database roles").
 */
export async function migrate(sql: Sql, service: string, dir: string, logger?: Logger): Promise<MigrationResult> {
  const files = (await readdir(dir))
    .map((name) => ({ name, match: MIGRATION_FILE.exec(name) }))
    .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
    .map((f) => ({ name: f.name, version: Number(f.match[1]) }))
    .sort((a, b) => a.version - b.version);
  const byVersion = new Map<number, string>();
  for (const f of files) {
    const other = byVersion.get(f.version);
    if (other) throw new MigrationError(`Migrations ${other} and ${f.name} in ${dir} share version ${f.version}; give each file a version of its own.`);
    byVersion.set(f.version, f.name);
  }

  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await ensureCurrentSchema(conn);
      await conn`
        create table if not exists schema_migrations (
          service text not null,
          version integer not null,
          name text not null,
          applied_at timestamptz not null default now(),
          primary key (service, version)
        )`;
      const done = await conn<{ version: number }[]>`select version from schema_migrations where service = ${service}`;
      const doneVersions = new Set(done.map((r) => r.version));
      const applied: string[] = [];
      for (const file of files) {
        if (doneVersions.has(file.version)) continue;
        const text = await readFile(path.join(dir, file.name), 'utf8');
        // A reserved connection has no begin(): run the transaction by hand on it.
        await conn`begin`;
        try {
          await conn.unsafe(text);
          await conn`insert into schema_migrations (service, version, name) values (${service}, ${file.version}, ${file.name})`;
          await conn`commit`;
        } catch (err) {
          await conn`rollback`;
          throw new MigrationError(`Migration ${file.name} of ${service} failed, and nothing of it was applied: ${(err as Error).message}`, { cause: err });
        }
        applied.push(file.name);
        logger?.info({ migration: file.name }, 'migration applied');
      }
      return { applied, alreadyApplied: doneVersions.size };
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}
