/**
 * What a playlist shows apart from its display and version: window, loop and entries. device-tcp
 * holds one per connected display (the base the next bus delta applies to). Displays showing the
 * same thing share one object, so a delta is applied, and its frame tail serialised, once per
 * distinct content rather than once per display.
 */
import type { Playlist, PlaylistEdit, PlaylistEntry, PlaylistLoop } from './directory.ts';

export class PlaylistContent {
  private tailText: string | null = null;
  private tailBytes: Buffer | null = null;

  constructor(
    readonly generatedAt: string,
    readonly validFrom: string,
    readonly validUntil: string,
    readonly loop: PlaylistLoop,
    readonly entries: readonly PlaylistEntry[],
  ) {}

  /** Epoch ms of generatedAt. */
  get generatedMs(): number {
    return Date.parse(this.generatedAt);
  }

  /** The frame's JSON after `"version":N`, up to the end: the part every display showing this shares. */
  get tail(): Buffer {
    return (this.tailBytes ??= Buffer.from(this.tailJson));
  }

  get tailJson(): string {
    return (this.tailText ??= tailJson(this));
  }

  /** This content with `edit` applied (itself when the edit touches none of its entries). */
  apply(edit: PlaylistEdit): PlaylistContent {
    const change = entryChange(edit, this.loop.slotMs);
    if (!change) return this;
    let changed = false;
    const entries = this.entries.map((e) => {
      const next = change(e);
      changed ||= next !== e;
      return next;
    });
    return changed ? new PlaylistContent(this.generatedAt, this.validFrom, this.validUntil, this.loop, entries) : this;
  }
}

function tailJson(c: PlaylistContent): string {
  return (
    `,"generatedAt":${JSON.stringify(c.generatedAt)},"validFrom":${JSON.stringify(c.validFrom)},"validUntil":${JSON.stringify(c.validUntil)}` +
    `,"loop":${JSON.stringify(c.loop)},"entries":${JSON.stringify(c.entries)}}}`
  );
}

/** How `edit` changes one entry (the same entry when it does not), as api-v2's full build would have it. */
function entryChange(edit: PlaylistEdit, slotMs: number): ((e: PlaylistEntry) => PlaylistEntry) | null {
  switch (edit.kind) {
    case 'creative-duration': {
      // A creative never overruns its slot (api-v2's build cuts it the same way).
      const durationMs = Math.min(edit.durationMs, slotMs);
      return (e) => (e.creativeId === edit.creativeId && e.durationMs !== durationMs ? { ...e, durationMs } : e);
    }
    case 'booking-content': {
      const { content } = edit;
      const durationMs = Math.min(content.durationMs, slotMs);
      return (e) => (e.kind === 'booking' && e.bookingId === edit.bookingId ? { ...e, ...content, durationMs, scripts: false } : e);
    }
    case 'none':
      return null;
  }
}

/**
 * Equal contents share one object while any display holds it: a reconnect storm or a fetch batch
 * yields thousands of equal playlists, and the next delta then costs one application for them all.
 */
export class ContentInterner {
  private readonly byTail = new Map<string, WeakRef<PlaylistContent>>();
  private readonly forget = new FinalizationRegistry<string>((key) => {
    if (this.byTail.get(key)?.deref() === undefined) this.byTail.delete(key);
  });

  of(playlist: Playlist): PlaylistContent {
    return this.intern(new PlaylistContent(playlist.generatedAt, playlist.validFrom, playlist.validUntil, playlist.loop, playlist.entries));
  }

  intern(content: PlaylistContent): PlaylistContent {
    const key = content.tailJson;
    const known = this.byTail.get(key)?.deref();
    if (known) return known;
    this.byTail.set(key, new WeakRef(content));
    this.forget.register(content, key);
    return content;
  }

  /** Distinct contents currently held (tests, diagnostics). */
  get size(): number {
    return this.byTail.size;
  }
}
