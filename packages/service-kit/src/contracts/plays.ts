import { z } from 'zod';
import { InstantSchema, UuidSchema } from './common.ts';

/** One proof of play, as the display reports it and api-v2 stores it. Every id is a UUID. */
export const PlayRecordSchema = z
  .object({
    playId: UuidSchema,
    bookingId: UuidSchema,
    creativeId: UuidSchema,
    startedAt: InstantSchema,
    durationMs: z.number().int().min(0).max(86_400_000),
  })
  .meta({ id: 'PlayRecord' });
export type PlayRecord = z.infer<typeof PlayRecordSchema>;

/**
 * POST /internal/displays/{id}/plays. The envelope is checked as a whole; each record against
 * PlayRecordSchema on its own, so one malformed play is rejected without sinking the batch.
 */
export const PlaysIngestRequestSchema = z.strictObject({
  plays: z.array(z.unknown().meta({ description: 'A PlayRecord (#/components/schemas/PlayRecord), checked on its own' })).min(1).max(10_000),
});
export type PlaysIngestRequest = { plays: PlayRecord[] };

export const PlaysIngestAnswerSchema = z.object({
  /** playIds durably recorded now or earlier (duplicates count as accepted). */
  acceptedPlayIds: z.array(z.string()),
  /** playIds refused for good, with a reason the display may log. */
  rejected: z.array(z.object({ playId: z.string(), reason: z.string() })),
});
export type PlaysIngestAnswer = z.infer<typeof PlaysIngestAnswerSchema>;
