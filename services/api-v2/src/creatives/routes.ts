import { createRoute } from '@hono/zod-openapi';
import { NotFoundError, type TokenVerifier } from '@marquee/service-kit';
import { authenticated } from '../authz.ts';
import { createCreativeExample, creativeExample, creativePageExample, updateCreativeExample } from '../examples.ts';
import { bearerSecurity, createRouter, IdParam, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { createCreative, updateCreative, type CreativeDeps } from './manage.ts';
import { CreateCreativeSchema, CreativeListQuery, CreativePageSchema, CreativeSchema, UpdateCreativeSchema } from './schemas.ts';
import { creativeView, findCreative, listCreatives, type CreativeRow } from './sql.ts';

export function creativeRoutes(deps: CreativeDeps & { verifier: TokenVerifier }) {
  const app = createRouter();
  // Everyone signed in: advertisers for their ads, operators for their displays' house content.
  app.use('/creatives/*', authenticated(deps.verifier)); // Hono's /x/* also matches /x itself

  const toCreative = (r: CreativeRow) => creativeView(r, deps.publicBaseUrl);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/creatives',
      operationId: 'createCreative',
      tags: ['creatives'],
      summary: 'Create a creative: an uploaded image/video, or an html/text card',
      description: 'An image or video names the `mediaSha256` of a completed upload (POST /uploads); an html or text card carries its `body`.',
      security: bearerSecurity,
      request: { body: jsonBody(CreateCreativeSchema, { example: createCreativeExample }) },
      responses: {
        201: jsonResponse(CreativeSchema, 'Created (Location: its URL)', creativeExample),
        422: problem('Invalid fields, unknown media, or media of the wrong kind for the type'),
        ...pick(400, 401, 413, 415, 503),
      },
    }),
    async (c) => {
      const row = await createCreative(deps.sql, c.get('user'), c.req.valid('json'));
      c.header('location', `${deps.publicBaseUrl}/creatives/${row.id}`);
      return c.json(toCreative(row), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/creatives',
      operationId: 'listCreatives',
      tags: ['creatives'],
      summary: 'List your creatives (admins: everyone\'s), newest first',
      security: bearerSecurity,
      request: { query: CreativeListQuery },
      responses: { 200: jsonResponse(CreativePageSchema, 'A page; pass nextCursor to get the next', creativePageExample), ...pick(401, 422, 503) },
    }),
    async (c) => {
      const page = await listCreatives(deps.sql, c.get('user'), c.req.valid('query'));
      return c.json({ items: page.items.map(toCreative), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/creatives/{id}',
      operationId: 'getCreative',
      tags: ['creatives'],
      summary: 'One creative',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(CreativeSchema, 'The creative', creativeExample), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const row = await findCreative(deps.sql, c.req.valid('param').id, c.get('user'));
      if (!row) throw new NotFoundError('No such creative.');
      return c.json(toCreative(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/creatives/{id}',
      operationId: 'updateCreative',
      tags: ['creatives'],
      summary: 'Rename a creative or change its duration (content is immutable: create a new creative instead)',
      description: 'A duration change updates the playlists of displays with upcoming bookings of this creative.',
      security: bearerSecurity,
      request: { params: IdParam, body: jsonBody(UpdateCreativeSchema, { example: updateCreativeExample }) },
      responses: { 200: jsonResponse(CreativeSchema, 'Updated', { ...creativeExample, ...updateCreativeExample }), ...pick(400, 401, 404, 413, 415, 422, 503) },
    }),
    async (c) => c.json(toCreative(await updateCreative(deps, c.get('user'), c.req.valid('param').id, c.req.valid('json'))), 200),
  );

  return app;
}
