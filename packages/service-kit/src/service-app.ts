import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { acceptRequestId, continueTrace, requestContextOf, type RequestContext } from './context.ts';
import { NotFoundError, PayloadTooLargeError, problemFor } from './errors.ts';
import { guardJsonBodies } from './json-body.ts';
import { lazyChild } from './logger.ts';
import type { ServiceMetrics } from './metrics.ts';
import { closeIfBodyUnread, requestHeader, setResponseHeader } from './node-http.ts';
import { publicPath } from './public-path.ts';

export interface ServiceEnv {
  Variables: { requestId: string; logger: Logger; requestContext: RequestContext };
}

/**
 * A readiness probe: resolves if the dependency answers, throws otherwise. `context` is the /readyz
 * request's, for a probe that calls another service.
 */
export type ReadinessCheck = (context?: RequestContext) => Promise<unknown>;

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Named checks run by GET /readyz (database, redis, ...). */
  readiness?: Record<string, ReadinessCheck>;
  /** Default request body cap; routes that stream uploads mount their own. */
  maxBodyBytes?: number;
  /** Paths exempt from the default body cap (e.g. chunk upload routes with their own limit). */
  bodyLimitExempt?: (path: string) => boolean;
  /**
   * Runs before everything else but request scoping (probes, body cap, routes): an internal
   * listener's `serviceAuth`, so a refused call has its body unread and no effect.
   */
  guard?: MiddlewareHandler;
}

const READINESS_TIMEOUT_MS = 2_000;
/** The build's git revision: the Dockerfile sets MARQUEE_REVISION from its GIT_REVISION build arg. */
const REVISION = process.env.MARQUEE_REVISION || 'unknown';

/**
 * The Hono app every service starts from: request ids + trace context, access logs, HTTP
 * histograms, the default body cap, JSON bodies parsed once (json-body.ts), /healthz, /readyz, /metrics and problem+json for every error.
 */
export function createServiceApp<A extends Hono<any> = Hono<ServiceEnv>>(opts: ServiceAppOptions, app: A = new Hono() as unknown as A): A {
  const maxBody = opts.maxBodyBytes ?? 256 * 1024;

  app.use('*', requestScope(opts) as MiddlewareHandler);
  if (opts.guard) app.use('*', opts.guard);
  const limit = bodyLimit({
    maxSize: maxBody,
    onError: () => {
      throw new PayloadTooLargeError(`Request body exceeds ${maxBody} bytes.`);
    },
  });
  // GET/HEAD carry no body we read; skipping them matters because bodyLimit's first look at
  // c.req.raw.body makes @hono/node-server build a full WHATWG Request (with AbortSignal) per request.
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' || opts.bodyLimitExempt?.(c.req.path) ? next() : limit(c, next)));
  // Within the cap: every JSON body is parsed once, too-deep nesting and NUL characters refused.
  app.use('*', (c, next) => (opts.bodyLimitExempt?.(c.req.path) ? next() : guardJsonBodies(c, next)));

  // Liveness, which the container health check probes: 503 until the service has been ready once
  // (a release that never gets ready fails its update and is rolled back), then 200 for as long as
  // the process answers. Not readiness: a database or Redis restart makes every task not ready at
  // once, and Swarm would kill them all; routing (Traefik) follows /readyz instead.
  // The revision says which build answers (e.g. during a rolling update or after a rollback).
  let readyOnce = false;
  app.get('/healthz', async (c) => {
    if (!readyOnce) {
      const { ready, checks } = await runReadiness(opts, requestContextOf(c));
      if (!ready) return c.json({ status: 'starting', service: opts.service, revision: REVISION, checks }, 503);
      readyOnce = true;
    }
    return c.json({ status: 'ok', service: opts.service, revision: REVISION });
  });
  app.get('/readyz', async (c) => {
    const { ready, checks } = await runReadiness(opts, requestContextOf(c));
    if (ready) readyOnce = true;
    return c.json({ status: ready ? 'ready' : 'not ready', service: opts.service, checks }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('content-type', opts.metrics.registry.contentType);
    return c.body(await opts.metrics.registry.metrics());
  });

  app.notFound((c) => sendProblem(c, new NotFoundError(`No route for ${c.req.method} ${publicPath(c)}.`)));
  app.onError((err, c) => sendProblem(c, err));
  return app;
}

function requestScope(opts: ServiceAppOptions): MiddlewareHandler<ServiceEnv> {
  return async (c, next) => {
    const requestId = acceptRequestId(requestHeader(c, 'x-request-id'));
    const { traceId, spanId } = continueTrace(requestHeader(c, 'traceparent'));
    const logger = lazyChild(opts.logger, { reqId: requestId, traceId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    c.set('requestContext', { requestId, traceId, spanId, logger });
    setResponseHeader(c, 'x-request-id', requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const method = c.req.method;
    const route = c.req.routePath || 'unmatched';
    const status = c.res.status;
    opts.metrics.httpDuration.observe({ method, route, status: String(status) }, seconds);
    // The access line is built only when it would be written (services run at warn in production).
    const path = c.req.path;
    // Asked of the service's logger: asking the request's would make it.
    if (!isProbe(path) && opts.logger.isLevelEnabled('info')) {
      logger.info({ method, path, route, status, ms: Math.round(seconds * 10000) / 10 }, 'request');
    }
  };
}

function isProbe(path: string) {
  return path === '/healthz' || path === '/readyz' || path === '/metrics';
}

/** Renders any error as problem+json; unexpected errors are logged with their stack. */
export function sendProblem(c: Context, err: unknown): Response {
  const { problem, headers } = problemFor(err, publicPath(c));
  closeIfBodyUnread(c);
  if (problem.status >= 500) {
    const logger = (c.get('logger') as Logger | undefined) ?? undefined;
    logger?.error({ err }, 'request failed');
  }
  problem.requestId = c.get('requestId');
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': String(c.get('requestId') ?? ''), ...headers },
  });
}

/** Runs every readiness check at once; a check's entry is 'ok' or why it failed. */
async function runReadiness(opts: ServiceAppOptions, context: RequestContext | undefined): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  let ready = true;
  await Promise.all(
    Object.entries(opts.readiness ?? {}).map(async ([name, check]) => {
      try {
        await withTimeout(check(context), READINESS_TIMEOUT_MS);
        checks[name] = 'ok';
      } catch (err) {
        ready = false;
        checks[name] = err instanceof Error ? err.message : String(err);
      }
    }),
  );
  return { ready, checks };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
