import { Hono } from 'hono';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  readJson,
  requireUser,
  type AuthEnv,
  type ServiceEnv,
  type Sql,
  type TokenVerifier,
} from '@marquee/service-kit';
import { hashPassword, passwordWeakness } from '../passwords.ts';
import { signupBody } from '../schemas.ts';
import { findUserById, insertUser, publicUser } from '../users.ts';

export function userRoutes(deps: { sql: Sql; verifier: TokenVerifier }) {
  const app = new Hono<ServiceEnv & AuthEnv>();

  app.post('/signup', async (c) => {
    const body = await readJson(c, signupBody);
    const weakness = passwordWeakness(body.password, body.username);
    if (weakness) {
      throw new ValidationError(weakness, { code: 'weak-password', errors: [{ field: 'password', message: weakness }] });
    }
    const user = await insertUser(deps.sql, body.username, body.accountType, await hashPassword(body.password));
    if (!user) throw new ConflictError(`The username "${body.username}" is already taken.`, { code: 'username-taken' });
    c.get('logger').info({ userId: user.id, role: user.role }, 'user signed up');
    return c.json(publicUser(user), 201, { location: `/users/${user.id}` });
  });

  app.get('/me', requireUser(deps.verifier), async (c) => {
    const user = await findUserById(deps.sql, c.get('user').sub);
    if (!user) throw new NotFoundError('This account no longer exists.');
    return c.json(publicUser(user));
  });

  return app;
}
