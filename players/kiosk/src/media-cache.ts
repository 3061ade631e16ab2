/**
 * Media on disk, keyed and verified by SHA-256: `media/<sha256>`. A download streams into a
 * temporary file while hashing; only a file whose hash (and size, when the server gives it)
 * matches is fsynced and renamed into place, so a file under its hash name is always the right
 * content, across crashes and power loss. Files no playlist references are evicted.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Media } from '@marquee/display-client';
import { fsyncDir } from './atomic.ts';

const SHA256 = /^[0-9a-f]{64}$/;

export class MediaError extends Error {
  override name = 'MediaError';
}

export interface MediaCacheOptions {
  /** Largest media file accepted (default 1 GiB). */
  maxBytes?: number;
  /** A download that takes longer is abandoned (default 10 min). */
  downloadTimeoutMs?: number;
}

export class MediaCache {
  readonly mediaDir: string;
  private readonly tmpDir: string;
  private downloads = new Map<string, Promise<void>>();
  /** Downloads completed since start (tests and logs). */
  downloaded = 0;

  constructor(
    dataDir: string,
    private readonly opts: MediaCacheOptions = {},
  ) {
    this.mediaDir = path.join(dataDir, 'media');
    this.tmpDir = path.join(dataDir, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.mediaDir, { recursive: true });
    // Leftovers of downloads a crash interrupted.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new MediaError(`not a SHA-256: ${sha256.slice(0, 80)}`);
    return path.join(this.mediaDir, sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.pathOf(sha256)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /** Re-hashes a stored file; deletes it and returns false if it does not match its name. */
  async verify(sha256: string): Promise<boolean> {
    const file = this.pathOf(sha256);
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    } catch {
      return false;
    }
    if (hash.digest('hex') === sha256) return true;
    await rm(file, { force: true });
    return false;
  }

  /** Makes sure the media is stored (downloading it if needed); throws MediaError if it cannot be. */
  ensure(media: Media): Promise<void> {
    const sha = media.mediaSha256;
    let running = this.downloads.get(sha);
    if (!running) {
      running = this.store(media).finally(() => this.downloads.delete(sha));
      this.downloads.set(sha, running);
    }
    return running;
  }

  private async store(media: Media): Promise<void> {
    const target = this.pathOf(media.mediaSha256);
    if (await this.has(media.mediaSha256)) return;
    const tmp = path.join(this.tmpDir, `${media.mediaSha256}.${process.pid}.${Date.now()}`);
    const handle = await open(tmp, 'w', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    const maxBytes = this.opts.maxBytes ?? 1024 ** 3;
    try {
      const res = await fetch(media.mediaUrl, { signal: AbortSignal.timeout(this.opts.downloadTimeoutMs ?? 600_000) });
      if (!res.ok || !res.body) throw new MediaError(`GET ${media.mediaUrl}: HTTP ${res.status}`);
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > maxBytes) throw new MediaError(`${media.mediaUrl} is larger than ${maxBytes} bytes`);
        if (media.sizeBytes !== null && size > media.sizeBytes) throw new MediaError(`${media.mediaUrl} is larger than the announced ${media.sizeBytes} bytes`);
        hash.update(chunk);
        await handle.write(chunk);
      }
      const actual = hash.digest('hex');
      if (actual !== media.mediaSha256) throw new MediaError(`${media.mediaUrl} has SHA-256 ${actual}, the playlist says ${media.mediaSha256}`);
      if (media.sizeBytes !== null && size !== media.sizeBytes) throw new MediaError(`${media.mediaUrl} has ${size} bytes, the playlist says ${media.sizeBytes}`);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(tmp, { force: true });
      if (err instanceof MediaError) throw err;
      throw new MediaError(`${media.mediaUrl}: ${(err as Error).message}`);
    }
    await handle.close();
    await rename(tmp, target);
    await fsyncDir(this.mediaDir);
    this.downloaded++;
  }

  /** Deletes every stored file whose hash is not in `keep`; returns how many. */
  async evict(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.mediaDir)) {
      if (keep.has(name) || this.downloads.has(name)) continue;
      await rm(path.join(this.mediaDir, name), { force: true });
      removed++;
    }
    if (removed) await fsyncDir(this.mediaDir);
    return removed;
  }
}
