/**
 * T4: proof-of-play ingestion into PostgreSQL, end to end from displays:
 * ≥ 20 000 plays/s sustained, zero lost, zero double-counted.
 */
import path from 'node:path';
import { launchFleet, spawnFleet, waitOnline } from '../lib/displays.ts';
import { startPlatform } from '../lib/platform.ts';
import { fmt, progress, throttled, type Figure } from '../lib/report.ts';
import { bookDisplays, createTextCreative, insertDisplays, signUpAndLogIn } from '../lib/seed.ts';
import { waitFor } from '../lib/sim.ts';
import type { SuiteContext } from '../lib/suite.ts';

const DISPLAYS = 2_000;
const WORKERS = 2;
/** Loop of one 1 s slot, played 12× faster: 12 plays/s per display, 24 000 plays/s offered (timers drift a little below). */
const SPEED = 12;
const BATCH_EVERY_MS = 5_000;
const WARMUP_S = 10;
const MEASURE_S = 30;

export async function runT4(ctx: SuiteContext): Promise<Figure[]> {
  const started = performance.now();
  progress('T4: starting account + api-v2 + device-tcp');
  const prof = (n: string) => (ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, `t4-${n}`)}`] : []);
  const platform = await startPlatform('t4', { deviceTcp: true, logDir: ctx.logDir, nodeArgs: { 'device-tcp': prof('device-tcp'), 'api-v2': prof('api-v2') } });
  let fleet: ReturnType<typeof spawnFleet> | null = null;
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const advertiser = await signUpAndLogIn(platform.apiV2Url, 'advertiser');
    progress(`T4: ${fmt.int(DISPLAYS)} displays with a one-slot loop, booked through the API`);
    const creds = await insertDisplays(platform.sql, operator.id, DISPLAYS, { lengthMs: 1_000, slotCount: 1 });
    const creativeId = await createTextCreative(platform.apiV2Url, advertiser, 1_000);
    await bookDisplays(platform.apiV2Url, advertiser, creativeId, creds.map((c) => c.id));

    fleet = spawnFleet('t4', creds, WORKERS);
    await launchFleet(fleet, { port: platform.devicePort!, rate: 1_000, plays: true, speed: SPEED, batchEveryMs: BATCH_EVERY_MS });
    const online = await waitOnline('T4 connecting', fleet, DISPLAYS, 120_000, false);
    if (online.timedOut) throw new Error(`only ${online.value.online}/${DISPLAYS} online after ${Math.round(online.ms / 1000)} s`);
    // A display whose playlist fetch failed in the connect wave gets it again only on a later re-push
    // (device-tcp re-sends at most every 5 min), so wait a bounded time and report how many play.
    const withPlaylists = await waitOnline('T4 playlists', fleet, DISPLAYS, 30_000, true);
    const count = async () => Number((await platform.sql<{ n: string }[]>`select count(*) as n from plays`)[0]!.n);
    for (let s = 0; s < WARMUP_S; s++) {
      progress(`T4: warm-up ${s + 1}/${WARMUP_S} s · ${fmt.int(await count())} plays stored`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const t0 = performance.now();
    const rows0 = await count();
    const sim0 = await fleet.status();
    const perSecond: number[] = [];
    let prev = rows0;
    for (let s = 0; s < MEASURE_S; s++) {
      await new Promise((r) => setTimeout(r, 1_000));
      const n = await count();
      perSecond.push(n - prev);
      prev = n;
      progress(`T4: measuring ${s + 1}/${MEASURE_S} s · ${fmt.int(n - rows0)} plays stored this window · last second ${fmt.int(perSecond[perSecond.length - 1]!)}`);
    }
    const rows1 = await count();
    const t1 = performance.now();
    const sim1 = await fleet.status();
    const storedPerSec = (rows1 - rows0) / ((t1 - t0) / 1000);
    const offeredPerSec = (sim1.plays - sim0.plays) / ((t1 - t0) / 1000);

    // Stop recording, let every display flush what it holds, then reconcile with the database.
    progress('T4: displays stop playing; draining their unsent plays');
    for (const s of fleet.sims) await s.call({ op: 'stopPlays' });
    const tick = throttled();
    const drained = await waitFor('drained', () => fleet!.status(), (s) => s.unacked === 0, 180_000, (s) => tick(`T4: draining · ${fmt.int(s.unacked)} plays not yet acknowledged`), 500);
    const final = drained.value;
    const [db] = await platform.sql<{ rows: string; distinct_ids: string; dup_content: string }[]>`
      select count(*) as rows, count(distinct play_id) as distinct_ids,
             (select count(*) from (select display_id, started_at from plays group by 1, 2 having count(*) > 1) d) as dup_content
      from plays`;
    const rows = Number(db!.rows);
    const lost = final.plays - final.playsRejected - rows;
    const doubleCounted = rows - Number(db!.distinct_ids) + Number(db!.dup_content);
    const met = storedPerSec >= 20_000 && lost === 0 && doubleCounted === 0 && final.unacked === 0 && final.playsRejected === 0;
    return [
      {
        id: 'T4',
        measure: 'proof-of-play ingestion into Postgres, end to end from displays',
        target: '≥ 20 000 plays/s sustained, zero lost, zero double-counted',
        result: `${fmt.int(storedPerSec)} plays/s stored over ${MEASURE_S} s (offered ${fmt.int(offeredPerSec)}/s); lost ${fmt.int(lost)}, double-counted ${fmt.int(doubleCounted)}, rejected ${fmt.int(final.playsRejected)} of ${fmt.int(final.plays)}`,
        met,
        details: {
          displays: DISPLAYS,
          displaysWithPlaylistAtStart: withPlaylists.value.playlists,
          connectErrors: withPlaylists.value.errors,
          storedPerSecond: storedPerSec,
          offeredPerSecond: offeredPerSec,
          perSecondStored: perSecond,
          generated: final.plays,
          rowsInPostgres: rows,
          acceptedAcks: final.playsAcked,
          rejected: final.playsRejected,
          unackedAtEnd: final.unacked,
          drainSeconds: drained.ms / 1000,
          drainTimedOut: drained.timedOut,
          lost,
          doubleCounted,
          errors: final.errors,
        },
        method:
          `${fmt.int(DISPLAYS)} displays with a one-slot (1 s) loop, all booked with one creative; ${WORKERS} display-simulator processes play at speed ${SPEED} ` +
          `(${SPEED} plays/s per display, ${fmt.int(DISPLAYS * SPEED)}/s offered) and send a plays batch every ${BATCH_EVERY_MS / 1000} s (one in flight, protocol §5). ` +
          `Rate = rows added to the plays table per second over ${MEASURE_S} s after a ${WARMUP_S} s warm-up. Then the displays stop playing and flush; ` +
          'lost = plays generated − rejected − rows stored (with nothing left unacknowledged); double-counted = rows − distinct play ids + (display, startedAt) pairs stored twice.',
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await fleet?.close();
    await platform.close();
  }
}
