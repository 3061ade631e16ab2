/** Helpers shared by the v1 suites: v1 calls through the edge, exact-shape checks, v2 fixtures. */
import { expect } from 'vitest';
import { api, signUpAndLogIn, type Session } from '../../../test/support/platform.ts';
import { uniqueName } from '../../../test/support/infra.ts';

export { api, signUpAndLogIn, type Session };

export const PASSWORD = 'a-long-enough-passphrase';

/** The start of the current hour when the suite loaded, so repeated calls agree. */
const HOUR_BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000;
export const hoursFromNow = (h: number) => new Date(HOUR_BASE + h * 3_600_000).toISOString();

/**
 * The JSON type of each member, e.g. `{status: 'number', message: 'string'}`: compared with
 * toEqual, it fails on any added, removed or retyped key — the v1 shapes are frozen by it.
 */
export function shapeOf(value: unknown): Record<string, string> {
  expect(value, 'expected a JSON object').toBeTypeOf('object');
  expect(value).not.toBeNull();
  expect(Array.isArray(value)).toBe(false);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v,
    ]),
  );
}

export const ORDER_SHAPE = {
  orderid: 'string',
  deviceid: 'string',
  start: 'string',
  end: 'string',
  status: 'string',
  price: 'integer',
  content: 'object',
};
export const V1_ERROR_SHAPE = { status: 'integer', message: 'string' };
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A v1 error: exact `{status:-1, message}` with a non-empty message and the given HTTP status. */
export function expectV1Error(res: { status: number; body: any; headers: Headers }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(shapeOf(res.body)).toEqual(V1_ERROR_SHAPE);
  expect(res.body.status).toBe(-1);
  expect(res.body.message.length).toBeGreaterThan(3);
}

export interface V1User {
  username: string;
  userid: string;
  token: string;
  auth: { authorization: string };
}

/** Signs up and logs in through v1. */
export async function v1User(v1: string): Promise<V1User> {
  const username = uniqueName('v1-');
  const signup = await api(v1, 'POST', '/signup', { username, password: PASSWORD });
  expect(signup.body).toMatchObject({ status: 0 });
  const login = await api(v1, 'POST', '/login', { username, password: PASSWORD });
  expect(login.body).toMatchObject({ status: 0 });
  return { username, userid: login.body.userid, token: login.body.token, auth: { authorization: `Bearer ${login.body.token}` } };
}

/** Registers and activates a display through v2 as the operator (content policy `auto` unless given: orders play at once). */
export async function activeDisplay(
  v2: string,
  operator: Session,
  o: { slotCount?: number; price?: number; address?: string; contentPolicy?: 'auto' | 'review' } = {},
) {
  const created = await api(
    v2,
    'POST',
    '/displays',
    {
      name: uniqueName('screen-'),
      location: { address: o.address ?? 'Alexanderplatz 1, Berlin', lat: 52.52, lng: 13.41 },
      timezone: 'Europe/Berlin',
      resolution: { widthPx: 1920, heightPx: 1080 },
      loop: { lengthMs: 60_000, slotCount: o.slotCount ?? 6 },
      pricePerSlotHour: o.price ?? 250,
      contentPolicy: o.contentPolicy ?? 'auto',
    },
    operator.auth,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id: string = created.body.display.id;
  const activated = await api(v2, 'POST', `/displays/${id}/activate`, undefined, operator.auth);
  expect(activated.status).toBe(200);
  return { id, name: created.body.display.name as string };
}
