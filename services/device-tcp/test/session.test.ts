import { randomUUID } from 'node:crypto';
import { createMemoryBus } from '@marquee/service-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDirectory, bookingIdOf, creativeIdOf } from './support/memory-directory.ts';
import { sleep, startHarness, until, type Harness } from './support/harness.ts';

const open: Harness[] = [];
async function harness(...args: Parameters<typeof startHarness>) {
  const h = await startHarness(...args);
  open.push(h);
  h.directory.addDisplay('d-1', 's-1');
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function metric(h: Harness, name: string): Promise<string> {
  const text = await h.metrics.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('playlist sync', () => {
  it('pushes every change published on the bus and tracks acks', async () => {
    const h = await harness();
    h.directory.setPlaylist('d-1', 1);
    const c = await h.connect();
    await c.hello('d-1', 's-1', 1);
    for (const v of [2, 3]) {
      h.directory.setPlaylist('d-1', v);
      await h.bus.publish('playlist.changed', { displayId: 'd-1', version: v, publishedAt: Date.now() });
      expect((await c.next('playlist')).playlist).toMatchObject({ version: v });
      expect(await metric(h, 'device_tcp_displays_behind')).toContain('device_tcp_displays_behind{service="device-tcp"} 1');
      c.send({ type: 'playlist_ack', version: v });
      await until(async () => (await metric(h, 'device_tcp_displays_behind')).endsWith(' 0'));
    }
    expect(await metric(h, 'device_tcp_push_latency_seconds_count')).toContain(' 2');
  });

  it('pushes playlists carried in a batch message without asking api-v2, and fetches for bare notices in it', async () => {
    const h = await harness();
    h.directory.addDisplay('d-2', 's-2');
    h.directory.setPlaylist('d-1', 1);
    h.directory.setPlaylist('d-2', 1);
    const [c1, c2] = [await h.connect(), await h.connect()];
    await c1.hello('d-1', 's-1', 1);
    await c2.hello('d-2', 's-2', 1);
    const fetchesBefore = h.directory.calls.getPlaylist;
    const entry = { slot: 0, bookingId: bookingIdOf(1), creativeId: creativeIdOf(1, 1), kind: 'booking' as const, type: 'text' as const, mediaSha256: 'b'.repeat(64), mediaUrl: 'http://127.0.0.1/media/hi', durationMs: 5000, scripts: false, validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2026-01-02T00:00:00.000Z' };
    const window = { generatedAt: '2026-01-01T00:00:00.000Z', validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2026-01-03T00:00:00.000Z' };
    const loop = { lengthMs: 60000, slotCount: 6, slotMs: 10000, anchorAt: '1970-01-01T00:00:00.000Z' as const };
    h.directory.setPlaylist('d-2', 3);
    await h.bus.publish('playlist.changed', {
      publishedAt: Date.now(),
      window,
      entrySets: [[entry]],
      changes: [
        { displayId: 'd-1', version: 2, loop, entrySet: 0 },
        { displayId: 'not-here', version: 9, loop, entrySet: 0 },
        { displayId: 'd-2', version: 3 }, // bare notice: fetched
      ],
    });
    expect((await c1.next('playlist')).playlist).toEqual({ displayId: 'd-1', version: 2, ...window, loop, entries: [entry] });
    expect((await c2.next('playlist')).playlist).toMatchObject({ displayId: 'd-2', version: 3 });
    expect(h.directory.calls.getPlaylist - fetchesBefore).toBe(1);
    // The same version again (a duplicate message) is not re-sent; an entry set index out of range is a notice.
    await h.bus.publish('playlist.changed', { publishedAt: Date.now(), window, entrySets: [[entry]], changes: [{ displayId: 'd-1', version: 2, loop, entrySet: 0 }] });
    await h.bus.publish('playlist.changed', { publishedAt: Date.now(), window, entrySets: [], changes: [{ displayId: 'd-1', version: 2, loop, entrySet: 5 }] });
    await sleep(100);
    expect(c1.frames.filter((f) => f.type === 'playlist')).toEqual([]);
    // A message off its schema (here NaN, null once serialised) is dropped whole and counted; the next is handled.
    const fetched = h.directory.setPlaylist('d-1', 6);
    await h.bus.publish('playlist.changed', { publishedAt: Date.now(), window, entrySets: [[entry]], changes: [{ displayId: 'd-1', version: 6, loop: { ...loop, slotMs: NaN }, entrySet: 0 }] });
    await until(async () => (await h.metrics.registry.getSingleMetric('bus_messages_rejected_total')?.get())?.values.some((v) => v.labels.topic === 'playlist.changed' && v.value === 1));
    await h.bus.publish('playlist.changed', { publishedAt: Date.now(), changes: [{ displayId: 'd-1', version: 6 }] });
    expect((await c1.next('playlist')).playlist).toEqual(fetched);
  });

  it('ignores bus messages for other displays and for versions already applied', async () => {
    const h = await harness();
    h.directory.setPlaylist('d-1', 5);
    const c = await h.connect();
    await c.hello('d-1', 's-1', 5);
    await h.bus.publish('playlist.changed', { displayId: 'd-1', version: 4 });
    await h.bus.publish('playlist.changed', { displayId: 'other', version: 9 });
    await h.bus.publish('playlist.changed', { garbage: true } as never); // off its schema: dropped
    await sleep(100);
    expect(c.frames.filter((f) => f.type === 'playlist')).toEqual([]);
    expect(h.directory.calls.getPlaylist).toBe(0);
  });

  it('heals a missed bus message by re-checking versions with api-v2', async () => {
    const h = await harness({ versionRecheckMs: 150 });
    h.directory.setPlaylist('d-1', 1);
    const c = await h.connect();
    await c.hello('d-1', 's-1', 1);
    h.directory.setPlaylist('d-1', 2); // changed, but the bus message is lost
    expect((await c.next('playlist', 3_000)).playlist).toMatchObject({ version: 2 });
    expect(h.directory.calls.getPlaylistVersions).toBeGreaterThan(0);
  });

  it('re-sends the playlist when heartbeats show the display still behind (after repushAfterMs)', async () => {
    const h = await harness({ repushAfterMs: 100 });
    h.directory.setPlaylist('d-1', 2);
    const c = await h.connect();
    await c.hello('d-1', 's-1', 1);
    await c.next('playlist');
    c.send({ type: 'heartbeat', playlistVersion: 1 }); // too soon: no repeat
    await c.next('heartbeat_ack');
    expect(c.frames.some((f) => f.type === 'playlist')).toBe(false);
    await sleep(150);
    c.send({ type: 'heartbeat', playlistVersion: 1 });
    expect((await c.next('playlist')).playlist).toMatchObject({ version: 2 });
    c.send({ type: 'heartbeat', playlistVersion: 2 });
    await c.next('heartbeat_ack');
    await sleep(150);
    c.send({ type: 'heartbeat', playlistVersion: 2 });
    await c.next('heartbeat_ack');
    expect(c.frames.some((f) => f.type === 'playlist')).toBe(false);
  });

  it('sends the current playlist to a display ahead of the server too: at hello and when a heartbeat reports it', async () => {
    const h = await harness({ repushAfterMs: 100 });
    h.directory.setPlaylist('d-1', 3);
    // hello ahead (a restored database, a reused credential): the current playlist comes along.
    const c = await h.connect();
    await c.hello('d-1', 's-1', 9);
    expect((await c.next('playlist')).playlist).toMatchObject({ version: 3 });
    c.send({ type: 'playlist_ack', version: 3 });
    c.send({ type: 'heartbeat', playlistVersion: 3 });
    await c.next('heartbeat_ack');
    // In step: nothing more. Then a heartbeat reports a version the server never had.
    await sleep(150);
    c.send({ type: 'heartbeat', playlistVersion: 3 });
    await c.next('heartbeat_ack');
    expect(c.frames.filter((f) => f.type === 'playlist')).toEqual([]);
    c.send({ type: 'heartbeat', playlistVersion: 7 });
    expect((await c.next('playlist')).playlist).toMatchObject({ version: 3 });
    // A bus message older than the newest known is not pushed, even to a display ahead of it.
    await h.bus.publish('playlist.changed', { displayId: 'd-1', version: 2 });
    c.send({ type: 'heartbeat', playlistVersion: 3 });
    await c.next('heartbeat_ack');
    await sleep(100);
    expect(c.frames.filter((f) => f.type === 'playlist')).toEqual([]);
  });
});

describe('proof of play', () => {
  const play = (over: Record<string, unknown> = {}) => ({
    playId: randomUUID(),
    bookingId: bookingIdOf(0),
    creativeId: creativeIdOf(0, 1),
    startedAt: new Date().toISOString(),
    durationMs: 10_000,
    ...over,
  });

  it('acks only plays that api-v2 committed, and reports invalid and refused ones as rejected', async () => {
    const h = await harness();
    h.directory.rejectBookings.add(bookingIdOf(99));
    const c = await h.connect();
    await c.hello('d-1', 's-1');
    const good = [play(), play()];
    const invalid = play({ durationMs: -5 });
    const refused = play({ bookingId: bookingIdOf(99) });
    // Ids that are not UUIDs would be refused by api-v2's play contract: refused here already.
    const notUuid = play({ bookingId: 'b-0' });
    c.send({ type: 'plays', batchId: 'batch-1', plays: [...good, invalid, refused, notUuid, { nonsense: true }] });
    const ack = await c.next('plays_ack');
    expect(ack.batchId).toBe('batch-1');
    expect(new Set(ack.accepted as string[])).toEqual(new Set(good.map((p) => p.playId)));
    expect(ack.rejected).toEqual(
      expect.arrayContaining([
        { playId: invalid.playId, code: 'malformed', detail: expect.stringContaining('durationMs') },
        { playId: refused.playId, code: 'unknown_booking', detail: expect.any(String) },
        { playId: notUuid.playId, code: 'malformed', detail: expect.stringContaining('bookingId') },
      ]),
    );
    expect(ack.retryAfterMs).toBeUndefined();
    expect([...h.directory.plays.keys()].sort()).toEqual(good.map((p) => p.playId).sort());
  });

  it('acks nothing and asks for a retry when api-v2 is down; a resend is idempotent', async () => {
    const h = await harness();
    const c = await h.connect();
    await c.hello('d-1', 's-1');
    const plays = [play(), play()];
    h.directory.down = true;
    c.send({ type: 'plays', batchId: 'b1', plays });
    const ack = await c.next('plays_ack');
    expect(ack).toMatchObject({ accepted: [], rejected: [] });
    expect(ack.retryAfterMs).toBeGreaterThan(0);
    h.directory.down = false;
    c.send({ type: 'plays', batchId: 'b2', plays });
    c.send({ type: 'plays', batchId: 'b3', plays });
    expect((await c.next('plays_ack')).accepted).toHaveLength(2);
    expect((await c.next('plays_ack')).accepted).toHaveLength(2);
    expect(h.directory.plays.size).toBe(2);
  });

  it('rejects an over-long batch as an invalid message without closing', async () => {
    const h = await harness({ maxPlaysPerBatch: 3 });
    const c = await h.connect();
    await c.hello('d-1', 's-1');
    c.send({ type: 'plays', batchId: 'big', plays: [play(), play(), play(), play()] });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message', fatal: false, ref: 'plays' });
    c.send({ type: 'heartbeat', playlistVersion: 0 });
    await c.next('heartbeat_ack');
  });
});

describe('commands', () => {
  const future = () => new Date(Date.now() + 60_000).toISOString();

  it('delivers pending commands on connect and live ones from the bus; records results', async () => {
    const h = await harness();
    const live = randomUUID();
    h.directory.pending.set('d-1', [
      { commandId: 'cmd-1', displayId: 'd-1', kind: 'reload', args: {}, expiresAt: future() },
      { commandId: 'cmd-old', displayId: 'd-1', kind: 'reload', args: {}, expiresAt: new Date(Date.now() - 1000).toISOString() },
    ]);
    const c = await h.connect();
    await c.hello('d-1', 's-1');
    expect(await c.next('command')).toMatchObject({ commandId: 'cmd-1', kind: 'reload', args: {} });
    await h.bus.publish('display.command', { commandId: live, displayId: 'd-1', kind: 'screenshot', args: { maxWidth: 640 }, expiresAt: future() });
    expect(await c.next('command')).toMatchObject({ commandId: live, kind: 'screenshot', args: { maxWidth: 640 } });
    c.send({ type: 'command_result', commandId: live, ok: true, result: { mimeType: 'image/png', dataBase64: 'iVBORw0K', width: 1, height: 1 } });
    expect(await c.next('command_result_ack')).toMatchObject({ commandId: live, recorded: true });
    expect(h.directory.results).toEqual([expect.objectContaining({ commandId: live, displayId: 'd-1', ok: true })]);
    expect(c.frames.some((f) => f.type === 'command')).toBe(false); // expired one never sent
  });

  it('tells the display to resend a result api-v2 could not record', async () => {
    const h = await harness();
    const c = await h.connect();
    await c.hello('d-1', 's-1');
    h.directory.down = true;
    c.send({ type: 'command_result', commandId: 'cmd-9', ok: false, error: 'unsupported_command' });
    const ack = await c.next('command_result_ack');
    expect(ack).toMatchObject({ commandId: 'cmd-9', recorded: false });
    expect(ack.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('presence', () => {
  it('reports connect, seen (with version) and disconnect within a few hundred ms', async () => {
    const h = await harness();
    const c = await h.connect();
    const w = await c.hello('d-1', 's-1', 4);
    await until(() => h.directory.presence.find((e) => e.kind === 'connected'));
    c.send({ type: 'heartbeat', playlistVersion: 4 });
    const seen = await until(() => h.directory.presence.find((e) => e.kind === 'seen'));
    expect(seen).toMatchObject({ displayId: 'd-1', sessionId: w.sessionId, playlistVersion: 4 });
    c.close();
    const gone = await until(() => h.directory.presence.find((e) => e.kind === 'disconnected'));
    expect(gone).toMatchObject({ displayId: 'd-1', sessionId: w.sessionId, reason: 'peer_closed' });
  });

  it('keeps presence events while api-v2 is down and delivers them later in order', async () => {
    const h = await harness();
    h.directory.down = true;
    const c = await h.connect();
    h.directory.down = false;
    const w = await c.hello('d-1', 's-1');
    h.directory.down = true;
    c.close();
    await sleep(200);
    // The connect may have been delivered before api-v2 went down (presence is flushed on a
    // timer); the disconnect, which happened while it was down, cannot have been.
    expect(h.directory.presence.map((e) => e.kind)).not.toContain('disconnected');
    h.directory.down = false;
    await until(() => h.directory.presence.length >= 2);
    expect(h.directory.presence.map((e) => [e.kind, e.sessionId])).toEqual([
      ['connected', w.sessionId],
      ['disconnected', w.sessionId],
    ]);
  });
});

describe('two instances on one bus', () => {
  it('a newer connection on another instance replaces the older one; routing follows the display', async () => {
    const bus = createMemoryBus();
    const directory = new MemoryDirectory();
    directory.addDisplay('d-1', 's-1');
    const a = await startHarness({ instanceId: 'a' }, { bus, directory });
    const b = await startHarness({ instanceId: 'b' }, { bus, directory });
    open.push(a, b);
    const onA = await a.connect();
    await onA.hello('d-1', 's-1');
    await sleep(20); // A's announcement is echoed before B's connection exists
    const onB = await b.connect();
    await onB.hello('d-1', 's-1');
    expect(await onA.next('error')).toMatchObject({ code: 'replaced', fatal: true });
    await onA.waitClosed();
    await sleep(50);
    expect(onB.closed).toBe(false);
    expect(a.server.sessionCount + b.server.sessionCount).toBe(1);
    // A change published once reaches the display through whichever instance holds it.
    directory.setPlaylist('d-1', 8);
    await bus.publish('playlist.changed', { displayId: 'd-1', version: 8 });
    expect((await onB.next('playlist')).playlist).toMatchObject({ version: 8 });
  });

  it('simultaneous connections on two instances leave exactly one survivor', async () => {
    const bus = createMemoryBus();
    const directory = new MemoryDirectory();
    directory.addDisplay('d-1', 's-1');
    const a = await startHarness({ instanceId: 'a' }, { bus, directory });
    const b = await startHarness({ instanceId: 'b' }, { bus, directory });
    open.push(a, b);
    const [ca, cb] = await Promise.all([a.connect(), b.connect()]);
    await Promise.all([ca.hello('d-1', 's-1'), cb.hello('d-1', 's-1')]);
    await until(() => ca.closed || cb.closed);
    await sleep(100);
    expect([ca.closed, cb.closed].filter(Boolean)).toHaveLength(1);
  });
});
