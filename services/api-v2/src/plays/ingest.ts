import { PlayRecordSchema, type PlayRecord, type PlayRejectionCode, type PlaysIngestAnswer, type RejectedPlay, type Sql } from '@marquee/service-kit';
import { countRejections, judgeAndStore, PLAY_TIMING_TOLERANCE_MS, type Verdict } from './sql.ts';

export interface PlayIngestOptions {
  /** PLAY_CLOCK_SKEW_MS: how far a display's clock may be off (future, window and slot checks). */
  clockSkewMs: number;
  /** Counts rejected plays by code (Prometheus `plays_rejected_total{code}`), after commit. */
  onRejected?: (code: PlayRejectionCode, count: number) => void;
  now?: Date;
}

/**
 * The one place a display's plays are judged and stored (proof of play is money). Every play of
 * the batch gets exactly one answer: accepted (stored now, or already stored: a re-sent play is
 * never counted twice) or rejected with a code (docs/display-protocol.md, "Plays"). Judged
 * set-based in one statement, in this order, the first failing rule naming the code:
 *
 * - `malformed`: fails PlayRecordSchema, or its playId is already another display's play;
 * - `unknown_booking`: no such booking, or it has no part on this display;
 * - `not_confirmed`: not confirmed at startedAt (a hold, confirmed later, or cancelled before it);
 * - `in_future`: startedAt > now + skew;
 * - `outside_window`: startedAt not within skew of the booking's windows on this display (its
 *   dayparts in the display's timezone, as booking_slots stores them);
 * - `wrong_slot`: startedAt not within skew of an occurrence of the booking's slot, occurrence k
 *   being [k·slotMs, (k+1)·slotMs) from the Unix epoch (the loop's anchor), half-open: a play
 *   starting on a boundary two occurrences share belongs to the one that starts there;
 * - `wrong_creative`: not a creative the booking showed on this display within skew of startedAt
 *   (booking_display_creatives; a swap reaches the display a little after it is made);
 * - `bad_duration`: not 0 < durationMs ≤ slotMs + PLAY_TIMING_TOLERANCE_MS;
 * - `not_billable`: an emergency was in force on the display at startedAt;
 * - `duplicate_slot`: the booking already earned a play in that occurrence on this display (a
 *   stored play, or an earlier one of this batch); an occurrence is named by its start instant,
 *   so the name survives a change of the display's loop;
 * - `overlap`: overlaps (by more than the tolerance) a stored play of this display or an earlier
 *   candidate of this batch.
 *
 * Batches of one display are judged one at a time (a transaction-scoped advisory lock), so two
 * batches in flight cannot both earn one occurrence; the unique index plays_one_per_occurrence
 * backs that up. Rejections are counted per display and code in play_rejections.
 */
export async function ingestPlays(sql: Sql, displayId: string, raw: readonly unknown[], opts: PlayIngestOptions): Promise<PlaysIngestAnswer> {
  const malformed: RejectedPlay[] = [];
  const wellFormed: PlayRecord[] = [];
  for (const r of raw) {
    const parsed = PlayRecordSchema.safeParse(r);
    if (parsed.success) wellFormed.push(parsed.data);
    else {
      const issue = parsed.error.issues[0];
      const playId = (r as { playId?: unknown } | null)?.playId;
      malformed.push({ playId: String(playId ?? ''), code: 'malformed', detail: `${issue?.path.join('.') || 'play'}: ${issue?.message ?? 'invalid'}` });
    }
  }
  const now = opts.now ?? new Date();
  const skew = opts.clockSkewMs;
  const judged = new Map<string, RejectedPlay | null>();
  if (raw.length > 0) {
    await sql.begin(async (tx) => {
      if (wellFormed.length > 0) {
        await tx`select pg_advisory_xact_lock(hashtextextended(${'plays:' + displayId}, 0))`;
        for (const v of await judgeAndStore(tx, displayId, wellFormed, now, skew)) {
          if (v.unanswered) continue; // lost a race the lock should prevent: the display sends it again
          judged.set(v.play_id, v.code === null ? null : { playId: v.play_id, code: v.code, detail: describe(v.code, v, skew) });
        }
      }
      const refused = [...malformed, ...[...judged.values()].filter((r): r is RejectedPlay => r !== null)];
      if (refused.length > 0) await countRejections(tx, displayId, refused);
    });
  }
  // Answers in the order the display sent its plays.
  const acceptedPlayIds: string[] = [];
  const rejected: RejectedPlay[] = [...malformed];
  for (const p of wellFormed) {
    const verdict = judged.get(p.playId.toLowerCase());
    if (verdict === undefined) continue;
    judged.delete(p.playId.toLowerCase());
    if (verdict === null) acceptedPlayIds.push(p.playId);
    else rejected.push({ ...verdict, playId: p.playId });
  }
  if (opts.onRejected) for (const [code, count] of countByCode(rejected)) opts.onRejected(code, count);
  return { acceptedPlayIds, rejected };
}

function countByCode(rows: readonly RejectedPlay[]): Map<PlayRejectionCode, number> {
  const counts = new Map<PlayRejectionCode, number>();
  for (const r of rows) counts.set(r.code, (counts.get(r.code) ?? 0) + 1);
  return counts;
}

/** The sentence a display logs next to a rejection code. */
function describe(code: PlayRejectionCode, v: Verdict, skewMs: number): string {
  const slotMs = Number(v.slot_ms);
  const slot = `${Math.round(slotMs * 1000) / 1000} ms`;
  switch (code) {
    case 'malformed':
      return 'this playId is already a play of another display';
    case 'unknown_booking':
      return 'no booking with this id has a part on this display';
    case 'not_confirmed':
      return 'the booking was not confirmed at startedAt (a hold, confirmed later, or cancelled before)';
    case 'in_future':
      return `startedAt is more than ${skewMs} ms ahead of the server's clock`;
    case 'outside_window':
      return `startedAt is not within ${skewMs} ms of the booking's time on this display`;
    case 'wrong_slot':
      return `startedAt is not within ${skewMs} ms of an occurrence of the booking's slot ${v.slot} (slots of ${slot} from the Unix epoch)`;
    case 'wrong_creative':
      return `not a creative this booking showed on this display within ${skewMs} ms of startedAt`;
    case 'bad_duration':
      return `durationMs must be more than 0 and at most ${slotMs + PLAY_TIMING_TOLERANCE_MS} (the slot is ${slot})`;
    case 'not_billable':
      return 'an emergency message was on this display at startedAt';
    case 'duplicate_slot':
      return 'the booking already earned a play in this occurrence of its slot on this display';
    case 'overlap':
      return 'overlaps another play of this display';
  }
}
