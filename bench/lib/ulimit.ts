/**
 * The connection benchmarks need far more file descriptors than the default soft limit. Root may
 * raise it, so the runner re-executes itself once under `ulimit -n` (children inherit the limit).
 */
import { spawnSync } from 'node:child_process';

export const WANTED_FDS = 262_144;

export function currentFdLimit(): number {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

/** Re-runs this process under a raised limit unless it already has it; returns only if it has. */
export function ensureFdLimit(): void {
  if (process.env.BENCH_FD_RAISED === '1' || currentFdLimit() >= WANTED_FDS) return;
  const argv = [...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -n ${WANTED_FDS} 2>/dev/null || ulimit -n $(ulimit -Hn); exec '${process.execPath}' ${argv}`], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_FD_RAISED: '1' },
  });
  process.exit(r.status ?? 1);
}
