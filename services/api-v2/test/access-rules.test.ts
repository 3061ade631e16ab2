/**
 * The access rules stay in one place: only src/access.ts (the object rules) and src/authz.ts
 * (the role gate for whole actions) may look at a caller's role. A route or query that decided
 * access by itself would drift from the rules every other route follows.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
const ALLOWED = new Set(['access.ts', 'authz.ts']);

it('no source file outside access.ts and authz.ts reads a role', async () => {
  const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(20);
  const offenders: string[] = [];
  for (const file of files) {
    if (ALLOWED.has(file)) continue;
    const text = await readFile(path.join(SRC, file), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/\.role\b|\brole\s*[=!]==|'(admin|operator|advertiser)'\s*[=!]==/.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(offenders).toEqual([]);
});
