import type { Queryable } from '@marquee/service-kit';

/**
 * Whether booking `b`'s current creative may be shown on display `d` (SQL over those aliases):
 * the display takes content as booked (`auto`), or the creative is the operator's own, or its
 * advertiser is trusted by the operator, or the operator approved this creative. The one place
 * that decides it: confirmation, swaps, approvals, trust and policy changes all ask this.
 */
export function creativeMayShow(sql: Queryable) {
  return sql`(d.content_policy = 'auto' or b.advertiser_id = d.operator_id
    or exists (select 1 from trusted_advertisers ta where ta.operator_id = d.operator_id and ta.advertiser_id = b.advertiser_id)
    or exists (select 1 from creative_approvals ca where ca.operator_id = d.operator_id and ca.creative_id = b.creative_id and ca.state = 'approved'))`;
}

/** Whether creative `c` may be house content of display `d`: the operator's own, or one they approved. */
export function houseCreativeAllowed(sql: Queryable) {
  return sql`(c.owner_id = d.operator_id
    or exists (select 1 from creative_approvals ca where ca.operator_id = d.operator_id and ca.creative_id = c.id and ca.state = 'approved'))`;
}
