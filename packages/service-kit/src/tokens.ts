import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { MiddlewareHandler } from 'hono';
import { requestContextOf, type RequestContext } from './context.ts';
import { AuthenticationError } from './errors.ts';
import { requestHeader } from './node-http.ts';

export const TOKEN_ISSUER = 'marquee-account';
export const TOKEN_AUDIENCE = 'marquee';
/** The only algorithm any verifier accepts: `none`, HS256 and friends are refused outright. */
export const TOKEN_ALGORITHM = 'ES256';

export type Role = 'advertiser' | 'operator' | 'admin';

export interface AccessClaims {
  sub: string;
  username: string;
  role: Role;
}

export interface Jwks {
  keys: (JsonWebKey & { kid?: string; alg?: string; use?: string })[];
}

export interface TokenVerifier {
  /** `context`: the request being served, for the JWKS fetch an unknown key id triggers. */
  verify(token: string, context?: RequestContext): Promise<AccessClaims>;
}

/**
 * Verifies access tokens locally against the account service's JWKS. Keys are cached by `kid`
 * and trusted for `maxAgeMs`: the first verification after that refetches them, so a key dropped
 * from the JWKS (rotation) is refused at most `maxAgeMs` after it left. An unknown `kid` (a key
 * rotated in since the last fetch) triggers a refetch too, at most every `minRefetchMs`, so a
 * flood of forged kids cannot hammer the account service. While the account service cannot be
 * reached the keys already fetched stay in use, and a refresh is retried every `minRefetchMs`.
 * Tokens that verified are remembered until their `exp` (a bounded LRU keyed by the exact token
 * string), so a client's token costs one ES256 verification rather than one per request; a
 * remembered token whose key is no longer in the JWKS is refused like any other.
 */
export function createTokenVerifier(opts: {
  fetchJwks: (context?: RequestContext) => Promise<Jwks>;
  maxAgeMs?: number;
  minRefetchMs?: number;
  now?: () => number;
  cacheSize?: number;
}): TokenVerifier {
  const maxAgeMs = opts.maxAgeMs ?? 300_000;
  const minRefetchMs = opts.minRefetchMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cacheSize = opts.cacheSize ?? 10_000;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = -Infinity;
  // After a failed refresh of keys that are merely old, the next attempt waits until then.
  let retryAfter = -Infinity;
  let inflight: Promise<void> | undefined;
  // Insertion order doubles as recency: a hit is moved to the end, the oldest entry evicted.
  const verified = new Map<string, { claims: AccessClaims; expMs: number; kid: string }>();

  async function refresh(context: RequestContext | undefined) {
    inflight ??= (async () => {
      try {
        const jwks = await opts.fetchJwks(context);
        keys = keysFromJwks(jwks);
        fetchedAt = now();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  /** The key `kid` names, after refetching the JWKS if the keys are too old or do not have it. */
  async function keyFor(kid: string, context: RequestContext | undefined): Promise<KeyObject | undefined> {
    const t = now();
    if (!keys.has(kid)) {
      if (t - fetchedAt >= minRefetchMs) await refresh(context);
    } else if (t - fetchedAt >= maxAgeMs && t >= retryAfter) {
      await refresh(context).catch(() => {
        retryAfter = t + minRefetchMs;
      });
    }
    return keys.get(kid);
  }

  async function verifyUncached(token: string, context: RequestContext | undefined): Promise<{ claims: AccessClaims; kid: string; exp: number }> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded === 'string') throw new AuthenticationError('The access token is malformed.', {}, 'invalid_token');
    if (decoded.header.alg !== TOKEN_ALGORITHM) throw new AuthenticationError('The access token uses an algorithm that is not accepted.', {}, 'invalid_token');
    const kid = decoded.header.kid;
    if (!kid) throw new AuthenticationError('The access token has no key id.', {}, 'invalid_token');
    const key = await keyFor(kid, context);
    if (!key) throw new AuthenticationError('The access token was signed by an unknown key.', {}, 'invalid_token');
    const claims = verifyWithKey(token, key, now());
    return { claims, kid, exp: Number((decoded.payload as jwt.JwtPayload).exp) };
  }

  return {
    async verify(token, context) {
      const hit = verified.get(token);
      if (hit) {
        verified.delete(token);
        // Expired, or its key dropped from the JWKS since: verify afresh (which then refuses it).
        if (hit.expMs > now() && (now() - fetchedAt < maxAgeMs ? keys.has(hit.kid) : await keyFor(hit.kid, context))) {
          verified.set(token, hit);
          return hit.claims;
        }
      }
      const { claims, kid, exp } = await verifyUncached(token, context);
      if (Number.isFinite(exp)) {
        verified.set(token, { claims, kid, expMs: exp * 1000 });
        if (verified.size > cacheSize) verified.delete(verified.keys().next().value!);
      }
      return claims;
    },
  };
}

export function verifyWithKey(token: string, key: KeyObject, nowMs = Date.now()): AccessClaims {
  let payload: jwt.JwtPayload | string;
  try {
    payload = jwt.verify(token, key, {
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      clockTimestamp: Math.floor(nowMs / 1000),
    });
  } catch (err) {
    const expired = err instanceof jwt.TokenExpiredError;
    throw new AuthenticationError(expired ? 'The access token has expired.' : 'The access token is invalid.', {}, 'invalid_token');
  }
  if (typeof payload === 'string' || typeof payload.sub !== 'string' || !isRole(payload.role) || typeof payload.username !== 'string') {
    throw new AuthenticationError('The access token is missing required claims.', {}, 'invalid_token');
  }
  return { sub: payload.sub, username: payload.username, role: payload.role };
}

export function keysFromJwks(jwks: Jwks): Map<string, KeyObject> {
  const map = new Map<string, KeyObject>();
  for (const jwk of jwks.keys ?? []) {
    if (!jwk.kid || jwk.kty !== 'EC' || jwk.crv !== 'P-256') continue;
    map.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
  }
  return map;
}

function isRole(value: unknown): value is Role {
  return value === 'advertiser' || value === 'operator' || value === 'admin';
}

export interface AuthEnv {
  Variables: { user: AccessClaims };
}

/** Hono middleware: requires `Authorization: Bearer <token>` and sets `c.var.user`. */
export function requireUser(verifier: TokenVerifier): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = requestHeader(c, 'authorization');
    if (!header) throw new AuthenticationError('Send an access token as "Authorization: Bearer <token>".');
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!match) throw new AuthenticationError('The Authorization header is not "Bearer <token>".', {}, 'invalid_request');
    c.set('user', await verifier.verify(match[1]!, requestContextOf(c)));
    await next();
  };
}
