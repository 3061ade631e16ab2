/**
 * Frames the server sends (docs/display-protocol.md §6). device-tcp builds them from these types;
 * a display checks every one it receives against these schemas, so a bad frame is ignored rather
 * than crashing the player. Unknown members are ignored (§2); where the protocol lets a server add
 * values later (error and rejection codes, §9) the schemas accept any string.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.ts';
import { PlaylistSchema } from './playlist.ts';
import { RejectedPlaySchema } from './plays.ts';
import { InstantSchema, ProtocolIdSchema } from './primitives.ts';

const positiveInt = z.number().int().positive();
const delayMs = z.number().int().min(0);

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  protocol: positiveInt,
  displayId: z.string(),
  sessionId: z.string(),
  serverTime: InstantSchema,
  heartbeatIntervalMs: positiveInt,
  heartbeatTimeoutMs: positiveInt,
  maxFrameBytes: positiveInt,
  maxPlaysPerBatch: positiveInt,
});
export type WelcomeMessage = z.infer<typeof welcomeSchema>;

export const heartbeatAckSchema = z.object({ type: z.literal('heartbeat_ack'), serverTime: InstantSchema });
export type HeartbeatAckMessage = z.infer<typeof heartbeatAckSchema>;

/**
 * `playlist` as the server sends it. A display reads the playlist itself entry by entry (one bad
 * or unknown-kind entry is left out, not the whole playlist): see PlaylistEnvelopeSchema.
 */
export const playlistMessageSchema = z.object({ type: z.literal('playlist'), playlist: PlaylistSchema });
export type PlaylistMessage = z.infer<typeof playlistMessageSchema>;

/** The playlist with its entries still unchecked, for a receiver that checks them one by one. */
export const PlaylistEnvelopeSchema = PlaylistSchema.extend({ entries: z.array(z.unknown()) });

/** A rejected play as a display receives it: a newer server may send codes this one does not know (§9). */
export const ReceivedRejectedPlaySchema = RejectedPlaySchema.extend({ code: z.string() });

export const playsAckSchema = z.object({
  type: z.literal('plays_ack'),
  batchId: z.string(),
  accepted: z.array(z.string()),
  rejected: z.array(ReceivedRejectedPlaySchema),
  retryAfterMs: delayMs.optional(),
});
export type PlaysAckMessage = z.infer<typeof playsAckSchema>;

export const commandSchema = z.object({
  type: z.literal('command'),
  commandId: ProtocolIdSchema,
  /** `reload`, `screenshot`, more may come (§7). */
  kind: z.string(),
  args: z.record(z.string(), z.unknown()),
  expiresAt: InstantSchema,
});
export type CommandMessage = z.infer<typeof commandSchema>;

export const commandResultAckSchema = z.object({
  type: z.literal('command_result_ack'),
  commandId: z.string(),
  recorded: z.boolean(),
  retryAfterMs: delayMs.optional(),
});
export type CommandResultAckMessage = z.infer<typeof commandResultAckSchema>;

export const reconnectSchema = z.object({ type: z.literal('reconnect'), reason: z.literal('draining'), afterMs: delayMs });
export type ReconnectMessage = z.infer<typeof reconnectSchema>;

export const errorMessageSchema = z.object({
  type: z.literal('error'),
  /** One of ERROR_CODES when this server sent it; a display accepts any string (§9). */
  code: z.string(),
  message: z.string(),
  fatal: z.boolean(),
  retryAfterMs: delayMs.optional(),
  supported: z.array(z.number().int()).optional(),
  ref: z.string().optional(),
});
/** An `error` frame as received. */
export type ReceivedErrorMessage = z.infer<typeof errorMessageSchema>;
/** An `error` frame as this server sends it: only codes of the table. */
export type ErrorMessage = Omit<ReceivedErrorMessage, 'code'> & { code: ErrorCode };

export type ServerMessage =
  | WelcomeMessage
  | HeartbeatAckMessage
  | PlaylistMessage
  | PlaysAckMessage
  | CommandMessage
  | CommandResultAckMessage
  | ReconnectMessage
  | ErrorMessage;
