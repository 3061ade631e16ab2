import { z } from '@hono/zod-openapi';
import { UPLOAD_CONTENT_TYPES } from './sniff.ts';

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
  .openapi({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' });

export const CreateUploadSchema = z
  .strictObject({
    // Any string here: an unsupported type is a 415 (with the list), not a generic 422.
    contentType: z.string().min(1).max(100).openapi({ description: `One of ${UPLOAD_CONTENT_TYPES.join(', ')}`, example: 'image/png' }),
    totalBytes: z.number().int().min(1).openapi({ description: 'Size of the whole file; above the server limit → 413' }),
    sha256: Sha256Schema.optional().openapi({ description: 'Expected SHA-256 (hex); checked on complete (mismatch → 422)' }),
  })
  .openapi('CreateUpload');

export const MediaSchema = z
  .object({
    sha256: Sha256Schema,
    contentType: z.enum(UPLOAD_CONTENT_TYPES),
    sizeBytes: z.number().int(),
    url: z.string().url().openapi({ description: 'Public, immutable, cacheable forever' }),
  })
  .openapi('Media');

export const UploadSchema = z
  .object({
    id: z.string().uuid(),
    uploadUrl: z.string().url().openapi({ description: 'PUT chunks here' }),
    contentType: z.enum(UPLOAD_CONTENT_TYPES),
    totalBytes: z.number().int(),
    received: z.number().int().openapi({ description: 'Bytes committed so far: the offset the next chunk must start at' }),
    status: z.enum(['open', 'completed', 'aborted']),
    expectedSha256: Sha256Schema.nullable(),
    expiresAt: z.string().openapi({ description: 'RFC 3339; an open upload is discarded after this' }),
    createdAt: z.string(),
    media: MediaSchema.nullable().openapi({ description: 'Set once completed' }),
  })
  .openapi('Upload');

export const CompletedUploadSchema = MediaSchema.extend({
  deduplicated: z.boolean().openapi({ description: 'True if identical bytes were already stored (this upload reuses them)' }),
}).openapi('CompletedUpload');

export const UploadIdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });
export const MediaHashParam = z.object({
  // Any string: a bad hash is simply not found (404), not a validation error.
  sha256: z
    .string()
    .max(200)
    .openapi({ param: { name: 'sha256', in: 'path' }, description: 'SHA-256 of the bytes (64 lowercase hex digits)', example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }),
});
