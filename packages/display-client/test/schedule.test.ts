import { describe, expect, it } from 'vitest';
import { normalizePlaylist, type Playlist } from '../src/messages.ts';
import { compileSchedule, showingAt, slotAt } from '../src/schedule.js';
import { playlist, testUuid } from './support/fake-server.ts';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function make(overrides: Record<string, unknown> = {}): Playlist {
  return normalizePlaylist(playlist(1, { validFrom: iso(T0 - 3600_000), validUntil: iso(T0 + 3600_000), ...overrides })).playlist;
}

function entry(slot: number, id: string, from = T0 - 3600_000, until = T0 + 3600_000, durationMs = 10_000) {
  return { slot, kind: 'booking', bookingId: testUuid(`b-${id}`), creativeId: testUuid(`c-${id}`), type: 'image', mediaUrl: `http://x/${id}`, mediaSha256: Buffer.from(id).toString('hex').padEnd(64, '0'), durationMs, scripts: false, validFrom: iso(from), validUntil: iso(until) };
}
/** House or emergency content for a slot: no booking, no creative. */
function unbooked(kind: 'house' | 'emergency', slot: number, sha: string, durationMs = 10_000) {
  return { ...entry(slot, 'x', undefined, undefined, durationMs), kind, bookingId: null, creativeId: null, type: 'text', mediaSha256: sha.repeat(64) };
}

describe('the loop on the server clock (§6 loop.anchorAt)', () => {
  it('puts slot occurrence n = floor((t − anchorAt) / slotMs) at anchorAt + n·slotMs, slot n mod slotCount, the same for every display', () => {
    const s = compileSchedule(make({ loop: { lengthMs: 30_000, slotCount: 3, slotMs: 10_000, anchorAt: iso(T0 + 5_000) } }));
    expect(slotAt(s, T0 + 5_000)).toMatchObject({ occurrence: 0, slot: 0, startMs: T0 + 5_000 });
    expect(slotAt(s, T0 + 5_000 + 30_000 * 4 + 25_000)).toMatchObject({ occurrence: 14, slot: 2, startMs: T0 + 5_000 + 120_000 + 20_000 }); // the 15th slot since the anchor
    // Before the anchor the loop runs backwards in whole occurrences.
    expect(slotAt(s, T0 + 4_999)).toMatchObject({ occurrence: -1, slot: 2, startMs: T0 - 5_000 });
    // The server announces the Unix epoch.
    const epoch = compileSchedule(make({ loop: { lengthMs: 30_000, slotCount: 3, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' } }));
    expect(slotAt(epoch, T0 + 12_345).slot).toBe(Math.floor(((T0 + 12_345) % 30_000) / 10_000));
  });

  it('shows an entry for its durationMs, then nothing (the display\'s filler); house entries continue across slots; nothing after validUntil', () => {
    const loop = { lengthMs: 20_000, slotCount: 2, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' };
    const p = make({ loop, entries: [entry(0, 'a', undefined, undefined, 4_000)] });
    const s = compileSchedule(p);
    const a = showingAt(s, T0 + 1_000);
    expect(a).toMatchObject({ kind: 'booking', slot: 0, slotStartMs: T0, untilMs: T0 + 4_000 });
    expect(a.entry!.bookingId).toBe(testUuid('b-a'));
    expect(showingAt(s, T0 + 3_999).key).toBe(a.key); // one uninterrupted showing
    expect(showingAt(s, T0 + 20_000 + 1).key).not.toBe(a.key); // the next occurrence is a new showing
    expect(showingAt(s, T0 + 5_000)).toMatchObject({ kind: 'idle', untilMs: T0 + 10_000 });
    const withHouse = compileSchedule(make({ loop, entries: [unbooked('house', 0, 'f'), unbooked('house', 1, 'f')] }));
    expect(showingAt(withHouse, T0 + 5_000)).toMatchObject({ kind: 'house', key: `house:${'f'.repeat(64)}`, entry: { bookingId: null } });
    expect(showingAt(withHouse, T0 + 15_000).key).toBe(showingAt(withHouse, T0 + 5_000).key); // the same house media continue across slots
    expect(showingAt(s, T0 + 3600_000)).toMatchObject({ kind: 'idle', untilMs: Infinity });
  });

  it('honours entry windows within a slot and lets an emergency replace everything', () => {
    const loop = { lengthMs: 20_000, slotCount: 2, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' };
    const bookings = [entry(1, 'early', T0, T0 + 15_000), entry(1, 'late', T0 + 15_000, T0 + 3600_000)];
    const s = compileSchedule(make({ loop, entries: bookings }));
    expect(showingAt(s, T0 + 12_000)).toMatchObject({ kind: 'booking', untilMs: T0 + 15_000 });
    expect(showingAt(s, T0 + 12_000).entry!.bookingId).toBe(testUuid('b-early'));
    expect(showingAt(s, T0 + 16_000).entry!.bookingId).toBe(testUuid('b-late'));
    // Should entries ever overlap in a slot, an emergency wins over a booking.
    const e = compileSchedule(make({ loop, entries: [...bookings, unbooked('emergency', 0, 'e'), unbooked('emergency', 1, 'e')] }));
    expect(showingAt(e, T0 + 12_000)).toMatchObject({ kind: 'emergency', entry: { kind: 'emergency', bookingId: null } });
  });
});
