/**
 * npm scripts as a user runs them (`npm start`, `npm run demo`): spawned through npm itself, in a
 * process group of their own, with their output collected. For tests about what only the real
 * command shows: start-up, the demo's two runs, what a signal to npm's own process does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface NpmProcess {
  proc: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with how npm ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the output contains `text`; rejects if npm exits first or `timeoutMs` passes. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** SIGKILLs the whole process group if still running (cleanup after a failed test). */
  killGroup(): void;
}

/** `npm <args>` in the repository with `env` added to this process's environment. */
export function npmRun(args: string[], env: Record<string, string>): NpmProcess {
  const proc = spawn('npm', args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a test can signal npm alone (proc.pid) or the whole group as a terminal's Ctrl-C does (-pid).
    detached: true,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
      for (const l of listeners) l();
    }),
  );
  return {
    proc,
    output: () => output,
    exited,
    waitForOutput(text, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) return finish(resolve);
          if (done) return finish(() => reject(new Error(`npm ${args.join(' ')} exited before printing "${text}":\n${output}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`npm ${args.join(' ')}: "${text}" not printed within ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    killGroup() {
      if (!done && proc.pid) {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Pids of every living descendant of `pid` (children, grandchildren, …), from /proc. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while listing
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Whether a process with this pid still runs (an exited one waiting to be reaped, a zombie, does not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
