import type { Queryable } from '@marquee/service-kit';
import type { BookingWarning } from './schemas.ts';

/**
 * What a booking's answer warns of (it is still made): a creative longer than the slot it plays
 * in is cut at the slot's end on those displays (docs/display-protocol.md §6, `durationMs`).
 */
export async function creativeLengthWarnings(sql: Queryable, creativeId: string, displayIds: readonly string[]): Promise<BookingWarning[]> {
  if (displayIds.length === 0) return [];
  const rows = await sql<{ id: string; slot_ms: number; duration_ms: number }[]>`
    select d.id, d.loop_length_ms / d.slot_count as slot_ms, c.duration_ms
    from displays d, creatives c
    where c.id = ${creativeId} and d.id = any(${[...displayIds]}::uuid[]) and c.duration_ms > d.loop_length_ms / d.slot_count
    order by d.id`;
  if (rows.length === 0) return [];
  const slots = [...new Set(rows.map((r) => r.slot_ms))].sort((a, b) => a - b);
  return [
    {
      code: 'creative_longer_than_slot',
      detail:
        `The creative lasts ${rows[0]!.duration_ms} ms but a slot lasts ${slots.join(' or ')} ms on ${rows.length} of the booked displays: ` +
        'it is cut at the end of its slot there.',
      displayIds: rows.map((r) => r.id),
    },
  ];
}
