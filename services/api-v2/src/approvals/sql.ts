import type { AccessClaims, Queryable } from '@marquee/service-kit';
import { approvalVisible, trustManaged } from '../access.ts';
import { keyset, type Page, type PageRequest, type Positioned } from '../pagination.ts';
import { creativeMayShow } from './rules.ts';
import type { Approval, ApprovalListFilters, ApprovalState } from './schemas.ts';

export interface ApprovalRow {
  id: string;
  operator_id: string;
  creative_id: string;
  state: ApprovalState;
  reason: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
  owner_id: string;
  name: string;
  type: Approval['creative']['type'];
  media_sha256: string | null;
  body: string | null;
  duration_ms: number;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const approvalView = (r: ApprovalRow, publicBaseUrl: string): Approval => ({
  id: r.id,
  operatorId: r.operator_id,
  creativeId: r.creative_id,
  state: r.state,
  reason: r.reason,
  decidedBy: r.decided_by,
  decidedAt: iso(r.decided_at),
  createdAt: r.created_at.toISOString(),
  creative: {
    advertiserId: r.owner_id,
    name: r.name,
    type: r.type,
    mediaUrl: r.media_sha256 ? `${publicBaseUrl}/media/${r.media_sha256.trim()}` : null,
    body: r.body,
    durationMs: r.duration_ms,
  },
});

const columns = (sql: Queryable) => sql`ca.*, c.owner_id, c.name, c.type, c.media_sha256, c.body, c.duration_ms`;

/**
 * Serialises, per operator, the transactions that decide whether a creative may show on their
 * displays: a confirmation or swap (checks, then queues) and an approval or trust (decides, then
 * shows what is booked). Without it an approval committing between a confirmation's check and
 * its commit would miss that booking, which would then wait although approved. Taken before any
 * display row lock, in operator id order, so these transactions never wait on each other in a cycle.
 */
export async function lockReviewsOf(tx: Queryable, operatorIds: readonly string[]): Promise<void> {
  await tx`
    select pg_advisory_xact_lock(hashtextextended('content-review:' || o.id, 0))
    from (select distinct unnest(${operatorIds}::uuid[])::text as id order by 1) o`;
}

/** The operators of a booking's displays. */
export async function operatorsOf(tx: Queryable, bookingId: string): Promise<string[]> {
  const rows = await tx<{ operator_id: string }[]>`
    select distinct d.operator_id from booking_displays bd join displays d on d.id = bd.display_id where bd.booking_id = ${bookingId}`;
  return rows.map((r) => r.operator_id);
}

/**
 * Inside a confirmation or swap: for each display of the booking that may not show its current
 * creative yet, a pending approval for that display's operator (one per operator and creative; a
 * decision already taken stands, so a rejected creative stays rejected).
 */
export async function requestApprovals(tx: Queryable, bookingId: string): Promise<void> {
  await tx`
    insert into creative_approvals (operator_id, creative_id)
    select distinct d.operator_id, b.creative_id
    from booking_displays bd join bookings b on b.id = bd.booking_id join displays d on d.id = bd.display_id
    where bd.booking_id = ${bookingId} and not ${creativeMayShow(tx)}
    on conflict (operator_id, creative_id) do nothing`;
}

/** One page of the approvals the caller may see, oldest first (the queue's order). */
export async function listApprovals(sql: Queryable, user: AccessClaims, q: ApprovalListFilters): Promise<Page<ApprovalRow>> {
  const page = keyset(sql, 'ca', q, 'oldest first');
  const rows = await sql<(ApprovalRow & Positioned)[]>`
    select ${columns(sql)}, ${page.position}
    from creative_approvals ca join creatives c on c.id = ca.creative_id
    where ${approvalVisible(sql, user)} and ${page.after}
      ${q.state ? sql`and ca.state = ${q.state}` : sql``}
    order by ${page.orderBy}
    limit ${page.limit}`;
  return page.page(rows);
}

/** An approval the caller may decide (not locked). */
export async function findApproval(sql: Queryable, user: AccessClaims, id: string): Promise<{ operator_id: string } | undefined> {
  const [row] = await sql<{ operator_id: string }[]>`select ca.operator_id from creative_approvals ca where ca.id = ${id} and ${approvalVisible(sql, user)}`;
  return row;
}

/** An approval the caller may decide, locked for their transaction. */
export async function lockApproval(tx: Queryable, user: AccessClaims, id: string): Promise<ApprovalRow | undefined> {
  const [row] = await tx<ApprovalRow[]>`
    select ${columns(tx)} from creative_approvals ca join creatives c on c.id = ca.creative_id
    where ca.id = ${id} and ${approvalVisible(tx, user)}
    for update of ca`;
  return row;
}

export async function decideApproval(tx: Queryable, id: string, decidedBy: string, decision: { state: 'approved' } | { state: 'rejected'; reason: string }): Promise<ApprovalRow> {
  const reason = decision.state === 'rejected' ? decision.reason : null;
  const [row] = await tx<ApprovalRow[]>`
    with ca as (
      update creative_approvals set state = ${decision.state}, reason = ${reason}, decided_by = ${decidedBy}, decided_at = now()
      where id = ${id} returning *)
    select ${columns(tx)} from ca join creatives c on c.id = ca.creative_id`;
  return row!;
}

/** Marks every pending approval of `advertiserId`'s creatives for this operator approved (they trusted the advertiser). */
/** Approves what of this advertiser waits for this operator's review; returns what it approved. */
export async function approvePendingOf(tx: Queryable, operatorId: string, advertiserId: string, decidedBy: string): Promise<{ id: string; creative_id: string }[]> {
  return tx<{ id: string; creative_id: string }[]>`
    update creative_approvals ca set state = 'approved', decided_by = ${decidedBy}, decided_at = now()
    from creatives c
    where c.id = ca.creative_id and c.owner_id = ${advertiserId} and ca.operator_id = ${operatorId} and ca.state = 'pending'
    returning ca.id, ca.creative_id`;
}

export interface TrustRow {
  id: string;
  operator_id: string;
  advertiser_id: string;
  created_at: Date;
}

export const trustView = (r: TrustRow) => ({ advertiserId: r.advertiser_id, operatorId: r.operator_id, createdAt: r.created_at.toISOString() });

/** Trusts an advertiser (idempotent); the row as stored. */
export async function insertTrust(tx: Queryable, operatorId: string, advertiserId: string): Promise<TrustRow> {
  const [row] = await tx<TrustRow[]>`
    with added as (
      insert into trusted_advertisers (operator_id, advertiser_id) values (${operatorId}, ${advertiserId})
      on conflict (operator_id, advertiser_id) do nothing returning *)
    select * from added
    union all
    select * from trusted_advertisers where operator_id = ${operatorId} and advertiser_id = ${advertiserId}
    limit 1`;
  return row!;
}

/** Stops trusting an advertiser; false if the caller did not trust them. */
export async function deleteTrust(sql: Queryable, user: AccessClaims, advertiserId: string): Promise<boolean> {
  const rows = await sql`delete from trusted_advertisers ta where ta.advertiser_id = ${advertiserId} and ${trustManaged(sql, user)} returning 1`;
  return rows.length > 0;
}

export async function listTrusted(sql: Queryable, user: AccessClaims, q: PageRequest): Promise<Page<TrustRow>> {
  const page = keyset(sql, 'ta', q, 'oldest first');
  const rows = await sql<(TrustRow & Positioned)[]>`
    select ta.*, ${page.position} from trusted_advertisers ta
    where ${trustManaged(sql, user)} and ${page.after}
    order by ${page.orderBy}
    limit ${page.limit}`;
  return page.page(rows);
}
