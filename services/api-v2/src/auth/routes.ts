import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { forwardedFor, publicPath, requestContextOf, requireUser, type InternalClient, type InternalResponse, type TokenVerifier } from '@marquee/service-kit';
import { bearerSecurity, createRouter, jsonBody, jsonResponse, pick, problem, unauthorized } from '../openapi.ts';

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
    password: z.string().min(1).max(1024).openapi({ description: 'At least 8 characters, not the username, not a common password' }),
    accountType: z.enum(['advertiser', 'operator']),
  })
  .openapi('Signup');
const LoginSchema = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).openapi('Login');
const RefreshSchema = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi('RefreshToken');

/** Thin front door to the account service; its verdicts (4xx problems) are relayed unchanged. */
export function authRoutes(deps: { account: InternalClient; verifier: TokenVerifier }) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/signup',
      tags: ['auth'],
      summary: 'Create an advertiser or operator account',
      request: { body: jsonBody(SignupSchema) },
      responses: {
        201: jsonResponse(UserSchema, 'Account created'),
        409: problem('Username taken (any letter case); problem code `username-taken`'),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    async (c) => relay(c, await deps.account.request({ method: 'POST', path: '/signup', body: c.req.valid('json'), headers: forwardedFor(c), context: requestContextOf(c) })),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/login',
      tags: ['auth'],
      summary: 'Exchange username + password for an access token and a refresh token',
      request: { body: jsonBody(LoginSchema) },
      responses: {
        200: jsonResponse(TokensSchema, 'Logged in'),
        401: unauthorized('Wrong username or password'),
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
      tags: ['auth'],
      summary: 'Rotate a refresh token (reusing an old one revokes the whole session family)',
      request: { body: jsonBody(RefreshSchema) },
      responses: {
        200: jsonResponse(TokensSchema, 'New tokens'),
        401: unauthorized('The refresh token is unknown, expired or revoked, or was already used (which revokes every session of that login)'),
        ...pick(400, 413, 415, 422, 503),
      },
    }),
    async (c) => relay(c, await deps.account.request({ method: 'POST', path: '/refresh', body: c.req.valid('json'), headers: forwardedFor(c), context: requestContextOf(c) })),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/logout',
      tags: ['auth'],
      summary: 'Revoke a refresh token and its family',
      request: { body: jsonBody(RefreshSchema) },
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
      tags: ['auth'],
      summary: 'The signed-in user',
      security: bearerSecurity,
      responses: { 200: jsonResponse(UserSchema, 'The user'), ...pick(401, 503) },
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

