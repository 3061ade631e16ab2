/**
 * Services as production runs them: `services/<name>/src/main.ts` in a process of its own,
 * configured only by environment (its public configuration), logging JSON lines, stopped by a
 * signal. For tests about what only a process shows: start-up refusals, SIGTERM, exit codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { suiteServiceSecrets } from './infra.ts';

const root = path.resolve(import.meta.dirname, '../..');

export type ServiceName = 'account' | 'api-v1' | 'api-v2' | 'device-tcp';

/** One pino log line as the service wrote it. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface ServiceProcess {
  child: ChildProcess;
  /** Exit code (null if killed by a signal). */
  exited: Promise<number | null>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far. */
  logs(): LogLine[];
  /** Resolves with the first log line matching, or rejects if the process exits first or time runs out. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** When the process exited, by the test's clock (performance.now()). */
  exitedAt(): number | undefined;
  /** Kills it if still running (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `services/<service>/src/main.ts` under tsx with exactly `env` (plus PATH). */
export function startServiceProcess(service: ServiceName, env: Record<string, string>): ServiceProcess {
  const main = path.join(root, 'services', service, 'src', 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=marquee-source', main], {
    cwd: root,
    // Every service process of a suite gets the suite's service credentials (as *_FILE).
    env: { PATH: process.env.PATH ?? '', ...suiteServiceSecrets().env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exitTime: number | undefined;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitTime = performance.now();
      resolve(code);
      for (const l of listeners) l();
    }),
  );
  const logs = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  return {
    child,
    exited,
    output: () => output,
    logs,
    exitedAt: () => exitTime,
    waitForLog(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = logs().find(match);
          if (line) return done(() => resolve(line));
          if (exitTime !== undefined) return done(() => reject(new Error(`${service} exited before the awaited log line:\n${output}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${service}: awaited log line not seen in ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (exitTime === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The base URLs a service logged when it started listening (`url`, and api-v2's `internalUrl`). */
export async function listeningUrls(proc: ServiceProcess): Promise<{ url: string; internalUrl?: string }> {
  const line = await proc.waitForLog((l) => typeof l.msg === 'string' && l.msg.endsWith('listening') && typeof l.url === 'string');
  return { url: line.url as string, ...(typeof line.internalUrl === 'string' ? { internalUrl: line.internalUrl } : {}) };
}

/**
 * Resolves once a new TCP connection to `url`'s port is refused (the service stopped listening);
 * rejects if it is still accepted after `timeoutMs`.
 */
export async function waitUntilRefused(url: string, timeoutMs = 30_000): Promise<void> {
  const { hostname, port } = new URL(url);
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const outcome = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve('accepted');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    if (outcome === 'ECONNREFUSED') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} still accepts connections after ${timeoutMs} ms`);
}
