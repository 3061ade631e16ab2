/**
 * 10 000 malformed/hostile TCP sessions against device-tcp (garbage, oversized and zero lengths,
 * slow drip, half-open, partial frames, handshake floods, bad JSON/UTF-8, RSTs, HTTP on the port)
 * while 200 healthy simulated displays stay connected; their push latency is measured before and
 * during the attack. Expect zero crashes, memory back to baseline, healthy displays unaffected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { launchFleet, spawnFleet, waitOnline, type Fleet } from '../bench/lib/displays.ts';
import { Inspector, type InProcessMemory } from '../bench/lib/inspector.ts';
import { countsOf, diffHeapSummaries, summarizeHeapSnapshot, takeHeapSnapshot, type HeapSummary } from '../bench/lib/heapsnapshot.ts';
import { scrapeGauges } from '../bench/lib/metrics.ts';
import { freePort, startPlatform, type ManagedProcess, type Platform } from '../bench/lib/platform.ts';
import { memoryMap, sampleProc, type MemoryMap } from '../bench/lib/proc.ts';
import { measureOnePush, type PushSample } from '../bench/lib/push.ts';
import { fmt, progress, type Figure } from '../bench/lib/report.ts';
import { bookDisplays, createTextCreative, insertDisplays, signUpAndLogIn } from '../bench/lib/seed.ts';

const SESSIONS = 10_000;
const CONCURRENCY = 400;
const HEALTHY = 200;
const ATTACK_ADDRESSES = 200;
const SESSION_CAP_MS = 12_000; // a session the server has not closed by then counts as "left hanging"

const frame = (payload: Buffer | string) => {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
};

type Kind = (typeof KINDS)[number];
const KINDS = [
  'garbage',
  'oversized-length',
  'zero-length',
  'slow-drip-hello',
  'half-open-silent',
  'partial-frame',
  'auth-flood',
  'bad-json',
  'rst-at-once',
  'pipelined-junk',
  'http-on-tcp',
  'proxy-header-when-off',
] as const;

interface Outcome {
  kind: Kind;
  closedByServer: boolean;
  ms: number;
  errorCode?: string;
}

function session(kind: Kind, port: number, localAddress: string, realDisplayId: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress });
    let received = Buffer.alloc(0);
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      timers.forEach(clearTimeout);
      socket.destroy();
      let errorCode: string | undefined;
      try {
        if (received.length > 4) errorCode = JSON.parse(received.subarray(4, 4 + received.readUInt32BE(0)).toString()).code;
      } catch {
        /* not a frame */
      }
      resolve({ kind, closedByServer, ms: performance.now() - t0, ...(errorCode ? { errorCode } : {}) });
    };
    socket.on('data', (d) => (received = Buffer.concat([received, d]).subarray(0, 8192)));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    timers.push(setTimeout(() => finish(false), SESSION_CAP_MS));
    const hello = (displayId: string, secret: string) => frame(JSON.stringify({ type: 'hello', protocol: 1, displayId, secret, playlistVersion: 0 }));
    socket.once('connect', () => {
      switch (kind) {
        case 'garbage':
          socket.write(randomBytes(64 + Math.floor(Math.random() * 4_000)));
          break;
        case 'oversized-length':
          socket.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(100)]));
          break;
        case 'zero-length':
          socket.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]));
          break;
        case 'slow-drip-hello': {
          const bytes = hello(realDisplayId, 'not-the-secret');
          let i = 0;
          const drip = () => {
            if (done || i >= bytes.length) return;
            socket.write(bytes.subarray(i, i + 1));
            i++;
            timers.push(setTimeout(drip, 250));
          };
          drip();
          break;
        }
        case 'half-open-silent':
          break; // connect and say nothing
        case 'partial-frame':
          socket.write(Buffer.concat([Buffer.from([0, 0, 0, 200]), Buffer.from('{"type":"hel')]));
          break;
        case 'auth-flood':
          socket.write(Math.random() < 0.5 ? hello(realDisplayId, randomBytes(16).toString('hex')) : hello(randomUUID(), 'guess'));
          break;
        case 'bad-json':
          socket.write(frame(['{"type":', '[1,2,3]', '"hello"', '{"type":5}', '{"notype":true}', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), '{"type":"hello","protocol":"one","displayId":[],"secret":{}}'][Math.floor(Math.random() * 7)]!));
          break;
        case 'rst-at-once':
          socket.resetAndDestroy();
          finish(true);
          break;
        case 'pipelined-junk': {
          const parts = [hello(realDisplayId, 'wrong')];
          for (let k = 0; k < 500; k++) parts.push(frame(JSON.stringify({ type: k % 2 ? 'heartbeat' : 'plays', playlistVersion: -1, plays: 'x' })));
          socket.write(Buffer.concat(parts));
          break;
        }
        case 'http-on-tcp':
          socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          break;
        case 'proxy-header-when-off':
          socket.write(Buffer.concat([Buffer.from('PROXY TCP4 1.2.3.4 127.0.0.1 1111 7000\r\n'), hello(realDisplayId, 'x')]));
          break;
      }
    });
  });
}

/** device-tcp's per-connection state and its per-address limiter entries. */
const MUST_NOT_GROW = ['Session', 'FrameDecoder', 'TokenBucket'] as const;
/**
 * Reported beside them. Socket/TCP also count the pooled connections to api-v2 (undici Client,
 * up to API_V2_CONCURRENCY), which open and close with load, so they are not judged by count: an
 * open display socket shows in TCPSocketWrap (judged), a closed one kept alive in the heap growth.
 */
const WATCHED = [...MUST_NOT_GROW, 'Socket', 'TCP', 'Client', 'Timeout', 'WriteWrap', 'ShutdownWrap', 'Promise'] as const;
/** Live heap after a full GC may grow this much once (code compiled for the error paths, inline caches). */
const LIVE_HEAP_SLACK_BYTES = 2 * 2 ** 20;
const EXTERNAL_SLACK_BYTES = 1 * 2 ** 20;
/** A second wave of SESSIONS may leave at most this much more live JS heap: ~100 bytes per session. */
const PER_WAVE_HEAP_LIMIT_BYTES = 1 * 2 ** 20;
/** RSS after a full GC, after vs before the attack (the old RSS bound, minus uncollected garbage). */
const RSS_AFTER_GC_SLACK_BYTES = 25 * 2 ** 20;
const SETTLE_MS = 15_000;

const MiB = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What device-tcp holds at one moment: RSS and where it is, V8's view, its own gauges. */
interface MemPoint {
  rssBytes: number;
  map: MemoryMap;
  /** process.memoryUsage() and active libuv resources, read inside device-tcp over the inspector. */
  v8: InProcessMemory;
  connections: number;
  sessions: number;
}

async function memPoint(inspector: Inspector, platform: Platform, device: ManagedProcess, fullGc: boolean): Promise<MemPoint> {
  if (fullGc) {
    // Twice: the second pass frees what the first one's weak callbacks (closed handles) released.
    await inspector.collectGarbage();
    await inspector.collectGarbage();
    await sleep(500);
  }
  const v8 = await inspector.memory();
  const rssBytes = sampleProc(device.pid).rssBytes;
  const map = memoryMap(device.pid);
  const g = await scrapeGauges(platform.deviceOpsUrl!, ['device_tcp_connections', 'device_tcp_sessions'] as const);
  return { rssBytes, map, v8, connections: g.device_tcp_connections, sessions: g.device_tcp_sessions };
}

/** RSS split into V8's committed heap, ArrayBuffer/external memory, malloc arenas and the rest. */
function rssParts(p: MemPoint) {
  return {
    rssMiB: MiB(p.rssBytes),
    v8HeapCommittedMiB: MiB(p.v8.heapTotal),
    v8HeapUsedMiB: MiB(p.v8.heapUsed),
    externalMiB: MiB(p.v8.external),
    arrayBuffersMiB: MiB(p.v8.arrayBuffers),
    mallocMainArenaMiB: MiB(p.map.brkHeapBytes),
    mallocThreadArenasMiB: MiB(p.map.mallocArenaBytes),
    otherAnonMiB: MiB(p.map.otherAnonBytes),
    fileBackedMiB: MiB(p.map.fileBytes),
    connections: p.connections,
    sessions: p.sessions,
    activeResources: p.v8.activeResources,
  };
}

async function snapshot(platform: Platform, device: ManagedProcess, heapDir: string, label: string): Promise<HeapSummary> {
  progress(`chaos TCP: heap snapshot of device-tcp (${label})`);
  return summarizeHeapSnapshot(await takeHeapSnapshot(device.pid, heapDir, `${platform.deviceOpsUrl}/healthz`));
}

/** SESSIONS hostile sessions, CONCURRENCY at a time; `state.launched` is read by the progress line. */
async function attackWave(port: number, ids: string[], state: { launched: number }): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const outcomes: Outcome[] = [];
  state.launched = 0;
  const worker = async () => {
    while (state.launched < SESSIONS) {
      const i = state.launched++;
      const kind = KINDS[i % KINDS.length]!;
      const addr = `127.0.${100 + Math.floor((i % ATTACK_ADDRESSES) / 254)}.${1 + ((i % ATTACK_ADDRESSES) % 254)}`;
      outcomes.push(await session(kind, port, addr, ids[i % ids.length]!));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { outcomes, seconds: (performance.now() - t0) / 1000 };
}

export async function runTcpHostile(logDir: string): Promise<Figure> {
  const started = performance.now();
  progress('chaos TCP: starting account + api-v2 + device-tcp');
  const heapDir = path.join(logDir, 'heap');
  mkdirSync(heapDir, { recursive: true });
  for (const f of readdirSync(heapDir)) if (f.endsWith('.heapsnapshot')) rmSync(path.join(heapDir, f));
  const inspectPort = await freePort();
  // CHAOS_C2_DEVICE_ENV='{"MALLOC_ARENA_MAX":"1"}' adds environment to device-tcp (allocator experiments).
  const extraEnv = process.env.CHAOS_C2_DEVICE_ENV ? (JSON.parse(process.env.CHAOS_C2_DEVICE_ENV) as Record<string, string>) : undefined;
  const platform = await startPlatform('chaos_tcp', {
    deviceTcp: true,
    logDir,
    // The inspector (loopback only) forces full GCs and reads memory from inside the process.
    nodeArgs: { 'device-tcp': [`--inspect=127.0.0.1:${inspectPort}`, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] },
    ...(extraEnv ? { env: { 'device-tcp': extraEnv } } : {}),
  });
  let fleet: Fleet | null = null;
  let inspector: Inspector | null = null;
  try {
    const operator = await signUpAndLogIn(platform.apiV2Url, 'operator');
    const advertiser = await signUpAndLogIn(platform.apiV2Url, 'advertiser');
    const creds = await insertDisplays(platform.sql, operator.id, HEALTHY, { lengthMs: 60_000, slotCount: 6 });
    const ids = creds.map((c) => c.id);
    const creativeId = await createTextCreative(platform.apiV2Url, advertiser);
    await bookDisplays(platform.apiV2Url, advertiser, creativeId, ids);
    fleet = spawnFleet('chaos-tcp', creds, 1);
    await launchFleet(fleet, { port: platform.devicePort!, rate: 200 });
    const online = await waitOnline('chaos TCP: healthy displays', fleet, HEALTHY, 60_000);
    if (online.timedOut) throw new Error(`healthy displays did not come online (${online.value.online}/${HEALTHY})`);
    const device = platform.procs['device-tcp']!;
    inspector = await Inspector.connect(inspectPort);
    let duration = 6_000;
    const before: PushSample[] = [];
    for (let i = 0; i < 3; i++) {
      progress(`chaos TCP: push latency to ${HEALTHY} healthy displays before the attack (${i + 1}/3)`);
      before.push(await measureOnePush(platform, advertiser, creativeId, fleet, ids, (duration += 1_000)));
    }
    await sleep(2_000);
    const baseline = sampleProc(device.pid);
    const rawBefore = await memPoint(inspector, platform, device, false);
    const gcBefore = await memPoint(inspector, platform, device, true);
    const connectsBefore = (await fleet.status()).connects;

    // ------------------------------------------------------------- the attack
    const state = { launched: 0 };
    let peakRss = baseline.rssBytes;
    let attackPeakRss = 0;
    let peak: MemPoint | null = null;
    let sampling = false;
    const during: PushSample[] = [];
    let attacking = true;
    const pushLoop = (async () => {
      while (attacking) {
        during.push(await measureOnePush(platform, advertiser, creativeId, fleet!, ids, (duration += 1_000), 20_000));
        await sleep(1_000);
      }
    })();
    const sampler = setInterval(() => {
      try {
        const rss = sampleProc(device.pid).rssBytes;
        if (rss > attackPeakRss && !sampling) {
          // Where the peak is: V8's committed heap vs malloc (no GC forced here).
          sampling = true;
          memPoint(inspector!, platform, device, false)
            .then((p) => (peak = !peak || p.rssBytes > peak.rssBytes ? p : peak))
            .catch(() => {})
            .finally(() => (sampling = false));
        }
        attackPeakRss = Math.max(attackPeakRss, rss);
        peakRss = Math.max(peakRss, rss);
      } catch {
        /* process gone: reported below */
      }
      progress(`chaos TCP: ${fmt.int(state.launched)}/${fmt.int(SESSIONS)} hostile sessions · device-tcp RSS ${fmt.int(peakRss / 2 ** 20)} MiB peak · pushes during attack ${during.length}`);
    }, 1_000);
    const wave1 = await attackWave(platform.devicePort!, ids, state);
    attacking = false;
    await pushLoop;
    clearInterval(sampler);

    progress(`chaos TCP: attack over; letting device-tcp settle ${SETTLE_MS / 1000} s`);
    await sleep(SETTLE_MS);
    let alive = device.alive && device.exits.length === 0;
    const after = alive ? sampleProc(device.pid) : null;
    const rawAfter = alive ? await memPoint(inspector, platform, device, false) : null;
    const gcAfter = alive ? await memPoint(inspector, platform, device, true) : null;
    const status = await fleet.status();
    const healthyReconnects = status.connects - connectsBefore;

    // ------------------------------------------- what one more wave leaves behind (heap snapshots)
    // Snapshots allocate tens of MiB of native memory in device-tcp, so they come after the RSS
    // figures above; a second identical wave between two snapshots shows per-session retention
    // (a leak grows with every wave; one-time warm-up, e.g. compiled code, does not).
    let perWave: { before: HeapSummary; after: HeapSummary; wave: { outcomes: Outcome[]; seconds: number }; gc: MemPoint } | null = null;
    if (alive) {
      const snap1 = await snapshot(platform, device, heapDir, 'before the second wave');
      const ticker = setInterval(() => progress(`chaos TCP: second wave ${fmt.int(state.launched)}/${fmt.int(SESSIONS)} hostile sessions`), 1_000);
      const wave = await attackWave(platform.devicePort!, ids, state);
      clearInterval(ticker);
      progress(`chaos TCP: second wave over; letting device-tcp settle ${SETTLE_MS / 1000} s`);
      await sleep(SETTLE_MS);
      alive = device.alive && device.exits.length === 0;
      if (alive) {
        const gc = await memPoint(inspector, platform, device, true);
        perWave = { before: snap1, after: await snapshot(platform, device, heapDir, 'after the second wave'), wave, gc };
      }
    }

    const outcomes = wave1.outcomes;
    const byKind: Record<string, { sessions: number; closedByServer: number; leftHanging: number; maxMs: number; codes: Record<string, number> }> = {};
    for (const o of outcomes) {
      const k = (byKind[o.kind] ??= { sessions: 0, closedByServer: 0, leftHanging: 0, maxMs: 0, codes: {} });
      k.sessions++;
      if (o.closedByServer) k.closedByServer++;
      else k.leftHanging++;
      k.maxMs = Math.max(k.maxMs, Math.round(o.ms));
      if (o.errorCode) k.codes[o.errorCode] = (k.codes[o.errorCode] ?? 0) + 1;
    }
    const hanging = outcomes.filter((o) => !o.closedByServer).length + (perWave?.wave.outcomes.filter((o) => !o.closedByServer).length ?? 0);
    const worst = (xs: PushSample[], k: 'p50' | 'p99') => Math.max(...xs.map((x) => x[k]));

    // ------------------------------------------------------------- memory back to baseline
    const sockets = (p: MemPoint) => p.v8.activeResources.TCPSocketWrap ?? 0;
    const liveHeapGrowth = gcAfter ? gcAfter.v8.heapUsed - gcBefore.v8.heapUsed : NaN;
    const externalGrowth = gcAfter ? gcAfter.v8.external - gcBefore.v8.external : NaN;
    const countsBack = !!gcAfter && gcAfter.connections === HEALTHY && gcAfter.sessions === HEALTHY && sockets(gcAfter) <= sockets(gcBefore);
    const perWaveHeap = perWave ? perWave.after.jsHeapBytes - perWave.before.jsHeapBytes : NaN;
    const perWaveCounts = perWave ? { before: countsOf(perWave.before, WATCHED), after: countsOf(perWave.after, WATCHED) } : null;
    const grew = perWaveCounts ? MUST_NOT_GROW.filter((n) => perWaveCounts.after[n]! > perWaveCounts.before[n]!) : ['(no snapshots)'];
    const rssAfterGcGrowth = gcAfter ? gcAfter.rssBytes - gcBefore.rssBytes : NaN;
    const memoryBack =
      rssAfterGcGrowth <= RSS_AFTER_GC_SLACK_BYTES &&
      liveHeapGrowth <= LIVE_HEAP_SLACK_BYTES && externalGrowth <= EXTERNAL_SLACK_BYTES && countsBack && perWaveHeap <= PER_WAVE_HEAP_LIMIT_BYTES && grew.length === 0;
    const met = alive && memoryBack && status.online === HEALTHY && healthyReconnects === 0 && hanging === 0 && during.every((d) => d.stale === 0);

    const rssGrowthMiB = after ? (after.rssBytes - baseline.rssBytes) / 2 ** 20 : NaN;
    const d = (a: number, b: number) => `${b - a >= 0 ? '+' : ''}${MiB(b - a)}`;
    const rssNote =
      rawAfter && gcAfter
        ? `RSS ${fmt.int(baseline.rssBytes / 2 ** 20)} → peak ${fmt.int(peakRss / 2 ** 20)} → ${fmt.int(after!.rssBytes / 2 ** 20)} MiB after 15 s ` +
          `(${d(rawBefore.rssBytes, rawAfter.rssBytes)} MiB: V8 committed heap ${d(rawBefore.v8.heapTotal, rawAfter.v8.heapTotal)}, malloc arenas ${d(rawBefore.map.brkHeapBytes + rawBefore.map.mallocArenaBytes, rawAfter.map.brkHeapBytes + rawAfter.map.mallocArenaBytes)}); ` +
          `after a full GC ${fmt.int(gcBefore.rssBytes / 2 ** 20)} → ${fmt.int(gcAfter.rssBytes / 2 ** 20)} MiB`
        : 'RSS ?';
    return {
      id: 'C2',
      measure: '10 000 malformed/hostile TCP sessions against device-tcp',
      target: 'zero crashes, memory back to baseline, healthy displays unaffected (push latency reported)',
      result:
        `crashes ${alive ? 0 : 'YES'}; ` +
        (gcAfter
          ? `after a full GC: live heap ${MiB(gcBefore.v8.heapUsed)} → ${MiB(gcAfter.v8.heapUsed)} MiB, external ${MiB(gcBefore.v8.external)} → ${MiB(gcAfter.v8.external)} MiB, ` +
            `connections ${gcBefore.connections} → ${gcAfter.connections}, sessions ${gcBefore.sessions} → ${gcAfter.sessions}; `
          : '') +
        (perWave ? `a second wave of ${fmt.int(SESSIONS)} left ${d(perWave.before.jsHeapBytes, perWave.after.jsHeapBytes)} MiB heap, ${grew.length ? `more ${grew.join('/')}` : `no more ${MUST_NOT_GROW.join('/')}`}; ` : '') +
        `${rssNote}; ` +
        `healthy ${status.online}/${HEALTHY} online, ${healthyReconnects} reconnects; push p99 before ${fmt.ms(worst(before, 'p99'))}, during ${fmt.ms(worst(during, 'p99'))}; ` +
        `sessions left hanging ${hanging}`,
      met,
      details: {
        sessions: outcomes.length,
        attackSeconds: wave1.seconds,
        byKind,
        retained: {
          rssAfterFullGcGrowthMiB: MiB(rssAfterGcGrowth),
          liveHeapGrowthMiB: MiB(liveHeapGrowth),
          externalGrowthMiB: MiB(externalGrowth),
          countsBack,
          perWave: perWave
            ? {
                sessions: perWave.wave.outcomes.length,
                leftHanging: perWave.wave.outcomes.filter((o) => !o.closedByServer).length,
                jsHeapMiB: { before: MiB(perWave.before.jsHeapBytes), after: MiB(perWave.after.jsHeapBytes) },
                nativeInSnapshotMiB: { before: MiB(perWave.before.nativeBytes), after: MiB(perWave.after.nativeBytes) },
                counts: perWaveCounts,
                grew,
                largestChanges: diffHeapSummaries(perWave.before, perWave.after, 12),
                largestCollectionsAfter: perWave.after.collections.slice(0, 8),
                afterFullGc: rssParts(perWave.gc),
              }
            : null,
        },
        memory: {
          beforeAttack: rssParts(rawBefore),
          beforeAttackAfterFullGc: rssParts(gcBefore),
          peak: peak ? rssParts(peak) : null,
          after15s: rawAfter ? rssParts(rawAfter) : null,
          after15sAfterFullGc: gcAfter ? rssParts(gcAfter) : null,
        },
        rss: { baselineBytes: baseline.rssBytes, peakBytes: peakRss, afterBytes: after?.rssBytes ?? null, growthMiB: rssGrowthMiB },
        healthy: { displays: HEALTHY, onlineAfter: status.online, reconnectsDuringAttack: healthyReconnects, errors: status.errors },
        pushLatencyBefore: before,
        pushLatencyDuring: during,
        ...(extraEnv ? { deviceTcpExtraEnv: extraEnv } : {}),
      },
      ...(rawAfter && gcAfter
        ? {
            notes:
              `Raw RSS is not retained memory. Before the attack V8 had ${MiB(rawBefore.v8.heapTotal)} MiB committed for ${MiB(rawBefore.v8.heapUsed)} MiB of objects, ${MiB(gcBefore.v8.heapUsed)} MiB of them live: ` +
              `a full GC took RSS from ${MiB(rawBefore.rssBytes)} to ${MiB(gcBefore.rssBytes)} MiB. 15 s after the attack V8 had ${MiB(rawAfter.v8.heapTotal)} MiB committed for ${MiB(rawAfter.v8.heapUsed)} MiB, ` +
              `${MiB(gcAfter.v8.heapUsed)} MiB live; a full GC took RSS from ${MiB(rawAfter.rssBytes)} to ${MiB(gcAfter.rssBytes)} MiB. ` +
              `After the full GCs, malloc's arenas (main + thread, /proc/<pid>/smaps) hold ${d(gcBefore.map.brkHeapBytes + gcBefore.map.mallocArenaBytes, gcAfter.map.brkHeapBytes + gcAfter.map.mallocArenaBytes)} MiB ` +
              `more than before while external memory moved ${d(gcBefore.v8.external, gcAfter.v8.external)} MiB: freed memory glibc keeps for reuse, not live objects. ` +
              'Heap snapshots add tens of MiB of such malloc memory themselves (details.retained.perWave.afterFullGc), which is why they are taken only after the RSS figures. ' +
              'Snapshots of the last run: chaos/results/logs/heap/ (`npx tsx bench/lib/heapsnapshot.ts before after` prints their diff).',
          }
        : {}),
      method:
        `${fmt.int(SESSIONS)} sessions from ${ATTACK_ADDRESSES} source addresses (127.0.100+.x), ${CONCURRENCY} at a time, ${KINDS.length} kinds cycled (${KINDS.join(', ')}); ` +
        `each session ends when the server closes it, or is counted "left hanging" after ${SESSION_CAP_MS / 1000} s. Meanwhile ${HEALTHY} simulated displays stay connected and a booked creative is edited in a loop; ` +
        'push latency = display applied the new playlist − PATCH answered. ' +
        `Memory back to baseline = what device-tcp retains, measured after a forced full GC (inspector HeapProfiler.collectGarbage, device-tcp runs with --inspect on 127.0.0.1) before the attack and ${SETTLE_MS / 1000} s after it: ` +
        `live V8 heap ≤ before + ${MiB(LIVE_HEAP_SLACK_BYTES)} MiB (one-time code and inline caches for the error paths), external/ArrayBuffer memory ≤ before + ${MiB(EXTERNAL_SLACK_BYTES)} MiB, ` +
        `connections and sessions back to the ${HEALTHY} healthy displays, no more open TCP sockets (TCPSocketWrap) than before; then heap snapshots (--heapsnapshot-signal) before and after a second identical wave: ` +
        `≤ ${MiB(PER_WAVE_HEAP_LIMIT_BYTES)} MiB more live JS heap and no more ${MUST_NOT_GROW.join(', ')} objects. ` +
        `RSS after the full GC ≤ before + ${MiB(RSS_AFTER_GC_SLACK_BYTES)} MiB; raw RSS (as found, no GC) is reported with its split into V8's committed heap, malloc arenas (/proc/<pid>/smaps) and the rest, but not judged: ` +
        'between major GCs it holds garbage not yet collected.',
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    inspector?.close();
    await fleet?.close();
    await platform.close();
  }
}
