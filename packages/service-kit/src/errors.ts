import { HTTPException } from 'hono/http-exception';

/**
 * One error type per failure kind. Routes throw these; `problemFor` is the single place that
 * maps them to an HTTP status and an RFC 9457 problem document.
 */
export abstract class AppError extends Error {
  /** Extra members merged into the problem document (e.g. `errors`, `conflicts`). */
  readonly extra: Record<string, unknown>;
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.extra = extra;
  }
}

/** The request could not be parsed at all (malformed JSON, bad header syntax). */
export class MalformedRequestError extends AppError {}
/** Parsed, but fails validation (wrong types, missing or unknown fields, absurd values). */
export class ValidationError extends AppError {}
/**
 * No credentials, bad credentials, expired token: 401 with a `WWW-Authenticate: Bearer` challenge.
 * `bearerError` is RFC 6750's code when a token was sent but refused (`invalid_token`) or the
 * Authorization header is not a bearer token (`invalid_request`); absent when none was sent.
 */
export class AuthenticationError extends AppError {
  constructor(
    message: string,
    extra: Record<string, unknown> = {},
    readonly bearerError?: 'invalid_request' | 'invalid_token',
    /** The WWW-Authenticate challenge when it is not a bearer token's (service credentials). */
    readonly challenge?: string,
  ) {
    super(message, extra);
  }
}

/** RFC 6750 §3: the challenge of a 401; the description is limited to the characters it allows. */
export function bearerChallenge(err: AuthenticationError): string {
  if (!err.bearerError) return 'Bearer';
  const description = err.message.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '').slice(0, 200);
  return `Bearer error="${err.bearerError}", error_description="${description}"`;
}
/** Authenticated but not allowed. Object routes prefer NotFoundError so ids don't leak. */
export class ForbiddenError extends AppError {}
export class NotFoundError extends AppError {}
/** State conflict: taken name, overlapping booking, stale version. */
export class ConflictError extends AppError {}
export class PayloadTooLargeError extends AppError {}
export class UnsupportedMediaTypeError extends AppError {}
/** Range not satisfiable, precondition failed and similar protocol-level refusals. */
export class RangeNotSatisfiableError extends AppError {}
export class TooManyRequestsError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number, extra: Record<string, unknown> = {}) {
    super(message, extra);
  }
}
/** A dependency (database, another service) is down or its breaker is open. */
export class DependencyUnavailableError extends AppError {
  constructor(message: string, readonly retryAfterSeconds?: number, extra: Record<string, unknown> = {}) {
    super(message, extra);
  }
}

/**
 * Failures that mean "the database cannot be reached right now" rather than "this request is
 * wrong": no address or no listener (a database task restarting), a connection refused, cut or
 * timed out, or PostgreSQL itself starting, shutting down or out of connection slots. postgres.js
 * reports socket failures with Node's code, its own connection states as CONNECTION_* /
 * CONNECT_TIMEOUT and server errors with their SQLSTATE.
 */
export const DATABASE_UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '53300', // too_many_connections
  '08000', '08001', '08003', '08004', '08006', // connection_exception class
]);

/** Seconds a client is told to wait when the database is unreachable: a restart takes a few. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Whether `err` (or what it wraps) is one of DATABASE_UNAVAILABLE_CODES. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && DATABASE_UNAVAILABLE_CODES.has(code)) return true;
  }
  return false;
}

/** Hono's own HTTPException (e.g. its validator on a malformed body): keep its 4xx status. */
function isHttpException(err: unknown): err is HTTPException {
  return err instanceof HTTPException;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [member: string]: unknown;
}

const statusByKind = new Map<Function, { status: number; title: string; slug: string }>([
  [MalformedRequestError, { status: 400, title: 'Malformed request', slug: 'malformed-request' }],
  [AuthenticationError, { status: 401, title: 'Unauthorized', slug: 'unauthorized' }],
  [ForbiddenError, { status: 403, title: 'Forbidden', slug: 'forbidden' }],
  [NotFoundError, { status: 404, title: 'Not found', slug: 'not-found' }],
  [ConflictError, { status: 409, title: 'Conflict', slug: 'conflict' }],
  [PayloadTooLargeError, { status: 413, title: 'Payload too large', slug: 'payload-too-large' }],
  [UnsupportedMediaTypeError, { status: 415, title: 'Unsupported media type', slug: 'unsupported-media-type' }],
  [RangeNotSatisfiableError, { status: 416, title: 'Range not satisfiable', slug: 'range-not-satisfiable' }],
  [ValidationError, { status: 422, title: 'Validation failed', slug: 'validation-failed' }],
  [TooManyRequestsError, { status: 429, title: 'Too many requests', slug: 'too-many-requests' }],
  [DependencyUnavailableError, { status: 503, title: 'Service unavailable', slug: 'service-unavailable' }],
]);

export const PROBLEM_TYPE_BASE = 'https://marquee.dev/problems/';

/** Maps any thrown value to a problem document and the headers that go with it. */
export function problemFor(err: unknown, instance?: string): { problem: Problem; headers: Record<string, string> } {
  // A database that went away mid-request (a restart, a failover) is the dependency's outage, not
  // a bug: every route answers it alike, without each catching postgres.js's errors itself.
  if (!(err instanceof AppError) && isDatabaseUnavailable(err)) {
    return problemFor(new DependencyUnavailableError('The database is unreachable for the moment; retry shortly.', DATABASE_RETRY_AFTER_SECONDS), instance);
  }
  const headers: Record<string, string> = {};
  if (err instanceof AppError) {
    const kind = statusByKind.get(err.constructor) ?? findKind(err);
    if (err instanceof AuthenticationError) headers['www-authenticate'] = err.challenge ?? bearerChallenge(err);
    if (err instanceof TooManyRequestsError) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
    if (err instanceof DependencyUnavailableError && err.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
    }
    return {
      problem: {
        type: PROBLEM_TYPE_BASE + kind.slug,
        title: kind.title,
        status: kind.status,
        detail: err.message,
        ...(instance ? { instance } : {}),
        ...err.extra,
      },
      headers,
    };
  }
  if (isHttpException(err) && err.status >= 400 && err.status < 500) {
    const malformed = err.status === 400;
    return {
      problem: {
        type: PROBLEM_TYPE_BASE + (malformed ? 'malformed-request' : 'http-' + err.status),
        title: malformed ? 'Malformed request' : 'Request refused',
        status: err.status,
        detail: err.message || 'The request could not be processed.',
        ...(instance ? { instance } : {}),
      },
      headers,
    };
  }
  return {
    problem: {
      type: PROBLEM_TYPE_BASE + 'internal-error',
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred; it has been logged with the request id.',
      ...(instance ? { instance } : {}),
    },
    headers,
  };
}

function findKind(err: AppError) {
  for (const [ctor, kind] of statusByKind) if (err instanceof (ctor as new (...a: never[]) => unknown)) return kind;
  return { status: 500, title: 'Internal server error', slug: 'internal-error' };
}

/** A problem document as a standalone Response (used outside Hono handlers, e.g. by proxies). */
export function problemResponse(err: unknown, extraHeaders: Record<string, string> = {}): Response {
  const { problem, headers } = problemFor(err);
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers, ...extraHeaders },
  });
}
