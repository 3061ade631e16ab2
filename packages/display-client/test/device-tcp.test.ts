/** The client against the real device-tcp server (in-memory stand-in for api-v2 behind it). */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, until, type Harness } from '../../../services/device-tcp/test/support/harness.ts';
import { bookingIdOf, creativeIdOf } from '../../../services/device-tcp/test/support/memory-directory.ts';
import { DisplayClient, type DisplayClientOptions } from '../src/client.ts';
import type { Playlist } from '../src/messages.ts';

let h: Harness;
const clients: DisplayClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  await h?.close();
});

function client(opts: Partial<DisplayClientOptions> = {}) {
  const c = new DisplayClient({ host: '127.0.0.1', port: h.server.port, displayId: 'd-1', secret: 's-1', reconnect: false, batchEveryMs: 20, ...opts });
  clients.push(c);
  return c;
}

/** Command ids are UUIDs, as api-v2 issues them. */
const QUEUED = '00000000-0000-4000-8000-00000000c0de';
const SHOT = '00000000-0000-4000-8000-000000005407';

describe('display client ↔ device-tcp', () => {
  it('authenticates, applies and acks pushed playlists, and has its plays recorded or rejected', async () => {
    h = await startHarness({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 1_000 });
    h.directory.addDisplay('d-1', 's-1');
    h.directory.setPlaylist('d-1', 1, 2);
    h.directory.rejectBookings.add(bookingIdOf(1));
    const applied: Playlist[] = [];
    const c = client({ applyPlaylist: (p) => void applied.push(p) });
    await c.start();
    await until(() => c.state === 'online' && c.playlistVersion === 1);
    expect(applied[0]!.entries.map((e) => e.creativeId)).toEqual([creativeIdOf(0, 1), creativeIdOf(1, 1)]);
    // The server learns the version from the ack (then heartbeats): nobody is behind.
    await until(async () => (await h.metrics.registry.getSingleMetricAsString('device_tcp_displays_behind')).endsWith(' 0'));

    h.directory.setPlaylist('d-1', 2, 2);
    await h.bus.publish('playlist.changed', { displayId: 'd-1', version: 2 });
    await until(() => c.playlistVersion === 2);

    const ok = await c.recordPlay({ bookingId: bookingIdOf(0), creativeId: creativeIdOf(0, 2), startedAt: new Date().toISOString(), durationMs: 10_000 });
    const refused = await c.recordPlay({ bookingId: bookingIdOf(1), creativeId: creativeIdOf(1, 2), startedAt: new Date().toISOString(), durationMs: 10_000 });
    const rejected: string[] = [];
    c.on('playsAck', (o) => rejected.push(...o.rejected.map((r) => `${r.playId}:${r.code}`)));
    await until(() => c.unackedPlays === 0);
    expect(h.directory.plays.has(ok.playId)).toBe(true);
    expect(h.directory.plays.has(refused.playId)).toBe(false);
    expect(rejected).toEqual([`${refused.playId}:unknown_booking`]);
    // The server's clock was sampled (welcome, heartbeat_ack); both run on this machine.
    await until(() => c.clock.uncertaintyMs < 1_000);
    expect(Math.abs(c.clock.offsetMs)).toBeLessThan(1_000);
  });

  it('answers commands once, including one queued while it was offline', async () => {
    h = await startHarness();
    h.directory.addDisplay('d-1', 's-1');
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    h.directory.pending.set('d-1', [{ commandId: QUEUED, displayId: 'd-1', kind: 'reload', args: {}, expiresAt }]);
    let reloads = 0;
    const c = client({ onCommand: (cmd) => (cmd.kind === 'reload' ? (reloads++, { ok: true }) : undefined) });
    await c.start();
    await until(() => h.directory.results.find((r) => r.commandId === QUEUED));
    await h.bus.publish('display.command', { commandId: SHOT, displayId: 'd-1', kind: 'screenshot', args: {}, expiresAt });
    await until(() => h.directory.results.find((r) => r.commandId === SHOT));
    expect(h.directory.results.map((r) => [r.commandId, r.ok, r.error ?? null])).toEqual([
      [QUEUED, true, null],
      [SHOT, false, 'unsupported_command'],
    ]);
    expect(reloads).toBe(1);
  });

  it('is told it was replaced when the same credentials connect again, and backs off for a minute', async () => {
    h = await startHarness();
    h.directory.addDisplay('d-1', 's-1');
    const first = client({ reconnect: true });
    await first.start();
    await until(() => first.state === 'online');
    const second = client();
    await second.start();
    await until(() => first.stats.errors.replaced === 1 && first.state === 'waiting');
    await new Promise((r) => setTimeout(r, 200));
    expect(first.stats.connects).toBe(1);
    expect(second.state).toBe('online');
  });
});
