/**
 * DisplayDirectory over api-v2's internal HTTP endpoints (its INTERNAL_PORT, never routed by the
 * edge). Requests and answers are the kit's contracts (packages/service-kit/src/contracts/), which
 * api-v2's routes validate with too; api-v2 documents them at GET /internal/openapi.json.
 */
import {
  CommandResultSchema,
  CredentialCheckSchema,
  DependencyUnavailableError,
  HandshakeHelloSchema,
  HandshakesAnswerSchema,
  PendingCommandsAnswerSchema,
  PlaylistsAnswerSchema,
  PlaylistVersionsAnswerSchema,
  PlaysIngestAnswerSchema,
  PresenceEventSchema,
  type HandshakesRequest,
  type InternalClient,
  type InternalRequest,
  type PlaylistsRequest,
  type PlaylistVersionsRequest,
  type PlaysIngestRequest,
  type PresenceReport,
} from '@marquee/service-kit';
import type { z } from 'zod';
import { Batcher } from './batcher.ts';
import {
  DirectoryUnavailableError,
  type HandshakeResult,
  type HelloCredentials,
  type CommandResult,
  type DisplayDirectory,
  type IngestResult,
  type Playlist,
  type PresenceEvent,
} from './directory.ts';

/** A call whose body is typed by its contract in the kit. */
type Call<Body> = Omit<InternalRequest, 'body'> & { body?: Body };

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
    // Hellos api-v2 would refuse as malformed (ids and secrets of a size it never issues) are
    // refused here, not sent: one such hello would otherwise fail validation for the whole batch.
    const sendable = hellos.map((h) => HandshakeHelloSchema.safeParse(h).success);
    const sent = hellos.filter((_, i) => sendable[i]);
    let answers: HandshakeResult[] = [];
    if (sent.length) {
      const res = await this.call<HandshakesRequest, typeof HandshakesAnswerSchema>(
        HandshakesAnswerSchema,
        { method: 'POST', path: '/internal/displays/handshakes', body: { hellos: sent }, idempotent: true, breakerKey: 'handshakes', timeoutMs: 10_000 },
        [404],
      );
      // 404: an api-v2 from before batched hellos, met during a rolling deploy.
      answers = res.status === 404 ? await Promise.all(sent.map((h) => this.legacyHandshake(h))) : res.body!.answers;
    }
    if (answers.length !== sent.length) throw new DirectoryUnavailableError(`api-v2 answered ${answers.length} handshakes for ${sent.length}`);
    let next = 0;
    return hellos.map((_, i) => (sendable[i] ? answers[next++]! : { ok: false, code: 'unknown_display' }));
  }

  /** One hello the way api-v2 answered before POST /internal/displays/handshakes existed. */
  private async legacyHandshake(hello: HelloCredentials): Promise<HandshakeResult> {
    const { body: auth } = await this.call(
      CredentialCheckSchema,
      { method: 'POST', path: '/internal/displays/authenticate', body: { displayId: hello.displayId, secret: hello.secret }, idempotent: true, breakerKey: 'handshakes' },
      [400, 422],
    );
    if (!auth?.ok) return auth ?? { ok: false, code: 'unknown_display' };
    const path = `/internal/displays/${encodeURIComponent(hello.displayId)}/commands/pending`;
    const [{ body: pending }, playlist] = await Promise.all([
      this.call(PendingCommandsAnswerSchema, { method: 'GET', path, breakerKey: 'commands' }),
      auth.display.playlistVersion > hello.playlistVersion ? this.getPlaylist(hello.displayId) : Promise.resolve(null),
    ]);
    return { ...auth, commands: pending!.commands, ...(playlist ? { playlist } : {}) };
  }

  private async playlistBatch(ids: string[]): Promise<(Playlist | null)[]> {
    const { body } = await this.call<PlaylistsRequest, typeof PlaylistsAnswerSchema>(PlaylistsAnswerSchema, {
      method: 'POST',
      path: '/internal/playlists',
      body: { displayIds: [...new Set(ids)] },
      idempotent: true,
      breakerKey: 'playlists',
      timeoutMs: 10_000,
    });
    return ids.map((id) => body!.playlists[id] ?? null);
  }

  /**
   * One call; the answer is checked against its contract. api-v2 unreachable, failing or answering
   * something else than the contract says are all a dependency failure: the caller retries later.
   */
  private async call<Body, S extends z.ZodType>(schema: S | null, req: Call<Body>, allow: number[] = []): Promise<{ status: number; body: z.output<S> | null }> {
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
    if (res.status === 204 || !schema) return { status: res.status, body: null };
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      throw new DirectoryUnavailableError(`api-v2 ${req.method} ${req.path} answered an unexpected body: ${parsed.error.message.slice(0, 200)}`);
    }
    return { status: res.status, body: parsed.data };
  }

  handshake(hello: HelloCredentials): Promise<HandshakeResult> {
    return this.handshakes.add(hello);
  }

  getPlaylist(displayId: string): Promise<Playlist | null> {
    return this.playlists.add(displayId);
  }

  async getPlaylistVersions(displayIds: string[]): Promise<Record<string, number>> {
    const { body } = await this.call<PlaylistVersionsRequest, typeof PlaylistVersionsAnswerSchema>(PlaylistVersionsAnswerSchema, {
      method: 'POST',
      path: '/internal/playlists/versions',
      body: { displayIds },
      idempotent: true,
      breakerKey: 'playlists',
    });
    return body!.versions;
  }

  async ingestPlays(displayId: string, plays: readonly unknown[]): Promise<IngestResult> {
    // Idempotent by playId, so retrying a timed-out call is safe.
    const { body } = await this.call<PlaysIngestRequest, typeof PlaysIngestAnswerSchema>(PlaysIngestAnswerSchema, {
      method: 'POST',
      path: `/internal/displays/${encodeURIComponent(displayId)}/plays`,
      breakerKey: 'plays',
      body: { plays: [...plays] },
      idempotent: true,
      timeoutMs: 5_000,
    });
    return body!;
  }

  async reportPresence(events: PresenceEvent[]): Promise<void> {
    // An event api-v2 would refuse would fail the whole report, and every retry of it.
    const valid = events.filter((e) => PresenceEventSchema.safeParse(e).success);
    if (valid.length === 0) return;
    await this.call<PresenceReport, z.ZodType>(null, { method: 'POST', path: '/internal/presence', body: { events: valid }, idempotent: true, breakerKey: 'presence' });
  }

  async reportCommandResult(displayId: string, result: CommandResult): Promise<void> {
    // A result api-v2 would refuse as malformed (e.g. a command id it never issued) is final, like
    // its 400/422: resending the same result cannot succeed. So are 404 (unknown/expired) and 409
    // (already answered).
    const body = CommandResultSchema.safeParse({ displayId, ...result });
    if (!body.success) return;
    await this.call(
      null,
      { method: 'POST', path: `/internal/commands/${encodeURIComponent(result.commandId)}/result`, body: body.data, idempotent: true, breakerKey: 'commands' },
      [400, 404, 409, 422],
    );
  }
}
