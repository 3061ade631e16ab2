import { OpenAPIHono, z } from '@hono/zod-openapi';
import { validationDetail, type ServiceEnv } from '@marquee/service-kit';
import { V1Error } from './errors.ts';
import { v1ErrorExample } from './examples.ts';

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

/** A v1 answer (with v1's lifecycle headers); `example` is typed as the schema's input. */
export const v1Json = <T extends z.ZodType>(schema: T, description: string, example?: z.input<T>, extraHeaders: Record<string, unknown> = {}) => ({
  description,
  headers: { ...lifecycleHeaders, ...extraHeaders },
  content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } },
});

const v1Problem = (description: string, message: string) => v1Json(V1ErrorSchema, description, v1ErrorExample(message));

/** Error responses, spread into each route's `responses`. */
export const v1Errors = {
  400: v1Problem('Invalid input: malformed JSON, wrong types, missing or unknown fields, impossible values', 'Check the request body: end must be after start.'),
  401: v1Json(V1ErrorSchema, 'No token, or it is malformed, invalid or expired', v1ErrorExample('The access token has expired.'), {
    'WWW-Authenticate': { description: '`Bearer` (`error="invalid_token"` when the token sent was refused)', schema: { type: 'string' as const } },
  }),
  403: v1Problem('This account may not do this (v1 orders are for advertisers)', 'This action needs one of these roles: advertiser, admin.'),
  404: v1Problem("No such order or device (also for other users' orders)", 'no such device'),
  409: v1Problem('The slot is taken, or the order can no longer be changed', 'the slot is taken'),
  413: v1Problem('Request body too large (64 KiB)', 'Request body exceeds 65536 bytes.'),
  429: v1Problem('Too many failed logins; see Retry-After', 'too many failed logins; retry later'),
  503: v1Problem('api-v2 or the account service is unavailable; retry later (Retry-After)', 'api-v2 is unavailable (circuit open); try again shortly.'),
} as const;

export const v1Pick = <K extends keyof typeof v1Errors>(...codes: K[]) =>
  Object.fromEntries(codes.map((c) => [c, v1Errors[c]])) as Pick<typeof v1Errors, K>;

export const jsonBody = <T extends z.ZodType>(schema: T, example?: z.input<T>) => ({
  required: true,
  content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } },
});

export const tokenSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { tokenHeader: [] }];
/** For operations anyone may call (signup, login, the device list). */
export const publicSecurity: Record<string, string[]>[] = [];
