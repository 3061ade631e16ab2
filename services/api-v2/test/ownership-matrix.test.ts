/**
 * Every object route in /openapi.json, tried by users who do not own the object. Another user's
 * object must answer exactly as a nonexistent one would (never 2xx), and a peer of the owner's
 * role must get 404 — so ids never leak. A route added without a fixture here fails the test.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PNG_1X1, createUpload, sha256Hex } from './media-fixtures.ts';
import { api, request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session } from '../../../test/support/platform.ts';

let h: ApiV2TestApp;
let owners: { operator: Session; advertiser: Session };
let intruders: { operator: Session; advertiser: Session };
const ids: Record<string, string> = {};
let intruderCreative: string;

beforeAll(async () => {
  h = await startApiV2TestApp('v2matrix');
  const [opA, opB, advA, advB] = [h.user('operator'), h.user('operator'), h.user('advertiser'), h.user('advertiser')];
  owners = { operator: opA, advertiser: advA };
  intruders = { operator: opB, advertiser: advB };
  const display = (name: string) =>
    api(
      h.v2,
      'POST',
      '/displays',
      { name, location: { lat: 1, lng: 2 }, timezone: 'UTC', resolution: { widthPx: 800, heightPx: 600 }, loop: { lengthMs: 60_000, slotCount: 6 }, pricePerSlotHour: 10 },
      opA.auth,
    );
  // A pending display is not in the public catalogue: only its operator (and admins) may see it.
  ids.pendingDisplay = (await display('pending')).body.display.id;
  const active = (await display('active')).body.display.id;
  await api(h.v2, 'POST', `/displays/${active}/activate`, undefined, opA.auth);
  ids.command = (await api(h.v2, 'POST', `/displays/${ids.pendingDisplay}/commands`, { kind: 'reload' }, opA.auth)).body.id;
  const creative = (who: Session) => api(h.v2, 'POST', '/creatives', { name: 'c', type: 'text', body: 'hi', durationMs: 5_000 }, who.auth);
  ids.creative = (await creative(advA)).body.id;
  intruderCreative = (await creative(advB)).body.id;
  const booking = await api(
    h.v2,
    'POST',
    '/bookings',
    { displayIds: [active], creativeId: ids.creative, startsAt: new Date(Date.now() + 60_000).toISOString(), endsAt: new Date(Date.now() + 3_660_000).toISOString() },
    { ...advA.auth, 'idempotency-key': randomUUID() },
  );
  expect(booking.status).toBe(201);
  ids.booking = booking.body.id;
  // Confirmed on a display that reviews content (the default): a pending approval in opA's queue.
  expect((await api(h.v2, 'POST', `/bookings/${ids.booking}/confirm`, undefined, advA.auth)).status).toBe(200);
  ids.approval = (await api(h.v2, 'GET', '/approvals?state=pending', undefined, opA.auth)).body.items[0].id;
  expect((await api(h.v2, 'POST', '/trusted-advertisers', { advertiserId: advB.userId }, opA.auth)).status).toBe(200);
  ids.trusted = advB.userId;
  ids.emergency = (await api(h.v2, 'POST', '/emergencies', { displayIds: [ids.pendingDisplay], message: 'Closed today' }, opA.auth)).body.id;
  ids.upload = (await createUpload(h.v2, advA.auth, { contentType: 'image/png', totalBytes: PNG_1X1.length, sha256: sha256Hex(PNG_1X1) })).body.id;
});
afterAll(async () => h?.close());

const window = `from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;

/** How to call each object route on a given object id: the owner, the object's id, a valid body. */
function fixture(method: string, path: string): { owner: 'operator' | 'advertiser'; id: string; url: (id: string) => string; body?: unknown; headers?: Record<string, string>; raw?: Buffer } | null {
  const key = `${method.toUpperCase()} ${path}`;
  const at = (template: string) => (id: string) => template.replace('{id}', id).replace('{commandId}', ids.command!);
  switch (key) {
    case 'GET /displays/{id}':
    case 'POST /displays/{id}/activate':
    case 'POST /displays/{id}/disable':
    case 'POST /displays/{id}/credentials':
    case 'GET /displays/{id}/commands':
    case 'GET /displays/{id}/commands/{commandId}':
      return { owner: 'operator', id: ids.pendingDisplay!, url: at(path) };
    case 'PATCH /displays/{id}':
      return { owner: 'operator', id: ids.pendingDisplay!, url: at(path), body: { name: 'renamed' } };
    case 'POST /displays/{id}/commands':
      return { owner: 'operator', id: ids.pendingDisplay!, url: at(path), body: { kind: 'reload' } };
    case 'GET /displays/{id}/play-rejections':
      return { owner: 'operator', id: ids.pendingDisplay!, url: at(path) };
    case 'GET /displays/{id}/availability':
      return { owner: 'operator', id: ids.pendingDisplay!, url: (id) => `/displays/${id}/availability?${window}` };
    case 'GET /bookings/{id}':
    case 'POST /bookings/{id}/confirm':
    case 'POST /bookings/{id}/cancel':
      return { owner: 'advertiser', id: ids.booking!, url: at(path) };
    case 'PATCH /bookings/{id}':
      return { owner: 'advertiser', id: ids.booking!, url: at(path), body: { creativeId: intruderCreative } };
    case 'GET /bookings/{id}/plays':
      return { owner: 'advertiser', id: ids.booking!, url: (id) => `/bookings/${id}/plays?${window}` };
    case 'GET /creatives/{id}':
      return { owner: 'advertiser', id: ids.creative!, url: at(path) };
    case 'PATCH /creatives/{id}':
      return { owner: 'advertiser', id: ids.creative!, url: at(path), body: { name: 'renamed' } };
    case 'GET /uploads/{id}':
    case 'HEAD /uploads/{id}':
    case 'DELETE /uploads/{id}':
    case 'POST /uploads/{id}/complete':
      return { owner: 'advertiser', id: ids.upload!, url: at(path) };
    case 'PUT /uploads/{id}':
      return {
        owner: 'advertiser',
        id: ids.upload!,
        url: at(path),
        raw: PNG_1X1,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `bytes 0-${PNG_1X1.length - 1}/${PNG_1X1.length}` },
      };
    case 'POST /approvals/{id}/approve':
      return { owner: 'operator', id: ids.approval!, url: at(path) };
    case 'POST /approvals/{id}/reject':
      return { owner: 'operator', id: ids.approval!, url: at(path), body: { reason: 'not here' } };
    case 'DELETE /trusted-advertisers/{advertiserId}':
      return { owner: 'operator', id: ids.trusted!, url: (id) => `/trusted-advertisers/${id}` };
    case 'POST /emergencies/{id}/clear':
      return { owner: 'operator', id: ids.emergency!, url: at(path) };
    default:
      return null;
  }
}

async function call(method: string, url: string, who: Session, f: NonNullable<ReturnType<typeof fixture>>) {
  const res = await request(h.v2, url, {
    method,
    headers: { ...who.auth, ...(f.body !== undefined ? { 'content-type': 'application/json' } : {}), ...f.headers },
    body: f.raw ?? (f.body !== undefined ? JSON.stringify(f.body) : undefined),
  });
  await res.arrayBuffer();
  return res.status;
}

it('covers every object route, and other users get what a nonexistent id gets (404 for peers)', async () => {
  const doc = (await api(h.v2, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths)
    .filter(([path]) => path.includes('{') && !path.startsWith('/media/')) // media is public by design: content-addressed
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
  expect(routes.length).toBeGreaterThanOrEqual(15);
  const missing = routes.filter((r) => !fixture(r.method, r.path)).map((r) => `${r.method} ${r.path}`);
  expect(missing, 'object routes without an ownership fixture').toEqual([]);

  const checked: string[] = [];
  for (const { method, path } of routes) {
    const f = fixture(method, path)!;
    // The fixture is right: reads by the owner succeed.
    if (method === 'GET') expect(await call(method, f.url(f.id), owners[f.owner], f), `${method} ${path} as owner`).toBe(200);
    for (const role of ['operator', 'advertiser'] as const) {
      const intruder = intruders[role];
      const other = await call(method, f.url(f.id), intruder, f);
      const nonexistent = await call(method, f.url(randomUUID()), intruder, f);
      const label = `${method} ${path} as another ${role}`;
      expect(other, label).toBeGreaterThanOrEqual(400);
      expect(other, `${label}: must look like a nonexistent id`).toBe(nonexistent);
      if (role === f.owner) expect(other, label).toBe(404);
      checked.push(`${label} → ${other}`);
    }
  }
  expect(checked.length).toBe(routes.length * 2);
  console.info(`${routes.length} object routes checked:\n${checked.join('\n')}`);
}, 60_000);
