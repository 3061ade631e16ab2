/**
 * A session's playlist delivery state: the newest version known for its display (from hello, the
 * bus and periodic re-checks with api-v2), the newest playlist held for it (the base bus deltas
 * apply to), what was sent and when, and the latency clock of the oldest change not yet pushed.
 * Pushes whenever the version the display shows differs from the server's: behind, or ahead (a
 * restored database, a credential reused by another device), since the server's playlist is the
 * one truth.
 */
import type { Playlist } from './directory.ts';
import type { PlaylistContent } from './playlist-content.ts';
import type { Session } from './session.ts';

export class PlaylistPush {
  /** Newest playlist version known for this display. */
  latest = 0;
  /** The newest playlist held for this display: its version and content (null until one arrives). */
  private held: { version: number; content: PlaylistContent } | null = null;
  /** Last playlist version sent on this connection and when. */
  private sentVersion = 0;
  private sentAt = 0;
  /** When `latest` was last confirmed with api-v2. */
  checkedAt = 0;
  /** Epoch ms of the oldest change not yet pushed, for the push-latency histogram (0: none). */
  private pendingSince = 0;
  private fetching = false;
  private refetch = false;

  constructor(private readonly session: Session) {}

  /** The display shows another version than the newest known here (older or newer). */
  get isOutOfStep(): boolean {
    return this.session.appliedVersion !== this.latest;
  }

  /** Records a version learnt elsewhere (e.g. api-v2's answer at hello). */
  know(version: number): void {
    this.latest = Math.max(version, this.latest);
  }

  /**
   * A playlist obtained without a fetch (carried on the bus, applied from a delta, api-v2's answer
   * to the hello): held, and sent if this display needs it, i.e. it is the newest known, the
   * display does not show it and it was not sent yet. `publishedAt` starts the latency clock.
   */
  offer(version: number, content: PlaylistContent, publishedAt?: number): void {
    this.know(version);
    this.hold(version, content);
    if (version < this.latest || version === this.session.appliedVersion || version <= this.sentVersion) return;
    if (publishedAt !== undefined && this.pendingSince === 0) this.pendingSince = publishedAt;
    this.sent(version, this.session.sendPlaylist(version, content));
  }

  /**
   * A bus delta bringing this display to `version`: applied to the held playlist if that is the
   * version before and not too old a base (`apply` memoises per held content, shared by many
   * displays; null: too old), otherwise the playlist is fetched. Old news is ignored.
   */
  applyDelta(version: number, publishedAt: number, apply: (base: PlaylistContent) => PlaylistContent | null): void {
    const held = this.held;
    if (held && held.version >= version) return;
    const content = held?.version === version - 1 ? apply(held.content) : null;
    if (!content) return this.notice(version, publishedAt);
    this.offer(version, content, publishedAt);
  }

  private hold(version: number, content: PlaylistContent): void {
    if (!this.held || version >= this.held.version) this.held = { version, content };
  }

  /** A bare change notice: fetches and pushes the playlist unless this version is old news. */
  notice(version: number, publishedAt: number): void {
    if (version <= this.latest && version <= this.sentVersion) return;
    this.know(version);
    if (this.pendingSince === 0) this.pendingSince = publishedAt;
    // A change makes any earlier "already sent" moot: the newer version must go out now.
    void this.pushIfOutOfStep(true);
  }

  /** api-v2's answer to the hello: held, and pushed unless the display shows it already. */
  deliver(playlist: Playlist): void {
    this.offer(playlist.version, this.session.server.contents.of(playlist));
  }

  /**
   * Sends the current playlist if the display shows another version than the newest known
   * (re-sent at most every repushAfterMs while the display stays out of step, unless `changed`).
   */
  async pushIfOutOfStep(changed = false): Promise<void> {
    const session = this.session;
    if (session.appliedVersion === this.latest) {
      this.pendingSince = 0;
      return;
    }
    if (!changed && this.sentVersion >= this.latest && Date.now() - this.sentAt < session.server.options.repushAfterMs) return;
    if (this.fetching) {
      this.refetch = true;
      return;
    }
    this.fetching = true;
    try {
      // Not under the server's directoryLimit: the directory batches playlist fetches and bounds its own calls.
      const playlist = await session.server.deps.directory.getPlaylist(session.displayId);
      if (!session.isOpen || !playlist) return;
      this.know(playlist.version);
      const content = session.server.contents.of(playlist);
      this.hold(playlist.version, content);
      // A newer version may have been pushed from a bus message while this fetch was out.
      if (playlist.version === session.appliedVersion || playlist.version < this.sentVersion) return;
      this.sent(playlist.version, session.sendPlaylist(playlist.version, content));
    } catch (err) {
      session.server.deps.logger.warn({ err: String(err), displayId: session.displayId }, 'playlist fetch failed; next heartbeat retries');
    } finally {
      this.fetching = false;
    }
    if (this.refetch && session.isOpen) {
      this.refetch = false;
      await this.pushIfOutOfStep(true);
    }
  }

  /** Bookkeeping after a playlist frame went out (or not). */
  private sent(version: number, ok: boolean): void {
    if (!ok) return;
    const now = Date.now();
    this.sentVersion = version;
    this.sentAt = now;
    if (this.pendingSince > 0) this.session.server.tally?.pushLatencies.push((now - this.pendingSince) / 1000);
    this.pendingSince = 0;
  }
}
