/**
 * `npm run chaos`: fault and bad-input runs of issue 7 (never part of `npm test`). Writes
 * chaos/results/latest.md and latest.json. `npm run chaos -- --only C1,C3` runs a subset.
 *   C1  10 000 malformed HTTP requests across every route of api-v1 and api-v2
 *   C2  10 000 hostile TCP sessions against device-tcp while healthy displays keep working
 *   C3  kill -9 of api-v2, account and device-tcp under load; nothing lost
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from '../bench/lib/proc.ts';
import { fmt, keptFigures, progressDone, writeResults, type Figure } from '../bench/lib/report.ts';
import { currentFdLimit, ensureFdLimit } from '../bench/lib/ulimit.ts';
import { runHttpMalformed } from './http-malformed.ts';
import { runTcpHostile } from './tcp-hostile.ts';
import { runKill9 } from './kill9.ts';
import { CHAOS_FINDINGS } from './findings.ts';

ensureFdLimit();

const PARTS: { id: string; run: (logDir: string) => Promise<Figure> }[] = [
  { id: 'C1', run: runHttpMalformed },
  { id: 'C2', run: runTcpHostile },
  { id: 'C3', run: runKill9 },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim().toUpperCase())) : null;
const resultsDir = path.join(import.meta.dirname, 'results');
const logDir = path.join(resultsDir, 'logs');
const startedAt = new Date();
const figures: Figure[] = [];
// With --only, figures of the other ids are kept from the previous results file (marked as such).
const kept = only ? keptFigures(path.join(resultsDir, 'latest.json')) : [];
function ordered(): Figure[] {
  const fresh = new Set(figures.map((f) => f.id));
  const order = PARTS.map((p) => p.id);
  return [...kept.filter((f) => !fresh.has(f.id)), ...figures].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
}
const info = () => ({
  title: 'Marquee fault and bad-input results',
  command: `npm run chaos${values.only ? ` -- --only ${values.only}` : ''}`,
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  seconds: (Date.now() - startedAt.getTime()) / 1000,
  machine: { ...machineInfo(), fdLimit: currentFdLimit() },
  notes: ['Services run as separate processes (their own main.ts under tsx) on a scratch database; service logs in chaos/results/logs/.'],
});

for (const part of PARTS) {
  if (only && !only.has(part.id)) continue;
  try {
    const f = await part.run(logDir);
    if (f.met === false && CHAOS_FINDINGS[f.id]) f.bottleneck = [f.bottleneck, CHAOS_FINDINGS[f.id]].filter(Boolean).join(' ');
    figures.push(f);
    progressDone(`${f.id}: ${f.result} ${f.met ? 'met' : 'MISSED'}`);
  } catch (err) {
    figures.push({ id: part.id, measure: 'run failed', target: '', result: `error: ${String(err).slice(0, 200)}`, met: false, details: { error: err instanceof Error ? err.stack : String(err) }, method: '' });
    progressDone(`${part.id}: FAILED: ${String(err)}`);
  }
  writeResults(resultsDir, 'latest', info(), ordered());
}
const files = writeResults(resultsDir, 'latest', info(), ordered());
progressDone(`chaos done in ${fmt.int((Date.now() - startedAt.getTime()) / 1000)} s → ${path.relative(process.cwd(), files.md)}, ${path.relative(process.cwd(), files.json)}`);
