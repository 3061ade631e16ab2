/**
 * Everything device-tcp needs from api-v2, behind one interface. Production uses the HTTP
 * implementation (directory-http.ts); protocol tests use an in-memory stand-in for api-v2.
 */
import type {
  CommandResult as CommandResultBody,
  CredentialCheck,
  HandshakeAnswer,
  HandshakeHello,
  Playlist,
  PlaysIngestAnswer,
  PresenceEvent,
} from '@marquee/service-kit';

// The contracts with api-v2 and the bus are the kit's (packages/service-kit/src/contracts/).
export type {
  AuthFailureCode,
  DisplayCommand,
  DisplayRevoked,
  Playlist,
  PlaylistChangedMessage,
  PlaylistChangeNotice,
  PlaylistDelta,
  PlaylistEdit,
  PlaylistEntry,
  PlaylistLoop,
  PlaylistsChanged,
  PlayRecord,
  PresenceEvent,
  SessionOpened,
} from '@marquee/service-kit';
export { TOPIC_DISPLAY_COMMAND, TOPIC_DISPLAY_REVOKED, TOPIC_PLAYLIST_CHANGED, TOPIC_PLAYLIST_DELTA, TOPIC_SESSION_OPENED } from '@marquee/service-kit';

export type AuthResult = CredentialCheck;
/** What a display's hello presents. */
export type HelloCredentials = HandshakeHello;
export type HandshakeResult = HandshakeAnswer;
export type IngestResult = PlaysIngestAnswer;
/** A display's command result; device-tcp adds the display id it came from. */
export type CommandResult = Omit<CommandResultBody, 'displayId'>;

export interface DisplayDirectory {
  /** Checks a hello's credentials; accepted displays get their pending commands (now delivered) and a newer playlist. */
  handshake(hello: HelloCredentials): Promise<HandshakeResult>;
  /** Current playlist, or null if the display has none yet. */
  getPlaylist(displayId: string): Promise<Playlist | null>;
  /** Current playlist versions for many displays at once (heals missed bus messages); absent = none. */
  getPlaylistVersions(displayIds: string[]): Promise<Record<string, number>>;
  /** Records as the display sent them (each judged by api-v2 against PlayRecordSchema). */
  ingestPlays(displayId: string, plays: readonly unknown[]): Promise<IngestResult>;
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
