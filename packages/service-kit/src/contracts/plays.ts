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
 * POST /internal/displays/{id}/plays: the records as the display sent them. The envelope is
 * checked as a whole; each record against PlayRecordSchema on its own, so one malformed play is
 * rejected (`malformed`, counted for its display) without sinking the batch.
 */
export const PlaysIngestRequestSchema = z.strictObject({
  plays: z.array(z.unknown().meta({ description: 'A PlayRecord (#/components/schemas/PlayRecord), checked on its own' })).min(1).max(10_000),
});
export type PlaysIngestRequest = z.infer<typeof PlaysIngestRequestSchema>;

/**
 * Why a play is not counted (docs/display-protocol.md, "Plays"). A rejected play is answered for
 * good: the display drops it and never sends it again.
 */
export const PLAY_REJECTION_CODES = [
  'malformed',
  'unknown_booking',
  'not_confirmed',
  'in_future',
  'outside_window',
  'wrong_slot',
  'wrong_creative',
  'bad_duration',
  'overlap',
  'duplicate_slot',
  'not_billable',
] as const;
export const PlayRejectionCodeSchema = z.enum(PLAY_REJECTION_CODES);
export type PlayRejectionCode = z.infer<typeof PlayRejectionCodeSchema>;

/** One refused play: the machine-readable `code` and a sentence for the display's log. */
export const RejectedPlaySchema = z.object({ playId: z.string(), code: PlayRejectionCodeSchema, detail: z.string() });
export type RejectedPlay = z.infer<typeof RejectedPlaySchema>;

export const PlaysIngestAnswerSchema = z.object({
  /** playIds durably recorded now or earlier (a re-sent play is accepted again, counted once). */
  acceptedPlayIds: z.array(z.string()),
  /** playIds refused for good, each with its code. */
  rejected: z.array(RejectedPlaySchema),
});
export type PlaysIngestAnswer = z.infer<typeof PlaysIngestAnswerSchema>;
