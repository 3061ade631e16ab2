/**
 * One way for tests to call an HTTP API, whether it listens on a socket (a base URL) or is a Hono
 * app called in-process (`app.request()`): a Target is either.
 */

/** A base URL (real sockets), or a function answering a path like fetch would (an app in-process). */
export type Target = string | ((path: string, init?: RequestInit) => Response | Promise<Response>);

/** Calls `path` on the target; for an in-process app, adds the Content-Length a real client sends. */
export function request(target: Target, path: string, init: RequestInit = {}): Promise<Response> {
  if (typeof target === 'string') return fetch(target + path, init);
  const headers = new Headers(init.headers);
  const body = init.body;
  if (!headers.has('content-length') && (typeof body === 'string' || body instanceof Uint8Array)) {
    headers.set('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
  }
  return Promise.resolve(target(path, { ...init, headers }));
}

/** JSON request helper returning status, headers and parsed body. */
export async function api(target: Target, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(target, path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
