/**
 * `plays` (protocol §5): proof of play, relayed to api-v2, which judges every record (malformed
 * ones too, so they are counted per display like any rejection). Only plays api-v2 committed are
 * acked; rejected ones are listed with their code; the rest the display resends later. A record
 * without a usable playId cannot be answered and is dropped here.
 */
import { playsSchema, type TypedMessage } from '@marquee/display-protocol';
import { DirectoryUnavailableError } from '../directory.ts';
import { jitter } from '../limits.ts';
import type { Session } from '../session.ts';

const MAX_PLAYS_IN_FLIGHT = 2;

export async function plays(session: Session, msg: TypedMessage): Promise<void> {
  const envelope = playsSchema.safeParse(msg);
  if (!envelope.success) return session.invalid('plays', envelope.error.issues);
  const { batchId, plays: records } = envelope.data;
  const { options, deps } = session.server;
  if (records.length > options.maxPlaysPerBatch) {
    return session.sendError('invalid_message', `more than ${options.maxPlaysPerBatch} plays in one batch`, false, { ref: 'plays' });
  }
  const metrics = deps.metrics;
  // The first record of each playId (a display may repeat one within a batch).
  const byPlayId = new Map<string, unknown>();
  for (const raw of records) {
    const playId = (raw as { playId?: unknown } | null)?.playId;
    if (typeof playId === 'string' && playId.length > 0 && playId.length <= 128 && !byPlayId.has(playId)) byPlayId.set(playId, raw);
  }
  metrics?.plays.inc({ outcome: 'unanswerable' }, records.length - byPlayId.size);
  session.recordSeen();
  if (byPlayId.size === 0) return void session.send({ type: 'plays_ack', batchId, accepted: [], rejected: [] });
  if (session.playsInFlight >= MAX_PLAYS_IN_FLIGHT) {
    metrics?.plays.inc({ outcome: 'deferred' }, byPlayId.size);
    return void session.send({ type: 'plays_ack', batchId, accepted: [], rejected: [], retryAfterMs: 1_000 });
  }
  session.playsInFlight++;
  try {
    const result = await deps.directory.ingestPlays(session.displayId, [...byPlayId.values()]);
    const accepted = result.acceptedPlayIds.filter((id) => byPlayId.has(id));
    const rejected = result.rejected.filter((r) => byPlayId.has(r.playId));
    metrics?.plays.inc({ outcome: 'accepted' }, accepted.length);
    metrics?.plays.inc({ outcome: 'rejected' }, rejected.length);
    const unanswered = byPlayId.size - accepted.length - rejected.length;
    session.send({ type: 'plays_ack', batchId, accepted, rejected, ...(unanswered > 0 ? { retryAfterMs: 5_000 } : {}) });
  } catch (err) {
    deps.logger.warn({ err: String(err), displayId: session.displayId }, 'plays not recorded');
    metrics?.plays.inc({ outcome: 'deferred' }, byPlayId.size);
    const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
    session.send({ type: 'plays_ack', batchId, accepted: [], rejected: [], retryAfterMs: jitter(retryAfterMs) });
  } finally {
    session.playsInFlight--;
  }
}
