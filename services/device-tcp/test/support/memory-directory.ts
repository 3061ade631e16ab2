/** In-memory stand-in for api-v2's internal endpoints (not for Postgres/Redis), for protocol tests. */
import type {
  AuthResult,
  HandshakeResult,
  HelloCredentials,
  CommandResult,
  DisplayCommand,
  DisplayDirectory,
  IngestResult,
  PlayRecord,
  Playlist,
  PresenceEvent,
} from '../../src/directory.ts';
import { DirectoryUnavailableError } from '../../src/directory.ts';
import { PlayRecordSchema, type RejectedPlay } from '@marquee/service-kit';

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');
/**
 * The booking of a slot in setPlaylist's playlists (ids are UUIDs, as api-v2 issues them). The
 * distinguishing digits lead, so the short ids displays print (the first 8 characters) differ.
 */
export const bookingIdOf = (slot: number) => `b${hex(slot, 7)}-0000-4000-8000-000000000000`;
/** The creative of a slot in the playlist of a given version. */
export const creativeIdOf = (slot: number, version: number) => `c${hex(version, 3)}${hex(slot, 4)}-0000-4000-9000-000000000000`;

interface DisplayRecord {
  secret: string;
  status: 'active' | 'disabled';
  playlist: Playlist | null;
}

export class MemoryDirectory implements DisplayDirectory {
  readonly displays = new Map<string, DisplayRecord>();
  readonly plays = new Map<string, PlayRecord>();
  readonly presence: PresenceEvent[] = [];
  readonly pending = new Map<string, DisplayCommand[]>();
  readonly results: (CommandResult & { displayId: string })[] = [];
  /** Test knobs. */
  authDelayMs = 0;
  private authGate: Promise<void> | null = null;
  down = false;
  rejectBookings = new Set<string>();
  calls = { authenticate: 0, getPlaylist: 0, getPlaylistVersions: 0, ingestPlays: 0 };

  /** Holds every authentication (as a stalled api-v2 would) until the returned function is called. */
  holdAuthentication(): () => void {
    let release!: () => void;
    this.authGate = new Promise((resolve) => (release = resolve));
    return () => {
      this.authGate = null;
      release();
    };
  }

  addDisplay(id: string, secret: string, status: 'active' | 'disabled' = 'active'): void {
    this.displays.set(id, { secret, status, playlist: null });
  }

  setPlaylist(displayId: string, version: number, slots = 2): Playlist {
    const now = new Date();
    const until = new Date(now.getTime() + 48 * 3600_000).toISOString();
    const playlist: Playlist = {
      displayId,
      version,
      generatedAt: now.toISOString(),
      validFrom: now.toISOString(),
      validUntil: until,
      loop: { lengthMs: slots * 10_000, slotCount: slots, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' },
      entries: Array.from({ length: slots }, (_, slot) => ({
        slot,
        kind: 'booking' as const,
        bookingId: bookingIdOf(slot),
        creativeId: creativeIdOf(slot, version),
        type: 'image' as const,
        mediaSha256: 'a'.repeat(64),
        mediaUrl: `http://127.0.0.1/media/c-${slot}`,
        durationMs: 10_000,
        scripts: false,
        validFrom: now.toISOString(),
        validUntil: until,
      })),
    };
    this.displays.get(displayId)!.playlist = playlist;
    return playlist;
  }

  private check(): void {
    if (this.down) throw new DirectoryUnavailableError('api-v2 down (test)', 500);
  }

  async authenticate(displayId: string, secret: string): Promise<AuthResult> {
    this.calls.authenticate++;
    if (this.authDelayMs) await new Promise((r) => setTimeout(r, this.authDelayMs));
    if (this.authGate) await this.authGate;
    this.check();
    const d = this.displays.get(displayId);
    if (!d) return { ok: false, code: 'unknown_display' };
    if (d.secret !== secret) return { ok: false, code: 'bad_secret' };
    if (d.status === 'disabled') return { ok: false, code: 'disabled' };
    return { ok: true, display: { id: displayId, status: d.status, playlistVersion: d.playlist?.version ?? 0 } };
  }

  async handshake(hello: HelloCredentials): Promise<HandshakeResult> {
    const auth = await this.authenticate(hello.displayId, hello.secret);
    if (!auth.ok) return auth;
    const playlist = this.displays.get(hello.displayId)?.playlist;
    return {
      ...auth,
      commands: await this.takePendingCommands(hello.displayId),
      // As api-v2: the playlist comes along whenever the display shows another version.
      ...(playlist && playlist.version !== hello.playlistVersion ? { playlist } : {}),
    };
  }

  async getPlaylist(displayId: string): Promise<Playlist | null> {
    this.calls.getPlaylist++;
    this.check();
    return this.displays.get(displayId)?.playlist ?? null;
  }

  async getPlaylistVersions(displayIds: string[]): Promise<Record<string, number>> {
    this.calls.getPlaylistVersions++;
    this.check();
    const out: Record<string, number> = {};
    for (const id of displayIds) {
      const v = this.displays.get(id)?.playlist?.version;
      if (v !== undefined) out[id] = v;
    }
    return out;
  }

  async ingestPlays(displayId: string, records: readonly unknown[]): Promise<IngestResult> {
    this.calls.ingestPlays++;
    this.check();
    const acceptedPlayIds: string[] = [];
    const rejected: RejectedPlay[] = [];
    for (const raw of records) {
      const parsed = PlayRecordSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        rejected.push({ playId: String((raw as { playId?: unknown }).playId), code: 'malformed', detail: `${issue.path.join('.')}: ${issue.message}` });
        continue;
      }
      const p = parsed.data;
      if (this.rejectBookings.has(p.bookingId)) rejected.push({ playId: p.playId, code: 'unknown_booking', detail: 'no booking with this id has a part on this display' });
      else {
        this.plays.set(p.playId, p);
        acceptedPlayIds.push(p.playId);
      }
    }
    void displayId;
    return { acceptedPlayIds, rejected };
  }

  async reportPresence(events: PresenceEvent[]): Promise<void> {
    this.check();
    this.presence.push(...events);
  }

  async takePendingCommands(displayId: string): Promise<DisplayCommand[]> {
    this.check();
    const done = new Set(this.results.map((r) => r.commandId));
    return (this.pending.get(displayId) ?? []).filter((c) => !done.has(c.commandId) && Date.parse(c.expiresAt) > Date.now());
  }

  async reportCommandResult(displayId: string, result: CommandResult): Promise<void> {
    this.check();
    this.results.push({ ...result, displayId });
  }
}
