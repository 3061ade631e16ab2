import { createRoute } from '@hono/zod-openapi';
import { NotFoundError, type TokenVerifier } from '@marquee/service-kit';
import { authenticated, requireRole } from '../authz.ts';
import {
  approvalPageExample,
  approvedExample,
  rejectApprovalExample,
  rejectedExample,
  trustAdvertiserExample,
  trustedAdvertiserExample,
  trustedAdvertiserPageExample,
} from '../examples.ts';
import { bearerSecurity, createRouter, IdParam, jsonBody, jsonResponse, pick, problem } from '../openapi.ts';
import { PageQuery } from '../pagination.ts';
import { approve, reject, trustAdvertiser, type ApprovalDeps } from './manage.ts';
import {
  AdvertiserIdParam,
  ApprovalListQuery,
  ApprovalPageSchema,
  ApprovalSchema,
  RejectApprovalSchema,
  TrustAdvertiserSchema,
  TrustedAdvertiserPageSchema,
  TrustedAdvertiserSchema,
} from './schemas.ts';
import { approvalView, deleteTrust, listApprovals, listTrusted, trustView } from './sql.ts';

const tags = ['approvals'];

/**
 * Content approval: on a `review` display a booking's creative waits in the display operator's
 * queue until approved; approving once covers all of that operator's displays.
 */
export function approvalRoutes(deps: ApprovalDeps & { verifier: TokenVerifier }) {
  const app = createRouter();
  const reviewers = [authenticated(deps.verifier), requireRole('operator', 'admin')] as const;
  const operators = [authenticated(deps.verifier), requireRole('operator')] as const;
  app.use('/approvals', ...reviewers);
  app.use('/approvals/*', ...reviewers);
  app.use('/trusted-advertisers', ...operators);
  app.use('/trusted-advertisers/*', ...operators);
  const view = (r: Parameters<typeof approvalView>[0]) => approvalView(r, deps.publicBaseUrl);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/approvals',
      operationId: 'listApprovals',
      tags,
      summary: 'Creatives to review (operators: for their displays; admins: all), oldest first; `state=pending` is the queue',
      security: bearerSecurity,
      request: { query: ApprovalListQuery },
      responses: {
        200: jsonResponse(ApprovalPageSchema, 'One page', approvalPageExample),
        403: problem('Only operators and admins review creatives'),
        ...pick(401, 422, 503),
      },
    }),
    async (c) => {
      const page = await listApprovals(deps.sql, c.get('user'), c.req.valid('query'));
      return c.json({ items: page.items.map(view), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/approvals/{id}/approve',
      operationId: 'approveCreative',
      tags,
      summary: "Approve a creative for all of the operator's displays (idempotent); it goes on screen at once",
      description:
        'Every booked booking on this operator’s displays whose creative this is starts showing it: the displays get a new playlist version. ' +
        'A rejected creative may be approved later.',
      security: bearerSecurity,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(ApprovalSchema, 'Approved', approvedExample),
        403: problem('Only operators and admins review creatives'),
        ...pick(401, 404, 422, 503),
      },
    }),
    async (c) => c.json(view(await approve(deps, c.get('user'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/approvals/{id}/reject',
      operationId: 'rejectCreative',
      tags,
      summary: 'Reject a pending creative with a reason the advertiser sees; the screens keep the last approved creative',
      security: bearerSecurity,
      request: { params: IdParam, body: jsonBody(RejectApprovalSchema, { example: rejectApprovalExample }) },
      responses: {
        200: jsonResponse(ApprovalSchema, 'Rejected', rejectedExample),
        403: problem('Only operators and admins review creatives'),
        409: problem('The creative is already approved (code approval-decided)'),
        ...pick(400, 401, 404, 413, 415, 422, 503),
      },
    }),
    async (c) => c.json(view(await reject(deps, c.get('user'), c.req.valid('param').id, c.req.valid('json').reason)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/trusted-advertisers',
      operationId: 'listTrustedAdvertisers',
      tags,
      summary: 'Advertisers you trust (operators): their creatives need no review on your displays',
      security: bearerSecurity,
      request: { query: PageQuery },
      responses: {
        200: jsonResponse(TrustedAdvertiserPageSchema, 'One page, oldest first', trustedAdvertiserPageExample),
        403: problem('Only operators keep a list of trusted advertisers'),
        ...pick(401, 422, 503),
      },
    }),
    async (c) => {
      const page = await listTrusted(deps.sql, c.get('user'), c.req.valid('query'));
      return c.json({ items: page.items.map(trustView), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/trusted-advertisers',
      operationId: 'trustAdvertiser',
      tags,
      summary: 'Trust an advertiser (idempotent): what of theirs waits for your review is approved and goes on screen',
      security: bearerSecurity,
      request: { body: jsonBody(TrustAdvertiserSchema, { example: trustAdvertiserExample }) },
      responses: {
        200: jsonResponse(TrustedAdvertiserSchema, 'Trusted', trustedAdvertiserExample),
        403: problem('Only operators keep a list of trusted advertisers'),
        ...pick(400, 401, 413, 415, 422, 503),
      },
    }),
    async (c) => c.json(trustView(await trustAdvertiser(deps, c.get('user'), c.req.valid('json').advertiserId)), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/trusted-advertisers/{advertiserId}',
      operationId: 'distrustAdvertiser',
      tags,
      summary: 'Stop trusting an advertiser: their next creatives wait for review again (what already plays stays)',
      security: bearerSecurity,
      request: { params: AdvertiserIdParam },
      responses: {
        204: { description: 'No longer trusted' },
        403: problem('Only operators keep a list of trusted advertisers'),
        ...pick(401, 404, 422, 503),
      },
    }),
    async (c) => {
      if (!(await deleteTrust(deps.sql, c.get('user'), c.req.valid('param').advertiserId))) throw new NotFoundError('You do not trust this advertiser.');
      return c.body(null, 204);
    },
  );

  return app;
}
