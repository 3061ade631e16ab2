#!/usr/bin/env node
/**
 * Builds the console's single-page app (web/) into public/, which the console service serves.
 *   node services/console/scripts/build-web.mjs            build if public/ is missing or stale
 *   node services/console/scripts/build-web.mjs --force    always build
 * Runs at `npm install` (root postinstall) and again from `npm start` when the sources changed
 * since the last build, so `npm install && npm start` stays the whole setup. "Stale" = the hash
 * of every file under web/ (and the workspace's package.json) differs from the one stamped into
 * public/.stamp by the last build. scripts/image/build-service.mjs calls it too: in an image build
 * the host-built public/ is up to date, so the image build never runs Vite (nor needs its native
 * binaries in the build image).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WEB_DIR = path.join(CONSOLE_DIR, 'web');
const STAMP = '.stamp';

/** Hash of the app's sources: every file under web/ plus the workspace manifest. */
export function sourceHash() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(path.relative(WEB_DIR, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  walk(WEB_DIR);
  hash.update(readFileSync(path.join(CONSOLE_DIR, 'package.json')));
  return hash.digest('hex');
}

/**
 * Builds into `outDir` (default services/console/public) unless it already holds a build of the
 * current sources. Returns what happened.
 */
export async function buildConsole({ outDir = path.join(CONSOLE_DIR, 'public'), force = false, log = console.log } = {}) {
  const wanted = sourceHash();
  const stampFile = path.join(outDir, STAMP);
  if (!force && existsSync(path.join(outDir, 'index.html')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === wanted) {
    return 'up to date';
  }
  let vite;
  try {
    vite = await import('vite');
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(
      `cannot build the console into ${outDir}: the \`vite\` package is not installed. Run npm install (with dev dependencies); ` +
        'an image build expects services/console/public built on the host (npm install and scripts/deploy.sh do it).',
    );
  }
  const started = performance.now();
  // Built beside the target and swapped in whole, so a server reading public/ never sees half a
  // build and two builds at once (parallel test files) cannot interleave their files.
  const staging = `${outDir}.building-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // Vite takes React's development build when NODE_ENV says so (vitest sets it to "test").
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await vite.build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), mode: 'production', build: { outDir: staging }, logLevel: 'warn' });
    writeFileSync(path.join(staging, STAMP), wanted + '\n');
    const old = `${staging}.old`;
    if (existsSync(outDir)) renameSync(outDir, old);
    renameSync(staging, outDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    rmSync(staging, { recursive: true, force: true });
  }
  log(`console: built the web app into ${path.relative(process.cwd(), outDir) || outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 'built';
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  try {
    const outAt = process.argv.indexOf('--out');
    await buildConsole({ force: process.argv.includes('--force'), ...(outAt > 0 ? { outDir: path.resolve(process.argv[outAt + 1]) } : {}) });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
