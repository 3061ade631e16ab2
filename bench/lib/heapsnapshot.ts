/**
 * V8 heap snapshots of a running service, and a summary that can be diffed: object count and
 * self size per constructor (what the DevTools "Summary" view groups by), the JS heap vs the
 * native memory the snapshot sees (ArrayBuffer backing stores), and the biggest Maps/Sets with
 * the property that holds them. A snapshot is taken after a full GC (V8 collects all available
 * garbage first), so it shows what is retained, not what merely has not been collected yet.
 *
 *   npx tsx bench/lib/heapsnapshot.ts before.heapsnapshot after.heapsnapshot   # prints the diff
 *
 * Snapshots are taken by starting the service with `--heapsnapshot-signal=SIGUSR2
 * --diagnostic-dir=<dir>` and sending it SIGUSR2 (takeHeapSnapshot below).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface HeapSummary {
  file: string;
  nodes: number;
  /** Sum of self sizes of every V8 heap object (excludes native nodes). */
  jsHeapBytes: number;
  /** Native nodes (mostly ArrayBuffer backing stores, "system / JSArrayBufferData"). */
  nativeBytes: number;
  byConstructor: Record<string, { count: number; bytes: number }>;
  /** Maps and Sets, largest hash table first: owner.property → table bytes. */
  collections: { holder: string; kind: string; tableBytes: number }[];
}

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

function groupOf(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'native':
      return name;
    case 'closure':
      return '(closure)';
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'number':
      return '(heap number)';
    case 'code':
      return '(compiled code)';
    default:
      return `(${type})`;
  }
}

export function summarizeHeapSnapshot(file: string, topCollections = 15): HeapSummary {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const { meta } = raw.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [iType, iName, iSelf, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = raw;

  const byConstructor: HeapSummary['byConstructor'] = {};
  let jsHeapBytes = 0;
  let nativeBytes = 0;
  const collectionNodes = new Map<number, { kind: string; tableBytes: number; holder: string }>();
  let edge = 0;
  // Pass 1: sizes per group; Map/Set nodes and the self size of their hash table ("table" edge).
  for (let n = 0; n < nodes.length; n += nf) {
    const type = nodeTypes[nodes[n + iType]!]!;
    const name = strings[nodes[n + iName]!]!;
    const self = nodes[n + iSelf]!;
    const g = (byConstructor[groupOf(type, name)] ??= { count: 0, bytes: 0 });
    g.count++;
    g.bytes += self;
    if (type === 'native') nativeBytes += self;
    else jsHeapBytes += self;
    const edgeCount = nodes[n + iEdges]!;
    if (type === 'object' && (name === 'Map' || name === 'Set')) {
      let tableBytes = 0;
      for (let e = edge; e < edge + edgeCount * ef; e += ef) {
        if (edgeTypes[edges[e + eType]!] === 'internal' && strings[edges[e + eName]!] === 'table') tableBytes = nodes[edges[e + eTo]! + iSelf]!;
      }
      collectionNodes.set(n, { kind: name, tableBytes, holder: '' });
    }
    edge += edgeCount * ef;
  }
  // Pass 2: name each Map/Set after a property that holds it (Owner.property).
  edge = 0;
  for (let n = 0; n < nodes.length; n += nf) {
    const edgeCount = nodes[n + iEdges]!;
    for (let e = edge; e < edge + edgeCount * ef; e += ef) {
      const target = collectionNodes.get(edges[e + eTo]!);
      if (!target || target.holder || edgeTypes[edges[e + eType]!] !== 'property') continue;
      target.holder = `${strings[nodes[n + iName]!]}.${strings[edges[e + eName]!]}`;
    }
    edge += edgeCount * ef;
  }
  const collections = [...collectionNodes.values()]
    .sort((a, b) => b.tableBytes - a.tableBytes)
    .slice(0, topCollections)
    .map((c) => ({ holder: c.holder || '(unnamed)', kind: c.kind, tableBytes: c.tableBytes }));
  return { file, nodes: nodes.length / nf, jsHeapBytes, nativeBytes, byConstructor, collections };
}

export interface HeapDiffRow {
  name: string;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** Groups whose count or size changed, largest byte change first. */
export function diffHeapSummaries(before: HeapSummary, after: HeapSummary, limit = 25): HeapDiffRow[] {
  const names = new Set([...Object.keys(before.byConstructor), ...Object.keys(after.byConstructor)]);
  const rows: HeapDiffRow[] = [];
  for (const name of names) {
    const b = before.byConstructor[name] ?? { count: 0, bytes: 0 };
    const a = after.byConstructor[name] ?? { count: 0, bytes: 0 };
    if (a.count === b.count && a.bytes === b.bytes) continue;
    rows.push({ name, countBefore: b.count, countAfter: a.count, bytesBefore: b.bytes, bytesAfter: a.bytes });
  }
  return rows.sort((x, y) => Math.abs(y.bytesAfter - y.bytesBefore) - Math.abs(x.bytesAfter - x.bytesBefore)).slice(0, limit);
}

/** Counts of the given constructors in one summary (0 when absent). */
export function countsOf(summary: HeapSummary, names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, summary.byConstructor[n]?.count ?? 0]));
}

/**
 * Sends SIGUSR2 to a process started with --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=dir and
 * returns the new file once it is complete. Node writes the snapshot synchronously on the main
 * thread, so once the file exists, an answer from `readyUrl` means the write has finished.
 */
export async function takeHeapSnapshot(pid: number, dir: string, readyUrl: string, timeoutMs = 120_000): Promise<string> {
  const known = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let file: string | undefined;
  while (Date.now() < deadline) {
    file ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (file) {
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        const full = path.join(dir, file);
        const size = statSync(full).size;
        await new Promise((r) => setTimeout(r, 200));
        if (statSync(full).size === size) return full;
      } catch {
        /* still writing */
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no heap snapshot from pid ${pid} in ${dir} after ${timeoutMs} ms`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: npx tsx bench/lib/heapsnapshot.ts before.heapsnapshot after.heapsnapshot');
    process.exit(2);
  }
  const before = summarizeHeapSnapshot(a);
  const after = summarizeHeapSnapshot(b);
  const mib = (n: number) => (n / 2 ** 20).toFixed(2);
  console.log(`JS heap (live, after full GC): ${mib(before.jsHeapBytes)} → ${mib(after.jsHeapBytes)} MiB; native (ArrayBuffer stores): ${mib(before.nativeBytes)} → ${mib(after.nativeBytes)} MiB`);
  console.log('\nconstructor                                   count before → after        self bytes before → after');
  for (const r of diffHeapSummaries(before, after, 40)) {
    console.log(`${r.name.slice(0, 44).padEnd(44)} ${String(r.countBefore).padStart(9)} → ${String(r.countAfter).padEnd(9)} ${String(r.bytesBefore).padStart(12)} → ${r.bytesAfter}`);
  }
  console.log('\nlargest Maps/Sets after (holder, table bytes):');
  for (const c of after.collections) console.log(`  ${c.kind} ${c.holder}: ${c.tableBytes}`);
}
