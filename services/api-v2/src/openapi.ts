import { OpenAPIHono, z } from '@hono/zod-openapi';
import { validationFailure, type AuthEnv, type ServiceEnv } from '@marquee/service-kit';

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

/** An error response in a route's `responses`: problem+json, described for this route. */
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

const wwwAuthenticate = {
  'WWW-Authenticate': {
    description: '`Bearer`; `Bearer error="invalid_token", error_description="…"` when the access token sent was refused (RFC 6750)',
    schema: { type: 'string' as const },
  },
};

/** A 401 in a route's `responses`, described for this route; it carries a `WWW-Authenticate: Bearer` challenge. */
export const unauthorized = (description: string) => ({ ...problem(description), headers: wwwAuthenticate });

/** Standard error responses, spread into each route's `responses`. */
const errorResponses = {
  400: problem('Malformed request (e.g. invalid JSON)'),
  401: unauthorized('No access token (send `Authorization: Bearer <accessToken>` from POST /auth/login), or it is malformed, invalid or expired'),
  404: problem('Not found (also for objects that belong to someone else)'),
  413: problem('Request body too large'),
  415: problem('Unsupported media type'),
  422: problem('Validation failed; `errors` lists each field'),
  503: problem('A dependency is unavailable; retry later'),
} as const;

export const pick = <K extends keyof typeof errorResponses>(...codes: K[]) =>
  Object.fromEntries(codes.map((c) => [c, errorResponses[c]])) as Pick<typeof errorResponses, K>;

export const jsonBody = <T extends z.ZodType>(schema: T, description = 'JSON body') => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearerSecurity = [{ bearerAuth: [] }];

export const IdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });
