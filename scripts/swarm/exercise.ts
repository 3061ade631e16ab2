// The Swarm test's checks, run on the host against the deployed stack (scripts/swarm/test.sh):
// every request goes through the published edge ports, every fault is a real Docker action.
// Prints one line per check with its figures and a closing "swarm: N passed, N failed"; exits
// non-zero on failure.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { Fleet, SLOT_MS } from './fleet.ts';
import { startLoad, summarize, verifyWrites, type LoadResult, type WriteLedger } from './load.ts';
import {
  STACK,
  TAG,
  deploy,
  docker,
  EDGE,
  expectStatus,
  http,
  type HttpResult,
  imageVariant,
  readDynamic,
  readyInside,
  servedRevision,
  sessionsOn,
  swarmTasksOf,
  tasksOf,
  waitFor,
} from './support.ts';

const DISPLAYS = 6;
const APP_SERVICES = ['account', 'api-v1', 'api-v2', 'device-tcp', 'console'];
/** device-tcp's drain: SHUTDOWN_GRACE_MS (stacks/marquee.yml) minus the 1.5 s kept for the last presence flush. */
const DRAIN_WINDOW_MS = 20_000 - 1_500;

// ---- checks ----
const results: Array<{ name: string; ok: boolean; detail: string }> = [];
/** The time a check ended (UTC), to place what the displays and services logged. */
const clock = () => new Date().toISOString().slice(11, 19);
// SWARM_CHECKS=word runs only the checks whose name contains it (for iterating on one check).
const only = process.env.SWARM_CHECKS;
async function check(name: string, fn: () => Promise<string>): Promise<boolean> {
  if (only && !name.includes(only)) return true;
  const started = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true, detail });
    console.log(`ok   ${name} (${clock()}, ${Date.now() - started} ms): ${detail}`);
    return true;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    results.push({ name, ok: false, detail });
    console.log(`FAIL ${name} (${clock()}, ${Date.now() - started} ms): ${detail}`);
    return false;
  }
}

const ctx: {
  operator?: string;
  advertiser?: string;
  fleet?: Fleet;
  /** The booking every fleet display plays (one slot on each). */
  fleetBooking?: { id: string; creativeId: string };
  creatives?: [string, string];
  writesDisplay?: string;
  revisionA?: string;
  startedAt: number;
} = { startedAt: Date.now() };
const ledger: WriteLedger = { bookings: new Map(), nextHour: 24 };

function needs<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`needs ${what} (an earlier check failed)`);
  return value;
}

/** Mixed client load through the edge while `fault` runs; the load's figures come back with the fault's result. */
async function underLoad<T>(fault: () => Promise<T>, dataRestart = false): Promise<{ value: T; load: LoadResult }> {
  const load = startLoad({
    advertiserToken: needs(ctx.advertiser, 'an advertiser'),
    displayId: needs(ctx.writesDisplay, 'a bookable display'),
    creatives: needs(ctx.creatives, 'creatives'),
    readBookingId: needs(ctx.fleetBooking, 'the fleet booking').id,
    ledger,
    ...(dataRestart ? { pauseAfterFailureMs: 250, requestTimeoutMs: 30_000 } : {}),
  });
  try {
    const value = await fault();
    await sleep(2_000); // traffic after the fault, too
    return { value, load: await load.stop() };
  } catch (err) {
    await load.stop();
    throw err;
  }
}

/** Plays acknowledged so far (all bookings). */
const acked = () => ctx.fleet?.ackedCount() ?? 0;

async function apiV2UpdateState(): Promise<string> {
  return docker('service', 'inspect', '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', `${STACK}_api-v2`);
}

await check('edge routes /v1 and /v2 to ready services', async () => {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [v1, v2] = await Promise.all([http('GET', '/v1/readyz').catch(() => ({ status: 0, json: null })), http('GET', '/v2/readyz').catch(() => ({ status: 0, json: null }))]);
    if (v1.status === 200 && v2.status === 200) {
      ctx.revisionA = await servedRevision();
      return `GET /v1/readyz and /v2/readyz answer 200 (prefix stripped); api-v2 revision ${ctx.revisionA}`;
    }
    if (Date.now() > deadline) throw new Error(`not ready: /v1/readyz ${v1.status}, /v2/readyz ${v2.status}`);
    await sleep(2_000);
  }
});

await check('edge routes everything else to the web console (its app, its CSP), /v2 keeping its own route', async () => {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const page = await fetch(`${EDGE}/bookings`).catch(() => undefined);
    const html = page?.status === 200 ? await page.text() : '';
    if (html.includes('<title>Marquee console</title>')) {
      if (!page!.headers.get('content-security-policy')?.includes("default-src 'self'")) throw new Error('the console page has no CSP');
      const v2 = await http('GET', '/v2/healthz');
      if (v2.status !== 200) throw new Error(`/v2/healthz answered ${v2.status} once the console was up`);
      return 'GET /bookings answers the console app with its CSP; /v2/healthz still reaches api-v2';
    }
    if (Date.now() > deadline) throw new Error(`console not served: GET /bookings answered ${page?.status ?? 'nothing'}`);
    await sleep(2_000);
  }
});

/**
 * Signup and login hash a password in the account service; on a busy machine that can outlast
 * api-v2's 3 s call to it, which answers 503 with Retry-After: a client retries, and so does the
 * test's setup (at most a minute). No fault is under way here, so this hides none.
 */
async function retriedWhileUnavailable(call: () => Promise<HttpResult>): Promise<{ res: HttpResult; retried: boolean }> {
  const deadline = Date.now() + 60_000;
  for (let retried = false; ; retried = true) {
    const res = await call();
    if (res.status !== 503 || res.retryAfter === null || Date.now() > deadline) return { res, retried };
    await sleep(1_000 * Math.max(1, Number(res.retryAfter) || 1));
  }
}

async function signUp(accountType: 'operator' | 'advertiser'): Promise<{ username: string; password: string; token: string }> {
  const username = `${accountType.slice(0, 2)}${randomBytes(4).toString('hex')}`;
  const password = `Swarm-${randomBytes(12).toString('base64url')}!9`;
  const signup = await retriedWhileUnavailable(() => http('POST', '/v2/auth/signup', { username, password, accountType }));
  // A 409 for this fresh name after a 503 means the timed-out attempt was done after all.
  if (!(signup.retried && signup.res.status === 409)) expectStatus(`${accountType} signup`, signup.res, 201);
  const { res: login } = await retriedWhileUnavailable(() => http('POST', '/v2/auth/login', { username, password }));
  expectStatus(`${accountType} login`, login, 200);
  return { username, password, token: String(login.json.accessToken) };
}

await check('operator and advertiser sign up; displays registered, activated and booked', async () => {
  const operator = await signUp('operator');
  const advertiser = await signUp('advertiser');
  ctx.operator = operator.token;
  ctx.advertiser = advertiser.token;
  const credentials: Array<{ id: string; secret: string }> = [];
  for (let i = 0; i <= DISPLAYS; i++) {
    const created = await http(
      'POST',
      '/v2/displays',
      {
        name: `Swarm screen ${i}`,
        location: { address: 'Test street 1', lat: 52.37, lng: 4.89 },
        timezone: 'Europe/Amsterdam',
        resolution: { widthPx: 1920, heightPx: 1080 },
        loop: { lengthMs: SLOT_MS, slotCount: 1 },
        pricePerSlotHour: 1000,
        // The operator takes every booking as booked (no review queue): the test is about faults.
        contentPolicy: 'auto',
      },
      ctx.operator,
    );
    expectStatus('create display', created, 201);
    expectStatus('activate display', await http('POST', `/v2/displays/${created.json.display.id}/activate`, {}, ctx.operator), 200);
    credentials.push({ id: String(created.json.credential.displayId), secret: String(created.json.credential.secret) });
  }
  // The last display takes the load's bookings; the others connect and play.
  ctx.writesDisplay = credentials.pop()!.id;
  const creatives: string[] = [];
  for (const name of ['Swarm card A', 'Swarm card B']) {
    const res = await http('POST', '/v2/creatives', { name, type: 'text', body: `${name} on the Swarm`, durationMs: 5_000 }, ctx.advertiser);
    expectStatus('create creative', res, 201);
    creatives.push(String(res.json.id));
  }
  ctx.creatives = [creatives[0]!, creatives[1]!];
  const held = await http(
    'POST',
    '/v2/bookings',
    { displayIds: credentials.map((c) => c.id), creativeId: creatives[0], startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 6 * 3_600_000).toISOString() },
    ctx.advertiser,
    { 'idempotency-key': randomBytes(8).toString('hex') },
  );
  expectStatus('hold', held, 201);
  expectStatus('confirm', await http('POST', `/v2/bookings/${held.json.id}/confirm`, {}, ctx.advertiser), 200);
  ctx.fleetBooking = { id: String(held.json.id), creativeId: creatives[0]! };
  ctx.fleet = new Fleet(credentials);
  return `operator ${operator.username}, advertiser ${advertiser.username}; ${DISPLAYS + 1} displays active, ${DISPLAYS} booked (${ctx.fleetBooking.id}), 2 creatives`;
});

await check('displays connect through the edge (PROXY v2 to device-tcp), are spread over both replicas and play', async () => {
  const fleet = needs(ctx.fleet, 'registered displays');
  await fleet.connect();
  const tasks = await tasksOf('device-tcp');
  if (tasks.length < 2) throw new Error(`expected 2 device-tcp tasks, found ${tasks.length}`);
  const counts = await Promise.all(tasks.map(sessionsOn));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== DISPLAYS) throw new Error(`sessions per replica ${counts.join('+')} != ${DISPLAYS} displays`);
  if (counts.some((c) => c === 0)) throw new Error(`one replica has no display (${counts.join('+')})`);
  const booking = needs(ctx.fleetBooking, 'the fleet booking');
  fleet.startPlaying();
  await waitFor('first plays acknowledged', async () => (acked() >= DISPLAYS ? true : undefined), 20_000, 200);
  const playing = await waitFor('every display to play its booking', async () => (fleet.displays.every((d) => d.sim.showing?.entry?.bookingId === booking.id) ? true : undefined), 20_000, 100).catch(() => false);
  if (!playing) throw new Error(`not every display shows booking ${booking.id}: ${fleet.displays.map((d) => d.sim.showing?.kind ?? 'nothing').join(', ')}`);
  return `sessions per replica: ${counts.join(' + ')}; each display plays its playlist (a 1 s slot: a play a second), ${acked()} acknowledged so far`;
});

/** Both device-tcp tasks running and ready (after a fault, Swarm's replacement must be up first). */
async function twoDeviceTasks(): Promise<string[]> {
  return waitFor(
    'two ready device-tcp tasks',
    async () => {
      const tasks = await tasksOf('device-tcp');
      if (tasks.length !== 2) return undefined;
      return (await Promise.all(tasks.map(readyInside))).every(Boolean) ? tasks : undefined;
    },
    60_000,
    1_000,
  );
}

await check('a killed device-tcp task: its displays come back on the other replica', async () => {
  const fleet = needs(ctx.fleet, 'connected displays');
  const tasks = await twoDeviceTasks();
  const counts = await Promise.all(tasks.map(sessionsOn));
  const victim = counts[0]! >= counts[1]! ? 0 : 1;
  const survivor = tasks[1 - victim]!;
  const acked0 = acked();
  const disconnects = fleet.disconnectCounts();
  const killedAt = Date.now();
  await docker('kill', tasks[victim]!);
  await waitFor('the killed task\'s displays to notice', async () => (fleet.droppedSince(disconnects) >= counts[victim]! ? true : undefined), 20_000, 50);
  const dropped = fleet.droppedSince(disconnects);
  const backMs = await fleet.allOnline(60_000);
  const onSurvivor = await sessionsOn(survivor);
  const all = await Promise.all((await tasksOf('device-tcp')).map((t) => sessionsOn(t).catch(() => 0)));
  if (all.reduce((a, b) => a + b, 0) !== DISPLAYS) throw new Error(`sessions ${all.join('+')} after failover`);
  return `${dropped} displays dropped with the killed task, all back ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (${(backMs / 1000).toFixed(1)} s after the last noticed); survivor holds ${onSurvivor}; ${acked() - acked0} plays acknowledged meanwhile`;
});

await check('docker stop of a device-tcp task: its displays are told to reconnect and are back on a running replica within the drain window', async () => {
  const fleet = needs(ctx.fleet, 'connected displays');
  const tasks = await twoDeviceTasks();
  const counts = await Promise.all(tasks.map(sessionsOn));
  const victim = counts[0]! >= counts[1]! ? 0 : 1;
  if (counts[victim] === 0) throw new Error(`no displays to move (${counts.join('+')})`);
  const survivor = tasks[1 - victim]!;
  const acked0 = acked();
  const recorded0 = fleet.recorded;
  const disconnects = fleet.disconnectCounts();
  const stoppedAt = Date.now();
  // docker stop: SIGTERM, then SIGKILL after the task's stop_grace_period (30 s); it returns once the container is gone.
  const stopped = docker('stop', tasks[victim]!).then(() => Date.now());
  await waitFor('the drained displays to leave', async () => (fleet.droppedSince(disconnects) >= counts[victim]! ? true : undefined), DRAIN_WINDOW_MS, 50);
  await fleet.allOnline(DRAIN_WINDOW_MS);
  const moved = fleet.droppedSince(disconnects);
  const backMs = Date.now() - stoppedAt;
  const exitedAt = await stopped;
  const exitCode = await docker('inspect', '--format', '{{.State.ExitCode}}', tasks[victim]!);
  const onSurvivor = await sessionsOn(survivor);
  // Swarm starts a replacement at once; a display whose jittered reconnect came late may land on it.
  const all = await Promise.all((await tasksOf('device-tcp')).filter((t) => t !== tasks[victim]).map((t) => sessionsOn(t).catch(() => 0)));
  if (all.reduce((a, b) => a + b, 0) !== DISPLAYS) throw new Error(`sessions ${all.join('+')} on the running tasks after the drain, not ${DISPLAYS}`);
  if (moved !== counts[victim]) throw new Error(`${moved} displays reconnected, the stopped task held ${counts[victim]}`);
  if (backMs > DRAIN_WINDOW_MS) throw new Error(`displays back after ${backMs} ms, beyond the ${DRAIN_WINDOW_MS} ms drain window`);
  if (exitCode !== '0') throw new Error(`the stopped task exited ${exitCode}, not 0: its shutdown did not complete within the grace period`);
  return (
    `${moved} displays moved off the stopped task (the survivor now holds ${onSurvivor}), all back ${(backMs / 1000).toFixed(1)} s after docker stop (drain window ${DRAIN_WINDOW_MS / 1000} s); ` +
    `the task drained and exited 0 after ${((exitedAt - stoppedAt) / 1000).toFixed(1)} s; plays ${fleet.recorded - recorded0} recorded, ${acked() - acked0} acknowledged meanwhile`
  );
});

/** Checks every acknowledged write after a fault; returns the figure for the report. */
async function writesIntact(): Promise<string> {
  const { checked, lost } = await verifyWrites(ledger, needs(ctx.advertiser, 'an advertiser'));
  if (lost.length > 0) throw new Error(`${lost.length} of ${checked} acknowledged bookings lost or changed: ${lost.slice(0, 3).join(' | ')}`);
  return `${checked} acknowledged bookings read back intact`;
}

await check('rolling update of api-v2 from A to B under mixed load (reads, bookings, confirmations, creative swaps, plays): zero failed requests, no lost write', async () => {
  const revisionA = needs(ctx.revisionA, 'version A');
  const imageB = await imageVariant('api-v2', `${TAG}-b`, `${revisionA}-b`);
  const before = new Set(await tasksOf('api-v2'));
  const acked0 = acked();
  const { load } = await underLoad(() => docker('service', 'update', '--detach=false', '--quiet', '--no-resolve-image', '--image', imageB, `${STACK}_api-v2`));
  const after = new Set(await tasksOf('api-v2'));
  if (![...before].every((id) => !after.has(id))) throw new Error('api-v2 tasks were not replaced');
  const serving = await servedRevision();
  if (serving !== `${revisionA}-b`) throw new Error(`after the update the edge reaches revision ${serving}, not B`);
  if (load.failures.length > 0) throw new Error(summarize(load));
  if (load.writes < 10) throw new Error(`only ${load.writes} writes during the update: ${summarize(load)}`);
  return `${summarize(load)}; ${acked() - acked0} plays acknowledged; B (${serving}) serves; ${await writesIntact()}`;
});

await check('deploy.sh --rollback returns api-v2 from B to A under mixed load: zero failed requests, no lost write', async () => {
  const revisionA = needs(ctx.revisionA, 'version A');
  const { value: out, load } = await underLoad(() => deploy('--rollback'));
  const state = await apiV2UpdateState();
  if (state !== 'rollback_completed') throw new Error(`api-v2 update state ${state}: ${out.slice(-500)}`);
  const serving = await servedRevision();
  if (serving !== revisionA) throw new Error(`after --rollback the edge reaches revision ${serving}, not A (${revisionA})`);
  if (load.failures.length > 0) throw new Error(summarize(load));
  return `api-v2 ${state}, A serves again; ${summarize(load)}; ${await writesIntact()}`;
});

await check('api-v2 update to a version whose health check fails: Swarm rolls back by itself, A keeps serving, zero failed requests', async () => {
  const revisionA = needs(ctx.revisionA, 'version A');
  const broken = `${revisionA}-broken`;
  const image = await imageVariant('api-v2', `${TAG}-broken`, broken);
  // The broken release starts and listens, but its bus points at a port where nothing listens,
  // so it is never ready and its /healthz (the health check) answers 503 'starting' for ever.
  const seen = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      seen.add(await servedRevision().catch(() => 'error'));
      await sleep(250);
    }
  })();
  const started = Date.now();
  const { value: updateError, load } = await underLoad(() =>
    // The test stack gives tasks a long start period (slow shared machine); this update a short one,
    // so the never-ready version is given up on after 15 s + 3 failed probes, as in production's 30 s.
    docker('service', 'update', '--detach=false', '--quiet', '--no-resolve-image', '--image', image, '--env-add', 'REDIS_URL=redis://127.0.0.1:6390', '--health-start-period', '15s', `${STACK}_api-v2`).then(
      () => '',
      (err: Error) => err.message.split('\n').find((l) => /rollback|paused|fail/i.test(l)) ?? err.message.slice(0, 200),
    ),
  );
  watching = false;
  await watch;
  const state = await waitFor('the automatic rollback to complete', async () => ((await apiV2UpdateState()) === 'rollback_completed' ? 'rollback_completed' : undefined), 120_000, 1_000);
  const spec = await docker('service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}} {{join .Spec.TaskTemplate.ContainerSpec.Env " "}}', `${STACK}_api-v2`);
  if (spec.includes(`${TAG}-broken`) || spec.includes('6390')) throw new Error(`api-v2's spec is still the broken one: ${spec}`);
  const serving = await servedRevision();
  if (serving !== revisionA) throw new Error(`after the rollback the edge reaches revision ${serving}`);
  if (seen.has(broken)) throw new Error('the broken version answered a client through the edge');
  if (load.failures.length > 0) throw new Error(summarize(load));
  return `update refused (${updateError || 'docker service update returned'}), state ${state} ${((Date.now() - started) / 1000).toFixed(0)} s after the update began; only A answered (${[...seen].join(', ')}); ${summarize(load)}; ${await writesIntact()}`;
});

/** Restarts one data service and proves everything else recovers on its own. */
async function restartDataService(service: 'postgres' | 'redis'): Promise<{ load: LoadResult; downMs: number; tasksKept: number }> {
  // Start from a settled stack: an earlier fault's replacement task may still be starting (or an
  // old one stopping), and it must not be mistaken for a restart this fault caused.
  await twoDeviceTasks();
  const appContainers = async () => (await Promise.all(APP_SERVICES.map(tasksOf))).flat().sort();
  await waitFor(
    'a settled stack (the same app containers 3 s apart)',
    async () => {
      const first = JSON.stringify(await appContainers());
      await sleep(3_000);
      return first === JSON.stringify(await appContainers()) ? true : undefined;
    },
    60_000,
    0,
  );
  const tasksBefore = (await Promise.all(APP_SERVICES.map(swarmTasksOf))).flat().sort();
  const containersBefore = await appContainers();
  const dataBefore = await swarmTasksOf(service);
  const restartedAt = Date.now();
  const { load } = await underLoad(async () => {
    await docker('service', 'update', '--force', '--detach=false', '--quiet', `${STACK}_${service}`);
    // Every service ready again without being restarted: the edge-routed ones through the edge,
    // account and device-tcp inside their tasks (they are not routed).
    await waitFor(
      'every service ready',
      async () => {
        const [v1, v2] = await Promise.all([http('GET', '/v1/readyz'), http('GET', '/v2/readyz')]);
        if (v1.status !== 200 || v2.status !== 200) return undefined;
        const inside = await Promise.all([...(await tasksOf('account')), ...(await tasksOf('device-tcp'))].map(readyInside));
        return inside.every(Boolean) ? true : undefined;
      },
      90_000,
      500,
    );
  }, true);
  const downMs = Date.now() - restartedAt;
  const dataAfter = await swarmTasksOf(service);
  if (dataAfter.some((t) => dataBefore.includes(t))) throw new Error(`${service} was not restarted`);
  const tasksAfter = (await Promise.all(APP_SERVICES.map(swarmTasksOf))).flat().sort();
  const containersAfter = (await Promise.all(APP_SERVICES.map(tasksOf))).flat().sort();
  if (JSON.stringify(tasksAfter) !== JSON.stringify(tasksBefore) || JSON.stringify(containersAfter) !== JSON.stringify(containersBefore)) {
    throw new Error(`an app service was restarted: tasks ${tasksBefore.length} → ${tasksAfter.length}, containers ${containersAfter.filter((c) => !containersBefore.includes(c)).length} new`);
  }
  return { load, downMs, tasksKept: tasksAfter.length };
}

/** A write after the fault: a booking held and confirmed, and plays acknowledged again. */
async function writeWorks(): Promise<string> {
  const acked0 = acked();
  const hour = ledger.nextHour++;
  const startsAt = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + hour * 3_600_000).toISOString();
  const held = await http('POST', '/v2/bookings', { displayIds: [ctx.writesDisplay], creativeId: ctx.creatives![0], startsAt, endsAt: new Date(Date.parse(startsAt) + 3_600_000).toISOString() }, ctx.advertiser, { 'idempotency-key': randomBytes(8).toString('hex') });
  expectStatus('a booking after the restart', held, 201);
  expectStatus('its confirmation', await http('POST', `/v2/bookings/${held.json.id}/confirm`, {}, ctx.advertiser), 200);
  ledger.bookings.set(String(held.json.id), { confirmed: true, creativeId: ctx.creatives![0] });
  await waitFor('plays acknowledged after the restart', async () => (acked() > acked0 ? true : undefined), 30_000, 200);
  return 'a booking then held and confirmed, plays acknowledged again';
}

await check('PostgreSQL restarted (docker service update --force): requests meanwhile refused with 503 + Retry-After (never 500), every service recovers without a restart of its own, no acknowledged write lost', async () => {
  const acked0 = acked();
  const { load, downMs, tasksKept } = await restartDataService('postgres');
  // A request that meets the database away is refused as such (503 + Retry-After), never a 500.
  const other = load.failures.length - load.unavailable;
  if (other > 0) throw new Error(`${other} failed requests were not 503 + Retry-After: ${summarize(load)}; e.g. ${load.failures.find((f) => !/ 503 retry-after=/.test(f))}`);
  const after = await writeWorks();
  return `every service ready ${(downMs / 1000).toFixed(1)} s after the restart began, ${tasksKept} app tasks untouched; during it ${summarize(load)}; ${after}; ${acked() - acked0} plays acknowledged across it; ${await writesIntact()}`;
});

await check('Redis restarted: every service recovers without a restart of its own, a login lockout survives (AOF), the bus carries playlist changes again', async () => {
  const fleet = needs(ctx.fleet, 'connected displays');
  const booking = needs(ctx.fleetBooking, 'the fleet booking');
  // What Redis holds that must survive: login-failure counters (the bus is pub/sub, nothing stored).
  const victim = await signUp('advertiser');
  const login = (password: string) => retriedWhileUnavailable(() => http('POST', '/v2/auth/login', { username: victim.username, password })).then((r) => r.res);
  for (let i = 0; i < 5; i++) expectStatus('a wrong password', await login('wrong-password-1234'), 401);
  expectStatus('the 6th login, right password, before the restart', await login(victim.password), 429);
  const { load, downMs, tasksKept } = await restartDataService('redis');
  const locked = await login(victim.password);
  expectStatus('the right password after the restart (the lockout must survive)', locked, 429);
  // The bus: a creative swap on the displays' booking reaches every connected display.
  const versions = fleet.displays.map((d) => d.client.playlistVersion);
  const next = ctx.creatives![1] === booking.creativeId ? ctx.creatives![0] : ctx.creatives![1];
  const swappedAt = Date.now();
  expectStatus('a creative swap after the restart', await http('PATCH', `/v2/bookings/${booking.id}`, { creativeId: next }, ctx.advertiser), 200);
  booking.creativeId = next;
  await waitFor('every display to get the new playlist', async () => (fleet.displays.every((d, i) => d.client.playlistVersion > versions[i]!) ? true : undefined), 20_000, 100);
  const pushMs = Date.now() - swappedAt;
  const after = await writeWorks();
  return `every service ready ${(downMs / 1000).toFixed(1)} s after the restart began, ${tasksKept} app tasks untouched; during it ${summarize(load)}; the locked login still answers 429; a swap reached all ${DISPLAYS} displays in ${pushMs} ms; ${after}; ${await writesIntact()}`;
});

await check('postgres and redis are unreachable from the edge network (and reachable from api-v2)', async () => {
  const ipOf = async (service: string, network: string) => {
    const [task] = await tasksOf(service);
    if (!task) throw new Error(`no running ${service} task`);
    return docker('inspect', '--format', `{{(index .NetworkSettings.Networks "${STACK}_${network}").IPAddress}}`, task);
  };
  const [pgIp, redisIp, apiV1Ip] = await Promise.all([ipOf('postgres', 'data'), ipOf('redis', 'data'), ipOf('api-v1', 'edge')]);
  // Prints "target=ok|<error code>" per target: name lookup first (ENOTFOUND/EAI_AGAIN: Docker's
  // DNS does not know the name on this network), then a TCP connect with a 2 s timeout.
  const probe = (targets: string[]) =>
    `const net=require('net'),dns=require('dns').promises;Promise.all(${JSON.stringify(targets)}.map(async t=>{const[h,p]=t.split(':');let ip;try{ip=net.isIP(h)?h:(await dns.lookup(h)).address}catch(e){return t+'='+(e.code||'err')}return new Promise(r=>{const s=net.connect({host:ip,port:+p});const done=v=>{s.destroy();r(t+'='+v)};s.setTimeout(2000,()=>done('timeout'));s.on('connect',()=>done('ok'));s.on('error',e=>done(e.code||'err'))})})).then(l=>console.log(l.join(' ')))`;
  // The probe container joins edge like Traefik does. Its default route (docker_gwbridge → host →
  // the outside world) is removed first, so a probe by IP tests only paths inside Docker's networks
  // and no packet for a 10.x address ever leaves this machine.
  const edgeTargets = ['postgres:5432', 'redis:6379', `${STACK}_postgres:5432`, `${pgIp}:5432`, `${redisIp}:6379`];
  const fromEdge = await docker(
    'run', '--rm', '--network', `${STACK}_edge`, '--cap-add', 'NET_ADMIN', '-e', `PROBE=${probe([...edgeTargets, `${apiV1Ip}:3000`])}`,
    'marquee-test/node:24', 'sh', '-c', 'ip route del default && exec node -e "$PROBE"',
  );
  const probed = new Map(fromEdge.split(' ').map((r) => r.split('=') as [string, string]));
  const unreachable = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
  const leaks = edgeTargets.filter((t) => !unreachable.has(probed.get(t) ?? 'missing'));
  if (leaks.length > 0) throw new Error(`reachable (or not clearly unreachable) from edge: ${fromEdge}`);
  if (probed.get(`${apiV1Ip}:3000`) !== 'ok') throw new Error(`control failed: the probe cannot reach api-v1 on edge either: ${fromEdge}`);
  const [apiV2] = await tasksOf('api-v2');
  const fromApi = await docker('exec', apiV2!, 'node', '-e', probe(['postgres:5432', 'redis:6379']));
  if (!/^(\S+=ok ?)+$/.test(fromApi)) throw new Error(`control failed, api-v2 cannot reach data: ${fromApi}`);
  return `from edge: ${fromEdge}; from api-v2: ${fromApi}`;
});

/** The paths where a service's spec differs from the one before its last update ("none" if equal). */
async function specChanges(service: string): Promise<string> {
  const [previous, current] = await Promise.all(['PreviousSpec', 'Spec'].map(async (f) => JSON.parse((await docker('service', 'inspect', '--format', `{{json .${f}}}`, `${STACK}_${service}`)) || 'null') as unknown));
  const paths: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) paths.push(`${path} ${JSON.stringify(a)?.slice(0, 80)} → ${JSON.stringify(b)?.slice(0, 80)}`);
  };
  walk(previous, current, '');
  return paths.length ? paths.join(', ') : 'none';
}

await check('deploy.sh again with nothing changed replaces no task (idempotent)', async () => {
  const services = [...APP_SERVICES, 'postgres', 'redis'];
  const before = (await Promise.all(services.map(tasksOf))).flat().sort();
  await deploy();
  const after = (await Promise.all(services.map(tasksOf))).flat().sort();
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    // What the update changed, for the diagnosis (the spec before the last update against now).
    const changed = await Promise.all(services.map(async (svc) => `${svc}: ${await specChanges(svc)}`));
    throw new Error(`tasks changed: ${before.length} before, ${after.length} after, ${after.filter((t) => !before.includes(t)).length} new; spec changes: ${changed.join('; ')}`);
  }
  // Exactly the stack's external secrets, each created once: a second deploy made none anew.
  const declared = Object.keys((parse(readFileSync('stacks/marquee.yml', 'utf8')) as { secrets: Record<string, unknown> }).secrets).sort();
  const secrets = await docker('secret', 'ls', '--format', '{{.Name}}', '--filter', 'name=marquee_');
  if (JSON.stringify(secrets.split('\n').sort()) !== JSON.stringify(declared)) throw new Error(`expected the stack's secrets ${declared.join(', ')}, found: ${secrets}`);
  return `${after.length} tasks unchanged, secrets reused (${secrets.split('\n').join(', ')})`;
});

await check('deploy.sh --canary 10 starts api-v2-next and writes 90/10 weights; --canary 0 turns it off', async () => {
  await deploy('--canary', '10');
  const next = await tasksOf('api-v2-next');
  if (next.length !== 1) throw new Error(`api-v2-next has ${next.length} running tasks, expected 1`);
  const on = await readDynamic('canary.yml');
  if (!/name: api-v2-stable@swarm\s+weight: 90\b/.test(on) || !/name: api-v2-next@swarm\s+weight: 10\b/.test(on)) throw new Error(`canary.yml: ${on}`);
  const transports = await readDynamic('transports.yml');
  if (!/version: 2/.test(transports)) throw new Error(`transports.yml lacks PROXY v2: ${transports}`);
  await deploy('--canary', '0');
  const off = await readDynamic('canary.yml');
  if (/weighted/.test(off)) throw new Error(`canary.yml still weighted after --canary 0: ${off}`);
  if ((await tasksOf('api-v2-next')).length !== 0) throw new Error('api-v2-next still running after --canary 0');
  return 'weights 90/10 written to the Traefik volume, api-v2-next 1 → 0 tasks';
});

await check('no play of the displays (playing their playlists) is rejected, and every play the platform acknowledged during the faults is stored once (read back per booking)', async () => {
  const fleet = needs(ctx.fleet, 'playing displays');
  fleet.stopPlaying();
  await fleet.drained(60_000);
  const from = new Date(ctx.startedAt - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const lines: string[] = [];
  for (const [bookingId, ids] of fleet.acked) {
    const report = await http('GET', `/v2/bookings/${bookingId}/plays?from=${from}&to=${to}&bucket=day`, undefined, ctx.advertiser);
    expectStatus('play report', report, 200);
    const stored = Number(report.json.totals.plays);
    if (stored !== ids.size) throw new Error(`booking ${bookingId}: ${ids.size} plays acknowledged, ${stored} stored (${ids.size - stored} lost)`);
    lines.push(`${stored} stored of ${ids.size} acknowledged`);
  }
  // The displays play their playlists as real players do: the platform must accept every play.
  if (fleet.rejected > 0) throw new Error(`${fleet.rejected} plays of correct displays rejected: ${fleet.rejectionsByCode()}; ${lines.join('; ')}; first: ${fleet.rejectedDetails()}`);
  return `${fleet.recorded} plays recorded by ${DISPLAYS} displays, ${fleet.ackedCount()} acknowledged, 0 unacknowledged at the end, rejected: ${fleet.rejectionsByCode()}; ${lines.join('; ')}; lost 0`;
});

ctx.fleet?.stop();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`swarm checks took ${((Date.now() - ctx.startedAt) / 1000).toFixed(0)} s`);
console.log(`swarm: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
