/**
 * Frames a display sends (docs/display-protocol.md §5). device-tcp checks every one it receives
 * against these; the display builds them from the same types. Unknown members are ignored (§2).
 */
import { z } from 'zod';
import { ProtocolIdSchema, VersionSchema } from './primitives.ts';

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  displayId: ProtocolIdSchema,
  secret: z.string().min(1).max(256),
  playlistVersion: VersionSchema,
  client: z.object({ name: z.string().max(128), version: z.string().max(128) }).partial().optional(),
});
export type Hello = z.infer<typeof helloSchema>;

export const heartbeatSchema = z.object({ type: z.literal('heartbeat'), playlistVersion: VersionSchema });
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const playlistAckSchema = z.object({ type: z.literal('playlist_ack'), version: VersionSchema });
export type PlaylistAck = z.infer<typeof playlistAckSchema>;

/**
 * The batch envelope is checked strictly; single plays are checked one by one (against
 * PlayRecordSchema, by api-v2) so one bad record does not sink the batch.
 */
export const playsSchema = z.object({
  type: z.literal('plays'),
  batchId: z.string().min(1).max(64),
  plays: z.array(z.unknown()).min(1),
});
export type PlaysMessage = z.infer<typeof playsSchema>;

export const commandResultSchema = z.object({
  type: z.literal('command_result'),
  commandId: ProtocolIdSchema,
  ok: z.boolean(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(1000).optional(),
});
export type CommandResultMessage = z.infer<typeof commandResultSchema>;

export type DisplayMessage = Hello | Heartbeat | PlaylistAck | PlaysMessage | CommandResultMessage;
