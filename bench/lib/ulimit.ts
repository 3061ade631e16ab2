/**
 * The connection benchmarks need far more file descriptors than the usual soft limit. The runner
 * re-executes itself once under a raised `ulimit -n` (children inherit it): WANTED_FDS if the
 * process may raise its hard limit (root with CAP_SYS_RESOURCE), else the hard limit.
 */
import { spawnSync } from 'node:child_process';

export const WANTED_FDS = 262_144;

const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const asNumber = (s: string) => (s.trim() === 'unlimited' ? Infinity : Number(s.trim()));

export function currentFdLimit(): number {
  return asNumber(sh('ulimit -n').stdout);
}

/** Re-runs this process under a raised limit when that gains anything; returns otherwise. */
export function ensureFdLimit(): void {
  if (process.env.BENCH_FD_RAISED === '1') return;
  const soft = currentFdLimit();
  if (soft >= WANTED_FDS) return;
  const canRaise = sh(`ulimit -n ${WANTED_FDS}`).status === 0;
  const hard = asNumber(sh('ulimit -Hn').stdout);
  const target = canRaise ? WANTED_FDS : hard;
  if (!(target > soft)) return;
  const argv = [...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -n ${target === Infinity ? 'unlimited' : target} && exec '${process.execPath}' ${argv}`], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_FD_RAISED: '1' },
  });
  process.exit(r.status ?? 1);
}
