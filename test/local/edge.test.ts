import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Edge, startEdge } from '../../scripts/local/edge.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function startUpstream(name: string, extra: Record<string, Handler> = {}): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const special = extra[path];
    if (special) return special(req, res);
    // Default: describe what arrived, so tests can see exactly what the edge forwarded.
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closedPort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function send(
  base: string,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | Readable } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // `path` as an option, not inside a URL string: URL parsing would resolve dot segments client-side.
    const { hostname, port } = new URL(base);
    const requestOptions = { hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false };
    const req = http.request(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body instanceof Readable) pipeline(options.body, req).catch(reject);
    else req.end(options.body);
  });
}

const json = (reply: Reply) => JSON.parse(reply.body.toString('utf8')) as Record<string, any>;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('local edge proxy', () => {
  let edge: Edge;
  let v1: { url: string; server: http.Server };
  let v2: { url: string; server: http.Server };
  let firstChunkSeen: () => void = () => {};
  let releaseDrip: () => void = () => {};
  let dripClosed: () => void = () => {};

  beforeAll(async () => {
    v1 = await startUpstream('v1');
    v2 = await startUpstream('v2', {
      // Echoes the request body back as it arrives.
      '/echo': (req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.once('data', () => firstChunkSeen());
        req.pipe(res);
      },
      '/slow': (req, res) => {
        req.resume();
        setTimeout(() => res.end('slow done'), 250);
      },
      '/never': (req) => req.resume(),
      // Sends a first piece, then holds the response open until the test says the client got it.
      '/drip': (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        releaseDrip = () => res.end('last');
        res.once('close', () => dripClosed());
      },
      '/hop': (req, res) => {
        req.resume();
        res.writeHead(200, { connection: 'x-upstream-hop', 'x-upstream-hop': 'secret', 'x-end-to-end': 'kept' });
        res.end('ok');
      },
    });
    edge = await startEdge({
      host: '127.0.0.1',
      port: 0,
      routes: [
        { prefix: '/v1', target: v1.url },
        { prefix: '/v2', target: v2.url },
        { prefix: '/based', target: `${v1.url}/base/` },
        { prefix: '/down', target: `http://127.0.0.1:${await closedPort()}` },
      ],
      timeouts: { headersMs: 400 },
    });
  });

  afterAll(async () => {
    await edge?.close();
    v1?.server.closeAllConnections();
    v2?.server.closeAllConnections();
    await Promise.all([v1, v2].map((u) => u && new Promise((resolve) => u.server.close(resolve))));
  });

  it('strips the matched prefix like Traefik stripPrefix', async () => {
    expect(json(await send(edge.url, '/v2/healthz'))).toMatchObject({ upstream: 'v2', url: '/healthz' });
    expect(json(await send(edge.url, '/v2'))).toMatchObject({ upstream: 'v2', url: '/' });
    expect(json(await send(edge.url, '/v2/'))).toMatchObject({ upstream: 'v2', url: '/' });
    expect(json(await send(edge.url, '/v1/screens/42'))).toMatchObject({ upstream: 'v1', url: '/screens/42' });
    expect(json(await send(edge.url, '/based/x'))).toMatchObject({ upstream: 'v1', url: '/base/x' });
  });

  it('keeps the query string exactly as sent', async () => {
    const reply = json(await send(edge.url, '/v1/search?q=a%20b&tag=x&tag=y&empty='));
    expect(reply.url).toBe('/search?q=a%20b&tag=x&tag=y&empty=');
    expect(json(await send(edge.url, '/v2?x=1')).url).toBe('/?x=1');
  });

  it('answers 404 problem+json for unrouted paths, including /v2beta', async () => {
    for (const path of ['/v2beta', '/v2beta/x', '/', '/v3/healthz', '/V2/healthz']) {
      const reply = await send(edge.url, path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers['content-type']).toBe('application/problem+json');
      expect(json(reply)).toMatchObject({ status: 404, title: 'Not found', type: expect.stringContaining('not-found') });
      expect(typeof json(reply).detail).toBe('string');
    }
  });

  it('never forwards /readyz, /metrics or /internal, to a routed service or to the fallback', async () => {
    const consoleUpstream = await startUpstream('console');
    const withConsole = await startEdge({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/v1', target: v1.url }, { prefix: '/v2', target: v2.url }], fallback: consoleUpstream.url });
    try {
      const blocked = ['/readyz', '/metrics', '/internal/presence', '/internal', '/v2/readyz', '/v2/metrics', '/v1/readyz', '/v1/metrics', '/v2/internal/openapi.json', '/v1/../v2/metrics', '/v2/METRICS', '/v2/readyz?x=1'];
      for (const path of blocked) {
        const reply = await send(withConsole.url, path, { method: path.includes('presence') ? 'POST' : 'GET' });
        expect(reply.status, path).toBe(404);
        expect(reply.headers['content-type'], path).toBe('application/problem+json');
      }
      // Liveness and look-alikes still pass.
      expect(json(await send(withConsole.url, '/v2/healthz'))).toMatchObject({ upstream: 'v2', url: '/healthz' });
      expect(json(await send(withConsole.url, '/v2/metricsx'))).toMatchObject({ upstream: 'v2', url: '/metricsx' });
      expect(json(await send(withConsole.url, '/displays/internal'))).toMatchObject({ upstream: 'console' });
    } finally {
      await withConsole.close();
      consoleUpstream.server.closeAllConnections();
      await new Promise((resolve) => consoleUpstream.server.close(resolve));
    }
  });

  it('sends everything unrouted to the fallback unchanged (the console), while /v1 and /v2 keep theirs', async () => {
    const consoleUpstream = await startUpstream('console');
    const withConsole = await startEdge({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/v2', target: v2.url }], fallback: consoleUpstream.url });
    try {
      for (const path of ['/', '/bookings/42?tab=report', '/v2beta/x', '/assets/index-abc.js']) {
        const reply = json(await send(withConsole.url, path));
        expect(reply, path).toMatchObject({ upstream: 'console', url: path });
        expect(reply.headers['x-forwarded-prefix'], path).toBeUndefined();
      }
      expect(json(await send(withConsole.url, '/v2/healthz'))).toMatchObject({ upstream: 'v2', url: '/healthz' });
      expect(json(await send(withConsole.url, '/v1/../v2/x'))).toMatchObject({ upstream: 'v2', url: '/x' });
    } finally {
      await withConsole.close();
      consoleUpstream.server.closeAllConnections();
      await new Promise((resolve) => consoleUpstream.server.close(resolve));
    }
  });

  it('resolves dot segments before routing so one prefix cannot reach another service', async () => {
    expect(json(await send(edge.url, '/v1/../v2/x'))).toMatchObject({ upstream: 'v2', url: '/x' });
    expect((await send(edge.url, '/v1/%2e%2e/nowhere')).status).toBe(404);
  });

  it('sets X-Forwarded-* and drops spoofed ones from the client', async () => {
    const reply = json(
      await send(edge.url, '/v1/who', {
        headers: {
          host: 'marquee.local:8080',
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-prefix': '/evil',
          'x-real-ip': '6.6.6.6',
          'x-forwarded-server': 'evil',
          forwarded: 'for=6.6.6.6',
        },
      }),
    );
    expect(reply.headers.forwarded).toBeUndefined();
    expect(reply.headers['x-forwarded-server']).toBeUndefined();
    expect(reply.headers).toMatchObject({
      host: 'marquee.local:8080',
      'x-forwarded-for': '127.0.0.1',
      'x-real-ip': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'marquee.local:8080',
      'x-forwarded-port': '8080',
      'x-forwarded-prefix': '/v1',
    });
  });

  it('does not forward hop-by-hop headers in either direction', async () => {
    const request = json(
      await send(edge.url, '/v1/hop', {
        headers: { connection: 'keep-alive, x-client-hop', 'x-client-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'x-end-to-end': 'yes' },
      }),
    );
    expect(request.headers['x-end-to-end']).toBe('yes');
    for (const name of ['x-client-hop', 'keep-alive', 'te']) expect(request.headers[name], name).toBeUndefined();

    const response = await send(edge.url, '/v2/hop');
    expect(response.headers['x-end-to-end']).toBe('kept');
    expect(response.headers['x-upstream-hop']).toBeUndefined();
  });

  it('streams a large chunked upload through and back without buffering it', async () => {
    const payload = randomBytes(8 * 1024 * 1024);
    const head = payload.subarray(0, 64 * 1024);
    const upstreamGotHead = new Promise<void>((resolve) => (firstChunkSeen = resolve));
    async function* slowUpload() {
      yield head;
      // A buffering proxy would never let the upstream see this first piece before the end.
      await Promise.race([
        upstreamGotHead,
        new Promise((_, reject) => setTimeout(() => reject(new Error('upstream saw nothing before the upload ended')), 10_000)),
      ]);
      for (let at = head.length; at < payload.length; at += 256 * 1024) yield payload.subarray(at, at + 256 * 1024);
    }
    const reply = await send(edge.url, '/v2/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.from(slowUpload()),
    });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(payload.length);
    expect(sha256(reply.body)).toBe(sha256(payload));
  });

  it('streams the response: the client gets the first piece while the upstream is still writing', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(edge.url);
      http
        .get({ hostname, port, path: '/v2/drip', agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text === 'first;') releaseDrip();
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe('first;last');
  });

  it('cancels the upstream request when the client goes away', async () => {
    const upstreamClosed = new Promise<void>((resolve) => (dripClosed = resolve));
    const { hostname, port } = new URL(edge.url);
    await new Promise<void>((resolve) => {
      const req = http.get({ hostname, port, path: '/v2/drip', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    await upstreamClosed; // would hang (and time out) if the edge kept the upstream request open
  });

  it('passes HEAD and bodiless statuses through', async () => {
    const head = await send(edge.url, '/v1/anything', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-type']).toBe('application/json');
  });

  it('forwards a fixed-length POST body intact', async () => {
    const body = Buffer.from(JSON.stringify({ name: 'lobby screen' }));
    const reply = await send(edge.url, '/v2/echo', { method: 'POST', headers: { 'content-length': body.length }, body });
    expect(reply.body.toString()).toBe(body.toString());
  });

  it('answers 502 problem+json when the upstream is down', async () => {
    const reply = await send(edge.url, '/down/healthz');
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(json(reply)).toMatchObject({ status: 502, title: 'Bad gateway' });

    const withBody = await send(edge.url, '/down/upload', { method: 'POST', body: Buffer.alloc(100_000, 1) });
    expect(withBody.status).toBe(502);
  });

  it('answers 504 problem+json when the upstream does not answer in time', async () => {
    // /never never answers: only the configured 400 ms headers timeout (not the 60 s default,
    // past this test's timeout) can end the request.
    const reply = await send(edge.url, '/v2/never');
    expect(reply.status).toBe(504);
    expect(json(reply)).toMatchObject({ status: 504, title: 'Gateway timeout' });
  });

  it('rejects bad route configuration', async () => {
    for (const prefix of ['v2', '/v2/', '/', '']) {
      await expect(startEdge({ host: '127.0.0.1', port: 0, routes: [{ prefix, target: v1.url }] }), prefix).rejects.toThrow(/prefix/);
    }
  });
});

describe('local edge shutdown', () => {
  it('lets an in-flight request finish, then refuses new connections', async () => {
    let reached!: () => void;
    const upstreamHasIt = new Promise<void>((resolve) => (reached = resolve));
    let finish!: () => void;
    const upstream = await startUpstream('slow', {
      '/slow': (req, res) => {
        req.resume();
        finish = () => res.end('finished');
        reached();
      },
    });
    const edge = await startEdge({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/api', target: upstream.url }] });
    const inFlight = send(edge.url, '/api/slow');
    await upstreamHasIt; // the request is in flight through the edge
    const closing = edge.close();
    finish();
    await closing;
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('finished');
    await expect(send(edge.url, '/api/slow')).rejects.toThrow(/ECONNREFUSED/);
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  it('fails clearly when its port is taken', async () => {
    const holder = http.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    await expect(startEdge({ host: '127.0.0.1', port, routes: [] })).rejects.toThrow(/already in use/);
    await new Promise((resolve) => holder.close(resolve));
  });
});
