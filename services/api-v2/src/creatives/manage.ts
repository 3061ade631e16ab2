import { NotFoundError, ValidationError, type AccessClaims, type Logger, type MessageBus, type Sql } from '@marquee/service-kit';
import { bumpPlaylistVersions, publishPlaylistEdit } from '../playlist-changes.ts';
import { MEDIA_TYPES_FOR, type CreateCreativeInput } from './schemas.ts';
import { displaysPlaying, insertCreative, updateCreativeFields, usableMediaType, type CreativeRow } from './sql.ts';

export interface CreativeDeps {
  sql: Sql;
  bus: MessageBus;
  logger: Logger;
  publicBaseUrl: string;
}

/**
 * A creative of the caller's. Image and video creatives need media the caller uploaded, of a
 * matching type. A text or HTML creative's body becomes media too (its exact UTF-8 bytes; the
 * database does it, migration 110), since displays get every creative as media they verify by hash.
 */
export async function createCreative(sql: Sql, user: AccessClaims, input: CreateCreativeInput): Promise<CreativeRow> {
  if (input.type === 'image' || input.type === 'video') {
    const mediaType = await usableMediaType(sql, input.mediaSha256!, user);
    if (!mediaType) {
      throw new ValidationError('No media with this sha256 among your completed uploads.', { errors: [{ field: 'mediaSha256', message: 'unknown media' }] });
    }
    if (!MEDIA_TYPES_FOR[input.type].includes(mediaType)) {
      throw new ValidationError(`An ${input.type} creative needs ${MEDIA_TYPES_FOR[input.type].join(' or ')} media; this is ${mediaType}.`, {
        errors: [{ field: 'mediaSha256', message: `media is ${mediaType}` }],
      });
    }
  }
  return insertCreative(sql, {
    ownerId: user.sub,
    name: input.name,
    type: input.type,
    mediaSha256: input.mediaSha256 ?? null,
    body: input.body ?? null,
    durationMs: input.durationMs,
  });
}

/**
 * Renames a creative the caller may change or changes its duration. A new duration changes the
 * playlists of the displays still to play it: their versions are bumped in the same transaction
 * and, after commit, published as one delta (the new duration), whatever the number of displays.
 */
export async function updateCreative(deps: CreativeDeps, user: AccessClaims, id: string, changes: { name?: string; durationMs?: number }): Promise<CreativeRow> {
  const result = await deps.sql.begin(async (tx) => {
    const updated = await updateCreativeFields(tx, id, user, changes);
    if (!updated) throw new NotFoundError('No such creative.');
    const playlistChanges = updated.durationChanged ? await bumpPlaylistVersions(tx, await displaysPlaying(tx, id)) : [];
    return { row: updated.row, playlistChanges };
  });
  const { row, playlistChanges } = result;
  const edit = { kind: 'creative-duration', creativeId: row.id, durationMs: row.duration_ms } as const;
  publishPlaylistEdit(deps, playlistChanges, () => edit);
  return row;
}
