import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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

/** How long a closing connection keeps discarding what the client still sends (Go's net/http: 500 ms). */
export const LINGER_MS = 1_000;

/**
 * Makes Node's close of this socket a lingering one. When an answer says `Connection: close`,
 * Node ends the socket and destroys it as soon as the answer is written; bytes the client is
 * still sending (the unread rest of a body) then sit unread in the kernel, whose close answers
 * them with a TCP reset, and a reset can reach the client before it has read the answer: a proxy
 * reports that as a 502. Here the socket half-closes instead (FIN after the answer), keeps
 * reading and discarding, and is destroyed once the client closes too or LINGER_MS have passed.
 */
export function lingerOnClose(socket: Socket, lingerMs = LINGER_MS): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.destroyed) return;
    const done = () => {
      clearTimeout(timer);
      this.destroy();
    };
    const timer = setTimeout(done, lingerMs);
    timer.unref();
    this.once('end', done);
    this.once('error', done);
    if (this.writable) this.end();
    this.resume();
  };
}

/**
 * An answer sent before the request's body was read (a 413, a refusal before an upload chunk was
 * streamed) closes its connection, cleanly: `Connection: close` so no client or proxy reuses it,
 * and a lingering close. What Go's net/http (Traefik) does for a large unread body; Node's
 * keep-alive would instead drain the rest, then cut a body that is slow or endless.
 */
export function closeIfBodyUnread(c: Context): void {
  const incoming = bindings(c)?.incoming;
  if (!incoming || incoming.complete) return;
  setResponseHeader(c, 'connection', 'close');
  lingerOnClose(incoming.socket);
}
