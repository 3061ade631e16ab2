import { createRoute, z } from '@hono/zod-openapi';
import { MalformedRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '@marquee/service-kit';
import { authenticated } from '../authz.ts';
import { completedUploadExample, createUploadExample, receivedUploadExample, uploadExample } from '../examples.ts';
import { bearerSecurity, createRouter, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { parseContentRange } from './ranges.ts';
import { CompletedUploadSchema, CreateUploadSchema, UploadIdParam, UploadSchema } from './schemas.ts';
import { UPLOAD_CONTENT_TYPES, type UploadContentType } from './sniff.ts';
import { createUploads, MAX_CHUNK_BYTES, MAX_CONCURRENT_CHUNKS, MAX_OPEN_UPLOADS } from './uploads.ts';
import type { UploadRow } from './uploads-sql.ts';
import type { MediaDeps } from './routes.ts';

const offsetHeader = { 'Upload-Offset': { description: 'Bytes committed so far', schema: { type: 'integer' as const } } };

export function uploadRoutes(deps: MediaDeps) {
  const app = createRouter();
  // Everyone signed in: advertisers for their ads, operators for their displays' house content.
  app.use('/uploads/*', authenticated(deps.verifier)); // Hono's /x/* also matches /x itself

  const uploads = createUploads(deps);
  const urlOf = (id: string) => `${deps.publicBaseUrl}/uploads/${id}`;
  const mediaUrlOf = (sha256: string) => `${deps.publicBaseUrl}/media/${sha256}`;
  const toUpload = (r: UploadRow) => ({
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

  app.openapi(
    createRoute({
      method: 'post',
      path: '/uploads',
      operationId: 'createUpload',
      tags: ['media'],
      summary: 'Start a resumable upload of an image or video',
      description: `Then PUT the bytes to \`uploadUrl\` in chunks of at most ${MAX_CHUNK_BYTES} bytes and POST \`/uploads/{id}/complete\`. Accepted types: ${UPLOAD_CONTENT_TYPES.join(', ')}.`,
      security: bearerSecurity,
      request: { body: jsonBody(CreateUploadSchema, { example: createUploadExample }) },
      responses: {
        201: jsonResponse(UploadSchema, 'Upload created (Location: its URL)', uploadExample),
        409: problem(`Too many open uploads (at most ${MAX_OPEN_UPLOADS}); complete or DELETE some`),
        413: problem('totalBytes above the server limit (`maxUploadBytes` in the problem)'),
        415: problem('contentType not accepted (`supported` in the problem)'),
        ...pick(400, 401, 422, 503),
      },
    }),
    async (c) => {
      const row = await uploads.start(c.get('user'), c.req.valid('json'));
      c.header('location', urlOf(row.id));
      return c.json(toUpload(row), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/uploads/{id}',
      operationId: 'getUpload',
      tags: ['media'],
      summary: 'An upload and its committed offset (where to resume)',
      security: bearerSecurity,
      request: { params: UploadIdParam },
      responses: { 200: { ...jsonResponse(UploadSchema, 'The upload', receivedUploadExample), headers: offsetHeader }, ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const row = await uploads.find(c.get('user'), c.req.valid('param').id);
      c.header('upload-offset', row.received_bytes);
      c.header('cache-control', 'no-store');
      return c.json(toUpload(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/uploads/{id}',
      operationId: 'uploadChunk',
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
        200: { ...jsonResponse(UploadSchema, 'Chunk committed', receivedUploadExample), headers: offsetHeader },
        400: problem('Missing/malformed Content-Range, or the body length differs from it'),
        409: problem('Offset mismatch (`received` = where to resume), upload busy, completed, aborted or expired'),
        413: problem(`Chunk larger than ${MAX_CHUNK_BYTES} bytes`),
        415: problem('Body is not application/octet-stream'),
        422: problem('Content-Range total differs from the upload\'s totalBytes, or its end is past it'),
        503: problem(`More than ${MAX_CONCURRENT_CHUNKS} chunks are being received at once; retry after Retry-After`),
        ...pick(401, 404),
      },
    }),
    async (c) => {
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
      const row = await uploads.receiveChunk(c.get('user'), c.req.valid('param').id, range, () => c.req.raw.body);
      c.header('upload-offset', row.received_bytes);
      return c.json(toUpload(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/uploads/{id}/complete',
      operationId: 'completeUpload',
      tags: ['media'],
      summary: 'Verify the bytes and store them as media, keyed by their SHA-256',
      description:
        'Checks the SHA-256 against the declared one and the file\'s magic bytes against the declared type. On either mismatch the upload is aborted ' +
        '(its bytes discarded). Identical bytes already stored are reused (`deduplicated: true`). Completing a completed upload returns the same result.',
      security: bearerSecurity,
      request: { params: UploadIdParam },
      responses: {
        200: jsonResponse(CompletedUploadSchema, 'Stored; `url` serves it', completedUploadExample),
        409: problem('Not all bytes received (`received`), busy, aborted or expired'),
        415: problem('The bytes are not of the declared type (`detected` in the problem)'),
        422: problem('SHA-256 differs from the declared one (`expectedSha256`, `actualSha256`)'),
        ...pick(401, 404, 503),
      },
    }),
    async (c) => {
      const { media: m, deduplicated } = await uploads.complete(c.get('user'), c.req.valid('param').id);
      // Media completed from an upload are of an upload type (text/HTML bodies are not valid uploads).
      return c.json({ sha256: m.sha256, contentType: m.content_type as UploadContentType, sizeBytes: Number(m.size_bytes), url: mediaUrlOf(m.sha256), deduplicated }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/uploads/{id}',
      operationId: 'abortUpload',
      tags: ['media'],
      summary: 'Abandon an open upload (its bytes are discarded)',
      security: bearerSecurity,
      request: { params: UploadIdParam },
      responses: { 204: { description: 'Aborted' }, 409: problem('Completed or busy'), ...pick(401, 404, 503) },
    }),
    async (c) => {
      await uploads.abort(c.get('user'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return app;
}
