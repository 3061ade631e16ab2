/** Proof of play (docs/display-protocol.md §5 `plays`, §6 `plays_ack`). */
import { z } from 'zod';
import { InstantSchema, UuidSchema } from './primitives.ts';

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
