// The Swarm test's checks, run on the host against the deployed stack (scripts/swarm/test.sh):
// every request goes through the published edge ports, every fault is a real Docker action.
// Prints one line per check and a closing "swarm: N passed, N failed"; exits non-zero on failure.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const STACK = process.env.STACK ?? 'marquee';
const EDGE = process.env.EDGE_HTTP ?? 'http://127.0.0.1:18080';
const [DEVICE_HOST, DEVICE_PORT] = (process.env.EDGE_DEVICES ?? '127.0.0.1:17000').split(':') as [string, string];
const DISPLAYS = 6;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

// scripts/deploy.sh as test.sh ran it, minus the build (SWARM_DEPLOY_TAG: the tag it deployed).
const DEPLOY_ARGS = ['--tag', process.env.SWARM_DEPLOY_TAG ?? 'missing-tag', '--no-build', '--resolve-image', 'never', '-f', 'stacks/marquee.swarm-test.yml', '--writer-image', 'marquee-test/node:24'];
async function deploy(...extra: string[]): Promise<string> {
  const { stdout, stderr } = await run('scripts/deploy.sh', [...DEPLOY_ARGS, ...extra], { maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}${stderr}`;
}

async function readDynamic(file: string): Promise<string> {
  return docker('run', '--rm', '-v', `${STACK}_traefik-dynamic:/d:ro`, 'marquee-test/node:24', 'node', '-e', `process.stdout.write(require('fs').readFileSync('/d/${file}','utf8'))`);
}

async function tasksOf(service: string): Promise<string[]> {
  const ids = await docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_${service}`, '--filter', 'status=running');
  return ids ? ids.split('\n') : [];
}

async function http(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${EDGE}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text for the message */
  }
  return { status: res.status, json };
}

function expectStatus(what: string, res: { status: number; json: any }, status: number): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
}

// ---- a minimal display (docs/display-protocol.md: 4-byte big-endian length + JSON) ----
interface Display {
  id: string;
  secret: string;
  socket?: net.Socket;
  welcomes: number;
  closed: boolean;
}

function connectDisplay(d: Display, timeoutMs = 10_000): Promise<{ sessionId: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: DEVICE_HOST, port: Number(DEVICE_PORT) });
    d.socket = socket;
    d.closed = false;
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`display ${d.id}: no welcome within ${timeoutMs} ms`));
    }, timeoutMs);
    const send = (msg: object) => {
      const payload = Buffer.from(JSON.stringify(msg));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(payload.length);
      socket.write(Buffer.concat([len, payload]));
    };
    socket.on('connect', () => send({ type: 'hello', protocol: 1, displayId: d.id, secret: d.secret, playlistVersion: 0, client: { name: 'swarm-test', version: '1' } }));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const msg = JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString('utf8')) as { type: string; [k: string]: any };
        buf = buf.subarray(4 + buf.readUInt32BE(0));
        if (msg.type === 'welcome') {
          d.welcomes++;
          clearTimeout(timer);
          resolve({ sessionId: String(msg.sessionId) });
        } else if (msg.type === 'playlist') {
          send({ type: 'playlist_ack', version: msg.playlist?.version ?? 0 });
        } else if (msg.type === 'error' && msg.fatal) {
          clearTimeout(timer);
          reject(new Error(`display ${d.id}: fatal error ${msg.code ?? ''} ${msg.message ?? ''}`));
        }
      }
    });
    const heartbeat = setInterval(() => send({ type: 'heartbeat', playlistVersion: 0 }), 10_000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(heartbeat);
      clearTimeout(timer);
      d.closed = true;
      reject(new Error(`display ${d.id}: closed before welcome`));
    });
  });
}

async function sessionsOn(container: string): Promise<number> {
  // The ops port answers /metrics to the ops credential only; the task holds it.
  const metrics = await docker('exec', container, 'node', '-e',
    "const f=process.env.SERVICE_SECRET_OPS_FILE;fetch('http://127.0.0.1:3000/metrics',{headers:{'x-service-credential':'ops:'+require('fs').readFileSync(f,'utf8').trim()}}).then(r=>r.text()).then(t=>process.stdout.write(t))");
  // e.g. `device_tcp_sessions{service="device-tcp"} 3` (default labels vary, the name does not)
  const match = /^device_tcp_sessions(?:\{[^}]*\})? (\S+)$/m.exec(metrics);
  if (!match) throw new Error('device_tcp_sessions not in device-tcp /metrics');
  return Number(match[1]);
}

// ---- checks ----
const results: Array<{ name: string; ok: boolean; detail: string }> = [];
// SWARM_CHECKS=word runs only the checks whose name contains it (for iterating on one check).
const only = process.env.SWARM_CHECKS;
async function check(name: string, fn: () => Promise<string>): Promise<boolean> {
  if (only && !name.includes(only)) return true;
  const started = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true, detail });
    console.log(`ok   ${name} (${Date.now() - started} ms): ${detail}`);
    return true;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    results.push({ name, ok: false, detail });
    console.log(`FAIL ${name} (${Date.now() - started} ms): ${detail}`);
    return false;
  }
}

const ctx: { token?: string; displays: Display[] } = { displays: [] };

await check('edge routes /v1 and /v2 to ready services', async () => {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [v1, v2] = await Promise.all([http('GET', '/v1/readyz').catch(() => ({ status: 0, json: null })), http('GET', '/v2/readyz').catch(() => ({ status: 0, json: null }))]);
    if (v1.status === 200 && v2.status === 200) return 'GET /v1/readyz and /v2/readyz answer 200 (prefix stripped)';
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

await check('operator signs up, logs in and registers displays', async () => {
  const username = `op${randomBytes(4).toString('hex')}`;
  const password = `Swarm-${randomBytes(12).toString('base64url')}!9`;
  expectStatus('signup', await http('POST', '/v2/auth/signup', { username, password, accountType: 'operator' }), 201);
  const login = await http('POST', '/v2/auth/login', { username, password });
  expectStatus('login', login, 200);
  ctx.token = String(login.json.accessToken);
  for (let i = 0; i < DISPLAYS; i++) {
    const created = await http(
      'POST',
      '/v2/displays',
      {
        name: `Swarm screen ${i}`,
        location: { address: 'Test street 1', lat: 52.37, lng: 4.89 },
        timezone: 'Europe/Amsterdam',
        resolution: { widthPx: 1920, heightPx: 1080 },
        loop: { lengthMs: 60_000, slotCount: 6 },
        pricePerSlotHour: 1000,
      },
      ctx.token,
    );
    expectStatus('create display', created, 201);
    ctx.displays.push({ id: String(created.json.credential.displayId), secret: String(created.json.credential.secret), welcomes: 0, closed: true });
  }
  return `user ${username}, ${ctx.displays.length} displays`;
});

await check('displays connect through the edge (PROXY v2 to device-tcp) and are spread over both replicas', async () => {
  if (ctx.displays.length === 0) throw new Error('no displays registered');
  // Sequential connects: the edge round-robins, so both replicas get some.
  for (const d of ctx.displays) await connectDisplay(d);
  const tasks = await tasksOf('device-tcp');
  if (tasks.length < 2) throw new Error(`expected 2 device-tcp tasks, found ${tasks.length}`);
  const counts = await Promise.all(tasks.map(sessionsOn));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== ctx.displays.length) throw new Error(`sessions per replica ${counts.join('+')} != ${ctx.displays.length} displays`);
  if (counts.some((c) => c === 0)) throw new Error(`one replica has no display (${counts.join('+')})`);
  return `sessions per replica: ${counts.join(' + ')}`;
});

await check('a killed device-tcp task: its displays come back on the other replica', async () => {
  const tasks = await tasksOf('device-tcp');
  if (tasks.length < 2 || ctx.displays.some((d) => d.closed)) throw new Error('needs the previous check to pass');
  const counts = await Promise.all(tasks.map(sessionsOn));
  const victim = counts[0]! > 0 ? 0 : 1;
  const survivor = tasks[1 - victim]!;
  await docker('kill', tasks[victim]!);
  // The displays notice the close; reconnect at once, through the edge, like real displays.
  const deadline = Date.now() + 20_000;
  while (ctx.displays.filter((d) => d.closed).length < counts[victim]! && Date.now() < deadline) await sleep(100);
  const dropped = ctx.displays.filter((d) => d.closed);
  if (dropped.length !== counts[victim]) throw new Error(`${dropped.length} displays dropped, expected ${counts[victim]}`);
  for (const d of dropped) {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await connectDisplay(d, 5_000);
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        await sleep(500);
      }
    }
    if (lastErr) throw lastErr;
  }
  const onSurvivor = await sessionsOn(survivor);
  const stillAlive = ctx.displays.filter((d) => !d.closed).length;
  if (stillAlive !== ctx.displays.length) throw new Error(`${ctx.displays.length - stillAlive} displays not reconnected`);
  if (onSurvivor < ctx.displays.length) {
    // The restarted task may already have taken some; then they came back, just not all on the survivor.
    const all = await Promise.all((await tasksOf('device-tcp')).map(sessionsOn));
    if (all.reduce((a, b) => a + b, 0) !== ctx.displays.length) throw new Error(`sessions ${all.join('+')} after failover`);
    return `${dropped.length} displays dropped and reconnected; survivor holds ${onSurvivor}, restarted task the rest`;
  }
  return `${dropped.length} displays dropped with the killed task and came back on the surviving replica (${onSurvivor} sessions)`;
});

await check('rolling api-v2 (docker service update --force) under load through api-v1: zero failed requests', async () => {
  const before = new Set(await tasksOf('api-v2'));
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  // api-v1's readiness probes api-v2 (internal client), so each request crosses api-v1 → api-v2.
  const worker = async () => {
    while (!stop) {
      try {
        const res = await http('GET', '/v1/readyz');
        if (res.status === 200) ok++;
        else failures.push(`${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await docker('service', 'update', '--force', '--detach=false', '--quiet', `${STACK}_api-v2`);
  await sleep(2_000);
  stop = true;
  await Promise.all(workers);
  const after = new Set(await tasksOf('api-v2'));
  const replaced = [...before].every((id) => !after.has(id));
  if (!replaced) throw new Error('api-v2 tasks were not replaced');
  if (failures.length > 0) throw new Error(`${failures.length} failed of ${ok + failures.length}: ${failures.slice(0, 3).join(' | ')}`);
  if (ok < 50) throw new Error(`only ${ok} requests completed during the update`);
  return `${ok} requests, 0 failed, both api-v2 tasks replaced`;
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
  const results = new Map(fromEdge.split(' ').map((r) => r.split('=') as [string, string]));
  const unreachable = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
  const leaks = edgeTargets.filter((t) => !unreachable.has(results.get(t) ?? 'missing'));
  if (leaks.length > 0) throw new Error(`reachable (or not clearly unreachable) from edge: ${fromEdge}`);
  if (results.get(`${apiV1Ip}:3000`) !== 'ok') throw new Error(`control failed: the probe cannot reach api-v1 on edge either: ${fromEdge}`);
  const [apiV2] = await tasksOf('api-v2');
  const fromApi = await docker('exec', apiV2!, 'node', '-e', probe(['postgres:5432', 'redis:6379']));
  if (!/^(\S+=ok ?)+$/.test(fromApi)) throw new Error(`control failed, api-v2 cannot reach data: ${fromApi}`);
  return `from edge: ${fromEdge}; from api-v2: ${fromApi}`;
});

await check('deploy.sh again with nothing changed replaces no task (idempotent)', async () => {
  const services = ['account', 'api-v1', 'api-v2', 'device-tcp', 'console', 'postgres', 'redis'];
  const before = (await Promise.all(services.map(tasksOf))).flat().sort();
  await deploy();
  const after = (await Promise.all(services.map(tasksOf))).flat().sort();
  if (JSON.stringify(before) !== JSON.stringify(after)) throw new Error(`tasks changed: ${before.length} before, ${after.length} after, ${after.filter((t) => !before.includes(t)).length} new`);
  const secrets = await docker('secret', 'ls', '--format', '{{.Name}}', '--filter', 'name=marquee_');
  if (secrets.split('\n').length !== 3) throw new Error(`expected 3 marquee_ secrets, found: ${secrets}`);
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

await check('deploy.sh --rollback returns api-v2 to its previous spec', async () => {
  const out = await deploy('--rollback');
  const state = await docker('service', 'inspect', '--format', '{{.UpdateStatus.State}}', `${STACK}_api-v2`);
  if (state !== 'rollback_completed') throw new Error(`api-v2 update state ${state}: ${out.slice(-500)}`);
  return `api-v2 ${state}; ${out.includes('converged') ? 'converged' : 'no convergence line'}`;
});

for (const d of ctx.displays) d.socket?.destroy();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`swarm: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
