import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  forwardedFor,
  publicPath,
  requestContextOf,
  requireUser,
  type InternalClient,
  type InternalResponse,
  type TokenVerifier,
} from '@marquee/service-kit';
import { loginExample, refreshExample, signupExample, tokensExample, userExample } from '../examples.ts';
import { bearerSecurity, createRouter, jsonBody, jsonResponse, pick, problem, publicSecurity, unauthorized } from '../openapi.ts';

const UserSchema = z
  .object({ id: z.string().uuid(), username: z.string(), role: z.enum(['advertiser', 'operator', 'admin']), createdAt: z.string() })
  .openapi('User');
const TokensSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresIn: z.number().int(),
    refreshToken: z.string(),
    refreshExpiresIn: z.number().int(),
    user: UserSchema,
  })
  .openapi('Tokens');
const SignupSchema = z
  .strictObject({
    username: z.string().min(3).max(32).openapi({ example: 'acme-media' }),
    password: z
      .string()
      .min(1)
      .max(PASSWORD_MAX_LENGTH)
      .openapi({ description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, not the username, not a common password` }),
    accountType: z.enum(['advertiser', 'operator']),
  })
  .openapi('Signup');
const LoginSchema = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(PASSWORD_MAX_LENGTH) }).openapi('Login');
const RefreshSchema = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi('RefreshToken');

/** Thin front door to the account service; its verdicts (4xx problems) are relayed unchanged. */
export function authRoutes(deps: { account: InternalClient; verifier: TokenVerifier }) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/signup',
      operationId: 'signUp',
      tags: ['auth'],
      summary: 'Create an advertiser or operator account',
      description: 'Then log in (POST /auth/login) for an access token. Operators register displays; advertisers upload creatives and book displays.',
      security: publicSecurity,
      request: { body: jsonBody(SignupSchema, { example: signupExample }) },
      responses: {
        201: jsonResponse(UserSchema, 'Account created', userExample),
        409: problem('Username taken (any letter case); problem code `username-taken`', {
          status: 409,
          title: 'Conflict',
          slug: 'conflict',
          detail: 'The username "acme-media" is already taken.',
          extra: { code: 'username-taken' },
        }),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    async (c) => relay(c, await deps.account.request({ method: 'POST', path: '/signup', body: c.req.valid('json'), headers: forwardedFor(c), context: requestContextOf(c) })),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/login',
      operationId: 'logIn',
      tags: ['auth'],
      summary: 'Exchange username + password for an access token and a refresh token',
      description:
        'Send the access token as `Authorization: Bearer <accessToken>` (in these docs: **Authorize**). It expires after `expiresIn` seconds; ' +
        'POST /auth/refresh then gives a new pair.',
      security: publicSecurity,
      request: { body: jsonBody(LoginSchema, { example: loginExample }) },
      responses: {
        200: jsonResponse(TokensSchema, 'Logged in', tokensExample),
        401: unauthorized('Wrong username or password', 'Unknown username or wrong password.'),
        429: problem('Too many failed attempts; see Retry-After'),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    // Login is not idempotent from the throttle's point of view: never retried.
    async (c) => relay(c, await deps.account.request({ method: 'POST', path: '/login', body: c.req.valid('json'), headers: forwardedFor(c), context: requestContextOf(c) })),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/refresh',
      operationId: 'refreshTokens',
      tags: ['auth'],
      summary: 'Rotate a refresh token (reusing an old one revokes the whole session family)',
      security: publicSecurity,
      request: { body: jsonBody(RefreshSchema, { example: refreshExample }) },
      responses: {
        200: jsonResponse(TokensSchema, 'New tokens', tokensExample),
        401: unauthorized(
          'The refresh token is unknown, expired or revoked, or was already used (which revokes every session of that login)',
          'The refresh token is unknown, expired or revoked.',
        ),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    async (c) => relay(c, await deps.account.request({ method: 'POST', path: '/refresh', body: c.req.valid('json'), headers: forwardedFor(c), context: requestContextOf(c) })),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/logout',
      operationId: 'logOut',
      tags: ['auth'],
      summary: 'Revoke a refresh token and its family',
      security: publicSecurity,
      request: { body: jsonBody(RefreshSchema, { example: refreshExample }) },
      responses: { 204: { description: 'Logged out' }, ...pick(400, 413, 415, 422, 503) },
    }),
    async (c) =>
      relay(c, await deps.account.request({ method: 'POST', path: '/logout', body: c.req.valid('json'), headers: forwardedFor(c), idempotent: true, context: requestContextOf(c) })),
  );

  app.use('/me', requireUser(deps.verifier));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      operationId: 'getCurrentUser',
      tags: ['auth'],
      summary: 'The signed-in user',
      security: bearerSecurity,
      responses: { 200: jsonResponse(UserSchema, 'The user', userExample), ...pick(401, 503) },
    }),
    async (c) =>
      relay(c, await deps.account.request({ method: 'GET', path: '/me', headers: { authorization: c.req.header('authorization') ?? '' }, context: requestContextOf(c) })),
  );

  return app;
}

/**
 * Answers with the account service's status and body (problem+json stays problem+json). A
 * problem's `instance` names the path the client called, not the account service's own.
 */
function relay(c: Context, res: InternalResponse): any {
  if (res.status === 204) return c.body(null, 204);
  const type = String(res.headers['content-type'] ?? 'application/json');
  const headers: Record<string, string> = { 'content-type': type };
  for (const name of ['retry-after', 'www-authenticate']) if (res.headers[name]) headers[name] = String(res.headers[name]);
  const isProblem = type.startsWith('application/problem+json') && res.body !== null && typeof res.body === 'object';
  const body = isProblem ? { ...(res.body as object), instance: publicPath(c) } : res.body;
  return c.body(JSON.stringify(body), res.status as 200, headers);
}

