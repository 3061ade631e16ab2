/** The client against a hand-driven fake server: every rule of the protocol a display must keep. */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DisplayClient, type DisplayClientOptions } from '../src/client.ts';
import { reconnectDelay, PROTOCOL_BACKOFF } from '../src/backoff.ts';
import type { PlayRecord, Playlist } from '../src/messages.ts';
import type { PlayStore } from '../src/plays.ts';
import { BOOKING_ID, CREATIVE_ID, FakeServer, playlist, testUuid, until } from './support/fake-server.ts';

let server: FakeServer;
const clients: DisplayClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  await server?.close();
});

function client(opts: Partial<DisplayClientOptions> = {}) {
  const c = new DisplayClient({ host: '127.0.0.1', port: server.port, displayId: 'd-1', secret: 's-1', reconnect: false, ...opts });
  clients.push(c);
  return c;
}

const play = (n: number) => ({ bookingId: BOOKING_ID, creativeId: CREATIVE_ID, startedAt: new Date(Date.now() - n * 1000).toISOString(), durationMs: 1000 });

/** A store that records what it was asked, to prove deletion happens only after an ack. */
class RecordingStore implements PlayStore {
  stored = new Map<string, PlayRecord>();
  removed: string[][] = [];
  constructor(private initial: PlayRecord[] = []) {}
  async load() {
    for (const p of this.initial) this.stored.set(p.playId, p);
    return this.initial;
  }
  async append(plays: PlayRecord[]) {
    for (const p of plays) this.stored.set(p.playId, p);
  }
  async remove(ids: string[]) {
    this.removed.push(ids);
    for (const id of ids) this.stored.delete(id);
  }
}

describe('hello, welcome, heartbeats, clock', () => {
  it('sends hello first with its version, then heartbeats with the applied version at the announced interval', async () => {
    server = await FakeServer.start();
    const c = client({ playlistVersion: 7, client: { name: 'test', version: '9' } });
    await c.start();
    const conn = await server.connection();
    const hello = await conn.welcome({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 5_000 });
    expect(hello).toEqual({ type: 'hello', protocol: 1, displayId: 'd-1', secret: 's-1', playlistVersion: 7, client: { name: 'test', version: '9' } });
    expect(conn.received[0]!.type).toBe('hello');
    await until('online', () => c.state === 'online');
    const hb = await conn.next('heartbeat', 1);
    expect(hb).toEqual({ type: 'heartbeat', playlistVersion: 7 });
  });

  it('estimates the server clock offset from welcome and heartbeat_ack', async () => {
    server = await FakeServer.start();
    const c = client();
    await c.start();
    const conn = await server.connection();
    const skew = 90_000; // the server's clock runs 90 s ahead
    await conn.next('hello');
    conn.send({ type: 'welcome', protocol: 1, displayId: 'd-1', sessionId: 's', serverTime: new Date(Date.now() + skew).toISOString(), heartbeatIntervalMs: 30, heartbeatTimeoutMs: 5_000, maxFrameBytes: 262_144, maxPlaysPerBatch: 500 });
    await until('online', () => c.state === 'online');
    for (let i = 0; i < 3; i++) {
      await conn.next('heartbeat', i);
      conn.send({ type: 'heartbeat_ack', serverTime: new Date(Date.now() + skew).toISOString() });
    }
    await until('three heartbeat samples', () => conn.count('heartbeat') >= 3);
    // The estimate is within its own stated uncertainty (half a round trip) plus a timestamp's 1 ms.
    expect(Math.abs(c.clock.offsetMs - skew)).toBeLessThanOrEqual(c.clock.uncertaintyMs + 2);
    expect(Math.abs(c.serverNow() - (Date.now() + skew))).toBeLessThan(1_000 + c.clock.uncertaintyMs);
  });

  it('treats a silent server as dead after heartbeatTimeoutMs and reconnects', async () => {
    server = await FakeServer.start();
    const c = client({ reconnect: true, backoff: { baseMs: 10, capMs: 20 } });
    await c.start();
    const first = await server.connection(0);
    await first.welcome({ heartbeatIntervalMs: 40, heartbeatTimeoutMs: 100 });
    // Never answer again: the client must give up on this connection by itself.
    const second = await server.connection(1, 10_000);
    expect(first.closed || (await until('first closed', () => first.closed))).toBe(true);
    await second.next('hello');
  });

  it('drops the connection on a garbage frame from the server and reconnects', async () => {
    server = await FakeServer.start();
    const c = client({ reconnect: true, backoff: { baseMs: 10, capMs: 20 } });
    await c.start();
    const first = await server.connection(0);
    await first.welcome();
    first.sendRaw(Buffer.from([0, 0, 0, 3, 0x7b, 0xff, 0x7d]));
    await until('closed', () => first.closed);
    expect((await server.connection(1)).socket.remoteAddress).toBeTruthy();
  });

  it('drops a connection whose welcome is off the protocol, and reconnects', async () => {
    server = await FakeServer.start();
    const c = client({ reconnect: true, backoff: { baseMs: 10, capMs: 20 } });
    const logs: string[] = [];
    c.on('log', (line) => logs.push(line));
    await c.start();
    const first = await server.connection(0);
    await first.welcome({ heartbeatIntervalMs: 'soon' });
    await until('closed', () => first.closed);
    expect(c.stats.welcomes).toBe(0);
    expect(logs.some((l) => l.includes('invalid welcome frame: heartbeatIntervalMs'))).toBe(true);
    await (await server.connection(1)).welcome();
    await until('online', () => c.state === 'online');
  });

  it('ignores a known frame with wrong members and stays connected; takes error codes it does not know', async () => {
    server = await FakeServer.start();
    const c = client();
    const errors: string[] = [];
    c.on('serverError', (e) => errors.push(e.code));
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    await until('online', () => c.state === 'online');
    conn.send({ type: 'command', commandId: 'cmd-1', kind: 'reload' }); // no args, no expiresAt
    conn.send({ type: 'plays_ack', batchId: 'b', accepted: 'all', rejected: [] });
    conn.send({ type: 'error', code: 'something_new', message: 'a newer server', fatal: false });
    await until('error seen', () => errors.length === 1);
    expect(errors).toEqual(['something_new']);
    expect(c.stats.commands).toBe(0);
    expect(conn.count('command_result')).toBe(0);
    expect(c.state).toBe('online');
    expect(conn.closed).toBe(false);
  });

  it('never sends more than 4 096 bytes before welcome, nor more than maxFrameBytes after', async () => {
    server = await FakeServer.start();
    const c = client({ onCommand: () => ({ ok: true, result: { blob: 'x'.repeat(2_000) } }) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome({ maxFrameBytes: 1_000 });
    conn.send({ type: 'command', commandId: 'big', kind: 'screenshot', args: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const result = await conn.next('command_result');
    expect(result).toMatchObject({ commandId: 'big', ok: false });
    expect(result.error).toMatch(/exceeds 1000 bytes/);
    expect(conn.raw.reduce((n, b) => n + b.length, 0)).toBeLessThan(2_000);
  });
});

describe('reconnecting (protocol §8)', () => {
  it('uses full jitter under min(cap, base·2^attempt) and never goes below a floor', () => {
    const o = PROTOCOL_BACKOFF;
    expect(reconnectDelay(0, 0, o, () => 0.999)).toBeLessThan(1_000);
    expect(reconnectDelay(3, 0, o, () => 0.5)).toBe(4_000);
    expect(reconnectDelay(10, 0, o, () => 0.999)).toBeLessThan(60_000);
    expect(reconnectDelay(10, 0, o, () => 0)).toBe(0);
    expect(reconnectDelay(0, 300_000, o, () => 0.5)).toBe(300_000);
  });

  it('waits at least five minutes after auth_failed instead of hammering the server', async () => {
    server = await FakeServer.start();
    const c = client({ reconnect: true, backoff: { baseMs: 1, capMs: 1 } });
    await c.start();
    const conn = await server.connection();
    await conn.next('hello');
    conn.send({ type: 'error', code: 'auth_failed', message: 'no', fatal: true });
    conn.close();
    await until('waiting', () => c.state === 'waiting' && c.stats.errors.auth_failed === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.connections).toHaveLength(1);
  });

  it('follows reconnect.afterMs on a drain, without counting it as a failure', async () => {
    server = await FakeServer.start();
    const c = client({ reconnect: true });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    conn.send({ type: 'reconnect', reason: 'draining', afterMs: 50 });
    const again = await server.connection(1);
    await again.next('hello');
    expect(c.stats.connects).toBe(2);
  });

  it('keeps a rate_limited retryAfterMs as the floor', async () => {
    server = await FakeServer.start();
    const lines: string[] = [];
    const c = client({ reconnect: true, backoff: { baseMs: 1, capMs: 1 } });
    c.on('log', (l) => lines.push(l));
    await c.start();
    const conn = await server.connection();
    await conn.next('hello');
    conn.send({ type: 'error', code: 'rate_limited', message: 'slow down', fatal: true, retryAfterMs: 120 });
    conn.close();
    await server.connection(1);
    const delay = Number(/reconnecting in (\d+) ms/.exec(lines.find((l) => l.startsWith('reconnecting')) ?? '')?.[1]);
    expect(delay).toBeGreaterThanOrEqual(120);
  });
});

describe('playlists', () => {
  it('applies a playlist, then acks it; the same version again is acked without re-applying', async () => {
    server = await FakeServer.start();
    const applied: Playlist[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = client({ applyPlaylist: async (p) => (applied.push(p), gate) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    conn.send({ type: 'playlist', playlist: playlist(3) });
    await until('apply called', () => applied.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(conn.count('playlist_ack')).toBe(0); // not before it is applied
    release();
    expect(await conn.next('playlist_ack')).toEqual({ type: 'playlist_ack', version: 3 });
    expect(c.playlistVersion).toBe(3);
    expect(applied[0]!.loop.anchorAt).toBe('1970-01-01T00:00:00.000Z');
    expect(applied[0]!.entries[0]).toMatchObject({ kind: 'booking', scripts: false, mimeType: '' });

    conn.send({ type: 'playlist', playlist: playlist(3) });
    expect(await conn.next('playlist_ack', 1)).toEqual({ type: 'playlist_ack', version: 3 });
    expect(applied).toHaveLength(1);
  });

  it('applies an older version too (protocol §6: versions differ → apply), e.g. after a server restore', async () => {
    server = await FakeServer.start();
    const c = client({ playlistVersion: 9 });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    conn.send({ type: 'playlist', playlist: playlist(4) });
    expect(await conn.next('playlist_ack')).toEqual({ type: 'playlist_ack', version: 4 });
  });

  it('does not ack a playlist it could not apply, keeps the old one, and retries it at the next heartbeat', async () => {
    server = await FakeServer.start();
    let fail = true;
    const c = client({
      playlistVersion: 1,
      applyPlaylist: () => {
        if (fail) throw new Error('media download failed');
      },
    });
    const failures: string[] = [];
    c.on('playlistFailed', (_p, err) => failures.push(err.message));
    await c.start();
    const conn = await server.connection();
    await conn.welcome({ heartbeatIntervalMs: 50 });
    conn.send({ type: 'playlist', playlist: playlist(2) });
    await until('failure reported', () => failures.length === 1);
    expect(c.playlistVersion).toBe(1);
    expect((await conn.next('heartbeat')).playlistVersion).toBe(1);
    fail = false;
    expect(await conn.next('playlist_ack')).toEqual({ type: 'playlist_ack', version: 2 });
    expect(conn.count('playlist_ack')).toBe(1);
  });

  it('after resetPlaylist (expired) reports version 0 and applies the same version again', async () => {
    server = await FakeServer.start();
    const applied: number[] = [];
    const c = client({ applyPlaylist: (p) => void applied.push(p.version) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome({ heartbeatIntervalMs: 50 });
    conn.send({ type: 'playlist', playlist: playlist(5) });
    await conn.next('playlist_ack');
    c.resetPlaylist();
    await until('a heartbeat with version 0', () => conn.received.some((m) => m.type === 'heartbeat' && m.playlistVersion === 0));
    conn.send({ type: 'playlist', playlist: playlist(5) });
    await conn.next('playlist_ack', 1);
    expect(applied).toEqual([5, 5]);
  });

  it('keeps the good entries of a playlist with one malformed entry, and refuses a playlist without a loop', async () => {
    server = await FakeServer.start();
    const applied: Playlist[] = [];
    const c = client({ applyPlaylist: (p) => void applied.push(p) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    const p = playlist(2);
    (p.entries as unknown[]).push({ slot: 99, kind: 'booking', scripts: false, bookingId: testUuid('b-x'), creativeId: testUuid('c-x'), type: 'image', mediaUrl: 'http://x/y', mediaSha256: 'b'.repeat(64), durationMs: 1, validFrom: p.validFrom, validUntil: p.validUntil });
    conn.send({ type: 'playlist', playlist: { ...playlist(1), loop: null } });
    conn.send({ type: 'playlist', playlist: p });
    await conn.next('playlist_ack');
    expect(applied).toHaveLength(1);
    expect(applied[0]!.entries.map((e) => e.bookingId)).toEqual([BOOKING_ID]);
    expect(c.stats.playlistsFailed).toBe(1);
  });

  it('takes every entry as media: house entries without ids play, entries without media or a booking without ids are left out', async () => {
    server = await FakeServer.start();
    const applied: Playlist[] = [];
    const c = client({ applyPlaylist: (p) => void applied.push(p) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    const p = playlist(2);
    const entries = p.entries as Record<string, unknown>[];
    const html = { ...entries[0]!, slot: 1, type: 'html', mediaSha256: 'c'.repeat(64), mediaUrl: 'http://127.0.0.1/media/html', scripts: true };
    const house = { ...entries[0]!, slot: 1, kind: 'house', bookingId: null, creativeId: null };
    const inlineBody = { ...entries[0]!, type: 'html', mediaUrl: '', mediaSha256: '', body: '<h1>Hi</h1>' };
    const bookingWithoutIds = { ...entries[0]!, bookingId: null };
    const unknownKind = { ...entries[0]!, kind: 'sponsor' };
    p.entries = [...entries, html, house, inlineBody, bookingWithoutIds, unknownKind];
    conn.send({ type: 'playlist', playlist: p });
    await conn.next('playlist_ack');
    expect(applied[0]!.entries.map((e) => [e.kind, e.type, e.bookingId])).toEqual([['booking', 'image', BOOKING_ID], ['booking', 'html', BOOKING_ID], ['house', 'image', null]]);
    expect(applied[0]!.entries[1]).toMatchObject({ mimeType: 'text/html; charset=utf-8', scripts: true });
  });

  it('refuses a playlist whose loop announces no anchorAt', async () => {
    server = await FakeServer.start();
    const c = client();
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    conn.send({ type: 'playlist', playlist: playlist(2, { loop: { lengthMs: 20_000, slotCount: 2, slotMs: 10_000 } }) });
    await until('refused', () => c.stats.playlistsFailed === 1);
    expect(c.playlistVersion).toBe(0);
  });
});

describe('plays', () => {
  it('keeps one batch in flight and deletes plays only once acknowledged or rejected', async () => {
    server = await FakeServer.start();
    const store = new RecordingStore();
    const c = client({ playStore: store, batchEveryMs: 20 });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    await until('online', () => c.state === 'online');
    const recorded = [await c.recordPlay(play(3)), await c.recordPlay(play(2))];
    const batch = await conn.next('plays');
    expect(batch.plays.map((p: PlayRecord) => p.playId)).toEqual(recorded.map((p) => p.playId));
    await c.recordPlay(play(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(conn.count('plays')).toBe(1); // the second batch waits for the first ack
    expect(store.removed).toEqual([]);

    // Accept one, reject one, say nothing about the third: it is resent.
    conn.send({
      type: 'plays_ack',
      batchId: batch.batchId,
      accepted: [recorded[0]!.playId],
      rejected: [{ playId: recorded[1]!.playId, code: 'unknown_booking', detail: 'no booking with this id has a part on this display' }],
    });
    const rejections: string[] = [];
    c.on('playsAck', (o) => rejections.push(...o.rejected.map((r) => r.code)));
    const second = await conn.next('plays', 1);
    expect(store.removed[0]!.sort()).toEqual([recorded[0]!.playId, recorded[1]!.playId].sort());
    expect(second.plays).toHaveLength(1);
    expect(rejections).toEqual(['unknown_booking']);
    conn.send({ type: 'plays_ack', batchId: second.batchId, accepted: [], rejected: [{ playId: second.plays[0].playId, code: 'wrong_slot', detail: 'not its slot' }] });
    await until('all resolved', () => c.unackedPlays === 0);
    expect(c.stats).toMatchObject({ playsAcked: 1, playsRejected: 2 });
  });

  it('resends the same playIds after retryAfterMs and after a lost connection', async () => {
    server = await FakeServer.start();
    const store = new RecordingStore();
    const c = client({ playStore: store, batchEveryMs: 10, reconnect: true, backoff: { baseMs: 10, capMs: 20 } });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    await until('online', () => c.state === 'online');
    const p = await c.recordPlay(play(1));
    const first = await conn.next('plays');
    conn.send({ type: 'plays_ack', batchId: first.batchId, accepted: [], rejected: [], retryAfterMs: 100 });
    const second = await conn.next('plays', 1);
    expect(second.plays[0].playId).toBe(p.playId);
    conn.close(); // the ack for the second batch never comes
    const again = await server.connection(1);
    await again.welcome();
    const third = await again.next('plays');
    expect(third.plays).toEqual([p]);
    again.send({ type: 'plays_ack', batchId: third.batchId, accepted: [p.playId], rejected: [] });
    await until('acked', () => c.unackedPlays === 0);
    expect(store.stored.size).toBe(0);
  });

  it('sends a stored backlog right after welcome, batch after batch within maxPlaysPerBatch', async () => {
    server = await FakeServer.start();
    const backlog: PlayRecord[] = Array.from({ length: 5 }, (_, i) => ({ playId: crypto.randomUUID(), ...play(i) }));
    const c = client({ playStore: new RecordingStore(backlog), batchEveryMs: 60_000 });
    await c.start();
    expect(c.unackedPlays).toBe(5);
    const conn = await server.connection();
    await conn.welcome({ maxPlaysPerBatch: 2 });
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const batch = await conn.next('plays', i);
      sizes.push(batch.plays.length);
      conn.send({ type: 'plays_ack', batchId: batch.batchId, accepted: batch.plays.map((p: PlayRecord) => p.playId), rejected: [] });
    }
    expect(sizes).toEqual([2, 2, 1]);
    await until('drained', () => c.unackedPlays === 0);
  });
});

describe('commands', () => {
  const command = (id: string, kind = 'reload', ttlMs = 60_000) => ({ type: 'command', commandId: id, kind, args: {}, expiresAt: new Date(Date.now() + ttlMs).toISOString() });

  it('runs a command once per commandId and answers a re-delivery with the same result', async () => {
    server = await FakeServer.start();
    let runs = 0;
    const c = client({ reconnect: true, backoff: { baseMs: 10, capMs: 20 }, onCommand: async (cmd) => (cmd.kind === 'reload' ? (runs++, { ok: true, result: { run: runs } }) : undefined) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    conn.send(command('k-1'));
    expect(await conn.next('command_result')).toEqual({ type: 'command_result', commandId: 'k-1', ok: true, result: { run: 1 } });
    conn.close(); // result not recorded: the server delivers the command again on the next session
    const again = await server.connection(1);
    await again.welcome();
    again.send(command('k-1'));
    expect(await again.next('command_result')).toEqual({ type: 'command_result', commandId: 'k-1', ok: true, result: { run: 1 } });
    expect(runs).toBe(1);
  });

  it('answers expired and unknown commands without running them, and resends a result the server could not record', async () => {
    server = await FakeServer.start();
    let runs = 0;
    const c = client({ onCommand: () => (runs++, { ok: true }) });
    await c.start();
    const conn = await server.connection();
    await conn.welcome();
    conn.send(command('old', 'reload', -1_000));
    expect(await conn.next('command_result')).toEqual({ type: 'command_result', commandId: 'old', ok: false, error: 'expired' });
    expect(runs).toBe(0);

    const noHandler = client({ displayId: 'd-2' });
    await noHandler.start();
    const conn2 = await server.connection(1);
    await conn2.welcome();
    conn2.send(command('x', 'self_destruct'));
    expect(await conn2.next('command_result')).toMatchObject({ ok: false, error: 'unsupported_command' });
    conn2.send({ type: 'command_result_ack', commandId: 'x', recorded: false, retryAfterMs: 20 });
    expect(await conn2.next('command_result', 1)).toMatchObject({ commandId: 'x', ok: false, error: 'unsupported_command' });
  });
});
