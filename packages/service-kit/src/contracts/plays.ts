import { z } from 'zod';
import { RejectedPlaySchema } from '@marquee/display-protocol';

// The play record and its rejections travel in display-protocol frames (§5 plays, §6 plays_ack),
// defined once in @marquee/display-protocol; api-v2's ingest endpoint around them stays here.
export {
  PLAY_REJECTION_CODES,
  PlayRecordSchema,
  PlayRejectionCodeSchema,
  RejectedPlaySchema,
  type PlayRecord,
  type PlayRejectionCode,
  type RejectedPlay,
} from '@marquee/display-protocol';

/**
 * POST /internal/displays/{id}/plays: the records as the display sent them. The envelope is
 * checked as a whole; each record against PlayRecordSchema on its own, so one malformed play is
 * rejected (`malformed`, counted for its display) without sinking the batch.
 */
export const PlaysIngestRequestSchema = z.strictObject({
  plays: z.array(z.unknown().meta({ description: 'A PlayRecord (#/components/schemas/PlayRecord), checked on its own' })).min(1).max(10_000),
});
export type PlaysIngestRequest = z.infer<typeof PlaysIngestRequestSchema>;

export const PlaysIngestAnswerSchema = z.object({
  /** playIds durably recorded now or earlier (a re-sent play is accepted again, counted once). */
  acceptedPlayIds: z.array(z.string()),
  /** playIds refused for good, each with its code. */
  rejected: z.array(RejectedPlaySchema),
});
export type PlaysIngestAnswer = z.infer<typeof PlaysIngestAnswerSchema>;
