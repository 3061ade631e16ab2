/**
 * DisplayDirectory over api-v2's internal HTTP endpoints (its INTERNAL_PORT, never routed by the
 * edge). The paths and bodies below are the contract api-v2 implements; it is written out in
 * services/device-tcp/README.md.
 */
import { z } from 'zod';
import { DependencyUnavailableError, type InternalClient } from '@marquee/service-kit';
import { Batcher } from './batcher.ts';
import {
  DirectoryUnavailableError,
  type HandshakeResult,
  type HelloCredentials,
  type CommandResult,
  type DisplayCommand,
  type DisplayDirectory,
  type IngestResult,
  type PlayRecord,
  type Playlist,
  type PresenceEvent,
} from './directory.ts';

const playlistAnswer = z.looseObject({ displayId: z.string(), version: z.number().int().min(0), entries: z.array(z.unknown()) });
const versionsAnswer = z.object({ versions: z.record(z.string(), z.number().int().min(0)) });
const ingestAnswer = z.object({
  acceptedPlayIds: z.array(z.string()),
  rejected: z.array(z.object({ playId: z.string(), reason: z.string() })).default([]),
});
const commandSchema = z.object({ commandId: z.string(), displayId: z.string(), kind: z.string(), args: z.record(z.string(), z.unknown()).default({}), expiresAt: z.string() });
const acceptedAnswer = z.object({ ok: z.literal(true), display: z.object({ id: z.string(), status: z.string(), playlistVersion: z.number().int().min(0) }) });
const refusedAnswer = z.object({ ok: z.literal(false), code: z.enum(['unknown_display', 'bad_secret', 'disabled']) });
const handshakesAnswer = z.object({
  answers: z.array(z.union([acceptedAnswer.extend({ commands: z.array(commandSchema), playlist: playlistAnswer.optional() }), refusedAnswer])),
});
const legacyAuthAnswer = z.union([acceptedAnswer, refusedAnswer]);
const legacyCommandsAnswer = z.object({ commands: z.array(commandSchema) });
const playlistsAnswer = z.object({ playlists: z.record(z.string(), playlistAnswer) });

/**
 * Hellos and playlist fetches are gathered for 5 ms (or up to 1 000) into one call, with at most 4
 * calls of one kind in flight; further requests keep accumulating into the next.
 */
const BATCHING = { delayMs: 5, max: 1_000, concurrency: 4 };

export class HttpDisplayDirectory implements DisplayDirectory {
  /**
   * A reconnect storm is thousands of hellos a second and an edit thousands of playlist fetches:
   * both are batched into one call per ~1 000 (api-v2 answers them set-based), instead of one
   * HTTP call and several queries per display.
   */
  private readonly handshakes = new Batcher<HelloCredentials, HandshakeResult>((hellos) => this.handshakeBatch(hellos), BATCHING);
  private readonly playlists = new Batcher<string, Playlist | null>((ids) => this.playlistBatch(ids), BATCHING);

  constructor(private readonly client: InternalClient) {}

  private async handshakeBatch(hellos: HelloCredentials[]): Promise<HandshakeResult[]> {
    // Ids and secrets of a size api-v2 never issues are refused here, not sent: one such hello
    // would otherwise fail validation for the whole batch.
    const sendable = hellos.map((h) => h.displayId.length <= 64 && h.secret.length <= 256);
    const sent = hellos.filter((_, i) => sendable[i]);
    let answers: HandshakeResult[] = [];
    if (sent.length) {
      const res = await this.call(
        handshakesAnswer,
        { method: 'POST', path: '/internal/displays/handshakes', body: { hellos: sent }, idempotent: true, breakerKey: 'handshakes', timeoutMs: 10_000 },
        [404],
      );
      // 404: an api-v2 from before batched hellos, met during a rolling deploy.
      answers = res.status === 404 ? await Promise.all(sent.map((h) => this.legacyHandshake(h))) : (res.body!.answers as HandshakeResult[]);
    }
    if (answers.length !== sent.length) throw new Error(`api-v2 answered ${answers.length} handshakes for ${sent.length}`);
    let next = 0;
    return hellos.map((_, i) => (sendable[i] ? answers[next++]! : { ok: false, code: 'unknown_display' }));
  }

  /** One hello the way api-v2 answered before POST /internal/displays/handshakes existed. */
  private async legacyHandshake(hello: HelloCredentials): Promise<HandshakeResult> {
    const { body: auth } = await this.call(
      legacyAuthAnswer,
      { method: 'POST', path: '/internal/displays/authenticate', body: { displayId: hello.displayId, secret: hello.secret }, idempotent: true, breakerKey: 'handshakes' },
      [400, 422],
    );
    if (!auth?.ok) return auth ?? { ok: false, code: 'unknown_display' };
    const path = `/internal/displays/${encodeURIComponent(hello.displayId)}/commands/pending`;
    const [{ body: pending }, playlist] = await Promise.all([
      this.call(legacyCommandsAnswer, { method: 'GET', path, breakerKey: 'commands' }),
      auth.display.playlistVersion > hello.playlistVersion ? this.getPlaylist(hello.displayId) : Promise.resolve(null),
    ]);
    return { ...auth, commands: pending!.commands, ...(playlist ? { playlist } : {}) };
  }

  private async playlistBatch(ids: string[]): Promise<(Playlist | null)[]> {
    const { body } = await this.call(playlistsAnswer, { method: 'POST', path: '/internal/playlists', body: { displayIds: [...new Set(ids)] }, idempotent: true, breakerKey: 'playlists', timeoutMs: 10_000 });
    return ids.map((id) => (body!.playlists[id] as Playlist | undefined) ?? null);
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

  handshake(hello: HelloCredentials): Promise<HandshakeResult> {
    return this.handshakes.add(hello);
  }

  getPlaylist(displayId: string): Promise<Playlist | null> {
    return this.playlists.add(displayId);
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
