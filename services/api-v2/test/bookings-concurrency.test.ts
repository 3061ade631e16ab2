import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { startHoldSweeper } from '../src/bookings/sweeper.ts';
import { book, hoursFromNow, openSql, seedCreative, seedDisplay, type TestSql } from './bookings-fixtures.ts';

// Not the 900 s default, so the expiry test also shows the configured TTL is the one applied.
const HOLD_TTL_SECONDS = 120;
let h: ApiV2TestApp;
let sql: TestSql;
let operator: Session;
let alice: Session;
let bob: Session;
let base: ApiV2TestApp['v2'];

beforeAll(async () => {
  h = await startApiV2TestApp('v2bookrace', { holdTtlSeconds: HOLD_TTL_SECONDS });
  base = h.v2;
  sql = openSql(h.db.url);
  [operator, alice, bob] = [h.user('operator'), h.user('advertiser'), h.user('advertiser')];
});
afterAll(async () => {
  await sql?.end();
  await h?.close();
});

const activeSlots = (displayId: string) =>
  sql<{ booking_id: string; slot: number }[]>`select booking_id, slot from booking_slots where display_id = ${displayId} and active order by slot`;

describe('overbooking is impossible under concurrency', () => {
  it('50 parallel POST /bookings for one display with 6 slots: exactly 6 × 201, 44 × 409 naming the conflict', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 6 });
    const [aliceCreative, bobCreative] = await Promise.all([seedCreative(sql, alice.userId), seedCreative(sql, bob.userId)]);
    const startsAt = hoursFromNow(24);
    const endsAt = hoursFromNow(26);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const who = i % 2 ? bob : alice;
        return book(base, who, { displayIds: [d], creativeId: who === alice ? aliceCreative : bobCreative, startsAt, endsAt }).then((r) => ({ ...r, who }));
      }),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(6);
    expect(refused).toHaveLength(44);
    expect(created.map((r) => r.body.displays[0].slot).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const slots = await activeSlots(d);
    expect(slots.map((s) => s.slot)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(slots.map((s) => s.booking_id))).toEqual(new Set(created.map((r) => r.body.id)));
    expect((await sql`select count(*)::int as n from bookings b join booking_displays bd on bd.booking_id = b.id where bd.display_id = ${d}`)[0]!.n).toBe(6);

    const ownIds = (who: Session) => new Set(created.filter((r) => r.who === who).map((r) => r.body.id));
    for (const r of refused) {
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.body.code).toBe('slots-unavailable');
      expect(r.body.conflicts).toHaveLength(1);
      const [c] = r.body.conflicts;
      expect(c).toMatchObject({ displayId: d, from: startsAt, to: endsAt });
      expect(c.blockedBy).toHaveLength(6);
      for (const b of c.blockedBy) {
        expect(b).toMatchObject({ status: 'held', from: startsAt, to: endsAt });
        // Booking ids only for the caller's own holds, never another advertiser's.
        if (b.bookingId) expect(ownIds(r.who).has(b.bookingId)).toBe(true);
      }
      expect(c.blockedBy.filter((b: any) => b.bookingId)).toHaveLength(ownIds(r.who).size);
    }
  });

  it('multi-display bookings are all or nothing: one full display means nothing is booked on the others', async () => {
    const [a, b, full] = await Promise.all([
      seedDisplay(sql, operator.userId, { slotCount: 4 }),
      seedDisplay(sql, operator.userId, { slotCount: 4 }),
      seedDisplay(sql, operator.userId, { slotCount: 1 }),
    ]);
    const startsAt = hoursFromNow(30);
    const endsAt = hoursFromNow(33);
    const blocker = await book(base, bob, { displayIds: [full], creativeId: await seedCreative(sql, bob.userId), startsAt: hoursFromNow(31), endsAt: hoursFromNow(32) });
    expect(blocker.status).toBe(201);

    const creativeId = await seedCreative(sql, alice.userId);
    const res = await book(base, alice, { displayIds: [a, full, b], creativeId, startsAt, endsAt });
    expect(res.status).toBe(409);
    expect(res.body.conflicts).toEqual([
      { displayId: full, from: hoursFromNow(31), to: hoursFromNow(32), blockedBy: [{ status: 'held', slot: 0, from: hoursFromNow(31), to: hoursFromNow(32) }] },
    ]);
    expect(await activeSlots(a)).toEqual([]);
    expect(await activeSlots(b)).toEqual([]);
    expect((await sql`select count(*)::int as n from bookings where creative_id = ${creativeId}`)[0]!.n).toBe(0);

    // Once the blocker is cancelled the same request goes through on all three.
    await api(base, 'POST', `/bookings/${blocker.body.id}/cancel`, undefined, bob.auth);
    const retry = await book(base, alice, { displayIds: [a, full, b], creativeId, startsAt, endsAt });
    expect(retry.status).toBe(201);
    expect(retry.body.displays).toHaveLength(3);
  });

  it('parallel multi-display requests in opposite orders, with confirms racing them: never partial, never 5xx', async () => {
    const [a, b] = await Promise.all([seedDisplay(sql, operator.userId, { slotCount: 3 }), seedDisplay(sql, operator.userId, { slotCount: 5 })]);
    const creativeId = await seedCreative(sql, alice.userId);
    const startsAt = hoursFromNow(40);
    const endsAt = hoursFromNow(42);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => book(base, alice, { displayIds: i % 2 ? [a, b] : [b, a], creativeId, startsAt, endsAt })),
    );
    // Confirm the winners while more requests race for the same displays.
    const winners = results.filter((r) => r.status === 201);
    const second = await Promise.all([
      ...winners.map((w) => api(base, 'POST', `/bookings/${w.body.id}/confirm`, undefined, alice.auth)),
      ...Array.from({ length: 10 }, (_, i) => book(base, alice, { displayIds: i % 2 ? [a, b] : [b, a], creativeId, startsAt, endsAt })),
    ]);
    const statuses = [...results, ...second].map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 201 || s === 409)).toBe(true);
    expect(winners).toHaveLength(3); // limited by display a's 3 slots
    expect(second.slice(0, winners.length).every((r) => r.status === 200 && r.body.status === 'booked')).toBe(true);
    expect(second.slice(winners.length).every((r) => r.status === 409)).toBe(true);
    const slotsA = await activeSlots(a);
    const slotsB = await activeSlots(b);
    expect(slotsA).toHaveLength(3);
    expect(slotsB).toHaveLength(3);
    expect(new Set(slotsA.map((s) => s.booking_id))).toEqual(new Set(slotsB.map((s) => s.booking_id)));
    // Same-display bookings queue behind each other instead of deadlocking in the exclusion check.
    const [stats] = await sql`select deadlocks::int as n from pg_stat_database where datname = current_database()`;
    expect(stats!.n).toBe(0);
  });

  it('a slot taken between the look and the insert (23P01) makes the request move on to the next slot', async () => {
    const d = await seedDisplay(sql, operator.userId, { slotCount: 2 });
    const creativeId = await seedCreative(sql, alice.userId);
    const startsAt = hoursFromNow(60);
    const endsAt = hoursFromNow(61);
    let request: ReturnType<typeof book> | undefined;
    // Another writer claims slot 0 in a transaction still open when the request looks at the slots.
    await sql.begin(async (tx) => {
      const [b] = await tx`
        insert into bookings (advertiser_id, creative_id, starts_at, ends_at, status, price_total, currency)
        values (${alice.userId}, ${creativeId}, ${startsAt}, ${endsAt}, 'booked', 0, 'EUR') returning id`;
      await tx`insert into booking_slots (booking_id, display_id, slot, during) values (${b!.id}, ${d}, 0, tstzrange(${startsAt}, ${endsAt}))`;
      request = book(base, alice, { displayIds: [d], creativeId, startsAt, endsAt });
      // Wait until the request is blocked on our uncommitted row inside the exclusion check.
      let waiting = 0;
      for (let i = 0; i < 500 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name = 'api-v2' and wait_event_type = 'Lock' and query like '%insert into booking_slots%'`;
        waiting = row!.n;
      }
      expect(waiting).toBe(1);
    });
    const res = await request!;
    expect(res.status).toBe(201);
    expect(res.body.displays[0].slot).toBe(1);
    expect((await activeSlots(d)).map((s) => s.slot)).toEqual([0, 1]);
  });
});

describe('holds lapse on their own', () => {
  it('a hold past its TTL stops blocking: a booking over it succeeds, the sweeper expires the rest, confirm is refused', async () => {
    const [d, other] = await Promise.all([seedDisplay(sql, operator.userId, { slotCount: 1 }), seedDisplay(sql, operator.userId, { slotCount: 1 })]);
    const creativeId = await seedCreative(sql, alice.userId);
    const window = { startsAt: hoursFromNow(50), endsAt: hoursFromNow(51) };
    const held = await book(base, alice, { displayIds: [d], creativeId, ...window });
    const heldToo = await book(base, alice, { displayIds: [other], creativeId, ...window });
    expect([held.status, heldToo.status]).toEqual([201, 201]);
    expect(Date.parse(held.body.holdExpiresAt) - Date.parse(held.body.createdAt)).toBe(HOLD_TTL_SECONDS * 1000);
    const bobBody = { displayIds: [d], creativeId: await seedCreative(sql, bob.userId), ...window };
    expect((await book(base, bob, bobBody)).status).toBe(409);
    expect((await book(base, bob, { ...bobBody, displayIds: [other] })).status).toBe(409);

    // The TTL passes without waiting for it: both holds' expiry moves back by the TTL, which is
    // what the clock advancing by the TTL does to every comparison with now() in the SQL.
    await sql`update bookings set hold_expires_at = hold_expires_at - make_interval(secs => ${HOLD_TTL_SECONDS}) where id in ${sql([held.body.id, heldToo.body.id])}`;

    // A booking over the lapsed hold releases it in its own transaction and takes the slot.
    const after = await book(base, bob, bobBody);
    expect(after.status).toBe(201);
    expect((await api(base, 'GET', `/bookings/${held.body.id}`, undefined, alice.auth)).body.status).toBe('expired');
    expect((await activeSlots(d)).map((s) => s.booking_id)).toEqual([after.body.id]);

    // Nothing touched the other display: the periodic sweeper releases that hold.
    expect((await api(base, 'GET', `/bookings/${heldToo.body.id}`, undefined, alice.auth)).body.status).toBe('held');
    expect(await activeSlots(other)).toHaveLength(1);
    const sweeper = startHoldSweeper({ sql: h.sql, logger: h.deps.logger }, 3_600_000);
    try {
      const expired = await sweeper.runOnce();
      expect(expired).toContain(heldToo.body.id);
      expect(expired).not.toContain(held.body.id);
    } finally {
      await sweeper.stop();
    }
    expect(await activeSlots(other)).toEqual([]);
    expect((await api(base, 'GET', `/bookings/${heldToo.body.id}`, undefined, alice.auth)).body.status).toBe('expired');
    for (const id of [held.body.id, heldToo.body.id]) {
      expect((await api(base, 'POST', `/bookings/${id}/confirm`, undefined, alice.auth)).status).toBe(409);
    }
  });
});
