import type { Sql } from 'postgres';

/**
 * Each service with tables has a schema and a PostgreSQL role of its own: the role owns the schema
 * (so it can migrate it) and has no grant on any other, so account cannot read api-v2's tables and
 * api-v2 cannot read account's (users, password hashes, refresh tokens). The production stack's
 * init (scripts/postgres/init-service-roles.sh), the Swarm test's entrypoint, `npm start` and the
 * tests all create exactly these.
 */
export const SERVICE_DATABASES = {
  account: { role: 'marquee_account', schema: 'account', extensions: [] },
  'api-v2': { role: 'marquee_api_v2', schema: 'api_v2', extensions: ['btree_gist'] },
} as const satisfies Record<string, { role: string; schema: string; extensions: readonly string[] }>;

export type DatabaseService = keyof typeof SERVICE_DATABASES;

/** Roles are cluster-global: creating them is serialised on this key (taken in the `postgres` database). */
const ROLE_LOCK_KEY = 0x726f6c6573; // "roles"

/**
 * Creates the services' login roles when missing, on a superuser connection `cluster` (any
 * database: roles are global). Idempotent and safe to run from several processes at once.
 * `passwords` sets each role's password (omitted: no password, for trust-auth development clusters).
 */
export async function ensureServiceRoles(cluster: Sql, passwords: Partial<Record<DatabaseService, string>> = {}): Promise<void> {
  const conn = await cluster.reserve();
  try {
    await conn`select pg_advisory_lock(${ROLE_LOCK_KEY})`;
    try {
      for (const [service, { role }] of Object.entries(SERVICE_DATABASES) as [DatabaseService, (typeof SERVICE_DATABASES)[DatabaseService]][]) {
        const password = passwords[service];
        const [exists] = await conn`select 1 from pg_roles where rolname = ${role}`;
        // format(%I, %L) quotes the name and the password server-side: DDL takes no parameters.
        const statements = password
          ? await conn<{ ddl: string }[]>`select format(${exists ? 'alter role %I login password %L' : 'create role %I login password %L'}, ${role}::text, ${password}::text) as ddl`
          : await conn<{ ddl: string }[]>`select format(${exists ? 'alter role %I login' : 'create role %I login'}, ${role}::text) as ddl`;
        for (const { ddl } of statements) await conn.unsafe(ddl);
      }
    } finally {
      await conn`select pg_advisory_unlock(${ROLE_LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}

/**
 * In the database `db` (a superuser connection to it): each service's schema owned by its role,
 * and the extensions its migrations need (a service role may not create extensions itself).
 * Run after ensureServiceRoles; idempotent.
 */
export async function ensureServiceSchemas(db: Sql): Promise<void> {
  for (const { role, schema, extensions } of Object.values(SERVICE_DATABASES)) {
    await db`create schema if not exists ${db(schema)} authorization ${db(role)}`;
    for (const extension of extensions) await db`create extension if not exists ${db(extension)} schema ${db(schema)}`;
  }
}
