import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, requireUser, type Role, type TokenVerifier } from '@marquee/service-kit';
import type { ApiEnv } from './openapi.ts';

/** Bearer token required; the caller is then `c.get('user')`. */
export const authenticated = (verifier: TokenVerifier) => requireUser(verifier) as unknown as MiddlewareHandler<ApiEnv>;

/**
 * Role gate for whole actions (e.g. only operators create displays): 403. Which objects a caller
 * may see or change is decided in SQL by the rules in access.ts (404 for other users' objects).
 */
export function requireRole(...roles: Role[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const user = c.get('user');
    if (!roles.includes(user.role)) throw new ForbiddenError(`This action needs one of these roles: ${roles.join(', ')}.`);
    await next();
  };
}
