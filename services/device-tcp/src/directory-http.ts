/**
 * DisplayDirectory over api-v2's internal HTTP endpoints (its INTERNAL_PORT, never routed by the
 * edge). The paths and bodies below are the contract api-v2 implements; it is written out in
 * services/device-tcp/README.md.
 */
import { z } from 'zod';
import { DependencyUnavailableError, type InternalClient } from '@marquee/service-kit';
import {
  DirectoryUnavailableError,
  type AuthResult,
  type CommandResult,
  type DisplayCommand,
  type DisplayDirectory,
  type IngestResult,
  type PlayRecord,
  type Playlist,
  type PresenceEvent,
} from './directory.ts';

const authAnswer = z.union([
  z.object({ ok: z.literal(true), display: z.object({ id: z.string(), status: z.string(), playlistVersion: z.number().int().min(0) }) }),
  z.object({ ok: z.literal(false), code: z.enum(['unknown_display', 'bad_secret', 'disabled']) }),
]);
const playlistAnswer = z.looseObject({ displayId: z.string(), version: z.number().int().min(0), entries: z.array(z.unknown()) });
const versionsAnswer = z.object({ versions: z.record(z.string(), z.number().int().min(0)) });
const ingestAnswer = z.object({
  acceptedPlayIds: z.array(z.string()),
  rejected: z.array(z.object({ playId: z.string(), reason: z.string() })).default([]),
});
const commandsAnswer = z.object({
  commands: z.array(
    z.object({ commandId: z.string(), displayId: z.string(), kind: z.string(), args: z.record(z.string(), z.unknown()).default({}), expiresAt: z.string() }),
  ),
});

const playlistsAnswer = z.object({ playlists: z.record(z.string(), playlistAnswer) });

/** Playlist fetches are gathered for this long (or up to PLAYLIST_BATCH_MAX ids) into one call. */
const PLAYLIST_BATCH_DELAY_MS = 5;
const PLAYLIST_BATCH_MAX = 1_000;
/** Batch calls in flight at once; further requests keep accumulating into the next batch. */
const PLAYLIST_BATCHES_IN_FLIGHT = 4;

type PlaylistWaiter = { resolve: (p: Playlist | null) => void; reject: (err: unknown) => void };

export class HttpDisplayDirectory implements DisplayDirectory {
  /**
   * An edit on thousands of displays means thousands of playlist fetches at once: they are
   * batched into POST /internal/playlists (api-v2 builds them set-based), instead of one HTTP
   * call and several queries per display.
   */
  private waiting = new Map<string, PlaylistWaiter[]>();
  private batchTimer: NodeJS.Timeout | null = null;
  private batchesInFlight = 0;

  constructor(private readonly client: InternalClient) {}

  private scheduleBatch(): void {
    if (this.batchesInFlight >= PLAYLIST_BATCHES_IN_FLIGHT || this.waiting.size === 0) return;
    if (this.waiting.size >= PLAYLIST_BATCH_MAX) return this.sendBatch();
    this.batchTimer ??= setTimeout(() => this.sendBatch(), PLAYLIST_BATCH_DELAY_MS);
  }

  private sendBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    if (this.waiting.size === 0 || this.batchesInFlight >= PLAYLIST_BATCHES_IN_FLIGHT) return;
    const batch = new Map<string, PlaylistWaiter[]>();
    for (const [id, waiters] of this.waiting) {
      batch.set(id, waiters);
      this.waiting.delete(id);
      if (batch.size >= PLAYLIST_BATCH_MAX) break;
    }
    this.batchesInFlight++;
    this.call(playlistsAnswer, { method: 'POST', path: '/internal/playlists', body: { displayIds: [...batch.keys()] }, idempotent: true, breakerKey: 'playlists', timeoutMs: 10_000 })
      .then(
        ({ body }) => {
          for (const [id, waiters] of batch) for (const w of waiters) w.resolve((body!.playlists[id] as Playlist | undefined) ?? null);
        },
        (err) => {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        this.batchesInFlight--;
        this.scheduleBatch();
      });
  }

  private async call<T>(schema: z.ZodType<T>, req: Parameters<InternalClient['request']>[0], allow: number[] = []): Promise<{ status: number; body: T | null }> {
    let res;
    try {
      res = await this.client.request(req);
    } catch (err) {
      if (err instanceof DependencyUnavailableError) {
        throw new DirectoryUnavailableError(err.message, (err.retryAfterSeconds ?? 5) * 1000);
      }
      throw err;
    }
    if (allow.includes(res.status)) return { status: res.status, body: null };
    if (res.status >= 300) throw new Error(`api-v2 ${req.method} ${req.path} answered ${res.status}`);
    if (res.status === 204) return { status: 204, body: null };
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) throw new Error(`api-v2 ${req.method} ${req.path} answered an unexpected body: ${parsed.error.message.slice(0, 200)}`);
    return { status: res.status, body: parsed.data };
  }

  async authenticate(displayId: string, secret: string): Promise<AuthResult> {
    // api-v2 refuses ids it could never have issued (400/422); for the display that is "unknown".
    const { body } = await this.call(
      authAnswer,
      { method: 'POST', path: '/internal/displays/authenticate', body: { displayId, secret }, idempotent: true, breakerKey: 'authenticate' },
      [400, 422],
    );
    return body ?? { ok: false, code: 'unknown_display' };
  }

  getPlaylist(displayId: string): Promise<Playlist | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(displayId);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(displayId, [{ resolve, reject }]);
      this.scheduleBatch();
    });
  }

  async getPlaylistVersions(displayIds: string[]): Promise<Record<string, number>> {
    const { body } = await this.call(versionsAnswer, { method: 'POST', path: '/internal/playlists/versions', body: { displayIds }, idempotent: true, breakerKey: 'playlists' });
    return body!.versions;
  }

  async ingestPlays(displayId: string, plays: PlayRecord[]): Promise<IngestResult> {
    // Idempotent by playId, so retrying a timed-out call is safe.
    const { body } = await this.call(ingestAnswer, {
      method: 'POST',
      path: `/internal/displays/${encodeURIComponent(displayId)}/plays`,
      breakerKey: 'plays',
      body: { plays },
      idempotent: true,
      timeoutMs: 5_000,
    });
    return body!;
  }

  async reportPresence(events: PresenceEvent[]): Promise<void> {
    await this.call(z.unknown(), { method: 'POST', path: '/internal/presence', body: { events }, idempotent: true, breakerKey: 'presence' });
  }

  async takePendingCommands(displayId: string): Promise<DisplayCommand[]> {
    const { body } = await this.call(commandsAnswer, { method: 'GET', path: `/internal/displays/${encodeURIComponent(displayId)}/commands/pending`, breakerKey: 'commands' });
    return body!.commands;
  }

  async reportCommandResult(displayId: string, result: CommandResult): Promise<void> {
    // 404 (unknown/expired), 409 (already answered) and 400/422 (malformed, e.g. an id api-v2
    // never issued) are final: resending the same result cannot succeed.
    await this.call(
      z.unknown(),
      { method: 'POST', path: `/internal/commands/${encodeURIComponent(result.commandId)}/result`, body: { displayId, ...result }, idempotent: true, breakerKey: 'commands' },
      [400, 404, 409, 422],
    );
  }
}
