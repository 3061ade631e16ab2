import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { PASSWORD_MAX_LENGTH, forwardedFor, requestContextOf, type InternalClient } from '@marquee/service-kit';
import { V1Error, v1ErrorFrom } from './errors.ts';
import { credentialsExample, loginReplyExample, signupReplyExample } from './examples.ts';
import { createV1Router, jsonBody, publicSecurity, v1Json, v1Pick } from './openapi.ts';

const Credentials = z
  .strictObject({
    username: z.string().max(64).openapi({ example: 'acme-media' }),
    password: z.string().max(PASSWORD_MAX_LENGTH),
  })
  .openapi('V1Credentials');

const SignupReply = z
  .object({
    status: z.union([z.literal(0), z.literal(-1), z.literal(-2)]),
    message: z.enum(['succeed', 'username existed', 'password not strong']),
    userid: z.string().openapi({ description: 'The new user id on success, "" otherwise' }),
  })
  .openapi('V1SignupReply');

const LoginReply = z
  .union([
    z.object({ status: z.literal(0), message: z.literal('login succeed'), userid: z.string(), token: z.string() }),
    z.object({ status: z.literal(-1), message: z.literal('login fail'), userid: z.literal('') }),
  ])
  .openapi('V1LoginReply');

interface AccountUser {
  id: string;
}
interface AccountTokens {
  accessToken: string;
  user: AccountUser;
}

/**
 * Signup and login, translated to the account service. v1 has no account type: every v1 signup
 * is an advertiser. The business outcomes are HTTP 200 with a status code, as the original
 * account service answered; malformed input is 400 `{status:-1, message}`.
 */
export function authRoutes(deps: { account: InternalClient }) {
  const app = createV1Router();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/signup',
      operationId: 'signUp',
      tags: ['account'],
      summary: 'Create an advertiser account',
      description:
        'Always HTTP 200 for a well-formed request: `status` 0 "succeed", -1 "username existed" (any letter case), -2 "password not strong" ' +
        '(shorter than 8 characters, equal to the username, or a common password). An invalid username (3-32 of letters, digits, `_.-`) is 400.',
      security: publicSecurity,
      request: { body: jsonBody(Credentials, credentialsExample) },
      responses: { 200: v1Json(SignupReply, 'The outcome', signupReplyExample), ...v1Pick(400, 413, 503) },
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      const res = await deps.account.request<AccountUser>({
        method: 'POST',
        path: '/signup',
        body: { username, password, accountType: 'advertiser' },
        headers: forwardedFor(c),
        context: requestContextOf(c),
      });
      if (res.status === 201) return c.json({ status: 0 as const, message: 'succeed' as const, userid: res.body.id }, 200);
      if (res.status === 409) return c.json({ status: -1 as const, message: 'username existed' as const, userid: '' }, 200);
      if (res.status === 422 && (res.body as { code?: string } | undefined)?.code === 'weak-password') {
        return c.json({ status: -2 as const, message: 'password not strong' as const, userid: '' }, 200);
      }
      throw v1ErrorFrom(res, 'signup refused');
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/login',
      operationId: 'logIn',
      tags: ['account'],
      summary: 'Log in; the token is a normal access token (send it as `Authorization: Bearer <token>`)',
      description: 'A wrong username or password is HTTP 200 `{status:-1, message:"login fail", userid:""}`. Repeated failures are throttled (429).',
      security: publicSecurity,
      request: { body: jsonBody(Credentials, credentialsExample) },
      responses: { 200: v1Json(LoginReply, 'The outcome', loginReplyExample), ...v1Pick(400, 413, 429, 503) },
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      if (username === '' || password === '') return c.json({ status: -1 as const, message: 'login fail' as const, userid: '' as const }, 200);
      // Never retried: each attempt counts against the login throttle.
      const res = await deps.account.request<AccountTokens>({ method: 'POST', path: '/login', body: { username, password }, headers: forwardedFor(c), context: requestContextOf(c) });
      if (res.status === 200) {
        return c.json({ status: 0 as const, message: 'login succeed' as const, userid: res.body.user.id, token: res.body.accessToken }, 200);
      }
      if (res.status === 401) return c.json({ status: -1 as const, message: 'login fail' as const, userid: '' as const }, 200);
      if (res.status === 429) throw v1ErrorFrom(res, 'too many failed logins; retry later');
      throw res.status >= 400 && res.status < 500 ? v1ErrorFrom(res, 'login refused') : new V1Error(502, 'unexpected answer from the account service');
    },
  );

  return app;
}

