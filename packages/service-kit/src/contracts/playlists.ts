import { z } from 'zod';
import { CREATIVE_TYPES, PlaylistEntrySchema, PlaylistLoopSchema, PlaylistSchema, PlaylistWindowShape } from '@marquee/display-protocol';
import { DisplayKeySchema, UuidSchema, VersionSchema } from './common.ts';

// The playlist itself is a display-protocol frame member (docs/display-protocol.md §6), defined
// once in @marquee/display-protocol; the bus and internal-API envelopes around it stay here.
export {
  CREATIVE_TYPES,
  LOOP_ANCHOR_AT,
  PLAYLIST_ENTRY_KINDS,
  PlaylistEntrySchema,
  PlaylistLoopSchema,
  PlaylistSchema,
  type Playlist,
  type PlaylistEntry,
  type PlaylistLoop,
} from '@marquee/display-protocol';

/** One display's change. With `loop` and `entrySet` it carries the playlist (see PlaylistsChangedSchema); without, it is a bare notice and device-tcp fetches. */
export const PlaylistChangeNoticeSchema = z.object({
  displayId: DisplayKeySchema,
  version: VersionSchema,
  loop: PlaylistLoopSchema.optional(),
  entrySet: z.number().int().min(0).optional(),
  /** Epoch ms set by the publisher; device-tcp's push-latency histogram starts here. */
  publishedAt: z.number().optional(),
});
export type PlaylistChangeNotice = z.infer<typeof PlaylistChangeNoticeSchema>;

/**
 * api-v2 → device-tcp on TOPIC_PLAYLIST_CHANGED, published after commit: displays whose playlist
 * changed, normally with the new playlists themselves so device-tcp pushes them without asking
 * back (one edit can change thousands of playlists, most sharing the same entries: each distinct
 * entry list travels once, in `entrySets`). A carried playlist is
 * `{ displayId, version, ...window, loop, entries: entrySets[entrySet] }`.
 */
export const PlaylistsChangedSchema = z.object({
  publishedAt: z.number(),
  changes: z.array(PlaylistChangeNoticeSchema),
  /** The window of every playlist carried here (they were built together); set with entrySets. */
  window: z.object(PlaylistWindowShape).optional(),
  entrySets: z.array(z.array(PlaylistEntrySchema)).optional(),
});
export type PlaylistsChanged = z.infer<typeof PlaylistsChangedSchema>;

/** The whole TOPIC_PLAYLIST_CHANGED message: a batch, or (older publishers) one bare notice. */
export const PlaylistChangedMessageSchema = z.union([PlaylistsChangedSchema, PlaylistChangeNoticeSchema]);
export type PlaylistChangedMessage = z.infer<typeof PlaylistChangedMessageSchema>;

/**
 * What one edit changed, as a device-tcp applies it to the playlist it holds for a display (the
 * playlist of the version before). Applied to that playlist it gives exactly what a full build
 * would give for the same window.
 */
export const PlaylistEditSchema = z.discriminatedUnion('kind', [
  z.object({
    /** A creative's duration changed: every entry showing it (booking, house or emergency) plays min(durationMs, slotMs). */
    kind: z.literal('creative-duration'),
    creativeId: UuidSchema,
    durationMs: z.number().int().min(0),
  }),
  z.object({
    /**
     * Each `booking` entry of the booking now shows this content (its duration cut to the slot).
     * Not for HTML: whether its scripts run depends on the display, so that edit is built in full.
     */
    kind: z.literal('booking-content'),
    bookingId: UuidSchema,
    content: z.object({
      creativeId: UuidSchema,
      type: z.enum(CREATIVE_TYPES).exclude(['html']),
      mediaSha256: PlaylistEntrySchema.shape.mediaSha256,
      mediaUrl: PlaylistEntrySchema.shape.mediaUrl,
      durationMs: z.number().int().min(0),
    }),
  }),
  /** Only the version changed (e.g. a booking's new creative waits for review there). */
  z.object({ kind: z.literal('none') }),
]);
export type PlaylistEdit = z.infer<typeof PlaylistEditSchema>;

/**
 * api-v2 → device-tcp on TOPIC_PLAYLIST_DELTA, published after commit: one edit's change to many
 * displays' playlists, so its cost in api-v2 does not grow with the displays' playlists. Display
 * `displayIds[i]` is now at `versions[i]`; a device-tcp holding that display's playlist at
 * `versions[i] − 1` applies `edit` to it, otherwise it fetches the playlist.
 */
export const PlaylistDeltaSchema = z
  .object({
    publishedAt: z.number(),
    displayIds: z.array(DisplayKeySchema),
    versions: z.array(VersionSchema),
    edit: PlaylistEditSchema,
  })
  .refine((d) => d.displayIds.length === d.versions.length, { message: 'one version per display', path: ['versions'] });
export type PlaylistDelta = z.infer<typeof PlaylistDeltaSchema>;

// ---- api-v2's internal endpoints for device-tcp

/** Path of GET /internal/displays/{id}/playlist: a malformed id names no display (404, "none"). */
export const PlaylistParamsSchema = z.object({ id: z.string().max(64) });

/** POST /internal/playlists/versions: current versions (heals missed bus messages). */
export const PlaylistVersionsRequestSchema = z.strictObject({ displayIds: z.array(z.string().max(64)).max(10_000) });
export type PlaylistVersionsRequest = z.infer<typeof PlaylistVersionsRequestSchema>;
export const PlaylistVersionsAnswerSchema = z.object({ versions: z.record(z.string(), VersionSchema) });
export type PlaylistVersionsAnswer = z.infer<typeof PlaylistVersionsAnswerSchema>;

/** POST /internal/playlists: many playlists at once (device-tcp batches its fetches). Unknown ids are absent. */
export const PlaylistsRequestSchema = z.strictObject({ displayIds: z.array(z.string().max(64)).min(1).max(1_000) });
export type PlaylistsRequest = z.infer<typeof PlaylistsRequestSchema>;
export const PlaylistsAnswerSchema = z.object({ playlists: z.record(z.string(), PlaylistSchema) });
export type PlaylistsAnswer = z.infer<typeof PlaylistsAnswerSchema>;
