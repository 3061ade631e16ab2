/**
 * Header rules of the local edge, matching what production Traefik does with its defaults:
 * hop-by-hop headers are connection-scoped and never forwarded (RFC 9110 §7.6.1); X-Forwarded-*
 * from the client are not trusted (no trusted IPs configured) and are replaced, not appended.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Headers the edge sets itself; whatever the client sent under these names is dropped. */
const EDGE_OWNED = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
  'forwarded',
]);

/** Names a `Connection` header lists are hop-by-hop for this message too. */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    joined
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Port the client addressed: from the Host header if it names one, else the listener's. */
function forwardedPort(host: string | undefined, listenerPort: number): string {
  const match = host?.match(/:(\d+)$/);
  return match?.[1] ?? String(listenerPort);
}

/** The request headers to send upstream. */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  prefix: string,
  listenerPort: number,
): Record<string, string | string[]> {
  const dropped = connectionTokens(req.headers.connection);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    // `expect: 100-continue` was answered by node:http already; undici refuses to send it.
    if (HOP_BY_HOP.has(name) || EDGE_OWNED.has(name) || dropped.has(name) || name === 'expect') continue;
    headers[name] = value;
  }
  const ip = clientAddress(req);
  const host = req.headers.host;
  headers['x-forwarded-for'] = ip;
  headers['x-real-ip'] = ip;
  headers['x-forwarded-proto'] = 'http';
  if (host) headers['x-forwarded-host'] = host;
  headers['x-forwarded-port'] = forwardedPort(host, listenerPort);
  // The catch-all route strips nothing, so it names no prefix (as Traefik without stripPrefix).
  if (prefix) headers['x-forwarded-prefix'] = prefix;
  return headers;
}

/** The upstream response headers to pass back to the client. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const dropped = connectionTokens(upstream.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}
