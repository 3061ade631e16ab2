import { ConflictError, invalidFields, NotFoundError, type AccessClaims, type Logger, type MessageBus, type Queryable, type Sql } from '@marquee/service-kit';
import { showClearedCreatives } from '../bookings/shown-creatives.ts';
import { bumpPlaylistVersions, publishPlaylistChanges, TOPIC_DISPLAY_REVOKED, type PlaylistChange } from '../playlist-changes.ts';
import { newDeviceSecret } from './credentials.ts';
import type { CreateDisplayInput, UpdateDisplayInput } from './schemas.ts';
import {
  findStrandedBookings,
  houseCreativeUsable,
  insertDisplay,
  lockManagedDisplay,
  readDisplay,
  setCredentialHash,
  setDisplayStatus,
  updateDisplayFields,
  type DisplayRow,
} from './sql.ts';

export interface DisplayDeps {
  sql: Sql;
  bus: MessageBus;
  logger: Logger;
  publicBaseUrl: string;
}

/** A device credential as shown once, at registration or rotation. */
export interface IssuedCredential {
  displayId: string;
  secret: string;
  rotatedAt: string;
}

const credentialOf = (row: DisplayRow, secret: string): IssuedCredential => ({
  displayId: row.id,
  secret,
  rotatedAt: row.credential_rotated_at.toISOString(),
});

/** Registers a display (status pending) for the caller; its device secret is returned only here. */
export async function registerDisplay(sql: Queryable, user: AccessClaims, input: CreateDisplayInput): Promise<{ row: DisplayRow; credential: IssuedCredential }> {
  const { secret, hash } = newDeviceSecret();
  const row = await insertDisplay(sql, user.sub, input, hash);
  return { row, credential: credentialOf(row, secret) };
}

/** Locks a display the caller runs for this transaction, or answers 404 as for a nonexistent one. */
async function lockOrNotFound(tx: Queryable, user: AccessClaims, id: string): Promise<DisplayRow> {
  const row = await lockManagedDisplay(tx, user, id);
  if (!row) throw new NotFoundError('No such display.');
  return row;
}

/**
 * Changes a display the caller runs. A loop change bumps its playlist version and is refused (409)
 * while it would strand bookings: slots that no longer exist, or creatives longer than the new slot.
 * New house content, a policy turned `auto` (what waited for review goes on screen), and allowing
 * or forbidding HTML scripts (the entries carry it) bump it too.
 */
export async function updateDisplay(deps: DisplayDeps, user: AccessClaims, id: string, patch: UpdateDisplayInput): Promise<DisplayRow> {
  let changes: PlaylistChange[] = [];
  const row = await deps.sql.begin(async (tx) => {
    const current = await lockOrNotFound(tx, user, id);
    const loopChanged = patch.loop && (patch.loop.lengthMs !== current.loop_length_ms || patch.loop.slotCount !== current.slot_count);
    if (patch.loop && loopChanged) {
      const stranded = await findStrandedBookings(tx, id, patch.loop.slotCount, patch.loop.lengthMs / patch.loop.slotCount);
      if (stranded.length) {
        throw new ConflictError(
          `The new loop would strand ${stranded.length}${stranded.length === 100 ? '+' : ''} booked slot(s); cancel or move them first.`,
          { conflicts: stranded },
        );
      }
    }
    const houseChanged = patch.houseCreativeId !== undefined && (patch.houseCreativeId?.toLowerCase() ?? null) !== current.house_creative_id;
    if (patch.houseCreativeId && houseChanged && !(await houseCreativeUsable(tx, id, patch.houseCreativeId))) {
      throw invalidFields([{ field: 'houseCreativeId', message: "must be a creative of the display's operator, or one they approved" }]);
    }
    const scriptsChanged = patch.htmlScripts !== undefined && patch.htmlScripts !== current.html_scripts;
    await updateDisplayFields(tx, id, patch);
    const released = patch.contentPolicy === 'auto' && current.content_policy !== 'auto' ? await showClearedCreatives(tx, { displayIds: [id] }) : [];
    if (loopChanged || houseChanged || scriptsChanged || released.length) changes = await bumpPlaylistVersions(tx, [id]);
    return (await readDisplay(tx, id))!;
  });
  publishPlaylistChanges(deps, changes);
  return row;
}

/**
 * Puts a display the caller runs in the catalogue or takes it out (both idempotent). Disabling
 * also closes its device's live connection; its credential stops working until re-activation.
 */
export async function changeDisplayStatus(deps: DisplayDeps, user: AccessClaims, id: string, status: 'active' | 'disabled'): Promise<DisplayRow> {
  const row = await deps.sql.begin(async (tx) => {
    await lockOrNotFound(tx, user, id);
    return setDisplayStatus(tx, id, status);
  });
  if (status === 'disabled') await revoke(deps, id, 'disabled');
  return row;
}

/** A new device credential for a display the caller runs: the old secret stops working at once. */
export async function rotateDisplayCredential(deps: DisplayDeps, user: AccessClaims, id: string): Promise<IssuedCredential> {
  const { secret, hash } = newDeviceSecret();
  const row = await deps.sql.begin(async (tx) => {
    await lockOrNotFound(tx, user, id);
    return setCredentialHash(tx, id, hash);
  });
  await revoke(deps, id, 'credentials_rotated');
  return credentialOf(row, secret);
}

/** Tells device-tcp to close the display's live connection, and why (the display is told). */
async function revoke(deps: DisplayDeps, displayId: string, reason: 'disabled' | 'credentials_rotated') {
  await deps.bus.publish(TOPIC_DISPLAY_REVOKED, { displayId, reason }).catch((err) => deps.logger.warn({ err, displayId }, 'display revocation not published'));
}
