import {
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
  type AccessClaims,
  type Queryable,
  type Sql,
} from '@marquee/service-kit';
import { createLargeObject, hashLargeObject, readBody, readLargeObject, unlinkLargeObject, writeBodyAt } from './large-objects.ts';
import type { ByteRange } from './ranges.ts';
import { isUploadContentType, SNIFF_BYTES, sniffContentType, UPLOAD_CONTENT_TYPES } from './sniff.ts';
import * as db from './uploads-sql.ts';

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

export type CompleteOutcome = { media: db.MediaRow; deduplicated: boolean };

/**
 * Resumable uploads of the caller's media: start, chunks appended at the committed offset (each in
 * its own transaction, so a broken chunk leaves nothing), completion (type sniffed and checksum
 * verified, identical bytes stored once) and abandonment. One instance per app: it counts the
 * chunks this process is receiving.
 */
export function createUploads(deps: { sql: Sql; maxUploadBytes: number }) {
  const { sql } = deps;
  let chunksInFlight = 0;

  return {
    async start(user: AccessClaims, body: { contentType: string; totalBytes: number; sha256?: string | undefined }): Promise<db.UploadRow> {
      if (!isUploadContentType(body.contentType)) {
        throw new UnsupportedMediaTypeError(`Content type "${body.contentType}" is not accepted.`, { supported: UPLOAD_CONTENT_TYPES });
      }
      if (body.totalBytes > deps.maxUploadBytes) {
        throw new PayloadTooLargeError(`Files may be at most ${deps.maxUploadBytes} bytes; this one is ${body.totalBytes}.`, { maxUploadBytes: deps.maxUploadBytes });
      }
      if ((await db.countOpenUploads(sql, user.sub)) >= MAX_OPEN_UPLOADS) {
        throw new ConflictError(`At most ${MAX_OPEN_UPLOADS} uploads may be open at once; complete or delete some first.`, { code: 'too-many-open-uploads' });
      }
      return sql.begin(async (tx) => {
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
    },

    async find(user: AccessClaims, id: string): Promise<db.UploadRow> {
      const row = await db.findUpload(sql, id, user);
      if (!row) throw new NotFoundError('No such upload.');
      return row;
    },

    /**
     * Appends the chunk `range` (of `total` bytes) at the committed offset. An identical re-send of
     * a committed chunk (its answer was lost) is accepted and changes nothing. The request body is
     * opened (`openBody`) only once the upload is locked: a refusal before that (busy, 404) leaves
     * it unread, and the server can answer while the client is still sending.
     */
    async receiveChunk(
      user: AccessClaims,
      id: string,
      range: ByteRange & { total: number },
      openBody: () => ReadableStream<Uint8Array> | null,
    ): Promise<db.UploadRow> {
      const length = range.end - range.start + 1;
      if (chunksInFlight >= MAX_CONCURRENT_CHUNKS) {
        throw new DependencyUnavailableError('The server is receiving as many chunks as it can; retry this one shortly.', 2);
      }
      chunksInFlight++;
      return sql
        .begin(async (tx) => {
          const row = await lockOpenUpload(tx, id, user);
          assertOpen(row);
          const total = Number(row.total_bytes);
          const received = Number(row.received_bytes);
          if (range.total !== total) throw new ValidationError(`Content-Range total ${range.total} differs from this upload's totalBytes ${total}.`);
          if (range.end >= total) throw new ValidationError(`Content-Range end ${range.end} is past the file's last byte (${total - 1}).`);
          if (range.start !== received) {
            if (range.end < received) {
              // A retry of a chunk that did arrive (its response was lost): fine if identical.
              const sent = await readBody(openBody(), length, CHUNK_IDLE_TIMEOUT_MS);
              const stored = await readLargeObject(tx, row.lo_oid, range.start, length);
              if (sent.equals(stored)) return row;
            }
            throw new ConflictError(`This upload has ${received} bytes committed; send the chunk that starts at ${received}.`, {
              code: 'offset-mismatch',
              received,
            });
          }
          await writeBodyAt(tx, row.lo_oid, range.start, openBody(), { expectedBytes: length, idleTimeoutMs: CHUNK_IDLE_TIMEOUT_MS });
          await db.setReceived(tx, id, range.end + 1);
          return { ...row, received_bytes: String(range.end + 1) };
        })
        .finally(() => chunksInFlight--);
    },

    /** Verifies the bytes and stores them as media keyed by their SHA-256; completing twice answers the same. */
    async complete(user: AccessClaims, id: string): Promise<CompleteOutcome> {
      const outcome = await sql.begin(async (tx) => {
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
      return { media: outcome.media, deduplicated: outcome.deduplicated };
    },

    /** Abandons an open upload (its bytes are discarded); a completed one keeps its media (409). */
    async abort(user: AccessClaims, id: string): Promise<void> {
      await sql.begin(async (tx) => {
        const row = await lockOpenUpload(tx, id, user);
        if (row.status === 'completed') throw new ConflictError('This upload is completed; its media stay.', { code: 'upload-completed' });
        if (row.status === 'open') await discardUpload(tx, row);
      });
    },
  };
}

/** The locked upload; 404 if the caller may not see it, 409 while another request holds it. */
async function lockOpenUpload(tx: Queryable, id: string, user: AccessClaims): Promise<db.UploadRow> {
  const row = await db.lockUpload(tx, id, user);
  if (row === 'busy') throw new ConflictError('Another request on this upload (a chunk or completion) is in progress; retry when it has finished.', { code: 'upload-busy' });
  if (!row) throw new NotFoundError('No such upload.');
  return row;
}

function assertOpen(row: db.UploadRow) {
  if (row.status !== 'open') throw new ConflictError(`This upload is ${row.status}.`, { code: `upload-${row.status}` });
  if (row.expires_at.getTime() <= Date.now()) throw new ConflictError('This upload has expired; start a new one.', { code: 'upload-expired' });
}

async function discardUpload(tx: Queryable, row: { id: string; lo_oid: number }) {
  await unlinkLargeObject(tx, row.lo_oid);
  await db.markAborted(tx, row.id);
}

/** Opportunistic cleanup on each new upload, so abandoned bytes never pile up. */
async function discardExpiredUploads(tx: Queryable) {
  for (const row of await db.lockExpiredUploads(tx, 20)) await discardUpload(tx, row);
}
