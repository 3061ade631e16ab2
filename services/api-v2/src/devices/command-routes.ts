import { createRoute, z } from '@hono/zod-openapi';
import { COMMAND_KINDS } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { authenticated, requireRole } from '../authz.ts';
import { commandExample, commandListExample, newCommandExample } from '../examples.ts';
import { IdParam, bearerSecurity, createRouter, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { findCommand, recentCommands, sendCommand } from './display-commands.ts';

const CommandBody = z
  .strictObject({
    kind: z.enum(COMMAND_KINDS),
    args: z.record(z.string(), z.unknown()).default({}).openapi({ description: 'Kind-specific options (≤ 4 KiB as JSON)' }),
    ttlSeconds: z.number().int().min(10).max(7 * 86_400).default(3_600).openapi({ description: 'Kept for an offline display until then' }),
  })
  .refine((b) => JSON.stringify(b.args).length <= 4096, { message: 'args must be at most 4 KiB as JSON', path: ['args'] })
  .openapi('NewCommand');
const Command = z
  .object({
    id: z.string().uuid(),
    displayId: z.string().uuid(),
    kind: z.enum(COMMAND_KINDS),
    args: z.record(z.string(), z.unknown()),
    status: z.enum(['pending', 'delivered', 'succeeded', 'failed', 'expired']),
    createdAt: z.string(),
    expiresAt: z.string(),
    deliveredAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('DisplayCommand');
const CommandParams = z.object({
  id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }),
  commandId: z.string().uuid().openapi({ param: { name: 'commandId', in: 'path' } }),
});

/** Operators send `reload` / `screenshot` to their displays; results come back from the device. */
export function commandRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  app.use('/displays/:id/commands', authenticated(deps.verifier), requireRole('operator', 'admin'));
  app.use('/displays/:id/commands/*', authenticated(deps.verifier), requireRole('operator', 'admin'));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/displays/{id}/commands',
      operationId: 'sendDisplayCommand',
      tags: ['displays'],
      summary: 'Send a command to a display (kept until it expires if the display is offline)',
      security: bearerSecurity,
      request: { params: IdParam, body: jsonBody(CommandBody, { example: newCommandExample }) },
      responses: {
        202: jsonResponse(Command, 'Accepted; poll GET …/commands/{commandId} for the result', commandExample),
        403: problem('Only operators and admins'),
        ...pick(400, 401, 404, 413, 415, 422),
      },
    }),
    async (c) => c.json(await sendCommand({ ...deps, logger: c.get('logger') }, c.get('user'), c.req.valid('param').id, c.req.valid('json')), 202),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}/commands/{commandId}',
      operationId: 'getDisplayCommand',
      tags: ['displays'],
      summary: 'A command and its result',
      security: bearerSecurity,
      request: { params: CommandParams },
      responses: { 200: jsonResponse(Command, 'The command', commandExample), 403: problem('Only operators and admins'), ...pick(401, 404, 422) },
    }),
    async (c) => {
      const { id, commandId } = c.req.valid('param');
      return c.json(await findCommand(deps.sql, c.get('user'), id, commandId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}/commands',
      operationId: 'listDisplayCommands',
      tags: ['displays'],
      summary: 'The 100 most recent commands of a display',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.object({ items: z.array(Command) }), 'Recent commands', commandListExample), 403: problem('Only operators and admins'), ...pick(401, 404, 422) },
    }),
    async (c) => c.json({ items: await recentCommands(deps.sql, c.get('user'), c.req.valid('param').id) }, 200),
  );
  return app;
}
