import { z } from 'zod';
import { ConflictError, NotFoundError, readJson, validate } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { createRouter } from '../openapi.ts';
import { verifyDisplayCredential } from '../displays/credentials.ts';
import { recordCommandResult, takePendingCommands, toDeviceCommand } from './commands-sql.ts';
import { handshakeDisplays } from './handshakes.ts';
import { applyPresence } from './presence.ts';

const uuid = z.string().uuid();
const instant = z.string().datetime({ offset: true });

const Credential = z.strictObject({ displayId: z.string().max(64), secret: z.string().max(256) });
/** One call per batch of hellos: device-tcp gathers them (a reconnect storm is thousands a second). */
const HandshakesBody = z.strictObject({
  hellos: z
    .array(Credential.extend({ playlistVersion: z.number().int().min(0) }))
    .min(1)
    .max(1_000),
});
const PresenceBody = z.strictObject({
  events: z
    .array(
      z.discriminatedUnion('kind', [
        z.object({
          kind: z.literal('connected'),
          displayId: uuid,
          sessionId: z.string().min(1).max(128),
          instanceId: z.string().min(1).max(128),
          at: instant,
          remoteAddress: z.string().max(128),
          playlistVersion: z.number().int().min(0),
        }),
        z.object({
          kind: z.literal('disconnected'),
          displayId: uuid,
          sessionId: z.string().min(1).max(128),
          instanceId: z.string().min(1).max(128),
          at: instant,
          reason: z.string().max(200),
        }),
        z.object({ kind: z.literal('seen'), displayId: uuid, sessionId: z.string().min(1).max(128), at: instant, playlistVersion: z.number().int().min(0) }),
      ]),
    )
    .max(20_000),
});
const CommandResultBody = z.strictObject({
  displayId: uuid,
  commandId: uuid,
  ok: z.boolean(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(2000).optional(),
  completedAt: instant,
});

/** Endpoints device-tcp calls on the internal port (contract: services/device-tcp/src/directory-http.ts). */
export function deviceInternalRoutes(deps: ApiV2Deps) {
  const app = createRouter();

  app.post('/internal/displays/handshakes', async (c) => {
    const { hellos } = await readJson(c, HandshakesBody);
    return c.json({ answers: await handshakeDisplays(deps.sql, hellos, deps.publicBaseUrl) });
  });

  // The per-display calls device-tcp made before it batched hellos (1732d91). Kept so replicas of
  // either version keep working while a deploy rolls out; remove once no older device-tcp runs.
  app.post('/internal/displays/authenticate', async (c) => {
    const body = await readJson(c, Credential);
    return c.json(await verifyDisplayCredential(deps.sql, body.displayId, body.secret));
  });
  app.get('/internal/displays/:id/commands/pending', async (c) => {
    const displayId = validate(uuid, c.req.param('id'), 'display id');
    const rows = await takePendingCommands(deps.sql, [displayId]);
    return c.json({
      commands: rows.map(toDeviceCommand),
    });
  });

  app.post('/internal/presence', async (c) => {
    const { events } = await readJson(c, PresenceBody);
    await applyPresence(deps.sql, events);
    return c.body(null, 204);
  });

  app.post('/internal/commands/:id/result', async (c) => {
    const body = await readJson(c, CommandResultBody);
    if (body.commandId !== c.req.param('id')) throw new NotFoundError('Command id in path and body differ.');
    const outcome = await recordCommandResult(deps.sql, body);
    if (outcome === 'unknown') throw new NotFoundError('No such command for this display.');
    if (outcome === 'already-answered') throw new ConflictError('This command was already answered or has expired.');
    return c.body(null, 204);
  });

  return app;
}

