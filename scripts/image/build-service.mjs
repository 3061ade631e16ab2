// Image build step (runs inside the Dockerfile's build stage, or on a host for inspection):
//   node scripts/image/build-service.mjs --service <name> --out <dir>   (--service defaults to $SERVICE)
// 1. Bundles services/<service>/src/main.ts with esbuild into <outDir>/dist/main.mjs. Workspace
//    packages (@marquee/*) are bundled from their TypeScript sources (`marquee-source` condition);
//    every other bare import stays external so npm packages load exactly as published (pino's
//    worker threads, for one, do not survive bundling).
// 2. Copies the production dependency closure of those external packages from the node_modules
//    installed on the build host into <outDir>/node_modules: no registry access during the build,
//    and no dev dependency in the image.
// 3. Copies services/<service>/migrations (resolved at run time as ../migrations from dist/).
// 4. A service with a web app (services/<service>/scripts/build-web.mjs: the console) gets its built
//    app copied into <outDir>/public (resolved at run time as ../public from dist/). It is built on
//    the host (npm install; deploy.sh for a build context): here it is only checked to be current,
//    and built only where Vite is at hand, as on a host run of this script.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

// The Dockerfile's exec-form RUN cannot expand build args, so the service may come from $SERVICE.
const { values: args } = parseArgs({ options: { service: { type: 'string' }, out: { type: 'string' } } });
const service = args.service ?? process.env.SERVICE ?? '';
const outArg = args.out;
if (!outArg || !/^[a-z0-9-]+$/.test(service)) {
  console.error('usage: node scripts/image/build-service.mjs --service <name> --out <dir>  (or SERVICE=<name>)');
  process.exit(2);
}
const root = process.cwd();
const out = path.resolve(outArg);
const serviceDir = path.join(root, 'services', service);
const entry = path.join(serviceDir, 'src', 'main.ts');
if (!existsSync(entry)) {
  console.error(`no entry point at ${entry}`);
  process.exit(1);
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const WORKSPACE_SCOPE = '@marquee/';

/** Node's lookup: <from>/node_modules/<name>, then each parent's, up to the root. */
function resolvePackageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
}

/** Runtime dependency names of a package.json (optional ones only when installed). */
function runtimeDeps(pkg) {
  return {
    required: Object.keys(pkg.dependencies ?? {}),
    optional: Object.keys(pkg.optionalDependencies ?? {}),
  };
}

// The service's npm dependencies = its own plus those of every workspace package it bundles.
const external = new Set();
const seenWorkspaces = new Set();
function collectWorkspace(pkgDir) {
  if (seenWorkspaces.has(pkgDir)) return;
  seenWorkspaces.add(pkgDir);
  const { required, optional } = runtimeDeps(readJson(path.join(pkgDir, 'package.json')));
  for (const name of [...required, ...optional]) {
    if (name.startsWith(WORKSPACE_SCOPE)) {
      const dir = resolvePackageDir(name, pkgDir);
      if (!dir) throw new Error(`workspace package ${name} not found from ${pkgDir}`);
      collectWorkspace(dir);
    } else {
      external.add(name);
    }
  }
}
collectWorkspace(serviceDir);

// Production closure on disk: resolve each dependency the way Node will at run time.
const closure = new Set(); // absolute package dirs
function collectPackage(name, fromDir, optional) {
  const dir = resolvePackageDir(name, fromDir);
  if (!dir) {
    if (optional) return;
    throw new Error(`dependency ${name} (needed from ${path.relative(root, fromDir) || '.'}) is not installed: run npm ci`);
  }
  if (closure.has(dir)) return;
  closure.add(dir);
  const { required, optional: opt } = runtimeDeps(readJson(path.join(dir, 'package.json')));
  for (const dep of required) collectPackage(dep, dir, false);
  for (const dep of opt) collectPackage(dep, dir, true);
}
for (const name of external) collectPackage(name, serviceDir, false);

const { build } = await import(path.join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [entry],
  outfile: path.join(out, 'dist', 'main.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['marquee-source'],
  sourcemap: 'linked',
  logLevel: 'warning',
  // Keep npm packages external; bundle relative imports and workspace packages.
  plugins: [
    {
      name: 'externalize-npm',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith(WORKSPACE_SCOPE) || args.path.startsWith('node:') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});

// Packages that bundled code imports must be resolvable from dist/: copy them under out/node_modules
// keeping their position relative to the root node_modules (nested copies stay nested).
for (const dir of [...closure].sort()) {
  const rel = path.relative(root, dir);
  cpSync(dir, path.join(out, rel), {
    recursive: true,
    dereference: true,
    // Nested node_modules are copied through the closure walk itself, so only needed ones land.
    filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules'),
  });
}

const migrations = path.join(serviceDir, 'migrations');
if (existsSync(migrations)) cpSync(migrations, path.join(out, 'migrations'), { recursive: true });

const webBuild = path.join(serviceDir, 'scripts', 'build-web.mjs');
if (existsSync(webBuild)) {
  const { buildConsole } = await import(webBuild);
  const built = path.join(serviceDir, 'public');
  await buildConsole({ outDir: built });
  cpSync(built, path.join(out, 'public'), { recursive: true, filter: (src) => !path.basename(src).startsWith('.') });
}

writeFileSync(
  path.join(out, 'package.json'),
  `${JSON.stringify({ name: `marquee-${service}`, private: true, type: 'module', main: 'dist/main.mjs' }, null, 2)}\n`,
);
console.log(`built ${service}: dist/main.mjs, ${closure.size} packages, migrations: ${existsSync(migrations) ? 'yes' : 'no'}, web app: ${existsSync(webBuild) ? 'yes' : 'no'}`);
