import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createInternalClient,
  createMetrics,
  createServiceApp,
  createTokenVerifier,
  listen,
  NotFoundError,
  requestContextOf,
  requestHeader,
  requireUser,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type RequestContext,
  type RunningHttpServer,
  type ServiceEnv,
} from '../src/index.ts';
import { Hono } from 'hono';

// The service framework's per-request contract: request ids, trace ids in logs, problem+json,
// metrics and access logs, over a real @hono/node-server socket (the production path, where the
// kit reads and writes headers on the Node objects) and through app.request() (no Node objects).

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${TRACE}-00f067aa0ba902b7-01`;

function makeApp() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info', base: { service: 't' } }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const metrics = createMetrics('t');
  const app = createServiceApp({ service: 't', logger, metrics }, new Hono<ServiceEnv>());
  app.get('/things/:id', (c) => {
    c.get('logger').info({ thing: c.req.param('id') }, 'in handler');
    return c.json({ id: c.req.param('id') });
  });
  app.get('/missing', () => {
    throw new NotFoundError('No such thing.');
  });
  app.get('/boom', () => {
    throw new Error('kaboom');
  });
  app.get('/echo-header/:name', (c) => c.json({ value: requestHeader(c, c.req.param('name')) ?? null }));
  return { app, lines, metrics };
}

/** One raw HTTP/1.1 request (for headers fetch would merge or refuse). */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('service app over a real socket', () => {
  const { app, lines, metrics } = makeApp();
  let server: RunningHttpServer;
  beforeAll(async () => {
    server = await listen(app, '127.0.0.1', 0);
  });
  afterAll(() => server.close(1_000));

  it('echoes a well-formed x-request-id and tags the handler and access log lines with it and the trace id', async () => {
    const res = await fetch(`${server.url}/things/42`, { headers: { 'x-request-id': 'client-id.1:2', traceparent } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('client-id.1:2');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(JSON.stringify({ id: '42' }))));
    expect(await res.json()).toEqual({ id: '42' });
    const mine = lines.filter((l) => l.reqId === 'client-id.1:2');
    expect(mine.map((l) => l.msg)).toEqual(['in handler', 'request']);
    expect(mine.every((l) => l.traceId === TRACE)).toBe(true);
    expect(mine[1]).toMatchObject({ method: 'GET', path: '/things/42', route: '/things/:id', status: 200 });
  });

  it('replaces a malformed or missing request id and starts a trace when none (or an all-zero one) came in', async () => {
    const bad = await fetch(`${server.url}/things/1`, { headers: { 'x-request-id': 'no spaces allowed', traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` } });
    const id = bad.headers.get('x-request-id')!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const line = lines.find((l) => l.reqId === id && l.msg === 'request')!;
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(line.traceId).not.toBe('0'.repeat(32));
    const none = await fetch(`${server.url}/things/2`);
    expect(none.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(none.headers.get('x-request-id')).not.toBe(id);
  });

  it('answers errors as problem+json carrying the same request id as the header, and logs 5xx with it', async () => {
    const missing = await fetch(`${server.url}/missing`, { headers: { 'x-request-id': 'req-404' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(missing.headers.get('x-request-id')).toBe('req-404');
    expect(await missing.json()).toMatchObject({ status: 404, detail: 'No such thing.', requestId: 'req-404', instance: '/missing' });

    const boom = await fetch(`${server.url}/boom`, { headers: { 'x-request-id': 'req-500' } });
    expect(boom.status).toBe(500);
    expect(boom.headers.get('x-request-id')).toBe('req-500');
    const problem = await boom.json();
    expect(problem).toMatchObject({ status: 500, requestId: 'req-500' });
    expect(JSON.stringify(problem)).not.toContain('kaboom');
    const logged = lines.find((l) => l.reqId === 'req-500' && l.msg === 'request failed') as { err?: { message?: string } } | undefined;
    expect(logged?.err?.message).toBe('kaboom');

    const unmatched = await fetch(`${server.url}/nowhere`, { headers: { 'x-request-id': 'req-nowhere' } });
    expect(unmatched.status).toBe(404);
    expect(unmatched.headers.get('x-request-id')).toBe('req-nowhere');
    expect(((await unmatched.json()) as { requestId?: string }).requestId).toBe('req-nowhere');
  });

  it('counts requests by method, route pattern and status, and keeps probes out of the access log', async () => {
    await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'probe-1' } });
    await fetch(`${server.url}/things/a`);
    await fetch(`${server.url}/things/b`);
    const text = await metrics.registry.metrics();
    const count = (route: string, status: number) => {
      const line = text.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes(`route="${route}"`) && l.includes(`status="${status}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    expect(count('/things/:id', 200)).toBeGreaterThanOrEqual(4);
    expect(count('/missing', 404)).toBe(1);
    expect(count('/boom', 500)).toBe(1);
    expect(count('/*', 404)).toBe(1); // no route matched: the pattern is the kit's catch-all middleware
    expect(count('/healthz', 200)).toBe(1);
    expect(lines.some((l) => l.reqId === 'probe-1' && l.msg === 'request')).toBe(false);
  });

  it('reads request headers as Headers.get would: repeated ones joined, absent ones undefined', async () => {
    const answer = await rawRequest(server.port, 'GET /echo-header/x-dup HTTP/1.1\r\nX-Dup: a\r\nX-Dup: b');
    expect(answer).toContain('{"value":"a, b"}');
    const dupAuth = await rawRequest(server.port, 'GET /echo-header/authorization HTTP/1.1\r\nAuthorization: Bearer one\r\nAuthorization: Bearer two');
    expect(dupAuth).toContain('{"value":"Bearer one, Bearer two"}');
    const absent = await rawRequest(server.port, 'GET /echo-header/x-none HTTP/1.1');
    expect(absent).toContain('{"value":null}');
  });
});

describe('service app through app.request() (no Node request/response)', () => {
  it('still sets and echoes the request id and reads headers', async () => {
    const { app } = makeApp();
    const res = await app.request('/things/7', { headers: { 'x-request-id': 'in-process' } });
    expect(res.headers.get('x-request-id')).toBe('in-process');
    const problem = await app.request('/missing');
    const id = problem.headers.get('x-request-id');
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(((await problem.json()) as { requestId?: string }).requestId).toBe(id);
    const header = await app.request('/echo-header/x-thing', { headers: { 'x-thing': 'v' } });
    expect(await header.json()).toEqual({ value: 'v' });
  });

  it('answers /healthz with the service and the build revision the image was made from (MARQUEE_REVISION)', async () => {
    const { app } = makeApp();
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', service: 't', revision: process.env.MARQUEE_REVISION || 'unknown' });
  });
});

describe('request context propagation to internal calls', () => {
  it('sends the request id and trace (with this hop as the parent span) on calls, probes and JWKS fetches made for the request', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const upstream = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const client = createInternalClient({ name: 'upstream', baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwksContexts: (RequestContext | undefined)[] = [];
    const verifier = createTokenVerifier({
      fetchJwks: async (context) => {
        jwksContexts.push(context);
        return { keys: [{ ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: 'k1' }] };
      },
    });
    const app = createServiceApp(
      { service: 't', logger: pino({ level: 'silent' }), metrics: createMetrics('t'), readiness: { upstream: (context) => client.request({ method: 'GET', path: '/ready', context }) } },
      new Hono<ServiceEnv>(),
    );
    app.get('/call', async (c) => c.json((await client.request({ method: 'GET', path: '/x', context: requestContextOf(c) })).body));
    app.get('/me', requireUser(verifier) as never, (c) => c.json({ ok: true }));
    const server = await listen(app, '127.0.0.1', 0);
    try {
      const call = await fetch(`${server.url}/call`, { headers: { 'x-request-id': 'prop-1', traceparent } });
      expect(call.status).toBe(200);
      expect(seen[0]!['x-request-id']).toBe('prop-1');
      const [version, trace, span, flags] = String(seen[0]!.traceparent).split('-');
      expect([version, trace, flags]).toEqual(['00', TRACE, '01']);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      expect(span).not.toBe('00f067aa0ba902b7');

      await fetch(`${server.url}/readyz`, { headers: { 'x-request-id': 'ready-1' } });
      expect(seen[1]!['x-request-id']).toBe('ready-1');

      const token = jwt.sign({ username: 'ann', role: 'operator' }, privateKey, { algorithm: 'ES256', keyid: 'k1', subject: 'u1', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, expiresIn: 60 });
      const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'jwks-1' } });
      expect(me.status).toBe(200);
      expect(jwksContexts.map((ctx) => ctx?.requestId)).toEqual(['jwks-1']);
    } finally {
      await server.close(1_000);
      await client.close();
      upstream.close();
    }
  });
});
