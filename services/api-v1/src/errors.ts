import type { Context } from 'hono';
import { closeIfBodyUnread, problemFor, type InternalResponse, type Logger } from '@marquee/service-kit';

/**
 * v1's error style: `{status: -1, message}` with a 4xx/5xx HTTP status (never problem+json: old
 * clients read `status` and `message`). Routes throw V1Error; kit errors (body too large, a
 * dependency down, malformed JSON) are rendered in the same style by `renderV1Error`.
 */
export class V1Error extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'V1Error';
  }
}

export function renderV1Error(err: unknown, c: Context): Response {
  let status: number;
  let message: string;
  let headers: Record<string, string> = {};
  if (err instanceof V1Error) {
    ({ httpStatus: status, message, headers } = err);
  } else {
    const mapped = problemFor(err);
    status = mapped.problem.status;
    // Validation failures of v1 input are "bad request" in v1, as everywhere else in this API.
    if (status === 422) status = 400;
    message = status === 415 ? 'send the body as application/json' : (mapped.problem.detail ?? mapped.problem.title);
    headers = mapped.headers;
  }
  if (status >= 500) (c.get('logger') as Logger | undefined)?.error({ err }, 'v1 request failed');
  closeIfBodyUnread(c);
  // RFC 9110: every 401 names its scheme; v1 tokens are bearer tokens (also accepted as `token`).
  if (status === 401 && !Object.keys(headers).some((h) => h.toLowerCase() === 'www-authenticate')) headers = { ...headers, 'www-authenticate': 'Bearer' };
  return new Response(JSON.stringify({ status: -1, message }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': String(c.get('requestId') ?? ''), ...headers },
  });
}

/**
 * Turns an api-v2 / account 4xx answer into a V1Error carrying its detail. v2's 422 ("your
 * input is wrong") is 400 in v1; other statuses (401, 403, 404, 409, 429) keep their meaning.
 */
export function v1ErrorFrom(res: InternalResponse, fallback: string, overrides: Partial<Record<number, string>> = {}): V1Error {
  const body = res.body as { detail?: unknown } | undefined;
  const detail = typeof body?.detail === 'string' ? body.detail : fallback;
  const status = res.status === 422 ? 400 : res.status;
  const headers: Record<string, string> = {};
  for (const name of ['retry-after', 'www-authenticate']) if (res.headers[name]) headers[name] = String(res.headers[name]);
  return new V1Error(status, overrides[res.status] ?? detail, headers);
}
