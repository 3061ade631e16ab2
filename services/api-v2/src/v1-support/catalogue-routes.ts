import { createRoute } from '@hono/zod-openapi';
import { CatalogueAnswerSchema, type Sql } from '@marquee/service-kit';
import { DISPLAY_COLUMNS, toPublicView, type DisplayRow } from '../displays/sql.ts';
import { createRouter, jsonResponse, pick } from '../openapi.ts';

/**
 * The active catalogue with presence, for the v1 facade (api-v1's GET /v1/devices needs `online`,
 * which the public catalogue view hides from advertisers). Internal app only: never routed by the
 * edge. Built from the same view function as the public catalogue, so v1 and v2 cannot disagree.
 */
export function v1CatalogueInternalRoutes(deps: { sql: Sql }) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/internal/displays/catalogue',
      tags: ['api-v1'],
      summary: 'Every active display (catalogue view) with its online flag, in creation order',
      responses: { 200: jsonResponse(CatalogueAnswerSchema, 'The active catalogue'), ...pick(503) },
    }),
    async (c) => {
      const rows = await deps.sql<DisplayRow[]>`
        select ${deps.sql(DISPLAY_COLUMNS)} from displays where status = 'active' order by created_at, id`;
      return c.json({ items: rows.map((r) => ({ ...toPublicView(r), online: r.online })) }, 200);
    },
  );
  return app;
}
