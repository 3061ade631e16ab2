import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadAccountConfig, startAccount, type RunningAccount } from '../src/index.ts';
import { createScratchDatabase, generateSigningKeyPem, serviceCredentialHeader, suiteServiceSecrets, type ScratchDatabase } from '../../../test/support/infra.ts';
import { readdirSync } from 'node:fs';
import { ACCOUNT_MIGRATIONS } from '../src/server.ts';

let db: ScratchDatabase;
const running: RunningAccount[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('migrate');
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await db.drop();
});

it('two account instances started at once against one empty database apply each migration exactly once', async () => {
  const config = loadAccountConfig({
    DATABASE_URL: db.serviceUrl('account'),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_PRIVATE_KEY: generateSigningKeyPem(),
    ...suiteServiceSecrets().env,
  });
  running.push(...(await Promise.all([startAccount(config), startAccount(config)])));

  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const rows = await sql<{ version: number; n: number }[]>`
    select version, count(*)::int as n from account.schema_migrations where service = 'account' group by version order by version`;
  await sql.end();
  const files = readdirSync(ACCOUNT_MIGRATIONS).filter((f) => f.endsWith('.sql'));
  expect(rows).toHaveLength(files.length);
  expect(rows.every((r) => r.n === 1)).toBe(true);

  // Both replicas serve.
  for (const r of running) expect((await fetch(r.url + '/readyz', { headers: serviceCredentialHeader('ops') })).status).toBe(200);
});
