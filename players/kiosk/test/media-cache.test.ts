/** The media cache: only verified content under a hash name, crash leftovers cleared, eviction. */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Media } from '@marquee/display-client';
import { MediaCache, MediaError } from '../src/media-cache.ts';
import { MediaServer } from './support/media-server.ts';
import { sha256 } from './support/pixels.ts';

let server: MediaServer;
let dir: string;
beforeAll(async () => (server = await MediaServer.start()));
afterAll(() => server.close());
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

const media = (m: { mediaUrl: string; mediaSha256: string; sizeBytes?: number | null }, extra: Partial<Media> = {}): Media => ({
  type: 'image',
  mimeType: 'image/png',
  sizeBytes: null,
  durationMs: 1000,
  scripts: false,
  ...m,
  ...extra,
});

async function fresh() {
  dir = mkdtempSync(path.join(tmpdir(), 'marquee-cache-'));
  const cache = new MediaCache(dir);
  await cache.init();
  return cache;
}

describe('media cache', () => {
  it('stores a download under its SHA-256 and does not download it twice', async () => {
    const cache = await fresh();
    const file = server.add('some image bytes', 'image/png');
    const before = server.requests;
    await Promise.all([cache.ensure(media(file)), cache.ensure(media(file))]);
    await cache.ensure(media(file));
    expect(server.requests - before).toBe(1);
    expect(readFileSync(cache.pathOf(file.mediaSha256), 'utf8')).toBe('some image bytes');
    expect(await cache.verify(file.mediaSha256)).toBe(true);
  });

  it('refuses content whose hash or size does not match, and leaves nothing behind', async () => {
    const cache = await fresh();
    const file = server.add('the real bytes', 'image/png');
    const wrongHash = 'f'.repeat(64);
    await expect(cache.ensure(media({ mediaUrl: file.mediaUrl, mediaSha256: wrongHash }))).rejects.toThrow(/has SHA-256 .* the playlist says f{64}/);
    await expect(cache.ensure(media({ ...file, sizeBytes: 3 }))).rejects.toThrow(/larger than the announced 3 bytes/);
    await expect(cache.ensure(media({ ...file, mediaUrl: file.mediaUrl.replace(/[0-9a-f]{64}$/, '0'.repeat(64)) }))).rejects.toThrow(MediaError);
    expect(readdirSync(path.join(dir, 'media'))).toEqual([]);
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('finds a damaged file, clears crash leftovers and evicts what no playlist references', async () => {
    const cache = await fresh();
    const a = server.add('aaa', 'image/png');
    const b = server.add('bbb', 'image/png');
    await cache.ensure(media(a));
    await cache.ensure(media(b));
    writeFileSync(cache.pathOf(b.mediaSha256), 'bit rot');
    expect(await cache.verify(b.mediaSha256)).toBe(false);
    expect(existsSync(cache.pathOf(b.mediaSha256))).toBe(false);
    writeFileSync(path.join(dir, 'tmp', 'half-download'), 'x');
    const again = new MediaCache(dir);
    await again.init();
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(await again.evict(new Set())).toBe(1);
    expect(readdirSync(path.join(dir, 'media'))).toEqual([]);
  });

  it('never touches a path that is not a hash', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'marquee-cache-'));
    expect(() => new MediaCache(dir).pathOf('../../etc/passwd')).toThrow(MediaError);
  });
});
