/**
 * T1: concurrent authenticated displays held by one device-tcp process with heartbeats:
 * ≥ 50 000, ≤ 20 KB RSS per connection, ≤ 15 % of one core at steady state; and, beside a private
 * Mosquitto holding as many idle subscribers sending PINGREQ at the heartbeat's rate, CPU per
 * heartbeat and memory per connection ≤ 2× Mosquitto's (measured in alternating windows).
 */
import path from 'node:path';
import { PER_ADDRESS } from '../lib/displays.ts';
import { startPlatform } from '../lib/platform.ts';
import { coreShare, sampleProc } from '../lib/proc.ts';
import { currentFdLimit } from '../lib/ulimit.ts';
import { diff, scrape } from '../lib/metrics.ts';
import { fmt, progress, throttled, type Figure } from '../lib/report.ts';
import { insertDisplays, signUpAndLogIn } from '../lib/seed.ts';
import { SimProcess, totalStatus, waitFor } from '../lib/sim.ts';
import { median } from '../lib/load.ts';
import { mosquittoMissing, startMosquitto, type Mosquitto } from '../lib/mosquitto.ts';
import { connectMqttFleet, type MqttFleet } from '../lib/mqtt-peer.ts';
import type { SuiteContext } from '../lib/suite.ts';

const TARGET = 50_000;
// One process can hold at most RLIMIT_NOFILE sockets; keep ~500 descriptors for everything else.
const FD_HEADROOM = 500;
const WORKERS = 2;
const STEADY_SECONDS = 35; // > one heartbeat interval (30 s ± 10 %)
const HEARTBEAT_MS = 30_000;
/** Steady-state windows per side, alternating (M Q, Q M). */
const WINDOWS = 2;
/** Subscribers' x in 127.0.x.y: clear of the display simulators' (0–19). */
const MQTT_ADDRESS_BASE = 100;

export async function runT1(ctx: SuiteContext): Promise<Figure[]> {
  const started = performance.now();
  progress('T1: starting account + api-v2 + device-tcp');
  const platform = await startPlatform('t1', {
    deviceTcp: true,
    logDir: ctx.logDir,
    nodeArgs: ctx.profile ? { 'device-tcp': ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, 't1-device-tcp')}`] } : {},
  });
  const sims: SimProcess[] = [];
  let broker: Mosquitto | null = null;
  let subscribers: MqttFleet | null = null;
  const fdLimit = currentFdLimit();
  const DISPLAYS = Math.min(TARGET, fdLimit - FD_HEADROOM);
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    progress(`T1: inserting ${fmt.int(DISPLAYS)} active displays`);
    const creds = await insertDisplays(platform.sql, operator.id, DISPLAYS);
    const device = platform.procs['device-tcp']!;
    // Let start-up garbage settle before the baseline.
    await new Promise((r) => setTimeout(r, 5_000));
    const idle = sampleProc(device.pid);
    let half = null as { online: number; rssBytes: number } | null;

    const per = Math.ceil(DISPLAYS / WORKERS);
    for (let w = 0; w < WORKERS; w++) {
      const sim = new SimProcess(`t1-${w}`);
      sims.push(sim);
      await sim.call({
        op: 'launch',
        credentials: creds.slice(w * per, (w + 1) * per).map((c) => [c.id, c.secret]),
        port: platform.devicePort!,
        rate: 600,
        perAddress: PER_ADDRESS,
        addressBase: w * 10,
        plays: false,
        speed: 1,
        batchEveryMs: 60_000,
      });
    }
    const tick = throttled();
    const connect = await waitFor(
      'all online',
      () => totalStatus(sims),
      (s) => s.online >= DISPLAYS,
      240_000,
      (s) => {
        const p = sampleProc(device.pid);
        if (!half && s.online >= DISPLAYS / 2) half = { online: s.online, rssBytes: p.rssBytes };
        tick(`T1: online ${fmt.int(s.online)}/${fmt.int(DISPLAYS)} · device-tcp RSS ${fmt.int(p.rssBytes / 2 ** 20)} MiB · errors ${JSON.stringify(s.errors)}`);
      },
      500,
    );
    // Let the connect wave's presence flushes and playlist pushes finish before measuring.
    progress('T1: settling 10 s');
    await new Promise((r) => setTimeout(r, 10_000));
    // The peer: as many idle MQTT subscribers on a private Mosquitto, pinging at the heartbeat's rate.
    broker = await startMosquitto(path.join(ctx.logDir, 't1-mosquitto.log'));
    let brokerIdleRss = 0;
    let brokerLoadedRss = 0;
    if (broker) {
      await new Promise((r) => setTimeout(r, 1_000));
      brokerIdleRss = sampleProc(broker.pid).rssBytes;
      progress(`T1: ${broker.version}: connecting ${fmt.int(DISPLAYS)} idle MQTT subscribers`);
      subscribers = await connectMqttFleet('t1', {
        port: broker.port,
        topics: creds.map((c) => `displays/${c.id}`),
        workers: WORKERS,
        rate: 2_000,
        perAddress: PER_ADDRESS,
        addressBase: MQTT_ADDRESS_BASE,
        heartbeatMs: HEARTBEAT_MS,
      });
      const st = await subscribers.status();
      if (st.online < DISPLAYS) throw new Error(`only ${st.online}/${DISPLAYS} MQTT subscribers connected: ${JSON.stringify(st.errors)}`);
      progress('T1: settling 10 s');
      await new Promise((r) => setTimeout(r, 10_000));
    }
    type Window = { cpuSeconds: number; seconds: number; beats: number; cpuUsPerBeat: number | null; coreShare: number };
    const marqueeWindows: (Window & { counters: Record<string, number> })[] = [];
    const peerWindows: Window[] = [];
    let statusA = await totalStatus(sims);
    let statusB = statusA;
    let a = sampleProc(device.pid);
    let b = a;
    const steady = async (label: string) => {
      for (let s = 0; s < STEADY_SECONDS; s++) {
        await new Promise((r) => setTimeout(r, 1_000));
        progress(`T1: steady state, measuring ${label} CPU ${s + 1}/${STEADY_SECONDS} s`);
      }
    };
    const marqueeWindow = async () => {
      const metricsA = await scrape(platform.deviceOpsUrl!);
      const wa = sampleProc(device.pid);
      const sa = await totalStatus(sims);
      await steady('device-tcp');
      const wb = sampleProc(device.pid);
      statusB = await totalStatus(sims);
      const counters = diff(metricsA, await scrape(platform.deviceOpsUrl!)).counters;
      const beats = counters['device_tcp_frames_in_total{type=heartbeat}'] ?? 0;
      const cpuSeconds = wb.cpuSeconds - wa.cpuSeconds;
      if (marqueeWindows.length === 0) [a, statusA] = [wa, sa];
      b = wb;
      marqueeWindows.push({ cpuSeconds, seconds: (wb.at - wa.at) / 1000, beats, cpuUsPerBeat: beats ? (cpuSeconds / beats) * 1e6 : null, coreShare: coreShare(wa, wb), counters });
    };
    const peerWindow = async () => {
      const pa = sampleProc(broker!.pid);
      const sa = await subscribers!.status();
      await steady('mosquitto');
      const pb = sampleProc(broker!.pid);
      const sb = await subscribers!.status();
      brokerLoadedRss = pb.rssBytes;
      const beats = sb.pingsSent - sa.pingsSent;
      const cpuSeconds = pb.cpuSeconds - pa.cpuSeconds;
      peerWindows.push({ cpuSeconds, seconds: (pb.at - pa.at) / 1000, beats, cpuUsPerBeat: beats ? (cpuSeconds / beats) * 1e6 : null, coreShare: coreShare(pa, pb) });
    };
    for (let w = 0; w < WINDOWS; w++) {
      for (const run of w % 2 === 0 ? [marqueeWindow, peerWindow] : [peerWindow, marqueeWindow]) {
        if (run === peerWindow && !broker) continue;
        await run();
      }
    }
    const peerStatus = await subscribers?.status();
    const work = marqueeWindows[0]!.counters;
    const heartbeats = marqueeWindows.reduce((n, x) => n + x.beats, 0);
    const cpu = median(marqueeWindows.map((x) => x.coreShare));
    const online = statusB.online;
    // Two estimates; the larger is judged: RSS above the idle baseline per connection, and the slope
    // from the half-connected point to the end (insensitive to what the baseline held).
    const rssPerConnFromIdle = (b.rssBytes - idle.rssBytes) / Math.max(online, 1);
    const rssPerConnSlope = half && online > half.online ? (b.rssBytes - half.rssBytes) / (online - half.online) : 0;
    const rssPerConn = Math.max(rssPerConnFromIdle, rssPerConnSlope);
    const cpuAtTarget = (cpu * TARGET) / Math.max(online, 1);
    const usPerBeat = median(marqueeWindows.map((x) => x.cpuUsPerBeat ?? NaN));
    const peerUsPerBeat = broker ? median(peerWindows.map((x) => x.cpuUsPerBeat ?? NaN)) : null;
    const peerOnline = peerStatus?.online ?? 0;
    const peerRssPerConn = broker ? (brokerLoadedRss - brokerIdleRss) / Math.max(peerOnline, 1) : null;
    const beatRatio = peerUsPerBeat ? usPerBeat / peerUsPerBeat : null;
    const memoryRatio = peerRssPerConn ? rssPerConn / peerRssPerConn : null;
    const issue7Met = online >= TARGET && rssPerConn <= 20 * 1024 && cpu <= 0.15 && statusB.online === statusA.online;
    const met = issue7Met && beatRatio !== null && beatRatio <= 2 && memoryRatio !== null && memoryRatio <= 2;
    return [
      {
        id: 'T1',
        measure: 'concurrent authenticated displays held by one device-tcp process with heartbeats, beside Mosquitto holding as many idle clients',
        target:
          '≥ 50 000, ≤ 20 KB RSS per connection, ≤ 15 % of one core at steady state (issue 7); CPU per heartbeat ≤ 2× Mosquitto\'s per PINGREQ, memory per connection ≤ 2× Mosquitto\'s (issue 16)',
        result:
          `${fmt.int(online)} online, ${fmt.kb(rssPerConn)} RSS/connection, ${fmt.pct(cpu)} of one core` +
          (DISPLAYS < TARGET ? ` (fd limit ${fmt.int(fdLimit)} caps one process; linear estimate at ${fmt.int(TARGET)}: ${fmt.pct(cpuAtTarget)})` : '') +
          (broker
            ? `; CPU per heartbeat ${fmt.int(usPerBeat)} µs vs Mosquitto ${peerUsPerBeat!.toFixed(1)} µs per PINGREQ = ${beatRatio!.toFixed(1)}×; ` +
              `memory per connection ${fmt.kb(rssPerConn)} vs Mosquitto ${fmt.kb(peerRssPerConn!)} = ${memoryRatio!.toFixed(1)}×`
            : ` — Mosquitto peer SKIPPED: ${mosquittoMissing()}`),
        met,
        details: {
          online,
          attempted: DISPLAYS,
          fdLimit,
          cpuCoreShareLinearEstimateAtTarget: cpuAtTarget,
          connectSeconds: connect.ms / 1000,
          connectTimedOut: connect.timedOut,
          rssIdleBytes: idle.rssBytes,
          rssLoadedBytes: b.rssBytes,
          rssPerConnectionBytes: Math.round(rssPerConn),
          rssPerConnectionFromIdleBytes: Math.round(rssPerConnFromIdle),
          rssPerConnectionSlopeBytes: Math.round(rssPerConnSlope),
          rssAtHalf: half,
          cpuCoreShare: cpu,
          steadySeconds: marqueeWindows.reduce((n, x) => n + x.seconds, 0),
          heartbeatsPerSecond: heartbeats / marqueeWindows.reduce((n, x) => n + x.seconds, 0),
          cpuMicrosecondsPerHeartbeat: Math.round(usPerBeat),
          marqueeWindows: marqueeWindows.map(({ counters: _, ...x }) => x),
          mosquitto: broker
            ? { version: broker.version, windows: peerWindows, cpuMicrosecondsPerPingreq: peerUsPerBeat, rssIdleBytes: brokerIdleRss, rssLoadedBytes: brokerLoadedRss, rssPerConnectionBytes: Math.round(peerRssPerConn!), online: peerOnline, clientStatus: peerStatus, beatRatio, memoryRatio }
            : { skipped: mosquittoMissing() },
          deviceTcpCountersDuringFirstWindow: work,
          reconnectsDuringSteadyState: statusB.connects - statusA.connects,
          errors: statusB.errors,
        },
        method:
          `${fmt.int(DISPLAYS)} displays inserted in PostgreSQL, connected by ${WORKERS} display-simulator processes (tools/display-sim, ${PER_ADDRESS} per source address over 127.0.x.y) ` +
          `to one device-tcp process (defaults: heartbeat 30 s, handshake limits 2 000/s) which authenticates each via api-v2; CPU = utime+stime of the device-tcp process from /proc over ${STEADY_SECONDS} s ` +
          `windows after a 10 s settle; RSS/connection = the larger of (RSS loaded − RSS before any connection) / connections and the slope from the half-connected point to the end. ` +
          `Peer in the same run: a private Mosquitto (own config, spare port) with as many MQTT 3.1.1 clients (bench/lib/mqtt.ts, ${WORKERS} worker processes, each subscribed to its own topic, ` +
          `PINGREQ every ${HEARTBEAT_MS / 1000} s ± 10 % as displays heartbeat), both fleets connected throughout; ${WINDOWS} windows of ${STEADY_SECONDS} s per side, alternating (M Q, Q M). ` +
          'CPU per heartbeat = process CPU over a window / heartbeat frames device-tcp counted (device_tcp_frames_in_total{type=heartbeat}); per PINGREQ = mosquitto CPU / PINGREQs the clients sent; medians over windows. ' +
          "Mosquitto's memory per connection = (RSS loaded − RSS before any client) / clients.",
        ...(DISPLAYS < TARGET
          ? {
              bottleneck:
                `Environment, not code: this container's RLIMIT_NOFILE hard limit is ${fmt.int(fdLimit)} and CAP_SYS_RESOURCE is not granted ` +
                '(`ulimit -n 262144` → "Operation not permitted", also via prlimit), so no single process here can hold 50 000 sockets. ' +
                'Measured at the largest count the limit allows; RSS per connection and CPU per connection are the figures that scale. ' +
                'To verify 50 000: run on a host/container with nofile ≥ 65 536 (and give device-tcp the same in the Swarm stack: `ulimits: nofile`).',
            }
          : {}),
        seconds: (performance.now() - started) / 1000,
      },
    ];
  } finally {
    await subscribers?.close();
    await broker?.stop();
    for (const s of sims) await s.close();
    await platform.close();
  }
}
