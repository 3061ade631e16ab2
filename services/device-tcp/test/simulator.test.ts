/** The simulator (written from docs/display-protocol.md alone) against the real server. */
import { afterEach, describe, expect, it } from 'vitest';
import { SimDisplay } from '../../../tools/display-sim/display.ts';
import { startHarness, until, type Harness } from './support/harness.ts';
import { bookingIdOf, creativeIdOf } from './support/memory-directory.ts';

let h: Harness;
const SHOT = '00000000-0000-4000-8000-00000000c0de';
const sims: SimDisplay[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) s.stop();
  await h?.close();
});
function sim(opts: Partial<ConstructorParameters<typeof SimDisplay>[0]> & { displayId: string; secret: string }) {
  const s = new SimDisplay({ host: '127.0.0.1', port: h.server.port, reconnect: false, ...opts });
  sims.push(s);
  return s;
}

describe('display simulator', () => {
  it('shows its playlist, reports plays that get recorded, follows changes and answers commands', async () => {
    h = await startHarness({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_000 });
    h.directory.addDisplay('d-1', 's-1');
    h.directory.setPlaylist('d-1', 1, 3);
    const lines: string[] = [];
    const d = sim({ displayId: 'd-1', secret: 's-1', plays: true, speed: 100, batchEveryMs: 50, log: (l) => lines.push(l) });
    await d.start();
    await until(() => h.directory.plays.size >= 4);
    expect([...h.directory.plays.values()].map((p) => p.bookingId)).toEqual(expect.arrayContaining([0, 1, 2].map(bookingIdOf)));
    expect(lines.some((l) => l.startsWith('▶') && l.includes(creativeIdOf(1, 1).slice(0, 8)))).toBe(true);

    h.directory.setPlaylist('d-1', 2, 3);
    await h.bus.publish('playlist.changed', { displayId: 'd-1', version: 2 });
    await until(() => [...h.directory.plays.values()].some((p) => [0, 1, 2].some((slot) => p.creativeId === creativeIdOf(slot, 2))));
    expect(d.playlistVersion).toBe(2);
    await until(async () => (await h.metrics.registry.getSingleMetricAsString('device_tcp_displays_behind')).endsWith(' 0'));

    await h.bus.publish('display.command', { commandId: SHOT, displayId: 'd-1', kind: 'screenshot', args: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await until(() => h.directory.results.find((r) => r.commandId === SHOT));
    expect(h.directory.results[0]).toMatchObject({ ok: true, result: { mimeType: 'image/png' } });
    // Every ack the display received stands for a recorded play (never more).
    expect(d.stats.playsAcked).toBeGreaterThanOrEqual(4);
    expect(d.stats.playsAcked).toBeLessThanOrEqual(h.directory.plays.size);
  });

  it('backs off after a refused hello instead of hammering the server', async () => {
    h = await startHarness();
    h.directory.addDisplay('d-1', 's-1');
    const d = sim({ displayId: 'd-1', secret: 'rotated', reconnect: true });
    await d.start();
    await until(() => d.stats.errors.auth_failed === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(d.stats.connects).toBe(1);
    expect(d.state).toBe('waiting');
  });

  it('connects a small swarm spread over several loopback source addresses', async () => {
    h = await startHarness({ maxConnectionsPerAddress: 10 });
    for (let n = 1; n <= 30; n++) {
      h.directory.addDisplay(`sim-${n}`, `secret-${n}`);
      h.directory.setPlaylist(`sim-${n}`, 1);
    }
    const swarm = Array.from({ length: 30 }, (_, i) =>
      sim({ displayId: `sim-${i + 1}`, secret: `secret-${i + 1}`, localAddress: `127.0.0.${1 + Math.floor(i / 10)}` }),
    );
    await Promise.all(swarm.map((s) => s.start()));
    await until(() => swarm.every((s) => s.state === 'online' && s.playlistVersion === 1));
    expect(h.server.sessionCount).toBe(30);
  });
});
