/**
 * What the display makes of the server's frames: the frames themselves are checked against
 * @marquee/display-protocol's schemas; here a received playlist becomes one the display can play.
 */
import {
  PlaylistEntrySchema,
  PlaylistEnvelopeSchema,
  describeIssues,
  type CommandMessage,
  type PlaysAckMessage,
  type Playlist as ProtocolPlaylist,
  type PlaylistEntry as ProtocolPlaylistEntry,
  type ReceivedErrorMessage,
} from '@marquee/display-protocol';

export type { PlayRecord } from '@marquee/display-protocol';

export type MediaType = ProtocolPlaylistEntry['type'];

/** What the display shows: media to download, verify and present. */
export interface Media extends Pick<ProtocolPlaylistEntry, 'type' | 'mediaUrl' | 'mediaSha256' | 'scripts'> {
  /** e.g. `text/html; charset=utf-8`: derived from `type` (a server MAY add `mimeType`; protocol v1 does not define it). */
  mimeType: string;
  /** Expected size if a server adds `sizeBytes` (protocol v1 does not define it), else null: the hash is the check. */
  sizeBytes: number | null;
  /** How long to show it, ≤ loop.slotMs. */
  durationMs: number;
}

/** A protocol entry the display checked and completed with what it needs to show it. */
export type PlaylistEntry = ProtocolPlaylistEntry & Media;

export type Playlist = Omit<ProtocolPlaylist, 'entries'> & { entries: PlaylistEntry[] };

export type Command = Omit<CommandMessage, 'type'>;

export type CommandOutcome = { ok: true; result?: Record<string, unknown> } | { ok: false; error: string };

export type ServerError = Omit<ReceivedErrorMessage, 'type'>;

/** One refused play of a `plays_ack`: `code` stays a string, a newer server may add codes (§9). */
export type RejectedPlay = PlaysAckMessage['rejected'][number];

export class PlaylistError extends Error {
  override name = 'PlaylistError';
}

const DEFAULT_MIME: Record<MediaType, string> = {
  image: '', // the protocol does not say: a player tells PNG/JPEG/WebP apart by their bytes
  video: 'video/mp4',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

/** The entry as the display will show it, or PlaylistError saying why it cannot. */
function playableEntry(raw: unknown, slotCount: number, slotMs: number, where: string): PlaylistEntry {
  const parsed = PlaylistEntrySchema.safeParse(raw);
  if (!parsed.success) throw new PlaylistError(`${where}: ${describeIssues(parsed.error.issues)}`);
  const e = parsed.data;
  if (e.slot >= slotCount) throw new PlaylistError(`${where}.slot must be in 0..${slotCount - 1}`);
  if (e.kind === 'booking' && (e.bookingId === null || e.creativeId === null)) throw new PlaylistError(`${where}: a booking entry needs bookingId and creativeId`);
  // Every entry is media, text and HTML included (§6): downloaded and verified by hash.
  if (!/^https?:\/\//i.test(e.mediaUrl)) throw new PlaylistError(`${where}: mediaUrl must be an http(s) URL`);
  const extra = raw as Record<string, unknown>;
  return {
    ...e,
    mimeType: typeof extra.mimeType === 'string' && extra.mimeType ? extra.mimeType : DEFAULT_MIME[e.type],
    sizeBytes: Number.isSafeInteger(extra.sizeBytes) && (extra.sizeBytes as number) >= 0 ? (extra.sizeBytes as number) : null,
    // A creative never overruns its slot (protocol §6): cut it at the slot's end.
    durationMs: Math.min(e.durationMs, slotMs),
  };
}

export interface NormalizedPlaylist {
  playlist: Playlist;
  /** Entries left out because they were malformed or of an unknown kind (the rest still plays). */
  dropped: string[];
}

/**
 * Checks a `playlist` message's playlist. Throws PlaylistError if the playlist as a whole is
 * unusable (no version, no loop, no validity window); a malformed single entry is dropped and
 * reported so one bad row does not blank the screen.
 */
export function normalizePlaylist(raw: unknown): NormalizedPlaylist {
  const parsed = PlaylistEnvelopeSchema.safeParse(raw);
  if (!parsed.success) throw new PlaylistError(`playlist: ${describeIssues(parsed.error.issues)}`);
  const { entries: rawEntries, ...envelope } = parsed.data;
  const { slotCount, slotMs, lengthMs } = envelope.loop;
  if (slotMs * slotCount !== lengthMs) throw new PlaylistError('playlist.loop: lengthMs must equal slotCount × slotMs');
  const dropped: string[] = [];
  const entries: PlaylistEntry[] = [];
  rawEntries.forEach((e, i) => {
    try {
      entries.push(playableEntry(e, slotCount, slotMs, `entries[${i}]`));
    } catch (err) {
      dropped.push((err as Error).message);
    }
  });
  return { playlist: { ...envelope, entries }, dropped };
}

/** Every media object a playlist needs, once each by hash. */
export function mediaOf(playlist: Playlist): Media[] {
  const byHash = new Map<string, Media>();
  for (const m of playlist.entries) if (!byHash.has(m.mediaSha256)) byHash.set(m.mediaSha256, m);
  return [...byHash.values()];
}
