import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { mp4, PNG_1X1, sha256Hex, uploadFile } from './media-fixtures.ts';

let h: ApiV2TestApp;
let video: Buffer;
let videoPath: string;
let pngPath: string;

beforeAll(async () => {
  h = await startApiV2TestApp('v2media');
  const adv = h.user('advertiser');
  video = mp4(2_600_000);
  // Small chunks so the stored object spans many lo_put calls and the reads cross their borders.
  const v = await uploadFile(h.v2, adv.auth, video, 'video/mp4', 1_000_003);
  expect(v.status).toBe(200);
  videoPath = `/media/${v.body.sha256}`;
  const png = await uploadFile(h.v2, adv.auth, PNG_1X1, 'image/png');
  expect(png.status).toBe(200);
  pngPath = `/media/${png.body.sha256}`;
});
afterAll(async () => h?.close());

const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('GET /media/{sha256}', () => {
  it('serves the bytes publicly with a strong ETag, immutable caching and the stored type', async () => {
    const res = await request(h.v2, videoPath);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${sha256Hex(video)}"`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('content-length')).toBe(String(video.length));
    expect(Buffer.compare(await bytes(res), video)).toBe(0);

    const png = await request(h.v2, pngPath);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.compare(await bytes(png), PNG_1X1)).toBe(0);
  });

  it('answers 304 to a matching If-None-Match (also in a list, weak or *) and 200 otherwise', async () => {
    const etag = `"${sha256Hex(video)}"`;
    for (const inm of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
      const res = await request(h.v2, videoPath, { headers: { 'if-none-match': inm } });
      expect(res.status).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await bytes(res)).length).toBe(0);
    }
    expect((await request(h.v2, videoPath, { headers: { 'if-none-match': '"something-else"' } })).status).toBe(200);
  });

  it('serves single byte ranges (206) across storage block borders', async () => {
    const size = video.length;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=10-99', 10, 99],
      ['bytes=1048000-2097200', 1048000, 2097200],
      [`bytes=${size - 100}-`, size - 100, size - 1],
      ['bytes=-250', size - 250, size - 1],
      [`bytes=5-${size + 1000}`, 5, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await request(h.v2, videoPath, { headers: { range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(Buffer.compare(await bytes(res), video.subarray(start, end + 1)), range).toBe(0);
    }
  });

  it('answers 416 with Content-Range */size for ranges past the end, and ignores odd or stale ranges', async () => {
    for (const range of [`bytes=${video.length}-`, `bytes=${video.length + 5}-${video.length + 10}`, 'bytes=-0']) {
      const res = await request(h.v2, videoPath, { headers: { range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${video.length}`);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { status: number }).status).toBe(416);
    }
    // Malformed, multi-range and If-Range with another validator: the whole file.
    for (const headers of [{ range: 'bytes=5-2' }, { range: 'items=0-5' }, { range: 'bytes=0-1,5-6' }, { range: 'bytes=0-9', 'if-range': '"old"' }] as Record<string, string>[]) {
      const res = await request(h.v2, videoPath, { headers });
      expect(res.status).toBe(200);
      expect((await bytes(res)).length).toBe(video.length);
    }
    const matching = await request(h.v2, videoPath, { headers: { range: 'bytes=0-9', 'if-range': `"${sha256Hex(video)}"` } });
    expect(matching.status).toBe(206);
  });

  it('answers HEAD with the headers only, and 404 problem for unknown or malformed hashes', async () => {
    const head = await request(h.v2, videoPath, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(video.length));
    expect(head.headers.get('etag')).toBe(`"${sha256Hex(video)}"`);
    for (const hash of ['0'.repeat(64), sha256Hex(video).toUpperCase(), 'abc', "'; select 1 --"]) {
      const res = await request(h.v2, `/media/${encodeURIComponent(hash)}`);
      expect(res.status, hash).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('documents the media and upload routes in the OpenAPI document', async () => {
    const doc = (await (await request(h.v2, `/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/uploads', '/uploads/{id}', '/uploads/{id}/complete', '/media/{sha256}']));
    expect(Object.keys(doc.paths['/uploads/{id}'])).toEqual(expect.arrayContaining(['get', 'put', 'delete']));
    // Public: it overrides the document's default bearer security.
    expect(doc.paths['/media/{sha256}'].get.security).toEqual([]);
  });
});
