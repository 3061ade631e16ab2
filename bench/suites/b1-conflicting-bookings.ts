/** B1: 200 concurrent conflicting bookings on one display → exactly `slots` succeed, none overbooked. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Request as AutocannonRequest } from 'autocannon';
import { load, type LoadResult } from '../lib/load.ts';
import { startPlatform } from '../lib/platform.ts';
import { fmt, progress, type Figure } from '../lib/report.ts';
import { createDisplayViaApi, createTextCreative, signUpAndLogIn } from '../lib/seed.ts';
import type { SuiteContext } from '../lib/suite.ts';

const CONCURRENT = 200;
const ROUNDS = 3;
const SLOTS = 6;

export async function runB1(ctx: SuiteContext): Promise<Figure[]> {
  const started = performance.now();
  progress('B1: starting account + api-v2 on a scratch database');
  const platform = await startPlatform('b1', {
    logDir: ctx.logDir,
    nodeArgs: ctx.profile ? { 'api-v2': ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, 'b1-api-v2')}`] } : {},
  });
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const advertiser = await signUpAndLogIn(platform.apiV2Url, 'advertiser');
    const display = await createDisplayViaApi(platform.apiV2Url, operator, { loop: { lengthMs: 60_000, slotCount: SLOTS } });
    const creativeId = await createTextCreative(platform.apiV2Url, advertiser);
    const rounds: (LoadResult & { created: number; conflicts: number; other: number; slotsTaken: number; distinctSlots: number; overbooked: number })[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      progress(`B1 round ${r + 1}/${ROUNDS}: ${CONCURRENT} concurrent POST /bookings for the same window on one ${SLOTS}-slot display`);
      // A fresh window per round, so each round starts with all slots free.
      const startsAt = new Date(Date.now() + (r + 1) * 86_400_000).toISOString();
      const endsAt = new Date(Date.now() + (r + 1) * 86_400_000 + 3_600_000).toISOString();
      const body = JSON.stringify({ displayIds: [display.id], creativeId, startsAt, endsAt });
      const res = await load({
        url: `${platform.apiV2Url}/bookings`,
        connections: CONCURRENT,
        amount: CONCURRENT,
        timeoutSec: 30,
        requests: [
          {
            method: 'POST',
            path: '/bookings',
            headers: { ...advertiser.auth, 'content-type': 'application/json' },
            body,
            // Every request is a distinct intended booking (its own Idempotency-Key).
            setupRequest: (req: AutocannonRequest) => ({ ...req, headers: { ...req.headers, 'idempotency-key': randomBytes(12).toString('hex') } }),
          },
        ],
      });
      const [db] = await platform.sql<{ taken: number; distinct_slots: number; overbooked: number }[]>`
        select count(*)::int as taken, count(distinct slot)::int as distinct_slots,
               (select count(*)::int from booking_slots a join booking_slots b
                  on a.display_id = b.display_id and a.slot = b.slot and a.ctid < b.ctid and a.during && b.during and a.active and b.active
                where a.display_id = ${display.id}) as overbooked
        from booking_slots where display_id = ${display.id} and active and during && tstzrange(${startsAt}::timestamptz, ${endsAt}::timestamptz)`;
      rounds.push({
        ...res,
        created: res.statusCodes['201'] ?? 0,
        conflicts: res.statusCodes['409'] ?? 0,
        other: res.total - (res.statusCodes['201'] ?? 0) - (res.statusCodes['409'] ?? 0),
        slotsTaken: db!.taken,
        distinctSlots: db!.distinct_slots,
        overbooked: db!.overbooked,
      });
    }
    const exact = rounds.every((r) => r.created === SLOTS && r.slotsTaken === SLOTS && r.distinctSlots === SLOTS && r.overbooked === 0 && r.other === 0 && r.errors === 0);
    const p99s = rounds.map((r) => r.p99);
    return [
      {
        id: 'B1',
        measure: '200 concurrent conflicting bookings on one display',
        target: 'exactly `slots` succeed, none overbooked, p99 latency reported',
        result: `${rounds.map((r) => `${r.created}×201/${r.conflicts}×409`).join(', ')} on ${SLOTS} slots; overbooked ${rounds.reduce((n, r) => n + r.overbooked, 0)}; p99 ${p99s.map((p) => fmt.ms(p)).join(' / ')}`,
        met: exact,
        details: { slots: SLOTS, concurrent: CONCURRENT, rounds },
        method: `autocannon -c ${CONCURRENT} -a ${CONCURRENT}: ${CONCURRENT} POST /bookings at once (one advertiser, distinct Idempotency-Keys, same display and window), ${ROUNDS} rounds on fresh windows; afterwards booking_slots is checked in PostgreSQL (rows, distinct slots, overlapping pairs on the same slot).`,
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await platform.close();
  }
}
