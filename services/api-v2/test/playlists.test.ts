import { createHash, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '@marquee/service-kit';
import { recordShownCreative } from '../src/bookings/shown-creatives.ts';
import { buildPlaylist } from '../src/playlists/build.ts';
import { api } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { createDisplay as createDisplayVia, type Session } from '../../../test/support/platform.ts';

const BASE = 'https://screens.example/v2';
const HOUR = 3600_000;
let h: ApiV2TestApp;
let db: postgres.Sql;
let op: Session;
let adv: Session;

beforeAll(async () => {
  h = await startApiV2TestApp('v2playlists', { publicBaseUrl: BASE });
  db = postgres(h.db.url, { max: 2, onnotice: () => {} });
  [op, adv] = [h.user('operator'), h.user('advertiser')];
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

async function createDisplay(loop = { lengthMs: 60_000, slotCount: 6 }) {
  return (await createDisplayVia(h.v2, op.auth, { name: 'Playlist screen', loop })).id;
}

const sha = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

async function imageCreative(n: number, durationMs = 8_000) {
  await db`insert into media (sha256, content_type, size_bytes, lo_oid) values (${sha(n)}, 'image/png', 10, 0) on conflict do nothing`;
  const [c] = await db`
    insert into creatives (owner_id, name, type, media_sha256, duration_ms)
    values (${adv.userId}, 'image', 'image', ${sha(n)}, ${durationMs}) returning id`;
  return c!.id as string;
}

async function textCreative(body: string, durationMs = 5_000) {
  const [c] = await db`
    insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 'text', 'text', ${body}, ${durationMs}) returning id`;
  return c!.id as string;
}

async function book(displayId: string, creativeId: string, slot: number, from: Date, to: Date, opts: { status?: string; active?: boolean } = {}) {
  const [b] = await db`
    insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency)
    values (${adv.userId}, ${creativeId}, ${from}, ${to}, ${opts.status ?? 'booked'}, 100, 'EUR') returning id`;
  await db`
    insert into booking_slots (booking_id, display_id, slot, during, active)
    values (${b!.id}, ${displayId}, ${slot}, tstzrange(${from}::timestamptz, ${to}::timestamptz, '[)'), ${opts.active ?? true})`;
  // What confirmation records: the booking shows its creative on the display from then on.
  await db`insert into booking_displays (booking_id, display_id, slot, price, window_count) values (${b!.id}, ${displayId}, ${slot}, 100, 1)`;
  if (opts.status !== 'held') {
    await db`insert into booking_display_creatives (booking_id, display_id, creative_id, since) values (${b!.id}, ${displayId}, ${creativeId}, ${from})`;
  }
  return b!.id as string;
}

describe('buildPlaylist', () => {
  it('lists booked slots overlapping the next 48 h, clipped to that window, with the current creative', async () => {
    const displayId = await createDisplay();
    const now = new Date(Date.now() - 60_000);
    now.setUTCMilliseconds(0);
    const at = (h: number) => new Date(now.getTime() + h * HOUR);
    const image = await imageCreative(1, 12_000); // longer than a 10 s slot: cut to the slot
    const text = await textCreative('<b>Sale</b> today');

    const spanning = await book(displayId, image, 2, at(-5), at(100)); // clipped at both ends
    const soon = await book(displayId, text, 0, at(1), at(3));
    const later = await book(displayId, image, 0, at(40), at(60)); // clipped at the end
    await book(displayId, text, 1, at(-10), at(-1)); // over
    await book(displayId, text, 3, at(48), at(50)); // starts exactly when the window ends
    await book(displayId, text, 4, at(1), at(2), { status: 'held' });
    await book(displayId, text, 5, at(1), at(2), { status: 'cancelled', active: false });
    await book(displayId, text, 5, at(2), at(3), { active: false });

    const playlist = await buildPlaylist(db as unknown as Sql, displayId, BASE + '/', now);
    expect(playlist).toMatchObject({
      displayId,
      version: 1,
      generatedAt: now.toISOString(),
      validFrom: now.toISOString(),
      validUntil: at(48).toISOString(),
      loop: { lengthMs: 60_000, slotCount: 6, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' },
    });
    // Text is media too: the SHA-256 of the body's UTF-8 bytes (migration 110).
    const textSha = createHash('sha256').update('<b>Sale</b> today', 'utf8').digest('hex');
    expect(playlist!.entries).toEqual([
      {
        slot: 0,
        kind: 'booking',
        bookingId: soon,
        creativeId: text,
        type: 'text',
        mediaSha256: textSha,
        mediaUrl: `${BASE}/media/${textSha}`,
        durationMs: 5_000,
        scripts: false,
        validFrom: at(1).toISOString(),
        validUntil: at(3).toISOString(),
      },
      {
        slot: 0,
        kind: 'booking',
        bookingId: later,
        creativeId: image,
        type: 'image',
        mediaSha256: sha(1),
        mediaUrl: `${BASE}/media/${sha(1)}`,
        durationMs: 10_000,
        scripts: false,
        validFrom: at(40).toISOString(),
        validUntil: at(48).toISOString(),
      },
      {
        slot: 2,
        kind: 'booking',
        bookingId: spanning,
        creativeId: image,
        type: 'image',
        mediaSha256: sha(1),
        mediaUrl: `${BASE}/media/${sha(1)}`,
        durationMs: 10_000,
        scripts: false,
        validFrom: now.toISOString(),
        validUntil: at(48).toISOString(),
      },
    ]);

    // What the booking shows is read at build time: a swap recorded for this display shows up in
    // the next playlist.
    const replacement = await imageCreative(2, 4_000);
    await db.begin((tx) => recordShownCreative(tx, spanning, replacement));
    const next = await buildPlaylist(db as unknown as Sql, displayId, BASE, now);
    expect(next!.entries.find((e) => e.bookingId === spanning)).toMatchObject({ creativeId: replacement, mediaSha256: sha(2), durationMs: 4_000 });
  });

  it('returns null for an unknown display and an empty playlist for a display with no bookings', async () => {
    expect(await buildPlaylist(db as unknown as Sql, randomUUID(), BASE)).toBeNull();
    const displayId = await createDisplay({ lengthMs: 30_000, slotCount: 3 });
    const playlist = await buildPlaylist(db as unknown as Sql, displayId, BASE);
    expect(playlist).toMatchObject({ displayId, version: 1, loop: { lengthMs: 30_000, slotCount: 3, slotMs: 10_000 }, entries: [] });
    expect(Date.parse(playlist!.validUntil) - Date.parse(playlist!.validFrom)).toBe(48 * HOUR);
  });
});

describe('internal playlist routes', () => {
  it('serves the playlist on the internal port only, with the current version after a loop change', async () => {
    const displayId = await createDisplay();
    const creative = await textCreative('hi');
    await book(displayId, creative, 5, new Date(Date.now() - HOUR), new Date(Date.now() + HOUR));

    const first = await api(h.internal, 'GET', `/internal/displays/${displayId}/playlist`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ displayId, version: 1, loop: { slotCount: 6 } });
    expect(first.body.entries.map((e: any) => e.slot)).toEqual([5]);
    expect(Date.parse(first.body.validUntil) - Date.parse(first.body.validFrom)).toBe(48 * HOUR);

    const patch = await api(h.v2, 'PATCH', `/displays/${displayId}`, { loop: { lengthMs: 120_000, slotCount: 6 } }, op.auth);
    expect(patch.status).toBe(200);
    const second = await api(h.internal, 'GET', `/internal/displays/${displayId}/playlist`);
    expect(second.body).toMatchObject({ version: 2, loop: { lengthMs: 120_000, slotCount: 6, slotMs: 20_000 } });

    // Not on the public app.
    expect((await api(h.v2, 'GET', `/internal/displays/${displayId}/playlist`)).status).toBe(404);
  });

  it("carries the operator's HTML scripts setting on html entries only, and a change of it is a new version", async () => {
    const displayId = await createDisplay();
    const [html] = await db`
      insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 'html', 'html', '<p>hi</p>', 5000) returning id`;
    const from = new Date(Date.now() - HOUR);
    const to = new Date(Date.now() + HOUR);
    await book(displayId, html!.id, 0, from, to);
    await book(displayId, await textCreative('plain'), 1, from, to);
    const before = await api(h.internal, 'GET', `/internal/displays/${displayId}/playlist`);
    expect(before.body.entries.map((e: any) => [e.type, e.scripts])).toEqual([['html', false], ['text', false]]);

    const patch = await api(h.v2, 'PATCH', `/displays/${displayId}`, { htmlScripts: true }, op.auth);
    expect(patch.status).toBe(200);
    expect(patch.body.htmlScripts).toBe(true);
    const after = await api(h.internal, 'GET', `/internal/displays/${displayId}/playlist`);
    expect(after.body.version).toBe(before.body.version + 1);
    expect(after.body.entries.map((e: any) => [e.type, e.scripts])).toEqual([['html', true], ['text', false]]);
    expect((await api(h.v2, 'PATCH', `/displays/${displayId}`, { htmlScripts: 'yes' }, op.auth)).status).toBe(422);
  });

  it('answers 404 problem+json for unknown or malformed display ids', async () => {
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const res = await api(h.internal, 'GET', `/internal/displays/${id}/playlist`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('reports many playlist versions at once; unknown ids are absent', async () => {
    const a = await createDisplay();
    const b = await createDisplay();
    await api(h.v2, 'PATCH', `/displays/${b}`, { loop: { lengthMs: 30_000, slotCount: 3 } }, op.auth);
    for (const path of ['/internal/playlists/versions']) {
      const res = await api(h.internal, 'POST', path, { displayIds: [a, b, randomUUID(), 'junk', a] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ versions: { [a]: 1, [b]: 2 } });
    }
    const many: string[] = Array.from({ length: 10_000 }, () => randomUUID());
    many[1234] = a;
    const big = await api(h.internal, 'POST', '/internal/playlists/versions', { displayIds: many });
    expect(big.body).toEqual({ versions: { [a]: 1 } });
    const tooMany = await api(h.internal, 'POST', '/internal/playlists/versions', { displayIds: [...many, a] });
    expect(tooMany.status).toBe(422);
    for (const bad of [{}, { displayIds: 'x' }, { displayIds: [1] }, { displayIds: [], extra: 1 }]) {
      expect((await api(h.internal, 'POST', '/internal/playlists/versions', bad)).status, JSON.stringify(bad)).toBe(422);
    }
    expect((await api(h.internal, 'POST', '/internal/playlists/versions', '{"displayIds":[')).status).toBe(400);
  });
});

describe('batched playlists (device-tcp fetches many at once)', () => {
  it('POST /internal/playlists answers the same playlists as the single fetch, unknown ids absent', async () => {
    const [a, b] = [await createDisplay(), await createDisplay({ lengthMs: 30_000, slotCount: 3 })];
    const batch = await api(h.internal, 'POST', '/internal/playlists', { displayIds: [a, b, randomUUID(), 'not-a-uuid'] });
    expect(batch.status).toBe(200);
    expect(Object.keys(batch.body.playlists).sort()).toEqual([a, b].sort());
    for (const id of [a, b]) {
      const single = await api(h.internal, 'GET', `/internal/displays/${id}/playlist`);
      expect({ ...batch.body.playlists[id], generatedAt: 0, validFrom: 0, validUntil: 0 }).toEqual({ ...single.body, generatedAt: 0, validFrom: 0, validUntil: 0 });
    }
    expect(batch.body.playlists[b].loop).toEqual({ lengthMs: 30_000, slotCount: 3, slotMs: 10_000, anchorAt: '1970-01-01T00:00:00.000Z' });
    for (const bad of [{ displayIds: [] }, { displayIds: Array(1001).fill(a) }, { ids: [a] }, { displayIds: 'x' }]) {
      expect((await api(h.internal, 'POST', '/internal/playlists', bad)).status).toBe(422);
    }
  });
});
