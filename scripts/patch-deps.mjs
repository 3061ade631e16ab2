#!/usr/bin/env node
/**
 * Fixes known bugs in installed dependencies. Runs as the root `postinstall` (so `npm ci` on a
 * build host, in CI and on a developer machine all get it; images ship that node_modules).
 *
 * Each patch names the exact package version and the exact original text it replaces: a file that
 * is already patched is left alone, and anything else (another version, changed text) is reported
 * and left untouched, so an upgrade never gets a blind edit. `--check` only reports (exit 1 when a
 * patch is missing); packages/service-kit/test/postgres-queue.test.ts runs that check.
 *
 * postgres 3.4.9 (porsager/postgres, also unfixed upstream): the pool's connection queues
 * (open, busy, …) are arrays whose shift() only blanks the slot and advances an index; the array
 * is reset only when a shift() empties the queue. A queue that never runs empty — `open` while
 * fewer queries are in flight than connections exist, `busy` while queries are pipelined onto busy
 * connections — grows by one slot per query for as long as the process lives, and remove(), called
 * on every query to move a connection between queues, scans the whole array from slot 0. Measured:
 * 53 000 slots after 4 s at one query in flight with 20 connections open; under bench H2 the scan
 * (Array.prototype.indexOf) was 16.8 % of api-v2's CPU. The fix scans only the live part and drops
 * the dead prefix once it is at least half of the array (amortised O(1), bounded memory).
 *
 * postgres 3.4.9 (connection.js): once a connection's socket has closed (the database restarted,
 * or its backend was terminated), a query sent on it as a reserved connection — the ROLLBACK
 * sql.begin() sends after an error, or any query on sql.reserve() — is buffered for the next tick,
 * and that tick calls `socket.write` on null: an uncaught TypeError that ends the process (api-v2
 * tasks exited 1 during the Swarm test's PostgreSQL restart). The fix fails those queries with
 * CONNECTION_CLOSED instead, which the kit answers as 503; releasing such a reserved
 * connection leaves it with the closed ones instead of handing it out as open; and a connection
 * that closed mid-query forgets that query's error instead of failing the first query after it
 * reconnects with it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const QUEUE_ORIGINAL = `function Queue(initial = []) {
  let xs = initial.slice()
  let index = 0

  return {
    get length() {
      return xs.length - index
    },
    remove: (x) => {
      const index = xs.indexOf(x)
      return index === -1
        ? null
        : (xs.splice(index, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      const out = xs[index++]

      if (index === xs.length) {
        index = 0
        xs = []
      } else {
        xs[index - 1] = undefined
      }

      return out
    }
  }
}
`;

const QUEUE_PATCHED = `function Queue(initial = []) {
  // Patched by marquee scripts/patch-deps.mjs: shifted-out slots are dropped, not kept forever.
  let xs = initial.slice()
  let index = 0

  return {
    get length() {
      return xs.length - index
    },
    remove: (x) => {
      const i = xs.indexOf(x, index)
      return i === -1
        ? null
        : (xs.splice(i, 1), x)
    },
    push: (x) => (xs.push(x), x),
    shift: () => {
      const out = xs[index++]

      if (index >= xs.length) {
        index = 0
        xs = []
      } else if (index >= 64 && index * 2 >= xs.length) {
        xs = xs.slice(index)
        index = 0
      } else {
        xs[index - 1] = undefined
      }

      return out
    }
  }
}
`;

const EXECUTE_ORIGINAL = `  function execute(q) {
    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))
`;

const EXECUTE_PATCHED = `  function execute(q) {
    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))

    // Patched by marquee scripts/patch-deps.mjs: a query on a connection whose socket closed fails
    // at once (true: the connection takes the next query, which fails the same way).
    if (!socket)
      return (queryError(q, Errors.connection('CONNECTION_CLOSED', options)), true)
`;

const WRITE_ORIGINAL = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)
`;

const WRITE_PATCHED = `  function nextWrite(fn) {
    // Patched by marquee scripts/patch-deps.mjs: nothing to write to once the socket closed.
    if (!socket)
      return (chunk = nextWriteTimer = null, false)
    const x = socket.write(chunk, fn)
`;

const RELEASE_ORIGINAL = `    sql.release = () => {
      c.reserved = null
      onopen(c)
    }
`;

const RELEASE_PATCHED = `    sql.release = () => {
      c.reserved = null
      // Patched by marquee scripts/patch-deps.mjs: a connection that closed while reserved stays
      // with the closed ones (the pool reconnects it when needed), never among the open ones.
      c.queue === closed || onopen(c)
    }
`;

const CLOSED_ORIGINAL = `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
    closedTime = performance.now()
`;

const CLOSED_PATCHED = `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
    // Patched by marquee scripts/patch-deps.mjs: the closed session's query is answered; its error
    // (e.g. 57P01 from a terminated backend) must not be handed to the first query after reconnecting.
    query = results = errorResponse = null
    closedTime = performance.now()
`;

/** @type {{ pkg: string; version: string; files: string[]; original: string; patched: string; why: string }[]} */
export const PATCHES = [
  {
    pkg: 'postgres',
    version: '3.4.9',
    files: ['src/queue.js', 'cjs/src/queue.js', 'cf/src/queue.js'],
    original: QUEUE_ORIGINAL,
    patched: QUEUE_PATCHED,
    why: 'pool queues grow by one slot per query and are scanned linearly on every query',
  },
  {
    pkg: 'postgres',
    version: '3.4.9',
    files: ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js'],
    original: EXECUTE_ORIGINAL,
    patched: EXECUTE_PATCHED,
    why: 'a query on a reserved connection whose socket closed is written to null (see WRITE below)',
  },
  {
    pkg: 'postgres',
    version: '3.4.9',
    files: ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js'],
    original: WRITE_ORIGINAL,
    patched: WRITE_PATCHED,
    why: 'a query on a reserved connection whose socket closed crashes the process (TypeError in nextWrite)',
  },
  {
    pkg: 'postgres',
    version: '3.4.9',
    files: ['src/index.js', 'cjs/src/index.js', 'cf/src/index.js'],
    original: RELEASE_ORIGINAL,
    patched: RELEASE_PATCHED,
    why: 'releasing a reserved connection that closed puts it among the open ones, where every query fails',
  },
  {
    pkg: 'postgres',
    version: '3.4.9',
    files: ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js'],
    original: CLOSED_ORIGINAL,
    patched: CLOSED_PATCHED,
    why: 'a connection that closed mid-query hands that query\'s error to the first query after it reconnects',
  },
];

/**
 * Applies (or with `apply: false` only inspects) every patch. Returns one line per file that is
 * not patched after the run, i.e. what needs a look.
 */
export function patchDependencies({ root = ROOT, apply = true } = {}) {
  const problems = [];
  for (const patch of PATCHES) {
    const dir = path.join(root, 'node_modules', patch.pkg);
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue; // not installed (e.g. a partial install): nothing to fix
    const version = JSON.parse(readFileSync(manifest, 'utf8')).version;
    if (version !== patch.version) {
      problems.push(`${patch.pkg}@${version}: patch written for ${patch.version} (${patch.why}); check whether the new version still needs it and update scripts/patch-deps.mjs`);
      continue;
    }
    for (const rel of patch.files) {
      const file = path.join(dir, rel);
      if (!existsSync(file)) continue; // that build of the package is not shipped
      const text = readFileSync(file, 'utf8');
      if (text.includes(patch.patched)) continue;
      if (!text.includes(patch.original)) {
        problems.push(`${patch.pkg}/${rel}: text differs from what the patch expects; not patched`);
        continue;
      }
      if (apply) writeFileSync(file, text.replace(patch.original, patch.patched));
      else problems.push(`${patch.pkg}/${rel}: not patched (run node scripts/patch-deps.mjs)`);
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const problems = patchDependencies({ apply: !check });
  for (const p of problems) console.warn(`patch-deps: ${p}`);
  // A failed install over a version bump would be worse than a warning; --check is for tests.
  process.exitCode = check && problems.length ? 1 : 0;
}
