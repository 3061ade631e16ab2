/**
 * What api-v2 and device-tcp exchange: the playlist a display plays and the bus topics between
 * them. One definition, so the producer and the consumer cannot drift apart.
 */

export interface PlaylistEntry {
  slot: number;
  bookingId: string;
  creativeId: string;
  type: 'image' | 'video' | 'html' | 'text';
  /** Empty for html/text creatives, which carry their `body` instead of media. */
  mediaSha256: string;
  mediaUrl: string;
  body?: string;
  durationMs: number;
  validFrom: string;
  validUntil: string;
}

export interface Playlist {
  displayId: string;
  version: number;
  generatedAt: string;
  validFrom: string;
  validUntil: string;
  loop: { lengthMs: number; slotCount: number; slotMs: number };
  entries: PlaylistEntry[];
}

/** api-v2 → device-tcp: a display's playlist version changed (published after commit). */
export const TOPIC_PLAYLIST_CHANGED = 'playlist.changed';
/** api-v2 → device-tcp: an operator's command for a display. */
export const TOPIC_DISPLAY_COMMAND = 'display.command';
/** api-v2 → device-tcp: credential rotated or display disabled; close its live connection. */
export const TOPIC_DISPLAY_REVOKED = 'display.revoked';

/**
 * api-v2 → device-tcp on TOPIC_PLAYLIST_CHANGED, published after commit: displays whose playlist
 * changed, normally with the new playlists themselves so device-tcp pushes them without asking
 * back (one edit can change thousands of playlists, most sharing the same entries: each distinct
 * entry list travels once, in `entrySets`). A change without `loop` is a bare notice: device-tcp
 * fetches that playlist. A single `PlaylistChangeNotice` as the whole message is accepted too.
 */
export interface PlaylistsChanged {
  /** Epoch ms set by the publisher; device-tcp's push-latency histogram starts here. */
  publishedAt: number;
  changes: PlaylistChangeNotice[];
  /** The window of every playlist carried here (they were built together); set with entrySets. */
  window?: { generatedAt: string; validFrom: string; validUntil: string };
  entrySets?: PlaylistEntry[][];
}

export interface PlaylistChangeNotice {
  displayId: string;
  version: number;
  /** With content: the playlist is { displayId, version, ...window, loop, entries: entrySets[entrySet] }. */
  loop?: Playlist['loop'];
  entrySet?: number;
  publishedAt?: number;
}

/** device-tcp → api-v2: presence of displays, applied only to the session each event names. */
export type PresenceEvent =
  | { kind: 'connected'; displayId: string; sessionId: string; instanceId: string; at: string; remoteAddress: string; playlistVersion: number }
  | { kind: 'disconnected'; displayId: string; sessionId: string; instanceId: string; at: string; reason: string }
  /** Liveness: the display sent a frame (reported at most every PRESENCE_SEEN_EVERY_MS). */
  | { kind: 'seen'; displayId: string; sessionId: string; at: string; playlistVersion: number };
