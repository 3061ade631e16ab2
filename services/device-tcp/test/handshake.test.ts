import { encodeFrame } from '@marquee/display-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep, startHarness, until, type Harness } from './support/harness.ts';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.directory.addDisplay('d-1', 'secret-1');
  h.directory.addDisplay('d-off', 'secret-off', 'disabled');
});
afterEach(() => h.close());

const hello = (over: Record<string, unknown> = {}) => ({ type: 'hello', protocol: 1, displayId: 'd-1', secret: 'secret-1', playlistVersion: 0, ...over });

describe('handshake', () => {
  it('welcomes a display with valid credentials and announces timings', async () => {
    const c = await h.connect();
    const welcome = await c.hello('d-1', 'secret-1');
    expect(welcome).toMatchObject({ protocol: 1, displayId: 'd-1', heartbeatIntervalMs: 200, heartbeatTimeoutMs: 10_000, maxFrameBytes: 262144, maxPlaysPerBatch: 500 });
    expect(welcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(welcome.serverTime as string)).toBeGreaterThan(Date.now() - 5_000);
    expect(h.server.sessionCount).toBe(1);
  });

  it('sends the playlist right after welcome only when the display is behind', async () => {
    h.directory.setPlaylist('d-1', 3);
    const behind = await h.connect();
    await behind.hello('d-1', 'secret-1', 2);
    const pushed = await behind.next('playlist');
    expect(pushed.playlist).toMatchObject({ displayId: 'd-1', version: 3 });
    behind.close();

    const current = await h.connect();
    await current.hello('d-1', 'secret-1', 3);
    current.send({ type: 'heartbeat', playlistVersion: 3 });
    await current.next('heartbeat_ack');
    expect(current.frames.filter((f) => f.type === 'playlist')).toEqual([]);
  });

  it.each([
    ['wrong secret', hello({ secret: 'rotated' }), 'auth_failed'],
    ['unknown display', hello({ displayId: 'nope' }), 'auth_failed'],
    ['disabled display', hello({ displayId: 'd-off', secret: 'secret-off' }), 'display_disabled'],
    ['missing secret', hello({ secret: undefined }), 'invalid_hello'],
    ['negative version', hello({ playlistVersion: -1 }), 'invalid_hello'],
  ])('refuses %s with an error frame and closes', async (_name, msg, code) => {
    const c = await h.connect();
    c.send(msg);
    const err = await c.next('error');
    expect(err).toMatchObject({ code, fatal: true });
    await c.waitClosed();
    expect(h.server.sessionCount).toBe(0);
  });

  it('refuses an unsupported protocol version and names the supported ones', async () => {
    const c = await h.connect();
    c.send(hello({ protocol: 2 }));
    expect(await c.next('error')).toMatchObject({ code: 'unsupported_protocol', fatal: true, supported: [1] });
    await c.waitClosed();
  });

  it('requires hello as the first frame', async () => {
    const c = await h.connect();
    c.send({ type: 'heartbeat', playlistVersion: 0 });
    expect(await c.next('error')).toMatchObject({ code: 'hello_required', fatal: true });
    await c.waitClosed();
  });

  it('closes a connection that does not say hello in time, not before', async () => {
    const started = Date.now(); // before connecting: the server's 400 ms cannot start earlier
    const c = await h.connect();
    expect(await c.next('error', 10_000)).toMatchObject({ code: 'hello_timeout', fatal: true });
    await c.waitClosed();
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('closes a connection whose hello trickles in too slowly', async () => {
    const c = await h.connect();
    const frame = encodeFrame(hello());
    c.write(frame.subarray(0, 10)); // started, never finished
    expect(await c.next('error', 10_000)).toMatchObject({ code: 'hello_timeout' });
    await c.waitClosed();
  });

  it('answers unavailable with a retry hint when api-v2 cannot be reached', async () => {
    h.directory.down = true;
    const c = await h.connect();
    c.send(hello());
    const err = await c.next('error');
    expect(err).toMatchObject({ code: 'unavailable', fatal: true });
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(500);
    await c.waitClosed();
  });
});

describe('framing on a real socket', () => {
  it('accepts a hello delivered one byte per write', async () => {
    // A hello timeout the trickle cannot outlast, however slow the machine: this is about framing.
    await h.close();
    h = await startHarness({ helloTimeoutMs: 30_000 });
    h.directory.addDisplay('d-1', 'secret-1');
    const c = await h.connect();
    c.socket.setNoDelay(true);
    const frame = encodeFrame(hello());
    for (const byte of frame) {
      c.write(Buffer.from([byte]));
      await sleep(1);
    }
    expect(await c.next('welcome')).toMatchObject({ displayId: 'd-1' });
  });

  it('processes many frames arriving in one write, including ones pipelined behind hello', async () => {
    h.directory.authDelayMs = 50; // frames after hello arrive while credentials are being checked
    const c = await h.connect();
    const burst = Buffer.concat([
      encodeFrame(hello()),
      ...Array.from({ length: 20 }, (_, i) => encodeFrame({ type: 'heartbeat', playlistVersion: i })),
      encodeFrame({ type: 'mystery' }),
      encodeFrame({ type: 'playlist_ack', version: 7 }),
    ]);
    c.write(burst);
    await c.next('welcome');
    for (let i = 0; i < 20; i++) await c.next('heartbeat_ack');
    expect(await c.next('error')).toMatchObject({ code: 'unsupported_message', fatal: false, ref: 'mystery' });
    // Still open and usable after the non-fatal error.
    c.send({ type: 'heartbeat', playlistVersion: 7 });
    await c.next('heartbeat_ack');
    expect(c.closed).toBe(false);
  });

  it('closes on binary garbage with an error frame', async () => {
    const c = await h.connect();
    c.write(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'));
    expect(await c.next('error')).toMatchObject({ code: 'frame_too_large', fatal: true });
    await c.waitClosed();
  });

  it('closes on a well-sized frame that is not JSON', async () => {
    const c = await h.connect();
    const junk = Buffer.from([0x00, 0x00, 0x00, 0x06, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    c.write(junk);
    expect(await c.next('error')).toMatchObject({ code: 'bad_frame', fatal: true });
    await c.waitClosed();
  });

  it('closes on garbage after a good session started, without crashing the server', async () => {
    const c = await h.connect();
    await c.hello('d-1', 'secret-1');
    c.write(Buffer.from([0, 0, 0, 0]));
    expect(await c.next('error')).toMatchObject({ code: 'bad_frame', fatal: true });
    await c.waitClosed();
    const again = await h.connect();
    await again.hello('d-1', 'secret-1');
  });

  it('refuses an oversized frame before authentication (4 KiB limit) without reading it', async () => {
    const c = await h.connect();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4097);
    c.write(header);
    expect(await c.next('error')).toMatchObject({ code: 'frame_too_large', fatal: true });
    await c.waitClosed();
  });

  it('refuses a frame over maxFrameBytes after authentication', async () => {
    const c = await h.connect();
    await c.hello('d-1', 'secret-1');
    c.send({ type: 'plays', batchId: 'x', plays: [], pad: 'x'.repeat(300 * 1024) });
    expect(await c.next('error')).toMatchObject({ code: 'frame_too_large', fatal: true });
    await c.waitClosed();
  });
});

describe('liveness and duplicates', () => {
  it('closes a silent session after the heartbeat timeout but keeps a chatty one', async () => {
    await h.close();
    h = await startHarness({ heartbeatTimeoutMs: 1_500 });
    h.directory.addDisplay('d-1', 'secret-1');
    const started = Date.now(); // before its hello: its 1.5 s cannot start earlier
    const silent = await h.connect();
    await silent.hello('d-1', 'secret-1');
    h.directory.addDisplay('d-2', 'secret-2');
    const chatty = await h.connect();
    await chatty.hello('d-2', 'secret-2');
    // Every 100 ms: fifteen beats per timeout, so only a stall of the whole machine cuts it.
    const beat = setInterval(() => chatty.send({ type: 'heartbeat', playlistVersion: 0 }), 100);
    try {
      expect(await silent.next('error', 10_000)).toMatchObject({ code: 'heartbeat_timeout', fatal: true });
      await silent.waitClosed();
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_490);
      await sleep(1_600); // longer than a timeout: the chatty one would have been cut by now
      expect(chatty.closed).toBe(false);
    } finally {
      clearInterval(beat);
    }
    await until(() => h.directory.presence.some((e) => e.kind === 'disconnected' && e.displayId === 'd-1' && e.reason === 'heartbeat_timeout'));
  });

  it('replaces an older connection of the same display and tells it why', async () => {
    const first = await h.connect();
    const w1 = await first.hello('d-1', 'secret-1');
    const second = await h.connect();
    const w2 = await second.hello('d-1', 'secret-1');
    expect(w2.sessionId).not.toBe(w1.sessionId);
    expect(await first.next('error')).toMatchObject({ code: 'replaced', fatal: true });
    await first.waitClosed();
    second.send({ type: 'heartbeat', playlistVersion: 0 });
    await second.next('heartbeat_ack');
    expect(h.server.sessionCount).toBe(1);
    // Presence: the old session's disconnect is reported with its own sessionId, before the new connect.
    await until(() => h.directory.presence.filter((e) => e.displayId === 'd-1').length >= 3);
    const kinds = h.directory.presence.filter((e) => e.kind !== 'seen').map((e) => [e.kind, e.sessionId]);
    expect(kinds).toEqual([
      ['connected', w1.sessionId],
      ['disconnected', w1.sessionId],
      ['connected', w2.sessionId],
    ]);
  });
});

describe('revocation', () => {
  it.each([
    ['disabled', 'display_disabled'],
    ['credentials_rotated', 'auth_failed'],
  ])('closes a live session when api-v2 publishes display.revoked (%s)', async (reason, code) => {
    const c = await h.connect();
    await c.hello('d-1', 'secret-1');
    await h.bus.publish('display.revoked', { displayId: 'd-1', reason });
    expect(await c.next('error')).toMatchObject({ code, fatal: true });
    await c.waitClosed();
    expect(h.server.sessionCount).toBe(0);
  });
});

describe('api-v2 slow or saturated', () => {
  it('refuses handshakes beyond the wait queue instead of piling them up', async () => {
    await h.close();
    h = await startHarness({ maxHandshakesWaiting: 16 });
    for (let i = 0; i < 20; i++) h.directory.addDisplay(`q-${i}`, 's');
    const release = h.directory.holdAuthentication(); // api-v2 stalls until the test lets it answer
    const clients = await Promise.all(Array.from({ length: 20 }, () => h.connect()));
    clients.forEach((c, i) => c.send({ type: 'hello', protocol: 1, displayId: `q-${i}`, secret: 's', playlistVersion: 0 }));
    await until(() => clients.filter((c) => c.frames.some((f) => f.code === 'unavailable')).length === 4);
    expect(h.directory.calls.authenticate).toBe(16);
    // Told when to come back: at least a second, at most 30 s plus jitter.
    for (const refusal of clients.flatMap((c) => c.frames.filter((f) => f.code === 'unavailable'))) {
      expect(refusal.retryAfterMs).toBeGreaterThanOrEqual(1_000);
      expect(refusal.retryAfterMs).toBeLessThanOrEqual(45_000);
    }
    // The 16 that waited are let in once api-v2 answers.
    release();
    await until(() => clients.filter((c) => c.frames.some((f) => f.type === 'welcome')).length === 16);
  });
});
