/**
 * Dayparts on the nights the clocks change, in Europe/Berlin: the autumn night repeats 02:00–03:00
 * (CEST, then CET), the spring night skips it. A daypart covers exactly the instants at which the
 * display's clock reads a time in [from, to) — see windows.ts.
 *
 * The dates are the next changes at least a week ahead (bookings must lie in the future), by the
 * EU rule: last Sunday of March and of October, at 01:00 UTC.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';
import { buildPlaylists } from '../src/playlists/build.ts';
import { ingestPlays } from '../src/plays/ingest.ts';
import { book, openSql, seedCreative, seedDisplay, type TestSql } from './bookings-fixtures.ts';

const DAY = 86_400_000;

/** 00:00 UTC of the last Sunday of `month` (0-based) in the first year that puts it a week ahead. */
function nextLastSunday(month: number): number {
  for (let year = new Date().getUTCFullYear(); ; year++) {
    const lastDay = Date.UTC(year, month + 1, 0);
    const sunday = lastDay - new Date(lastDay).getUTCDay() * DAY;
    if (sunday > Date.now() + 7 * DAY) return sunday;
  }
}

const AUTUMN = nextLastSunday(9); // 00:00Z; the clocks go back at 01:00Z (03:00 CEST → 02:00 CET)
const SPRING = nextLastSunday(2); // 00:00Z; the clocks go forward at 01:00Z (02:00 CET → 03:00 CEST)
/** The instant `hours` (and `minutes`) after 00:00 UTC of `day`; negative hours are the day before. */
const at = (day: number, hours: number, minutes = 0) => new Date(day + hours * 3_600_000 + minutes * 60_000).toISOString();

let h: ApiV2TestApp;
let sql: TestSql;
let operator: Session;
let advertiser: Session;

beforeAll(async () => {
  h = await startApiV2TestApp('v2dst');
  sql = openSql(h.db.url);
  [operator, advertiser] = [h.user('operator'), h.user('advertiser')];
});
afterAll(async () => {
  await sql?.end();
  await h?.close();
});

const berlinDisplay = () => seedDisplay(sql, operator.userId, { timezone: 'Europe/Berlin', pricePerSlotHour: 100 });

async function windowsOf(bookingId: string) {
  const rows = await sql<{ slot: number; lo: Date; hi: Date }[]>`
    select slot, lower(during) as lo, upper(during) as hi from booking_slots where booking_id = ${bookingId} order by lower(during)`;
  return rows.map((r) => [r.lo.toISOString(), r.hi.toISOString()]);
}

async function bookDaypart(displayId: string, startsAt: string, endsAt: string, daypart: { from: string; to: string; days?: string[] }) {
  const res = await book(h.v2, advertiser, { displayIds: [displayId], creativeId: await seedCreative(sql, advertiser.userId), startsAt, endsAt, daypart });
  return res;
}

describe('the autumn night (02:00–03:00 happens twice)', () => {
  it('a daypart across the change runs its full 4 real hours that night, 3 on the nights around it; availability and the playlist agree', async () => {
    const d = await berlinDisplay();
    // Saturday 00:00 local to Tuesday 00:00 local (CEST +2 before, CET +1 after).
    const res = await bookDaypart(d, at(AUTUMN, -26), at(AUTUMN, 47), { from: '01:00', to: '04:00' });
    expect(res.status).toBe(201);
    const saturday = [at(AUTUMN, -25), at(AUTUMN, -22)]; // 01:00–04:00 CEST
    const sunday = [at(AUTUMN, -1), at(AUTUMN, 3)]; // 01:00 CEST … 04:00 CET: 4 h
    const monday = [at(AUTUMN, 24), at(AUTUMN, 27)]; // 01:00–04:00 CET
    expect(await windowsOf(res.body.id)).toEqual([saturday, sunday, monday]);
    expect(res.body.displays[0]).toMatchObject({ windowCount: 3, price: 1000 }); // 3 + 4 + 3 hours

    const av = await api(h.v2, 'GET', `/displays/${d}/availability?from=${at(AUTUMN, -2)}&to=${at(AUTUMN, 4)}`, undefined, advertiser.auth);
    expect(av.body.blocks).toEqual([{ slot: 0, from: sunday[0], to: sunday[1], status: 'held', bookingId: res.body.id }]);

    expect((await api(h.v2, 'POST', `/bookings/${res.body.id}/confirm`, undefined, advertiser.auth)).status).toBe(200);
    const playlist = (await buildPlaylists(sql, [d], 'http://127.0.0.1/v2', new Date(at(AUTUMN, -2)))).get(d)!;
    expect(playlist.entries.map((e) => [e.validFrom, e.validUntil])).toEqual([sunday, monday]);
  });

  it('02:00–03:00 that night is both passes through that hour: 2 real hours', async () => {
    const d = await berlinDisplay();
    const res = await bookDaypart(d, at(AUTUMN, -2), at(AUTUMN, 22), { from: '02:00', to: '03:00' });
    expect(res.status).toBe(201);
    expect(await windowsOf(res.body.id)).toEqual([[at(AUTUMN, 0), at(AUTUMN, 2)]]); // 02:00 CEST … 03:00 CET
    expect(res.body.displays[0]).toMatchObject({ windowCount: 1, price: 200 });
  });

  it('01:00–02:30 that night is two windows, and the half hour between them (02:30–03:00 CEST) stays free', async () => {
    const d = await berlinDisplay();
    const res = await bookDaypart(d, at(AUTUMN, -2), at(AUTUMN, 22), { from: '01:00', to: '02:30' });
    expect(res.status).toBe(201);
    expect(await windowsOf(res.body.id)).toEqual([
      [at(AUTUMN, -1), at(AUTUMN, 0, 30)], // 01:00–02:30 CEST
      [at(AUTUMN, 1), at(AUTUMN, 1, 30)], // 02:00–02:30 CET
    ]);
    expect(res.body.displays[0]).toMatchObject({ slot: 0, windowCount: 2, price: 200 });

    const between = await book(h.v2, advertiser, { displayIds: [d], creativeId: await seedCreative(sql, advertiser.userId), startsAt: at(AUTUMN, 0, 30), endsAt: at(AUTUMN, 1) });
    expect(between.status).toBe(201);
    expect(between.body.displays[0].slot).toBe(0); // the same slot: nothing of the first booking there
    const av = await api(h.v2, 'GET', `/displays/${d}/availability?from=${at(AUTUMN, -1)}&to=${at(AUTUMN, 2)}`, undefined, advertiser.auth);
    expect(av.body.blocks.map((b: { from: string; to: string }) => [b.from, b.to])).toEqual([
      [at(AUTUMN, -1), at(AUTUMN, 0, 30)],
      [at(AUTUMN, 0, 30), at(AUTUMN, 1)],
      [at(AUTUMN, 1), at(AUTUMN, 1, 30)],
    ]);
  });
  it('plays that night land in the instant they were shown: 02:15 counts on both passes, 02:45 CEST (between the windows) not at all', async () => {
    const d = await berlinDisplay();
    const res = await bookDaypart(d, at(AUTUMN, -2), at(AUTUMN, 22), { from: '01:00', to: '02:30' });
    expect(res.status).toBe(201);
    expect((await api(h.v2, 'POST', `/bookings/${res.body.id}/confirm`, undefined, advertiser.auth)).status).toBe(200);
    // Occurrences of slot 0 start on whole minutes (a 60 s loop of six slots).
    const play = (startedAt: string) => ({ playId: randomUUID(), bookingId: res.body.id, creativeId: res.body.creativeId, startedAt, durationMs: 10_000 });
    const cest = play(at(AUTUMN, 0, 15)); // 02:15 CEST
    const cet = play(at(AUTUMN, 1, 15)); // 02:15 CET, an hour later
    const between = play(at(AUTUMN, 0, 45)); // 02:45 CEST: the clock reads past 02:30
    // Judged as if the night had passed (plays must not lie in the future).
    const answer = await ingestPlays(sql, d, [cest, cet, between], { clockSkewMs: 120_000, now: new Date(at(AUTUMN, 5)) });
    expect(answer.acceptedPlayIds).toEqual([cest.playId, cet.playId]);
    expect(answer.rejected.map((r) => [r.playId, r.code])).toEqual([[between.playId, 'outside_window']]);
    const stored = await sql<{ started_at: Date }[]>`select started_at from plays where display_id = ${d} order by started_at`;
    expect(stored.map((r) => r.started_at.toISOString())).toEqual([cest.startedAt, cet.startedAt]);
  });
});

describe('the spring night (02:00–03:00 never happens)', () => {
  it('a daypart starting inside the skipped hour starts when the clocks jump, at 03:00 CEST', async () => {
    const d = await berlinDisplay();
    const res = await bookDaypart(d, at(SPRING, -1), at(SPRING, 23), { from: '02:30', to: '05:00' });
    expect(res.status).toBe(201);
    expect(await windowsOf(res.body.id)).toEqual([[at(SPRING, 1), at(SPRING, 3)]]); // 03:00–05:00 CEST
    expect(res.body.displays[0]).toMatchObject({ windowCount: 1, price: 200 });
  });

  it('a daypart ending inside the skipped hour ends when the clocks jump', async () => {
    const d = await berlinDisplay();
    const res = await bookDaypart(d, at(SPRING, -1), at(SPRING, 23), { from: '01:00', to: '02:30' });
    expect(res.status).toBe(201);
    expect(await windowsOf(res.body.id)).toEqual([[at(SPRING, 0), at(SPRING, 1)]]); // 01:00–02:00 CET
    expect(res.body.displays[0]).toMatchObject({ windowCount: 1, price: 100 });
  });

  it('a daypart wholly inside the skipped hour has no window that night (422 if that is the only night)', async () => {
    const d = await berlinDisplay();
    const only = await bookDaypart(d, at(SPRING, -1), at(SPRING, 23), { from: '02:10', to: '02:50' });
    expect(only.status).toBe(422);
    expect(only.body.code).toBe('empty-daypart');
    const twoNights = await bookDaypart(d, at(SPRING, -1), at(SPRING, 47), { from: '02:10', to: '02:50' });
    expect(twoNights.status).toBe(201);
    expect(await windowsOf(twoNights.body.id)).toEqual([[at(SPRING, 24, 10), at(SPRING, 24, 50)]]); // Monday 02:10–02:50 CEST
  });
});
