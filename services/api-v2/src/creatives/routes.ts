import { createRoute } from '@hono/zod-openapi';
import { NotFoundError, ValidationError, type MessageBus, type Sql, type TokenVerifier, type Logger } from '@marquee/service-kit';
import { authenticated, requireRole } from '../authz.ts';
import { bearerSecurity, createRouter, IdParam, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { bumpPlaylistVersions, publishPlaylistChanges } from '../playlist-changes.ts';
import { CreateCreativeSchema, CreativeListQuery, CreativePageSchema, CreativeSchema, MEDIA_TYPES_FOR, UpdateCreativeSchema } from './schemas.ts';
import * as db from './sql.ts';

export interface CreativeDeps {
  sql: Sql;
  bus: MessageBus;
  verifier: TokenVerifier;
  logger: Logger;
  publicBaseUrl: string;
}


export function creativeRoutes(deps: CreativeDeps) {
  const app = createRouter();
  const gate = [authenticated(deps.verifier), requireRole('advertiser', 'admin')] as const;
  app.use('/creatives/*', ...gate); // Hono's /x/* also matches /x itself

  const toCreative = (r: db.CreativeRow) => ({
    id: r.id,
    ownerId: r.owner_id,
    name: r.name,
    type: r.type,
    mediaSha256: r.media_sha256,
    mediaUrl: r.media_sha256 ? `${deps.publicBaseUrl}/media/${r.media_sha256}` : null,
    mediaContentType: r.media_content_type,
    mediaSizeBytes: r.media_size_bytes === null ? null : Number(r.media_size_bytes),
    body: r.body,
    durationMs: r.duration_ms,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/creatives',
      tags: ['creatives'],
      summary: 'Create a creative: an uploaded image/video, or an html/text card',
      security: bearerSecurity,
      request: { body: jsonBody(CreateCreativeSchema) },
      responses: {
        201: jsonResponse(CreativeSchema, 'Created (Location: its URL)'),
        403: problem('Only advertisers (and admins) create creatives'),
        422: problem('Invalid fields, unknown media, or media of the wrong kind for the type'),
        ...pick(400, 401, 413, 415, 503),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const input = c.req.valid('json');
      if (input.type === 'image' || input.type === 'video') {
        const mediaType = await db.usableMediaType(deps.sql, input.mediaSha256!, user);
        if (!mediaType) {
          throw new ValidationError('No media with this sha256 among your completed uploads.', { errors: [{ field: 'mediaSha256', message: 'unknown media' }] });
        }
        if (!MEDIA_TYPES_FOR[input.type].includes(mediaType)) {
          throw new ValidationError(`An ${input.type} creative needs ${MEDIA_TYPES_FOR[input.type].join(' or ')} media; this is ${mediaType}.`, {
            errors: [{ field: 'mediaSha256', message: `media is ${mediaType}` }],
          });
        }
      }
      const row = await db.insertCreative(deps.sql, {
        ownerId: user.sub,
        name: input.name,
        type: input.type,
        mediaSha256: input.mediaSha256 ?? null,
        body: input.body ?? null,
        durationMs: input.durationMs,
      });
      c.header('location', `${deps.publicBaseUrl}/creatives/${row.id}`);
      return c.json(toCreative(row), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/creatives',
      tags: ['creatives'],
      summary: 'List your creatives (admins: everyone\'s), newest first',
      security: bearerSecurity,
      request: { query: CreativeListQuery },
      responses: { 200: jsonResponse(CreativePageSchema, 'A page; pass nextCursor to get the next'), 403: problem('Not an advertiser'), ...pick(401, 422, 503) },
    }),
    async (c) => {
      const page = await db.listCreatives(deps.sql, c.get('user'), c.req.valid('query'));
      return c.json({ items: page.items.map(toCreative), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/creatives/{id}',
      tags: ['creatives'],
      summary: 'One creative',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(CreativeSchema, 'The creative'), 403: problem('Not an advertiser'), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const row = await db.findCreative(deps.sql, c.req.valid('param').id, c.get('user'));
      if (!row) throw new NotFoundError('No such creative.');
      return c.json(toCreative(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/creatives/{id}',
      tags: ['creatives'],
      summary: 'Rename a creative or change its duration (content is immutable: create a new creative instead)',
      description: 'A duration change updates the playlists of displays with upcoming bookings of this creative.',
      security: bearerSecurity,
      request: { params: IdParam, body: jsonBody(UpdateCreativeSchema) },
      responses: { 200: jsonResponse(CreativeSchema, 'Updated'), 403: problem('Not an advertiser'), ...pick(400, 401, 404, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const changes = c.req.valid('json');
      const result = await deps.sql.begin(async (tx) => {
        const updated = await db.updateCreative(tx, id, c.get('user'), changes);
        if (!updated) throw new NotFoundError('No such creative.');
        const playlistChanges = updated.durationChanged ? await bumpPlaylistVersions(tx, await db.displaysPlaying(tx, id)) : [];
        return { row: updated.row, playlistChanges };
      });
      publishPlaylistChanges(deps, result.playlistChanges);
      return c.json(toCreative(result.row), 200);
    },
  );

  return app;
}
