/**
 * `npm run bench`: the performance suite of issue 7 on this machine. Writes
 * bench/results/latest.md and latest.json (machine, Node version, commands, every figure).
 * `npm run bench -- --only H1,H2` re-runs a subset; the other figures are kept from the previous
 * results file, each marked with the run that measured it.
 * BENCH_PROFILE=1 starts the measured services with --cpu-prof (profiles in bench/results/profiles).
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from './lib/proc.ts';
import { fmt, keptFigures, progressDone, writeResults, type Figure } from './lib/report.ts';
import type { SuiteContext } from './lib/suite.ts';
import { currentFdLimit, ensureFdLimit } from './lib/ulimit.ts';
import { runH1 } from './suites/h1-hono-vs-node.ts';
import { runH2 } from './suites/h2-authenticated-read.ts';
import { runB1 } from './suites/b1-conflicting-bookings.ts';
import { runT1 } from './suites/t1-connections.ts';
import { runT2T3 } from './suites/t2-t3-push-and-storm.ts';
import { runT4 } from './suites/t4-plays.ts';
import { runH3 } from './suites/h3-internal-hop.ts';
import { FINDINGS } from './findings.ts';

ensureFdLimit();

const SUITES: { ids: string[]; run: (ctx: SuiteContext) => Promise<Figure[]> }[] = [
  { ids: ['H1'], run: runH1 },
  { ids: ['H2'], run: runH2 },
  { ids: ['B1'], run: runB1 },
  { ids: ['T1'], run: runT1 },
  { ids: ['T2', 'T2 CPU', 'T3'], run: runT2T3 },
  { ids: ['T4'], run: runT4 },
  { ids: ['H3'], run: runH3 },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim().toUpperCase())) : null;
const resultsDir = path.join(import.meta.dirname, 'results');
const ctx: SuiteContext = {
  resultsDir,
  logDir: path.join(resultsDir, 'logs'),
  profileDir: path.join(resultsDir, 'profiles'),
  profile: process.env.BENCH_PROFILE === '1',
};
mkdirSync(ctx.logDir, { recursive: true });

const startedAt = new Date();
const loadAtStart = os.loadavg();
const figures: Figure[] = [];
// With --only, figures of the other ids are kept from the previous results file (marked as such).
const kept = only ? keptFigures(path.join(resultsDir, 'latest.json')) : [];
const info = () => ({
  title: 'Marquee benchmark results',
  command: `npm run bench${values.only ? ` -- --only ${values.only}` : ''}`,
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  seconds: (Date.now() - startedAt.getTime()) / 1000,
  machine: { ...machineInfo(), fdLimit: currentFdLimit() },
  notes: [
    'Every figure with a baseline is measured in the same run, alternating with its baseline, and reported as a ratio.',
    'Services run as separate processes (their own main.ts under tsx) on a scratch database; service logs in bench/results/logs/.',
    loadNote(),
  ],
});

for (const suite of SUITES) {
  if (only && !suite.ids.some((id) => only.has(id))) continue;
  const t0 = performance.now();
  try {
    const got = await suite.run(ctx);
    for (const f of got) if (f.met === false && FINDINGS[f.id]) f.bottleneck = [f.bottleneck, FINDINGS[f.id]].filter(Boolean).join(' ');
    figures.push(...got);
    for (const f of got) progressDone(`${f.id}: ${f.result} (target ${f.target}) ${f.met === false ? 'MISSED' : f.met ? 'met' : ''}`);
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    for (const id of suite.ids) {
      figures.push({ id, measure: 'suite failed', target: '', result: `error: ${String(err).slice(0, 200)}`, met: false, details: { error: message }, method: '' });
    }
    progressDone(`${suite.ids.join(',')}: FAILED after ${((performance.now() - t0) / 1000).toFixed(0)} s: ${String(err)}`);
  }
  writeResults(resultsDir, 'latest', info(), ordered());
}
const files = writeResults(resultsDir, 'latest', info(), ordered());

/** Whether other work shared the machine, from the load averages (a run alone keeps them near the core count). */
function loadNote(): string {
  const show = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const now = os.loadavg();
  const shared = Math.max(loadAtStart[0]!, now[0]!) > os.availableParallelism() * 1.5;
  return (
    `Load average (1 / 5 / 15 min) at the start ${show(loadAtStart)}, at the end ${show(now)}, on ${os.availableParallelism()} cores` +
    (shared ? ': other work (other engineers\' test runs) shared the machine during this run, so absolute figures are lower and noisier than on a quiet machine; ratios are measured side by side to cancel most of that.' : '.')
  );
}

function ordered(): Figure[] {
  const order = ['H1', 'H2', 'H3', 'T1', 'T2', 'T2 CPU', 'T3', 'T4', 'B1'];
  const fresh = new Set(figures.map((f) => f.id));
  return [...kept.filter((f) => !fresh.has(f.id)), ...figures].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
}
progressDone(`bench done in ${fmt.int((Date.now() - startedAt.getTime()) / 1000)} s → ${path.relative(process.cwd(), files.md)}, ${path.relative(process.cwd(), files.json)}`);
