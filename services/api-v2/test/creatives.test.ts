import { createHash, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../test/support/http.ts';
import { until } from '../../../test/support/until.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { JPEG_HEAD, mp4, PNG_1X1, uploadFile } from './media-fixtures.ts';

let h: ApiV2TestApp;
let db: postgres.Sql;
let adv: Session;
let other: Session;
let operator: Session;
let admin: Session;
let pngSha: string;
let mp4Sha: string;
let othersJpegSha: string;

beforeAll(async () => {
  h = await startApiV2TestApp('v2creatives');
  db = postgres(h.db.url, { max: 2, onnotice: () => {} });
  [adv, other, operator, admin] = [h.user('advertiser'), h.user('advertiser'), h.user('operator'), h.user('admin')];
  pngSha = (await uploadFile(h.v2, adv.auth, PNG_1X1, 'image/png')).body.sha256;
  mp4Sha = (await uploadFile(h.v2, adv.auth, mp4(5000), 'video/mp4')).body.sha256;
  othersJpegSha = (await uploadFile(h.v2, other.auth, JPEG_HEAD, 'image/jpeg')).body.sha256;
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

const create = (s: Session, body: unknown) => api(h.v2, 'POST', '/creatives', body, s.auth);

describe('creating creatives', () => {
  it('creates image, video, text and html creatives', async () => {
    const image = await create(adv, { name: 'Summer sale', type: 'image', mediaSha256: pngSha, durationMs: 10_000 });
    expect(image.status).toBe(201);
    expect(image.body).toMatchObject({
      ownerId: adv.userId,
      name: 'Summer sale',
      type: 'image',
      mediaSha256: pngSha,
      mediaContentType: 'image/png',
      mediaSizeBytes: PNG_1X1.length,
      body: null,
      durationMs: 10_000,
    });
    expect(image.body.mediaUrl).toMatch(new RegExp(`/media/${pngSha}$`));
    expect(image.headers.get('location')).toMatch(new RegExp(`/creatives/${image.body.id}$`));
    expect(new Date(image.body.createdAt).toISOString()).toBe(image.body.createdAt);

    const video = await create(adv, { name: 'Spot', type: 'video', mediaSha256: mp4Sha, durationMs: 15_000 });
    expect(video.status).toBe(201);
    expect(video.body.mediaContentType).toBe('video/mp4');
    const text = await create(adv, { name: 'Notice', type: 'text', body: 'Open until 8 pm ☀', durationMs: 5000 });
    expect(text.status).toBe(201);
    // A text/HTML body is stored as media too: displays download it and check its hash.
    const textSha = createHash('sha256').update('Open until 8 pm ☀', 'utf8').digest('hex');
    expect(text.body).toMatchObject({ body: 'Open until 8 pm ☀', mediaSha256: textSha, mediaContentType: 'text/plain; charset=utf-8', mediaSizeBytes: 19 });
    expect(text.body.mediaUrl).toMatch(new RegExp(`/media/${textSha}$`));
    const html = await create(adv, { name: 'Card', type: 'html', body: '<h1>Hello</h1>', durationMs: 5000 });
    expect(html.status).toBe(201);
    const served = await api(h.v2, 'GET', `/media/${html.body.mediaSha256}`);
    expect(served.status).toBe(200);
    expect(served.body).toBe('<h1>Hello</h1>');
    expect(served.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-security-policy')).toMatch(/^sandbox;.*default-src 'none'/);
    expect(served.headers.get('content-security-policy')).not.toMatch(/script-src|allow-scripts/);
    // Every media response is sandboxed for a browser, images too.
    const pngServed = await api(h.v2, 'GET', `/media/${pngSha}`);
    expect(pngServed.headers.get('content-security-policy')).toBe(served.headers.get('content-security-policy'));
    expect(pngServed.headers.get('x-content-type-options')).toBe('nosniff');
    // The same body again (another creative, another owner's) reuses the stored media.
    const again = await create(admin, { name: 'Card 2', type: 'html', body: '<h1>Hello</h1>', durationMs: 5000 });
    expect(again.body.mediaSha256).toBe(html.body.mediaSha256);
    expect((await db`select count(*)::int as n from media where sha256 = ${html.body.mediaSha256}`)[0]!.n).toBe(1);

    const read = await api(h.v2, 'GET', `/creatives/${image.body.id}`, undefined, adv.auth);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(image.body);
  });

  it('refuses bad input with 422 problems naming the field (types, unknown fields, missing or misplaced content)', async () => {
    const cases: [string, unknown, string][] = [
      ['wrong types', { name: 1, type: 'image', mediaSha256: pngSha, durationMs: '10s' }, 'name'],
      ['unknown type', { name: 'x', type: 'gif', mediaSha256: pngSha, durationMs: 5000 }, 'type'],
      ['unknown field', { name: 'x', type: 'text', body: 'hi', durationMs: 5000, ownerId: other.userId }, ''],
      ['missing name', { type: 'text', body: 'hi', durationMs: 5000 }, 'name'],
      ['blank name', { name: '  ', type: 'text', body: 'hi', durationMs: 5000 }, 'name'],
      ['text without body', { name: 'x', type: 'text', durationMs: 5000 }, 'body'],
      ['html with empty body', { name: 'x', type: 'html', body: ' ', durationMs: 5000 }, 'body'],
      ['text with media', { name: 'x', type: 'text', body: 'hi', mediaSha256: pngSha, durationMs: 5000 }, 'mediaSha256'],
      ['image without media', { name: 'x', type: 'image', durationMs: 5000 }, 'mediaSha256'],
      ['image with body', { name: 'x', type: 'image', mediaSha256: pngSha, body: 'hi', durationMs: 5000 }, 'body'],
      ['malformed hash', { name: 'x', type: 'image', mediaSha256: 'ABC', durationMs: 5000 }, 'mediaSha256'],
      ['unknown media', { name: 'x', type: 'image', mediaSha256: '0'.repeat(64), durationMs: 5000 }, 'mediaSha256'],
      ["someone else's media", { name: 'x', type: 'image', mediaSha256: othersJpegSha, durationMs: 5000 }, 'mediaSha256'],
      ['image of a video', { name: 'x', type: 'image', mediaSha256: mp4Sha, durationMs: 5000 }, 'mediaSha256'],
      ['video of an image', { name: 'x', type: 'video', mediaSha256: pngSha, durationMs: 5000 }, 'mediaSha256'],
      ['duration too short', { name: 'x', type: 'text', body: 'hi', durationMs: 999 }, 'durationMs'],
      ['duration absurd', { name: 'x', type: 'text', body: 'hi', durationMs: 1e12 }, 'durationMs'],
      ['duration fractional', { name: 'x', type: 'text', body: 'hi', durationMs: 1500.5 }, 'durationMs'],
      ['body too long', { name: 'x', type: 'text', body: 'é'.repeat(31 * 1024), durationMs: 5000 }, 'body'],
    ];
    for (const [label, body, field] of cases) {
      const res = await create(adv, body);
      expect(res.status, label).toBe(422);
      expect(res.headers.get('content-type'), label).toBe('application/problem+json');
      if (field) expect(res.body.errors.map((e: { field: string }) => e.field), label).toContain(field);
    }
    expect((await create(adv, '{"name":')).status).toBe(400);
    expect((await create(adv, { name: 'x', type: 'html', body: 'a'.repeat(70_000), durationMs: 5000 })).status).toBe(413);
    expect(Number((await db`select count(*) from creatives where owner_id = ${adv.userId} and name = 'x'`)[0]!.count)).toBe(0);
  });

  it('lets every signed-in user keep creatives (operators for house content), anonymous 401', async () => {
    const byOperator = await create(operator, { name: 'House card', type: 'text', body: 'Welcome', durationMs: 5000 });
    expect(byOperator.status).toBe(201);
    expect(byOperator.body.ownerId).toBe(operator.userId);
    const listed = await api(h.v2, 'GET', '/creatives', undefined, operator.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((c: { id: string }) => c.id)).toEqual([byOperator.body.id]);
    expect((await api(h.v2, 'POST', '/creatives', { name: 'x', type: 'text', body: 'hi', durationMs: 5000 })).status).toBe(401);
    const byAdmin = await create(admin, { name: 'House ad', type: 'image', mediaSha256: othersJpegSha, durationMs: 5000 });
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.ownerId).toBe(admin.userId);
  });
});

describe('reading and changing creatives', () => {
  it("answers 404 for another advertiser's creative on every object route; admins reach all", async () => {
    const mine = await create(adv, { name: 'Private', type: 'text', body: 'mine', durationMs: 5000 });
    const id = mine.body.id as string;
    expect((await api(h.v2, 'GET', `/creatives/${id}`, undefined, other.auth)).status).toBe(404);
    const patch = await api(h.v2, 'PATCH', `/creatives/${id}`, { name: 'Stolen' }, other.auth);
    expect(patch.status).toBe(404);
    expect(patch.headers.get('content-type')).toBe('application/problem+json');
    expect((await api(h.v2, 'GET', `/creatives/${id}`, undefined, operator.auth)).status).toBe(404);
    expect((await api(h.v2, 'GET', '/creatives/00000000-0000-4000-8000-000000000000', undefined, adv.auth)).status).toBe(404);
    expect((await api(h.v2, 'GET', '/creatives/not-a-uuid', undefined, adv.auth)).status).toBe(422);

    const othersList = await api(h.v2, 'GET', '/creatives?limit=200', undefined, other.auth);
    expect(othersList.body.items.map((c: { id: string }) => c.id)).not.toContain(id);
    expect((await api(h.v2, 'GET', `/creatives/${id}`, undefined, admin.auth)).body.name).toBe('Private');
    const byAdmin = await api(h.v2, 'PATCH', `/creatives/${id}`, { name: 'Renamed by admin' }, admin.auth);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.ownerId).toBe(adv.userId);
    const all = await api(h.v2, 'GET', '/creatives?limit=200', undefined, admin.auth);
    expect(new Set(all.body.items.map((c: { ownerId: string }) => c.ownerId))).toEqual(new Set([adv.userId, admin.userId, operator.userId]));
  });

  it('renames and re-times a creative; content and type cannot be patched', async () => {
    const c = await create(adv, { name: 'Before', type: 'text', body: 'hi', durationMs: 5000 });
    const id = c.body.id as string;
    const renamed = await api(h.v2, 'PATCH', `/creatives/${id}`, { name: 'After', durationMs: 8000 }, adv.auth);
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'After', durationMs: 8000, body: 'hi' });
    expect(new Date(renamed.body.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(c.body.updatedAt).getTime());
    for (const bad of [{}, { body: 'new' }, { type: 'html' }, { name: '' }, { durationMs: 10 }, { durationMs: 'long' }]) {
      expect((await api(h.v2, 'PATCH', `/creatives/${id}`, bad, adv.auth)).status).toBe(422);
    }
    expect((await api(h.v2, 'GET', `/creatives/${id}`, undefined, adv.auth)).body).toMatchObject({ name: 'After', durationMs: 8000, body: 'hi', type: 'text' });
  });

  it('bumps the playlist version of displays with upcoming bookings when the duration changes', async () => {
    const c = await create(adv, { name: 'Booked', type: 'image', mediaSha256: pngSha, durationMs: 5000 });
    const [display] = await db`
      insert into displays (operator_id, name, lat, lng, timezone, width_px, height_px, orientation, loop_length_ms, slot_count, price_per_slot_hour, credential_hash)
      values (${operator.userId}, 'Lobby', 52.5, 13.4, 'Europe/Berlin', 1920, 1080, 'landscape', 60000, 6, 100, '\\x00')
      returning id, playlist_version`;
    const [booking] = await db`
      insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency)
      values (${adv.userId}, ${c.body.id}, now(), now() + interval '1 day', 'booked', 2400, 'EUR') returning id`;
    await db`insert into booking_slots (booking_id, display_id, slot, during) values (${booking!.id}, ${display!.id}, 0, tstzrange(now(), now() + interval '1 day'))`;
    const version = async () => Number((await db`select playlist_version from displays where id = ${display!.id}`)[0]!.playlist_version);
    const before = await version();

    expect((await api(h.v2, 'PATCH', `/creatives/${c.body.id}`, { name: 'Only a new name' }, adv.auth)).status).toBe(200);
    expect(await version()).toBe(before);
    expect((await api(h.v2, 'PATCH', `/creatives/${c.body.id}`, { durationMs: 7000 }, adv.auth)).status).toBe(200);
    expect(await version()).toBe(before + 1);
  });

  it('pages through the list newest first with an opaque cursor, filtered by type', async () => {
    const s = h.user('advertiser');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(s, { name: `c${i}`, type: i % 2 ? 'html' : 'text', body: `b${i}`, durationMs: 5000 })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(h.v2, 'GET', `/creatives?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, s.auth);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const html = await api(h.v2, 'GET', '/creatives?type=html', undefined, s.auth);
    expect(html.body.items.map((c: { id: string }) => c.id)).toEqual([ids[3], ids[1]]);
    for (const q of ['cursor=bogus', 'limit=0', 'limit=201', 'limit=x', 'type=gif']) {
      expect((await api(h.v2, 'GET', `/creatives?${q}`, undefined, s.auth)).status, q).toBe(422);
    }
  });
});

describe('text and HTML bodies are media whoever writes them', () => {
  const sha256Of = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it("stores a body changed by a superuser's direct update (not through the API) as media api-v2 serves", async () => {
    const notice = await create(adv, { name: 'Hours', type: 'text', body: 'Open until 8 pm', durationMs: 5000 });
    await db`update creatives set body = 'Closed on Sunday ☂' where id = ${notice.body.id}`;
    const read = await api(h.v2, 'GET', `/creatives/${notice.body.id}`, undefined, adv.auth);
    expect(read.body).toMatchObject({ body: 'Closed on Sunday ☂', mediaSha256: sha256Of('Closed on Sunday ☂'), mediaContentType: 'text/plain; charset=utf-8' });
    const served = await api(h.v2, 'GET', `/media/${read.body.mediaSha256}`);
    expect(served.status).toBe(200);
    expect(served.body).toBe('Closed on Sunday ☂');
  });

  it('stores one media row and one large object when two writers store the same new body at once', async () => {
    const body = `<p>Race ${randomUUID()}</p>`;
    const writers = [0, 1].map(() => postgres(h.db.serviceUrl('api-v2'), { max: 1, onnotice: () => {} }));
    const [first, second] = writers as [postgres.Sql, postgres.Sql];
    const largeObjects = async () => Number((await db`select count(*) from pg_largeobject_metadata`)[0]!.count);
    try {
      const before = await largeObjects();
      const insert = (tx: postgres.TransactionSql) =>
        tx`insert into creatives (owner_id, name, type, body, duration_ms) values (${adv.userId}, 'Race', 'html', ${body}, 5000) returning media_sha256`;
      let commitFirst!: () => void;
      const firstInserted = new Promise<void>((inserted) => {
        void first.begin(async (tx) => {
          await insert(tx);
          inserted();
          await new Promise<void>((r) => (commitFirst = r));
        });
      });
      await firstInserted;
      // The second writer cannot see the first's uncommitted media row, so it makes its own large
      // object and then waits on the first's row; after the first commits it must drop its own.
      const secondDone = second.begin((tx) => insert(tx));
      await until('the second writer waiting for the first', async () => {
        const [row] = await db`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query like 'insert into creatives%'`;
        return row!.n > 0;
      });
      commitFirst();
      const [row] = await secondDone;
      expect(row!.media_sha256).toBe(sha256Of(body));
      expect((await db`select count(*)::int as n from creatives where body = ${body}`)[0]!.n).toBe(2);
      expect((await db`select count(*)::int as n from media where sha256 = ${sha256Of(body)}`)[0]!.n).toBe(1);
      expect(await largeObjects()).toBe(before + 1);
    } finally {
      for (const w of writers) await w.end();
    }
  });
});
