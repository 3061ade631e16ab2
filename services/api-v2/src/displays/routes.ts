import { createRoute, z } from '@hono/zod-openapi';
import { ConflictError, NotFoundError, type Logger, type MessageBus, type Queryable, type Sql, type TokenVerifier } from '@marquee/service-kit';
import { authenticated, requireRole } from '../authz.ts';
import { bearerSecurity, createRouter, IdParam, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { pageSchema } from '../pagination.ts';
import { bumpPlaylistVersions, publishPlaylistChanges, TOPIC_DISPLAY_REVOKED, type PlaylistChange } from '../playlist-changes.ts';
import { newDeviceSecret } from './credentials.ts';
import {
  CreateDisplaySchema,
  CreatedDisplaySchema,
  CredentialSchema,
  DisplaySchema,
  ListDisplaysQuery,
  PublicDisplaySchema,
  UpdateDisplaySchema,
  type UpdateDisplayInput,
} from './schemas.ts';
import { DISPLAY_COLUMNS, findStrandedBookings, findVisibleDisplay, insertDisplay, listDisplays, toOwnerView, viewFor, type DisplayRow } from './sql.ts';

export interface DisplayRoutesDeps {
  sql: Sql;
  bus: MessageBus;
  verifier: TokenVerifier;
  logger: Logger;
  publicBaseUrl: string;
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
  const { sql, bus, logger } = deps;
  const app = createRouter();
  app.use('/displays', authenticated(deps.verifier));
  app.use('/displays/*', authenticated(deps.verifier));

  /** Tells device-tcp to close the display's live connection, and why (the display is told). */
  const revoke = async (displayId: string, reason: 'disabled' | 'credentials_rotated') => {
    await bus.publish(TOPIC_DISPLAY_REVOKED, { displayId, reason }).catch((err) => logger.warn({ err, displayId }, 'display revocation not published'));
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/displays',
      tags,
      summary: 'Register a display (operators); returns its device credential once',
      security: bearerSecurity,
      middleware: [ownerOnly] as const,
      request: { body: jsonBody(CreateDisplaySchema) },
      responses: {
        201: jsonResponse(CreatedDisplaySchema, 'Created (status pending). Store credential.secret on the device: it is never shown again.'),
        403: problem('Only operators and admins register displays'),
        ...pick(400, 401, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const { secret, hash } = newDeviceSecret();
      const row = await insertDisplay(sql, user.sub, c.req.valid('json'), hash);
      return c.json({ display: toOwnerView(row), credential: credentialOf(row, secret) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays',
      tags,
      summary: 'List displays: operators their own (any status), advertisers the active catalogue, admins all',
      security: bearerSecurity,
      request: { query: ListDisplaysQuery },
      responses: { 200: jsonResponse(DisplayPageSchema, 'One page, in creation order'), ...pick(401, 422, 503) },
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
      tags,
      summary: 'One display (the catalogue view for advertisers)',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: { 200: jsonResponse(AnyDisplaySchema, 'The display'), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const user = c.get('user');
      const row = await findVisibleDisplay(sql, user, c.req.valid('param').id);
      if (!row) throw new NotFoundError('No such display.');
      return c.json(viewFor(user, row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/displays/{id}',
      tags,
      summary: 'Change a display. A loop change bumps its playlist version; it is refused if it would strand bookings.',
      security: bearerSecurity,
      middleware: [ownerOnly] as const,
      request: { params: IdParam, body: jsonBody(UpdateDisplaySchema) },
      responses: {
        200: jsonResponse(DisplaySchema, 'The updated display'),
        403: problem('Only operators and admins change displays'),
        409: problem('The new loop would strand bookings; `conflicts` lists them'),
        ...pick(400, 401, 404, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const id = c.req.valid('param').id;
      const patch = c.req.valid('json');
      let changes: PlaylistChange[] = [];
      const row = await sql.begin(async (tx) => {
        const current = await findVisibleDisplay(tx, user, id, { forUpdate: true });
        if (!current) throw new NotFoundError('No such display.');
        const loopChanged = patch.loop && (patch.loop.lengthMs !== current.loop_length_ms || patch.loop.slotCount !== current.slot_count);
        if (patch.loop && loopChanged) {
          const stranded = await findStrandedBookings(tx, id, patch.loop.slotCount, patch.loop.lengthMs / patch.loop.slotCount);
          if (stranded.length) {
            throw new ConflictError(
              `The new loop would strand ${stranded.length}${stranded.length === 100 ? '+' : ''} booked slot(s); cancel or move them first.`,
              { conflicts: stranded },
            );
          }
        }
        await applyPatch(tx, id, patch);
        if (loopChanged) changes = await bumpPlaylistVersions(tx, [id]);
        const [updated] = await tx<DisplayRow[]>`select ${tx(DISPLAY_COLUMNS)} from displays where id = ${id}`;
        return updated!;
      });
      publishPlaylistChanges(deps, changes);
      return c.json(toOwnerView(row), 200);
    },
  );

  for (const action of ['activate', 'disable'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/displays/{id}/${action}`,
        tags,
        summary:
          action === 'activate'
            ? 'Put a pending or disabled display in the catalogue (idempotent)'
            : 'Take a display out of the catalogue and disconnect its device (idempotent; re-activatable)',
        security: bearerSecurity,
        middleware: [ownerOnly] as const,
        request: { params: IdParam },
        responses: { 200: jsonResponse(DisplaySchema, 'The display'), 403: problem('Only operators and admins'), ...pick(401, 404, 422, 503) },
      }),
      async (c) => {
        const user = c.get('user');
        const id = c.req.valid('param').id;
        const status = action === 'activate' ? 'active' : 'disabled';
        const row = await sql.begin(async (tx) => {
          if (!(await findVisibleDisplay(tx, user, id, { forUpdate: true }))) throw new NotFoundError('No such display.');
          const [updated] = await tx<DisplayRow[]>`
            update displays set status = ${status}, updated_at = case when status = ${status} then updated_at else now() end
            where id = ${id} returning ${tx(DISPLAY_COLUMNS)}`;
          return updated!;
        });
        if (action === 'disable') await revoke(id, 'disabled');
        return c.json(toOwnerView(row), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/displays/{id}/credentials',
      tags,
      summary: 'Rotate the device credential: the old secret stops working at once and a live connection is closed',
      security: bearerSecurity,
      middleware: [ownerOnly] as const,
      request: { params: IdParam },
      responses: {
        201: jsonResponse(CredentialSchema, 'The new credential; shown only once'),
        403: problem('Only operators and admins'),
        ...pick(401, 404, 422, 503),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const id = c.req.valid('param').id;
      const { secret, hash } = newDeviceSecret();
      const row = await sql.begin(async (tx) => {
        if (!(await findVisibleDisplay(tx, user, id, { forUpdate: true }))) throw new NotFoundError('No such display.');
        const [updated] = await tx<DisplayRow[]>`
          update displays set credential_hash = ${hash}, credential_rotated_at = now(), updated_at = now()
          where id = ${id} returning ${tx(DISPLAY_COLUMNS)}`;
        return updated!;
      });
      await revoke(id, 'credentials_rotated');
      return c.json(credentialOf(row, secret), 201);
    },
  );

  return app;
}

function credentialOf(row: DisplayRow, secret: string) {
  return { displayId: row.id, secret, rotatedAt: row.credential_rotated_at.toISOString() };
}

async function applyPatch(tx: Queryable, id: string, p: UpdateDisplayInput) {
  const set: Record<string, unknown> = {};
  if (p.name !== undefined) set.name = p.name;
  if (p.location) Object.assign(set, { address: p.location.address, lat: p.location.lat, lng: p.location.lng });
  if (p.timezone !== undefined) set.timezone = p.timezone;
  if (p.resolution) Object.assign(set, { width_px: p.resolution.widthPx, height_px: p.resolution.heightPx });
  if (p.orientation !== undefined) set.orientation = p.orientation;
  if (p.tags !== undefined) set.tags = p.tags;
  if (p.loop) Object.assign(set, { loop_length_ms: p.loop.lengthMs, slot_count: p.loop.slotCount });
  if (p.pricePerSlotHour !== undefined) set.price_per_slot_hour = p.pricePerSlotHour;
  if (p.currency !== undefined) set.currency = p.currency;
  if (p.audienceMultiplier !== undefined) set.audience_multiplier = p.audienceMultiplier;
  await tx`update displays set ${tx(set as Record<string, any>, Object.keys(set))}, updated_at = now() where id = ${id}`;
}
