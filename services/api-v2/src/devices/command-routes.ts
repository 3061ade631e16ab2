import { createRoute, z } from '@hono/zod-openapi';
import { COMMAND_KINDS, NotFoundError } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { authenticated, requireRole } from '../authz.ts';
import { IdParam, bearerSecurity, createRouter, jsonBody, jsonResponse, pick } from '../openapi.ts';
import { TOPIC_DISPLAY_COMMAND } from '../playlist-changes.ts';
import { commandView, toDeviceCommand, type CommandRow } from './commands-sql.ts';

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

  const ownDisplay = async (displayId: string, user: { sub: string; role: string }) => {
    const [row] = await deps.sql`select id from displays where id = ${displayId} and (${user.role === 'admin'} or operator_id = ${user.sub})`;
    if (!row) throw new NotFoundError('No such display.');
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/displays/{id}/commands',
      tags: ['displays'],
      summary: 'Send a command to a display (kept until it expires if the display is offline)',
      security: bearerSecurity,
      request: { params: IdParam, body: jsonBody(CommandBody) },
      responses: { 202: jsonResponse(Command, 'Accepted; poll GET …/commands/{commandId} for the result'), ...pick(400, 401, 404, 413, 415, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const user = c.get('user');
      await ownDisplay(id, user);
      const [row] = await deps.sql<CommandRow[]>`
        insert into display_commands (display_id, kind, args, created_by, expires_at)
        values (${id}, ${body.kind}, ${deps.sql.json(body.args as never)}, ${user.sub}, now() + ${body.ttlSeconds} * interval '1 second')
        returning *`;
      const view = commandView(row!);
      // After commit; a display that misses this gets it from the pending list when it (re)connects.
      await deps.bus
        .publish(TOPIC_DISPLAY_COMMAND, toDeviceCommand(row!))
        .catch((err) => c.get('logger').warn({ err }, 'command not published; delivered on reconnect'));
      return c.json(view, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}/commands/{commandId}',
      tags: ['displays'],
      summary: 'A command and its result',
      security: bearerSecurity,
      request: { params: CommandParams },
      responses: { 200: jsonResponse(Command, 'The command'), ...pick(401, 404, 422) },
    }),
    async (c) => {
      const { id, commandId } = c.req.valid('param');
      await ownDisplay(id, c.get('user'));
      const [row] = await deps.sql<CommandRow[]>`select * from display_commands where id = ${commandId} and display_id = ${id}`;
      if (!row) throw new NotFoundError('No such command.');
      return c.json(commandView(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}/commands',
      tags: ['displays'],
      summary: 'The 100 most recent commands of a display',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.object({ items: z.array(Command) }), 'Recent commands'), ...pick(401, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await ownDisplay(id, c.get('user'));
      const rows = await deps.sql<CommandRow[]>`select * from display_commands where display_id = ${id} order by created_at desc limit 100`;
      return c.json({ items: rows.map(commandView) }, 200);
    },
  );
  return app;
}
