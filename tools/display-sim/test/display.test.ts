/** The simulator follows the loop's time origin on the server's clock (protocol §6 loop.anchorAt, welcome.serverTime). */
import { afterEach, describe, expect, it } from 'vitest';
import { compileSchedule, normalizePlaylist, slotAt } from '@marquee/display-client';
import { FakeServer, testUuid, until } from '../../../packages/display-client/test/support/fake-server.ts';
import { SimDisplay } from '../display.ts';

let server: FakeServer;
const sims: SimDisplay[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) s.stop();
  await server?.close();
});

const SKEW = 7_300; // the server's clock runs 7.3 s ahead of this machine's
const SLOT_MS = 1_000;

function loopPlaylist(version: number, creativeSuffix = '') {
  const now = Date.now();
  return {
    displayId: 'd',
    version,
    generatedAt: new Date(now).toISOString(),
    validFrom: new Date(now - 3600_000).toISOString(),
    validUntil: new Date(now + 3600_000).toISOString(),
    loop: { lengthMs: 4 * SLOT_MS, slotCount: 4, slotMs: SLOT_MS, anchorAt: '2024-01-01T00:00:00.250Z' },
    entries: [0, 1, 2, 3].map((slot) => ({
      slot,
      kind: 'booking',
      bookingId: testUuid(`b-${slot}`),
      creativeId: testUuid(`c-${slot}${creativeSuffix}`),
      type: 'image',
      mediaUrl: 'http://127.0.0.1/m',
      mediaSha256: String(slot).repeat(64),
      durationMs: SLOT_MS,
      scripts: false,
      validFrom: new Date(now - 3600_000).toISOString(),
      validUntil: new Date(now + 3600_000).toISOString(),
    })),
  };
}

async function connectSim(name: string) {
  const sim = new SimDisplay({ host: '127.0.0.1', port: server.port, displayId: name, secret: 's', plays: true, reconnect: false, batchEveryMs: 100 });
  sims.push(sim);
  await sim.start();
  const conn = await server.connection(sims.length - 1);
  await conn.next('hello');
  conn.send({ type: 'welcome', protocol: 1, displayId: name, sessionId: name, serverTime: new Date(Date.now() + SKEW).toISOString(), heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 150_000, maxFrameBytes: 262_144, maxPlaysPerBatch: 500 });
  conn.send({ type: 'playlist', playlist: loopPlaylist(1) });
  await conn.next('playlist_ack');
  return { sim, conn };
}

/** Waits until the server clock is in the middle of a slot, away from any boundary. */
async function midSlot(): Promise<void> {
  for (;;) {
    const into = (Date.now() + SKEW - Date.parse('2024-01-01T00:00:00.250Z')) % SLOT_MS;
    if (into > 300 && into < 700) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('simulated display on the loop', () => {
  it('shows the slot of the server clock, the same on two displays, and keeps its place across a new playlist', async () => {
    server = await FakeServer.start();
    const a = await connectSim('a');
    const b = await connectSim('b');
    const schedule = compileSchedule(normalizePlaylist(loopPlaylist(1)).playlist);
    for (let i = 0; i < 3; i++) {
      await midSlot();
      const expected = slotAt(schedule, Date.now() + SKEW).slot; // the server's clock, not ours
      await until('both sims on the slot', () => a.sim.showing?.slot === expected && b.sim.showing?.slot === expected);
      expect(a.sim.showing!.key).toBe(b.sim.showing!.key);
      await new Promise((r) => setTimeout(r, 500));
    }

    // A new playlist in the middle of slot s: the loop stays at s (no restart at slot 0) and a
    // showing whose content did not change goes on uninterrupted.
    await midSlot();
    const before = a.sim.showing!;
    a.conn.send({ type: 'playlist', playlist: loopPlaylist(2) });
    await a.conn.next('playlist_ack', 1);
    expect(a.sim.playlistVersion).toBe(2);
    expect(a.sim.showing!.key).toBe(before.key);
    // A playlist that swaps the creative switches at once, still in the same slot.
    a.conn.send({ type: 'playlist', playlist: loopPlaylist(3, '-new') });
    await a.conn.next('playlist_ack', 2);
    expect(a.sim.showing!.slot).toBe(before.slot);
    expect(a.sim.showing!.entry!.creativeId).toBe(testUuid(`c-${before.slot}-new`));
  });

  it('reports one play per showing with the start and length it had on the server clock', async () => {
    server = await FakeServer.start();
    const { sim, conn } = await connectSim('p');
    const plays: { startedAt: string; durationMs: number; bookingId: string }[] = [];
    for (let i = 0; plays.length < 3; i++) {
      const batch = await conn.next('plays', i, 10_000);
      plays.push(...batch.plays);
      conn.send({ type: 'plays_ack', batchId: batch.batchId, accepted: batch.plays.map((p: { playId: string }) => p.playId), rejected: [] });
    }
    const [first, ...rest] = plays;
    // The first showing began when the display joined (partial); the others are whole slots on slot boundaries.
    expect(first!.durationMs).toBeLessThanOrEqual(SLOT_MS);
    for (const p of rest) {
      expect(p.durationMs).toBe(SLOT_MS);
      expect((Date.parse(p.startedAt) - Date.parse('2024-01-01T00:00:00.250Z')) % SLOT_MS).toBe(0);
      // Stamped with server time: 7.3 s ahead of this machine.
      expect(Date.parse(p.startedAt)).toBeGreaterThan(Date.now() + SKEW - 60_000);
    }
    sim.stopPlaying();
  });

  it('a creative swap mid-slot: the showing it cut short is that occurrence\'s one play; the next occurrence plays the new creative', async () => {
    server = await FakeServer.start();
    const { sim, conn } = await connectSim('s');
    await midSlot();
    const cut = sim.showing!;
    conn.send({ type: 'playlist', playlist: loopPlaylist(2, '-new') });
    await conn.next('playlist_ack', 1);
    expect(sim.showing!.entry!.creativeId).toBe(testUuid(`c-${cut.slot}-new`));
    const plays: { startedAt: string; durationMs: number; bookingId: string; creativeId: string }[] = [];
    const later = cut.slotStartMs + 4 * SLOT_MS; // the booking's next occurrence (4-slot loop)
    for (let i = 0; !plays.some((p) => p.bookingId === cut.entry!.bookingId && Date.parse(p.startedAt) >= later); i++) {
      const batch = await conn.next('plays', i, 10_000);
      plays.push(...batch.plays);
      conn.send({ type: 'plays_ack', batchId: batch.batchId, accepted: batch.plays.map((p: { playId: string }) => p.playId), rejected: [] });
    }
    const ofBooking = plays.filter((p) => p.bookingId === cut.entry!.bookingId);
    const inCutOccurrence = ofBooking.filter((p) => Date.parse(p.startedAt) >= cut.slotStartMs && Date.parse(p.startedAt) < cut.slotStartMs + SLOT_MS);
    expect(inCutOccurrence).toHaveLength(1);
    expect(inCutOccurrence[0]!.creativeId).toBe(testUuid(`c-${cut.slot}`));
    expect(inCutOccurrence[0]!.durationMs).toBeLessThan(SLOT_MS);
    expect(ofBooking.find((p) => Date.parse(p.startedAt) === later)).toMatchObject({ creativeId: testUuid(`c-${cut.slot}-new`), durationMs: SLOT_MS });
  });
});
