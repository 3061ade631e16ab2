import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import type { Logger } from 'pino';

/** Per-request context, carried implicitly so internal calls propagate ids without plumbing. */
export interface RequestContext {
  requestId: string;
  /** W3C trace context of this hop: the trace id is kept, the span id is ours. */
  traceId: string;
  spanId: string;
  logger: Logger;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

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

/** Headers an outgoing internal call should carry for the current context (if any). */
export function propagationHeaders(): Record<string, string> {
  const ctx = requestContext.getStore();
  if (!ctx) return {};
  return {
    'x-request-id': ctx.requestId,
    traceparent: `00-${ctx.traceId}-${ctx.spanId}-01`,
  };
}
