import { ConflictError, NotFoundError, type AccessClaims, type Logger, type MessageBus, type Queryable, type Sql } from '@marquee/service-kit';
import { showClearedCreatives } from '../bookings/shown-creatives.ts';
import { approvalChangedEvent, publishLiveEvents, type AddressedEvent } from '../events/publish.ts';
import { bumpPlaylistVersions, publishPlaylistChanges, type PlaylistChange } from '../playlist-changes.ts';
import { approvePendingOf, decideApproval, findApproval, insertTrust, lockApproval, lockReviewsOf, type ApprovalRow, type TrustRow } from './sql.ts';

export interface ApprovalDeps {
  sql: Sql;
  bus: MessageBus;
  logger: Logger;
  publicBaseUrl: string;
}

/**
 * Puts on screen whatever became showable in `scope` (history rows written, playlist versions
 * bumped in this transaction); the caller publishes the changes after commit.
 */
async function showAndBump(tx: Queryable, scope: Parameters<typeof showClearedCreatives>[1]): Promise<PlaylistChange[]> {
  return bumpPlaylistVersions(tx, await showClearedCreatives(tx, scope));
}

/**
 * Approves a creative for all of its operator's displays (idempotent; a rejected one may be
 * approved later): every booked booking×display of that operator now wanting it shows it, and
 * those displays' new playlists are published like any edit.
 */
export async function approve(deps: ApprovalDeps, user: AccessClaims, id: string): Promise<ApprovalRow> {
  const { row, changes, decided } = await deps.sql.begin(async (tx) => {
    const found = await findApproval(tx, user, id);
    if (!found) throw new NotFoundError('No such approval.');
    await lockReviewsOf(tx, [found.operator_id]);
    const current = (await lockApproval(tx, user, id))!;
    const decided = current.state !== 'approved';
    const row = decided ? await decideApproval(tx, id, user.sub, { state: 'approved' }) : current;
    const changes = await showAndBump(tx, { operatorId: row.operator_id, creativeIds: [row.creative_id] });
    return { row, changes, decided };
  });
  publishPlaylistChanges(deps, changes);
  if (decided) publishLiveEvents(deps, [approvalChangedEvent(row)]);
  return row;
}

/**
 * Rejects a pending creative with a reason the advertiser sees (again: the reason is replaced).
 * Nothing on screen changes: each booking keeps its last approved creative, or house content.
 * An approved creative stays approved (it may already be playing).
 */
export async function reject(deps: ApprovalDeps, user: AccessClaims, id: string, reason: string): Promise<ApprovalRow> {
  const row = await deps.sql.begin(async (tx) => {
    const current = await lockApproval(tx, user, id);
    if (!current) throw new NotFoundError('No such approval.');
    if (current.state === 'approved') throw new ConflictError('This creative is already approved.', { code: 'approval-decided' });
    return decideApproval(tx, id, user.sub, { state: 'rejected', reason });
  });
  publishLiveEvents(deps, [approvalChangedEvent(row)]);
  return row;
}

/**
 * The caller (an operator) trusts an advertiser: their creatives need no review on the caller's
 * displays from now on. What waits for review now is approved and put on screen at once.
 */
export async function trustAdvertiser(deps: ApprovalDeps, user: AccessClaims, advertiserId: string): Promise<TrustRow> {
  const { row, changes, approved } = await deps.sql.begin(async (tx) => {
    await lockReviewsOf(tx, [user.sub]);
    const row = await insertTrust(tx, user.sub, advertiserId);
    const approved = await approvePendingOf(tx, user.sub, advertiserId, user.sub);
    const changes = await showAndBump(tx, { operatorId: user.sub, advertiserId });
    return { row, changes, approved };
  });
  publishPlaylistChanges(deps, changes);
  publishLiveEvents(
    deps,
    approved.map((a): AddressedEvent => approvalChangedEvent({ id: a.id, creative_id: a.creative_id, operator_id: user.sub, owner_id: advertiserId, state: 'approved', reason: null })),
  );
  return row;
}
