import { Pool, errors as undiciErrors } from 'undici';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { DependencyUnavailableError } from './errors.ts';
import { propagationHeaders, type RequestContext } from './context.ts';
import { SERVICE_CREDENTIAL_HEADER, credentialHeaderValue, type ServiceCredential } from './service-auth.ts';

export interface InternalClientOptions {
  /** Name of the service called, used in errors and logs. */
  name: string;
  baseUrl: string;
  /** Default per-call budget for the whole exchange (headers + body). */
  timeoutMs?: number;
  /** Retries for idempotent calls only. */
  retries?: number;
  /** Consecutive failures that open the breaker, and how long it stays open. */
  breakerThreshold?: number;
  breakerHalfOpenAfterMs?: number;
  connections?: number;
  /** This service's credential, sent on every call (internal listeners refuse calls without one). */
  credential?: ServiceCredential;
}

export interface InternalRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * The request this call is made for (`requestContextOf(c)`): its request id and trace travel as
   * x-request-id and traceparent. Omit for calls made for no request (probes, background work).
   */
  context?: RequestContext;
  timeoutMs?: number;
  /**
   * Safe to send twice. Defaults to true for GET/HEAD/PUT/DELETE; a POST is idempotent only when
   * the caller says so (e.g. it carries an Idempotency-Key).
   */
  idempotent?: boolean;
  /**
   * Calls with different keys get separate circuit breakers, so one failing endpoint (e.g. bulk
   * presence writes) cannot cut off another (e.g. authentication). Default: one shared breaker.
   */
  breakerKey?: string;
}

export interface InternalResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** Raised (and counted by the breaker) when the dependency itself failed: network, timeout, 5xx. */
class DependencyFailure extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface InternalClient {
  request<T = unknown>(req: InternalRequest): Promise<InternalResponse<T>>;
  /** 'closed' | 'open' | 'half-open' of one breaker — for /readyz and metrics. */
  breakerState(key?: string): string;
  /** Waits for the calls in flight, then closes. */
  close(): Promise<void>;
  /**
   * Fails the calls in flight and closes: for a shutdown that already cut the requests they were
   * made for, which close() would otherwise wait on for as long as the dependency takes.
   */
  destroy(): Promise<void>;
}

/**
 * Keep-alive undici Pool + per-call timeout + bounded retries (idempotent calls only) + a
 * circuit breaker. 4xx answers pass through untouched: they are the callee's verdict, not a failure.
 */
export function createInternalClient(opts: InternalClientOptions): InternalClient {
  const pool = new Pool(opts.baseUrl, {
    connections: opts.connections ?? 32,
    keepAliveTimeout: 30_000,
    pipelining: 1,
  });
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const credentialHeaders: Record<string, string> = opts.credential ? { [SERVICE_CREDENTIAL_HEADER]: credentialHeaderValue(opts.credential) } : {};
  const isDependencyFailure = handleWhen((err) => err instanceof DependencyFailure);
  const retryPolicy = retry(isDependencyFailure, {
    maxAttempts: opts.retries ?? 2,
    backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
  });
  const breakers = new Map<string, { breaker: CircuitBreakerPolicy; idempotent: IPolicy }>();
  const policiesFor = (key: string) => {
    let p = breakers.get(key);
    if (!p) {
      const breaker = circuitBreaker(isDependencyFailure, {
        halfOpenAfter: opts.breakerHalfOpenAfterMs ?? 5_000,
        breaker: new ConsecutiveBreaker(opts.breakerThreshold ?? 5),
      });
      breakers.set(key, (p = { breaker, idempotent: wrap(retryPolicy, breaker) }));
    }
    return p;
  };
  policiesFor('default');

  async function once<T>(req: InternalRequest): Promise<InternalResponse<T>> {
    const budget = req.timeoutMs ?? timeoutMs;
    const hasBody = req.body !== undefined;
    let res;
    try {
      res = await pool.request({
        method: req.method,
        path: req.path,
        headers: {
          ...propagationHeaders(req.context),
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          accept: 'application/json, application/problem+json',
          ...req.headers,
          ...credentialHeaders,
        },
        body: hasBody ? JSON.stringify(req.body) : undefined,
        signal: AbortSignal.timeout(budget),
        headersTimeout: budget,
        bodyTimeout: budget,
      });
    } catch (err) {
      throw new DependencyFailure(describe(err, opts.name, budget));
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw new DependencyFailure(describe(err, opts.name, budget));
    }
    if (res.statusCode >= 500) {
      throw new DependencyFailure(`${opts.name} answered ${res.statusCode}`, res.statusCode);
    }
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.statusCode, headers: res.headers, body: body as T };
  }

  return {
    async request<T>(req: InternalRequest) {
      const idempotent = req.idempotent ?? (req.method !== 'POST' && req.method !== 'PATCH');
      const policies = policiesFor(req.breakerKey ?? 'default');
      try {
        return await (idempotent ? policies.idempotent : policies.breaker).execute(() => once<T>(req));
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          throw new DependencyUnavailableError(`${opts.name} is unavailable (circuit open); try again shortly.`, 5);
        }
        if (err instanceof DependencyFailure) {
          throw new DependencyUnavailableError(`${opts.name} is unavailable: ${err.message}`, 2);
        }
        throw err;
      }
    },
    breakerState: (key = 'default') => ['closed', 'open', 'half-open', 'isolated'][policiesFor(key).breaker.state] ?? 'unknown',
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}

function describe(err: unknown, name: string, budget: number): string {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return `${name} did not answer within ${budget} ms`;
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `${name} did not answer within ${budget} ms`;
  }
  const code = (err as { code?: string }).code;
  return `${name} unreachable${code ? ` (${code})` : ''}`;
}
