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

export class HttpDisplayDirectory implements DisplayDirectory {
  constructor(private readonly client: InternalClient) {}

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

  async getPlaylist(displayId: string): Promise<Playlist | null> {
    const { body } = await this.call(playlistAnswer, { method: 'GET', path: `/internal/displays/${encodeURIComponent(displayId)}/playlist`, breakerKey: 'playlists' }, [404]);
    return body as Playlist | null;
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
