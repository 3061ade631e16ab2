/**
 * Per-process CPU and memory from /proc (Linux), so one service's share of the machine can be
 * measured while everything else (load generators, PostgreSQL, other services) runs beside it.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcSample {
  at: number;
  /** user + system CPU seconds since the process started */
  cpuSeconds: number;
  rssBytes: number;
}

export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { at: performance.now(), cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
}

/** Share of one core used between two samples (1.0 = one full core). */
export function coreShare(a: ProcSample, b: ProcSample): number {
  return (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return { cpu: model, cores, memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10, kernel, node: process.version };
}

export interface MemoryMap {
  rssBytes: number;
  /** Anonymous resident memory: V8 heap pages, malloc arenas, thread stacks. */
  anonBytes: number;
  /** File-backed resident memory (the node binary, shared libraries). */
  fileBytes: number;
  /** glibc's main malloc arena (the brk heap, "[heap]"). */
  brkHeapBytes: number;
  /** glibc's per-thread malloc arenas: anonymous mappings inside 64 MiB-aligned 64 MiB reservations. */
  mallocArenaBytes: number;
  /** Other anonymous resident memory: V8's heap pages, large mmap'd malloc chunks, stacks. */
  otherAnonBytes: number;
}

/** Where a process's resident memory is, from /proc/<pid>/smaps. */
export function memoryMap(pid: number): MemoryMap {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const ARENA = 64 * 2 ** 20;
  const map: MemoryMap = { rssBytes: 0, anonBytes: 0, fileBytes: 0, brkHeapBytes: 0, mallocArenaBytes: 0, otherAnonBytes: 0 };
  // A glibc thread arena is one 64 MiB-aligned reservation: a read-write part followed by PROT_NONE.
  const regions: { start: number; end: number; path: string; rss: number; anon: number }[] = [];
  let cur: (typeof regions)[number] | null = null;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), path: head[3]!, rss: 0, anon: 0 };
      regions.push(cur);
      continue;
    }
    const kv = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (kv && cur) cur[kv[1] === 'Rss' ? 'rss' : 'anon'] = Number(kv[2]) * 1024;
  }
  for (let i = 0; i < regions.length; i++) {
    const r = regions[i]!;
    map.rssBytes += r.rss;
    if (r.path === '[heap]') {
      map.brkHeapBytes += r.rss;
      map.anonBytes += r.anon;
    } else if (r.path === '' || r.path.startsWith('[anon')) {
      map.anonBytes += r.anon;
      const next = regions[i + 1];
      const arena = r.start % ARENA === 0 && (r.end - r.start === ARENA || (next && next.start === r.end && next.end - r.start === ARENA && next.rss === 0));
      if (arena) map.mallocArenaBytes += r.rss;
      else map.otherAnonBytes += r.rss;
    } else if (r.path.startsWith('[')) {
      map.anonBytes += r.anon; // stack, vdso, vvar
      map.otherAnonBytes += r.rss;
    } else {
      map.fileBytes += r.rss;
    }
  }
  return map;
}
