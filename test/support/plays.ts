/**
 * Slot arithmetic of docs/display-protocol.md ("What counts as a play"), for tests that make up
 * plays: occurrence k of a display's slots is [k × slotMs, (k + 1) × slotMs) from the Unix epoch
 * and is slot k mod slotCount of the loop.
 */
export interface Loop {
  lengthMs: number;
  slotCount: number;
}

/** Start instants (epoch ms) of `count` consecutive occurrences of `slot`, the first starting at or after `fromMs`. */
export function slotStarts(loop: Loop, slot: number, fromMs: number, count: number): number[] {
  const slotMs = loop.lengthMs / loop.slotCount;
  let k = Math.ceil(fromMs / slotMs);
  k += (((slot - k) % loop.slotCount) + loop.slotCount) % loop.slotCount;
  return Array.from({ length: count }, (_, i) => Math.round((k + i * loop.slotCount) * slotMs));
}
