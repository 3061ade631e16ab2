import { createRoute } from '@hono/zod-openapi';
import type { TokenVerifier } from '@marquee/service-kit';
import { authenticated, requireRole } from '../authz.ts';
import { clearedEmergencyExample, createEmergencyExample, emergencyExample, emergencyPageExample } from '../examples.ts';
import { bearerSecurity, createRouter, IdParam, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { clearEmergency, startEmergency, type EmergencyDeps } from './manage.ts';
import { CreateEmergencySchema, EmergencyListQuery, EmergencyPageSchema, EmergencySchema } from './schemas.ts';
import { emergencyView, listActiveEmergencies, type EmergencyRow } from './sql.ts';

const tags = ['emergencies'];
const forbidden = problem('Only operators and admins put emergency messages on displays');

/** Emergency override: one message replaces every slot of the chosen displays until cleared. */
export function emergencyRoutes(deps: EmergencyDeps & { verifier: TokenVerifier }) {
  const app = createRouter();
  const gate = [authenticated(deps.verifier), requireRole('operator', 'admin')] as const;
  app.use('/emergencies', ...gate);
  app.use('/emergencies/*', ...gate);
  const view = (r: EmergencyRow) => emergencyView(r, deps.publicBaseUrl);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/emergencies',
      operationId: 'startEmergency',
      tags,
      summary: 'Put an emergency message on displays you run: it replaces every slot at once, until cleared',
      description:
        'Give a text `message`, or the `creativeId` of one of your creatives or one you approved. The displays get a new playlist whose every ' +
        'slot plays it; plays during an emergency are not billed. A newer emergency on a display wins over an older one.',
      security: bearerSecurity,
      request: { body: jsonBody(CreateEmergencySchema, { example: createEmergencyExample }) },
      responses: {
        201: jsonResponse(EmergencySchema, 'In force', emergencyExample),
        403: forbidden,
        404: problem('Some display does not exist or is not yours'),
        ...pick(400, 401, 413, 415, 422, 503),
      },
    }),
    async (c) => c.json(view(await startEmergency(deps, c.get('user'), c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/emergencies',
      operationId: 'listEmergencies',
      tags,
      summary: 'Emergencies in force on displays you run (admins: all), oldest first',
      security: bearerSecurity,
      request: { query: EmergencyListQuery },
      responses: { 200: jsonResponse(EmergencyPageSchema, 'One page', emergencyPageExample), 403: forbidden, ...pick(401, 422, 503) },
    }),
    async (c) => {
      const page = await listActiveEmergencies(deps.sql, c.get('user'), c.req.valid('query'));
      return c.json({ items: page.items.map(view), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/emergencies/{id}/clear',
      operationId: 'clearEmergency',
      tags,
      summary: 'End an emergency (idempotent): its displays return to their schedule',
      description: 'Operators may clear an emergency whose every display they run; admins any.',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(EmergencySchema, 'Cleared', clearedEmergencyExample), 403: forbidden, ...pick(401, 404, 422, 503) },
    }),
    async (c) => c.json(view(await clearEmergency(deps, c.get('user'), c.req.valid('param').id)), 200),
  );

  return app;
}
