import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@marquee/service-kit';
import { api, type Target } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { PLAYLIST_TOPICS, announcedVersions } from '../../../test/support/playlist-announcements.ts';
import { startHoldSweeper } from '../src/bookings/sweeper.ts';
import { book, hoursFromNow, key, openSql, seedCreative, seedDisplay, type TestSql } from './bookings-fixtures.ts';

let h: ApiV2TestApp;
let sql: TestSql;
let operator: Session;
let advertiser: Session;
let base: Target;
const messages: { displayId: string; version: number }[] = [];

beforeAll(async () => {
  h = await startApiV2TestApp('v2book');
  base = h.v2;
  sql = openSql(h.db.url);
  [operator, advertiser] = [h.user('operator'), h.user('advertiser')];
  // Built playlists and deltas alike: each names displays and their new versions.
  for (const topic of PLAYLIST_TOPICS) await h.bus.subscribe(topic, (message) => void messages.push(...announcedVersions(message)));
});
afterAll(async () => {
  await sql?.end();
  await h?.close();
});

/** The creatives a booking has shown on a display, oldest first. */
const shownOn = async (bookingId: string, displayId: string) =>
  (await sql<{ creative_id: string }[]>`
    select creative_id from booking_display_creatives where booking_id = ${bookingId} and display_id = ${displayId} order by since`).map((r) => r.creative_id);

const versionOf = async (displayId: string) =>
  Number((await sql<{ v: string }[]>`select playlist_version as v from displays where id = ${displayId}`)[0]!.v);

async function waitForMessage(displayId: string, version: number) {
  for (let i = 0; i < 250; i++) {
    if (messages.some((m) => m.displayId === displayId && m.version === version)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no playlist.changed or playlist.delta message for ${displayId} v${version}`);
}

describe('holds, prices and the booking lifecycle', () => {
  it('quotes price_per_slot_hour × hours rounded up per display and holds until holdExpiresAt', async () => {
    const d1 = await seedDisplay(sql, operator.userId, { pricePerSlotHour: 333 });
    const d2 = await seedDisplay(sql, operator.userId, { pricePerSlotHour: 1000 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    const startsAt = hoursFromNow(3);
    const endsAt = new Date(Date.parse(startsAt) + 90 * 60_000).toISOString(); // 1.5 h
    const res = await book(base, advertiser, { displayIds: [d1, d2], creativeId, startsAt, endsAt });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'held', creativeId, advertiserId: advertiser.userId, currency: 'EUR', startsAt, endsAt, daypart: null });
    const prices = Object.fromEntries(res.body.displays.map((d: any) => [d.displayId, d.price]));
    expect(prices).toEqual({ [d1]: 500, [d2]: 1500 }); // 333 × 1.5 = 499.5 → 500
    expect(res.body.priceTotal).toBe(2000);
    // The default hold TTL (900 s), counted from the booking's creation.
    expect(Date.parse(res.body.holdExpiresAt) - Date.parse(res.body.createdAt)).toBe(900_000);
    const slots = await sql`select display_id, slot, lower(during) as lo, upper(during) as hi, active from booking_slots where booking_id = ${res.body.id}`;
    expect(slots).toHaveLength(2);
    expect(slots.every((s) => s.active && s.slot === 0 && s.lo.toISOString() === startsAt && s.hi.toISOString() === endsAt)).toBe(true);
  });

  it('confirm books the hold, bumps each display’s playlist version and publishes it on the bus; cancel does it again', async () => {
    const d1 = await seedDisplay(sql, operator.userId);
    const d2 = await seedDisplay(sql, operator.userId);
    const creativeId = await seedCreative(sql, advertiser.userId);
    const held = await book(base, advertiser, { displayIds: [d1, d2], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(5) });
    expect(held.status).toBe(201);
    const v1 = await versionOf(d1);

    const confirmed = await api(base, 'POST', `/bookings/${held.body.id}/confirm`, undefined, advertiser.auth);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: held.body.id, status: 'booked', holdExpiresAt: null });
    expect(confirmed.body.confirmedAt).toEqual(expect.any(String));
    expect(await versionOf(d1)).toBe(v1 + 1);
    await waitForMessage(d1, v1 + 1);
    await waitForMessage(d2, (await versionOf(d2)));

    // Confirming again changes nothing (no second bump).
    const again = await api(base, 'POST', `/bookings/${held.body.id}/confirm`, undefined, advertiser.auth);
    expect(again.status).toBe(200);
    expect(await versionOf(d1)).toBe(v1 + 1);

    // Swapping the creative of a booked booking changes what plays: bump.
    const other = await seedCreative(sql, advertiser.userId);
    const patched = await api(base, 'PATCH', `/bookings/${held.body.id}`, { creativeId: other }, advertiser.auth);
    expect(patched.status).toBe(200);
    expect(patched.body.creativeId).toBe(other);
    expect(await versionOf(d1)).toBe(v1 + 2);
    await waitForMessage(d1, v1 + 2);
    // Each display's history keeps what it showed before the swap, for plays that started then.
    expect(await shownOn(held.body.id, d1)).toEqual([creativeId, other]);
    expect(await shownOn(held.body.id, d2)).toEqual([creativeId, other]);
    // Swapping back and forth records only changes.
    expect((await api(base, 'PATCH', `/bookings/${held.body.id}`, { creativeId: other }, advertiser.auth)).status).toBe(200);
    expect(await shownOn(held.body.id, d1)).toEqual([creativeId, other]);

    const cancelled = await api(base, 'POST', `/bookings/${held.body.id}/cancel`, undefined, advertiser.auth);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await versionOf(d1)).toBe(v1 + 3);
    await waitForMessage(d1, v1 + 3);
    const active = await sql`select count(*)::int as n from booking_slots where booking_id = ${held.body.id} and active`;
    expect(active[0]!.n).toBe(0);

    // Cancelled bookings cannot be confirmed or edited; cancelling twice is harmless.
    expect((await api(base, 'POST', `/bookings/${held.body.id}/confirm`, undefined, advertiser.auth)).status).toBe(409);
    expect((await api(base, 'PATCH', `/bookings/${held.body.id}`, { creativeId }, advertiser.auth)).status).toBe(409);
    expect((await api(base, 'POST', `/bookings/${held.body.id}/cancel`, undefined, advertiser.auth)).status).toBe(200);
  });

  it('cancelling or editing a hold releases/changes it without touching playlists', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 1 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    const body = { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(4) };
    const held = await book(base, advertiser, body);
    const v = await versionOf(d);
    const other = await seedCreative(sql, advertiser.userId);
    expect((await api(base, 'PATCH', `/bookings/${held.body.id}`, { creativeId: other }, advertiser.auth)).body.creativeId).toBe(other);
    expect((await api(base, 'POST', `/bookings/${held.body.id}/cancel`, undefined, advertiser.auth)).body.status).toBe('cancelled');
    expect(await versionOf(d)).toBe(v);
    // A hold never showed anything.
    expect(await shownOn(held.body.id, d)).toEqual([]);
    // The only slot is free again.
    expect((await book(base, advertiser, body)).status).toBe(201);
  });
});

describe('warnings', () => {
  it('books a creative longer than the slot (201) with a creative_longer_than_slot warning naming those displays, and warns on swap too', async () => {
    const short = await seedDisplay(sql, operator.userId, { slotCount: 12 }); // 60 s / 12: 5 s slots
    const fits = await seedDisplay(sql, operator.userId); // 10 s slots
    const tenSeconds = await seedCreative(sql, advertiser.userId);
    const fourSeconds = await seedCreative(sql, advertiser.userId, 4_000);
    const body = { displayIds: [short, fits], creativeId: tenSeconds, startsAt: hoursFromNow(30), endsAt: hoursFromNow(31) };
    const idempotencyKey = key();
    const res = await book(base, advertiser, body, idempotencyKey);
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([{ code: 'creative_longer_than_slot', detail: expect.stringMatching(/10000 ms .* 5000 ms on 1 of the booked displays/), displayIds: [short] }]);
    // A retry answers the same, warning included.
    const retry = await book(base, advertiser, body, idempotencyKey);
    expect(retry.status).toBe(200);
    expect(retry.body.warnings).toEqual(res.body.warnings);

    const swapped = await api(base, 'PATCH', `/bookings/${res.body.id}`, { creativeId: fourSeconds }, advertiser.auth);
    expect(swapped.status).toBe(200);
    expect(swapped.body.warnings).toEqual([]);
    const back = await api(base, 'PATCH', `/bookings/${res.body.id}`, { creativeId: tenSeconds }, advertiser.auth);
    expect(back.body.warnings).toEqual([{ code: 'creative_longer_than_slot', detail: expect.any(String), displayIds: [short] }]);

    const fitting = await book(base, advertiser, { ...body, displayIds: [fits], startsAt: hoursFromNow(32), endsAt: hoursFromNow(33) });
    expect(fitting.status).toBe(201);
    expect(fitting.body.warnings).toEqual([]);
    // Reads of a booking carry no warnings: they belong to the answer of a change.
    expect((await api(base, 'GET', `/bookings/${res.body.id}`, undefined, advertiser.auth)).body).not.toHaveProperty('warnings');
  });
});

describe('expired holds', () => {
  it('never block anyone: a lapsed hold is released by the next booking on its display, and confirming it is 409', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 1 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    const body = { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) };
    const first = await book(base, advertiser, body);
    expect(first.status).toBe(201);
    const blocked = await book(base, advertiser, body);
    expect(blocked.status).toBe(409);

    await sql`update bookings set hold_expires_at = now() - interval '1 second' where id = ${first.body.id}`;
    const second = await book(base, advertiser, body);
    expect(second.status).toBe(201);
    const [row] = await sql`select status from bookings where id = ${first.body.id}`;
    expect(row!.status).toBe('expired');

    const late = await api(base, 'POST', `/bookings/${first.body.id}/confirm`, undefined, advertiser.auth);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('booking-expired');
  });

  it('confirming a lapsed hold nobody swept yet answers 409 hold-expired and releases it', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 1 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    const held = await book(base, advertiser, { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) });
    await sql`update bookings set hold_expires_at = now() - interval '1 second' where id = ${held.body.id}`;
    const v = await versionOf(d);
    const res = await api(base, 'POST', `/bookings/${held.body.id}/confirm`, undefined, advertiser.auth);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.code).toBe('hold-expired');
    const [row] = await sql`select status from bookings where id = ${held.body.id}`;
    expect(row!.status).toBe('expired');
    expect((await sql`select count(*)::int as n from booking_slots where booking_id = ${held.body.id} and active`)[0]!.n).toBe(0);
    expect(await versionOf(d)).toBe(v);
  });

  it('the periodic sweeper marks lapsed holds expired and deactivates their slots', async () => {
    const d = await seedDisplay(sql, operator.userId);
    const creativeId = await seedCreative(sql, advertiser.userId);
    const held = await book(base, advertiser, { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) });
    const live = await book(base, advertiser, { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) });
    await sql`update bookings set hold_expires_at = now() - interval '1 second' where id = ${held.body.id}`;
    const sweeper = startHoldSweeper({ sql: sql as never, logger: createLogger('sweeper-test', 'silent') }, 50);
    try {
      let status = '';
      for (let i = 0; i < 500 && status !== 'expired'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        status = (await sql`select status from bookings where id = ${held.body.id}`)[0]!.status;
      }
      expect(status).toBe('expired');
    } finally {
      await sweeper.stop();
    }
    expect((await sql`select count(*)::int as n from booking_slots where booking_id = ${held.body.id} and active`)[0]!.n).toBe(0);
    expect((await sql`select status from bookings where id = ${live.body.id}`)[0]!.status).toBe('held');
  });
});

describe('idempotency', () => {
  it('returns the same booking for a retry (200, original body) and 422 when the key is reused for another request', async () => {
    const d = await seedDisplay(sql, operator.userId);
    const creativeId = await seedCreative(sql, advertiser.userId);
    const body = { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) };
    const k = key();
    const first = await book(base, advertiser, body, k);
    expect(first.status).toBe(201);
    const retry = await book(base, advertiser, body, k);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    // The same instants written differently are the same request.
    const sameInstants = { ...body, startsAt: body.startsAt.replace('.000Z', '+00:00') };
    expect((await book(base, advertiser, sameInstants, k)).body.id).toBe(first.body.id);
    const different = await book(base, advertiser, { ...body, endsAt: hoursFromNow(4) }, k);
    expect(different.status).toBe(422);
    expect(different.body.code).toBe('idempotency-key-reused');
    expect((await sql`select count(*)::int as n from bookings where creative_id = ${creativeId}`)[0]!.n).toBe(1);
  });

  it('two parallel requests with one key create one booking', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 6 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    const body = { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) };
    const k = key();
    const results = await Promise.all(Array.from({ length: 8 }, () => book(base, advertiser, body, k)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await sql`select count(*)::int as n from bookings where creative_id = ${creativeId}`)[0]!.n).toBe(1);
  });

  it('keys are per user: another advertiser may use the same key', async () => {
    const d = await seedDisplay(sql, operator.userId);
    const other = h.user('advertiser');
    const k = key();
    const a = await book(base, advertiser, { displayIds: [d], creativeId: await seedCreative(sql, advertiser.userId), startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) }, k);
    const b = await book(base, other, { displayIds: [d], creativeId: await seedCreative(sql, other.userId), startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) }, k);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
  });
});

describe('dayparts in the display’s own timezone', () => {
  it('keeps 07:00–10:00 Berlin time across the spring DST change (06:00Z–09:00Z before, 05:00Z–08:00Z after)', async () => {
    const d = await seedDisplay(sql, operator.userId, { timezone: 'Europe/Berlin', pricePerSlotHour: 100 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    // Clocks go forward on Sunday 2027-03-28.
    const res = await book(base, advertiser, {
      displayIds: [d],
      creativeId,
      startsAt: '2027-03-26T00:00:00Z',
      endsAt: '2027-03-30T00:00:00Z',
      daypart: { from: '07:00', to: '10:00' },
    });
    expect(res.status).toBe(201);
    expect(res.body.daypart).toEqual({ from: '07:00', to: '10:00' });
    expect(res.body.displays[0]).toMatchObject({ windowCount: 4, price: 1200 });
    const windows = await sql<{ lo: Date; hi: Date }[]>`
      select lower(during) as lo, upper(during) as hi from booking_slots where booking_id = ${res.body.id} order by lower(during)`;
    expect(windows.map((w) => [w.lo.toISOString(), w.hi.toISOString()])).toEqual([
      ['2027-03-26T06:00:00.000Z', '2027-03-26T09:00:00.000Z'],
      ['2027-03-27T06:00:00.000Z', '2027-03-27T09:00:00.000Z'],
      ['2027-03-28T05:00:00.000Z', '2027-03-28T08:00:00.000Z'],
      ['2027-03-29T05:00:00.000Z', '2027-03-29T08:00:00.000Z'],
    ]);
    // Availability shows the same windows as blocks, and the time in between is free.
    const av = await api(base, 'GET', `/displays/${d}/availability?from=2027-03-28T00:00:00Z&to=2027-03-29T00:00:00Z`, undefined, advertiser.auth);
    expect(av.body.blocks).toEqual([{ slot: 0, from: '2027-03-28T05:00:00.000Z', to: '2027-03-28T08:00:00.000Z', status: 'held', bookingId: res.body.id }]);
    // Another booking can take slot 0 outside those windows.
    const evening = await book(base, advertiser, { displayIds: [d], creativeId, startsAt: '2027-03-28T18:00:00Z', endsAt: '2027-03-28T20:00:00Z' });
    expect(evening.body.displays[0].slot).toBe(0);
  });

  it('honours days, overnight windows and clips windows to [startsAt, endsAt)', async () => {
    const d = await seedDisplay(sql, operator.userId, { timezone: 'America/New_York', pricePerSlotHour: 60 });
    const creativeId = await seedCreative(sql, advertiser.userId);
    // 2027-06-04 is a Friday. Window 22:00–02:00 local (EDT = UTC-4) on Fri and Sat only.
    const res = await book(base, advertiser, {
      displayIds: [d],
      creativeId,
      startsAt: '2027-06-04T03:00:00Z', // Thu 23:00 local: Thursday's window is excluded by days
      endsAt: '2027-06-06T04:00:00Z', // Sun 00:00 local: Saturday's window is clipped to 2 h
      daypart: { from: '22:00', to: '02:00', days: ['fri', 'sat'] },
    });
    expect(res.status).toBe(201);
    const windows = await sql<{ lo: Date; hi: Date }[]>`
      select lower(during) as lo, upper(during) as hi from booking_slots where booking_id = ${res.body.id} order by lower(during)`;
    expect(windows.map((w) => [w.lo.toISOString(), w.hi.toISOString()])).toEqual([
      ['2027-06-05T02:00:00.000Z', '2027-06-05T06:00:00.000Z'],
      ['2027-06-06T02:00:00.000Z', '2027-06-06T04:00:00.000Z'],
    ]);
    expect(res.body.displays[0].price).toBe(360);
  });

  it('refuses a daypart that leaves no time to book (422)', async () => {
    const d = await seedDisplay(sql, operator.userId);
    const res = await book(base, advertiser, {
      displayIds: [d],
      creativeId: await seedCreative(sql, advertiser.userId),
      startsAt: '2027-06-07T00:00:00Z', // Monday
      endsAt: '2027-06-08T00:00:00Z',
      daypart: { from: '07:00', to: '10:00', days: ['sun'] },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('empty-daypart');
  });
});

describe('reading bookings and availability', () => {
  it('lists own bookings newest first with cursor pagination; operators see those on their displays; admins all', async () => {
    const op = h.user('operator');
    const adv = h.user('advertiser');
    const d = await seedDisplay(sql, op.userId);
    const elsewhere = await seedDisplay(sql, operator.userId);
    const creativeId = await seedCreative(sql, adv.userId);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await book(base, adv, { displayIds: [d], creativeId, startsAt: hoursFromNow(2 + i), endsAt: hoursFromNow(3 + i) })).body.id);
    }
    const both = await book(base, adv, { displayIds: [d, elsewhere], creativeId, startsAt: hoursFromNow(10), endsAt: hoursFromNow(11) });
    ids.push(both.body.id);

    const page1 = await api(base, 'GET', '/bookings?limit=3', undefined, adv.auth);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((b: any) => b.id)).toEqual([ids[3], ids[2], ids[1]]);
    const page2 = await api(base, 'GET', `/bookings?limit=3&cursor=${page1.body.nextCursor}`, undefined, adv.auth);
    expect(page2.body.items.map((b: any) => b.id)).toEqual([ids[0]]);
    expect(page2.body.nextCursor).toBeNull();

    // The operator sees all four, but only the part of the two-display booking that is theirs.
    const opList = await api(base, 'GET', '/bookings', undefined, op.auth);
    expect(opList.body.items.map((b: any) => b.id).sort()).toEqual([...ids].sort());
    const opView = await api(base, 'GET', `/bookings/${both.body.id}`, undefined, op.auth);
    expect(opView.status).toBe(200);
    expect(opView.body.displays.map((x: any) => x.displayId)).toEqual([d]);
    expect((await api(base, 'GET', `/bookings?displayId=${elsewhere}`, undefined, op.auth)).body.items).toEqual([]);
    expect((await api(base, 'GET', `/bookings?status=booked`, undefined, adv.auth)).body.items).toEqual([]);

    const admin = h.user('admin');
    const adminView = await api(base, 'GET', `/bookings/${both.body.id}`, undefined, admin.auth);
    expect(adminView.body.displays).toHaveLength(2);
    const adminList = await api(base, 'GET', `/bookings?displayId=${d}`, undefined, admin.auth);
    expect(adminList.body.items).toHaveLength(4);

    expect((await api(base, 'GET', '/bookings?cursor=bm9wZQ', undefined, adv.auth)).status).toBe(422);
    expect((await api(base, 'GET', '/bookings?limit=0', undefined, adv.auth)).status).toBe(422);
  });

  it('availability shows free slots and blocks, with booking ids only for the caller’s own', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 3 });
    const mine = await book(base, advertiser, { displayIds: [d], creativeId: await seedCreative(sql, advertiser.userId), startsAt: hoursFromNow(2), endsAt: hoursFromNow(4) });
    const other = h.user('advertiser');
    const theirs = await book(base, other, { displayIds: [d], creativeId: await seedCreative(sql, other.userId), startsAt: hoursFromNow(3), endsAt: hoursFromNow(5) });
    await api(base, 'POST', `/bookings/${theirs.body.id}/confirm`, undefined, other.auth);

    const q = `?from=${encodeURIComponent(hoursFromNow(1))}&to=${encodeURIComponent(hoursFromNow(6))}`;
    const av = await api(base, 'GET', `/displays/${d}/availability${q}`, undefined, advertiser.auth);
    expect(av.status).toBe(200);
    expect(av.body).toMatchObject({ displayId: d, slotCount: 3, freeSlots: 1, truncated: false });
    expect(av.body.blocks).toEqual([
      { slot: 0, from: hoursFromNow(2), to: hoursFromNow(4), status: 'held', bookingId: mine.body.id },
      { slot: 1, from: hoursFromNow(3), to: hoursFromNow(5), status: 'booked' },
    ]);
    // The display's operator sees every booking id.
    const opView = await api(base, 'GET', `/displays/${d}/availability${q}`, undefined, operator.auth);
    expect(opView.body.blocks.map((b: any) => b.bookingId)).toEqual([mine.body.id, theirs.body.id]);
    // A lapsed hold no longer blocks, even before anyone swept it.
    await sql`update bookings set hold_expires_at = now() - interval '1 second' where id = ${mine.body.id}`;
    expect((await api(base, 'GET', `/displays/${d}/availability${q}`, undefined, advertiser.auth)).body.freeSlots).toBe(2);

    const tooLong = `?from=${encodeURIComponent(hoursFromNow(1))}&to=${encodeURIComponent(hoursFromNow(1 + 94 * 24))}`;
    expect((await api(base, 'GET', `/displays/${d}/availability${tooLong}`, undefined, advertiser.auth)).status).toBe(422);
    const backwards = `?from=${encodeURIComponent(hoursFromNow(5))}&to=${encodeURIComponent(hoursFromNow(1))}`;
    expect((await api(base, 'GET', `/displays/${d}/availability${backwards}`, undefined, advertiser.auth)).status).toBe(422);
    expect((await api(base, 'GET', `/displays/${d}/availability?from=yesterday&to=now`, undefined, advertiser.auth)).status).toBe(422);
    expect((await api(base, 'GET', `/displays/${d}/availability`, undefined, advertiser.auth)).status).toBe(422);
    expect((await api(base, 'GET', `/displays/${d}/availability${q}`)).status).toBe(401);
  });

  it('availability of a display that is not active: only its operator and admins (others 404)', async () => {
    const d = await seedDisplay(sql, operator.userId, { status: 'pending' });
    const q = `?from=${encodeURIComponent(hoursFromNow(1))}&to=${encodeURIComponent(hoursFromNow(6))}`;
    expect((await api(base, 'GET', `/displays/${d}/availability${q}`, undefined, advertiser.auth)).status).toBe(404);
    expect((await api(base, 'GET', `/displays/${d}/availability${q}`, undefined, (h.user('operator')).auth)).status).toBe(404);
    expect((await api(base, 'GET', `/displays/${d}/availability${q}`, undefined, operator.auth)).status).toBe(200);
    expect((await api(base, 'GET', `/displays/00000000-0000-4000-8000-000000000000/availability${q}`, undefined, operator.auth)).status).toBe(404);
  });
});

describe('authorization', () => {
  it('another user’s booking is 404 on every object route; operators cannot write (403)', async () => {
    const d = await seedDisplay(sql, operator.userId);
    const creativeId = await seedCreative(sql, advertiser.userId);
    const held = await book(base, advertiser, { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) });
    const stranger = h.user('advertiser');
    const strangerCreative = await seedCreative(sql, stranger.userId);
    const otherOperator = h.user('operator');
    const id = held.body.id;

    for (const who of [stranger, otherOperator]) {
      const get = await api(base, 'GET', `/bookings/${id}`, undefined, who.auth);
      expect(get.status).toBe(404);
      expect(get.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await api(base, 'POST', `/bookings/${id}/confirm`, undefined, stranger.auth)).status).toBe(404);
    expect((await api(base, 'POST', `/bookings/${id}/cancel`, undefined, stranger.auth)).status).toBe(404);
    expect((await api(base, 'PATCH', `/bookings/${id}`, { creativeId: strangerCreative }, stranger.auth)).status).toBe(404);
    expect((await api(base, 'GET', '/bookings', undefined, stranger.auth)).body.items).toEqual([]);
    expect((await api(base, 'GET', '/bookings', undefined, otherOperator.auth)).body.items).toEqual([]);

    // The display's operator may read but not change it.
    expect((await api(base, 'GET', `/bookings/${id}`, undefined, operator.auth)).status).toBe(200);
    expect((await api(base, 'POST', `/bookings/${id}/confirm`, undefined, operator.auth)).status).toBe(403);
    expect((await api(base, 'POST', `/bookings/${id}/cancel`, undefined, operator.auth)).status).toBe(403);
    expect((await api(base, 'PATCH', `/bookings/${id}`, { creativeId }, operator.auth)).status).toBe(403);
    expect((await book(base, operator, { displayIds: [d], creativeId, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) })).status).toBe(403);

    // Someone else's creative: 404 when booking and when swapping.
    expect((await book(base, advertiser, { displayIds: [d], creativeId: strangerCreative, startsAt: hoursFromNow(2), endsAt: hoursFromNow(3) })).status).toBe(404);
    expect((await api(base, 'PATCH', `/bookings/${id}`, { creativeId: strangerCreative }, advertiser.auth)).status).toBe(404);

    // Nothing changed.
    const after = await api(base, 'GET', `/bookings/${id}`, undefined, advertiser.auth);
    expect(after.body).toMatchObject({ status: 'held', creativeId });

    // An admin may act on anyone's booking.
    const admin = h.user('admin');
    expect((await api(base, 'POST', `/bookings/${id}/confirm`, undefined, admin.auth)).body.status).toBe('booked');
  });
});
