/**
 * `npm run demo` as a newcomer runs it, twice, beside a fresh `npm start` (its own database, data
 * folder and ports): the first run populates the platform, the second creates nothing new and
 * reconnects the displays, which then show online in the catalogue while plays are counted.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_BOOKINGS, DEMO_CREATIVES, DEMO_DISPLAYS } from '../../tools/demo/plan.ts';
import { DEMO_RUNNING } from '../../tools/demo/run.ts';
import { createScratchDatabase, type ScratchDatabase } from '../support/infra.ts';
import { freePort, npmRun, type NpmProcess } from '../support/npm-run.ts';

let db: ScratchDatabase;
let sql: postgres.Sql;
let dataDir: string;
let base: string;
let deviceEnv: Record<string, string>;
let platform: NpmProcess;
const demos: NpmProcess[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('demo');
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
  dataDir = mkdtempSync(path.join(tmpdir(), 'marquee-demo-'));
  const ports = { http: await freePort(), device: await freePort() };
  base = `http://127.0.0.1:${ports.http}`;
  // The demo reads the same variables as npm start, so a user who moved the ports sets them once.
  deviceEnv = { MARQUEE_DATA_DIR: dataDir, MARQUEE_DEVICE_PORT: String(ports.device) };
  platform = npmRun(['start'], { ...deviceEnv, DATABASE_URL: db.url, REDIS_URL: '', MARQUEE_HTTP_PORT: String(ports.http) });
  await platform.waitForOutput('Marquee is running', 150_000);
}, 180_000);

afterAll(async () => {
  for (const d of demos) d.killGroup();
  if (platform && platform.proc.exitCode === null && platform.proc.signalCode === null) {
    process.kill(platform.proc.pid!, 'SIGINT');
    await Promise.race([platform.exited, new Promise((r) => setTimeout(r, 30_000))]);
    platform.killGroup();
  }
  await sql?.end();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function call(method: string, route: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}/v2${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as any;
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const login = async (username: string, password: string) => (await call('POST', '/auth/login', undefined, { username, password })).accessToken as string;

async function listAll(route: string, token: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page = await call('GET', `${route}${route.includes('?') ? '&' : '?'}limit=200${cursor ? `&cursor=${cursor}` : ''}`, token);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Everything on the platform: displays, creatives and bookings as the admin sees them (all), users from the account table (the API lists none). */
async function counts(adminToken: string) {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from users`;
  return {
    users: row!.n,
    displays: (await listAll('/displays', adminToken)).length,
    creatives: (await listAll('/creatives', adminToken)).length,
    bookings: (await listAll('/bookings', adminToken)).length,
  };
}

async function runDemo(): Promise<NpmProcess> {
  const demo = npmRun(['run', 'demo', '--', '--url', base], deviceEnv);
  demos.push(demo);
  await demo.waitForOutput(DEMO_RUNNING, 150_000);
  return demo;
}

async function stopDemo(demo: NpmProcess) {
  process.kill(demo.proc.pid!, 'SIGINT');
  const ended = await Promise.race([demo.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
  expect(ended, `the demo still runs 30 s after SIGINT:\n${demo.output()}`).toEqual({ code: 0, signal: null });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err) => ((last = err), undefined));
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

it('npm run demo twice: the second run creates nothing; the demo displays are online in the catalogue and plays are counted', async () => {
  const adminToken = await login('admin', readFileSync(path.join(dataDir, 'admin-password'), 'utf8').trim());
  expect(await counts(adminToken)).toEqual({ users: 1, displays: 0, creatives: 0, bookings: 0 });

  const first = await runDemo();
  const afterFirst = await counts(adminToken);
  expect(afterFirst).toEqual({ users: 3, displays: DEMO_DISPLAYS.length, creatives: DEMO_CREATIVES.length, bookings: DEMO_BOOKINGS.length });
  expect(first.output()).toContain('created 2 users, 5 displays, 4 creatives, 3 bookings; 5 displays activated');

  // The credentials are in the data folder, owner-only, with generated passwords and every display's secret.
  const file = path.join(dataDir, 'demo-credentials.json');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  expect(saved.operator.username).toBe('demo-operator');
  expect(saved.advertiser.username).toBe('demo-advertiser');
  expect(saved.operator.password).toMatch(/^[\w-]{24}$/);
  expect(saved.advertiser.password).not.toBe(saved.operator.password);
  expect(Object.keys(saved.displaySecrets)).toHaveLength(DEMO_DISPLAYS.length);
  // Printed for the newcomer, too (the display secrets are not).
  expect(first.output()).toContain(saved.advertiser.password);
  for (const secret of Object.values(saved.displaySecrets) as string[]) expect(first.output()).not.toContain(secret);
  await stopDemo(first);

  const [operatorToken, advertiserToken] = await Promise.all([
    login(saved.operator.username, saved.operator.password),
    login(saved.advertiser.username, saved.advertiser.password),
  ]);
  const bookings = await listAll('/bookings', advertiserToken);
  const day = 86_400_000;
  const range = `from=${new Date(Date.now() - day).toISOString()}&to=${new Date(Date.now() + day).toISOString()}&bucket=day`;
  const playsSoFar = async () => {
    let total = 0;
    for (const b of bookings) total += (await call('GET', `/bookings/${b.id}/plays?${range}`, advertiserToken)).totals.plays as number;
    return total;
  };
  const playsBefore = await playsSoFar();

  const second = await runDemo();
  expect(second.output()).toContain('nothing new: everything was already there');
  expect(await counts(adminToken)).toEqual(afterFirst);

  // The advertisers' catalogue lists every demo display (active), and their operator sees each online.
  const catalogue = await listAll('/displays?tag=demo', advertiserToken);
  expect(catalogue.map((d) => d.name).sort()).toEqual(DEMO_DISPLAYS.map((d) => d.name).sort());
  expect(new Set(catalogue.map((d) => d.timezone)).size).toBe(DEMO_DISPLAYS.length);
  await until(
    'every demo display online',
    async () => {
      const own = await listAll('/displays', operatorToken);
      return own.length === DEMO_DISPLAYS.length && own.every((d) => d.status === 'active' && d.presence.online);
    },
    60_000,
  );
  // The legacy catalogue (with presence) says so too.
  await until(
    'the v1 catalogue to show them online',
    async () => {
      const devices = (await (await fetch(`${base}/v1/devices`)).json()) as { deviceid: string; online: boolean }[];
      return catalogue.every((d) => devices.some((v) => v.deviceid === d.id && v.online));
    },
    60_000,
  );
  // Plays reported by the reconnected displays are counted in the bookings' reports.
  const playsAfter = await until('plays of the second run in the reports', async () => {
    const total = await playsSoFar();
    return total > playsBefore ? total : undefined;
  }, 120_000);
  console.log(`plays in the demo's reports: ${playsBefore} after the first run, ${playsAfter} during the second`);
  await stopDemo(second);
}, 420_000);

it('a lost or refused display secret is replaced through the API; demo users without their passwords stop the demo with the reason', async () => {
  // The data folder lost one display's secret and holds a stale one for another.
  const file = path.join(dataDir, 'demo-credentials.json');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  const [lost, stale] = Object.keys(saved.displaySecrets) as [string, string];
  delete saved.displaySecrets[lost];
  saved.displaySecrets[stale] = 'not-the-secret-of-this-display-0000000000000';
  writeFileSync(file, JSON.stringify(saved));

  const third = await runDemo();
  expect(third.output()).toContain('its secret was not in the data folder, so its credential was rotated');
  const operatorToken = await login(saved.operator.username, saved.operator.password);
  const staleName = (await call('GET', `/displays/${stale}`, operatorToken)).name as string;
  await third.waitForOutput(`${staleName}: the stored device secret was refused, rotating its credential`, 60_000);
  await third.waitForOutput(`● ${staleName} online`, 60_000);
  await until(
    'every demo display online again',
    async () => (await listAll('/displays', operatorToken)).every((d) => d.presence.online),
    60_000,
  );
  const secrets = JSON.parse(readFileSync(file, 'utf8')).displaySecrets;
  expect(Object.keys(secrets)).toHaveLength(DEMO_DISPLAYS.length);
  expect(secrets[stale]).not.toBe('not-the-secret-of-this-display-0000000000000');
  await stopDemo(third);

  // Another data folder (the admin password, but not the demo's file): the demo users exist, their passwords are unknown.
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'marquee-demo-other-'));
  try {
    copyFileSync(path.join(dataDir, 'admin-password'), path.join(elsewhere, 'admin-password'));
    const refused = npmRun(['run', 'demo', '--', '--url', base, '--data-dir', elsewhere], deviceEnv);
    demos.push(refused);
    expect(await refused.exited).toEqual({ code: 1, signal: null });
    expect(refused.output()).toContain('The user demo-operator already exists on this platform and its password is not in');
    expect(JSON.parse(readFileSync(path.join(elsewhere, 'demo-credentials.json'), 'utf8'))).toEqual({ displaySecrets: {} });
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
}, 300_000);

it('npm start -- --demo: the platform restarted with the demo finds everything, reconnects the screens and stops them with it', async () => {
  const bogus = npmRun(['start', '--', '--demos'], {});
  expect(await bogus.exited).toEqual({ code: 2, signal: null });
  expect(bogus.output()).toContain("Unknown option '--demos'");

  process.kill(platform.proc.pid!, 'SIGINT');
  expect((await platform.exited).code).toBe(0);
  platform = npmRun(['start', '--', '--demo'], { ...deviceEnv, DATABASE_URL: db.url, REDIS_URL: '', MARQUEE_HTTP_PORT: new URL(base).port });
  await platform.waitForOutput(DEMO_RUNNING, 150_000);
  expect(platform.output()).toContain('nothing new: everything was already there');
  const saved = JSON.parse(readFileSync(path.join(dataDir, 'demo-credentials.json'), 'utf8'));
  const operatorToken = await login(saved.operator.username, saved.operator.password);
  await until('every demo display online', async () => (await listAll('/displays', operatorToken)).every((d) => d.presence.online), 60_000);

  process.kill(platform.proc.pid!, 'SIGINT');
  expect((await platform.exited).code).toBe(0);
  expect(platform.output()).toContain('Marquee stopped.');
}, 300_000);
