// Stack files checked without a Swarm or Traefik: the real Docker CLI (`docker stack config`)
// validates and resolves them, then the Traefik wiring and deploy policy are checked statically.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICE_DATABASES } from '@marquee/service-kit';
import { checkStack, parseYaml, type YamlValue } from './traefik-wiring.ts';

const root = path.resolve(import.meta.dirname, '../..');
const stackFile = path.join(root, 'stacks/marquee.yml');
const scratch = mkdtempSync(path.join(tmpdir(), 'marquee-stack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Deliberate exceptions to start-first updates (the stack file says why at each one).
const STOP_FIRST = {
  traefik: 'host-mode ports cannot be bound twice on one node',
  postgres: 'one postmaster per data directory',
  redis: 'one writer per append-only file',
};

const STACK_ENV = { MARQUEE_TAG: 'test', API_V2_NEXT_TAG: 'test-next', PATH: process.env.PATH ?? '' };

function stackConfig(files: string[]): { ok: boolean; yaml: string; stderr: string } {
  const res = spawnSync('docker', ['stack', 'config', ...files.flatMap((f) => ['-c', f])], { env: STACK_ENV, encoding: 'utf8' });
  if (res.error) throw new Error(`docker CLI not runnable (${res.error.message}): install docker.io or the docker CLI`);
  return { ok: res.status === 0, yaml: res.stdout, stderr: res.stderr };
}

const traefikStatic = parseYaml(readFileSync(path.join(root, 'traefik/traefik.yml'), 'utf8'));
const dynamicDir = path.join(root, 'traefik/dynamic');
const dynamic: Record<string, YamlValue> = Object.fromEntries(
  readdirSync(dynamicDir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => [f, parseYaml(readFileSync(path.join(dynamicDir, f), 'utf8'))]),
);

function check(files: string[]): string[] {
  const res = stackConfig(files);
  if (!res.ok) throw new Error(`docker stack config failed: ${res.stderr}`);
  return checkStack({ stackName: 'marquee', stack: parseYaml(res.yaml), traefikStatic, dynamic, stopFirst: STOP_FIRST });
}

/** A copy of the stack with one textual change, placed beside the original's relative paths. */
function mutated(find: string | RegExp, replace: string): string {
  const text = readFileSync(stackFile, 'utf8');
  const changed = text.replace(find, replace);
  if (changed === text) throw new Error(`mutation did not apply: ${String(find)}`);
  const file = path.join(scratch, `mutated-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(
    file,
    changed
      .replace('../traefik/traefik.yml', path.join(root, 'traefik/traefik.yml'))
      .replace('../scripts/postgres/service-roles.sh', path.join(root, 'scripts/postgres/service-roles.sh')),
  );
  return file;
}

describe('stacks/marquee.yml', () => {
  it('is accepted by the Docker CLI and its Traefik wiring and deploy policy are sound', () => {
    expect(check([stackFile])).toEqual([]);
  });

  it('merges with the Swarm test override into a stack that passes the same checks', () => {
    const override = path.join(root, 'stacks/marquee.swarm-test.yml');
    const res = stackConfig([stackFile, override]);
    expect(res.stderr).toBe('');
    const merged = parseYaml(res.yaml) as { services: Record<string, { deploy: { endpoint_mode?: string; replicas?: string } }> };
    expect(merged.services.traefik!.deploy.replicas).toBe('0');
    for (const [name, svc] of Object.entries(merged.services)) {
      if (name !== 'traefik') expect({ name, mode: svc.deploy.endpoint_mode }).toEqual({ name, mode: 'dnsrr' });
    }
    const problems = checkStack({ stackName: 'marquee', stack: merged as unknown as YamlValue, traefikStatic, dynamic, stopFirst: { ...STOP_FIRST, 'edge-standin': 'host-mode ports' } });
    expect(problems).toEqual([]);
    // Its PostgreSQL still gets the script that makes the services' roles, next to the entrypoint that runs it.
    const postgres = (merged as unknown as { services: { postgres: { configs: { target: string }[] } } }).services.postgres;
    expect(postgres.configs.map((c) => c.target).sort()).toEqual(['/docker-entrypoint-initdb.d/10-service-roles.sh', '/usr/local/bin/docker-entrypoint.sh']);
  });

  it('is rejected by the Docker CLI when a required variable is missing', () => {
    const res = spawnSync('docker', ['stack', 'config', '-c', stackFile], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/MARQUEE_TAG/);
  });

  it('is rejected by the Docker CLI when it has an unknown key', () => {
    const res = stackConfig([mutated('    init: true\n    environment:\n      PORT: "3000"\n      ACCOUNT_URL', '    inti: true\n    environment:\n      PORT: "3000"\n      ACCOUNT_URL')]);
    expect(res.ok).toBe(false);
    expect(res.stderr).toMatch(/inti/);
  });

  it('holds its secrets only as external Docker secrets read through *_FILE', () => {
    const text = readFileSync(stackFile, 'utf8');
    expect(text).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    const config = parseYaml(stackConfig([stackFile]).yaml) as { secrets: Record<string, { external?: string; file?: string }> };
    for (const [name, def] of Object.entries(config.secrets)) {
      expect({ name, external: def.external }).toEqual({ name, external: 'true' });
    }
  });
});

describe('database roles in stacks/marquee.yml', () => {
  interface Mount {
    source: string;
    target: string;
  }
  const config = () =>
    parseYaml(stackConfig([stackFile]).yaml) as unknown as {
      services: Record<string, { environment?: Record<string, string>; secrets?: Mount[]; configs?: Mount[] }>;
      secrets: Record<string, unknown>;
    };

  it('runs account and api-v2 (and api-v2-next) each as its own role with a password secret of its own', () => {
    const { services } = config();
    for (const [name, service] of [['account', 'account'], ['api-v2', 'api-v2'], ['api-v2-next', 'api-v2']] as const) {
      const env = services[name]!.environment!;
      expect({ name, user: new URL(env.DATABASE_URL!).username, passwordFile: env.DATABASE_PASSWORD_FILE }).toEqual({
        name,
        user: SERVICE_DATABASES[service].role,
        passwordFile: '/run/secrets/db_password',
      });
      const secret = services[name]!.secrets!.find((s) => s.target === 'db_password');
      expect({ name, secret: secret?.source }).toEqual({ name, secret: `marquee_db_password_${SERVICE_DATABASES[service].schema}` });
    }
  });

  it("gives the superuser's password to PostgreSQL alone, which also gets the roles' passwords and the script that makes the roles", () => {
    const { services } = config();
    const holders = Object.entries(services)
      .filter(([, svc]) => svc.secrets?.some((s) => s.source === 'marquee_db_password'))
      .map(([name]) => name);
    expect(holders).toEqual(['postgres']);
    const postgres = services.postgres!;
    expect(postgres.secrets!.map((s) => `${s.source} -> ${s.target}`).sort()).toEqual([
      'marquee_db_password -> db_password',
      'marquee_db_password_account -> db_password_account',
      'marquee_db_password_api_v2 -> db_password_api_v2',
    ]);
    expect(postgres.configs).toEqual([expect.objectContaining({ source: 'postgres-service-roles', target: '/docker-entrypoint-initdb.d/10-service-roles.sh' })]);
  });

  it('has deploy.sh create every database secret, and the init script make the roles and schemas the services use', () => {
    const deploySecrets = /^SECRETS=\(([^)]*)\)/m.exec(readFileSync(path.join(root, 'scripts/deploy.sh'), 'utf8'))![1]!.split(/\s+/);
    const stackSecrets = Object.keys(config().secrets).filter((name) => name.startsWith('marquee_db_password'));
    expect(stackSecrets).toHaveLength(3);
    for (const name of stackSecrets) expect(deploySecrets).toContain(name);
    const script = execFileSync('sh', [path.join(root, 'scripts/postgres/service-roles.sh'), '--sql'], {
      env: { ...process.env, ACCOUNT_DB_PASSWORD_FILE: passwordFile('pw-account'), API_V2_DB_PASSWORD_FILE: passwordFile('pw-api-v2') },
      encoding: 'utf8',
    });
    for (const { role, schema } of Object.values(SERVICE_DATABASES)) {
      expect(script).toContain(`CREATE SCHEMA ${schema} AUTHORIZATION ${role};`);
    }
    expect(script).toContain("CREATE ROLE marquee_account LOGIN PASSWORD 'pw-account';");
    expect(script).toContain("CREATE ROLE marquee_api_v2 LOGIN PASSWORD 'pw-api-v2';");
  });

  it('refuses a role password it cannot quote, rather than writing broken or injected SQL', () => {
    const res = spawnSync('sh', [path.join(root, 'scripts/postgres/service-roles.sh'), '--sql'], {
      env: { ...process.env, ACCOUNT_DB_PASSWORD_FILE: passwordFile("x'; drop role postgres; --"), API_V2_DB_PASSWORD_FILE: passwordFile('fine') },
      encoding: 'utf8',
    });
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/is empty or holds a quote or a backslash/);
  });
});

function passwordFile(value: string): string {
  const file = path.join(scratch, `pw-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, value, { mode: 0o600 });
  return file;
}

describe('static wiring check catches broken labels', () => {
  const cases: Array<[string, string | RegExp, string, RegExp]> = [
    ['a port label that does not match the listening port', 'api-v2-stable.loadbalancer.server.port: "3000"', 'api-v2-stable.loadbalancer.server.port: "3001"', /port label 3001 but api-v2 listens on 3000/],
    ['a TCP port label that does not match DEVICE_PORT', 'device-tcp.loadbalancer.server.port: "7000"', 'device-tcp.loadbalancer.server.port: "3000"', /port label 3000 but device-tcp listens on 7000/],
    ['a network label without the stack prefix', /(api-v1:[\s\S]*?)traefik\.swarm\.network: marquee_edge/, '$1traefik.swarm.network: edge', /api-v1: traefik.swarm.network "edge" lacks the stack prefix/],
    ['a router pointing at a missing service', 'routers.api-v1.service: api-v1', 'routers.api-v1.service: api-v1-typo', /router "api-v1": service "api-v1-typo" does not exist/],
    ['a missing middleware', 'api-v2-retry,api-v2-compress', 'api-v2-retry,api-v2-compresss', /middleware "api-v2-compresss" does not exist/],
    ['a router without entrypoints', /\n *traefik\.http\.routers\.api-v1\.entrypoints: websecure/, '', /router "api-v1": no entrypoints/],
    ['a router on an undefined entrypoint', 'routers.api-v2.entrypoints: websecure', 'routers.api-v2.entrypoints: webscure', /entrypoint "webscure" is not defined/],
    ['a router without a rule', /\n *traefik\.tcp\.routers\.devices\.rule: .*/, '', /tcp router "devices": no rule/],
    ['a missing serversTransport', 'serverstransport: pp@file', 'serverstransport: pp2@file', /serversTransport "pp2@file" does not exist/],
    ['Traefik on the data network', /(traefik:v3[\s\S]*?networks: )\[edge\]/, '$1[edge, data]', /Traefik shares it with postgres\/redis/],
    ['a start-first-less app service', /(api-v1:[\s\S]*?update_config: )\*update-start-first/, '$1{ order: stop-first, failure_action: rollback }', /api-v1: update_config.order is stop-first, expected start-first/],
    ['a stop grace period shorter than the drain', /stop_grace_period: 30s/, 'stop_grace_period: 10s', /device-tcp: stop_grace_period 10000 ms is not longer than its drain/],
    ['displays told to come back after the drain ended', 'DRAIN_RECONNECT_MAX_MS: "15000"', 'DRAIN_RECONNECT_MAX_MS: "30000"', /device-tcp: DRAIN_RECONNECT_MAX_MS 30000 ms does not end within its drain/],
    ['a PostgreSQL stopped with SIGTERM (smart shutdown)', /\n *stop_signal: SIGINT/, '', /postgres: stop_signal is SIGTERM, PostgreSQL needs SIGINT/],
    ['a password given inline', 'ADMIN_PASSWORD_FILE: /run/secrets/admin_password', 'ADMIN_PASSWORD: hunter2', /ADMIN_PASSWORD is set inline/],
    ['a console catch-all that would outrank /v1 and /v2', 'routers.console.priority: "1"', 'routers.console.priority: "100"', /http router "console": priority 100 does not rank below api-v1: http router "api-v1"/],
    ['a TLS device router moved onto the plain devices entrypoint', 'routers.devices-tls.entrypoints: devicestls', 'routers.devices-tls.entrypoints: devices', /entrypoint "devices": TLS TCP router\(s\) devices-tls share it with plain TCP router\(s\) devices/],
    ['the TLS devices port not published', /\n *- \{ target: 7443, published: 7443, protocol: tcp, mode: host \}/, '', /entrypoint "devicestls": port 7443 is not published by traefik/],
    ['ACME storage off the volume', /\n *- \{ type: volume, source: traefik-acme, target: \/acme \}/, '', /certificate resolver "le": storage \/acme\/acme.json is not on a volume of traefik/],
    ['a router naming a resolver that does not exist', 'routers.devices-tls.tls: "true"', 'routers.devices-tls.tls.certresolver: letsencrypt', /tcp router "devices-tls": certificate resolver "letsencrypt" is not defined/],
    ['a console catch-all left at the default priority', /\n *traefik\.http\.routers\.console\.priority: "1"/, '', /http router "console": catch-all rule without an explicit priority/],
  ];
  it.each(cases)('%s', (_name, find, replace, expected) => {
    const problems = check([mutated(find, replace)]);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('displays get a TLS TCP router on its own entrypoint, to device-tcp with PROXY v2, and a certificate from the ACME resolver', () => {
    const config = parseYaml(stackConfig([stackFile]).yaml) as { services: Record<string, { deploy: { labels: Record<string, string> } }> };
    const labels = config.services['device-tcp']!.deploy.labels;
    expect(labels).toMatchObject({
      'traefik.tcp.routers.devices-tls.rule': 'HostSNI(`*`)',
      'traefik.tcp.routers.devices-tls.entrypoints': 'devicestls',
      'traefik.tcp.routers.devices-tls.tls': 'true',
      'traefik.tcp.routers.devices-tls.service': 'device-tcp',
      'traefik.tcp.services.device-tcp.loadbalancer.serverstransport': 'pp@file',
    });
    const generated = (dynamic['tls.yml'] as { tls: { stores: { default: { defaultGeneratedCert: { resolver: string } } } } }).tls.stores.default.defaultGeneratedCert;
    expect(generated.resolver).toBe('le');
    expect((traefikStatic as { certificatesResolvers: Record<string, { acme: { tlsChallenge: unknown } }> }).certificatesResolvers.le!.acme.tlsChallenge).toBeDefined();
    // HTTP → HTTPS.
    expect((traefikStatic as { entryPoints: { web: { http: { redirections: { entryPoint: unknown } } } } }).entryPoints.web.http.redirections.entryPoint).toEqual({ to: 'websecure', scheme: 'https', permanent: 'true' });
  });

  it('catches a TLS store certificate from a resolver traefik.yml does not define, and TLS without any certificate', () => {
    const res = stackConfig([stackFile]);
    const noResolver = { ...dynamic, 'tls.yml': parseYaml(readFileSync(path.join(dynamicDir, 'tls.yml'), 'utf8').replace('resolver: le', 'resolver: acme')) };
    expect(checkStack({ stackName: 'marquee', stack: parseYaml(res.yaml), traefikStatic, dynamic: noResolver, stopFirst: STOP_FIRST })).toEqual([
      'tls.yml: TLS store "default" defaultGeneratedCert: certificate resolver "acme" is not defined in traefik.yml certificatesResolvers',
    ]);
    const { 'tls.yml': _dropped, ...noTls } = dynamic;
    expect(checkStack({ stackName: 'marquee', stack: parseYaml(res.yaml), traefikStatic, dynamic: noTls, stopFirst: STOP_FIRST })).toEqual([
      'TLS routers have no certificate source (certificate resolver, or a certificate in the file provider): Traefik would serve its self-signed default',
    ]);
  });

  it('catches a canary that points at a service no label declares', () => {
    const res = stackConfig([stackFile]);
    const broken = { ...dynamic, 'canary.yml': parseYaml(readFileSync(path.join(dynamicDir, 'canary.yml'), 'utf8').replace('api-v2-next@swarm', 'api-v2-nxt@swarm')) };
    const problems = checkStack({ stackName: 'marquee', stack: parseYaml(res.yaml), traefikStatic, dynamic: broken, stopFirst: STOP_FIRST });
    expect(problems).toEqual(['canary.yml: weighted service "api-v2-canary" refers to missing service "api-v2-nxt@swarm"']);
  });
});

describe('scripts/deploy.sh', () => {
  const deploy = path.join(root, 'scripts/deploy.sh');
  it('prints help and rejects bad options without touching an engine', () => {
    expect(execFileSync(deploy, ['--help'], { encoding: 'utf8' })).toMatch(/--canary PERCENT/);
    const bad = spawnSync(deploy, ['--canary', '150'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/0-100/);
    expect(execFileSync(deploy, ['--help'], { encoding: 'utf8' })).toMatch(/--domain NAME[\s\S]*--acme-email EMAIL[\s\S]*--tls-cert FILE[\s\S]*--tls-key FILE/);
    for (const [args, message] of [
      [['--domain', 'ads.example.com'], /--domain and --acme-email go together/],
      [['--domain', 'not a host', '--acme-email', 'ops@example.com'], /--domain must be a host name/],
      [['--domain', 'ads.example.com', '--acme-email', 'ops/@x'], /--acme-email must be an email address/],
      [['--tls-cert', '/nonexistent.crt'], /--tls-cert and --tls-key go together/],
      [['--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key'], /cannot read --tls-cert/],
    ] as const) {
      const res = spawnSync(deploy, [...args], { encoding: 'utf8' });
      expect({ args, status: res.status }).toEqual({ args, status: 1 });
      expect(res.stderr).toMatch(message);
    }
  });

  const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
  it.skipIf(!shellcheck)('is shellcheck clean (apt-get install shellcheck)', () => {
    const swarmScripts = readdirSync(path.join(root, 'scripts/swarm')).filter((f) => f.endsWith('.sh')).map((f) => path.join(root, 'scripts/swarm', f));
    const res = spawnSync('shellcheck', [deploy, ...swarmScripts, path.join(root, 'scripts/apt-get.sh'), path.join(root, 'scripts/postgres/service-roles.sh'), path.join(root, '.ci/run')], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
