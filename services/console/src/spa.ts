import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface SpaFile {
  body: Uint8Array;
  contentType: string;
  /** Strong validator: a hash of the bytes. */
  etag: string;
}

/** The built app, read into memory once at start: a handful of files, served from a map (no path is ever joined onto the disk). */
export interface SpaBundle {
  index: SpaFile;
  /** By URL path, e.g. `/assets/index-3f2a1b.js`, `/favicon.svg`. */
  files: Map<string, SpaFile>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

export class SpaMissingError extends Error {}

export async function loadSpa(dir: string): Promise<SpaBundle> {
  const files = new Map<string, SpaFile>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue; // build stamp and the like
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.set('/' + path.relative(dir, full).split(path.sep).join('/'), spaFile(entry.name, await readFile(full)));
    }
  };
  try {
    await walk(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const index = files.get('/index.html');
  if (!index) {
    throw new SpaMissingError(`The console app is not built: no index.html in ${dir}. Run \`npm run build -w @marquee/console\` (npm install does it).`);
  }
  return { index, files };
}

export function spaFile(name: string, body: Uint8Array): SpaFile {
  return {
    body,
    contentType: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}
