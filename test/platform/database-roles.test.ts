/**
 * Least privilege in the data tier: account and api-v2 run with roles of their own
 * (SERVICE_DATABASES), each owning its schema, and neither can read, write or create anything in
 * the other's, while both migrate and serve. Real PostgreSQL, real service processes' pools.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MigrationError, SERVICE_DATABASES, createDatabase, migrate } from '@marquee/service-kit';
import { ACCOUNT_MIGRATIONS } from '../../services/account/src/server.ts';
import { createDisplay, signUpAndLogIn, startTestPlatform, type TestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform('dbroles');
}, 120_000);
afterAll(async () => {
  await platform?.close();
});

/** A connection as `service`'s role, with its search_path, the way the service connects. */
function asService(service: keyof typeof SERVICE_DATABASES) {
  return postgres(platform.db.serviceUrl(service), { max: 1, onnotice: () => {}, connection: { search_path: SERVICE_DATABASES[service].schema } });
}

async function sqlState(query: Promise<unknown>): Promise<string> {
  return query.then(
    () => 'succeeded',
    (err: { code?: string }) => err.code ?? String(err),
  );
}

it('both services migrated and serve with their own roles, which own every table of their schema', async () => {
  // Signup goes through api-v2 to account (users in account's schema); the display is api-v2's.
  const operator = await signUpAndLogIn(platform.apiV2.url, 'operator');
  await createDisplay(platform.apiV2.url, operator.auth);

  const admin = postgres(platform.db.url, { max: 1, onnotice: () => {} });
  try {
    const owners = await admin<{ schema: string; owner: string; tables: number }[]>`
      select schemaname as schema, tableowner as owner, count(*)::int as tables from pg_tables
      where schemaname in ('account', 'api_v2', 'public') group by 1, 2 order by 1, 2`;
    expect(owners.map(({ schema, owner }) => ({ schema, owner }))).toEqual([
      { schema: 'account', owner: 'marquee_account' },
      { schema: 'api_v2', owner: 'marquee_api_v2' },
    ]);
    expect(owners.every((o) => o.tables > 1)).toBe(true);
    const [counts] = await admin`
      select (select count(*)::int from account.users where username = ${operator.username}) as users,
             (select count(*)::int from api_v2.displays) as displays,
             (select count(*)::int from account.schema_migrations) as account_migrations,
             (select count(*)::int from api_v2.schema_migrations) as api_v2_migrations`;
    expect(counts).toMatchObject({ users: 1, displays: 1 });
    expect(counts!.account_migrations).toBeGreaterThan(0);
    expect(counts!.api_v2_migrations).toBeGreaterThan(counts!.account_migrations);
    // The roles are plain logins: no superuser, no role or database creation, no bypassing RLS.
    const roles = await admin`
      select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles
      where rolname in ('marquee_account', 'marquee_api_v2') order by rolname`;
    expect(roles).toEqual(
      ['marquee_account', 'marquee_api_v2'].map((rolname) => ({ rolname, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false })),
    );
  } finally {
    await admin.end();
  }
});

it("api-v2's role can neither read nor write account's tables, nor create in its schema or in public", async () => {
  const apiV2 = asService('api-v2');
  try {
    expect(await sqlState(apiV2`select password_hash from account.users`)).toBe('42501');
    expect(await sqlState(apiV2`select count(*) from account.refresh_tokens`)).toBe('42501');
    expect(await sqlState(apiV2`insert into account.users (username) values ('intruder')`)).toBe('42501');
    expect(await sqlState(apiV2`delete from account.schema_migrations`)).toBe('42501');
    expect(await sqlState(apiV2`create table account.planted (x int)`)).toBe('42501');
    expect(await sqlState(apiV2`create table public.planted (x int)`)).toBe('42501');
    // Its own schema: the same statements work.
    expect(await sqlState(apiV2`select count(*) from displays`)).toBe('succeeded');
    expect(await sqlState(apiV2`select count(*) from api_v2.schema_migrations`)).toBe('succeeded');
  } finally {
    await apiV2.end();
  }
});

it("account's role can neither read nor write api-v2's tables, nor create in its schema or in public", async () => {
  const account = asService('account');
  try {
    expect(await sqlState(account`select count(*) from api_v2.displays`)).toBe('42501');
    expect(await sqlState(account`select count(*) from api_v2.bookings`)).toBe('42501');
    expect(await sqlState(account`update api_v2.displays set name = 'hijacked'`)).toBe('42501');
    expect(await sqlState(account`delete from api_v2.schema_migrations`)).toBe('42501');
    expect(await sqlState(account`create table api_v2.planted (x int)`)).toBe('42501');
    expect(await sqlState(account`create table public.planted (x int)`)).toBe('42501');
    expect(await sqlState(account`select count(*) from users`)).toBe('succeeded');
  } finally {
    await account.end();
  }
});

it('a service role whose schema was never made refuses to migrate with a message naming the fix', async () => {
  const sql = createDatabase({ url: platform.db.serviceUrl('account'), applicationName: 'dbroles-test', schema: 'not_provisioned', max: 1 });
  try {
    const error = await migrate(sql, 'account', ACCOUNT_MIGRATIONS).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/^Schema not_provisioned does not exist and this role cannot create it \(permission denied for database .*\); create it owned by the service's role/);
  } finally {
    await sql.end();
  }
});
