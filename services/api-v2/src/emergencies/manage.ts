import { invalidFields, NotFoundError, type AccessClaims, type Logger, type MessageBus, type Sql } from '@marquee/service-kit';
import { bumpPlaylistVersions, publishPlaylistChanges } from '../playlist-changes.ts';
import type { CreateEmergencyInput } from './schemas.ts';
import { insertEmergency, lockClearable, managedDisplayIds, markCleared, readEmergency, usableCreative, type EmergencyRow } from './sql.ts';

export interface EmergencyDeps {
  sql: Sql;
  bus: MessageBus;
  logger: Logger;
  publicBaseUrl: string;
}

/**
 * Puts a message (text, or a creative the caller may use) on displays the caller runs: every
 * slot of each plays it until it is cleared. Its bytes are media, so displays download and verify
 * them like any other; the playlists change in this transaction and are published after commit.
 */
export async function startEmergency(deps: EmergencyDeps, user: AccessClaims, input: CreateEmergencyInput): Promise<EmergencyRow> {
  const { id, changes } = await deps.sql.begin(async (tx) => {
    const displayIds = await managedDisplayIds(tx, user, input.displayIds);
    if (displayIds.length !== input.displayIds.length) {
      const known = new Set(displayIds);
      throw new NotFoundError(`No such displays: ${input.displayIds.filter((d) => !known.has(d.toLowerCase())).join(', ')}.`);
    }
    // A message's media is made by the database as it is inserted (migration 112).
    let mediaSha256: string | null = null;
    if (input.creativeId !== undefined) {
      const creative = await usableCreative(tx, user, input.creativeId);
      if (!creative) throw invalidFields([{ field: 'creativeId', message: 'must be one of your creatives or one you approved' }]);
      mediaSha256 = creative.media_sha256;
    }
    const id = await insertEmergency(tx, { createdBy: user.sub, creativeId: input.creativeId ?? null, message: input.message ?? null, mediaSha256, displayIds });
    return { id, changes: await bumpPlaylistVersions(tx, displayIds) };
  });
  publishPlaylistChanges(deps, changes);
  return (await readEmergency(deps.sql, user, id))!;
}

/** Ends an emergency (idempotent): its displays go back to their schedule. */
export async function clearEmergency(deps: EmergencyDeps, user: AccessClaims, id: string): Promise<EmergencyRow> {
  const changes = await deps.sql.begin(async (tx) => {
    const row = await lockClearable(tx, user, id);
    if (!row) throw new NotFoundError('No such emergency.');
    if (row.cleared_at) return [];
    await markCleared(tx, id, user.sub);
    return bumpPlaylistVersions(tx, row.display_ids);
  });
  publishPlaylistChanges(deps, changes);
  return (await readEmergency(deps.sql, user, id))!;
}
