/**
 * The messages a display receives and sends (docs/display-protocol.md §5–§7), and the checks that
 * turn a server's playlist into one the display can play. Unknown members are ignored (§2).
 */
export type MediaType = 'image' | 'video' | 'html' | 'text';

/** What the display shows: media to download, verify and present. */
export interface Media {
  type: MediaType;
  /** e.g. `text/html; charset=utf-8`: derived from `type` (a server MAY add `mimeType`; protocol v1 does not define it). */
  mimeType: string;
  mediaUrl: string;
  mediaSha256: string;
  /** Expected size if a server adds `sizeBytes` (protocol v1 does not define it), else null: the hash is the check. */
  sizeBytes: number | null;
  /** How long to show it, ≤ loop.slotMs. */
  durationMs: number;
  /** html only: whether the operator lets scripts run (§6 `scripts`; still sandboxed, no network). */
  scripts: boolean;
}

/** What put an entry in the playlist (§6): only `booking` entries become plays. */
export type EntryKind = 'booking' | 'house' | 'emergency';

export interface PlaylistEntry extends Media {
  slot: number;
  kind: EntryKind;
  /** Set for `booking` entries; null for house/emergency entries that have none. */
  bookingId: string | null;
  creativeId: string | null;
  validFrom: string;
  validUntil: string;
}

export interface Loop {
  lengthMs: number;
  slotCount: number;
  slotMs: number;
  /** Time origin of the loop on the server's clock (§6); the Unix epoch. */
  anchorAt: string;
}

export interface Playlist {
  displayId: string;
  version: number;
  generatedAt: string;
  validFrom: string;
  validUntil: string;
  loop: Loop;
  entries: PlaylistEntry[];
}

export interface PlayRecord {
  playId: string;
  bookingId: string;
  creativeId: string;
  startedAt: string;
  durationMs: number;
}

export interface Welcome {
  type: 'welcome';
  protocol: number;
  displayId: string;
  sessionId: string;
  serverTime: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxFrameBytes: number;
  maxPlaysPerBatch: number;
}

export interface Command {
  commandId: string;
  kind: string;
  args: Record<string, unknown>;
  expiresAt: string;
}

export type CommandOutcome = { ok: true; result?: Record<string, unknown> } | { ok: false; error: string };

export interface ServerError {
  code: string;
  message: string;
  fatal: boolean;
  retryAfterMs?: number;
  supported?: number[];
  ref?: string;
}

/**
 * One refused play (docs/display-protocol.md, "Plays"): `code` is one of the documented codes
 * (kept as a string: a newer server may add codes), `detail` a sentence for the log.
 */
export interface RejectedPlay {
  playId: string;
  code: string;
  detail: string;
}

export const EPOCH = '1970-01-01T00:00:00.000Z';

export class PlaylistError extends Error {
  override name = 'PlaylistError';
}

const DEFAULT_MIME: Record<MediaType, string> = {
  image: '', // the protocol does not say: a player tells PNG/JPEG/WebP apart by their bytes
  video: 'video/mp4',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;
const isTime = (v: unknown): v is string => typeof v === 'string' && /[zZ]|[+-]\d\d:?\d\d$/.test(v) && Number.isFinite(Date.parse(v));
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;
const SHA256 = /^[0-9a-f]{64}$/;

function media(raw: Record<string, unknown>, slotMs: number, where: string): Media {
  const type = raw.type;
  if (type !== 'image' && type !== 'video' && type !== 'html' && type !== 'text') throw new PlaylistError(`${where}: unknown type ${JSON.stringify(type)}`);
  if (!isInt(raw.durationMs, 1)) throw new PlaylistError(`${where}: durationMs must be a positive integer`);
  const m: Media = {
    type,
    mimeType: typeof raw.mimeType === 'string' && raw.mimeType ? raw.mimeType : DEFAULT_MIME[type],
    mediaUrl: typeof raw.mediaUrl === 'string' ? raw.mediaUrl : '',
    mediaSha256: typeof raw.mediaSha256 === 'string' ? raw.mediaSha256.toLowerCase() : '',
    sizeBytes: isInt(raw.sizeBytes) ? raw.sizeBytes : null,
    // A creative never overruns its slot (protocol §6): cut it at the slot's end.
    durationMs: Math.min(raw.durationMs, slotMs),
    scripts: raw.scripts === true,
  };
  // Every entry is media, text and HTML included (§6): downloaded and verified by hash.
  if (!/^https?:\/\//i.test(m.mediaUrl)) throw new PlaylistError(`${where}: mediaUrl must be an http(s) URL`);
  if (!SHA256.test(m.mediaSha256)) throw new PlaylistError(`${where}: mediaSha256 must be 64 hex digits`);
  return m;
}

export interface NormalizedPlaylist {
  playlist: Playlist;
  /** Entries left out because they were malformed (the rest of the playlist still plays). */
  dropped: string[];
}

/**
 * Checks a `playlist` message's playlist. Throws PlaylistError if the playlist as a whole is
 * unusable (no version, no loop, no validity window); a malformed single entry is dropped and
 * reported so one bad row does not blank the screen.
 */
export function normalizePlaylist(raw: unknown): NormalizedPlaylist {
  if (!isObject(raw)) throw new PlaylistError('playlist must be an object');
  if (!isInt(raw.version, 0)) throw new PlaylistError('playlist.version must be an integer ≥ 0');
  if (!isTime(raw.validFrom) || !isTime(raw.validUntil)) throw new PlaylistError('playlist.validFrom/validUntil must be timestamps');
  const loop = raw.loop;
  if (!isObject(loop) || !isInt(loop.slotCount, 1) || !isInt(loop.lengthMs, 1)) throw new PlaylistError('playlist.loop must have lengthMs and slotCount');
  const slotCount = loop.slotCount;
  const slotMs = isInt(loop.slotMs, 1) ? loop.slotMs : loop.lengthMs / slotCount;
  if (slotMs * slotCount !== loop.lengthMs) throw new PlaylistError('playlist.loop: lengthMs must equal slotCount × slotMs');
  // Every playlist announces its loop's time origin (§6); today always the Unix epoch.
  const anchorAt = loop.anchorAt;
  if (!isTime(anchorAt)) throw new PlaylistError('playlist.loop.anchorAt must be a timestamp');
  if (!Array.isArray(raw.entries)) throw new PlaylistError('playlist.entries must be an array');

  const dropped: string[] = [];
  const entries: PlaylistEntry[] = [];
  raw.entries.forEach((e: unknown, i: number) => {
    const where = `entries[${i}]`;
    try {
      if (!isObject(e)) throw new PlaylistError(`${where} must be an object`);
      if (!isInt(e.slot) || e.slot >= slotCount) throw new PlaylistError(`${where}.slot must be in 0..${slotCount - 1}`);
      const kind = e.kind;
      if (kind !== 'booking' && kind !== 'house' && kind !== 'emergency') throw new PlaylistError(`${where}: unknown kind ${JSON.stringify(kind)}`);
      const idOrNull = (v: unknown) => v === null || isId(v);
      if (kind === 'booking' ? !isId(e.bookingId) || !isId(e.creativeId) : !idOrNull(e.bookingId) || !idOrNull(e.creativeId)) {
        throw new PlaylistError(`${where}: bookingId and creativeId must be ids${kind === 'booking' ? '' : ' or null'}`);
      }
      if (!isTime(e.validFrom) || !isTime(e.validUntil)) throw new PlaylistError(`${where}: validFrom/validUntil must be timestamps`);
      entries.push({
        ...media(e, slotMs, where),
        slot: e.slot,
        kind,
        bookingId: e.bookingId as string | null,
        creativeId: e.creativeId as string | null,
        validFrom: e.validFrom,
        validUntil: e.validUntil,
      });
    } catch (err) {
      dropped.push((err as Error).message);
    }
  });
  return {
    playlist: {
      displayId: typeof raw.displayId === 'string' ? raw.displayId : '',
      version: raw.version,
      generatedAt: isTime(raw.generatedAt) ? raw.generatedAt : raw.validFrom,
      validFrom: raw.validFrom,
      validUntil: raw.validUntil,
      loop: { lengthMs: loop.lengthMs, slotCount, slotMs, anchorAt },
      entries,
    },
    dropped,
  };
}

/** Every media object a playlist needs, once each by hash. */
export function mediaOf(playlist: Playlist): Media[] {
  const byHash = new Map<string, Media>();
  for (const m of playlist.entries) if (!byHash.has(m.mediaSha256)) byHash.set(m.mediaSha256, m);
  return [...byHash.values()];
}

/** A rejected play from `plays_ack.rejected[]` (`{ playId, code, detail }`); any play with a playId counts as answered. */
export function rejectedPlay(raw: unknown): RejectedPlay | null {
  if (!isObject(raw) || typeof raw.playId !== 'string') return null;
  return { playId: raw.playId, code: typeof raw.code === 'string' ? raw.code : 'unknown', detail: typeof raw.detail === 'string' ? raw.detail : '' };
}
