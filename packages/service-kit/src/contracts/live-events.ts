import { z } from 'zod';
import { InstantSchema, UuidSchema, VersionSchema } from './common.ts';

/**
 * What a person's console hears live (GET /v2/events): one schema for the bus message between
 * api-v2 replicas and for the `data` of each Server-Sent Event. Events name what changed and carry
 * only what every member of their audience may see; a console refetches anything else.
 */
export const LiveEventSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('display.status'),
      displayId: UuidSchema,
      online: z.boolean(),
      lastSeenAt: InstantSchema.nullable(),
      /** The playlist version the display last reported showing. */
      appliedVersion: VersionSchema.nullable(),
      /** The display's current playlist version. */
      playlistVersion: VersionSchema,
    }),
    z.object({
      type: z.literal('booking.changed'),
      bookingId: UuidSchema,
      status: z.enum(['held', 'booked', 'cancelled', 'expired']),
    }),
    z.object({
      type: z.literal('command.result'),
      displayId: UuidSchema,
      commandId: UuidSchema,
      status: z.enum(['succeeded', 'failed']),
      completedAt: InstantSchema,
    }),
    /** Emitted by content approval (issue 13): a creative's review state for one operator's displays. */
    z.object({
      type: z.literal('approval.changed'),
      approvalId: UuidSchema,
      creativeId: UuidSchema,
      state: z.enum(['pending', 'approved', 'rejected']),
      reason: z.string().max(500).nullable(),
    }),
  ])
  .meta({ id: 'LiveEvent' });
export type LiveEvent = z.infer<typeof LiveEventSchema>;
export type LiveEventType = LiveEvent['type'];

/**
 * Who besides admins may receive an event, fixed by the publisher from api-v2's access rules
 * (access.ts) when it happens, so every replica decides alike without a query per listener.
 */
export const LiveEventAudienceSchema = z.object({
  operatorIds: z.array(UuidSchema).max(10_000),
  advertiserIds: z.array(UuidSchema).max(10_000),
});
export type LiveEventAudience = z.infer<typeof LiveEventAudienceSchema>;

/** api-v2 → every api-v2 replica (TOPIC_LIVE_EVENT): one event, its id (the SSE id) and its audience. */
export const LiveEventMessageSchema = z.object({
  id: z.string().min(1).max(64),
  at: InstantSchema,
  audience: LiveEventAudienceSchema,
  event: LiveEventSchema,
});
export type LiveEventMessage = z.infer<typeof LiveEventMessageSchema>;
