import { randomFillSync } from 'node:crypto';
import type { Context } from 'hono';
import type { Logger } from 'pino';

/**
 * Per-request context: the request id and W3C trace context an internal call made for this request
 * propagates (`InternalRequest.context`), and the request's logger.
 *
 * It is passed explicitly (`requestContextOf(c)`), not through AsyncLocalStorage: on Node 20 an
 * active AsyncLocalStorage runs async_hooks' init/before/after hooks on every promise in the
 * process, which measured 8-10 us of CPU per request on api-v2's authenticated read (bench H2) and
 * ~5 us (20 %) on a bare GET /healthz, for the few routes that call another service.
 */
export interface RequestContext {
  requestId: string;
  /** W3C trace context of this hop: the trace id is kept, the span id is ours. */
  traceId: string;
  spanId: string;
  logger: Logger;
}

/** The context the kit's request scope set for this request (undefined outside createServiceApp). */
export function requestContextOf(c: Context): RequestContext | undefined {
  return c.get('requestContext') as RequestContext | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

// Ids are made on every request: draw randomness in 4 KiB batches instead of a crypto call each.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function randomSlice(bytes: number): Buffer {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return slice;
}

export function newRequestId(): string {
  return randomSlice(12).toString('base64url');
}

/** Accepts an incoming id only if it is safe to log and echo; otherwise makes a new one. */
export function acceptRequestId(incoming: string | undefined | null): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : newRequestId();
}

/** Continues an incoming trace (or starts one) with a fresh span id for this hop. */
export function continueTrace(traceparent: string | undefined | null): { traceId: string; spanId: string } {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  const traceId = match && match[1] !== '0'.repeat(32) ? match[1]! : randomSlice(16).toString('hex');
  return { traceId, spanId: randomSlice(8).toString('hex') };
}

/** Headers an outgoing internal call made for `ctx` carries (none without a request context). */
export function propagationHeaders(ctx: RequestContext | undefined): Record<string, string> {
  if (!ctx) return {};
  return {
    'x-request-id': ctx.requestId,
    traceparent: `00-${ctx.traceId}-${ctx.spanId}-01`,
  };
}
