/**
 * The player's durable play store: an append-only journal (`plays.journal`) of added plays and
 * removed ids, fsynced before each operation resolves, so a play the page reported survives a
 * crash or power loss until the server acknowledged it. The journal is compacted at start and
 * when removals dominate it (atomic rewrite). A torn last line (power cut mid-write) is ignored.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { PlayRecord, PlayStore } from '@marquee/display-client';
import { writeFileAtomic } from './atomic.ts';

type JournalLine = { add: PlayRecord } | { remove: string[] };

export class FilePlayStore implements PlayStore {
  private handle: FileHandle | null = null;
  private live = new Map<string, PlayRecord>();
  private lines = 0;

  constructor(private readonly file: string) {}

  async load(): Promise<PlayRecord[]> {
    const text = await readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    for (const line of text.split('\n')) {
      if (!line) continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a write cut short by a power loss; what it held was never acknowledged as stored
      }
      if ('add' in entry && entry.add?.playId) this.live.set(entry.add.playId, entry.add);
      else if ('remove' in entry && Array.isArray(entry.remove)) for (const id of entry.remove) this.live.delete(id);
    }
    await this.compact();
    return [...this.live.values()];
  }

  async append(plays: PlayRecord[]): Promise<void> {
    for (const p of plays) this.live.set(p.playId, p);
    await this.write(plays.map((p) => JSON.stringify({ add: p })).join('\n') + '\n');
  }

  async remove(playIds: string[]): Promise<void> {
    for (const id of playIds) this.live.delete(id);
    await this.write(JSON.stringify({ remove: playIds }) + '\n');
    if (this.lines > 1_000 && this.lines > 4 * this.live.size) await this.compact();
  }

  /** Plays stored now, not yet acknowledged. */
  get records(): PlayRecord[] {
    return [...this.live.values()];
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  private async write(text: string): Promise<void> {
    this.handle ??= await open(this.file, 'a', 0o600);
    await this.handle.write(text);
    await this.handle.datasync();
    this.lines += text.split('\n').length - 1;
  }

  private async compact(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    const text = [...this.live.values()].map((p) => JSON.stringify({ add: p }) + '\n').join('');
    await writeFileAtomic(this.file, text);
    this.lines = this.live.size;
  }
}
