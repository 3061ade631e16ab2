/**
 * Every internal endpoint, generated from the caller→endpoint table (INTERNAL_ENDPOINTS), is called
 * over real sockets without a credential, with wrong ones and as every caller the table does not
 * allow: 401/403 problem+json each time, and the database reads back unchanged afterwards. The
 * table itself must list every route the internal apps serve.
 */
import { randomUUID } from 'node:crypto';
import {
  INTERNAL_ENDPOINTS,
  SERVICE_CALLERS,
  callersOf,
  SERVICE_CREDENTIAL_HEADER,
  createLogger,
  createMemoryBus,
  createMemoryCounterStore,
  createMetrics,
  type EndpointKey,
  type InternalListener,
  type ServiceCaller,
  type Sql,
} from '@marquee/service-kit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountApp } from '../../services/account/src/app.ts';
import { loadSigningKeys } from '../../services/account/src/signing-keys.ts';
import { createApiV2InternalApp } from '../../services/api-v2/src/app.ts';
import { loadDeviceTcpConfig, startDeviceTcp, type RunningDeviceTcp } from '@marquee/device-tcp';
import { generateSigningKeyPem, serviceCredentialHeader, suiteServiceSecrets } from '../support/infra.ts';
import { api, createDisplay, deviceTcpEnv, signUpAndLogIn, startTestPlatform, type TestPlatform } from '../support/platform.ts';

let p: TestPlatform;
let device: RunningDeviceTcp;
let db: postgres.Sql;
let displayId: string;
let commandId: string;
const now = () => new Date().toISOString();

/**
 * A request for each endpoint that would change or reveal something if it were let through (a
 * real display, a real pending command). A new endpoint without a sample fails the suite.
 */
function sample(key: EndpointKey): { path: string; body?: unknown } {
  const samples: Record<string, { path: string; body?: unknown }> = {
    'GET /readyz': { path: '/readyz' },
    'GET /metrics': { path: '/metrics' },
    'GET /internal/openapi.json': { path: '/internal/openapi.json' },
    'POST /internal/displays/handshakes': { path: '/internal/displays/handshakes', body: { hellos: [{ displayId, secret: 'x', playlistVersion: 0 }] } },
    'POST /internal/displays/authenticate': { path: '/internal/displays/authenticate', body: { displayId, secret: 'x' } },
    'GET /internal/displays/{id}/commands/pending': { path: `/internal/displays/${displayId}/commands/pending` },
    'GET /internal/displays/{id}/playlist': { path: `/internal/displays/${displayId}/playlist` },
    'POST /internal/playlists/versions': { path: '/internal/playlists/versions', body: { displayIds: [displayId] } },
    'POST /internal/playlists': { path: '/internal/playlists', body: { displayIds: [displayId] } },
    'POST /internal/presence': {
      path: '/internal/presence',
      body: { events: [{ kind: 'connected', displayId, sessionId: 's-1', instanceId: 'forged', at: now(), remoteAddress: '10.0.0.1', playlistVersion: 999 }] },
    },
    'POST /internal/displays/{id}/plays': {
      path: `/internal/displays/${displayId}/plays`,
      body: { plays: [{ playId: randomUUID(), bookingId: randomUUID(), creativeId: randomUUID(), startedAt: now(), durationMs: 1000 }] },
    },
    'POST /internal/commands/{id}/result': {
      path: `/internal/commands/${commandId}/result`,
      body: { displayId, commandId, ok: true, result: { screenshot: 'forged' }, completedAt: now() },
    },
    'GET /internal/displays/catalogue': { path: '/internal/displays/catalogue' },
    'POST /signup': { path: '/signup', body: { username: `forged-${randomUUID().slice(0, 8)}`, password: 'a-long-enough-passphrase', accountType: 'advertiser' } },
    'POST /login': { path: '/login', body: { username: 'nobody', password: 'a-long-enough-passphrase' } },
    'POST /refresh': { path: '/refresh', body: { refreshToken: 'x'.repeat(40) } },
    'POST /logout': { path: '/logout', body: { refreshToken: 'x'.repeat(40) } },
    'GET /me': { path: '/me' },
    'GET /.well-known/jwks.json': { path: '/.well-known/jwks.json' },
  };
  const found = samples[key];
  if (!found) throw new Error(`no sample request for ${key}: add one so the endpoint is tested`);
  return found;
}

function baseUrl(listener: InternalListener): string {
  return { 'api-v2-internal': p.apiV2.internalUrl, account: p.account.url, 'device-tcp-ops': device.url }[listener];
}

/** Every row of every table, as one digest per table: what "nothing changed" means here. */
async function snapshot(): Promise<Record<string, string>> {
  const tables = await db<{ name: string }[]>`select tablename as name from pg_tables where schemaname = 'public' order by 1`;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db.unsafe(`select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from "${name}" t`);
    out[name] = `${row!.n}:${row!.h}`;
  }
  return out;
}

beforeAll(async () => {
  p = await startTestPlatform('internal-credentials');
  device = await startDeviceTcp(loadDeviceTcpConfig(deviceTcpEnv(p)));
  db = postgres(p.db.url, { max: 1, onnotice: () => {} });
  const operator = await signUpAndLogIn(p.apiV2.url, 'operator');
  ({ id: displayId } = await createDisplay(p.apiV2.url, operator.auth, {}, { activate: true }));
  const command = await api(p.apiV2.url, 'POST', `/displays/${displayId}/commands`, { kind: 'reload' }, operator.auth);
  expect(command.status).toBe(202);
  commandId = command.body.id;
}, 60_000);

afterAll(async () => {
  await db?.end();
  await device?.close();
  await p?.close();
});

const endpoints = Object.entries(INTERNAL_ENDPOINTS).flatMap(([listener, table]) =>
  Object.entries(table).map(([key, allowed]) => ({ listener: listener as InternalListener, key: key as EndpointKey, allowed: allowed as readonly ServiceCaller[] })),
);

describe('every internal endpoint refuses callers without the right credential, and changes nothing', () => {
  it.each(endpoints)('$listener $key', async ({ listener, key, allowed }) => {
    const { path, body } = sample(key);
    const method = key.split(' ')[0]!;
    const secrets = suiteServiceSecrets().secrets;
    const refusedCallers = SERVICE_CALLERS.filter((c) => !allowed.includes(c));
    const attempts: { label: string; headers: Record<string, string>; status: number }[] = [
      { label: 'no credential', headers: {}, status: 401 },
      { label: 'an empty credential', headers: { [SERVICE_CREDENTIAL_HEADER]: '' }, status: 401 },
      { label: 'a secret without a caller', headers: { [SERVICE_CREDENTIAL_HEADER]: secrets[allowed[0]!] }, status: 401 },
      { label: 'an unknown caller', headers: { [SERVICE_CREDENTIAL_HEADER]: `console:${secrets[allowed[0]!]}` }, status: 401 },
      ...allowed.map((c) => ({ label: `${c} with a wrong secret`, headers: { [SERVICE_CREDENTIAL_HEADER]: `${c}:${secrets[c]}x` }, status: 401 })),
      // Another caller's secret under an allowed caller's name is a wrong secret.
      ...refusedCallers.map((c) => ({ label: `${allowed[0]} with ${c}'s secret`, headers: { [SERVICE_CREDENTIAL_HEADER]: `${allowed[0]}:${secrets[c]}` }, status: 401 })),
      // A caller this listener has a secret for is known (403); one it has none for is not (401).
      ...refusedCallers.map((c) => ({ label: `${c} (not allowed here)`, headers: serviceCredentialHeader(c), status: callersOf(listener).includes(c) ? 403 : 401 })),
    ];
    const before = await snapshot();
    for (const attempt of attempts) {
      const res = await api(baseUrl(listener), method, path, body, attempt.headers);
      expect(res.status, `${key} with ${attempt.label}`).toBe(attempt.status);
      expect(res.headers.get('content-type'), `${key} with ${attempt.label}`).toBe('application/problem+json');
      if (res.status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Service /);
    }
    expect(await snapshot()).toEqual(before);
    // The same request with an allowed caller's credential gets past the guard.
    const allowedRes = await api(baseUrl(listener), method, path, body, serviceCredentialHeader(allowed[0]!));
    const label = `${key} as ${allowed[0]}: ${allowedRes.status} ${JSON.stringify(allowedRes.body)?.slice(0, 200)}`;
    expect(allowedRes.status, label).not.toBe(403);
    expect(allowedRes.headers.get('www-authenticate') ?? '', label).not.toMatch(/^Service /);
  });

  it('GET /healthz stays open on every internal listener', async () => {
    for (const listener of Object.keys(INTERNAL_ENDPOINTS) as InternalListener[]) {
      expect((await fetch(`${baseUrl(listener)}/healthz`)).status, listener).toBe(200);
    }
  });
});

describe('the table lists every route the internal apps serve', () => {
  const routesOf = (app: { routes: { method: string; path: string }[] }) =>
    [...new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`))].sort();
  const noDb = (() => {
    throw new Error('not used');
  }) as unknown as Sql;
  const common = { logger: createLogger('test', 'silent'), metrics: createMetrics('test') };

  it("api-v2's internal port", () => {
    const app = createApiV2InternalApp({
      ...common,
      sql: noDb,
      bus: createMemoryBus(),
      account: {} as never,
      verifier: {} as never,
      publicBaseUrl: 'http://x',
      holdTtlSeconds: 900,
      maxUploadBytes: 1024,
      serviceSecrets: {},
      credentialFailures: createMemoryCounterStore(),
      liveEvents: {} as never,
    });
    expect(routesOf(app).filter((r) => r !== 'GET /healthz')).toEqual(Object.keys(INTERNAL_ENDPOINTS['api-v2-internal']).sort());
  });

  it('the account service', () => {
    const app = createAccountApp({
      ...common,
      sql: noDb,
      keys: loadSigningKeys(generateSigningKeyPem()),
      failureCounters: createMemoryCounterStore(),
      limits: { maxPerUser: 5, maxPerAddress: 30, windowSeconds: 900 },
      accessTtlSeconds: 900,
      refreshTtlSeconds: 3600,
      serviceSecrets: {},
    });
    expect(routesOf(app).filter((r) => r !== 'GET /healthz')).toEqual(Object.keys(INTERNAL_ENDPOINTS.account).sort());
  });
});
