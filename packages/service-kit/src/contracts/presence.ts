import { z } from 'zod';
import { InstantSchema, UuidSchema, VersionSchema } from './common.ts';

const SessionId = z.string().min(1).max(128);
const InstanceId = z.string().min(1).max(128);

/** device-tcp → api-v2: presence of displays, applied only to the session each event names. */
export const PresenceEventSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('connected'),
      displayId: UuidSchema,
      sessionId: SessionId,
      instanceId: InstanceId,
      at: InstantSchema,
      remoteAddress: z.string().max(128),
      playlistVersion: VersionSchema,
    }),
    z.object({ kind: z.literal('disconnected'), displayId: UuidSchema, sessionId: SessionId, instanceId: InstanceId, at: InstantSchema, reason: z.string().max(200) }),
    /** Liveness: the display sent a frame (reported at most every PRESENCE_SEEN_EVERY_MS). */
    z.object({ kind: z.literal('seen'), displayId: UuidSchema, sessionId: SessionId, at: InstantSchema, playlistVersion: VersionSchema }),
  ])
  .meta({ id: 'PresenceEvent' });
export type PresenceEvent = z.infer<typeof PresenceEventSchema>;

/** POST /internal/presence. */
export const PresenceReportSchema = z.strictObject({ events: z.array(PresenceEventSchema).max(20_000) });
export type PresenceReport = z.infer<typeof PresenceReportSchema>;
