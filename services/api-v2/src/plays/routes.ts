import { createRoute } from '@hono/zod-openapi';
import type { ApiV2Deps } from '../app.ts';
import { authenticated } from '../authz.ts';
import { playReportExample } from '../examples.ts';
import { IdParam, bearerSecurity, createRouter, jsonResponse, pick } from '../openapi.ts';
import { playReport } from './report.ts';
import { PlayReportSchema, ReportQuery } from './schemas.ts';

/** Proof-of-play report: plays and impressions (plays × the display's audience multiplier). */
export function playRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  app.use('/bookings/:id/plays', authenticated(deps.verifier));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/bookings/{id}/plays',
      operationId: 'getBookingPlays',
      tags: ['proof of play'],
      summary: 'Plays and impressions per display, bucketed by hour or day',
      description:
        'Advertisers see their own bookings; operators see the plays on their own displays; admins everything. Empty buckets are omitted.',
      security: bearerSecurity,
      request: { params: IdParam, query: ReportQuery },
      responses: { 200: jsonResponse(PlayReportSchema, 'The report', playReportExample), ...pick(401, 404, 422) },
    }),
    async (c) => c.json(await playReport(deps.sql, c.get('user'), c.req.valid('param').id, c.req.valid('query')), 200),
  );
  return app;
}
