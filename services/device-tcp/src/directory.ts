/**
 * Everything device-tcp needs from api-v2, behind one interface. Production uses the HTTP
 * implementation (directory-http.ts); protocol tests use an in-memory stand-in for api-v2.
 */
import type { PlayRecord } from './protocol/messages.ts';

export type { PlayRecord };

export type { Playlist, PlaylistEntry, PlaylistsChanged, PlaylistChangeNotice, PresenceEvent } from '@marquee/service-kit';
export { TOPIC_PLAYLIST_CHANGED, TOPIC_DISPLAY_COMMAND, TOPIC_DISPLAY_REVOKED } from '@marquee/service-kit';
import type { Playlist, PresenceEvent } from '@marquee/service-kit';

export type AuthFailureCode = 'unknown_display' | 'bad_secret' | 'disabled';

export type AuthResult =
  | { ok: true; display: { id: string; status: string; playlistVersion: number } }
  | { ok: false; code: AuthFailureCode };

/** What a display's hello presents. */
export interface HelloCredentials {
  displayId: string;
  secret: string;
  /** The version the display shows. */
  playlistVersion: number;
}

/**
 * Everything a hello needs from api-v2 in one answer: the verdict and, when accepted, the
 * commands waiting for the display and its playlist if newer than the one it shows.
 */
export type HandshakeResult =
  | (Extract<AuthResult, { ok: true }> & { commands: DisplayCommand[]; playlist?: Playlist })
  | Extract<AuthResult, { ok: false }>;

export interface IngestResult {
  /** playIds durably recorded now or earlier (duplicates count as accepted). */
  acceptedPlayIds: string[];
  /** playIds refused for good, with a reason the display may log. */
  rejected: { playId: string; reason: string }[];
}

export interface DisplayCommand {
  commandId: string;
  displayId: string;
  kind: string;
  args: Record<string, unknown>;
  expiresAt: string;
}

export interface CommandResult {
  commandId: string;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: string;
  completedAt: string;
}

export interface DisplayDirectory {
  /** Checks a hello's credentials; accepted displays get their pending commands (now delivered) and a newer playlist. */
  handshake(hello: HelloCredentials): Promise<HandshakeResult>;
  /** Current playlist, or null if the display has none yet. */
  getPlaylist(displayId: string): Promise<Playlist | null>;
  /** Current playlist versions for many displays at once (heals missed bus messages); absent = none. */
  getPlaylistVersions(displayIds: string[]): Promise<Record<string, number>>;
  ingestPlays(displayId: string, plays: PlayRecord[]): Promise<IngestResult>;
  reportPresence(events: PresenceEvent[]): Promise<void>;
  reportCommandResult(displayId: string, result: CommandResult): Promise<void>;
}

/** Thrown by a directory when api-v2 cannot be reached or failed; the caller retries later. */
export class DirectoryUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs = 5_000,
  ) {
    super(message);
    this.name = 'DirectoryUnavailableError';
  }
}

/** Bus topics and payloads shared with api-v2. */
/** device-tcp ↔ device-tcp: a display authenticated somewhere; older sessions elsewhere must close. */
export const TOPIC_SESSION_OPENED = 'display.session.opened';


export interface DisplayRevoked {
  displayId: string;
  /** 'disabled' → display_disabled; anything else (e.g. 'credentials_rotated', 'deleted') → auth_failed. */
  reason?: string;
}

export interface SessionOpened {
  displayId: string;
  sessionId: string;
  instanceId: string;
}
