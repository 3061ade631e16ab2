import { createRoute, z } from '@hono/zod-openapi';
import {
  ConflictError,
  DependencyUnavailableError,
  MalformedRequestError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
  type AccessClaims,
  type Queryable,
} from '@marquee/service-kit';
import { authenticated, requireRole } from '../authz.ts';
import { bearerSecurity, createRouter, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { createLargeObject, hashLargeObject, readBody, readLargeObject, unlinkLargeObject, writeBodyAt } from './large-objects.ts';
import { parseContentRange } from './ranges.ts';
import { CompletedUploadSchema, CreateUploadSchema, UploadIdParam, UploadSchema } from './schemas.ts';
import { isUploadContentType, SNIFF_BYTES, sniffContentType, UPLOAD_CONTENT_TYPES } from './sniff.ts';
import * as db from './uploads-sql.ts';
import type { MediaDeps } from './routes.ts';

/** Largest single PUT; bigger files are sent as several chunks. */
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
/** An open upload may be resumed for this long, then its bytes are discarded. */
export const UPLOAD_TTL_SECONDS = 24 * 3600;
/** A chunk whose client sends nothing for this long is abandoned (its transaction rolls back). */
export const CHUNK_IDLE_TIMEOUT_MS = 30_000;
/** Open uploads per owner: each may hold up to maxUploadBytes of storage. */
export const MAX_OPEN_UPLOADS = 20;
/**
 * Chunks being written at once by this process. Each holds a pooled connection (its transaction)
 * for as long as its client takes to send, so slow uploaders must never take the whole pool (20).
 */
export const MAX_CONCURRENT_CHUNKS = 8;

const offsetHeader = { 'Upload-Offset': { description: 'Bytes committed so far', schema: { type: 'integer' as const } } };

export function uploadRoutes(deps: MediaDeps) {
  const app = createRouter();
  const gate = [authenticated(deps.verifier), requireRole('advertiser', 'admin')] as const;
  app.use('/uploads/*', ...gate); // Hono's /x/* also matches /x itself

  let chunksInFlight = 0;
  const urlOf = (id: string) => `${deps.publicBaseUrl}/uploads/${id}`;
  const mediaUrlOf = (sha256: string) => `${deps.publicBaseUrl}/media/${sha256}`;
  const toUpload = (r: db.UploadRow) => ({
    id: r.id,
    uploadUrl: urlOf(r.id),
    contentType: r.content_type,
    totalBytes: Number(r.total_bytes),
    received: Number(r.received_bytes),
    status: r.status,
    expectedSha256: r.expected_sha256,
    expiresAt: r.expires_at.toISOString(),
    createdAt: r.created_at.toISOString(),
    media:
      r.media_sha256 && r.media_content_type
        ? { sha256: r.media_sha256, contentType: r.media_content_type, sizeBytes: Number(r.media_size_bytes), url: mediaUrlOf(r.media_sha256) }
        : null,
  });

  /** The locked upload, open and unexpired; otherwise the matching 404/409. */
  const lockOpenUpload = async (tx: Queryable, id: string, user: AccessClaims) => {
    const row = await db.lockUpload(tx, id, user);
    if (row === 'busy') throw new ConflictError('Another request on this upload (a chunk or completion) is in progress; retry when it has finished.', { code: 'upload-busy' });
    if (!row) throw new NotFoundError('No such upload.');
    return row;
  };
  const assertOpen = (row: db.UploadRow) => {
    if (row.status !== 'open') throw new ConflictError(`This upload is ${row.status}.`, { code: `upload-${row.status}` });
    if (row.expires_at.getTime() <= Date.now()) throw new ConflictError('This upload has expired; start a new one.', { code: 'upload-expired' });
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/uploads',
      tags: ['media'],
      summary: 'Start a resumable upload of an image or video',
      description: `Then PUT the bytes to \`uploadUrl\` in chunks of at most ${MAX_CHUNK_BYTES} bytes and POST \`/uploads/{id}/complete\`. Accepted types: ${UPLOAD_CONTENT_TYPES.join(', ')}.`,
      security: bearerSecurity,
      request: { body: jsonBody(CreateUploadSchema) },
      responses: {
        201: jsonResponse(UploadSchema, 'Upload created (Location: its URL)'),
        403: problem('Only advertisers (and admins) upload media'),
        409: problem(`Too many open uploads (at most ${MAX_OPEN_UPLOADS}); complete or DELETE some`),
        413: problem('totalBytes above the server limit (`maxUploadBytes` in the problem)'),
        415: problem('contentType not accepted (`supported` in the problem)'),
        ...pick(400, 401, 422, 503),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const body = c.req.valid('json');
      if (!isUploadContentType(body.contentType)) {
        throw new UnsupportedMediaTypeError(`Content type "${body.contentType}" is not accepted.`, { supported: UPLOAD_CONTENT_TYPES });
      }
      if (body.totalBytes > deps.maxUploadBytes) {
        throw new PayloadTooLargeError(`Files may be at most ${deps.maxUploadBytes} bytes; this one is ${body.totalBytes}.`, { maxUploadBytes: deps.maxUploadBytes });
      }
      if ((await db.countOpenUploads(deps.sql, user.sub)) >= MAX_OPEN_UPLOADS) {
        throw new ConflictError(`At most ${MAX_OPEN_UPLOADS} uploads may be open at once; complete or delete some first.`, { code: 'too-many-open-uploads' });
      }
      const row = await deps.sql.begin(async (tx) => {
        await discardExpiredUploads(tx);
        const loOid = await createLargeObject(tx);
        return db.insertUpload(tx, {
          ownerId: user.sub,
          contentType: body.contentType,
          totalBytes: body.totalBytes,
          expectedSha256: body.sha256 ?? null,
          loOid,
          ttlSeconds: UPLOAD_TTL_SECONDS,
        });
      });
      c.header('location', urlOf(row.id));
      return c.json(toUpload(row), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/uploads/{id}',
      tags: ['media'],
      summary: 'An upload and its committed offset (where to resume)',
      security: bearerSecurity,
      request: { params: UploadIdParam },
      responses: { 200: { ...jsonResponse(UploadSchema, 'The upload'), headers: offsetHeader }, 403: problem('Not an advertiser'), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const row = await db.findUpload(deps.sql, c.req.valid('param').id, c.get('user'));
      if (!row) throw new NotFoundError('No such upload.');
      c.header('upload-offset', row.received_bytes);
      c.header('cache-control', 'no-store');
      return c.json(toUpload(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/uploads/{id}',
      tags: ['media'],
      summary: 'Send one chunk of the file',
      description:
        'Headers: `Content-Range: bytes <start>-<end>/<totalBytes>` (required) and `Content-Type: application/octet-stream`. ' +
        '`start` must equal the committed offset (`received`); otherwise 409 with `received` so the client can resume from there. ' +
        'Re-sending an already committed chunk with identical bytes is accepted (200, nothing changes). ' +
        'A chunk is committed whole or not at all: if the connection breaks mid-chunk the offset stays where it was.',
      security: bearerSecurity,
      request: {
        params: UploadIdParam,
        body: { required: true, content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      },
      responses: {
        200: { ...jsonResponse(UploadSchema, 'Chunk committed'), headers: offsetHeader },
        400: problem('Missing/malformed Content-Range, or the body length differs from it'),
        403: problem('Not an advertiser'),
        409: problem('Offset mismatch (`received` = where to resume), upload busy, completed, aborted or expired'),
        413: problem(`Chunk larger than ${MAX_CHUNK_BYTES} bytes`),
        415: problem('Body is not application/octet-stream'),
        422: problem('Content-Range total differs from the upload\'s totalBytes, or its end is past it'),
        503: problem(`More than ${MAX_CONCURRENT_CHUNKS} chunks are being received at once; retry after Retry-After`),
        ...pick(401, 404),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const { id } = c.req.valid('param');
      const range = parseContentRange(c.req.header('content-range'));
      const length = range.end - range.start + 1;
      if (length > MAX_CHUNK_BYTES) {
        throw new PayloadTooLargeError(`A chunk may carry at most ${MAX_CHUNK_BYTES} bytes; this one declares ${length}.`, { maxChunkBytes: MAX_CHUNK_BYTES });
      }
      const type = c.req.header('content-type');
      if (type && !/^application\/octet-stream\s*(;|$)/i.test(type)) {
        throw new UnsupportedMediaTypeError('Chunks are raw bytes: send them as application/octet-stream.');
      }
      const contentLength = c.req.header('content-length');
      if (contentLength !== undefined && Number(contentLength) !== length) {
        throw new MalformedRequestError(`Content-Length ${contentLength} differs from the ${length} bytes the Content-Range declares.`);
      }
      if (chunksInFlight >= MAX_CONCURRENT_CHUNKS) {
        throw new DependencyUnavailableError('The server is receiving as many chunks as it can; retry this one shortly.', 2);
      }
      chunksInFlight++;
      const row = await deps.sql.begin(async (tx) => {
        const row = await lockOpenUpload(tx, id, user);
        assertOpen(row);
        const total = Number(row.total_bytes);
        const received = Number(row.received_bytes);
        if (range.total !== total) throw new ValidationError(`Content-Range total ${range.total} differs from this upload's totalBytes ${total}.`);
        if (range.end >= total) throw new ValidationError(`Content-Range end ${range.end} is past the file's last byte (${total - 1}).`);
        if (range.start !== received) {
          if (range.end < received) {
            // A retry of a chunk that did arrive (its response was lost): fine if identical.
            const sent = await readBody(c.req.raw.body, length, CHUNK_IDLE_TIMEOUT_MS);
            const stored = await readLargeObject(tx, row.lo_oid, range.start, length);
            if (sent.equals(stored)) return row;
          }
          throw new ConflictError(`This upload has ${received} bytes committed; send the chunk that starts at ${received}.`, {
            code: 'offset-mismatch',
            received,
          });
        }
        await writeBodyAt(tx, row.lo_oid, range.start, c.req.raw.body, { expectedBytes: length, idleTimeoutMs: CHUNK_IDLE_TIMEOUT_MS });
        await db.setReceived(tx, id, range.end + 1);
        return { ...row, received_bytes: String(range.end + 1) };
      }).finally(() => chunksInFlight--);
      c.header('upload-offset', row.received_bytes);
      return c.json(toUpload(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/uploads/{id}/complete',
      tags: ['media'],
      summary: 'Verify the bytes and store them as media, keyed by their SHA-256',
      description:
        'Checks the SHA-256 against the declared one and the file\'s magic bytes against the declared type. On either mismatch the upload is aborted ' +
        '(its bytes discarded). Identical bytes already stored are reused (`deduplicated: true`). Completing a completed upload returns the same result.',
      security: bearerSecurity,
      request: { params: UploadIdParam },
      responses: {
        200: jsonResponse(CompletedUploadSchema, 'Stored; `url` serves it'),
        403: problem('Not an advertiser'),
        409: problem('Not all bytes received (`received`), busy, aborted or expired'),
        415: problem('The bytes are not of the declared type (`detected` in the problem)'),
        422: problem('SHA-256 differs from the declared one (`expectedSha256`, `actualSha256`)'),
        ...pick(401, 404, 503),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const { id } = c.req.valid('param');
      const outcome = await deps.sql.begin(async (tx) => {
        const row = await lockOpenUpload(tx, id, user);
        if (row.status === 'completed') {
          const media = (await db.findMedia(tx, row.media_sha256!))!;
          return { kind: 'stored' as const, media, deduplicated: media.lo_oid !== row.lo_oid };
        }
        assertOpen(row);
        const total = Number(row.total_bytes);
        const received = Number(row.received_bytes);
        if (received < total) {
          throw new ConflictError(`Only ${received} of ${total} bytes have been received.`, { code: 'upload-incomplete', received, totalBytes: total });
        }
        const detected = sniffContentType(await readLargeObject(tx, row.lo_oid, 0, SNIFF_BYTES));
        if (detected !== row.content_type) {
          await discardUpload(tx, row);
          return { kind: 'wrong-type' as const, declared: row.content_type, detected };
        }
        const sha256 = await hashLargeObject(tx, row.lo_oid, total);
        if (row.expected_sha256 && row.expected_sha256 !== sha256) {
          await discardUpload(tx, row);
          return { kind: 'wrong-checksum' as const, expected: row.expected_sha256, actual: sha256 };
        }
        const stored = await db.insertMediaIfNew(tx, { sha256, contentType: row.content_type, sizeBytes: total, loOid: row.lo_oid });
        if (!stored) await unlinkLargeObject(tx, row.lo_oid);
        await db.markCompleted(tx, id, sha256);
        return { kind: 'stored' as const, media: (await db.findMedia(tx, sha256))!, deduplicated: !stored };
      });
      // Refusals are thrown after the transaction so that aborting the upload is committed.
      if (outcome.kind === 'wrong-type') {
        throw new UnsupportedMediaTypeError(`The file was declared ${outcome.declared} but its content is ${outcome.detected ?? 'none of the accepted types'}; the upload was aborted.`, {
          declared: outcome.declared,
          detected: outcome.detected,
        });
      }
      if (outcome.kind === 'wrong-checksum') {
        throw new ValidationError(`The bytes' SHA-256 is ${outcome.actual}, not the declared ${outcome.expected}; the upload was aborted.`, {
          expectedSha256: outcome.expected,
          actualSha256: outcome.actual,
        });
      }
      const m = outcome.media;
      return c.json(
        { sha256: m.sha256, contentType: m.content_type, sizeBytes: Number(m.size_bytes), url: mediaUrlOf(m.sha256), deduplicated: outcome.deduplicated },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/uploads/{id}',
      tags: ['media'],
      summary: 'Abandon an open upload (its bytes are discarded)',
      security: bearerSecurity,
      request: { params: UploadIdParam },
      responses: { 204: { description: 'Aborted' }, 403: problem('Not an advertiser'), 409: problem('Completed or busy'), ...pick(401, 404, 503) },
    }),
    async (c) => {
      await deps.sql.begin(async (tx) => {
        const row = await lockOpenUpload(tx, c.req.valid('param').id, c.get('user'));
        if (row.status === 'completed') throw new ConflictError('This upload is completed; its media stay.', { code: 'upload-completed' });
        if (row.status === 'open') await discardUpload(tx, row);
      });
      return c.body(null, 204);
    },
  );

  return app;
}

async function discardUpload(tx: Queryable, row: { id: string; lo_oid: number }) {
  await unlinkLargeObject(tx, row.lo_oid);
  await db.markAborted(tx, row.id);
}

/** Opportunistic cleanup on each new upload, so abandoned bytes never pile up. */
async function discardExpiredUploads(tx: Queryable) {
  for (const row of await db.lockExpiredUploads(tx, 20)) await discardUpload(tx, row);
}
