/**
 * The local stand-in for the production Traefik edge: one HTTP listener routing by path prefix
 * to the services, with the same router rule (``Path(`/v2`) || PathPrefix(`/v2/`)``) and the
 * same stripPrefix behaviour, so clients see identical URLs locally and in production.
 * Bodies stream both ways; nothing is buffered.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { lingerOnClose } from '@marquee/service-kit';
import { Pool } from 'undici';
import { clientResponseHeaders, upstreamRequestHeaders } from './edge-headers.ts';
import { type LocalLogger, silentLogger } from './logger.ts';

export interface EdgeRoute {
  /** Path prefix without trailing slash, e.g. `/v2`. Matches `/v2` and `/v2/...`, not `/v2beta`. */
  prefix: string;
  /** Upstream origin, e.g. `http://127.0.0.1:3002`; a path on it is prepended to forwarded paths. */
  target: string;
}

export interface EdgeTimeouts {
  /** TCP connect to the upstream. Default 2 000 ms. Exceeding it answers 504. */
  connectMs?: number;
  /** Until the upstream's response headers arrive. Default 60 000 ms. Exceeding it answers 504. */
  headersMs?: number;
  /** Longest silence between response body chunks. Default 300 000 ms; then the response is cut. */
  bodyMs?: number;
}

export interface EdgeOptions {
  host: string;
  /** 0 picks a free port (see the returned `url`). */
  port: number;
  routes: EdgeRoute[];
  /**
   * Upstream for every path no route matches, forwarded unchanged (no prefix stripped), like the
   * production catch-all router ``PathPrefix(`/`)`` at the lowest priority: the console.
   */
  fallback?: string;
  logger?: LocalLogger;
  timeouts?: EdgeTimeouts;
  /** How long `close()` waits for in-flight requests before cutting connections. Default 5 000 ms. */
  closeGraceMs?: number;
}

export interface Edge {
  /** `http://<host>:<port>` as actually bound. */
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes. */
  close(): Promise<void>;
}

interface CompiledRoute {
  prefix: string;
  basePath: string;
  pool: Pool;
  target: string;
}

const PROBLEM_BASE = 'https://marquee.dev/problems/';
const PREFIX_SHAPE = /^(\/[^/?#\s]+)+$/;
/**
 * Paths (as the service would see them) the edge never forwards, like the production Traefik's
 * `never-routed` router: readiness details, metrics and internal endpoints stay inside.
 */
export const NEVER_ROUTED = /^\/(?:readyz|metrics|internal)(?:[/.]|$)/i;

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const logger = options.logger ?? silentLogger;
  const timeouts = { connectMs: 2_000, headersMs: 60_000, bodyMs: 300_000, ...options.timeouts };
  const routes = compileRoutes(options.routes, timeouts);
  const fallback = options.fallback ? compileTarget('', options.fallback, timeouts) : undefined;
  let listenerPort = options.port;
  let inFlight = 0;
  // Server-Sent Events never finish by themselves: closing cuts them at once (clients reconnect).
  const eventStreams = new Set<ServerResponse>();

  const server = http.createServer((req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
    void proxy(req, res).catch((err: unknown) => {
      logger.error(`edge: unexpected failure on ${req.method} ${req.url}: ${String(err)}`);
      if (!res.headersSent) sendProblem(res, 502, 'bad-gateway', 'Bad gateway', 'The edge failed to forward the request.');
      else res.destroy();
    });
  });
  // Requests are streamed to the upstream, which applies its own limits; the edge only guards
  // against clients that never finish sending headers.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;

  async function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    // Client aborts surface on the upstream request via the abort signal; keep them from
    // becoming unhandled 'error' events on the request stream.
    req.on('error', () => {});
    const target = splitTarget(req.url ?? '');
    if (!target) {
      sendProblem(res, 400, 'malformed-request', 'Malformed request', 'The request target is not a valid path.');
      return;
    }
    const route = routes.find((r) => target.path === r.prefix || target.path.startsWith(r.prefix + '/')) ?? fallback;
    if (!route) {
      sendProblem(res, 404, 'not-found', 'Not found', `No service is routed at ${target.path}.`, target.path);
      logger.debug(`edge: ${req.method} ${target.path} -> 404 (no route)`);
      return;
    }

    const stripped = target.path.slice(route.prefix.length) || '/';
    if (NEVER_ROUTED.test(stripped)) {
      sendProblem(res, 404, 'not-found', 'Not found', `No service is routed at ${target.path}.`, target.path);
      logger.debug(`edge: ${req.method} ${target.path} -> 404 (probes and internal endpoints are never routed)`);
      return;
    }
    const upstreamPath = route.basePath + stripped + target.search;
    const aborter = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborter.abort(new Error('client closed the connection'));
    });

    // undici destroys a request body it stops sending (the upstream answered early, e.g. 413);
    // destroying `req` itself would reset the client's connection, so it gets a stand-in, and
    // what the client still sends then is read and dropped, leaving the connection usable.
    const body = hasBody(req) ? req.pipe(new PassThrough()) : null;
    body?.once('close', () => {
      if (req.complete) return;
      req.unpipe();
      req.resume();
    });
    let upstream: Awaited<ReturnType<Pool['request']>>;
    try {
      upstream = await route.pool.request({
        method: req.method as string as 'GET',
        path: upstreamPath,
        headers: upstreamRequestHeaders(req, route.prefix, listenerPort),
        body,
        signal: aborter.signal,
      });
    } catch (err) {
      if (aborter.signal.aborted) return;
      const failure = classifyUpstreamError(err);
      logger.warn(`edge: ${req.method} ${target.path} -> ${route.target}${upstreamPath}: ${failure.status} (${describe(err)})`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The request body may be half-read; do not reuse this connection.
      closeIfBodyUnread(req, res);
      res.setHeader('connection', 'close');
      sendProblem(res, failure.status, failure.slug, failure.title, failure.detail(route.prefix || '/'), target.path);
      return;
    }

    // The upstream will not read the rest of the body (it closes: e.g. a 413): like Traefik (Go's
    // net/http), close the client's connection after the answer too, rather than keep it alive
    // behind a body nobody reads.
    if (/\bclose\b/i.test(String(upstream.headers.connection ?? ''))) closeIfBodyUnread(req, res);
    res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers));
    if (String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      eventStreams.add(res);
      res.once('close', () => eventStreams.delete(res));
    }
    try {
      await pipeline(upstream.body, res);
      logger.debug(`edge: ${req.method} ${target.path} -> ${upstream.statusCode} in ${Date.now() - started} ms`);
    } catch (err) {
      // Headers are out; the only honest signal left is cutting the connection.
      if (!aborter.signal.aborted) logger.warn(`edge: response from ${route.target} broke off: ${describe(err)}`);
      res.destroy();
      upstream.body.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    await Promise.all([...routes, ...(fallback ? [fallback] : [])].map((r) => r.pool.destroy()));
    if (err.code === 'EADDRINUSE') throw new Error(`cannot start edge: ${options.host}:${options.port} is already in use`);
    throw err;
  });
  const address = server.address() as AddressInfo;
  listenerPort = address.port;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  logger.info(`edge listening on ${url}: ${routes.map((r) => `${r.prefix} -> ${r.target}`).join(', ')}${fallback ? `, anything else -> ${fallback.target}` : ''}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const stream of eventStreams) stream.destroy();
      const deadline = Date.now() + (options.closeGraceMs ?? 5_000);
      while (inFlight > 0 && Date.now() < deadline) await sleep(20);
      if (inFlight > 0) logger.warn(`edge: closing with ${inFlight} request(s) still in flight`);
      server.closeAllConnections();
      await closed;
      await Promise.all([...routes, ...(fallback ? [fallback] : [])].map((r) => r.pool.destroy()));
    })();
    return closing;
  };
  return { url, close };
}

function compileRoutes(routes: EdgeRoute[], timeouts: Required<EdgeTimeouts>): CompiledRoute[] {
  const seen = new Set<string>();
  const compiled = routes.map((route) => {
    if (!PREFIX_SHAPE.test(route.prefix)) {
      throw new Error(`edge route prefix must look like "/v2" (leading slash, no trailing slash): ${JSON.stringify(route.prefix)}`);
    }
    if (seen.has(route.prefix)) throw new Error(`edge route prefix listed twice: ${route.prefix}`);
    seen.add(route.prefix);
    return compileTarget(route.prefix, route.target, timeouts);
  });
  // Longest prefix first, so `/v2/admin` would win over `/v2` (Traefik ranks by rule length).
  return compiled.sort((a, b) => b.prefix.length - a.prefix.length);
}

function compileTarget(prefix: string, rawTarget: string, timeouts: Required<EdgeTimeouts>): CompiledRoute {
  const target = new URL(rawTarget);
  if (target.protocol !== 'http:') throw new Error(`edge route target must be http://: ${rawTarget}`);
  return {
    prefix,
    basePath: target.pathname.replace(/\/+$/, ''),
    target: target.origin,
    pool: new Pool(target.origin, {
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    }),
  };
}

/**
 * Path and query of the request target. Dot segments are resolved before routing (as Traefik's
 * path sanitising does), so `/v1/../v2/x` cannot reach v2 through v1's route; percent-encoding
 * is kept as sent.
 */
function splitTarget(rawUrl: string): { path: string; search: string } | undefined {
  try {
    if (rawUrl.startsWith('/')) {
      const queryAt = rawUrl.indexOf('?');
      const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
      const search = queryAt === -1 ? '' : rawUrl.slice(queryAt);
      // Concatenated, not resolved against a base: `//x` must stay a path, not become a host.
      return { path: new URL('http://edge' + rawPath).pathname, search };
    }
    // Absolute-form (`GET http://host/path`), as some clients send to proxies.
    if (/^https?:\/\//i.test(rawUrl)) {
      const parsed = new URL(rawUrl);
      return { path: parsed.pathname, search: parsed.search };
    }
  } catch {
    // fall through: not a usable target
  }
  return undefined;
}

/** If the client's body is not all read yet: `Connection: close`, discard the rest, close lingering. */
function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || !hasBody(req)) return;
  res.setHeader('connection', 'close');
  lingerOnClose(req.socket);
  req.unpipe();
  req.resume();
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

interface UpstreamFailure {
  status: 502 | 504;
  slug: string;
  title: string;
  detail: (prefix: string) => string;
}

function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return {
      status: 504,
      slug: 'gateway-timeout',
      title: 'Gateway timeout',
      detail: (prefix) => `The service behind ${prefix} did not answer in time.`,
    };
  }
  return {
    status: 502,
    slug: 'bad-gateway',
    title: 'Bad gateway',
    detail: (prefix) =>
      code === 'ECONNREFUSED'
        ? `The service behind ${prefix} is not running (connection refused).`
        : `The service behind ${prefix} failed to answer (${code ?? 'connection error'}).`,
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

function sendProblem(res: ServerResponse, status: number, slug: string, title: string, detail: string, instance?: string): void {
  const body = JSON.stringify({ type: PROBLEM_BASE + slug, title, status, detail, ...(instance ? { instance } : {}) });
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
