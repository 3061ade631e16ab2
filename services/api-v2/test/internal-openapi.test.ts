/**
 * The internal port's routes are declared like the public ones (createRoute), with the kit's
 * contracts: requests are refused before any handler runs (same statuses as before), and the
 * internal OpenAPI document lists every internal route with those schemas. It is served on the
 * internal port only.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { createLogger, createMemoryBus, createMemoryCounterStore, createMetrics, type Sql } from '@marquee/service-kit';
import { describe, expect, it } from 'vitest';
import { createApiV2App, createApiV2InternalApp, type ApiV2Deps } from '../src/app.ts';
import { serviceCredentialHeader, suiteServiceSecrets } from '../../../test/support/infra.ts';

const deps: ApiV2Deps = {
  // Nothing here may reach the database: every request below is refused by its schema first.
  sql: (() => {
    throw new Error('the database was reached');
  }) as unknown as Sql,
  bus: createMemoryBus(),
  account: {} as never,
  verifier: { verify: async () => ({}) } as never,
  logger: createLogger('api-v2', 'silent'),
  metrics: createMetrics('api-v2'),
  publicBaseUrl: 'http://127.0.0.1/v2',
  holdTtlSeconds: 900,
  maxUploadBytes: 1024 * 1024,
  serviceSecrets: suiteServiceSecrets().secrets,
  credentialFailures: createMemoryCounterStore(),
  liveEvents: {} as never,
};
const internal = createApiV2InternalApp(deps);
const asDeviceTcp = serviceCredentialHeader('device-tcp');
const post = (path: string, body: string, type = 'application/json') => internal.request(path, { method: 'POST', headers: { 'content-type': type, ...asDeviceTcp }, body });
const INTERNAL_PATHS = [
  '/internal/displays/handshakes',
  '/internal/displays/authenticate',
  '/internal/displays/{id}/commands/pending',
  '/internal/presence',
  '/internal/commands/{id}/result',
  '/internal/displays/{id}/plays',
  '/internal/displays/{id}/playlist',
  '/internal/playlists/versions',
  '/internal/playlists',
  '/internal/displays/catalogue',
];

describe('internal routes', () => {
  it('/internal/openapi.json is valid OpenAPI 3.1, lists every internal route with the kit schemas, and only on the internal port', async () => {
    const res = await internal.request('/internal/openapi.json', { headers: asDeviceTcp });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)?.slice(0, 2000)).toEqual([]);
    expect(Object.keys(doc.paths).sort()).toEqual([...INTERNAL_PATHS].sort());
    for (const name of ['PlayRecord', 'PresenceEvent', 'HandshakeHello', 'HandshakeAnswer', 'CredentialCheck', 'Playlist', 'DeviceCommand', 'CommandResult', 'CatalogueDisplay']) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    const pub = createApiV2App(deps);
    expect((await pub.request('/internal/openapi.json')).status).toBe(404);
    const publicDoc = (await (await pub.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(publicDoc.paths).filter((p) => p.startsWith('/internal'))).toEqual([]);
  });

  it('refuses what the contracts refuse, with the statuses device-tcp relies on', async () => {
    const uuid = '00000000-0000-4000-8000-000000000001';
    const play = { playId: uuid, bookingId: 'b-1', creativeId: uuid, startedAt: '2030-01-01T00:00:00Z', durationMs: 1000 };
    const cases: [string, string, number, string?][] = [
      ['/internal/displays/handshakes', JSON.stringify({ hellos: [] }), 422],
      ['/internal/displays/handshakes', JSON.stringify({ hellos: [{ displayId: 'x'.repeat(65), secret: 's', playlistVersion: 0 }] }), 422],
      ['/internal/displays/handshakes', '{oops', 400],
      ['/internal/displays/handshakes', JSON.stringify({ hellos: [] }), 415, 'text/plain'],
      ['/internal/displays/authenticate', JSON.stringify({ displayId: 5 }), 422],
      ['/internal/presence', JSON.stringify({ events: [{ kind: 'exploded', displayId: uuid }] }), 422],
      ['/internal/presence', JSON.stringify({ events: [{ kind: 'seen', displayId: 'not-a-uuid', sessionId: 's', at: '2030-01-01T00:00:00Z', playlistVersion: 1 }] }), 422],
      [`/internal/commands/${uuid}/result`, JSON.stringify({ displayId: uuid, ok: true, completedAt: '2030-01-01T00:00:00Z' }), 422],
      [`/internal/displays/not-a-uuid/plays`, JSON.stringify({ plays: [play] }), 422],
      [`/internal/displays/${uuid}/plays`, JSON.stringify({ plays: [] }), 422],
      ['/internal/playlists', JSON.stringify({ displayIds: [] }), 422],
      ['/internal/playlists/versions', JSON.stringify({ displayIds: 'all' }), 422],
    ];
    for (const [path, body, status, type] of cases) {
      const res = await post(path, body, type);
      expect(res.status, `${path} ${body}`).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await internal.request('/internal/displays/not-a-uuid/commands/pending', { headers: asDeviceTcp })).status).toBe(422);
  });
});
