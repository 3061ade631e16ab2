/**
 * Presence batches from several device-tcp replicas, playlist-version bumps and the presence
 * sweeper all write many display rows at once. They must wait for each other, never deadlock.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase, createLogger, migrate, type Sql } from '@marquee/service-kit';
import { API_V2_MIGRATIONS } from '../src/server.ts';
import { applyPresence, startPresenceSweeper, type PresenceEvent } from '../src/devices/presence.ts';
import { bumpPlaylistVersions } from '../src/playlist-changes.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/support/infra.ts';

let db: ScratchDatabase;
let sql: Sql;
const ids: string[] = [];

beforeAll(async () => {
  db = await createScratchDatabase('presencelock');
  sql = createDatabase({ url: db.url, applicationName: 'test', max: 16 });
  await migrate(sql, 'api-v2', API_V2_MIGRATIONS);
  for (let i = 0; i < 300; i++) ids.push(randomUUID());
  await sql`
    insert into displays (id, operator_id, name, lat, lng, timezone, width_px, height_px, orientation, loop_length_ms, slot_count, price_per_slot_hour, credential_hash)
    select id, ${randomUUID()}, 'd', 0, 0, 'UTC', 10, 10, 'landscape', 60000, 6, 1, '\\x00'::bytea from unnest(${ids}::uuid[]) as id`;
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

const shuffled = <T>(xs: T[]) => xs.map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

it('concurrent presence batches, version bumps and sweeps never deadlock', async () => {
  const at = () => new Date().toISOString();
  const batch = (instance: string): PresenceEvent[] =>
    shuffled(ids).flatMap((displayId) => {
      const sessionId = `${instance}-${displayId}`;
      return [
        { kind: 'connected', displayId, sessionId, instanceId: instance, at: at(), remoteAddress: '127.0.0.1', playlistVersion: 1 },
        { kind: 'seen', displayId, sessionId, at: at(), playlistVersion: 2 },
      ] as PresenceEvent[];
    });
  const stopSweeper = startPresenceSweeper(sql, createLogger('test', 'silent'), 1, 5);
  const work: Promise<unknown>[] = [];
  for (let round = 0; round < 6; round++) {
    work.push(applyPresence(sql, batch(`tcp-${round % 3}`)));
    work.push(sql.begin((tx) => bumpPlaylistVersions(tx, shuffled(ids).slice(0, 200))));
  }
  const results = await Promise.allSettled(work);
  stopSweeper();
  const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
  expect(failures).toEqual([]);
  const [{ n }] = (await sql`select count(*)::int as n from display_events where kind = 'connected'`) as unknown as [{ n: number }];
  expect(n).toBe(6 * ids.length);
}, 60_000);
