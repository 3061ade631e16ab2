import http from 'node:http';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { createUpload, mp4, PNG_1X1, putChunk, sha256Hex, uploadFile } from './media-fixtures.ts';

const MiB = 1024 * 1024;
let h: ApiV2TestApp;
let db: postgres.Sql;
let adv: Session;
let other: Session;

beforeAll(async () => {
  h = await startApiV2TestApp('v2uploads');
  db = postgres(h.db.url, { max: 2, onnotice: () => {} });
  [adv, other] = [h.user('advertiser'), h.user('advertiser')];
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

const loExists = async (oid: number) => (await db`select 1 from pg_largeobject_metadata where oid = ${oid}`).length === 1;
const uploadRow = async (id: string) => (await db`select received_bytes, status, lo_oid from uploads where id = ${id}`)[0]!;

/**
 * Starts a PUT that declares `declared` bytes and sends only `sent` of them, leaving the
 * connection open (a stalled or soon-to-vanish client). `destroy()` then drops the socket.
 */
async function partialPut(id: string, auth: { authorization: string }, start: number, declared: Buffer, sent: number, total: number) {
  const url = new URL(`${await h.listen()}/uploads/${id}`);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'PUT',
    headers: {
      ...auth,
      'content-type': 'application/octet-stream',
      'content-length': String(declared.length),
      'content-range': `bytes ${start}-${start + declared.length - 1}/${total}`,
    },
  });
  const outcome = new Promise<string>((resolve) => {
    req.on('response', (res) => resolve(`response ${res.statusCode}`));
    req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
  });
  await new Promise<void>((resolve) => req.write(declared.subarray(0, sent), () => resolve()));
  return { outcome, destroy: () => req.destroy() };
}

/**
 * Waits until `n` chunk requests hold their upload row (SELECT … FOR UPDATE takes a ROW SHARE
 * lock on the table for the transaction) — i.e. the server is receiving their bodies.
 */
async function chunkWriters(n: number) {
  for (let i = 0; i < 500; i++) {
    const [{ writers }] = (await db`
      select count(*)::int as writers from pg_locks l join pg_class c on c.oid = l.relation
      where l.database = (select oid from pg_database where datname = current_database())
        and c.relname = 'uploads' and l.mode = 'RowShareLock' and l.granted`) as unknown as [{ writers: number }];
    if (writers >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`fewer than ${n} chunk writers after 10 s`);
}

describe('resumable chunked upload', () => {
  it('uploads a few MB in several chunks, survives a broken chunk, resumes and completes with the right checksum', async () => {
    const file = mp4(3 * MiB + 12_345);
    const total = file.length;
    const created = await createUpload(h.v2, adv.auth, { contentType: 'video/mp4', totalBytes: total, sha256: sha256Hex(file) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ received: 0, totalBytes: total, status: 'open', contentType: 'video/mp4' });
    expect(created.body.uploadUrl).toMatch(new RegExp(`/uploads/${created.body.id}$`));
    expect(new Date(created.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 3600_000);
    expect(created.headers.get('location')).toBe(created.body.uploadUrl);
    const id = created.body.id as string;

    // Two whole 1 MiB chunks (each far above the app's 64 KiB default body cap).
    for (const start of [0, MiB]) {
      const put = await putChunk(h.v2, adv.auth, id, file.subarray(start, start + MiB), start, total);
      expect(put.status).toBe(200);
      expect(put.body.received).toBe(start + MiB);
      expect(put.headers.get('upload-offset')).toBe(String(start + MiB));
    }

    // Third chunk: declared 1 MiB, half sent, then the connection dies.
    const broken = await partialPut(id, adv.auth, 2 * MiB, file.subarray(2 * MiB, 3 * MiB), MiB / 2, total);
    await chunkWriters(1);
    // Mid-chunk, the half-written bytes are invisible and the upload is held by the writer.
    expect((await api(h.v2, 'GET', `/uploads/${id}`, undefined, adv.auth)).body.received).toBe(2 * MiB);
    const concurrent = await putChunk(h.v2, adv.auth, id, file.subarray(2 * MiB, 3 * MiB), 2 * MiB, total);
    expect(concurrent.status).toBe(409);
    expect(concurrent.body.code).toBe('upload-busy');
    broken.destroy();
    expect(await broken.outcome).not.toBe('response 200');
    // The server notices, rolls the chunk back and releases the upload: the offset is the last commit.
    let resumed: Awaited<ReturnType<typeof putChunk>> | undefined;
    for (let i = 0; i < 100; i++) {
      const state = await api(h.v2, 'GET', `/uploads/${id}`, undefined, adv.auth);
      expect(state.status).toBe(200);
      expect(state.body.received).toBe(2 * MiB);
      expect(state.headers.get('upload-offset')).toBe(String(2 * MiB));
      resumed = await putChunk(h.v2, adv.auth, id, file.subarray(2 * MiB, 3 * MiB), 2 * MiB, total);
      if (!(resumed.status === 409 && resumed.body.code === 'upload-busy')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(resumed!.status).toBe(200);
    expect(resumed!.body.received).toBe(3 * MiB);

    // The stored bytes so far are exactly the file's first 3 MiB (nothing of the broken half survived twice).
    const oid = Number((await uploadRow(id)).lo_oid);
    const [row] = await db<{ stored: Buffer }[]>`select lo_get(${oid}, 0, ${3 * MiB}) as stored`;
    const stored = row!.stored;
    expect(Buffer.compare(stored, file.subarray(0, 3 * MiB))).toBe(0);

    // A chunk from the wrong offset is refused with the offset to resume from.
    const skipped = await putChunk(h.v2, adv.auth, id, file.subarray(3 * MiB + 10), 3 * MiB + 10, total);
    expect(skipped.status).toBe(409);
    expect(skipped.body).toMatchObject({ code: 'offset-mismatch', received: 3 * MiB });
    // Re-sending a committed chunk (lost response) is accepted unchanged; different bytes are not.
    const again = await putChunk(h.v2, adv.auth, id, file.subarray(MiB, 2 * MiB), MiB, total);
    expect(again.status).toBe(200);
    expect(again.body.received).toBe(3 * MiB);
    const altered = await putChunk(h.v2, adv.auth, id, randomBytes(MiB), MiB, total);
    expect(altered.status).toBe(409);
    expect(altered.body.received).toBe(3 * MiB);

    // Completing early is refused; the last chunk then completes it.
    const early = await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, adv.auth);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'upload-incomplete', received: 3 * MiB, totalBytes: total });
    const last = await putChunk(h.v2, adv.auth, id, file.subarray(3 * MiB), 3 * MiB, total);
    expect(last.status).toBe(200);
    expect(last.body.received).toBe(total);

    const done = await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, adv.auth);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ sha256: sha256Hex(file), contentType: 'video/mp4', sizeBytes: total, deduplicated: false });
    expect(done.body.url).toMatch(new RegExp(`/media/${sha256Hex(file)}$`));
    // Completing again answers the same (a retry after a lost response).
    const twice = await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, adv.auth);
    expect(twice.status).toBe(200);
    expect(twice.body).toEqual(done.body);
    const after = await api(h.v2, 'GET', `/uploads/${id}`, undefined, adv.auth);
    expect(after.body).toMatchObject({ status: 'completed', media: { sha256: sha256Hex(file), sizeBytes: total } });
    // Closed for writing now.
    expect((await putChunk(h.v2, adv.auth, id, file.subarray(0, 10), 0, total)).status).toBe(409);

    const media = await request(h.v2, `/media/${done.body.sha256}`);
    expect(media.status).toBe(200);
    expect(sha256Hex(Buffer.from(await media.arrayBuffer()))).toBe(sha256Hex(file));
  });

  it('refuses a wrong checksum (422) and aborts the upload, discarding its bytes', async () => {
    const created = await createUpload(h.v2, adv.auth, { contentType: 'image/png', totalBytes: PNG_1X1.length, sha256: sha256Hex(Buffer.from('other')) });
    const id = created.body.id as string;
    expect((await putChunk(h.v2, adv.auth, id, PNG_1X1, 0, PNG_1X1.length)).status).toBe(200);
    const done = await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, adv.auth);
    expect(done.status).toBe(422);
    expect(done.headers.get('content-type')).toBe('application/problem+json');
    expect(done.body).toMatchObject({ expectedSha256: sha256Hex(Buffer.from('other')), actualSha256: sha256Hex(PNG_1X1) });
    const row = await uploadRow(id);
    expect(row.status).toBe('aborted');
    expect(await loExists(Number(row.lo_oid))).toBe(false);
    expect((await db`select 1 from media where sha256 = ${sha256Hex(PNG_1X1)}`).length).toBe(0);
    const retry = await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, adv.auth);
    expect(retry.status).toBe(409);
    expect(retry.body.code).toBe('upload-aborted');
  });

  it('refuses bytes that are not the declared type (a PNG declared as video/mp4 → 415)', async () => {
    const created = await createUpload(h.v2, adv.auth, { contentType: 'video/mp4', totalBytes: PNG_1X1.length });
    const id = created.body.id as string;
    expect((await putChunk(h.v2, adv.auth, id, PNG_1X1, 0, PNG_1X1.length)).status).toBe(200);
    const done = await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, adv.auth);
    expect(done.status).toBe(415);
    expect(done.body).toMatchObject({ declared: 'video/mp4', detected: 'image/png' });
    expect((await uploadRow(id)).status).toBe('aborted');
  });

  it('stores identical content once: a second upload of the same bytes reuses it', async () => {
    const file = mp4(2000);
    const first = await uploadFile(h.v2, adv.auth, file, 'video/mp4');
    const second = await uploadFile(h.v2, other.auth, file, 'video/mp4');
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body.deduplicated).toBe(false);
    expect(second.body).toMatchObject({ sha256: first.body.sha256, deduplicated: true });
    const media = await db`select lo_oid from media where sha256 = ${first.body.sha256}`;
    expect(media.length).toBe(1);
    expect(Number(media[0]!.lo_oid)).toBe(Number((await uploadRow(first.id)).lo_oid));
    expect(await loExists(Number((await uploadRow(second.id)).lo_oid))).toBe(false);
  });
});

describe('upload limits and bad input', () => {
  it('answers 415 for unsupported types and 413 for files above the limit', async () => {
    for (const contentType of ['image/gif', 'text/html', 'application/octet-stream', 'video/quicktime']) {
      const res = await createUpload(h.v2, adv.auth, { contentType, totalBytes: 100 });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body.supported).toEqual(['image/png', 'image/jpeg', 'image/webp', 'video/mp4']);
    }
    const big = await createUpload(h.v2, adv.auth, { contentType: 'video/mp4', totalBytes: 512 * MiB + 1 });
    expect(big.status).toBe(413);
    expect(big.body.maxUploadBytes).toBe(512 * MiB);
    for (const bad of [
      { contentType: 'image/png' },
      { contentType: 'image/png', totalBytes: 0 },
      { contentType: 'image/png', totalBytes: 1.5 },
      { contentType: 'image/png', totalBytes: '100' },
      { contentType: 'image/png', totalBytes: 100, sha256: 'XYZ' },
      { contentType: 'image/png', totalBytes: 100, extra: true },
    ]) {
      expect((await createUpload(h.v2, adv.auth, bad)).status).toBe(422);
    }
  });

  it('refuses chunks over 8 MiB (413), without Content-Range (400), not octet-stream (415), or outside the file (422)', async () => {
    const total = 20 * MiB;
    const created = await createUpload(h.v2, adv.auth, { contentType: 'video/mp4', totalBytes: total });
    const id = created.body.id as string;
    const tooBig = await putChunk(h.v2, adv.auth, id, Buffer.alloc(8 * MiB + 1), 0, total);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.maxChunkBytes).toBe(8 * MiB);

    const noRange = await request(h.v2, `/uploads/${id}`, { method: 'PUT', headers: { ...adv.auth, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(10) });
    expect(noRange.status).toBe(400);
    expect(noRange.headers.get('content-type')).toBe('application/problem+json');
    expect((await putChunk(h.v2, adv.auth, id, Buffer.alloc(10), 0, total, { 'content-range': 'bytes=0-9' })).status).toBe(400);
    expect((await putChunk(h.v2, adv.auth, id, Buffer.alloc(10), 0, total, { 'content-range': 'bytes 9-0/100' })).status).toBe(400);
    expect((await putChunk(h.v2, adv.auth, id, Buffer.alloc(10), 0, total, { 'content-range': `bytes 0-19/${total}` })).status).toBe(400);
    expect((await putChunk(h.v2, adv.auth, id, Buffer.alloc(10), 0, total, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await putChunk(h.v2, adv.auth, id, Buffer.alloc(10), 0, total + 1)).status).toBe(422);
    expect((await putChunk(h.v2, adv.auth, id, Buffer.alloc(10), total - 5, total + 5)).status).toBe(422);
    expect((await api(h.v2, 'GET', `/uploads/${id}`, undefined, adv.auth)).body.received).toBe(0);
    expect((await api(h.v2, 'GET', '/uploads/not-a-uuid', undefined, adv.auth)).status).toBe(422);
  });

  it('caps open uploads per owner at 20 (409); abandoning one frees a place', async () => {
    const s = h.user('advertiser');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await createUpload(h.v2, s.auth, { contentType: 'image/png', totalBytes: 100 })).body.id);
    const over = await createUpload(h.v2, s.auth, { contentType: 'image/png', totalBytes: 100 });
    expect(over.status).toBe(409);
    expect(over.body.code).toBe('too-many-open-uploads');
    expect((await api(h.v2, 'DELETE', `/uploads/${ids[0]}`, undefined, s.auth)).status).toBe(204);
    expect((await createUpload(h.v2, s.auth, { contentType: 'image/png', totalBytes: 100 })).status).toBe(201);
  });

  it('lets an owner abandon an open upload (DELETE), freeing its bytes', async () => {
    const created = await createUpload(h.v2, adv.auth, { contentType: 'image/png', totalBytes: PNG_1X1.length });
    const id = created.body.id as string;
    await putChunk(h.v2, adv.auth, id, PNG_1X1, 0, PNG_1X1.length);
    const oid = Number((await uploadRow(id)).lo_oid);
    expect((await api(h.v2, 'DELETE', `/uploads/${id}`, undefined, adv.auth)).status).toBe(204);
    expect(await loExists(oid)).toBe(false);
    expect((await putChunk(h.v2, adv.auth, id, PNG_1X1, 0, PNG_1X1.length)).body.code).toBe('upload-aborted');
  });

  it('discards expired open uploads when new ones are created', async () => {
    const created = await createUpload(h.v2, other.auth, { contentType: 'image/png', totalBytes: PNG_1X1.length });
    const id = created.body.id as string;
    await putChunk(h.v2, other.auth, id, PNG_1X1.subarray(0, 10), 0, PNG_1X1.length);
    await db`update uploads set expires_at = now() - interval '1 second' where id = ${id}`;
    const expired = await putChunk(h.v2, other.auth, id, PNG_1X1.subarray(10), 10, PNG_1X1.length);
    expect(expired.status).toBe(409);
    expect(expired.body.code).toBe('upload-expired');
    await createUpload(h.v2, adv.auth, { contentType: 'image/png', totalBytes: 10 });
    const row = await uploadRow(id);
    expect(row.status).toBe('aborted');
    expect(await loExists(Number(row.lo_oid))).toBe(false);
  });
});

describe('capacity', () => {
  it('receives at most 8 chunks at once (503 + Retry-After beyond), so slow clients cannot take the whole database pool', async () => {
    const s = h.user('advertiser');
    const file = mp4(100_000);
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push((await createUpload(h.v2, s.auth, { contentType: 'video/mp4', totalBytes: file.length })).body.id);
    const stalled = await Promise.all(ids.slice(0, 8).map((id) => partialPut(id, s.auth, 0, file, 1000, file.length)));
    await chunkWriters(8);
    const refused = await putChunk(h.v2, s.auth, ids[8]!, file, 0, file.length);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other requests still get database connections meanwhile.
    expect((await api(h.v2, 'GET', `/uploads/${ids[8]}`, undefined, s.auth)).status).toBe(200);
    for (const put of stalled) put.destroy();
    let accepted: Awaited<ReturnType<typeof putChunk>> | undefined;
    for (let i = 0; i < 100; i++) {
      accepted = await putChunk(h.v2, s.auth, ids[8]!, file, 0, file.length);
      if (accepted.status !== 503) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(accepted!.status).toBe(200);
    for (const id of ids.slice(0, 8)) expect((await uploadRow(id)).received_bytes).toBe('0');
  });
});

describe('who may upload', () => {
  it('keeps uploads per owner (404 for anyone else, operators too), refuses anonymous callers (401)', async () => {
    const created = await createUpload(h.v2, adv.auth, { contentType: 'image/png', totalBytes: PNG_1X1.length });
    const id = created.body.id as string;
    expect((await api(h.v2, 'GET', `/uploads/${id}`, undefined, other.auth)).status).toBe(404);
    expect((await putChunk(h.v2, other.auth, id, PNG_1X1, 0, PNG_1X1.length)).status).toBe(404);
    expect((await api(h.v2, 'POST', `/uploads/${id}/complete`, undefined, other.auth)).status).toBe(404);
    expect((await api(h.v2, 'DELETE', `/uploads/${id}`, undefined, other.auth)).status).toBe(404);
    expect((await uploadRow(id)).received_bytes).toBe('0');

    const operator = h.user('operator');
    // Operators upload their displays' house content.
    expect((await createUpload(h.v2, operator.auth, { contentType: 'image/png', totalBytes: 10 })).status).toBe(201);
    expect((await api(h.v2, 'GET', `/uploads/${id}`, undefined, operator.auth)).status).toBe(404);
    expect((await createUpload(h.v2, {} as never, { contentType: 'image/png', totalBytes: 10 })).status).toBe(401);
    expect((await putChunk(h.v2, {} as never, id, PNG_1X1, 0, PNG_1X1.length)).status).toBe(401);
  });
});
