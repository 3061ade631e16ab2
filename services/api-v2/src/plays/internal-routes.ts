import { createRoute } from '@hono/zod-openapi';
import { Counter, DisplayParamsSchema, PlayRecordSchema, PlaysIngestAnswerSchema, PlaysIngestRequestSchema } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { DEFAULT_PLAY_CLOCK_SKEW_MS } from '../config.ts';
import { createRouter, jsonBody, jsonResponse, pick } from '../openapi.ts';
import { ingestPlays } from './ingest.ts';

export function playInternalRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  // No display id label: a label per display would be a series per display.
  const rejectedTotal = new Counter({
    name: 'plays_rejected_total',
    help: 'Plays refused by proof-of-play validation, by rejection code (per display: GET /v2/displays/{id}/play-rejections)',
    labelNames: ['code'] as const,
    registers: [deps.metrics.registry],
  });
  // The envelope carries records unchecked (each is checked alone), so document their schema here
  // (a copy made now: registering needs zod-openapi's .openapi(), which the kit's schemas predate).
  app.openAPIRegistry.register('PlayRecord', PlayRecordSchema.meta({ description: 'One proof of play; every id a UUID' }));
  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/displays/{id}/plays',
      tags: ['device-tcp'],
      summary: "Judge and store a batch of a display's plays, once each (idempotent by playId)",
      description: 'Each play is accepted (stored now or before) or rejected with a code (docs/display-protocol.md, "Plays").',
      request: { params: DisplayParamsSchema, body: jsonBody(PlaysIngestRequestSchema) },
      responses: { 200: jsonResponse(PlaysIngestAnswerSchema, 'Accepted playIds, and rejected ones with their codes'), ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) => {
      const answer = await ingestPlays(deps.sql, c.req.valid('param').id, c.req.valid('json').plays, {
        clockSkewMs: deps.playClockSkewMs ?? DEFAULT_PLAY_CLOCK_SKEW_MS,
        onRejected: (code, n) => rejectedTotal.inc({ code }, n),
      });
      return c.json(answer, 200);
    },
  );
  return app;
}
