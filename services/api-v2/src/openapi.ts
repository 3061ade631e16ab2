import { OpenAPIHono, z } from '@hono/zod-openapi';
import { validationFailure, type AuthEnv, type ServiceEnv } from '@marquee/service-kit';
import { problemExample } from './examples.ts';

export type ApiEnv = ServiceEnv & AuthEnv;

/**
 * Every router is an OpenAPIHono whose validation failures become 422 problem+json: the same
 * zod schemas validate requests and generate /openapi.json, so docs and behaviour cannot drift.
 */
export function createRouter() {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      // @hono/zod-validator hands the hook the value it validated as `data` (absent from its type).
      if (!result.success) throw validationFailure(result.error as never, (result as { data?: unknown }).data, result.target);
    },
  });
}

const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem');

/**
 * An error response in a route's `responses`: problem+json, described for this route, with an
 * example answer when one is given (`detail` and any extra members, e.g. `conflicts`).
 */
export const problem = (description: string, example?: { status: number; title: string; slug: string; detail: string; extra?: Record<string, unknown> }) => ({
  description,
  content: {
    'application/problem+json': {
      schema: ProblemSchema,
      ...(example ? { example: problemExample(example.slug, example.title, example.status, example.detail, example.extra) } : {}),
    },
  },
});

const wwwAuthenticate = {
  'WWW-Authenticate': {
    description: '`Bearer`; `Bearer error="invalid_token", error_description="…"` when the access token sent was refused (RFC 6750)',
    schema: { type: 'string' as const },
  },
};

/** A 401 in a route's `responses`, described for this route; it carries a `WWW-Authenticate: Bearer` challenge. */
export const unauthorized = (description: string, exampleDetail = 'The access token has expired.') => ({
  ...problem(description, { status: 401, title: 'Unauthorized', slug: 'unauthorized', detail: exampleDetail }),
  headers: wwwAuthenticate,
});

/** Standard error responses, spread into each route's `responses`. */
const errorResponses = {
  400: problem('Malformed request (e.g. invalid JSON)', { status: 400, title: 'Malformed request', slug: 'malformed-request', detail: 'Malformed JSON in request body' }),
  401: unauthorized('No access token (send `Authorization: Bearer <accessToken>` from POST /auth/login), or it is malformed, invalid or expired'),
  404: problem('Not found (also for objects that belong to someone else)', { status: 404, title: 'Not found', slug: 'not-found', detail: 'No such booking.' }),
  413: problem('Request body too large', { status: 413, title: 'Payload too large', slug: 'payload-too-large', detail: 'Request body exceeds 65536 bytes.' }),
  415: problem('Unsupported media type', { status: 415, title: 'Request refused', slug: 'http-415', detail: 'Unsupported Media Type' }),
  422: problem('Validation failed; `detail` says what to fix and `errors` lists each field with its rule', {
    status: 422,
    title: 'Validation failed',
    slug: 'validation-failed',
    detail: 'Check the request body: location is required (an object); currency: ISO 4217 code in capitals, e.g. EUR.',
    extra: { errors: [{ field: 'location', message: 'is required (an object)' }, { field: 'currency', message: 'ISO 4217 code in capitals, e.g. EUR' }] },
  }),
  503: problem('A dependency is unavailable; retry after Retry-After', {
    status: 503,
    title: 'Service unavailable',
    slug: 'service-unavailable',
    detail: 'account service is unavailable (circuit open); try again shortly.',
  }),
} as const;

export const pick = <K extends keyof typeof errorResponses>(...codes: K[]) =>
  Object.fromEntries(codes.map((c) => [c, errorResponses[c]])) as Pick<typeof errorResponses, K>;

/**
 * A required JSON request body. `example` (typed as the schema's input) is what the docs show and
 * what Swagger UI's "Try it out" sends; the docs lint checks it passes the schema.
 */
export const jsonBody = <T extends z.ZodType>(schema: T, opts: { example?: z.input<T>; description?: string } | string = {}) => {
  const { example, description = 'JSON body' } = typeof opts === 'string' ? { description: opts, example: undefined } : opts;
  return { required: true, description, content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } } };
};

/** A JSON response; `example` is a typical answer (the docs lint checks it matches the schema). */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string, example?: z.input<T>) => ({
  description,
  content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } },
});

export const bearerSecurity = [{ bearerAuth: [] }];
/** For operations anyone may call (signup, login, media downloads): overrides the document's default bearer security. */
export const publicSecurity: { [scheme: string]: string[] }[] = [];

export const IdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });
