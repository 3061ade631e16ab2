import type { MiddlewareHandler } from 'hono';

/** 2026-01-01T00:00:00Z: when v1 was declared deprecated (RFC 9745 structured-field date). */
export const DEPRECATED_AT_EPOCH_SECONDS = 1_767_225_600;
/** When v1 is planned to stop answering (RFC 8594 HTTP-date). */
export const SUNSET_AT = new Date('2027-01-01T00:00:00Z');

export const DEPRECATION_HEADERS = {
  deprecation: `@${DEPRECATED_AT_EPOCH_SECONDS}`,
  sunset: SUNSET_AT.toUTCString(),
  link: '</v2/docs>; rel="successor-version"',
} as const;

/** Stamps every response — successes, errors, 404s and probes alike — after it is built. */
export function deprecationHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(DEPRECATION_HEADERS)) c.res.headers.set(name, value);
  };
}
