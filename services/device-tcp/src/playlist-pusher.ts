/**
 * Playlist delivery: knows the newest version per connected display (from hello, the bus and
 * periodic re-checks with api-v2) and pushes the playlist to displays that are behind.
 */
import { ConnState, type Connection } from './connection.ts';
import type { SessionIO } from './session-io.ts';
import type { Playlist, PlaylistChangedMessage, PlaylistChangeNotice, PlaylistsChanged } from './directory.ts';

const VERSION_BATCH = 1_000;

export class PlaylistPusher {
  /** Newest playlist version known per connected display. */
  readonly latestVersion = new Map<string, number>();

  constructor(private readonly io: SessionIO) {}

  /** Records a version learnt elsewhere (e.g. api-v2's answer at hello). */
  know(displayId: string, version: number): void {
    this.latestVersion.set(displayId, Math.max(version, this.latestVersion.get(displayId) ?? 0));
  }

  forget(displayId: string): void {
    this.latestVersion.delete(displayId);
  }

  /** A TOPIC_PLAYLIST_CHANGED message: a batch (usually carrying the playlists) or one bare notice. */
  onPlaylistChanged(msg: PlaylistChangedMessage): void {
    if ('changes' in msg) this.onChanges(msg);
    else this.onNotice(msg, msg.publishedAt);
  }

  /**
   * Pushes the carried playlists straight to the displays connected here, each frame assembled
   * from its entry set serialised once per message (the message matched its schema on receipt);
   * bare notices, and changes naming an entry set the message lacks, fall back to a fetch.
   */
  private onChanges(msg: PlaylistsChanged): void {
    const { publishedAt, entrySets = [], window: w } = msg;
    const windowJson = w
      ? `"generatedAt":${JSON.stringify(w.generatedAt)},"validFrom":${JSON.stringify(w.validFrom)},"validUntil":${JSON.stringify(w.validUntil)}`
      : null;
    const entriesJson: string[] = [];
    for (const change of msg.changes) {
      const conn = this.io.sessionFor(change.displayId);
      if (!conn) continue;
      const { entrySet: set, loop } = change;
      if (windowJson === null || set === undefined || !entrySets[set] || !loop) {
        this.onNotice(change, publishedAt);
        continue;
      }
      this.know(conn.displayId, change.version);
      if (change.version <= conn.appliedVersion || change.version <= conn.sentVersion) continue;
      if (conn.pushStartedAt === 0) conn.pushStartedAt = publishedAt;
      const { lengthMs, slotCount, slotMs } = loop;
      const loopJson = `{"lengthMs":${lengthMs},"slotCount":${slotCount},"slotMs":${slotMs}}`;
      const json = `{"type":"playlist","playlist":{"displayId":${JSON.stringify(conn.displayId)},"version":${change.version},${windowJson},"loop":${loopJson},"entries":${(entriesJson[set] ??= JSON.stringify(entrySets[set]))}}}`;
      this.sent(conn, change.version, this.io.sendJson(conn, 'playlist', json));
    }
  }

  private onNotice(msg: PlaylistChangeNotice, publishedAt: number | undefined): void {
    const conn = this.io.sessionFor(msg.displayId);
    if (!conn) return;
    const { version } = msg;
    if (version <= (this.latestVersion.get(conn.displayId) ?? 0) && version <= conn.sentVersion) return;
    this.latestVersion.set(conn.displayId, Math.max(version, this.latestVersion.get(conn.displayId) ?? 0));
    if (conn.pushStartedAt === 0) conn.pushStartedAt = publishedAt ?? Date.now();
    // A change makes any earlier "already sent" moot: the newer version must go out now.
    void this.pushIfBehind(conn, true);
  }

  /** Bookkeeping after a playlist frame went out (or not). */
  private sent(conn: Connection, version: number, ok: boolean): void {
    if (!ok) return;
    conn.sentVersion = version;
    conn.sentAt = Date.now();
    if (conn.pushStartedAt > 0) this.io.deps.metrics?.pushLatency.observe((Date.now() - conn.pushStartedAt) / 1000);
    conn.pushStartedAt = 0;
  }

  /** Pushes a playlist obtained elsewhere (api-v2's answer to the hello) if it is news to the display. */
  deliver(conn: Connection, playlist: Playlist): void {
    this.know(conn.displayId, playlist.version);
    if (playlist.version <= conn.appliedVersion || playlist.version <= conn.sentVersion) return;
    this.sent(conn, playlist.version, this.io.send(conn, { type: 'playlist', playlist }));
  }

  /** Sends the current playlist if the display is behind the newest version we know of. */
  async pushIfBehind(conn: Connection, changed = false): Promise<void> {
    const latest = this.latestVersion.get(conn.displayId) ?? 0;
    if (conn.appliedVersion >= latest) {
      conn.pushStartedAt = 0;
      return;
    }
    if (!changed && conn.sentVersion >= latest && Date.now() - conn.sentAt < this.io.options.repushAfterMs) return;
    if (conn.fetching) {
      conn.refetch = true;
      return;
    }
    conn.fetching = true;
    try {
      // Not under directoryLimit: the directory batches playlist fetches and bounds its own calls.
      const playlist = await this.io.deps.directory.getPlaylist(conn.displayId);
      if (conn.state !== ConnState.Open || !playlist) return;
      this.latestVersion.set(conn.displayId, Math.max(playlist.version, this.latestVersion.get(conn.displayId) ?? 0));
      // A newer version may have been pushed from a bus message while this fetch was out.
      if (playlist.version <= conn.appliedVersion || playlist.version < conn.sentVersion) return;
      this.sent(conn, playlist.version, this.io.send(conn, { type: 'playlist', playlist }));
    } catch (err) {
      this.io.deps.logger.warn({ err: String(err), displayId: conn.displayId }, 'playlist fetch failed; next heartbeat retries');
    } finally {
      conn.fetching = false;
    }
    if (conn.refetch && conn.state === ConnState.Open) {
      conn.refetch = false;
      await this.pushIfBehind(conn, true);
    }
  }

  async recheckVersions(now: number): Promise<void> {
    const due: Connection[] = [];
    for (const conn of this.io.openSessions()) {
      if (now - conn.versionCheckedAt >= this.io.options.versionRecheckMs) due.push(conn);
    }
    for (let i = 0; i < due.length; i += VERSION_BATCH) {
      const batch = due.slice(i, i + VERSION_BATCH);
      let versions: Record<string, number>;
      try {
        versions = await this.io.directoryLimit.run(() => this.io.deps.directory.getPlaylistVersions(batch.map((c) => c.displayId)));
      } catch (err) {
        this.io.deps.logger.warn({ err: String(err) }, 'playlist version re-check failed');
        return;
      }
      for (const conn of batch) {
        if (!conn.isOpen) continue;
        conn.versionCheckedAt = now;
        const v = versions[conn.displayId];
        if (typeof v === 'number' && v > (this.latestVersion.get(conn.displayId) ?? 0)) {
          this.latestVersion.set(conn.displayId, v);
          void this.pushIfBehind(conn, true);
        }
      }
    }
  }

  displaysBehind(): number {
    let behind = 0;
    for (const conn of this.io.openSessions()) if (conn.appliedVersion < (this.latestVersion.get(conn.displayId) ?? 0)) behind++;
    return behind;
  }
}
