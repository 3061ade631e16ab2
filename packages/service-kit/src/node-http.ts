import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

/**
 * Header access on the hot path without WHATWG objects.
 *
 * Under @hono/node-server, `c.req.header(name)` reads `c.req.raw.headers`, which builds an undici
 * `Headers` from every raw header of the request (validating each name and value), and `c.header()`
 * before the response exists makes another `Headers` that node-server then copies back into a
 * plain object. Both are per-request work the middleware chain paid on every call. node-server
 * hands the Node request and response to the app as `c.env.incoming` / `c.env.outgoing`; these
 * helpers use them and fall back to Hono's API where they are absent (`app.request()` in tests,
 * another adapter).
 */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

const bindings = (c: Context) => c.env as NodeBindings | undefined;

/**
 * The request header `name` (lower case) as `Headers.get` would give it: repeated headers are
 * joined with ", " (Node's plain `headers` object would drop repeats of e.g. Authorization).
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = bindings(c)?.incoming;
  if (incoming?.headersDistinct) {
    const values = incoming.headersDistinct[name];
    return values === undefined ? undefined : values.length === 1 ? values[0] : values.join(', ');
  }
  return c.req.header(name);
}

/**
 * Sets a header on whatever response the request ends with (handler result, problem document,
 * 404): on the Node response, whose `writeHead` merges it with the Response's own headers (the
 * Response's value wins for the same name), or through `c.header` without a Node response.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = bindings(c)?.outgoing;
  if (outgoing && typeof outgoing.setHeader === 'function' && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}
