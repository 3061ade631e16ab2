import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, type Sql, type TokenVerifier } from '@marquee/service-kit';
import { authenticated, requireRole } from '../authz.ts';
import { createDisplayExample, createdDisplayExample, credentialExample, displayExample, displayPageExample, updateDisplayExample } from '../examples.ts';
import { bearerSecurity, createRouter, IdParam, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { pageSchema } from '../pagination.ts';
import { changeDisplayStatus, registerDisplay, rotateDisplayCredential, updateDisplay, type DisplayDeps } from './manage.ts';
import {
  CreateDisplaySchema,
  CreatedDisplaySchema,
  CredentialSchema,
  DisplaySchema,
  ListDisplaysQuery,
  PublicDisplaySchema,
  UpdateDisplaySchema,
} from './schemas.ts';
import { findVisibleDisplay, listDisplays, toOwnerView, viewFor } from './sql.ts';

export interface DisplayRoutesDeps extends DisplayDeps {
  verifier: TokenVerifier;
  /** Pool for GET /displays/{id} (see DATABASE_READ_POOL_MAX); `sql` when absent. */
  readSql?: Sql;
}

const AnyDisplaySchema = z.union([DisplaySchema, PublicDisplaySchema]);
const DisplayPageSchema = pageSchema(AnyDisplaySchema, 'DisplayPage');
const ownerOnly = requireRole('operator', 'admin');
const tags = ['displays'];

/**
 * Displays: operators register and run them; advertisers browse the active catalogue.
 * Status: pending → active ⇄ disabled. Disabling is reversible (an operator may take a screen
 * down for maintenance); it revokes the device's live connection and its credential stops
 * authenticating until the display is activated again.
 */
export function displayRoutes(deps: DisplayRoutesDeps) {
  const { sql } = deps;
  const readSql = deps.readSql ?? sql;
  const app = createRouter();
  app.use('/displays', authenticated(deps.verifier));
  app.use('/displays/*', authenticated(deps.verifier));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/displays',
      operationId: 'createDisplay',
      tags,
      summary: 'Register a display (operators); returns its device credential once',
      description:
        'A new display is `pending`: advertisers do not see it and cannot book it until you activate it (POST /displays/{id}/activate). ' +
        'Give `credential.secret` to the device (see docs/display-protocol.md); it is shown only here and on rotation.',
      security: bearerSecurity,
      middleware: [ownerOnly] as const,
      request: { body: jsonBody(CreateDisplaySchema, { example: createDisplayExample }) },
      responses: {
        201: jsonResponse(CreatedDisplaySchema, 'Created (status pending). Store credential.secret on the device: it is never shown again.', createdDisplayExample),
        403: problem('Only operators and admins register displays'),
        ...pick(400, 401, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const { row, credential } = await registerDisplay(sql, c.get('user'), c.req.valid('json'));
      return c.json({ display: toOwnerView(row), credential }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays',
      operationId: 'listDisplays',
      tags,
      summary: 'List displays: operators their own (any status), advertisers the active catalogue, admins all',
      security: bearerSecurity,
      request: { query: ListDisplaysQuery },
      responses: { 200: jsonResponse(DisplayPageSchema, 'One page, in creation order', displayPageExample), ...pick(401, 422, 503) },
    }),
    async (c) => {
      const user = c.get('user');
      const page = await listDisplays(sql, user, c.req.valid('query'));
      return c.json({ items: page.items.map((r) => viewFor(user, r)), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}',
      operationId: 'getDisplay',
      tags,
      summary: 'One display (the catalogue view for advertisers)',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(AnyDisplaySchema, 'The display', displayExample), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const user = c.get('user');
      const row = await findVisibleDisplay(readSql, user, c.req.valid('param').id);
      if (!row) throw new NotFoundError('No such display.');
      return c.json(viewFor(user, row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/displays/{id}',
      operationId: 'updateDisplay',
      tags,
      summary: 'Change a display. A loop change bumps its playlist version; it is refused if it would strand bookings.',
      security: bearerSecurity,
      middleware: [ownerOnly] as const,
      request: { params: IdParam, body: jsonBody(UpdateDisplaySchema, { example: updateDisplayExample }) },
      responses: {
        200: jsonResponse(DisplaySchema, 'The updated display', { ...displayExample, ...updateDisplayExample }),
        403: problem('Only operators and admins change displays'),
        409: problem('The new loop would strand bookings; `conflicts` lists them'),
        ...pick(400, 401, 404, 413, 415, 422, 503),
      },
    }),
    async (c) => c.json(toOwnerView(await updateDisplay(deps, c.get('user'), c.req.valid('param').id, c.req.valid('json'))), 200),
  );

  for (const action of ['activate', 'disable'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/displays/{id}/${action}`,
        operationId: action === 'activate' ? 'activateDisplay' : 'disableDisplay',
        tags,
        summary:
          action === 'activate'
            ? 'Put a pending or disabled display in the catalogue (idempotent)'
            : 'Take a display out of the catalogue and disconnect its device (idempotent; re-activatable)',
        security: bearerSecurity,
        middleware: [ownerOnly] as const,
        request: { params: IdParam },
        responses: {
          200: jsonResponse(DisplaySchema, 'The display', action === 'activate' ? displayExample : { ...displayExample, status: 'disabled', presence: { ...displayExample.presence, online: false } }),
          403: problem('Only operators and admins'),
          ...pick(401, 404, 422, 503),
        },
      }),
      async (c) => {
        const status = action === 'activate' ? 'active' : 'disabled';
        return c.json(toOwnerView(await changeDisplayStatus(deps, c.get('user'), c.req.valid('param').id, status)), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/displays/{id}/credentials',
      operationId: 'rotateDisplayCredential',
      tags,
      summary: 'Rotate the device credential: the old secret stops working at once and a live connection is closed',
      security: bearerSecurity,
      middleware: [ownerOnly] as const,
      request: { params: IdParam },
      responses: {
        201: jsonResponse(CredentialSchema, 'The new credential; shown only once', credentialExample),
        403: problem('Only operators and admins'),
        ...pick(401, 404, 422, 503),
      },
    }),
    async (c) => c.json(await rotateDisplayCredential(deps, c.get('user'), c.req.valid('param').id), 201),
  );

  return app;
}
