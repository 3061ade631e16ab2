// What the Swarm test's checks share (scripts/swarm/exercise.ts): Docker calls, deploy.sh as
// test.sh ran it, HTTP through the edge and the task/session probes.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const STACK = process.env.STACK ?? 'marquee';
export const EDGE = process.env.EDGE_HTTP ?? 'http://127.0.0.1:18080';
export const [DEVICE_HOST, DEVICE_PORT] = (process.env.EDGE_DEVICES ?? '127.0.0.1:17000').split(':') as [string, string];
/** The image tag test.sh deployed: version A of every service. */
export const TAG = process.env.SWARM_DEPLOY_TAG ?? 'missing-tag';

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

// scripts/deploy.sh as test.sh ran it, minus the build.
const DEPLOY_ARGS = ['--tag', TAG, '--no-build', '--resolve-image', 'never', '-f', 'stacks/marquee.swarm-test.yml', '--writer-image', 'marquee-test/node:24'];
export async function deploy(...extra: string[]): Promise<string> {
  const { stdout, stderr } = await run('scripts/deploy.sh', [...DEPLOY_ARGS, ...extra], { maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}${stderr}`;
}

export async function readDynamic(file: string): Promise<string> {
  return docker('run', '--rm', '-v', `${STACK}_traefik-dynamic:/d:ro`, 'marquee-test/node:24', 'node', '-e', `process.stdout.write(require('fs').readFileSync('/d/${file}','utf8'))`);
}

/** Ids of the service's running containers on this node. */
export async function tasksOf(service: string): Promise<string[]> {
  const ids = await docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_${service}`, '--filter', 'status=running');
  return ids ? ids.split('\n') : [];
}

/** Ids of the service's tasks Swarm wants running (survives container restarts only if none happened). */
export async function swarmTasksOf(service: string): Promise<string[]> {
  const ids = await docker('service', 'ps', '-q', '--filter', 'desired-state=running', `${STACK}_${service}`);
  return ids ? ids.split('\n').sort() : [];
}

export interface HttpResult {
  status: number;
  json: any;
  /** The Retry-After header, if any (a 503 while a dependency is away must carry one). */
  retryAfter: string | null;
}

/** `timeoutMs`: how long the client waits for an answer (10 s, a browser's impatience). */
export async function http(method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<HttpResult> {
  const res = await fetch(`${EDGE}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text for the message */
  }
  return { status: res.status, json, retryAfter: res.headers.get('retry-after') };
}

export function expectStatus(what: string, res: HttpResult, status: number): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
}

/** Polls `probe` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

/**
 * A script for `node -e` inside a task: GET `path` on the task's own port 3000 with the ops
 * credential the task holds (everything but /healthz needs one), printing `status\nbody`.
 */
const opsGet = (path: string) =>
  `const f=process.env.SERVICE_SECRET_OPS_FILE;` +
  `fetch('http://127.0.0.1:3000${path}',{headers:f?{'x-service-credential':'ops:'+require('fs').readFileSync(f,'utf8').trim()}:{}})` +
  `.then(async r=>process.stdout.write(r.status+'\\n'+await r.text()),()=>process.stdout.write('0\\n'))`;

/** device-tcp's own count of open display sessions, read inside the task (its ops port is not published). */
export async function sessionsOn(container: string): Promise<number> {
  const metrics = await docker('exec', container, 'node', '-e', opsGet('/metrics'));
  // e.g. `device_tcp_sessions{service="device-tcp"} 3` (default labels vary, the name does not)
  const match = /^device_tcp_sessions(?:\{[^}]*\})? (\S+)$/m.exec(metrics);
  if (!match) throw new Error('device_tcp_sessions not in device-tcp /metrics');
  return Number(match[1]);
}

/** GET /readyz inside a task (for services the edge does not route: account, device-tcp). */
export async function readyInside(container: string): Promise<boolean> {
  const out = await docker('exec', container, 'node', '-e', opsGet('/readyz')).catch(() => '0');
  return out.split('\n')[0] === '200';
}

/** The revision api-v2 answers with through the edge (GET /v2/healthz). */
export async function servedRevision(): Promise<string> {
  const res = await http('GET', '/v2/healthz');
  return res.status === 200 ? String(res.json.revision) : `status ${res.status}`;
}

/**
 * Another version of an image without a rebuild: `FROM` the deployed one with a new revision
 * (what /healthz reports and the OCI label says), tagged `tag`.
 */
export async function imageVariant(service: string, tag: string, revision: string): Promise<string> {
  const image = `marquee/${service}:${tag}`;
  const dockerfile = `FROM marquee/${service}:${TAG}\nENV MARQUEE_REVISION=${revision}\nLABEL org.opencontainers.image.revision=${revision}\n`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile('docker', ['build', '-q', '-t', image, '-'], (err) => (err ? reject(err) : resolve()));
    child.stdin!.end(dockerfile);
  });
  return image;
}
