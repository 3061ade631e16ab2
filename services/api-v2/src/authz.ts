import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, requireUser, type AccessClaims, type Role, type TokenVerifier } from '@marquee/service-kit';
import type { ApiEnv } from './openapi.ts';

/** Bearer token required; the caller is then `c.get('user')`. */
export const authenticated = (verifier: TokenVerifier) => requireUser(verifier) as unknown as MiddlewareHandler<ApiEnv>;

/**
 * Role gate for whole actions (e.g. only operators create displays). Object access is decided by
 * ownership in SQL instead, answering 404 for other users' objects so ids don't leak.
 */
export function requireRole(...roles: Role[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const user = c.get('user');
    if (!roles.includes(user.role)) throw new ForbiddenError(`This action needs one of these roles: ${roles.join(', ')}.`);
    await next();
  };
}

export const isAdmin = (user: AccessClaims) => user.role === 'admin';
