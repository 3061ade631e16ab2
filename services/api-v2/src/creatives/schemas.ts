import { z } from '@hono/zod-openapi';
import { CREATIVE_TYPES } from '@marquee/service-kit';
import { Sha256Schema } from '../media/schemas.ts';
import { PageQuery, pageSchema } from '../pagination.ts';

/** The kit's: playlist entries carry the type to device-tcp and displays. */
export { CREATIVE_TYPES };
export type CreativeType = (typeof CREATIVE_TYPES)[number];

/**
 * UTF-8 bytes of an html/text body. The whole JSON request is capped at 64 KiB by the app, so the
 * body's own cap leaves room for the envelope (a body near the cap with much escaping gets 413).
 */
export const MAX_BODY_BYTES = 60 * 1024;

/** Which stored media types each media-backed creative type accepts. */
export const MEDIA_TYPES_FOR: Record<'image' | 'video', readonly string[]> = {
  image: ['image/png', 'image/jpeg', 'image/webp'],
  video: ['video/mp4'],
};

const Name = z.string().trim().min(1).max(200);
const DurationMs = z.number().int().min(1000).max(3_600_000).openapi({ description: 'How long it plays per showing, 1000..3600000 ms' });

export const CreateCreativeSchema = z
  .strictObject({
    name: Name,
    type: z.enum(CREATIVE_TYPES),
    mediaSha256: Sha256Schema.optional().openapi({ description: 'image/video: the sha256 of media you uploaded (its type must match)' }),
    body: z.string().optional().openapi({ description: `html/text: the content, at most ${MAX_BODY_BYTES} UTF-8 bytes` }),
    durationMs: DurationMs,
  })
  .superRefine((c, ctx) => {
    const needsMedia = c.type === 'image' || c.type === 'video';
    if (needsMedia && c.mediaSha256 === undefined) ctx.addIssue({ code: 'custom', path: ['mediaSha256'], message: `required for ${c.type} creatives` });
    if (needsMedia && c.body !== undefined) ctx.addIssue({ code: 'custom', path: ['body'], message: `not allowed for ${c.type} creatives` });
    if (!needsMedia && c.body === undefined) ctx.addIssue({ code: 'custom', path: ['body'], message: `required for ${c.type} creatives` });
    if (!needsMedia && c.mediaSha256 !== undefined) ctx.addIssue({ code: 'custom', path: ['mediaSha256'], message: `not allowed for ${c.type} creatives` });
    if (c.body !== undefined && c.body.trim() === '') ctx.addIssue({ code: 'custom', path: ['body'], message: 'must not be empty' });
    if (c.body !== undefined && Buffer.byteLength(c.body, 'utf8') > MAX_BODY_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: `at most ${MAX_BODY_BYTES} UTF-8 bytes` });
    }
  })
  .openapi('CreateCreative');
export type CreateCreativeInput = z.infer<typeof CreateCreativeSchema>;

export const UpdateCreativeSchema = z
  .strictObject({ name: Name.optional(), durationMs: DurationMs.optional() })
  .refine((u) => u.name !== undefined || u.durationMs !== undefined, { message: 'give name and/or durationMs' })
  .openapi('UpdateCreative');

export const CreativeSchema = z
  .object({
    id: z.string().uuid(),
    ownerId: z.string().uuid(),
    name: z.string(),
    type: z.enum(CREATIVE_TYPES),
    mediaSha256: Sha256Schema.openapi({ description: 'The media displays play; for text/html the SHA-256 of the body\'s UTF-8 bytes' }),
    mediaUrl: z.string().url(),
    mediaContentType: z.string(),
    mediaSizeBytes: z.number().int(),
    body: z.string().nullable().openapi({ description: 'text/html: the content (also served as media at mediaUrl)' }),
    durationMs: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Creative');

export const CreativePageSchema = pageSchema(CreativeSchema, 'CreativePage');

export const CreativeListQuery = PageQuery.extend({ type: z.enum(CREATIVE_TYPES).optional().openapi({ param: { name: 'type', in: 'query' } }) });
export type CreativeListFilters = z.infer<typeof CreativeListQuery>;
