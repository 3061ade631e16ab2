/**
 * Resumable upload of one file through api-v2's chunked upload API (POST /uploads, PUT chunks
 * with Content-Range, POST /uploads/{id}/complete). Chunks go by XMLHttpRequest because fetch
 * reports no upload progress. A chunk is committed whole or not at all, so after a dropped
 * connection the server's `received` offset is the truth: the uploader asks for it and goes on
 * from there, waiting longer between attempts while the network stays down.
 */
import { api, unwrap } from '../api/client.ts';
import { ApiError, NetworkError, problemOf } from '../api/problem.ts';
import type { components } from '../api/schema.ts';
import { API_BASE, session } from '../api/session.ts';

export type CompletedUpload = components['schemas']['CompletedUpload'];
export const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'video/mp4'] as const;
export const CHUNK_BYTES = 1024 * 1024;
/** Hashing needs the whole file in memory; above this the server's own hash is trusted. */
const HASH_LIMIT_BYTES = 64 * 1024 * 1024;
const MAX_ATTEMPTS = 30;

export interface UploadProgress {
  phase: 'checking' | 'uploading' | 'reconnecting' | 'completing' | 'done';
  sent: number;
  total: number;
  /** Set while reconnecting: what went wrong and when the next attempt is. */
  note?: string;
  /** How many times the connection dropped and the upload resumed. */
  resumes: number;
}

export interface UploadOptions {
  onProgress: (p: UploadProgress) => void;
  signal?: AbortSignal;
  chunkBytes?: number;
}

export function isUploadType(type: string): type is (typeof UPLOAD_TYPES)[number] {
  return (UPLOAD_TYPES as readonly string[]).includes(type);
}

export async function uploadFile(file: File, opts: UploadOptions): Promise<CompletedUpload> {
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
  const total = file.size;
  const progress: UploadProgress = { phase: 'checking', sent: 0, total, resumes: 0 };
  const report = (p: Partial<UploadProgress>) => opts.onProgress(Object.assign(progress, p));
  report({});

  const sha256 = await sha256Hex(file);
  const upload = await unwrap(api.POST('/uploads', { body: { contentType: file.type, totalBytes: total, ...(sha256 ? { sha256 } : {}) } }));
  let offset = upload.received;
  let failures = 0;
  report({ phase: 'uploading', sent: offset });

  while (offset < total) {
    opts.signal?.throwIfAborted();
    const end = Math.min(offset + chunkBytes, total);
    try {
      const res = await putChunk(upload.id, file.slice(offset, end), offset, total, (loaded) => report({ sent: offset + loaded }), opts.signal);
      if (res.status === 200) {
        offset = (JSON.parse(res.body) as { received: number }).received;
        failures = 0;
        report({ phase: 'uploading', sent: offset, note: undefined });
        continue;
      }
      const problem = await problemOf(new Response(res.body, { status: res.status }));
      if (res.status === 409 && problem.code === 'offset-mismatch' && typeof problem.received === 'number') {
        offset = problem.received; // the server has more (or less) than we thought: continue from its offset
        continue;
      }
      if (res.status === 401 && (await session.refresh())) continue;
      const transient = res.status === 503 || (res.status === 409 && problem.code === 'upload-busy');
      if (!transient) throw new ApiError(res.status, problem);
      failures = await backOff(++failures, problem.detail ?? 'The server is busy.', report, opts.signal, res.retryAfterSeconds);
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      progress.resumes++;
      failures = await backOff(++failures, 'Connection lost.', report, opts.signal);
      offset = await committedOffset(upload.id, offset);
    }
  }

  report({ phase: 'completing', sent: total, note: undefined });
  const media = await unwrap(api.POST('/uploads/{id}/complete', { params: { path: { id: upload.id } } }));
  report({ phase: 'done' });
  return media;
}

/** Waits before the next attempt (1 s, 2 s, 4 s … 15 s), telling the person; gives up after MAX_ATTEMPTS. */
async function backOff(attempt: number, why: string, report: (p: Partial<UploadProgress>) => void, signal?: AbortSignal, retryAfterSeconds?: number) {
  if (attempt > MAX_ATTEMPTS) throw new NetworkError();
  const waitMs = retryAfterSeconds ? retryAfterSeconds * 1000 : Math.min(15_000, 1000 * 2 ** Math.min(attempt - 1, 4));
  report({ phase: 'reconnecting', note: `${why} Resuming in ${Math.round(waitMs / 1000)} s…` });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, waitMs);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
  return attempt;
}

/** Where the server says the upload stands; on another network failure, the last known offset. */
async function committedOffset(id: string, fallback: number): Promise<number> {
  try {
    return (await unwrap(api.GET('/uploads/{id}', { params: { path: { id } } }))).received;
  } catch (err) {
    if (err instanceof NetworkError) return fallback;
    throw err;
  }
}

function putChunk(id: string, chunk: Blob, start: number, total: number, onLoaded: (bytes: number) => void, signal?: AbortSignal) {
  return new Promise<{ status: number; body: string; retryAfterSeconds?: number }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${API_BASE}/uploads/${id}`);
    const token = session.accessToken;
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('content-range', `bytes ${start}-${start + chunk.size - 1}/${total}`);
    xhr.upload.onprogress = (e) => onLoaded(e.loaded);
    xhr.onload = () => {
      const retryAfter = Number(xhr.getResponseHeader('retry-after'));
      resolve({ status: xhr.status, body: xhr.responseText, ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}) });
    };
    xhr.onerror = () => reject(new NetworkError());
    xhr.ontimeout = () => reject(new NetworkError());
    xhr.onabort = () => reject(signal?.reason ?? new NetworkError());
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(chunk);
  });
}

async function sha256Hex(file: File): Promise<string | undefined> {
  if (file.size > HASH_LIMIT_BYTES || !globalThis.crypto?.subtle) return undefined;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
