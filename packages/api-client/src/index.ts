/**
 * A typed client for Marquee's public API v2. The types (`paths`, `operations`, `components`)
 * are generated from /v2/openapi.json by scripts/generate.ts; requests go through openapi-fetch,
 * so every path, parameter, body and answer is checked by the compiler against the API.
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

export type { components, operations, paths };

/** The API's named schemas: `Schemas['Display']`, `Schemas['Booking']`, ... */
export type Schemas = components['schemas'];
export type User = Schemas['User'];
export type Tokens = Schemas['Tokens'];
export type Display = Schemas['Display'];
export type PublicDisplay = Schemas['PublicDisplay'];
export type Creative = Schemas['Creative'];
export type Booking = Schemas['Booking'];
export type PlayReport = Schemas['PlayReport'];

/** An RFC 9457 problem document, as every error answer carries it. */
export type Problem = Schemas['Problem'] & {
  /** On 422: each field that failed and its rule. */
  errors?: { field: string; message: string }[];
  /** A machine-readable reason some answers add (e.g. `username-taken`, `hold-expired`). */
  code?: string;
};

export type MarqueeClient = Client<paths>;

export interface MarqueeClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where API v2 is served, e.g. `http://127.0.0.1:8080/v2`. */
  baseUrl: string;
  /**
   * The access token from `POST /auth/login`, or a function giving the current one (called per
   * request, so it can refresh); sent as `Authorization: Bearer <token>`.
   */
  accessToken?: string | (() => string | undefined | Promise<string | undefined>);
}

/** A client for one API v2 deployment (and, with `accessToken`, one user). */
export function createMarqueeClient(options: MarqueeClientOptions): MarqueeClient {
  const { baseUrl, accessToken, ...rest } = options;
  const client = createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, '') });
  if (accessToken !== undefined) client.use(bearer(accessToken));
  return client;
}

function bearer(accessToken: NonNullable<MarqueeClientOptions['accessToken']>): Middleware {
  return {
    async onRequest({ request }) {
      const token = typeof accessToken === 'function' ? await accessToken() : accessToken;
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
}

/** An error answer of the API: its HTTP status and problem document (`detail` says what to fix). */
export class MarqueeApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? `${status} ${problem.title}`);
    this.name = 'MarqueeApiError';
  }
}

/**
 * The data of a successful call, or a thrown MarqueeApiError carrying the problem document:
 * `const display = await unwrap(client.GET('/displays/{id}', { params: { path: { id } } }))`.
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const problem =
    error && typeof error === 'object' ? (error as Problem) : { type: 'about:blank', title: response.statusText || 'Error', status: response.status };
  throw new MarqueeApiError(response.status, problem);
}
