/**
 * Display traffic besides playlists: proof-of-play batches, command delivery (live from the bus
 * and pending on connect) and command results, each relayed to api-v2.
 */
import type { Connection } from './connection.ts';
import { DirectoryUnavailableError, type DisplayCommand } from './directory.ts';
import type { TypedMessage } from './protocol/framing.ts';
import { commandResultSchema, playRecordSchema, playsSchema, type PlayRecord } from './protocol/messages.ts';
import { jitter } from './limits.ts';
import type { SessionIO } from './session-io.ts';

const MAX_PLAYS_IN_FLIGHT = 2;

export class PlaysAndCommands {
  constructor(private readonly io: SessionIO) {}

  async onPlays(conn: Connection, msg: TypedMessage): Promise<void> {
    const envelope = playsSchema.safeParse(msg);
    if (!envelope.success) return this.io.invalid(conn, 'plays', envelope.error.issues);
    const { batchId, plays } = envelope.data;
    if (plays.length > this.io.options.maxPlaysPerBatch) {
      return this.io.sendError(conn, 'invalid_message', `more than ${this.io.options.maxPlaysPerBatch} plays in one batch`, false, { ref: 'plays' });
    }
    const metrics = this.io.deps.metrics;
    const valid: PlayRecord[] = [];
    const rejected: { playId: string; reason: string }[] = [];
    const seen = new Set<string>();
    for (const raw of plays) {
      const parsed = playRecordSchema.safeParse(raw);
      const playId = (raw as { playId?: unknown } | null)?.playId;
      if (!parsed.success) {
        if (typeof playId === 'string' && playId.length <= 128) rejected.push({ playId, reason: 'invalid' });
        continue;
      }
      if (seen.has(parsed.data.playId)) continue;
      seen.add(parsed.data.playId);
      valid.push(parsed.data);
    }
    metrics?.plays.inc({ outcome: 'invalid' }, rejected.length);
    this.io.recordSeen(conn);
    if (valid.length === 0) return void this.io.send(conn, { type: 'plays_ack', batchId, accepted: [], rejected });
    if (conn.playsInFlight >= MAX_PLAYS_IN_FLIGHT) {
      metrics?.plays.inc({ outcome: 'deferred' }, valid.length);
      return void this.io.send(conn, { type: 'plays_ack', batchId, accepted: [], rejected, retryAfterMs: 1_000 });
    }
    conn.playsInFlight++;
    try {
      const result = await this.io.deps.directory.ingestPlays(conn.displayId, valid);
      const accepted = result.acceptedPlayIds.filter((id) => seen.has(id));
      const refused = result.rejected.filter((r) => seen.has(r.playId));
      metrics?.plays.inc({ outcome: 'accepted' }, accepted.length);
      metrics?.plays.inc({ outcome: 'rejected' }, refused.length);
      const unanswered = valid.length - accepted.length - refused.length;
      this.io.send(conn, {
        type: 'plays_ack',
        batchId,
        accepted,
        rejected: [...rejected, ...refused],
        ...(unanswered > 0 ? { retryAfterMs: 5_000 } : {}),
      });
    } catch (err) {
      this.io.deps.logger.warn({ err: String(err), displayId: conn.displayId }, 'plays not recorded');
      metrics?.plays.inc({ outcome: 'deferred' }, valid.length);
      const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
      this.io.send(conn, { type: 'plays_ack', batchId, accepted: [], rejected, retryAfterMs: jitter(retryAfterMs) });
    } finally {
      conn.playsInFlight--;
    }
  }

  async onCommandResult(conn: Connection, msg: TypedMessage): Promise<void> {
    const parsed = commandResultSchema.safeParse(msg);
    if (!parsed.success) return this.io.invalid(conn, 'command_result', parsed.error.issues);
    const { commandId, ok, result, error } = parsed.data;
    try {
      await this.io.deps.directory.reportCommandResult(conn.displayId, {
        commandId,
        ok,
        ...(result ? { result } : {}),
        ...(error !== undefined ? { error } : {}),
        completedAt: new Date().toISOString(),
      });
      this.io.send(conn, { type: 'command_result_ack', commandId, recorded: true });
    } catch (err) {
      this.io.deps.logger.warn({ err: String(err), displayId: conn.displayId, commandId }, 'command result not recorded');
      const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
      this.io.send(conn, { type: 'command_result_ack', commandId, recorded: false, retryAfterMs: jitter(retryAfterMs) });
    }
  }

  onBusCommand(cmd: DisplayCommand): void {
    const conn = this.io.sessionFor(cmd.displayId);
    if (conn?.isOpen) this.sendCommand(conn, cmd);
  }

  sendCommand(conn: Connection, cmd: DisplayCommand): void {
    const expires = Date.parse(cmd.expiresAt);
    if (!Number.isFinite(expires) || expires <= Date.now()) return;
    this.io.send(conn, { type: 'command', commandId: cmd.commandId, kind: cmd.kind, args: cmd.args ?? {}, expiresAt: cmd.expiresAt });
  }
}
