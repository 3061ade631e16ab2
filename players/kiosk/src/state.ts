/**
 * What the player keeps besides media: the playlist on screen (so it plays on after a restart
 * without the server) and the last server-clock offset (so the loop stays in step offline).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { normalizePlaylist, type Playlist } from '@marquee/display-client';
import { writeFileAtomic } from './atomic.ts';

export class PlayerState {
  private readonly playlistFile: string;
  private readonly clockFile: string;

  constructor(dataDir: string) {
    this.playlistFile = path.join(dataDir, 'playlist.json');
    this.clockFile = path.join(dataDir, 'clock.json');
  }

  /** The stored playlist, or null if there is none or it is unreadable. */
  async loadPlaylist(): Promise<Playlist | null> {
    try {
      const raw = JSON.parse(await readFile(this.playlistFile, 'utf8'));
      const { playlist, dropped } = normalizePlaylist(raw);
      return dropped.length ? null : playlist;
    } catch {
      return null;
    }
  }

  savePlaylist(playlist: Playlist): Promise<void> {
    return writeFileAtomic(this.playlistFile, JSON.stringify(playlist));
  }

  async loadClockOffset(): Promise<number | null> {
    try {
      const { offsetMs } = JSON.parse(await readFile(this.clockFile, 'utf8'));
      return Number.isFinite(offsetMs) ? offsetMs : null;
    } catch {
      return null;
    }
  }

  saveClockOffset(offsetMs: number): Promise<void> {
    return writeFileAtomic(this.clockFile, JSON.stringify({ offsetMs, savedAt: new Date().toISOString() }));
  }
}
