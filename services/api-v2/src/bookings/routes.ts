import { createRoute } from '@hono/zod-openapi';
import { NotFoundError } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { authenticated, requireRole } from '../authz.ts';
import { DEFAULT_BOOKING_START_GRACE_SECONDS } from '../config.ts';
import {
  availabilityExample,
  bookedBookingExample,
  bookingPageExample,
  cancelledBookingExample,
  createBookingExample,
  heldBookingWithWarningExample,
  patchBookingExample,
} from '../examples.ts';
import { IdParam, bearerSecurity, createRouter, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { displayAvailability } from './availability.ts';
import { createBooking } from './create.ts';
import { cancelBooking, confirmBooking, swapCreative } from './lifecycle.ts';
import {
  AvailabilityQuery,
  AvailabilitySchema,
  BookingListQuery,
  BookingPageSchema,
  BookingSchema,
  BookingWithWarningsSchema,
  CreateBookingSchema,
  IdempotencyHeaders,
  PatchBookingSchema,
} from './schemas.ts';
import { findVisibleBooking, listBookings, representBookings } from './sql.ts';

type BookingDeps = Pick<ApiV2Deps, 'sql' | 'bus' | 'verifier' | 'logger' | 'holdTtlSeconds' | 'bookingStartGraceSeconds' | 'publicBaseUrl'>;

const forbidden = problem('Operators cannot change bookings');

export function bookingRoutes(deps: BookingDeps) {
  const app = createRouter();
  const signedIn = authenticated(deps.verifier);
  const buyer = [signedIn, requireRole('advertiser', 'admin')];
  const startGraceSeconds = deps.bookingStartGraceSeconds ?? DEFAULT_BOOKING_START_GRACE_SECONDS;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/bookings',
      operationId: 'createBooking',
      tags: ['bookings'],
      summary: 'Hold one loop slot on one or more displays (all or nothing)',
      description:
        'Creates a hold that blocks the inventory until `holdExpiresAt`; confirm it to book. With a `daypart` the booking occupies only ' +
        "those local windows (in each display's timezone) within [startsAt, endsAt). Price = price_per_slot_hour × booked hours, rounded up per display. " +
        'Retrying with the same Idempotency-Key and body returns the same booking (200).\n\n' +
        `\`startsAt\` may lie at most ${startGraceSeconds} seconds in the past (this server's \`BOOKING_START_GRACE_SECONDS\`), so a booking ` +
        'that starts "now" survives clock skew and a slow request; an earlier start is refused (422 naming `startsAt`). The whole ' +
        '[startsAt, endsAt) is booked and priced, including any part already past. `startsAt` may be at most 2 years ahead and a booking lasts at most 366 days.\n\n' +
        'A creative longer than the slot of some display is booked all the same, and cut at the end of its slot there: the answer then ' +
        "lists a `warnings[]` entry `creative_longer_than_slot` naming those displays (empty `warnings` otherwise).",
      security: bearerSecurity,
      middleware: buyer,
      request: { headers: IdempotencyHeaders, body: jsonBody(CreateBookingSchema, { example: createBookingExample }) },
      responses: {
        201: jsonResponse(BookingWithWarningsSchema, 'Hold created (see `warnings`)', heldBookingWithWarningExample),
        200: jsonResponse(BookingWithWarningsSchema, 'Retry of an earlier request with the same Idempotency-Key', heldBookingWithWarningExample),
        403: forbidden,
        409: problem('No free slot on some display; `conflicts` names each display, the times and what blocks them'),
        ...pick(400, 401, 404, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      const { booking, replayed } = await createBooking(
        { ...deps, logger: c.get('logger') },
        c.get('user'),
        c.req.valid('header')['idempotency-key'],
        c.req.valid('json'),
        deps.holdTtlSeconds,
        startGraceSeconds,
      );
      return c.json(booking, replayed ? 200 : 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/bookings',
      operationId: 'listBookings',
      tags: ['bookings'],
      summary: 'Bookings: an advertiser’s own, those on an operator’s displays, or all (admin); newest first',
      security: bearerSecurity,
      middleware: signedIn,
      request: { query: BookingListQuery },
      responses: { 200: jsonResponse(BookingPageSchema, 'One page', bookingPageExample), ...pick(401, 422, 503) },
    }),
    async (c) => c.json(await listBookings(deps.sql, c.get('user'), c.req.valid('query')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/bookings/{id}',
      operationId: 'getBooking',
      tags: ['bookings'],
      summary: 'One booking (operators see only the parts on their displays)',
      security: bearerSecurity,
      middleware: signedIn,
      request: { params: IdParam },
      responses: { 200: jsonResponse(BookingSchema, 'The booking', bookedBookingExample), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const user = c.get('user');
      const row = await findVisibleBooking(deps.sql, c.req.valid('param').id, user);
      if (!row) throw new NotFoundError('No such booking.');
      const [booking] = await representBookings(deps.sql, [row], user);
      return c.json(booking!, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/bookings/{id}',
      operationId: 'updateBooking',
      tags: ['bookings'],
      summary: 'Swap the creative of a held or booked booking that has not ended',
      description: 'A creative longer than the slot of some display is swapped in all the same and cut at the end of its slot there; the answer lists a `warnings[]` entry `creative_longer_than_slot` naming those displays.',
      security: bearerSecurity,
      middleware: buyer,
      request: { params: IdParam, body: jsonBody(PatchBookingSchema, { example: patchBookingExample }) },
      responses: {
        200: jsonResponse(BookingWithWarningsSchema, 'Updated; displays playing it get a new playlist version', { ...bookedBookingExample, ...patchBookingExample, warnings: [] }),
        403: forbidden,
        409: problem('The booking is cancelled, expired or over'),
        ...pick(400, 401, 404, 413, 415, 422, 503),
      },
    }),
    async (c) => c.json(await swapCreative(deps, c.get('user'), c.req.valid('param').id, c.req.valid('json').creativeId), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/bookings/{id}/confirm',
      operationId: 'confirmBooking',
      tags: ['bookings'],
      summary: 'Turn a live hold into a booking (idempotent)',
      security: bearerSecurity,
      middleware: buyer,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(BookingSchema, 'Booked', bookedBookingExample),
        403: forbidden,
        409: problem('The hold expired (code hold-expired) or the booking was cancelled'),
        ...pick(401, 404, 422, 503),
      },
    }),
    async (c) => c.json(await confirmBooking(deps, c.get('user'), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/bookings/{id}/cancel',
      operationId: 'cancelBooking',
      tags: ['bookings'],
      summary: 'Cancel a hold or a booking that has not ended, releasing its inventory (idempotent)',
      security: bearerSecurity,
      middleware: buyer,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(BookingSchema, 'Cancelled', cancelledBookingExample),
        403: forbidden,
        409: problem('The hold already expired or the booking is over'),
        ...pick(401, 404, 422, 503),
      },
    }),
    async (c) => c.json(await cancelBooking(deps, c.get('user'), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/displays/{id}/availability',
      operationId: 'getDisplayAvailability',
      tags: ['bookings'],
      summary: 'Free slots of a display over a window (at most 93 days) and what blocks the others',
      security: bearerSecurity,
      middleware: signedIn,
      request: { params: IdParam, query: AvailabilityQuery },
      responses: { 200: jsonResponse(AvailabilitySchema, 'Availability', availabilityExample), ...pick(401, 404, 422, 503) },
    }),
    async (c) => {
      const { from, to } = c.req.valid('query');
      return c.json(await displayAvailability(deps.sql, c.get('user'), c.req.valid('param').id, from, to), 200);
    },
  );

  return app;
}
