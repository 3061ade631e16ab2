/** What every benchmark suite gets from the runner. */
import path from 'node:path';
import { ManagedProcess, freePort } from './platform.ts';
import type { Figure } from './report.ts';

export interface SuiteContext {
  resultsDir: string;
  logDir: string;
  profileDir: string;
  /** Start services of this suite with --cpu-prof (BENCH_PROFILE=1 or a missed target re-run). */
  profile: boolean;
}

export interface Suite {
  ids: string[];
  run(ctx: SuiteContext): Promise<Figure[]>;
}

/** A tiny reference server (bench/servers/*.ts) in its own process; `readyPath` must answer 2xx once it serves. */
export async function startReferenceServer(
  ctx: SuiteContext,
  file: string,
  opts: { env?: Record<string, string>; readyPath?: string; nodeArgs?: string[] } = {},
): Promise<{ url: string; proc: ManagedProcess }> {
  const port = await freePort();
  const name = path.basename(file, '.ts');
  const proc = new ManagedProcess(name, [`bench/servers/${file}`], { ...opts.env, PORT: String(port) }, path.join(ctx.logDir, `${name}.log`), `http://127.0.0.1:${port}${opts.readyPath ?? '/'}`);
  await proc.start(opts.nodeArgs);
  return { url: `http://127.0.0.1:${port}/`, proc };
}
