/**
 * kill -9 of api-v2, account and device-tcp (one after another) while under load: HTTP reads
 * (autocannon), a booking writer, and simulated displays reporting plays. Each killed process is
 * started again at once. Reports failed requests per phase and the displays' recovery time, then
 * verifies that no play and no acknowledged booking was lost.
 */
import { randomBytes } from 'node:crypto';
import { launchFleet, spawnFleet, waitOnline, type Fleet } from '../bench/lib/displays.ts';
import { load, type LoadResult } from '../bench/lib/load.ts';
import { startPlatform, type Platform, type ServiceName } from '../bench/lib/platform.ts';
import { fmt, progress, throttled, type Figure } from '../bench/lib/report.ts';
import { bookDisplays, createDisplayViaApi, createTextCreative, insertDisplays, post, signUpAndLogIn, type User } from '../bench/lib/seed.ts';
import { waitFor } from '../bench/lib/sim.ts';

const DISPLAYS = 300;
const SPEED = 5;
const PHASE_SECONDS = 20;
const KILL_AT_SECONDS = 3;
const VICTIMS: ServiceName[] = ['api-v2', 'account', 'device-tcp'];

interface WriterStats {
  attempted: number;
  created: string[];
  confirmed: string[];
  failures: Record<string, number>;
}

/** Books one fresh hour after another (never conflicting), confirming each; records what was acknowledged. */
function startBookingWriter(platform: Platform, advertiser: User, creativeId: string, displayId: string) {
  const stats: WriterStats = { attempted: 0, created: [], confirmed: [], failures: {} };
  let running = true;
  let hour = 24;
  const fail = (what: string) => (stats.failures[what] = (stats.failures[what] ?? 0) + 1);
  const loop = (async () => {
    while (running) {
      stats.attempted++;
      const startsAt = new Date(Date.now() + hour * 3_600_000).toISOString();
      const endsAt = new Date(Date.now() + (hour + 1) * 3_600_000).toISOString();
      hour++;
      const key = randomBytes(8).toString('hex');
      try {
        const res = await post(platform.apiV2Url, '/bookings', { displayIds: [displayId], creativeId, startsAt, endsAt }, { ...advertiser.auth, 'idempotency-key': key });
        if (res.status !== 201) {
          fail(`hold ${res.status}`);
          await res.text();
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const id = ((await res.json()) as { id: string }).id;
        stats.created.push(id);
        const c = await post(platform.apiV2Url, `/bookings/${id}/confirm`, {}, advertiser.auth);
        await c.text();
        if (c.status === 200) stats.confirmed.push(id);
        else fail(`confirm ${c.status}`);
      } catch (err) {
        fail(`network ${(err as Error).cause ? String((err as { cause: { code?: string } }).cause.code) : 'error'}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return {
    stats,
    async stop() {
      running = false;
      await loop;
    },
  };
}

export async function runKill9(logDir: string): Promise<Figure> {
  const started = performance.now();
  progress('chaos kill -9: starting account + api-v2 + device-tcp');
  const platform = await startPlatform('chaos_kill', { deviceTcp: true, logDir });
  let fleet: Fleet | null = null;
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const advertiser = await signUpAndLogIn(platform.apiV2Url, 'advertiser');
    const creds = await insertDisplays(platform.sql, operator.id, DISPLAYS, { lengthMs: 1_000, slotCount: 1 });
    const creativeId = await createTextCreative(platform.apiV2Url, advertiser, 1_000);
    await bookDisplays(platform.apiV2Url, advertiser, creativeId, creds.map((c) => c.id));
    const bookingDisplay = await createDisplayViaApi(platform.apiV2Url, operator, { loop: { lengthMs: 60_000, slotCount: 6 } });
    const readUrl = `${platform.apiV2Url}/displays/${bookingDisplay.id}`;

    fleet = spawnFleet('chaos-kill', creds, 1);
    await launchFleet(fleet, { port: platform.devicePort!, rate: 300, plays: true, speed: SPEED, batchEveryMs: 2_000 });
    const online = await waitOnline('chaos kill -9: displays', fleet, DISPLAYS, 60_000);
    if (online.timedOut) throw new Error(`displays did not come online (${online.value.online}/${DISPLAYS})`);
    const writer = startBookingWriter(platform, advertiser, creativeId, bookingDisplay.id);

    const phases: {
      victim: ServiceName;
      reads: LoadResult;
      restartSeconds: number;
      displaysMinOnline: number;
      displaysRecoverySeconds: number | null;
      writerFailures: Record<string, number>;
      playsAckedDuringPhase: number;
    }[] = [];
    for (const victim of VICTIMS) {
      const proc = platform.procs[victim]!;
      const failuresBefore = { ...writer.stats.failures };
      const acked0 = (await fleet.status()).playsAcked;
      const reads = load({ url: readUrl, headers: operator.auth, connections: 10, durationSec: PHASE_SECONDS, timeoutSec: 5 });
      await new Promise((r) => setTimeout(r, KILL_AT_SECONDS * 1_000));
      progress(`chaos kill -9: kill -9 ${victim} (pid ${proc.pid}) under load`);
      const killedAt = performance.now();
      proc.kill9();
      await new Promise((r) => proc.child!.once('exit', r));
      // Watch the displays while the process comes back.
      let minOnline = DISPLAYS;
      let recoveredAt: number | null = null;
      let sawDrop = false;
      const watch = setInterval(async () => {
        const s = await fleet!.status();
        minOnline = Math.min(minOnline, s.online);
        if (s.online < DISPLAYS) sawDrop = true;
        if (sawDrop && s.online >= DISPLAYS && recoveredAt === null) recoveredAt = performance.now();
      }, 200);
      await proc.start();
      const restartSeconds = (performance.now() - killedAt) / 1000;
      if (victim === 'device-tcp') {
        const tick = throttled();
        await waitFor('displays back', () => fleet!.status(), (s) => s.online >= DISPLAYS, 60_000, (s) => tick(`chaos kill -9: displays back online ${s.online}/${DISPLAYS}`), 200);
        if (recoveredAt === null) recoveredAt = performance.now();
      }
      const readsDone = await reads;
      clearInterval(watch);
      const failuresNow: Record<string, number> = {};
      for (const [k, v] of Object.entries(writer.stats.failures)) if (v - (failuresBefore[k] ?? 0) > 0) failuresNow[k] = v - (failuresBefore[k] ?? 0);
      phases.push({
        victim,
        reads: readsDone,
        restartSeconds,
        displaysMinOnline: minOnline,
        displaysRecoverySeconds: sawDrop && recoveredAt !== null ? (recoveredAt - killedAt) / 1000 : sawDrop ? null : 0,
        writerFailures: failuresNow,
        playsAckedDuringPhase: (await fleet.status()).playsAcked - acked0,
      });
    }
    await writer.stop();

    // ------------------------------------------------------------- nothing lost?
    progress('chaos kill -9: displays stop playing and flush; reconciling with PostgreSQL');
    for (const s of fleet.sims) await s.call({ op: 'stopPlays' });
    const tick = throttled();
    const drained = await waitFor('drained', () => fleet!.status(), (s) => s.unacked === 0, 120_000, (s) => tick(`chaos kill -9: ${fmt.int(s.unacked)} plays not yet acknowledged`), 500);
    const sim = drained.value;
    const [plays] = await platform.sql<{ rows: string; distinct_ids: string }[]>`select count(*) as rows, count(distinct play_id) as distinct_ids from plays`;
    const rows = Number(plays!.rows);
    const lostPlays = sim.plays - sim.playsRejected - rows;
    const created = writer.stats.created;
    const found = await platform.sql<{ id: string; status: string }[]>`select id, status from bookings where id = any(${created}::uuid[])`;
    const status = new Map(found.map((r) => [r.id, r.status]));
    const lostBookings = created.filter((id) => !status.has(id)).length;
    const lostConfirmations = writer.stats.confirmed.filter((id) => status.get(id) !== 'booked').length;
    const failedReads = phases.reduce((n, p) => n + p.reads.errors + p.reads.timeouts + Object.entries(p.reads.statusCodes).filter(([c]) => !c.startsWith('2')).reduce((m, [, v]) => m + v, 0), 0);
    const met = lostPlays === 0 && sim.unacked === 0 && lostBookings === 0 && lostConfirmations === 0 && rows === Number(plays!.distinct_ids);
    const dev = phases.find((p) => p.victim === 'device-tcp');
    return {
      id: 'C3',
      measure: 'kill -9 of api-v2, account and device-tcp during load',
      target: 'report failed requests and displays\' recovery time; no play and no booking lost',
      result:
        `failed reads ${phases.map((p) => `${p.victim} ${fmt.int(p.reads.errors + p.reads.timeouts + Object.entries(p.reads.statusCodes).filter(([c]) => !c.startsWith('2')).reduce((m, [, v]) => m + v, 0))}/${fmt.int(p.reads.total)}`).join(', ')}; ` +
        `displays back ${dev?.displaysRecoverySeconds?.toFixed(1) ?? '?'} s after device-tcp kill; plays lost ${fmt.int(lostPlays)} of ${fmt.int(sim.plays)}; bookings lost ${lostBookings} of ${created.length} (confirmations lost ${lostConfirmations})`,
      met,
      details: {
        phases,
        failedReadsTotal: failedReads,
        plays: { generated: sim.plays, rejected: sim.playsRejected, rowsInPostgres: rows, distinctIds: Number(plays!.distinct_ids), lost: lostPlays, unackedAtEnd: sim.unacked, drainSeconds: drained.ms / 1000 },
        bookings: { attempted: writer.stats.attempted, acknowledged201: created.length, confirmed200: writer.stats.confirmed.length, lost: lostBookings, confirmationsLost: lostConfirmations, writerFailures: writer.stats.failures },
        simulatorErrors: sim.errors,
      },
      method:
        `Load: autocannon -c 10 GET /displays/{id} on api-v2 for ${PHASE_SECONDS} s per phase; one booking writer (POST /bookings + /confirm on fresh windows, sequential); ${DISPLAYS} simulated displays playing at speed ${SPEED} ` +
        `(${DISPLAYS * SPEED} plays/s) with a batch every 2 s. Per phase, ${KILL_AT_SECONDS} s in: kill -9 of ${VICTIMS.join(' → ')} and immediate restart (its own main.ts, same config). ` +
        'Recovery = kill → all displays online again. Afterwards the displays stop playing and flush; lost plays = generated − rejected − rows; lost bookings = acknowledged (201) ids missing, lost confirmations = 200-confirmed ids not "booked".',
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await fleet?.close();
    await platform.close();
  }
}
