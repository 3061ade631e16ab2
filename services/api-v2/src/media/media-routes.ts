import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, problemResponse, RangeNotSatisfiableError } from '@marquee/service-kit';
import { createRouter, problem, publicSecurity } from '../openapi.ts';
import { largeObjectStream } from './large-objects.ts';
import { etagMatches, parseRangeHeader } from './ranges.ts';
import { MediaHashParam } from './schemas.ts';
import { UPLOAD_CONTENT_TYPES } from './sniff.ts';
import { findMedia } from './uploads-sql.ts';
import type { MediaDeps } from './routes.ts';

/** The bytes behind a hash never change, so caches (and displays) may keep them forever. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Every media response is a sandboxed document to a browser that opens it: no scripts, no plugins,
 * no forms, an opaque origin, and nothing loaded but images and media from this API (an HTML
 * creative's own media) — the containment docs/display-protocol.md §6 asks of displays, enforced
 * by any browser that gets the file straight from here. Harmless on images and videos.
 */
export const MEDIA_CONTENT_SECURITY_POLICY =
  "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'";

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Text and HTML creatives' bodies, stored as media by the database (migration 110). */
const BODY_CONTENT_TYPES = ['text/plain; charset=utf-8', 'text/html; charset=utf-8'];
const binary = Object.fromEntries(
  [...UPLOAD_CONTENT_TYPES, ...BODY_CONTENT_TYPES].map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]),
);

/** Public, unauthenticated: displays fetch media by hash (unguessable, content-addressed). */
export function mediaFileRoutes(deps: MediaDeps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/media/{sha256}',
      operationId: 'downloadMedia',
      tags: ['media'],
      summary: 'Download media by its SHA-256 (public; supports Range, If-None-Match; cached immutably)',
      description: `Uploaded images and videos, and the bodies of text/HTML creatives (\`text/plain\` / \`text/html; charset=utf-8\`). Strong ETag \`"<sha256>"\`; \`Cache-Control: ${IMMUTABLE_CACHE_CONTROL}\`; \`X-Content-Type-Options: nosniff\` and \`Content-Security-Policy: ${MEDIA_CONTENT_SECURITY_POLICY}\` (a browser opening an HTML creative runs no script and loads nothing but media). One byte range per request (\`Range: bytes=a-b\`, \`a-\`, \`-n\`); multi-range or malformed Range headers get the whole file.`,
      security: publicSecurity,
      request: { params: MediaHashParam },
      responses: {
        200: { description: 'The whole file', content: binary },
        206: { description: 'The requested range (Content-Range)', content: binary },
        304: { description: 'Not modified (If-None-Match matched)' },
        404: problem('No media with this hash', { status: 404, title: 'Not found', slug: 'not-found', detail: 'No media with this hash.' }),
        416: problem('Range starts past the end (Content-Range: bytes */size)'),
        503: problem('Database unavailable'),
      },
    }),
    async (c) => {
      const { sha256 } = c.req.valid('param');
      const media = SHA256_HEX.test(sha256) ? await findMedia(deps.sql, sha256) : undefined;
      if (!media) throw new NotFoundError('No media with this hash.');
      const size = Number(media.size_bytes);
      const etag = `"${media.sha256}"`;
      const common = {
        etag,
        'cache-control': IMMUTABLE_CACHE_CONTROL,
        'accept-ranges': 'bytes',
        'x-content-type-options': 'nosniff',
        'content-security-policy': MEDIA_CONTENT_SECURITY_POLICY,
      };
      if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, common);

      const ifRange = c.req.header('if-range');
      const range = ifRange && ifRange.trim() !== etag ? { kind: 'full' as const } : parseRangeHeader(c.req.header('range'), size);
      if (range.kind === 'unsatisfiable') {
        return problemResponse(new RangeNotSatisfiableError(`This file has ${size} bytes.`, { sizeBytes: size }), { ...common, 'content-range': `bytes */${size}` });
      }
      const { start, end } = range.kind === 'partial' ? range.range : { start: 0, end: size - 1 };
      const headers: Record<string, string> = {
        ...common,
        'content-type': media.content_type,
        'content-length': String(end - start + 1),
      };
      if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${size}`;
      const status = range.kind === 'partial' ? 206 : 200;
      // HEAD is routed here too: answer the headers without reading any bytes.
      if (c.req.raw.method === 'HEAD') return c.body(null, status, headers) as never;
      return c.body(largeObjectStream(deps.sql, media.lo_oid, start, end), status, headers) as never;
    },
  );

  return app;
}
