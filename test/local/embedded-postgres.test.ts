import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../scripts/local/embedded-postgres.ts';
import { serverUserIds } from '../../scripts/local/postgres-server.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const holderScript = fileURLToPath(new URL('./fixtures/hold-postgres.ts', import.meta.url));

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process group of a PID, as `ps` reports it. */
function processGroup(pid: number): number {
  return Number.parseInt(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }), 10);
}

async function serverPid(dataDir: string): Promise<number> {
  return Number.parseInt((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]!, 10);
}

async function query<T extends object>(url: string, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const readScreens = (url: string) => query(url, (sql) => sql<{ name: string }[]>`select name from screens order by name`);

// initdb and each server start take seconds alone and much longer on a busy machine.
describe('embedded PostgreSQL for the local platform', { timeout: 180_000 }, () => {
  let root: string;
  let dataDir: string;
  let port: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'marquee-embedded-pg-'));
    // mkdtemp makes it 0700; the server runs as the unprivileged `postgres` user when we are root.
    await chmod(root, 0o755);
    dataDir = path.join(root, 'postgres');
    port = await freePort();
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    // If a test failed mid-way, do not leave a server running on the deleted directory.
    const leftover = await serverPid(dataDir).catch(() => 0);
    if (leftover && isAlive(leftover)) process.kill(leftover, 'SIGINT');
    await rm(root, { recursive: true, force: true });
  });

  it('initialises once, creates the marquee database, and keeps data across a restart', async () => {
    const first = await startEmbeddedPostgres({ dataDir, port });
    expect(first.url).toBe(`postgres://postgres@127.0.0.1:${port}/marquee`);
    const pid = await serverPid(dataDir);
    // Its own process group: a Ctrl-C in the launcher's terminal must not stop it before the services.
    expect(processGroup(pid)).not.toBe(processGroup(process.pid));
    const cluster = (url: string) => query(url, async (sql) => (await sql`select system_identifier::text as id from pg_control_system()`)[0]!.id);
    const initialised = await cluster(first.url);
    await query(first.url, async (sql) => {
      expect((await sql`select current_database() as db`)[0]?.db).toBe('marquee');
      await sql`create table screens (name text primary key)`;
      return sql`insert into screens values ('lobby')`;
    });
    await first.stop();
    expect(isAlive(pid)).toBe(false);
    await first.stop(); // a second stop is harmless

    const second = await startEmbeddedPostgres({ dataDir, port });
    // The same cluster (initdb did not run again) with the same data.
    expect(await cluster(second.url)).toBe(initialised);
    expect(await readScreens(second.url)).toEqual([{ name: 'lobby' }]);
    await second.stop();
  });

  it("runs each service as a role of its own that owns its schema and cannot enter the other's (made again harmlessly on a restart)", async () => {
    const pg = await startEmbeddedPostgres({ dataDir, port });
    try {
      expect(pg.serviceUrls).toEqual({
        account: `postgres://marquee_account@127.0.0.1:${port}/marquee`,
        'api-v2': `postgres://marquee_api_v2@127.0.0.1:${port}/marquee`,
      });
      const rights = (url: string, own: string, other: string) =>
        query(url, async (sql) => (await sql`select current_user as role, has_schema_privilege(${own}, 'CREATE') as own, has_schema_privilege(${other}, 'USAGE') as other`)[0]!);
      expect(await rights(pg.serviceUrls.account, 'account', 'api_v2')).toEqual({ role: 'marquee_account', own: true, other: false });
      expect(await rights(pg.serviceUrls['api-v2'], 'api_v2', 'account')).toEqual({ role: 'marquee_api_v2', own: true, other: false });
    } finally {
      await pg.stop();
    }
  });

  it('starts despite a postmaster.pid naming a live process that is not PostgreSQL', async () => {
    // Owned by the user the server runs as, so PostgreSQL's own liveness probe (kill 0) sees it.
    const unrelated = spawn('sleep', ['30'], { stdio: 'ignore', ...(await serverUserIds()) });
    children.push(unrelated);
    // Same shape PostgreSQL writes; PostgreSQL itself refuses to start while that PID is alive.
    await writeFile(path.join(dataDir, 'postmaster.pid'), `${unrelated.pid}\n${dataDir}\n1700000000\n${port}\n\n127.0.0.1\n0 0\nready\n`);
    const pg = await startEmbeddedPostgres({ dataDir, port });
    expect(await readScreens(pg.url)).toEqual([{ name: 'lobby' }]);
    expect(isAlive(unrelated.pid!)).toBe(true);
    await pg.stop();
  });

  it('leaves a live launcher\'s server alone, and recovers once that launcher is killed with SIGKILL', async () => {
    const launcher = spawn(process.execPath, ['--import', 'tsx', '--conditions=marquee-source', holderScript, dataDir, String(port)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(launcher);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      launcher.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('READY')) resolve();
      });
      launcher.once('exit', (code) => reject(new Error(`holder exited early (${code}): ${out}`)));
    });
    const orphan = await serverPid(dataDir);
    // While that launcher lives, its server is not debris: a second launcher must not take it over.
    await expect(startEmbeddedPostgres({ dataDir, port: await freePort() })).rejects.toThrow(/belongs to another running process/);
    expect(isAlive(orphan)).toBe(true);

    launcher.kill('SIGKILL');
    await new Promise((resolve) => launcher.once('exit', resolve));
    expect(isAlive(orphan)).toBe(true); // the crash really left a server behind

    const pg = await startEmbeddedPostgres({ dataDir, port });
    expect(isAlive(orphan)).toBe(false);
    expect(await readScreens(pg.url)).toEqual([{ name: 'lobby' }]);
    await pg.stop();
  });

  it('refuses a busy port with a clear message', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startEmbeddedPostgres({ dataDir, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    // The failed attempt left nothing behind: the same directory starts fine afterwards.
    const pg = await startEmbeddedPostgres({ dataDir, port });
    await pg.stop();
  });

  it('refuses a second start on a directory this process is already serving', async () => {
    const pg = await startEmbeddedPostgres({ dataDir, port });
    try {
      await expect(startEmbeddedPostgres({ dataDir, port: await freePort() })).rejects.toThrow(/already running/);
      expect(await readScreens(pg.url)).toEqual([{ name: 'lobby' }]);
    } finally {
      await pg.stop();
    }
  });
});
