import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '@marquee/display-protocol';
import { buildProxyV1, buildProxyV2Ipv4, parseProxyHeader } from '../src/proxy-protocol.ts';
import { sleep, startHarness, until, type Harness } from './support/harness.ts';

const open: Harness[] = [];
async function harness(...args: Parameters<typeof startHarness>) {
  const h = await startHarness(...args);
  open.push(h);
  for (let i = 1; i <= 5; i++) h.directory.addDisplay(`d-${i}`, `s-${i}`);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});
const hello = (i: number) => ({ type: 'hello', protocol: 1, displayId: `d-${i}`, secret: `s-${i}`, playlistVersion: 0 });

describe('PROXY protocol header parsing', () => {
  it('parses v1 TCP4/TCP6/UNKNOWN and v2 IPv4/LOCAL', () => {
    expect(parseProxyHeader(buildProxyV1('203.0.113.7', 5555, '10.0.0.1', 7000), 'v1')).toMatchObject({ status: 'ok', source: { address: '203.0.113.7', port: 5555 } });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 4000 7000\r\n'), 'any')).toMatchObject({ status: 'ok', source: { address: '2001:db8::1' } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'), 'v1')).toEqual({ status: 'ok', consumed: 15 });
    const v2 = buildProxyV2Ipv4('198.51.100.9', 1234, '10.0.0.1', 7000);
    expect(parseProxyHeader(v2, 'v2')).toEqual({ status: 'ok', consumed: 28, source: { address: '198.51.100.9', port: 1234 } });
    const local = Buffer.from(v2.subarray(0, 16));
    local[12] = 0x20;
    local.writeUInt16BE(0, 14);
    expect(parseProxyHeader(local, 'any')).toEqual({ status: 'ok', consumed: 16 });
  });

  it('waits for more bytes, and rejects wrong versions and junk early', () => {
    const v1 = buildProxyV1('203.0.113.7', 5555, '10.0.0.1', 7000);
    expect(parseProxyHeader(v1.subarray(0, 3), 'v1')).toEqual({ status: 'incomplete' });
    expect(parseProxyHeader(v1.subarray(0, 20), 'v1')).toEqual({ status: 'incomplete' });
    expect(parseProxyHeader(buildProxyV2Ipv4('1.2.3.4', 1, '5.6.7.8', 2).subarray(0, 20), 'v2')).toEqual({ status: 'incomplete' });
    expect(parseProxyHeader(v1, 'v2').status).toBe('error');
    expect(parseProxyHeader(buildProxyV2Ipv4('1.2.3.4', 1, '5.6.7.8', 2), 'v1').status).toBe('error');
    expect(parseProxyHeader(Buffer.from([0, 0, 0, 40]), 'any').status).toBe('error');
    expect(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), 'v1').status).toBe('error');
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 999.1.1.1 10.0.0.1 1 2\r\n'), 'v1').status).toBe('error');
  });
});

describe('PROXY protocol on the wire', () => {
  it.each([
    ['v1', buildProxyV1('203.0.113.7', 5555, '127.0.0.1', 7000)],
    ['v2', buildProxyV2Ipv4('203.0.113.7', 5555, '127.0.0.1', 7000)],
    ['any', buildProxyV2Ipv4('203.0.113.7', 5555, '127.0.0.1', 7000)],
  ] as const)('mode %s: uses the address from the header', async (mode, header) => {
    const h = await harness({ proxyProtocol: mode });
    const c = await h.connect();
    c.write(Buffer.concat([header, encodeFrame(hello(1))])); // header and hello coalesced
    await c.next('welcome');
    const connected = await until(() => h.directory.presence.find((e) => e.kind === 'connected'));
    expect(connected).toMatchObject({ remoteAddress: '203.0.113.7' });
  });

  it('closes a connection without the header when the header is required', async () => {
    const h = await harness({ proxyProtocol: 'v1' });
    const c = await h.connect();
    c.send(hello(1));
    await c.waitClosed();
    expect(c.frames).toEqual([]);
    expect(h.server.sessionCount).toBe(0);
  });
});

describe('admission limits', () => {
  it('limits connections per source address (after PROXY resolution)', async () => {
    const h = await harness({ maxConnectionsPerAddress: 2 });
    const a = await h.connect();
    const b = await h.connect();
    const c = await h.connect();
    expect(await c.next('error')).toMatchObject({ code: 'too_many_connections', fatal: true });
    await c.waitClosed();
    // Other addresses are unaffected, and a freed slot can be reused.
    const other = await h.connect('127.0.0.2');
    await other.hello('d-1', 's-1');
    a.close();
    await until(() => h.server.connectionCount === 2);
    const d = await h.connect();
    await d.hello('d-2', 's-2');
    void b;
  });

  it('rate limits handshakes per address with a retry hint', async () => {
    const h = await harness({ handshakesPerSecPerAddress: 1, handshakeBurstPerAddress: 2 });
    const c1 = await h.connect();
    await c1.hello('d-1', 's-1');
    const c2 = await h.connect();
    await c2.hello('d-2', 's-2');
    const c3 = await h.connect();
    c3.send(hello(3));
    const err = await c3.next('error');
    expect(err).toMatchObject({ code: 'rate_limited', fatal: true });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(h.directory.calls.authenticate).toBe(2); // refused before reaching api-v2
    const elsewhere = await h.connect('127.0.0.3');
    await elsewhere.hello('d-3', 's-3');
  });

  it('disconnects a display that does not read while frames pile up', async () => {
    // A long heartbeat timeout: the silent display must be cut for not reading, not for silence.
    const h = await harness({ writeQueueLimitBytes: 256 * 1024, heartbeatTimeoutMs: 60_000 });
    const c = await h.connect();
    await c.hello('d-1', 's-1');
    c.socket.pause(); // stop reading: kernel buffers fill, then the server-side queue
    const big = 'x'.repeat(200 * 1024);
    for (let i = 0; i < 200 && h.server.sessionCount > 0; i++) {
      await h.bus.publish('display.command', { commandId: randomUUID(), displayId: 'd-1', kind: 'reload', args: { big }, expiresAt: new Date(Date.now() + 60_000).toISOString() });
      await sleep(2);
    }
    await until(() => h.server.sessionCount === 0);
    expect(await h.metrics.registry.getSingleMetricAsString('device_tcp_connections_closed_total')).toContain('reason="slow_consumer"');
  });
});

describe('graceful drain', () => {
  it('stops accepting, tells displays to reconnect with jitter, then closes the rest at the deadline', async () => {
    const h = await harness({ reconnectAfterMinMs: 1_000, reconnectAfterMaxMs: 5_000, heartbeatTimeoutMs: 10_000 });
    const polite = await h.connect();
    await polite.hello('d-1', 's-1');
    const stubborn = await h.connect();
    await stubborn.hello('d-2', 's-2');
    const port = h.server.port;
    const started = Date.now();
    const drained = h.server.drain(600);
    const r1 = await polite.next('reconnect');
    const r2 = await stubborn.next('reconnect');
    for (const r of [r1, r2]) {
      expect(r.reason).toBe('draining');
      expect(r.afterMs).toBeGreaterThanOrEqual(1_000);
      expect(r.afterMs).toBeLessThanOrEqual(5_000);
    }
    polite.close(); // a display that follows the advice leaves at once
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await drained;
    await stubborn.waitClosed();
    expect(stubborn.frames.some((f) => f.type === 'error')).toBe(false); // cut by the drain deadline, not a timeout
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(h.server.connectionCount).toBe(0);
    // Final presence flush happened during drain.
    expect(h.directory.presence.filter((e) => e.kind === 'disconnected').map((e) => e.displayId).sort()).toEqual(['d-1', 'd-2']);
  });

  it('refuses a display whose credentials are still being checked, and never welcomes it afterwards', async () => {
    const h = await harness();
    h.directory.authDelayMs = 200;
    const c = await h.connect();
    c.send(hello(1));
    await until(() => h.directory.calls.authenticate === 1);
    const drained = h.server.drain(1_000);
    expect(await c.next('error')).toMatchObject({ code: 'unavailable', fatal: true });
    await c.waitClosed();
    await drained;
    await sleep(300); // api-v2's answer (timer set before this one) has arrived meanwhile
    expect(c.frames).toEqual([]); // nothing after the error (next() took it)
    expect(h.server.sessionCount).toBe(0);
    expect(h.directory.presence.filter((e) => e.kind === 'connected')).toEqual([]);
  });
});
