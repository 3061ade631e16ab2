import { z } from '@hono/zod-openapi';
import { CREATIVE_TYPES } from '@marquee/service-kit';
import { PageQuery, pageSchema } from '../pagination.ts';

export const APPROVAL_STATES = ['pending', 'approved', 'rejected'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export const ApprovalListQuery = PageQuery.extend({
  state: z.enum(APPROVAL_STATES).optional().openapi({ param: { name: 'state', in: 'query' }, description: 'Only approvals in this state (the review queue: `pending`)' }),
});
export type ApprovalListFilters = z.infer<typeof ApprovalListQuery>;

export const RejectApprovalSchema = z
  .strictObject({ reason: z.string().trim().min(1).max(500).openapi({ description: 'Shown to the advertiser on the booking' }) })
  .openapi('RejectApproval');

export const ApprovalSchema = z
  .object({
    id: z.uuid(),
    operatorId: z.uuid(),
    creativeId: z.uuid(),
    state: z.enum(APPROVAL_STATES),
    reason: z.string().nullable().openapi({ description: 'Why it was rejected (null unless rejected)' }),
    decidedBy: z.uuid().nullable(),
    decidedAt: z.string().nullable(),
    createdAt: z.string(),
    creative: z
      .object({
        advertiserId: z.uuid(),
        name: z.string(),
        type: z.enum(CREATIVE_TYPES),
        mediaUrl: z.string().nullable().openapi({ description: 'image/video: where to look at it' }),
        body: z.string().nullable().openapi({ description: 'html/text: the content' }),
        durationMs: z.number().int(),
      })
      .openapi({ description: 'What is to be reviewed' }),
  })
  .openapi('Approval');
export type Approval = z.infer<typeof ApprovalSchema>;

export const ApprovalPageSchema = pageSchema(ApprovalSchema, 'ApprovalPage');

export const TrustAdvertiserSchema = z.strictObject({ advertiserId: z.uuid() }).openapi('TrustAdvertiser');

export const TrustedAdvertiserSchema = z
  .object({ advertiserId: z.uuid(), operatorId: z.uuid(), createdAt: z.string() })
  .openapi('TrustedAdvertiser');
export const TrustedAdvertiserPageSchema = pageSchema(TrustedAdvertiserSchema, 'TrustedAdvertiserPage');

export const AdvertiserIdParam = z.object({ advertiserId: z.uuid().openapi({ param: { name: 'advertiserId', in: 'path' } }) });
