/**
 * The playlist a display plays (docs/display-protocol.md §6). api-v2 builds it, the bus and
 * api-v2's internal API carry it to device-tcp, which forwards it to the display as is.
 */
import { z } from 'zod';
import { DisplayKeySchema, InstantSchema, UuidSchema, VersionSchema } from './primitives.ts';

export const CREATIVE_TYPES = ['image', 'video', 'html', 'text'] as const;

/** What put an entry in the playlist; displays report plays only for `booking` entries. */
export const PLAYLIST_ENTRY_KINDS = ['booking', 'house', 'emergency'] as const;

/** The loop's time origin: the Unix epoch, announced in every playlist (docs/display-protocol.md §6). */
export const LOOP_ANCHOR_AT = '1970-01-01T00:00:00.000Z';

/**
 * One entry of a playlist (docs/display-protocol.md §6). Every entry is media, text and HTML
 * included: the display downloads `mediaUrl` and verifies it against `mediaSha256`.
 */
export const PlaylistEntrySchema = z
  .object({
    slot: z.number().int().min(0),
    kind: z.enum(PLAYLIST_ENTRY_KINDS),
    /** Null for house/emergency entries that have none. */
    bookingId: UuidSchema.nullable(),
    creativeId: UuidSchema.nullable(),
    type: z.enum(CREATIVE_TYPES),
    mediaSha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
    mediaUrl: z.string().min(1).max(2048),
    durationMs: z.number().int().min(0),
    /** html only: the display's operator allows scripts in its HTML creatives (still sandboxed, no network). */
    scripts: z.boolean(),
    validFrom: InstantSchema,
    validUntil: InstantSchema,
  })
  .meta({ id: 'PlaylistEntry' });
export type PlaylistEntry = z.infer<typeof PlaylistEntrySchema>;

/**
 * At instant t a display shows slot floor((t − anchorAt) / slotMs) mod slotCount. Servers send
 * LOOP_ANCHOR_AT; the member is a timestamp on the wire (§6), and a display computes from
 * whatever origin it is given rather than refusing the playlist.
 */
export const PlaylistLoopSchema = z
  .object({
    lengthMs: z.number().int().positive(),
    slotCount: z.number().int().positive(),
    slotMs: z.number().int().positive(),
    anchorAt: InstantSchema,
  })
  .meta({ id: 'PlaylistLoop' });
export type PlaylistLoop = z.infer<typeof PlaylistLoopSchema>;

/** The window a playlist covers (normally 48 h ahead), shared by playlists built together. */
export const PlaylistWindowShape = { generatedAt: InstantSchema, validFrom: InstantSchema, validUntil: InstantSchema };

/** What a display plays: the next 48 h of its loop. */
export const PlaylistSchema = z
  .object({
    displayId: DisplayKeySchema,
    version: VersionSchema,
    ...PlaylistWindowShape,
    loop: PlaylistLoopSchema,
    entries: z.array(PlaylistEntrySchema),
  })
  .meta({ id: 'Playlist' });
export type Playlist = z.infer<typeof PlaylistSchema>;
