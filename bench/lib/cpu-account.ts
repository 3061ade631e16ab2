/**
 * Where the machine's CPU went during a window (e.g. one edit's fan-out): per role (given pids,
 * e.g. api-v2, device-tcp, the display simulators), every PostgreSQL and Redis process, and the
 * whole machine's busy time from /proc/stat. A window whose machine busy time is close to
 * cores × wall time was bound by CPU, whichever process was waiting for whom.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function processTicks(pid: number): { comm: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null; // exited
  }
}

function machineBusyTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + (cpu[7] ?? 0);
}

export interface CpuSnapshot {
  at: number;
  roles: Record<string, number>;
  machine: number;
}

/** Roles: name → pids. 'postgres' and 'redis' are added from every process with that command name. */
export function cpuSnapshot(roles: Record<string, number[]>): CpuSnapshot {
  const out: Record<string, number> = {};
  for (const [role, pids] of Object.entries(roles)) out[role] = pids.reduce((sum, pid) => sum + (processTicks(pid)?.ticks ?? 0), 0);
  out.postgres = 0;
  out.redis = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = processTicks(Number(entry));
    if (p?.comm === 'postgres') out.postgres += p.ticks;
    else if (p?.comm === 'redis-server') out.redis += p.ticks;
  }
  return { at: performance.now(), roles: out, machine: machineBusyTicks() };
}

export interface CpuWindow {
  wallMs: number;
  /** CPU milliseconds per role over the window. */
  cpuMs: Record<string, number>;
  /** Busy CPU milliseconds of the whole machine, and what that is of cores × wall. */
  machineBusyMs: number;
  machineBusyShare: number;
}

export function cpuWindow(a: CpuSnapshot, b: CpuSnapshot): CpuWindow {
  const ms = (ticks: number) => Math.round((ticks * 1000) / TICKS_PER_SECOND);
  const wallMs = Math.round(b.at - a.at);
  const cpuMs: Record<string, number> = {};
  for (const role of Object.keys(b.roles)) cpuMs[role] = ms(b.roles[role]! - (a.roles[role] ?? 0));
  const machineBusyMs = ms(b.machine - a.machine);
  return { wallMs, cpuMs, machineBusyMs, machineBusyShare: machineBusyMs / (wallMs * os.availableParallelism()) };
}
