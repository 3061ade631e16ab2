// What the public edge exposes, checked statically on the resolved stack (`docker stack config`)
// and Traefik's dynamic files: no route reaches /metrics, /readyz or /internal; internal listeners
// are not routed and hold the secrets of exactly the callers the kit's table allows; Redis needs a
// password.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTERNAL_ENDPOINTS, OPEN_ENDPOINTS, callersOf, serviceSecretVariable, type InternalListener, type ServiceCaller } from '@marquee/service-kit';
import { parseYaml } from './traefik-wiring.ts';

const root = path.resolve(import.meta.dirname, '../..');
const resolved = spawnSync('docker', ['stack', 'config', '-c', path.join(root, 'stacks/marquee.yml')], {
  env: { MARQUEE_TAG: 'test', API_V2_NEXT_TAG: 'test-next', PATH: process.env.PATH ?? '' },
  encoding: 'utf8',
});
if (resolved.status !== 0) throw new Error(`docker stack config failed: ${resolved.stderr}`);

interface Service {
  environment?: Record<string, string>;
  networks?: Record<string, unknown>;
  secrets?: { source: string; target?: string }[];
  command?: string[];
  healthcheck?: { test?: string[] };
  deploy?: { labels?: Record<string, string> };
}
const stack = parseYaml(resolved.stdout) as unknown as { services: Record<string, Service> };
const services = stack.services;

interface Router {
  name: string;
  rule: string;
  priority: number;
  middlewares: string[];
}

/** Every HTTP router of the edge: service labels and the file provider's dynamic files. */
function routers(): { routers: Router[]; middlewares: Map<string, Record<string, string>> } {
  const found = new Map<string, Partial<Router> & { name: string }>();
  const middlewares = new Map<string, Record<string, string>>();
  for (const svc of Object.values(services)) {
    for (const [key, value] of Object.entries(svc.deploy?.labels ?? {})) {
      const r = /^traefik\.http\.routers\.([^.]+)\.(rule|priority|middlewares)$/.exec(key);
      if (r) {
        const router = found.get(r[1]!) ?? { name: r[1]! };
        if (r[2] === 'rule') router.rule = value;
        if (r[2] === 'priority') router.priority = Number(value);
        if (r[2] === 'middlewares') router.middlewares = value.split(',');
        found.set(r[1]!, router);
      }
      const m = /^traefik\.http\.middlewares\.([^.]+)\.(.+)$/.exec(key);
      if (m) middlewares.set(m[1]!, { ...middlewares.get(m[1]!), [m[2]!]: value });
    }
  }
  const dynamicDir = path.join(root, 'traefik/dynamic');
  for (const file of readdirSync(dynamicDir).filter((f) => f.endsWith('.yml'))) {
    const doc = parseYaml(readFileSync(path.join(dynamicDir, file), 'utf8')) as { http?: { routers?: Record<string, { rule: string; priority?: string; middlewares?: string[] }> } };
    for (const [name, r] of Object.entries(doc.http?.routers ?? {})) {
      found.set(name, { name, rule: r.rule, priority: r.priority === undefined ? undefined : Number(r.priority), middlewares: (r.middlewares ?? []).map((m) => m.replace(/@swarm$/, '')) });
    }
  }
  const list = [...found.values()].map((r) => ({ name: r.name, rule: r.rule ?? '', priority: r.priority ?? (r.rule ?? '').length, middlewares: r.middlewares ?? [] }));
  return { routers: list, middlewares };
}

/** Evaluates the Path/PathPrefix/PathRegexp subset of Traefik's rule language (what the stack uses) for one path. */
function matches(rule: string, requestPath: string): boolean {
  const js = rule
    .replace(/PathRegexp\(`([^`]*)`\)/g, (_, re: string) => {
      const insensitive = re.startsWith('(?i)');
      return `new RegExp(${JSON.stringify(insensitive ? re.slice(4) : re)}, ${JSON.stringify(insensitive ? 'i' : '')}).test(p)`;
    })
    .replace(/PathPrefix\(`([^`]*)`\)/g, (_, prefix: string) => `p.startsWith(${JSON.stringify(prefix)})`)
    .replace(/Path\(`([^`]*)`\)/g, (_, exact: string) => `p === ${JSON.stringify(exact)}`);
  if (/\w+\(/.test(rule.replace(/(PathRegexp|PathPrefix|Path)\(`[^`]*`\)/g, ''))) throw new Error(`rule uses a matcher this check does not know: ${rule}`);
  return new Function('p', `return (${js});`)(requestPath) as boolean;
}

const NEVER_PUBLIC = ['/metrics', '/readyz', '/internal', '/internal/presence', '/internal/openapi.json', '/v2/metrics', '/v2/readyz', '/v1/metrics', '/v1/readyz', '/v2/internal/displays/authenticate', '/v2/Metrics', '/readyz.json'];

describe('the public edge', () => {
  it('reaches no /metrics, /readyz or /internal: the router that wins each such path lets nobody through', () => {
    const { routers: all, middlewares } = routers();
    for (const p of NEVER_PUBLIC) {
      const winner = all.filter((r) => matches(r.rule, p)).sort((a, b) => b.priority - a.priority)[0];
      expect(winner, p).toBeDefined();
      const denies = winner!.middlewares.some((m) => {
        const ranges = middlewares.get(m)?.['ipallowlist.sourcerange'];
        return ranges !== undefined && ranges.split(',').every((r) => r.trim() === '127.0.0.1/32');
      });
      expect({ path: p, router: winner!.name, denies }).toEqual({ path: p, router: winner!.name, denies: true });
    }
    // Ordinary paths still reach their services.
    for (const [p, router] of [['/v2/displays', 'api-v2-canary'], ['/v2/healthz', 'api-v2-canary'], ['/v1/devices', 'api-v1'], ['/bookings', 'console']] as const) {
      const winner = all.filter((r) => matches(r.rule, p)).sort((a, b) => b.priority - a.priority)[0];
      expect({ p, router: winner?.name }).toEqual({ p, router });
    }
  });

  it("routes to no internal listener: account is off the edge network, no label targets api-v2's INTERNAL_PORT or device-tcp's ops port", () => {
    expect(Object.keys(services.account!.networks ?? {})).not.toContain('edge');
    const labelPorts = (svc: Service) =>
      Object.entries(svc.deploy?.labels ?? {})
        .filter(([k]) => /^traefik\.(http|tcp)\.services\.[^.]+\.loadbalancer\.server\.port$/.test(k))
        .map(([, v]) => v);
    for (const name of ['api-v2', 'api-v2-next']) {
      const internalPort = services[name]!.environment!.INTERNAL_PORT!;
      expect(labelPorts(services[name]!), name).not.toContain(internalPort);
    }
    expect(labelPorts(services['device-tcp']!)).toEqual([services['device-tcp']!.environment!.DEVICE_PORT]);
  });

  it("api-v2's internal listener is on the edge network only behind a credential: every endpoint but /healthz names its callers, and the task holds exactly their secrets", () => {
    // api-v2 must share `edge` with Traefik for its public port; its internal port listens there too.
    expect(Object.keys(services['api-v2']!.networks ?? {})).toContain('edge');
    for (const [key, callers] of Object.entries(INTERNAL_ENDPOINTS['api-v2-internal'])) {
      expect({ key, open: OPEN_ENDPOINTS.includes(key as never), callers: callers.length > 0 }).toEqual({ key, open: false, callers: true });
    }
    const expected: Record<string, InternalListener | null> = { 'api-v2': 'api-v2-internal', 'api-v2-next': 'api-v2-internal', account: 'account', 'device-tcp': 'device-tcp-ops' };
    const own: Record<string, ServiceCaller[]> = { 'api-v2': ['api-v2'], 'api-v2-next': ['api-v2'], 'api-v1': ['api-v1'], 'device-tcp': ['device-tcp'], account: [] };
    for (const [name, ownCallers] of Object.entries(own)) {
      const svc = services[name]!;
      const listener = expected[name];
      const needed = new Set([...ownCallers, ...(listener ? callersOf(listener) : [])]);
      const held = Object.keys(svc.environment ?? {})
        .filter((k) => k.startsWith('SERVICE_SECRET_') && k.endsWith('_FILE'))
        .sort();
      expect({ name, held }).toEqual({ name, held: [...needed].map((c) => `${serviceSecretVariable(c)}_FILE`).sort() });
      for (const variable of held) {
        const target = path.basename(svc.environment![variable]!);
        expect(svc.secrets?.some((s) => (s.target ?? s.source) === target), `${name}: ${variable} names a mounted secret`).toBe(true);
      }
    }
    // No service outside the table gets a credential (console, traefik, data tier).
    for (const name of ['console', 'traefik', 'postgres', 'redis']) {
      expect(Object.keys(services[name]!.environment ?? {}).filter((k) => k.startsWith('SERVICE_SECRET_')), name).toEqual([]);
    }
  });

  it('runs Redis with a password from a secret, and every client reads its URL from a secret', () => {
    const redis = services.redis!;
    const conf = redis.command![1]!;
    expect(redis.command![0]).toBe('redis-server');
    expect(redis.secrets?.map((s) => `/run/secrets/${s.target ?? s.source}`)).toContain(conf);
    expect(redis.command!.join(' ')).not.toMatch(/requirepass/);
    for (const [name, svc] of Object.entries(services)) {
      expect({ name, url: svc.environment?.REDIS_URL }).toEqual({ name, url: undefined });
    }
    for (const name of ['account', 'api-v2', 'device-tcp']) expect(services[name]!.environment!.REDIS_URL_FILE, name).toBe('/run/secrets/redis_url');
  });
});
