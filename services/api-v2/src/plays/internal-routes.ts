import { createRoute } from '@hono/zod-openapi';
import { DisplayParamsSchema, PlayRecordSchema, PlaysIngestAnswerSchema, PlaysIngestRequestSchema, type PlayRecord } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { createRouter, jsonBody, jsonResponse, pick } from '../openapi.ts';
import { ingestPlays } from './ingest.ts';

export function playInternalRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  // The envelope carries records unchecked (each is checked alone), so document their schema here
  // (a copy made now: registering needs zod-openapi's .openapi(), which the kit's schemas predate).
  app.openAPIRegistry.register('PlayRecord', PlayRecordSchema.meta({ description: 'One proof of play; every id a UUID' }));
  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/displays/{id}/plays',
      tags: ['device-tcp'],
      summary: "Store a batch of a display's plays, once each (idempotent by playId)",
      request: { params: DisplayParamsSchema, body: jsonBody(PlaysIngestRequestSchema) },
      responses: { 200: jsonResponse(PlaysIngestAnswerSchema, 'Accepted and rejected playIds'), ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) => {
      const displayId = c.req.valid('param').id;
      const { plays } = c.req.valid('json');
      // One malformed record must not sink the batch: it is rejected by itself.
      const wellFormed: PlayRecord[] = [];
      const rejected: { playId: string; reason: string }[] = [];
      for (const raw of plays) {
        const parsed = PlayRecordSchema.safeParse(raw);
        if (parsed.success) wellFormed.push(parsed.data);
        else rejected.push({ playId: String((raw as { playId?: unknown })?.playId ?? ''), reason: `malformed play: ${parsed.error.issues[0]?.message}` });
      }
      const outcome = await ingestPlays(deps.sql, displayId, wellFormed);
      return c.json({ acceptedPlayIds: outcome.acceptedPlayIds, rejected: [...rejected, ...outcome.rejected] }, 200);
    },
  );
  return app;
}
