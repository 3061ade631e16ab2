import { createRoute } from '@hono/zod-openapi';
import {
  NotFoundError,
  PlaylistParamsSchema,
  PlaylistSchema,
  PlaylistsAnswerSchema,
  PlaylistsRequestSchema,
  PlaylistVersionsAnswerSchema,
  PlaylistVersionsRequestSchema,
  type Sql,
} from '@marquee/service-kit';
import { createRouter, jsonBody, jsonResponse, pick } from '../openapi.ts';
import { buildPlaylist, buildPlaylists, playlistVersions } from './build.ts';
import { isUuid } from '../ids.ts';

const tags = ['device-tcp'];

/** device-tcp's playlist endpoints, mounted on the internal app only (never routed by the edge). */
export function playlistInternalRoutes(deps: { sql: Sql; publicBaseUrl: string }) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/internal/displays/{id}/playlist',
      tags,
      summary: "A display's current playlist (the next 48 h)",
      request: { params: PlaylistParamsSchema },
      responses: { 200: jsonResponse(PlaylistSchema, 'The playlist'), ...pick(404, 503) },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      // A malformed id names no display: 404 like any unknown one, which device-tcp treats as "none".
      const playlist = isUuid(id) ? await buildPlaylist(deps.sql, id, deps.publicBaseUrl) : null;
      if (!playlist) throw new NotFoundError('No such display.');
      return c.json(playlist, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/playlists/versions',
      tags,
      summary: 'Current playlist versions of up to 10 000 displays; unknown ids are absent',
      request: { body: jsonBody(PlaylistVersionsRequestSchema) },
      responses: { 200: jsonResponse(PlaylistVersionsAnswerSchema, 'Versions by display id'), ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { displayIds } = c.req.valid('json');
      return c.json({ versions: await playlistVersions(deps.sql, displayIds.filter(isUuid)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/playlists',
      tags,
      summary: 'Current playlists of up to 1 000 displays at once (device-tcp batches its fetches); unknown ids are absent',
      request: { body: jsonBody(PlaylistsRequestSchema) },
      responses: { 200: jsonResponse(PlaylistsAnswerSchema, 'Playlists by display id'), ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { displayIds } = c.req.valid('json');
      const playlists = await buildPlaylists(deps.sql, displayIds.filter(isUuid), deps.publicBaseUrl);
      return c.json({ playlists: Object.fromEntries(playlists) }, 200);
    },
  );

  return app;
}
