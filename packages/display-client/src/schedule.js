/**
 * What a display shows at an instant of the server's clock (docs/display-protocol.md §6). Plain
 * JavaScript so that the kiosk page runs this very file in the browser and Node code imports it
 * too (types in schedule.d.ts): one definition of the loop's time origin for every player.
 *
 * Slot occurrence n = floor((t − anchorAt) / slotMs) starts at anchorAt + n·slotMs and is slot
 * n mod slotCount. In it the display shows the entry for that slot whose validity window contains
 * the instant, for the entry's durationMs; nothing covers the rest (the display's own filler).
 */

/** If entries ever overlap in one slot, an emergency wins over a booking, a booking over house content. */
const RANK = { emergency: 0, booking: 1, house: 2 };

/**
 * Precomputes a playlist for fast lookups (numbers instead of timestamps, entries by slot).
 * @param {import('./schedule.js').SchedulablePlaylist} playlist
 * @returns {import('./schedule.js').Schedule}
 */
export function compileSchedule(playlist) {
  const { lengthMs, slotCount, slotMs } = playlist.loop;
  /** @type {import('./schedule.js').ScheduledEntry[][]} */
  const bySlot = Array.from({ length: slotCount }, () => []);
  for (const entry of playlist.entries) {
    bySlot[entry.slot]?.push({ entry, fromMs: Date.parse(entry.validFrom), untilMs: Date.parse(entry.validUntil) });
  }
  for (const list of bySlot) list.sort((a, b) => a.fromMs - b.fromMs);
  return {
    playlist,
    anchorMs: Date.parse(playlist.loop.anchorAt),
    lengthMs,
    slotMs,
    slotCount,
    validFromMs: Date.parse(playlist.validFrom),
    validUntilMs: Date.parse(playlist.validUntil),
    bySlot,
  };
}

/**
 * The slot at server time t.
 * @param {import('./schedule.js').Schedule} s
 * @param {number} t server time, epoch ms
 */
export function slotAt(s, t) {
  const occurrence = Math.floor((t - s.anchorMs) / s.slotMs);
  const slot = ((occurrence % s.slotCount) + s.slotCount) % s.slotCount;
  const startMs = s.anchorMs + occurrence * s.slotMs;
  return { occurrence, slot, startMs, endMs: startMs + s.slotMs };
}

/**
 * What is on screen at server time t, and until when that answer holds.
 * `key` names one showing: the same key at two instants is the same, uninterrupted showing (a
 * booking's showing is one slot occurrence; house or emergency media continue across slots).
 * @param {import('./schedule.js').Schedule} s
 * @param {number} t
 * @returns {import('./schedule.js').Showing}
 */
export function showingAt(s, t) {
  if (t >= s.validUntilMs) return { kind: 'idle', key: 'idle', entry: null, slot: -1, slotStartMs: t, untilMs: Infinity };
  const { slot, startMs, endMs } = slotAt(s, t);
  let until = Math.min(endMs, s.validUntilMs);
  /** @type {import('./schedule.js').ScheduledEntry | null} */
  let best = null;
  for (const c of s.bySlot[slot] ?? []) {
    if (c.fromMs <= t && t < c.untilMs && t < startMs + c.entry.durationMs) {
      if (!best || RANK[c.entry.kind] < RANK[best.entry.kind]) best = c;
    } else if (c.fromMs > t) {
      // An entry starting later in this slot ends what is shown now.
      until = Math.min(until, c.fromMs);
    }
  }
  if (!best) return { kind: 'idle', key: 'idle', entry: null, slot, slotStartMs: startMs, untilMs: until };
  const e = best.entry;
  const key = e.kind === 'booking' ? `booking:${startMs}:${slot}:${e.bookingId}:${e.creativeId}:${e.mediaSha256}` : `${e.kind}:${e.mediaSha256}`;
  return { kind: e.kind, key, entry: e, slot, slotStartMs: startMs, untilMs: Math.min(until, startMs + e.durationMs, best.untilMs) };
}
