import { createRoute, z } from '@hono/zod-openapi';
import type { ApiV2Deps } from '../app.ts';
import { authenticated, requireRole } from '../authz.ts';
import { playRejectionsExample, playReportCsvExample, playReportExample } from '../examples.ts';
import { IdParam, bearerSecurity, createRouter, jsonResponse, pick, problem } from '../openapi.ts';
import { playRejections } from './rejections.ts';
import { playReport, playReportCsv } from './report.ts';
import { PlayRejectionsSchema, PlayReportSchema, ReportQuery } from './schemas.ts';

/** Whether the client asked for CSV rather than JSON (a plain preference check: CSV only when it is named). */
const wantsCsv = (accept: string | undefined) => /(^|,)\s*text\/csv\s*(;|,|$)/i.test(accept ?? '');

/** Proof of play: the report advertisers are billed on, and what each display had rejected. */
export function playRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  app.use('/bookings/:id/plays', authenticated(deps.verifier));
  app.use('/displays/:id/play-rejections', authenticated(deps.verifier));
  const report = jsonResponse(PlayReportSchema, 'The report', playReportExample);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/bookings/{id}/plays',
      operationId: 'getBookingPlays',
      tags: ['proof of play'],
      summary: 'Plays and impressions per display and creative, bucketed by hour or day (JSON or CSV)',
      description:
        "Advertisers see their own bookings; operators see only their own displays of a booking, and only their share of its price; admins everything. " +
        "`from`/`to` default to the booking's window. Every display of the booking is listed, with zeros where nothing was played. " +
        'Only plays the platform accepted count (docs/display-protocol.md, "Plays"); impressions are plays × the audience multiplier in force when each was played. ' +
        'Send `Accept: text/csv` for CSV: one line per display, creative and bucket.',
      security: bearerSecurity,
      request: { params: IdParam, query: ReportQuery },
      responses: {
        200: { ...report, content: { ...report.content, 'text/csv': { schema: z.string(), example: playReportCsvExample } } },
        ...pick(401, 404, 422),
      },
    }),
    async (c) => {
      const { report, rows } = await playReport(deps.sql, c.get('user'), c.req.valid('param').id, c.req.valid('query'));
      if (wantsCsv(c.req.header('accept'))) {
        return c.body(playReportCsv(report, rows), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="booking-${report.bookingId}-plays.csv"`,
        }) as never;
      }
      return c.json(report, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}/play-rejections',
      operationId: 'getDisplayPlayRejections',
      tags: ['proof of play'],
      summary: "How many of a display's plays were rejected, by code (its operator and admins)",
      description: 'A display whose plays keep being rejected reports plays it did not show, or runs a wrong clock. The codes are those of docs/display-protocol.md ("Plays").',
      security: bearerSecurity,
      middleware: [requireRole('operator', 'admin')] as const,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(PlayRejectionsSchema, 'Counts by code since the display was registered', playRejectionsExample),
        403: problem('Only operators and admins read rejections'),
        ...pick(401, 404, 422),
      },
    }),
    async (c) => c.json(await playRejections(deps.sql, c.get('user'), c.req.valid('param').id), 200),
  );
  return app;
}
