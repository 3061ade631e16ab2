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
 * Verifies access tokens locally against the account service's JWKS. Keys are cached by `kid`;
 * an unknown `kid` (a key rotated in since the last fetch) triggers one refetch, at most every
 * `minRefetchMs`, so a flood of forged kids cannot hammer the account service.
 * Tokens that verified are remembered until their `exp` (a bounded LRU keyed by the exact token
 * string), so a client's token costs one ES256 verification rather than one per request.
 */
export function createTokenVerifier(opts: {
  fetchJwks: (context?: RequestContext) => Promise<Jwks>;
  minRefetchMs?: number;
  now?: () => number;
  cacheSize?: number;
}): TokenVerifier {
  const minRefetchMs = opts.minRefetchMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cacheSize = opts.cacheSize ?? 10_000;
  let keys = new Map<string, KeyObject>();
  let lastFetch = -Infinity;
  let inflight: Promise<void> | undefined;
  // Insertion order doubles as recency: a hit is moved to the end, the oldest entry evicted.
  const verified = new Map<string, { claims: AccessClaims; expMs: number; kid: string }>();

  async function refresh(context: RequestContext | undefined) {
    inflight ??= (async () => {
      try {
        const jwks = await opts.fetchJwks(context);
        keys = keysFromJwks(jwks);
        lastFetch = now();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  async function verifyUncached(token: string, context: RequestContext | undefined): Promise<{ claims: AccessClaims; kid: string; exp: number }> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded === 'string') throw new AuthenticationError('The access token is malformed.', {}, 'invalid_token');
    if (decoded.header.alg !== TOKEN_ALGORITHM) throw new AuthenticationError('The access token uses an algorithm that is not accepted.', {}, 'invalid_token');
    const kid = decoded.header.kid;
    if (!kid) throw new AuthenticationError('The access token has no key id.', {}, 'invalid_token');
    if (!keys.has(kid) && now() - lastFetch >= minRefetchMs) await refresh(context);
    const key = keys.get(kid);
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
        if (hit.expMs > now() && keys.has(hit.kid)) {
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
