/**
 * v1 with api-v2 down, through the edge: GET /v1/devices answers its last good copy (stale),
 * writes fail with a v1 error instead of hanging, and once a new api-v2 listens on the same ports
 * everything works again without restarting api-v1. (How long the copy waits for api-v2 before it
 * is served is tested with a fake clock in catalogue-cache.test.ts.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadApiV1Config, startApiV1 } from '@marquee/api-v1';
import { startEdgePlatform, type EdgePlatform } from '../../../test/support/edge-platform.ts';
import { activeDisplay, api, expectV1Error, hoursFromNow, PASSWORD, signUpAndLogIn, v1User, type V1User } from './v1-fixtures.ts';
import { suiteServiceSecrets } from '../../../test/support/infra.ts';

let ep: EdgePlatform;
let display: { id: string };
let alice: V1User;
let orderId: string;

beforeAll(async () => {
  ep = await startEdgePlatform('api_v1_degraded');
  const operator = await signUpAndLogIn(ep.v2, 'operator');
  display = await activeDisplay(ep.v2, operator);
  alice = await v1User(ep.v1);
  const made = await api(ep.v1, 'POST', '/orders', { deviceid: display.id, start: hoursFromNow(2), end: hoursFromNow(3), content: { type: 'text', text: 'hi' } }, alice.auth);
  expect(made.status).toBe(200);
  orderId = made.body.orderid;
});
afterAll(async () => {
  await ep?.close();
});

it('serves stale devices, fails writes with a v1 error while api-v2 is down, and recovers when it returns', async () => {
  const warm = await api(ep.v1, 'GET', '/devices');
  expect(warm.status).toBe(200);
  expect(warm.headers.get('warning')).toBeNull();
  expect(warm.headers.get('age')).toBeNull();
  expect(warm.body.map((d: any) => d.deviceid)).toContain(display.id);

  await ep.stopApiV2();

  // Reads: the last good copy, marked stale.
  for (let i = 0; i < 10; i++) {
    const res = await api(ep.v1, 'GET', '/devices');
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toBe('110 - "Response is Stale"');
    expect(res.headers.get('age')).toMatch(/^\d+$/);
    expect(res.headers.get('deprecation')).toBe('@1767225600');
    expect(res.body).toEqual(warm.body);
  }

  // Writes and order reads: a clear v1 error (503), never a hang.
  const calls: [string, string, unknown?][] = [
    ['POST', '/orders', { deviceid: display.id, start: hoursFromNow(4), end: hoursFromNow(5), content: { type: 'text', text: 'x' } }],
    ['PUT', `/orders/${orderId}/content`, { type: 'text', text: 'new' }],
    ['DELETE', `/orders/${orderId}`],
    ['GET', '/orders'],
    ['GET', `/orders/${orderId}`],
  ];
  for (const [method, path, body] of calls) {
    const res = await api(ep.v1, method, path, body, alice.auth);
    expectV1Error(res, 503);
    expect(res.body.message).toMatch(/api-v2/);
  }
  // The account service is still up: v1 login keeps working.
  expect((await api(ep.v1, 'POST', '/login', { username: alice.username, password: PASSWORD })).body.status).toBe(0);
  expect((await api(ep.apiV1.url, 'GET', '/readyz')).status).toBe(503);
  const metrics = await (await fetch(`${ep.apiV1.url}/metrics`)).text();
  expect(Number(/^api_v1_devices_stale_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);

  // api-v2 comes back on the same ports; api-v1 is not restarted. Its breakers let a trial call
  // through 1 s after the last failure, so both paths come back by themselves.
  await ep.restartApiV2();
  const back = Date.now();
  const until = async (ok: () => Promise<boolean>) => {
    while (!(await ok())) {
      if (Date.now() - back > 15_000) throw new Error('api-v1 did not recover within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until(async () => (await api(ep.v1, 'GET', '/devices')).headers.get('warning') === null);
  await until(async () => (await api(ep.v1, 'GET', '/orders', undefined, alice.auth)).status === 200);
  const retry = await api(ep.v1, 'POST', '/orders', calls[0]![2], alice.auth);
  expect(retry.status, JSON.stringify(retry.body)).toBe(200);
  expect((await api(ep.v1, 'PUT', `/orders/${orderId}/content`, { type: 'text', text: 'new' }, alice.auth)).body.content).toEqual({ type: 'text', text: 'new' });
  expect((await api(ep.v1, 'GET', '/orders', undefined, alice.auth)).body).toHaveLength(2);
});

it('without any copy yet, GET /devices answers 503 with Retry-After while api-v2 is down', async () => {
  await ep.stopApiV2();
  try {
    const cold = await startApiV1(
      loadApiV1Config({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        ...suiteServiceSecrets().env,
        ACCOUNT_URL: ep.platform.account.url,
        API_V2_URL: ep.platform.apiV2.url,
        API_V2_INTERNAL_URL: ep.apiV2InternalUrl,
      }),
    );
    try {
      const res = await api(cold.url, 'GET', '/devices');
      expectV1Error(res, 503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await cold.close();
    }
  } finally {
    await ep.restartApiV2();
  }
});
