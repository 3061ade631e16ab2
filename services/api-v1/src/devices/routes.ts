import { createRoute, z } from '@hono/zod-openapi';
import { requestContextOf } from '@marquee/service-kit';
import { devicesExample } from '../examples.ts';
import { createV1Router, publicSecurity, v1Json, v1Pick } from '../openapi.ts';
import type { createCatalogueCache } from './catalogue-cache.ts';

const DeviceSchema = z
  .object({
    deviceid: z.string().uuid(),
    name: z.string(),
    location: z.string().openapi({ description: "The display's street address (may be empty)" }),
    online: z.boolean().openapi({ description: 'Whether the display is connected right now' }),
    price: z.number().int().openapi({ description: 'Price of one slot for one hour, in minor currency units (cents)' }),
  })
  .openapi('V1Device');

const staleHeaders = {
  Warning: { description: 'Only on a stale copy: `110 - "Response is Stale"`', schema: { type: 'string' as const } },
  Age: { description: 'Only on a stale copy: seconds since it was fetched', schema: { type: 'string' as const } },
};

/** The device list (v1's name for the active display catalogue); no login needed, as in v1. */
export function deviceRoutes(deps: { catalogue: ReturnType<typeof createCatalogueCache> }) {
  const app = createV1Router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/devices',
      operationId: 'listDevices',
      tags: ['devices'],
      summary: 'Every active display',
      description:
        'If api-v2 is unavailable, the last good copy is served at once with `Warning: 110 - "Response is Stale"` and `Age`. ' +
        'Without any copy yet, 503.',
      security: publicSecurity,
      responses: {
        200: v1Json(z.array(DeviceSchema), 'The devices, in registration order', devicesExample, staleHeaders),
        // The one refusal a request without parameters or body can meet, and it comes from the edge.
        429: { description: "Too many requests: the edge's rate limit (its own plain-text answer, not a v1 error body)" },
        ...v1Pick(503),
      },
    }),
    async (c) => {
      const answer = await deps.catalogue.get(requestContextOf(c));
      if (answer.staleAgeSeconds !== undefined) {
        c.header('warning', '110 - "Response is Stale"');
        c.header('age', String(answer.staleAgeSeconds));
      }
      c.header('cache-control', 'no-store');
      return c.json(answer.devices, 200);
    },
  );
  return app;
}
