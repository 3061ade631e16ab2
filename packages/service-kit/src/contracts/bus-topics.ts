import { z } from 'zod';
import { DisplayCommandSchema } from './commands.ts';
import { DisplayKeySchema } from './common.ts';
import { LiveEventMessageSchema } from './live-events.ts';
import { PlaylistChangedMessageSchema, PlaylistDeltaSchema } from './playlists.ts';

/** api-v2 → device-tcp: a display's playlist version changed (published after commit). */
export const TOPIC_PLAYLIST_CHANGED = 'playlist.changed';
/** api-v2 → device-tcp: one edit's change to many displays' playlists, applied to the playlists device-tcp holds. */
export const TOPIC_PLAYLIST_DELTA = 'playlist.delta';
/** api-v2 → device-tcp: an operator's command for a display. */
export const TOPIC_DISPLAY_COMMAND = 'display.command';
/** api-v2 → device-tcp: credential rotated or display disabled; close its live connection. */
export const TOPIC_DISPLAY_REVOKED = 'display.revoked';
/** device-tcp ↔ device-tcp: a display authenticated somewhere; older sessions elsewhere must close. */
export const TOPIC_SESSION_OPENED = 'display.session.opened';
/** api-v2 → api-v2: an event for people's consoles (GET /v2/events); every replica keeps recent ones for resume. */
export const TOPIC_LIVE_EVENT = 'live.event';

export const DisplayRevokedSchema = z.object({
  displayId: DisplayKeySchema,
  /** 'disabled' → display_disabled; anything else (e.g. 'credentials_rotated') → auth_failed. */
  reason: z.string().max(64).optional(),
});
export type DisplayRevoked = z.infer<typeof DisplayRevokedSchema>;

export const SessionOpenedSchema = z.object({
  displayId: DisplayKeySchema,
  sessionId: z.string().min(1).max(128),
  instanceId: z.string().min(1).max(128),
});
export type SessionOpened = z.infer<typeof SessionOpenedSchema>;

/** Every bus topic and the one schema its messages must match (checked on receipt). */
export const busTopics = {
  [TOPIC_PLAYLIST_CHANGED]: PlaylistChangedMessageSchema,
  [TOPIC_PLAYLIST_DELTA]: PlaylistDeltaSchema,
  [TOPIC_DISPLAY_COMMAND]: DisplayCommandSchema,
  [TOPIC_DISPLAY_REVOKED]: DisplayRevokedSchema,
  [TOPIC_SESSION_OPENED]: SessionOpenedSchema,
  [TOPIC_LIVE_EVENT]: LiveEventMessageSchema,
} as const;

export type BusTopic = keyof typeof busTopics;
/** A topic's message as a subscriber receives it (parsed). */
export type BusMessage<T extends BusTopic> = z.output<(typeof busTopics)[T]>;
/** A topic's message as a publisher sends it. */
export type BusMessageInput<T extends BusTopic> = z.input<(typeof busTopics)[T]>;
