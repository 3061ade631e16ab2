/**
 * `plays` (protocol §5): proof of play, relayed to api-v2. Only plays api-v2 committed are acked;
 * invalid and refused ones are rejected by playId; the rest the display resends later.
 */
import { DirectoryUnavailableError } from '../directory.ts';
import { jitter } from '../limits.ts';
import type { TypedMessage } from '../protocol/framing.ts';
import { playRecordSchema, playsSchema, type PlayRecord } from '../protocol/messages.ts';
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
  const valid: PlayRecord[] = [];
  const rejected: { playId: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const raw of records) {
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
  session.recordSeen();
  if (valid.length === 0) return void session.send({ type: 'plays_ack', batchId, accepted: [], rejected });
  if (session.playsInFlight >= MAX_PLAYS_IN_FLIGHT) {
    metrics?.plays.inc({ outcome: 'deferred' }, valid.length);
    return void session.send({ type: 'plays_ack', batchId, accepted: [], rejected, retryAfterMs: 1_000 });
  }
  session.playsInFlight++;
  try {
    const result = await deps.directory.ingestPlays(session.displayId, valid);
    const accepted = result.acceptedPlayIds.filter((id) => seen.has(id));
    const refused = result.rejected.filter((r) => seen.has(r.playId));
    metrics?.plays.inc({ outcome: 'accepted' }, accepted.length);
    metrics?.plays.inc({ outcome: 'rejected' }, refused.length);
    const unanswered = valid.length - accepted.length - refused.length;
    session.send({
      type: 'plays_ack',
      batchId,
      accepted,
      rejected: [...rejected, ...refused],
      ...(unanswered > 0 ? { retryAfterMs: 5_000 } : {}),
    });
  } catch (err) {
    deps.logger.warn({ err: String(err), displayId: session.displayId }, 'plays not recorded');
    metrics?.plays.inc({ outcome: 'deferred' }, valid.length);
    const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
    session.send({ type: 'plays_ack', batchId, accepted: [], rejected, retryAfterMs: jitter(retryAfterMs) });
  } finally {
    session.playsInFlight--;
  }
}
