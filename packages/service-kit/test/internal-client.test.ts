import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyUnavailableError, createInternalClient, createLogger } from '../src/index.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function startServer(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) {
  return new Promise<string>((resolve) => {
    server = createServer(handler).listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`));
  });
}

describe('internal client', () => {
  it('retries idempotent calls on 5xx but never a plain POST', async () => {
    let hits = 0;
    const url = await startServer((_req, res) => {
      hits++;
      res.statusCode = hits % 3 === 0 ? 200 : 503;
      res.end('{"ok":true}');
    });
    const client = createInternalClient({ name: 'callee', baseUrl: url, retries: 2, breakerThreshold: 100 });
    const got = await client.request({ method: 'GET', path: '/x' });
    expect(got.status).toBe(200);
    expect(hits).toBe(3);

    hits = 0;
    await expect(client.request({ method: 'POST', path: '/x', body: {} })).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(hits).toBe(1);
    await client.close();
  });

  it('passes 4xx through and propagates request id and traceparent', async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    const url = await startServer((req, res) => {
      seen = req.headers;
      res.statusCode = 404;
      res.setHeader('content-type', 'application/problem+json');
      res.end('{"status":404}');
    });
    const client = createInternalClient({ name: 'callee', baseUrl: url });
    const traceId = 'a'.repeat(32);
    const context = { requestId: 'req-123', traceId, spanId: 'b'.repeat(16), logger: createLogger('t', 'silent') };
    const res = await client.request({ method: 'GET', path: '/missing', context });
    expect(res.status).toBe(404);
    expect(seen['x-request-id']).toBe('req-123');
    expect(seen['traceparent']).toBe(`00-${traceId}-${'b'.repeat(16)}-01`);
    // Made for no request: nothing to propagate.
    await client.request({ method: 'GET', path: '/missing' });
    expect(seen['x-request-id']).toBeUndefined();
    expect(seen['traceparent']).toBeUndefined();
    await client.close();
  });

  it('times out a silent callee and then fails fast with the breaker open', async () => {
    const url = await startServer(() => {
      /* never answers */
    });
    const client = createInternalClient({ name: 'sleepy', baseUrl: url, timeoutMs: 100, retries: 0, breakerThreshold: 2, breakerHalfOpenAfterMs: 60_000 });
    for (let i = 0; i < 2; i++) await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow(/did not answer within 100 ms/);
    // Open: the breaker refuses the call itself (no request, no wait for the timeout).
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow(/circuit open/);
    expect(client.breakerState()).toBe('open');
    server!.closeAllConnections();
    await client.close();
  });

  it('reports an unreachable callee as a dependency failure', async () => {
    const client = createInternalClient({ name: 'gone', baseUrl: 'http://127.0.0.1:1', retries: 0 });
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow(/gone unreachable/);
    await client.close();
  });

  it('keeps separate breakers per breakerKey: a failing endpoint does not cut off another', async () => {
    const url = await startServer((req, res) => {
      res.statusCode = req.url === '/presence' ? 500 : 200;
      res.end('{}');
    });
    const client = createInternalClient({ name: 'callee', baseUrl: url, retries: 0, breakerThreshold: 2, breakerHalfOpenAfterMs: 60_000 });
    for (let i = 0; i < 3; i++) await expect(client.request({ method: 'POST', path: '/presence', body: {}, breakerKey: 'presence' })).rejects.toThrow();
    expect(client.breakerState('presence')).toBe('open');
    expect((await client.request({ method: 'POST', path: '/auth', body: {}, breakerKey: 'authenticate' })).status).toBe(200);
    expect(client.breakerState('authenticate')).toBe('closed');
    await client.close();
  });
});
