import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildConsole, sourceHash } from '../scripts/build-web.mjs';

const out = mkdtempSync(path.join(tmpdir(), 'console-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('builds the app once per source version: hashed assets referenced by index.html, no inline script', async () => {
  expect(await buildConsole({ outDir: out, log: () => {} })).toBe('built');
  const html = readFileSync(path.join(out, 'index.html'), 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.some((a) => /\/assets\/index-[\w-]{6,}\.js$/.test(a))).toBe(true);
  expect(assets.some((a) => /\/assets\/index-[\w-]{6,}\.css$/.test(a))).toBe(true);
  for (const asset of assets) expect(existsSync(path.join(out, asset)), asset).toBe(true);
  // The CSP allows scripts from files only: the built page must not carry an inline one.
  expect(html.match(/<script\b[^>]*>/g)?.every((tag) => /\bsrc=/.test(tag))).toBe(true);
  expect(html).not.toMatch(/https?:\/\//);
  // React's production build, even though vitest runs this with NODE_ENV=test.
  const js = readFileSync(path.join(out, assets.find((a) => a.endsWith('.js'))!), 'utf8');
  expect(js).not.toContain('cannot be a child of');
  expect(readFileSync(path.join(out, '.stamp'), 'utf8').trim()).toBe(sourceHash());
  expect(await buildConsole({ outDir: out, log: () => {} })).toBe('up to date');
}, 120_000);
