/**
 * What a display shows at an instant of the server's clock (protocol §6, spec D.3/D.4). Plain
 * JavaScript so that the kiosk page runs this very file in the browser and Node code imports it
 * too (types in schedule.d.ts): one definition of the loop's time origin for every player.
 *
 * Slot s of loop occurrence n starts at anchorAt + n·lengthMs + s·slotMs (server clock). In that
 * slot the display shows the entry for s whose validity window contains the instant, for the
 * entry's durationMs; house content fills what no entry covers; an emergency replaces everything.
 */

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
    anchorMs: Date.parse(playlist.loop.anchorAt ?? '1970-01-01T00:00:00.000Z'),
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
  const sinceAnchor = t - s.anchorMs;
  const occurrence = Math.floor(sinceAnchor / s.lengthMs);
  const intoLoop = sinceAnchor - occurrence * s.lengthMs;
  const slot = Math.floor(intoLoop / s.slotMs);
  const startMs = s.anchorMs + occurrence * s.lengthMs + slot * s.slotMs;
  return { occurrence, slot, startMs, endMs: startMs + s.slotMs };
}

/**
 * What is on screen at server time t, and until when that answer holds.
 * `key` names one showing: the same key at two instants is the same, uninterrupted showing.
 * @param {import('./schedule.js').Schedule} s
 * @param {number} t
 * @returns {import('./schedule.js').Showing}
 */
export function showingAt(s, t) {
  if (t >= s.validUntilMs) return { kind: 'idle', key: 'idle', media: null, entry: null, slot: -1, slotStartMs: t, untilMs: Infinity };
  const { slot, startMs, endMs } = slotAt(s, t);
  const p = s.playlist;
  if (p.emergency) {
    return { kind: 'emergency', key: `emergency:${p.emergency.mediaSha256}`, media: p.emergency, entry: null, slot, slotStartMs: startMs, untilMs: s.validUntilMs };
  }
  let until = Math.min(endMs, s.validUntilMs);
  for (const c of s.bySlot[slot] ?? []) {
    if (c.fromMs <= t && t < c.untilMs) {
      const cutMs = startMs + c.entry.durationMs;
      if (t < cutMs) {
        return {
          kind: 'booked',
          key: `booked:${startMs}:${slot}:${c.entry.bookingId}:${c.entry.creativeId}:${c.entry.mediaSha256}`,
          media: c.entry,
          entry: c.entry,
          slot,
          slotStartMs: startMs,
          untilMs: Math.min(until, cutMs, c.untilMs),
        };
      }
    }
    // An entry starting later in this slot ends what is shown now.
    if (c.fromMs > t) until = Math.min(until, c.fromMs);
    else if (c.untilMs > t) until = Math.min(until, c.untilMs);
  }
  if (p.house) return { kind: 'house', key: `house:${p.house.mediaSha256}`, media: p.house, entry: null, slot, slotStartMs: startMs, untilMs: until };
  return { kind: 'idle', key: 'idle', media: null, entry: null, slot, slotStartMs: startMs, untilMs: until };
}
