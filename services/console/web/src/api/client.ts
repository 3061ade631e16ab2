import createClient from 'openapi-fetch';
import { ApiError, NetworkError, problemOf } from './problem.ts';
import type { paths } from './schema.ts';
import { API_BASE, authFetch } from './session.ts';

/** The typed API client: paths, parameters and bodies come from api-v2's OpenAPI document. */
export const api = createClient<paths>({
  baseUrl: API_BASE,
  fetch: async (request: Request) => {
    try {
      return await authFetch(request);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new NetworkError(err);
    }
  },
});

/**
 * The data of an openapi-fetch result, or an ApiError carrying the problem document (its
 * `detail` is what the person sees).
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  throw new ApiError(response.status, error && typeof error === 'object' ? (error as never) : await problemOf(response));
}
