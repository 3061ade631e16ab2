import { Hono, type Context } from 'hono';
import { AuthenticationError, clientAddress, readJson, type ServiceEnv, type Sql } from '@marquee/service-kit';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../passwords.ts';
import { issueRefreshToken, revokeFamilyOf, rotateRefreshToken } from '../refresh-tokens.ts';
import { loginBody, refreshBody } from '../schemas.ts';
import { signAccessToken, type SigningKeys } from '../signing-keys.ts';
import type { LoginThrottle } from '../throttle.ts';
import { findUserById, findUserByName, publicUser, type UserRow } from '../users.ts';

export interface SessionDeps {
  sql: Sql;
  keys: SigningKeys;
  throttle: LoginThrottle;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const LOGIN_FAILED = 'Unknown username or wrong password.';

export function sessionRoutes(deps: SessionDeps) {
  const app = new Hono<ServiceEnv>();

  const tokensFor = async (user: UserRow, refreshToken: string) => ({
    tokenType: 'Bearer',
    accessToken: signAccessToken(deps.keys, { sub: user.id, username: user.username, role: user.role }, deps.accessTtlSeconds),
    expiresIn: deps.accessTtlSeconds,
    refreshToken,
    refreshExpiresIn: deps.refreshTtlSeconds,
    user: publicUser(user),
  });

  app.post('/login', async (c) => {
    const body = await readJson(c, loginBody);
    const address = clientAddress(c);
    await deps.throttle.assertAllowed(body.username, address);
    const user = await findUserByName(deps.sql, body.username);
    // Unknown users still pay for one hash check, so timing does not reveal which names exist.
    const ok = await verifyPassword(body.password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) {
      await deps.throttle.recordFailure(body.username, address);
      c.get('logger').info({ address }, 'login failed');
      throw new AuthenticationError(LOGIN_FAILED);
    }
    await deps.throttle.recordSuccess(body.username);
    return c.json(await tokensFor(user, await issueRefreshToken(deps.sql, user.id, deps.refreshTtlSeconds)));
  });

  app.post('/refresh', async (c) => {
    const body = await readJson(c, refreshBody);
    const result = await rotateRefreshToken(deps.sql, body.refreshToken, deps.refreshTtlSeconds);
    if (result.outcome === 'reused') {
      c.get('logger').warn('rotated refresh token presented again; session family revoked');
      throw new AuthenticationError('This refresh token was already used; every session from the same login has been revoked.');
    }
    if (result.outcome === 'invalid') throw new AuthenticationError('The refresh token is unknown, expired or revoked.');
    const user = await findUserById(deps.sql, result.userId);
    if (!user) throw new AuthenticationError('This account no longer exists.');
    return c.json(await tokensFor(user, result.token));
  });

  app.post('/logout', async (c) => {
    const body = await readJson(c, refreshBody);
    await revokeFamilyOf(deps.sql, body.refreshToken);
    return c.body(null, 204);
  });

  return app;
}

