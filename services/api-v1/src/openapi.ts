import { OpenAPIHono, z } from '@hono/zod-openapi';
import { validationDetail, type ServiceEnv } from '@marquee/service-kit';
import { V1Error } from './errors.ts';

/** Invalid input (wrong types, missing or unknown fields) is 400 `{status:-1, message}` in v1. */
export function createV1Router() {
  return new OpenAPIHono<ServiceEnv>({
    defaultHook: (result) => {
      // @hono/zod-validator hands the hook the value it validated as `data` (absent from its type).
      if (!result.success) throw new V1Error(400, validationDetail(result.error as never, (result as { data?: unknown }).data, result.target));
    },
  });
}

export const V1ErrorSchema = z
  .object({ status: z.literal(-1), message: z.string() })
  .openapi('V1Error', { description: 'Every v1 error body. The HTTP status says what kind of error it is.' });

const lifecycleHeaders = {
  Deprecation: { description: 'RFC 9745: v1 is deprecated since this date (`@<epoch seconds>`)', schema: { type: 'string' as const } },
  Sunset: { description: 'RFC 8594: when v1 stops answering (HTTP-date)', schema: { type: 'string' as const } },
  Link: { description: '`</v2/docs>; rel="successor-version"`', schema: { type: 'string' as const } },
};

export const v1Json = <T extends z.ZodType>(schema: T, description: string, extraHeaders: Record<string, unknown> = {}) => ({
  description,
  headers: { ...lifecycleHeaders, ...extraHeaders },
  content: { 'application/json': { schema } },
});

const v1Problem = (description: string) => v1Json(V1ErrorSchema, description);

/** Error responses, spread into each route's `responses`. */
export const v1Errors = {
  400: v1Problem('Invalid input: malformed JSON, wrong types, missing or unknown fields, impossible values'),
  401: v1Json(V1ErrorSchema, 'No token, or it is malformed, invalid or expired', {
    'WWW-Authenticate': { description: '`Bearer` (`error="invalid_token"` when the token sent was refused)', schema: { type: 'string' as const } },
  }),
  403: v1Problem('This account may not do this (v1 orders are for advertisers)'),
  404: v1Problem('No such order or device (also for other users\' orders)'),
  409: v1Problem('The slot is taken, or the order can no longer be changed'),
  413: v1Problem('Request body too large (64 KiB)'),
  429: v1Problem('Too many failed logins; see Retry-After'),
  503: v1Problem('api-v2 or the account service is unavailable; retry later (Retry-After)'),
} as const;

export const v1Pick = <K extends keyof typeof v1Errors>(...codes: K[]) =>
  Object.fromEntries(codes.map((c) => [c, v1Errors[c]])) as Pick<typeof v1Errors, K>;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export const tokenSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { tokenHeader: [] }];
