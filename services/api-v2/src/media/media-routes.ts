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

const SHA256_HEX = /^[0-9a-f]{64}$/;
const binary = Object.fromEntries(UPLOAD_CONTENT_TYPES.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]));

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
      description: `Strong ETag \`"<sha256>"\`; \`Cache-Control: ${IMMUTABLE_CACHE_CONTROL}\`. One byte range per request (\`Range: bytes=a-b\`, \`a-\`, \`-n\`); multi-range or malformed Range headers get the whole file.`,
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
      const common = { etag, 'cache-control': IMMUTABLE_CACHE_CONTROL, 'accept-ranges': 'bytes' };
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
        'x-content-type-options': 'nosniff',
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
