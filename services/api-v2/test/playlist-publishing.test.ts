/**
 * What api-v2 publishes on playlist.changed after a booking change: the new playlists themselves,
 * each distinct entry list once per message, so device-tcp can push without asking back.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMemoryBus, type PlaylistsChanged, type Sql } from '@marquee/service-kit';
import { api } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { buildPlaylist } from '../src/playlists/build.ts';
import { publishPlaylistChanges } from '../src/playlist-changes.ts';
import { startPlaylistRenewal } from '../src/playlists/renewal.ts';
import { book, hoursFromNow, openSql, seedCreative, seedDisplay, type TestSql } from './bookings-fixtures.ts';

const BASE = 'http://localhost:8080/v2';
let h: ApiV2TestApp;
let sql: TestSql;
let operator: Session;
let advertiser: Session;
const messages: PlaylistsChanged[] = [];

beforeAll(async () => {
  h = await startApiV2TestApp('v2publish', { publicBaseUrl: BASE });
  sql = openSql(h.db.url);
  [operator, advertiser] = [h.user('operator'), h.user('advertiser')];
  await h.bus.subscribe('playlist.changed', (message) => void messages.push(message as PlaylistsChanged));
});
afterAll(async () => {
  await sql?.end();
  await h?.close();
});

async function messageNaming(displayId: string, version: number): Promise<PlaylistsChanged> {
  for (let i = 0; i < 250; i++) {
    const found = messages.find((m) => m.changes.some((c) => c.displayId === displayId && c.version === version));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no playlist.changed naming ${displayId} v${version}`);
}

/** The playlist a device-tcp would assemble from the message. */
function assembled(message: PlaylistsChanged, displayId: string) {
  const change = message.changes.find((c) => c.displayId === displayId)!;
  return { displayId, version: change.version, ...message.window, loop: change.loop, entries: message.entrySets![change.entrySet!] };
}

describe('playlist.changed', () => {
  it('carries the new playlists, with an entry list shared by several displays sent once', async () => {
    const sameLoop = [await seedDisplay(sql, operator.userId), await seedDisplay(sql, operator.userId)];
    const otherLoop = await seedDisplay(sql, operator.userId, { slotCount: 4, loopLengthMs: 20_000 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    const held = await book(h.v2, advertiser, { displayIds: [...sameLoop, otherLoop], creativeId, startsAt: hoursFromNow(1), endsAt: hoursFromNow(3) });
    expect(held.status).toBe(201);
    const confirmed = await api(h.v2, 'POST', `/bookings/${held.body.id}/confirm`, undefined, advertiser.auth);
    expect(confirmed.status).toBe(200);

    const [version] = await sql<{ v: string }[]>`select playlist_version as v from displays where id = ${sameLoop[0]!}`;
    const message = await messageNaming(sameLoop[0]!, Number(version!.v));
    expect(message.changes.map((c) => c.displayId).sort()).toEqual([...sameLoop, otherLoop].sort());
    // Two loops → two entry lists (durations are cut to the slot), not three.
    expect(message.entrySets).toHaveLength(2);
    const [a, b] = sameLoop.map((id) => message.changes.find((c) => c.displayId === id)!);
    expect(a!.entrySet).toBe(b!.entrySet);

    // What device-tcp assembles is exactly what api-v2 serves for the display (same snapshot fields aside).
    for (const id of [...sameLoop, otherLoop]) {
      const built = await buildPlaylist(sql as unknown as Sql, id, BASE);
      const { generatedAt: _g, validFrom: _f, validUntil: _u, ...expected } = built!;
      const { generatedAt, validFrom, validUntil, ...got } = assembled(message, id) as typeof built & object;
      expect(got).toEqual(expected);
      expect(got.entries[0]).toMatchObject({ kind: 'booking', creativeId, bookingId: held.body.id, type: 'text', mediaUrl: expect.stringMatching(/^http:\/\/localhost:8080\/v2\/media\/[0-9a-f]{64}$/) });
      expect([generatedAt, validFrom, validUntil].every((t) => typeof t === 'string')).toBe(true);
    }
  });

  it('still announces the versions (bare notices device-tcp fetches) when the playlists cannot be built', async () => {
    const broken = postgres(h.db.url, { max: 1, onnotice: () => {} });
    await broken.end();
    const bus = createMemoryBus();
    const got: PlaylistsChanged[] = [];
    await bus.subscribe('playlist.changed', (m) => void got.push(m as PlaylistsChanged));
    const warnings: string[] = [];
    publishPlaylistChanges(
      { sql: broken as unknown as Sql, bus, publicBaseUrl: 'http://x', logger: { warn: (_o, m) => void warnings.push(m) } },
      [{ displayId: '00000000-0000-4000-8000-000000000001', version: 7 }],
    );
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([{ publishedAt: expect.any(Number), changes: [{ displayId: '00000000-0000-4000-8000-000000000001', version: 7 }] }]);
    expect(warnings).toEqual(['playlists not built for publishing; sending bare version notices']);
  });
});

describe('playlist renewal', () => {
  it('gives a playlist unchanged for a day a new version with a fresh 48 h window, published like any change; fresh ones stay', async () => {
    const [stale, fresh] = [await seedDisplay(sql, operator.userId), await seedDisplay(sql, operator.userId)];
    await sql`update displays set playlist_since = now() - interval '25 hours' where id = ${stale}`;
    const version = async (id: string) => Number((await sql<{ v: string }[]>`select playlist_version as v from displays where id = ${id}`)[0]!.v);
    const [staleBefore, freshBefore] = [await version(stale), await version(fresh)];

    const renewal = startPlaylistRenewal({ sql: sql as unknown as Sql, bus: h.bus, logger: createLogger('renewal', 'silent'), publicBaseUrl: BASE }, { intervalMs: 3_600_000 });
    try {
      const renewed = await renewal.runOnce();
      expect(renewed).toContainEqual({ displayId: stale, version: staleBefore + 1 });
      expect(renewed.map((c) => c.displayId)).not.toContain(fresh);
      expect(await version(fresh)).toBe(freshBefore);
      const message = await messageNaming(stale, staleBefore + 1);
      expect(Date.parse(message.window!.validUntil)).toBeGreaterThan(Date.now() + 47 * 3_600_000);
      // Renewed means fresh again: the next run leaves it alone.
      expect((await renewal.runOnce()).map((c) => c.displayId)).not.toContain(stale);
    } finally {
      await renewal.stop();
    }
  });
});
