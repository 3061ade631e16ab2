/** Tiny but real-looking media files and upload helpers for the media and creatives suites. */
import { createHash, randomBytes } from 'node:crypto';
import { api, request, type Target } from '../../../test/support/http.ts';

/** A real 1x1 PNG. */
export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** A JPEG start (SOI + JFIF APP0) followed by filler. */
export const JPEG_HEAD = Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(64)]);

/** An MP4: an `ftyp` box (isom brand) followed by an `mdat` box of `payloadBytes` random bytes. */
export function mp4(payloadBytes: number): Buffer {
  const ftyp = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2')]);
  const mdatHeader = Buffer.alloc(8);
  mdatHeader.writeUInt32BE(8 + payloadBytes, 0);
  mdatHeader.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, mdatHeader, randomBytes(payloadBytes)]);
}

export const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Auth = { authorization: string };

export async function createUpload(base: Target, auth: Auth, body: Record<string, unknown>) {
  return api(base, 'POST', '/uploads', body, auth);
}

/** PUTs bytes [start, start + chunk.length) of a file of `total` bytes. */
export async function putChunk(base: Target, auth: Auth, id: string, chunk: Buffer, start: number, total: number, headers: Record<string, string> = {}) {
  const res = await request(base, `/uploads/${id}`, {
    method: 'PUT',
    headers: {
      ...auth,
      'content-type': 'application/octet-stream',
      'content-range': `bytes ${start}-${start + chunk.length - 1}/${total}`,
      ...headers,
    },
    body: chunk,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Uploads a whole file in chunks of `chunkBytes` and completes it; returns the completion answer. */
export async function uploadFile(base: Target, auth: Auth, file: Buffer, contentType: string, chunkBytes = 1024 * 1024) {
  const created = await createUpload(base, auth, { contentType, totalBytes: file.length, sha256: sha256Hex(file) });
  if (created.status !== 201) throw new Error(`create upload: ${created.status} ${JSON.stringify(created.body)}`);
  for (let start = 0; start < file.length; start += chunkBytes) {
    const put = await putChunk(base, auth, created.body.id, file.subarray(start, start + chunkBytes), start, file.length);
    if (put.status !== 200) throw new Error(`chunk at ${start}: ${put.status} ${JSON.stringify(put.body)}`);
  }
  const done = await api(base, 'POST', `/uploads/${created.body.id}/complete`, undefined, auth);
  return { id: created.body.id as string, ...done };
}
