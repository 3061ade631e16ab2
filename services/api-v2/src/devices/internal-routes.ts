import { createRoute } from '@hono/zod-openapi';
import {
  CommandResultParamsSchema,
  CommandResultSchema,
  ConflictError,
  CredentialCheckSchema,
  DisplayCredentialSchema,
  DisplayParamsSchema,
  HandshakesAnswerSchema,
  HandshakesRequestSchema,
  NotFoundError,
  PendingCommandsAnswerSchema,
  PresenceReportSchema,
} from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { createRouter, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { verifyDisplayCredential } from '../displays/credentials.ts';
import { createCredentialThrottle } from '../displays/credential-throttle.ts';
import { recordCommandResult, takePendingCommands, toDeviceCommand } from './commands-sql.ts';
import { handshakeDisplays } from './handshakes.ts';
import { reportPresence } from './presence.ts';

const tags = ['device-tcp'];

/** Endpoints device-tcp calls on the internal port; their contracts are the kit's (device-tcp's directory-http.ts uses the same). */
export function deviceInternalRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  const throttled = createCredentialThrottle(deps.credentialFailures, deps.credentialThrottle);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/displays/handshakes',
      tags,
      summary: 'Check a batch of hellos: verdicts, waiting commands (now delivered) and playlists newer than the one shown',
      request: { body: jsonBody(HandshakesRequestSchema) },
      responses: { 200: jsonResponse(HandshakesAnswerSchema, 'One answer per hello, in order'), ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { hellos } = c.req.valid('json');
      return c.json({ answers: await handshakeDisplays(deps.sql, hellos, deps.publicBaseUrl) }, 200);
    },
  );

  // The per-display calls device-tcp made before it batched hellos (1732d91). Kept so replicas of
  // either version keep working while a deploy rolls out; remove once no older device-tcp runs.
  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/displays/authenticate',
      tags,
      summary: 'Check one credential (legacy: device-tcp before batched hellos)',
      request: { body: jsonBody(DisplayCredentialSchema) },
      responses: {
        200: jsonResponse(CredentialCheckSchema, 'The verdict'),
        429: problem('Too many wrong secrets for this display in a row; retry after Retry-After'),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await throttled(body.displayId, () => verifyDisplayCredential(deps.sql, body.displayId, body.secret)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/internal/displays/{id}/commands/pending',
      tags,
      summary: "A display's waiting commands, now marked delivered (legacy: device-tcp before batched hellos)",
      request: { params: DisplayParamsSchema },
      responses: { 200: jsonResponse(PendingCommandsAnswerSchema, 'Unexpired, unanswered commands, oldest first'), ...pick(422, 503) },
    }),
    async (c) => {
      const rows = await takePendingCommands(deps.sql, [c.req.valid('param').id]);
      return c.json({ commands: rows.map(toDeviceCommand) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/presence',
      tags,
      summary: 'Apply presence events (each only to the session it names)',
      request: { body: jsonBody(PresenceReportSchema) },
      responses: { 204: { description: 'Applied' }, ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) => {
      await reportPresence({ ...deps, logger: c.get('logger') }, c.req.valid('json').events);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/internal/commands/{id}/result',
      tags,
      summary: "Record a display's answer to a command",
      request: { params: CommandResultParamsSchema, body: jsonBody(CommandResultSchema) },
      responses: {
        204: { description: 'Recorded' },
        404: problem('No such command for this display, or path and body name different commands'),
        409: problem('Already answered or expired'),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.commandId !== c.req.valid('param').id) throw new NotFoundError('Command id in path and body differ.');
      const outcome = await recordCommandResult({ ...deps, logger: c.get('logger') }, body);
      if (outcome === 'unknown') throw new NotFoundError('No such command for this display.');
      if (outcome === 'already-answered') throw new ConflictError('This command was already answered or has expired.');
      return c.body(null, 204);
    },
  );

  return app;
}
