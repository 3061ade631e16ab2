/** Figures, the progress line and the results files (Markdown for people, JSON for tools). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Figure {
  id: string;
  measure: string;
  target: string;
  /** The headline figure, human readable (e.g. "84.1 % (41 203 vs 48 990 req/s)"). */
  result: string;
  /** true = target met, false = missed, null = report only / not measurable. */
  met: boolean | null;
  /** Every raw number behind the headline. */
  details: Record<string, unknown>;
  /** What was run (load tool, connections, durations, service flags). */
  method: string;
  /** When missed: what bound it, with the profiling evidence, and what it would take. */
  bottleneck?: string;
  /** What the raw numbers mean, met or not (e.g. which part of RSS is garbage or allocator slack). */
  notes?: string;
  seconds?: number;
  /** Set on figures carried over from an earlier run by `--only`. */
  measuredIn?: string;
}

let lastLine = '';
const tty = process.stderr.isTTY;

/** One progress line, rewritten in place on a terminal; throttled lines otherwise. */
export function progress(line: string): void {
  if (tty) {
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 120) - 1)}\x1b[K`);
  } else if (line !== lastLine) {
    process.stderr.write(`${line}\n`);
  }
  lastLine = line;
}

export function progressDone(line: string): void {
  if (tty) process.stderr.write(`\r${line}\x1b[K\n`);
  else process.stderr.write(`${line}\n`);
  lastLine = '';
}

/** Rate-limited progress for tight loops (non-TTY logs get one line per `everyMs`). */
export function throttled(everyMs = tty ? 250 : 5_000) {
  let last = 0;
  return (line: string) => {
    const now = Date.now();
    if (now - last >= everyMs) {
      last = now;
      progress(line);
    }
  };
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' '),
  pct: (r: number) => `${(r * 100).toFixed(1)} %`,
  ms: (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`,
  kb: (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`,
};

export interface RunInfo {
  title: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  machine: Record<string, unknown>;
  notes: string[];
}

export function writeResults(dir: string, base: string, info: RunInfo, figures: Figure[], extraMarkdown = ''): { md: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const md = path.join(dir, `${base}.md`);
  const json = path.join(dir, `${base}.json`);
  writeFileSync(json, JSON.stringify({ ...info, figures }, null, 2) + '\n');
  const mark = (f: Figure) => (f.met === true ? '✅ met' : f.met === false ? '❌ missed' : 'ℹ️ report');
  const lines = [
    `# ${info.title}`,
    '',
    `- command: \`${info.command}\``,
    `- run: ${info.startedAt} → ${info.finishedAt} (${Math.round(info.seconds)} s)`,
    `- machine: ${Object.entries(info.machine).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...info.notes.map((n) => `- ${n}`),
    '',
    '| id | measure | target | result | status |',
    '|---|---|---|---|---|',
    ...figures.map((f) => `| ${f.id} | ${f.measure} | ${f.target} | ${f.result} | ${mark(f)} |`),
    '',
  ];
  for (const f of figures) {
    lines.push(`## ${f.id}: ${f.measure}`, '', `**Result:** ${f.result} — target ${f.target} — ${mark(f)}`, '', `**Method:** ${f.method}`, '');
    if (f.measuredIn) lines.push(`*Measured in an earlier run: \`${f.measuredIn}\`.*`, '');
    if (f.notes) lines.push(`**Notes:** ${f.notes}`, '');
    if (f.bottleneck) lines.push(`**What bound it:** ${f.bottleneck}`, '');
    lines.push('```json', JSON.stringify(f.details, null, 2), '```', '');
  }
  if (extraMarkdown) lines.push(extraMarkdown);
  writeFileSync(md, lines.join('\n'));
  return { md, json };
}

/**
 * The figures of a previous results file, each marked with the run that measured it, for a run
 * with --only to keep. Where that file itself carried a figure over, the carried one is kept.
 */
export function keptFigures(latestJson: string): Figure[] {
  if (!existsSync(latestJson)) return [];
  const previous = JSON.parse(readFileSync(latestJson, 'utf8')) as { figures: Figure[]; startedAt: string; command: string };
  // One figure per id: the one that run measured itself wins over one it had carried over.
  const byId = new Map<string, Figure>();
  for (const f of previous.figures) if (!byId.has(f.id) || !f.measuredIn) byId.set(f.id, f);
  return [...byId.values()].map((f) => ({ ...f, measuredIn: f.measuredIn ?? `${previous.command} at ${previous.startedAt}` }));
}
