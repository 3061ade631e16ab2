import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { requestContextOf, type InternalClient } from '@marquee/service-kit';
import { V1Error } from '../errors.ts';
import { createOrderExample, imageContentExample, orderExample } from '../examples.ts';
import { createV1Router, jsonBody, tokenSecurity, v1Json, v1Pick } from '../openapi.ts';
import { ContentSchema, CreateOrderSchema, OrderIdParam, OrderSchema } from './schemas.ts';
import { createV2Orders, MAX_LISTED_ORDERS, type Auth } from './v2-orders.ts';

const TOKEN = /^[A-Za-z0-9._~+/=-]{1,4096}$/;

/**
 * The token from /v1/login, as `Authorization: Bearer <token>` or (older clients) a bare
 * `token: <token>` header. Checked here only for presence and shape; api-v2 verifies it.
 */
export function tokenOf(c: Context): Auth {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  const token = bearer ?? c.req.header('token')?.trim();
  if (!token) throw new V1Error(401, 'send the token from /v1/login as "Authorization: Bearer <token>" (or a "token" header)');
  if (!TOKEN.test(token)) throw new V1Error(401, 'the token is malformed', { 'www-authenticate': 'Bearer error="invalid_token", error_description="the token is malformed"' });
  return { authorization: `Bearer ${token}`, context: requestContextOf(c) };
}

const requireToken: MiddlewareHandler = async (c, next) => {
  tokenOf(c);
  await next();
};

const tags = ['orders'];

export function orderRoutes(deps: { apiV2: InternalClient }) {
  const orders = createV2Orders(deps.apiV2);
  const app = createV1Router();
  // Before body validation: a request without a token is 401 whatever its body.
  app.use('/orders', requireToken);
  app.use('/orders/*', requireToken);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/orders',
      operationId: 'createOrder',
      tags,
      summary: 'Book one slot on one device for [start, end) and confirm it at once',
      description: 'A text becomes a v2 `text` creative; an image URL becomes an `html` creative showing that image (v1 fetches nothing).',
      security: tokenSecurity,
      request: { body: jsonBody(CreateOrderSchema, createOrderExample) },
      responses: { 200: v1Json(OrderSchema, 'The confirmed order', orderExample), ...v1Pick(400, 401, 403, 404, 409, 413, 503) },
    }),
    async (c) => c.json(await orders.create(tokenOf(c), c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/orders',
      operationId: 'listOrders',
      tags,
      summary: `Your orders, newest first (at most ${MAX_LISTED_ORDERS}); bookings made through v2 included`,
      security: tokenSecurity,
      responses: { 200: v1Json(z.array(OrderSchema), 'The orders', [orderExample]), ...v1Pick(401, 503) },
    }),
    async (c) => c.json(await orders.list(tokenOf(c)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/orders/{id}',
      operationId: 'getOrder',
      tags,
      summary: 'One of your orders',
      security: tokenSecurity,
      request: { params: OrderIdParam },
      responses: { 200: v1Json(OrderSchema, 'The order', orderExample), ...v1Pick(400, 401, 404, 503) },
    }),
    async (c) => c.json(await orders.get(tokenOf(c), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/orders/{id}/content',
      operationId: 'replaceOrderContent',
      tags,
      summary: 'Replace what an order shows (the body is the content object); the device gets it within seconds',
      security: tokenSecurity,
      request: { params: OrderIdParam, body: jsonBody(ContentSchema, imageContentExample) },
      responses: { 200: v1Json(OrderSchema, 'The order with its new content', { ...orderExample, content: imageContentExample }), ...v1Pick(400, 401, 403, 404, 409, 413, 503) },
    }),
    async (c) => c.json(await orders.replaceContent(tokenOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/orders/{id}',
      operationId: 'cancelOrder',
      tags,
      summary: 'Cancel an order that has not ended (idempotent)',
      security: tokenSecurity,
      request: { params: OrderIdParam },
      responses: { 200: v1Json(OrderSchema, 'The cancelled order', { ...orderExample, status: 'cancelled' }), ...v1Pick(400, 401, 403, 404, 409, 503) },
    }),
    async (c) => c.json(await orders.cancel(tokenOf(c), c.req.valid('param').id), 200),
  );

  return app;
}
