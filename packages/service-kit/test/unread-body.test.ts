/**
 * An answer sent before the request body was read (a 413) closes its connection, and cleanly:
 * `Connection: close`, then a FIN while what the client still sends is read and dropped, so the
 * client (or the proxy in front) reads the whole answer instead of a TCP reset.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeepAliveSocket } from '../../../test/support/keep-alive.ts';
import { createLogger, createMetrics, createServiceApp, listen, type RunningHttpServer } from '../src/index.ts';

let server: RunningHttpServer;
beforeAll(async () => {
  const app = createServiceApp({ service: 'test', logger: createLogger('test', 'silent'), metrics: createMetrics('test'), maxBodyBytes: 1024 });
  app.post('/echo', async (c) => c.json(await c.req.json()));
  server = await listen(app, '127.0.0.1', 0);
});
afterAll(async () => server?.close(1_000));

it('a 413 over the body cap says Connection: close and the whole answer arrives, many times over', async () => {
  const big = Buffer.alloc(2_000_000, 'x');
  for (let i = 0; i < 20; i++) {
    const socket = await KeepAliveSocket.open(server.url);
    try {
      const answer = await socket.send('POST', '/echo', { 'content-type': 'application/json' }, big);
      expect(answer?.status).toBe(413);
      expect(answer?.headers.connection).toBe('close');
      expect(JSON.parse(answer!.body)).toMatchObject({ status: 413 });
    } finally {
      socket.close();
    }
  }
});

it('a body within the cap keeps the connection alive', async () => {
  const socket = await KeepAliveSocket.open(server.url);
  try {
    for (let i = 0; i < 3; i++) {
      const answer = await socket.send('POST', '/echo', { 'content-type': 'application/json' }, '{"n":1}');
      expect(answer?.status).toBe(200);
      expect(answer?.headers.connection).toBe('keep-alive');
    }
  } finally {
    socket.close();
  }
});
