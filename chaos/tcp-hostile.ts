/**
 * 10 000 malformed/hostile TCP sessions against device-tcp (garbage, oversized and zero lengths,
 * slow drip, half-open, partial frames, handshake floods, bad JSON/UTF-8, RSTs, HTTP on the port)
 * while 200 healthy simulated displays stay connected; their push latency is measured before and
 * during the attack. Expect zero crashes, memory back to baseline, healthy displays unaffected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { launchFleet, spawnFleet, waitOnline, type Fleet } from '../bench/lib/displays.ts';
import { startPlatform } from '../bench/lib/platform.ts';
import { sampleProc } from '../bench/lib/proc.ts';
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

export async function runTcpHostile(logDir: string): Promise<Figure> {
  const started = performance.now();
  progress('chaos TCP: starting account + api-v2 + device-tcp');
  const platform = await startPlatform('chaos_tcp', { deviceTcp: true, logDir });
  let fleet: Fleet | null = null;
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
    let duration = 6_000;
    const before: PushSample[] = [];
    for (let i = 0; i < 3; i++) {
      progress(`chaos TCP: push latency to ${HEALTHY} healthy displays before the attack (${i + 1}/3)`);
      before.push(await measureOnePush(platform, advertiser, creativeId, fleet, ids, (duration += 1_000)));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const baseline = sampleProc(device.pid);
    const connectsBefore = (await fleet.status()).connects;

    // ------------------------------------------------------------- the attack
    let launched = 0;
    let peakRss = baseline.rssBytes;
    const outcomes: Outcome[] = [];
    const during: PushSample[] = [];
    let attacking = true;
    const pushLoop = (async () => {
      while (attacking) {
        during.push(await measureOnePush(platform, advertiser, creativeId, fleet!, ids, (duration += 1_000), 20_000));
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, sampleProc(device.pid).rssBytes);
      } catch {
        /* process gone: reported below */
      }
      progress(`chaos TCP: ${fmt.int(launched)}/${fmt.int(SESSIONS)} hostile sessions · device-tcp RSS ${fmt.int(peakRss / 2 ** 20)} MiB peak · pushes during attack ${during.length}`);
    }, 1_000);
    const worker = async () => {
      while (launched < SESSIONS) {
        const i = launched++;
        const kind = KINDS[i % KINDS.length]!;
        const addr = `127.0.${100 + Math.floor((i % ATTACK_ADDRESSES) / 254)}.${1 + ((i % ATTACK_ADDRESSES) % 254)}`;
        outcomes.push(await session(kind, platform.devicePort!, addr, ids[i % ids.length]!));
      }
    };
    const attackStarted = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const attackSeconds = (performance.now() - attackStarted) / 1000;
    attacking = false;
    await pushLoop;
    clearInterval(sampler);

    progress('chaos TCP: attack over; letting device-tcp settle 15 s');
    await new Promise((r) => setTimeout(r, 15_000));
    const alive = device.alive && device.exits.length === 0;
    const after = alive ? sampleProc(device.pid) : null;
    const status = await fleet.status();
    const healthyReconnects = status.connects - connectsBefore;

    const byKind: Record<string, { sessions: number; closedByServer: number; leftHanging: number; maxMs: number; codes: Record<string, number> }> = {};
    for (const o of outcomes) {
      const k = (byKind[o.kind] ??= { sessions: 0, closedByServer: 0, leftHanging: 0, maxMs: 0, codes: {} });
      k.sessions++;
      if (o.closedByServer) k.closedByServer++;
      else k.leftHanging++;
      k.maxMs = Math.max(k.maxMs, Math.round(o.ms));
      if (o.errorCode) k.codes[o.errorCode] = (k.codes[o.errorCode] ?? 0) + 1;
    }
    const hanging = outcomes.filter((o) => !o.closedByServer).length;
    const growthMiB = after ? (after.rssBytes - baseline.rssBytes) / 2 ** 20 : NaN;
    const worst = (xs: PushSample[], k: 'p50' | 'p99') => Math.max(...xs.map((x) => x[k]));
    const met = alive && growthMiB <= 25 && status.online === HEALTHY && healthyReconnects === 0 && hanging === 0 && during.every((d) => d.stale === 0);
    return {
      id: 'C2',
      measure: '10 000 malformed/hostile TCP sessions against device-tcp',
      target: 'zero crashes, memory back to baseline, healthy displays unaffected (push latency reported)',
      result:
        `crashes ${alive ? 0 : 'YES'}; RSS ${fmt.int(baseline.rssBytes / 2 ** 20)} → peak ${fmt.int(peakRss / 2 ** 20)} → ${after ? fmt.int(after.rssBytes / 2 ** 20) : '?'} MiB after 15 s; ` +
        `healthy ${status.online}/${HEALTHY} online, ${healthyReconnects} reconnects; push p99 before ${fmt.ms(worst(before, 'p99'))}, during ${fmt.ms(worst(during, 'p99'))}; ` +
        `sessions left hanging ${hanging}`,
      met,
      details: {
        sessions: outcomes.length,
        attackSeconds,
        byKind,
        rss: { baselineBytes: baseline.rssBytes, peakBytes: peakRss, afterBytes: after?.rssBytes ?? null, growthMiB },
        healthy: { displays: HEALTHY, onlineAfter: status.online, reconnectsDuringAttack: healthyReconnects, errors: status.errors },
        pushLatencyBefore: before,
        pushLatencyDuring: during,
      },
      method:
        `${fmt.int(SESSIONS)} sessions from ${ATTACK_ADDRESSES} source addresses (127.0.100+.x), ${CONCURRENCY} at a time, ${KINDS.length} kinds cycled (${KINDS.join(', ')}); ` +
        `each session ends when the server closes it, or is counted "left hanging" after ${SESSION_CAP_MS / 1000} s. Meanwhile ${HEALTHY} simulated displays stay connected and a booked creative is edited in a loop; ` +
        'push latency = display applied the new playlist − PATCH answered. Memory back to baseline = RSS 15 s after the attack ≤ baseline + 25 MiB.',
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await fleet?.close();
    await platform.close();
  }
}
