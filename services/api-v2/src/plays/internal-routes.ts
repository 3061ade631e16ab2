import { z } from 'zod';
import { readJson, validate } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { createRouter } from '../openapi.ts';
import { ingestPlays } from './ingest.ts';

const Play = z.object({
  playId: z.string().uuid(),
  bookingId: z.string().uuid(),
  creativeId: z.string().uuid(),
  startedAt: z.string().datetime({ offset: true }),
  durationMs: z.number().int().min(0).max(86_400_000),
});
const PlaysBody = z.strictObject({ plays: z.array(z.unknown()).min(1).max(10_000) });

export function playInternalRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  app.post('/internal/displays/:id/plays', async (c) => {
    const displayId = validate(z.string().uuid(), c.req.param('id'), 'display id');
    const { plays } = await readJson(c, PlaysBody);
    // One malformed record must not sink the batch: it is rejected by itself.
    const wellFormed: z.infer<typeof Play>[] = [];
    const rejected: { playId: string; reason: string }[] = [];
    for (const raw of plays) {
      const parsed = Play.safeParse(raw);
      if (parsed.success) wellFormed.push(parsed.data);
      else rejected.push({ playId: String((raw as { playId?: unknown })?.playId ?? ''), reason: `malformed play: ${parsed.error.issues[0]?.message}` });
    }
    const outcome = await ingestPlays(deps.sql, displayId, wellFormed);
    return c.json({ acceptedPlayIds: outcome.acceptedPlayIds, rejected: [...rejected, ...outcome.rejected] });
  });
  return app;
}
