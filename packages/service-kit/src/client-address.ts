import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { requestHeader } from './node-http.ts';

/**
 * The end client's address: the first X-Forwarded-For hop (set by the edge, which replaces what
 * clients send, or by our own API services on internal calls), else the socket's peer.
 */
export function clientAddress(c: Context): string {
  const forwarded = requestHeader(c, 'x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded) return forwarded;
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}

/** Headers that carry the end client's address on an internal call (e.g. for login throttling). */
export function forwardedFor(c: Context): Record<string, string> {
  const fromEdge = requestHeader(c, 'x-forwarded-for');
  if (fromEdge) return { 'x-forwarded-for': fromEdge };
  const address = clientAddress(c);
  return address === 'unknown' ? {} : { 'x-forwarded-for': address };
}
