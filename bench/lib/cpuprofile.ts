/**
 * Summarises a V8 .cpuprofile (from node --cpu-prof): self time per function and inclusive time
 * per function, as a flame graph's widest frames would show. Used to name bottlenecks in the
 * results with evidence; `npx tsx bench/lib/cpuprofile.ts file.cpuprofile` prints one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /**
   * Stretches of ≥ 2 s in which the process was busy more than half the time (250 ms buckets), in
   * seconds from the profile's start: e.g. the load rounds of a figure, for `--segments`.
   */
  busySegments: { fromS: number; toS: number }[];
  /** The busy segments the summary is restricted to (all samples when absent). */
  segments?: number[];
  idlePct: number;
  selfTop: { frame: string; pct: number }[];
  inclusiveTop: { frame: string; pct: number }[];
  byPackage: { pkg: string; pct: number }[];
}

function label(n: Node): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url.includes('/work/main/') ? url.slice(url.indexOf('/work/main/') + 11) : url;
  return `${n.callFrame.functionName || '(anonymous)'} ${short}${short ? `:${n.callFrame.lineNumber + 1}` : ''}`;
}

function pkgOf(n: Node): string {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const w = /\/work\/main\/((?:services|packages)\/[^/]+)/.exec(url);
  return w ? w[1]! : path.basename(url);
}

const BUCKET_MS = 250;

function findBusySegments(samples: number[], atMs: number[], idleIds: Set<number>): { fromS: number; toS: number }[] {
  const buckets: { busy: number; all: number }[] = [];
  samples.forEach((s, i) => {
    const b = (buckets[Math.floor(atMs[i]! / BUCKET_MS)] ??= { busy: 0, all: 0 });
    b.all++;
    if (!idleIds.has(s)) b.busy++;
  });
  const segments: { fromS: number; toS: number }[] = [];
  let start = -1;
  for (let i = 0; i <= buckets.length; i++) {
    const b = buckets[i];
    const busy = b !== undefined && b.busy / b.all > 0.5;
    if (busy && start < 0) start = i;
    if (!busy && start >= 0) {
      if ((i - start) * BUCKET_MS >= 2_000) segments.push({ fromS: (start * BUCKET_MS) / 1000, toS: (i * BUCKET_MS) / 1000 });
      start = -1;
    }
  }
  return segments;
}

export function summariseProfile(file: string, top = 15, opts: { segments?: number[] } = {}): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const idleIds = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const atMs: number[] = [];
  let t = 0;
  for (const d of prof.timeDeltas) atMs.push((t += d) / 1000);
  const busySegments = findBusySegments(prof.samples, atMs, idleIds);
  const windows = opts.segments?.map((i) => busySegments[i]).filter((w) => w !== undefined);
  const hits = new Map<number, number>();
  prof.samples.forEach((s, i) => {
    if (windows && !windows.some((w) => atMs[i]! >= w.fromS * 1000 && atMs[i]! < w.toS * 1000)) return;
    hits.set(s, (hits.get(s) ?? 0) + 1);
  });
  const total = [...hits.values()].reduce((a, b) => a + b, 0) || 1;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let idle = 0;
  for (const [id, count] of hits) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') idle += count;
    self.set(label(n), (self.get(label(n)) ?? 0) + count);
    // Attribute the sample to the innermost frame outside node internals for the package view.
    let cur: number | undefined = id;
    const seen = new Set<string>();
    let attributed = false;
    while (cur !== undefined) {
      const node = byId.get(cur)!;
      const l = label(node);
      if (!seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) ?? 0) + count);
      }
      if (!attributed) {
        const p = pkgOf(node);
        if (!p.startsWith('node:') && p !== '(native)') {
          pkgs.set(p, (pkgs.get(p) ?? 0) + count);
          attributed = true;
        }
      }
      cur = parent.get(cur);
    }
    if (!attributed) pkgs.set('(node internals)', (pkgs.get('(node internals)') ?? 0) + count);
  }
  const busy = total - idle || 1;
  const sortTop = (m: Map<string, number>, denom: number) =>
    [...m.entries()]
      .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && !k.startsWith('(program)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, c]) => ({ frame, pct: Math.round((c / denom) * 1000) / 10 }));
  return {
    file: path.basename(file),
    totalMs: (prof.endTime - prof.startTime) / 1000,
    busySegments,
    ...(opts.segments ? { segments: opts.segments } : {}),
    idlePct: Math.round((idle / total) * 1000) / 10,
    selfTop: sortTop(self, busy),
    inclusiveTop: sortTop(incl, busy),
    byPackage: sortTop(pkgs, busy).map(({ frame, pct }) => ({ pkg: frame, pct })),
  };
}

// npx tsx bench/lib/cpuprofile.ts [--segments 0,2] [--top 25] file.cpuprofile ...
if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const segments = option('--segments')?.split(',').map(Number);
  const top = Number(option('--top') ?? 15);
  for (const f of args) console.log(JSON.stringify(summariseProfile(f, top, { segments }), null, 2));
}
