import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { MiddlewareHandler } from 'hono';
import { AuthenticationError } from './errors.ts';

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
  verify(token: string): Promise<AccessClaims>;
}

/**
 * Verifies access tokens locally against the account service's JWKS. Keys are cached by `kid`;
 * an unknown `kid` (a key rotated in since the last fetch) triggers one refetch, at most every
 * `minRefetchMs`, so a flood of forged kids cannot hammer the account service.
 */
export function createTokenVerifier(opts: { fetchJwks: () => Promise<Jwks>; minRefetchMs?: number; now?: () => number }): TokenVerifier {
  const minRefetchMs = opts.minRefetchMs ?? 30_000;
  const now = opts.now ?? Date.now;
  let keys = new Map<string, KeyObject>();
  let lastFetch = -Infinity;
  let inflight: Promise<void> | undefined;

  async function refresh() {
    inflight ??= (async () => {
      try {
        const jwks = await opts.fetchJwks();
        keys = keysFromJwks(jwks);
        lastFetch = now();
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  return {
    async verify(token) {
      const decoded = jwt.decode(token, { complete: true });
      if (!decoded || typeof decoded === 'string') throw new AuthenticationError('The access token is malformed.');
      if (decoded.header.alg !== TOKEN_ALGORITHM) throw new AuthenticationError('The access token uses an algorithm that is not accepted.');
      const kid = decoded.header.kid;
      if (!kid) throw new AuthenticationError('The access token has no key id.');
      if (!keys.has(kid) && now() - lastFetch >= minRefetchMs) await refresh();
      const key = keys.get(kid);
      if (!key) throw new AuthenticationError('The access token was signed by an unknown key.');
      return verifyWithKey(token, key);
    },
  };
}

export function verifyWithKey(token: string, key: KeyObject): AccessClaims {
  let payload: jwt.JwtPayload | string;
  try {
    payload = jwt.verify(token, key, { algorithms: [TOKEN_ALGORITHM], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
  } catch (err) {
    const expired = err instanceof jwt.TokenExpiredError;
    throw new AuthenticationError(expired ? 'The access token has expired.' : 'The access token is invalid.');
  }
  if (typeof payload === 'string' || typeof payload.sub !== 'string' || !isRole(payload.role) || typeof payload.username !== 'string') {
    throw new AuthenticationError('The access token is missing required claims.');
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
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header) : null;
    if (!match) throw new AuthenticationError('Send an access token as "Authorization: Bearer <token>".');
    c.set('user', await verifier.verify(match[1]!));
    await next();
  };
}
