import { z } from '@hono/zod-openapi';
import { availabilityWindow } from '../examples.ts';
import { PageQuery, pageSchema } from '../pagination.ts';

export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** RFC 3339 instant with an explicit offset ("Z" or "+02:00"). */
const Instant = z.iso.datetime({ offset: true }).openapi({ example: '2027-03-01T08:00:00Z' });
const LocalTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected HH:MM (00:00-24:00)');

export const DaypartSchema = z
  .strictObject({
    from: LocalTime.openapi({ example: '07:00' }),
    to: LocalTime.openapi({ example: '10:00', description: 'Earlier than or equal to `from` means the window runs past midnight' }),
    days: z
      .array(z.enum(DAY_NAMES))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, 'days must not repeat')
      .optional()
      .openapi({ description: 'Local weekdays on which a window starts; all days if absent' }),
  })
  .refine((d) => d.from !== d.to && d.from !== '24:00', { message: 'from must differ from to and be before 24:00', path: ['from'] })
  .openapi('Daypart', {
    description:
      "Local time window in each display's own timezone: the booking occupies the instants at which the display's clock reads a time in [from, to). " +
      'On the night the clocks go back, the repeated hour counts on both passes; on the night they go forward, the skipped hour never comes ' +
      '(a window starting or ending inside it starts or ends at the jump, one wholly inside it is empty that night).',
  });
export type Daypart = z.infer<typeof DaypartSchema>;

export const CreateBookingSchema = z
  .strictObject({
    displayIds: z
      .array(z.uuid())
      .min(1)
      .max(50)
      .refine((ids) => new Set(ids.map((i) => i.toLowerCase())).size === ids.length, 'displayIds must not repeat'),
    creativeId: z.uuid(),
    startsAt: Instant,
    endsAt: Instant,
    daypart: DaypartSchema.optional(),
  })
  .openapi('CreateBooking');
export type CreateBooking = z.infer<typeof CreateBookingSchema>;

export const PatchBookingSchema = z.strictObject({ creativeId: z.uuid() }).openapi('PatchBooking');

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string({
      error: (issue) =>
        issue.input === undefined ? 'Send an Idempotency-Key header (any unique string up to 200 characters) so a retried booking is not made twice.' : undefined,
    })
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .openapi({
      description: 'Unique per intended booking (e.g. a fresh UUID); a retry with the same key and body returns the same booking',
      example: 'spring-sale-alexanderplatz-1',
    }),
});

export const BookingStatus = z.enum(['held', 'booked', 'cancelled', 'expired']);

export const BookingSchema = z
  .object({
    id: z.uuid(),
    advertiserId: z.uuid(),
    creativeId: z.uuid(),
    status: BookingStatus,
    startsAt: z.string(),
    endsAt: z.string(),
    daypart: DaypartSchema.nullable(),
    holdExpiresAt: z.string().nullable().openapi({ description: 'Set while held: after this instant the hold is released' }),
    priceTotal: z.number().int().openapi({ description: 'Minor units of `currency`; an operator sees only the part of the price on its own displays' }),
    currency: z.string().length(3),
    displays: z.array(
      z.object({
        displayId: z.uuid(),
        slot: z.number().int(),
        price: z.number().int(),
        windowCount: z.number().int().openapi({ description: 'Booked time windows on this display (1 without a daypart)' }),
        approval: z
          .object({
            state: z.enum(['approved', 'pending', 'rejected']),
            reason: z.string().nullable().openapi({ description: "The operator's reason, when rejected" }),
          })
          .openapi({
            description:
              "Whether the booking's current `creativeId` may play on this display: `approved` (the display takes content as booked, the " +
              "advertiser is trusted, or its operator approved it), `pending` (waiting for the operator's review, which starts at confirmation) " +
              'or `rejected`. Until approved the display keeps showing `shownCreativeId`.',
          }),
        shownCreativeId: z.uuid().nullable().openapi({ description: 'The creative this booking shows on this display now (null: nothing approved yet; the slot plays house content)' }),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
    confirmedAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
  })
  .openapi('Booking');
export type Booking = z.infer<typeof BookingSchema>;

export const BookingWarningSchema = z
  .object({
    code: z.enum(['creative_longer_than_slot']).openapi({ description: '`creative_longer_than_slot`: the creative is cut at the end of its slot on `displayIds`' }),
    detail: z.string(),
    displayIds: z.array(z.uuid()),
  })
  .openapi('BookingWarning');
export type BookingWarning = z.infer<typeof BookingWarningSchema>;

/** The answer to a booking or a creative swap: the booking, and what was done although questionable. */
export const BookingWithWarningsSchema = BookingSchema.extend({
  warnings: z.array(BookingWarningSchema).openapi({ description: 'Done, but worth knowing (empty when nothing is): e.g. a creative longer than the slot is cut at its end' }),
}).openapi('BookingWithWarnings');
export type BookingWithWarnings = z.infer<typeof BookingWithWarningsSchema>;

export const BookingPageSchema = pageSchema(BookingSchema, 'BookingPage');

export const BookingListQuery = PageQuery.extend({
  status: BookingStatus.optional().openapi({ param: { name: 'status', in: 'query' } }),
  displayId: z.uuid().optional().openapi({ param: { name: 'displayId', in: 'query' } }),
});
export type BookingListFilters = z.infer<typeof BookingListQuery>;

export const AvailabilityQuery = z.object({
  from: Instant.openapi({ param: { name: 'from', in: 'query' }, example: availabilityWindow.from }),
  to: Instant.openapi({ param: { name: 'to', in: 'query' }, example: availabilityWindow.to }),
});

export const AvailabilitySchema = z
  .object({
    displayId: z.uuid(),
    slotCount: z.number().int(),
    from: z.string(),
    to: z.string(),
    freeSlots: z.number().int().openapi({ description: 'Slots free for the whole window' }),
    blocks: z.array(
      z.object({
        slot: z.number().int(),
        from: z.string(),
        to: z.string(),
        status: z.enum(['held', 'booked']),
        bookingId: z.uuid().optional().openapi({ description: "Only for the caller's own bookings (or the display's operator, or an admin)" }),
      }),
    ),
    truncated: z.boolean().openapi({ description: 'True when more blocks exist than are listed' }),
  })
  .openapi('Availability');
