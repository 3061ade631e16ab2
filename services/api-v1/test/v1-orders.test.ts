/**
 * v1 orders end to end through the edge, and interop with v2: an order made through v1 is a v2
 * booking and the reverse; a v1 content edit bumps the playlist version and announces it on Redis
 * (playlist.changed or playlist.delta) exactly as a v2 creative swap does.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { busChannel } from '@marquee/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgePlatform, type EdgePlatform } from '../../../test/support/edge-platform.ts';
import { PLAYLIST_TOPICS, announcedVersions } from '../../../test/support/playlist-announcements.ts';
import {
  activeDisplay,
  api,
  expectV1Error,
  hoursFromNow,
  ORDER_SHAPE,
  shapeOf,
  signUpAndLogIn,
  UUID,
  v1User,
  type Session,
  type V1User,
} from './v1-fixtures.ts';

let ep: EdgePlatform;
let operator: Session;
let display: { id: string };
let single: { id: string };
let alice: V1User;
let bob: V1User;
let redis: Redis;
const published: { displayId: string; version: number }[] = [];

beforeAll(async () => {
  ep = await startEdgePlatform('api_v1_orders');
  operator = await signUpAndLogIn(ep.v2, 'operator');
  display = await activeDisplay(ep.v2, operator, { price: 300 });
  single = await activeDisplay(ep.v2, operator, { slotCount: 1, price: 100 });
  [alice, bob] = await Promise.all([v1User(ep.v1), v1User(ep.v1)]);
  redis = new Redis(ep.platform.redisUrl);
  await redis.subscribe(...PLAYLIST_TOPICS.map((t) => busChannel(ep.platform.busPrefix, t)));
  redis.on('message', (_topic, payload) => published.push(...announcedVersions(JSON.parse(payload))));
});
afterAll(async () => {
  await redis?.quit();
  await ep?.close();
});

const order = (user: V1User, body: unknown) => api(ep.v1, 'POST', '/orders', body, user.auth);
const playlistVersion = async (displayId: string) =>
  (await api(ep.v2, 'GET', `/displays/${displayId}`, undefined, operator.auth)).body.presence.playlistVersion as number;
const messagesFor = (displayId: string) => published.filter((m) => m.displayId === displayId);

async function waitFor(check: () => boolean, ms = 3_000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectOrderShape(o: any) {
  expect(shapeOf(o)).toEqual(ORDER_SHAPE);
  expect(o.orderid).toMatch(UUID);
  expect(o.deviceid).toMatch(UUID);
  expect(['pending', 'confirmed', 'cancelled', 'expired']).toContain(o.status);
  expect(Number.isNaN(Date.parse(o.start))).toBe(false);
  expect(Number.isNaN(Date.parse(o.end))).toBe(false);
  if (o.content.type === 'text') expect(shapeOf(o.content)).toEqual({ type: 'string', text: 'string' });
  else if (o.content.type === 'image') expect(shapeOf(o.content)).toEqual({ type: 'string', url: 'string' });
  else expect(shapeOf(o.content)).toEqual({ type: 'string', name: 'string' });
}

describe('POST /v1/orders', () => {
  it('books and confirms one slot at once; the order is a booked v2 booking with a text creative', async () => {
    const res = await order(alice, { deviceid: display.id, start: hoursFromNow(2), end: hoursFromNow(4), content: { type: 'text', text: 'Fresh bread daily' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectOrderShape(res.body);
    expect(res.body).toEqual({
      orderid: res.body.orderid,
      deviceid: display.id,
      start: hoursFromNow(2),
      end: hoursFromNow(4),
      status: 'confirmed',
      price: 600,
      content: { type: 'text', text: 'Fresh bread daily' },
    });

    const v2Login = await api(ep.v2, 'POST', '/auth/login', { username: alice.username, password: 'a-long-enough-passphrase' });
    const v2Auth = { authorization: `Bearer ${v2Login.body.accessToken}` };
    const booking = await api(ep.v2, 'GET', `/bookings/${res.body.orderid}`, undefined, v2Auth);
    expect(booking.status).toBe(200);
    expect(booking.body).toMatchObject({
      advertiserId: alice.userid,
      status: 'booked',
      startsAt: hoursFromNow(2),
      endsAt: hoursFromNow(4),
      priceTotal: 600,
      displays: [{ displayId: display.id }],
    });
    const creative = await api(ep.v2, 'GET', `/creatives/${booking.body.creativeId}`, undefined, v2Auth);
    expect(creative.body).toMatchObject({ type: 'text', body: 'Fresh bread daily', durationMs: 10_000 });
  });

  it('turns an image URL into an html creative that shows it, and reads it back as {type:"image", url}', async () => {
    const url = 'https://cdn.example.com/ads/bread.png?size=large&v="2"';
    const res = await order(alice, { deviceid: display.id, start: hoursFromNow(5), end: hoursFromNow(6), content: { type: 'image', url } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectOrderShape(res.body);
    // The URL is kept as sent (v1 never rewrites content) and escaped inside the html.
    expect(res.body.content).toEqual({ type: 'image', url });

    const booking = await api(ep.v2, 'GET', `/bookings/${res.body.orderid}`, undefined, alice.auth);
    const creative = await api(ep.v2, 'GET', `/creatives/${booking.body.creativeId}`, undefined, alice.auth);
    expect(creative.body.type).toBe('html');
    expect(creative.body.body).toContain(`<img`);
    expect(creative.body.body).toContain(`src="https://cdn.example.com/ads/bread.png?size=large&amp;v=&quot;2&quot;"`);
    expect((await api(ep.v1, 'GET', `/orders/${res.body.orderid}`, undefined, alice.auth)).body.content).toEqual({ type: 'image', url });
  });

  it('answers 409 in v1 style when the slot is taken, and leaves no hold behind', async () => {
    const body = { deviceid: single.id, start: hoursFromNow(7), end: hoursFromNow(8), content: { type: 'text', text: 'first' } };
    expect((await order(alice, body)).status).toBe(200);
    const taken = await order(bob, { ...body, content: { type: 'text', text: 'second' } });
    expectV1Error(taken, 409);
    const bobs = await api(ep.v1, 'GET', '/orders', undefined, bob.auth);
    expect(bobs.body).toEqual([]);
  });

  it('on a review display: the same confirmed order, but its content waits for the operator’s approval', async () => {
    const review = await activeDisplay(ep.v2, operator, { contentPolicy: 'review' });
    const res = await order(alice, { deviceid: review.id, start: hoursFromNow(2), end: hoursFromNow(4), content: { type: 'text', text: 'Needs a look' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectOrderShape(res.body);
    expect(res.body.status).toBe('confirmed');
    const seen = await api(ep.v2, 'GET', `/bookings/${res.body.orderid}`, undefined, operator.auth);
    expect(seen.body.displays[0]).toMatchObject({ approval: { state: 'pending', reason: null }, shownCreativeId: null });
    const queue = await api(ep.v2, 'GET', '/approvals?state=pending', undefined, operator.auth);
    const waiting = queue.body.items.find((a: { creativeId: string }) => a.creativeId === seen.body.creativeId);
    expect(waiting).toMatchObject({ state: 'pending', creative: { body: 'Needs a look' } });
    expect((await api(ep.v2, 'POST', `/approvals/${waiting.id}/approve`, undefined, operator.auth)).status).toBe(200);
    const after = await api(ep.v2, 'GET', `/bookings/${res.body.orderid}`, undefined, operator.auth);
    expect(after.body.displays[0]).toMatchObject({ approval: { state: 'approved' }, shownCreativeId: seen.body.creativeId });
    // v1 still reads the order exactly as before.
    const read = await api(ep.v1, 'GET', `/orders/${res.body.orderid}`, undefined, alice.auth);
    expectOrderShape(read.body);
  });

  it('answers 404 for an unknown or inactive device', async () => {
    const res = await order(alice, { deviceid: randomUUID(), start: hoursFromNow(2), end: hoursFromNow(3), content: { type: 'text', text: 'x' } });
    expectV1Error(res, 404);
    expect(res.body.message).toBe('no such device');
  });
});

describe('GET /v1/orders and /v1/orders/{id}', () => {
  it("lists a v2 booking (hold + confirm) among the user's orders, and only the user's", async () => {
    const creative = await api(ep.v2, 'POST', '/creatives', { name: 'v2 made', type: 'text', body: 'Made in v2', durationMs: 5_000 }, bob.auth);
    expect(creative.status).toBe(201);
    const hold = await api(
      ep.v2,
      'POST',
      '/bookings',
      { displayIds: [display.id], creativeId: creative.body.id, startsAt: hoursFromNow(9), endsAt: hoursFromNow(10) },
      { ...bob.auth, 'idempotency-key': randomUUID() },
    );
    expect(hold.status).toBe(201);
    const confirmed = await api(ep.v2, 'POST', `/bookings/${hold.body.id}/confirm`, undefined, bob.auth);
    expect(confirmed.body.status).toBe('booked');

    const list = await api(ep.v1, 'GET', '/orders', undefined, bob.auth);
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    list.body.forEach(expectOrderShape);
    expect(list.body).toEqual([
      { orderid: hold.body.id, deviceid: display.id, start: hoursFromNow(9), end: hoursFromNow(10), status: 'confirmed', price: 300, content: { type: 'text', text: 'Made in v2' } },
    ]);
    const one = await api(ep.v1, 'GET', `/orders/${hold.body.id}`, undefined, bob.auth);
    expect(one.body).toEqual(list.body[0]);

    // Alice cannot see Bob's order: 404, as if it did not exist.
    expectV1Error(await api(ep.v1, 'GET', `/orders/${hold.body.id}`, undefined, alice.auth), 404);
    const alices = await api(ep.v1, 'GET', '/orders', undefined, alice.auth);
    expect(alices.body.map((o: any) => o.orderid)).not.toContain(hold.body.id);
    alices.body.forEach(expectOrderShape);
  });

  it('shows a held v2 booking as pending and v2-only content as {type:"other", name}', async () => {
    const html = await api(ep.v2, 'POST', '/creatives', { name: 'fancy html', type: 'html', body: '<h1>hi</h1>', durationMs: 5_000 }, bob.auth);
    const hold = await api(
      ep.v2,
      'POST',
      '/bookings',
      { displayIds: [display.id], creativeId: html.body.id, startsAt: hoursFromNow(11), endsAt: hoursFromNow(12) },
      { ...bob.auth, 'idempotency-key': randomUUID() },
    );
    const res = await api(ep.v1, 'GET', `/orders/${hold.body.id}`, undefined, bob.auth);
    expectOrderShape(res.body);
    expect(res.body).toMatchObject({ status: 'pending', content: { type: 'other', name: 'fancy html' } });
  });

  it('accepts the token as a bare "token" header too; refuses a missing or bad token with 401', async () => {
    const viaHeader = await api(ep.v1, 'GET', '/orders', undefined, { token: alice.token });
    expect(viaHeader.status).toBe(200);
    expectV1Error(await api(ep.v1, 'GET', '/orders'), 401);
    expectV1Error(await api(ep.v1, 'GET', '/orders', undefined, { authorization: 'Bearer not.a.token' }), 401);
    expectV1Error(await api(ep.v1, 'GET', '/orders', undefined, { authorization: 'Basic abc' }), 401);
    expectV1Error(await api(ep.v1, 'GET', '/orders', undefined, { token: 'with spaces inside' }), 401);
    expectV1Error(await api(ep.v1, 'POST', '/orders', { nonsense: true }), 401);
    expectV1Error(await api(ep.v1, 'DELETE', `/orders/${randomUUID()}`), 401);
  });
});

describe('PUT /v1/orders/{id}/content', () => {
  it('bumps the playlist version and announces it on the bus exactly as a v2 creative swap does', async () => {
    const made = await order(alice, { deviceid: display.id, start: hoursFromNow(13), end: hoursFromNow(14), content: { type: 'text', text: 'before' } });
    expect(made.status).toBe(200);

    // Through v1.
    const beforeV1 = await playlistVersion(display.id);
    // Changes are published after the answer: let the order's own announcement arrive first.
    await waitFor(() => messagesFor(display.id).some((m) => m.version === beforeV1));
    const seenBeforeV1 = messagesFor(display.id).length;
    const edited = await api(ep.v1, 'PUT', `/orders/${made.body.orderid}/content`, { type: 'image', url: 'https://img.example.com/after.jpg' }, alice.auth);
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expectOrderShape(edited.body);
    expect(edited.body).toEqual({ ...made.body, content: { type: 'image', url: 'https://img.example.com/after.jpg' } });
    expect(await playlistVersion(display.id)).toBe(beforeV1 + 1);
    await waitFor(() => messagesFor(display.id).length === seenBeforeV1 + 1);
    expect(messagesFor(display.id).at(-1)).toMatchObject({ displayId: display.id, version: beforeV1 + 1 });

    // The same kind of edit through v2, for comparison.
    const creative = await api(ep.v2, 'POST', '/creatives', { name: 'v2 swap', type: 'text', body: 'via v2', durationMs: 10_000 }, alice.auth);
    const seenBeforeV2 = messagesFor(display.id).length;
    const swapped = await api(ep.v2, 'PATCH', `/bookings/${made.body.orderid}`, { creativeId: creative.body.id }, alice.auth);
    expect(swapped.status).toBe(200);
    expect(await playlistVersion(display.id)).toBe(beforeV1 + 2);
    await waitFor(() => messagesFor(display.id).length === seenBeforeV2 + 1);
    expect(messagesFor(display.id).at(-1)).toMatchObject({ displayId: display.id, version: beforeV1 + 2 });
    // No extra message trails either edit.
    await new Promise((r) => setTimeout(r, 200));
    expect(messagesFor(display.id).length).toBe(seenBeforeV1 + 2);

    // The display's playlist now holds the v2 content; v1 reads it back as text.
    expect((await api(ep.v1, 'GET', `/orders/${made.body.orderid}`, undefined, alice.auth)).body.content).toEqual({ type: 'text', text: 'via v2' });
  });

  it("answers 404 for another user's order and leaves it unchanged", async () => {
    const made = await order(alice, { deviceid: display.id, start: hoursFromNow(15), end: hoursFromNow(16), content: { type: 'text', text: 'mine' } });
    expectV1Error(await api(ep.v1, 'PUT', `/orders/${made.body.orderid}/content`, { type: 'text', text: 'hijack' }, bob.auth), 404);
    expect((await api(ep.v1, 'GET', `/orders/${made.body.orderid}`, undefined, alice.auth)).body.content).toEqual({ type: 'text', text: 'mine' });
  });
});

describe('DELETE /v1/orders/{id}', () => {
  it('cancels (idempotently), frees the slot, and v2 shows the booking cancelled', async () => {
    const body = { deviceid: single.id, start: hoursFromNow(17), end: hoursFromNow(18), content: { type: 'text', text: 'short-lived' } };
    const made = await order(alice, body);
    expectV1Error(await api(ep.v1, 'DELETE', `/orders/${made.body.orderid}`, undefined, bob.auth), 404);
    const cancelled = await api(ep.v1, 'DELETE', `/orders/${made.body.orderid}`, undefined, alice.auth);
    expect(cancelled.status).toBe(200);
    expectOrderShape(cancelled.body);
    expect(cancelled.body).toEqual({ ...made.body, status: 'cancelled' });
    expect((await api(ep.v1, 'DELETE', `/orders/${made.body.orderid}`, undefined, alice.auth)).body.status).toBe('cancelled');
    expect((await api(ep.v2, 'GET', `/bookings/${made.body.orderid}`, undefined, alice.auth)).body.status).toBe('cancelled');
    expect((await order(bob, body)).status).toBe(200);
    // A cancelled order's content cannot change any more.
    expectV1Error(await api(ep.v1, 'PUT', `/orders/${made.body.orderid}/content`, { type: 'text', text: 'too late' }, alice.auth), 409);
  });
});

describe('bad input on every order route: a clear 4xx, never 5xx', () => {
  const ok = () => ({ deviceid: display.id, start: hoursFromNow(20), end: hoursFromNow(21), content: { type: 'text', text: 'x' } });
  it('POST /v1/orders', async () => {
    const cases: [unknown, number][] = [
      [{}, 400],
      [{ ...ok(), deviceid: 'not-a-uuid' }, 400],
      [{ ...ok(), deviceid: 7 }, 400],
      [{ ...ok(), start: 'tomorrow' }, 400],
      [{ ...ok(), start: 1767225600 }, 400],
      [{ ...ok(), end: hoursFromNow(19) }, 400],
      [{ ...ok(), end: hoursFromNow(20) }, 400],
      [{ ...ok(), start: '2020-01-01T00:00:00Z', end: '2020-01-01T01:00:00Z' }, 400],
      [{ ...ok(), start: hoursFromNow(20), end: hoursFromNow(20 + 24 * 400) }, 400],
      [{ ...ok(), content: undefined }, 400],
      [{ ...ok(), content: 'hello' }, 400],
      [{ ...ok(), content: { type: 'video', url: 'https://x.example/v.mp4' } }, 400],
      [{ ...ok(), content: { type: 'text' } }, 400],
      [{ ...ok(), content: { type: 'text', text: '   ' } }, 400],
      [{ ...ok(), content: { type: 'text', text: 'x'.repeat(10_001) } }, 400],
      [{ ...ok(), content: { type: 'text', text: 'x', url: 'https://a.example/' } }, 400],
      [{ ...ok(), content: { type: 'image', url: 'javascript:alert(1)' } }, 400],
      [{ ...ok(), content: { type: 'image', url: 'ftp://files.example/a.png' } }, 400],
      [{ ...ok(), content: { type: 'image', url: 'not a url' } }, 400],
      [{ ...ok(), content: { type: 'image', url: `https://a.example/${'x'.repeat(2_100)}` } }, 400],
      [{ ...ok(), extra: 1 }, 400],
      [[ok()], 400],
      ['{"deviceid":', 400],
      [{ ...ok(), content: { type: 'text', text: 'x'.repeat(70_000) } }, 413],
    ];
    for (const [body, status] of cases) {
      const res = await order(alice, body);
      expectV1Error(res, status);
    }
    expectV1Error(await api(ep.v1, 'POST', '/orders', JSON.stringify(ok()), { ...alice.auth, 'content-type': 'text/plain' }), 415);
    // Nothing of the above was booked.
    const mine = await api(ep.v1, 'GET', '/orders', undefined, alice.auth);
    expect(mine.body.filter((o: any) => o.start === hoursFromNow(20))).toEqual([]);
  });

  it('GET/PUT/DELETE /v1/orders/{id}', async () => {
    for (const id of ['nope', '123', `${randomUUID()}x`, '%00']) {
      expectV1Error(await api(ep.v1, 'GET', `/orders/${id}`, undefined, alice.auth), 400);
      expectV1Error(await api(ep.v1, 'DELETE', `/orders/${id}`, undefined, alice.auth), 400);
      expectV1Error(await api(ep.v1, 'PUT', `/orders/${id}/content`, { type: 'text', text: 'x' }, alice.auth), 400);
    }
    const unknown = randomUUID();
    expectV1Error(await api(ep.v1, 'GET', `/orders/${unknown}`, undefined, alice.auth), 404);
    expectV1Error(await api(ep.v1, 'DELETE', `/orders/${unknown}`, undefined, alice.auth), 404);
    expectV1Error(await api(ep.v1, 'PUT', `/orders/${unknown}/content`, { type: 'text', text: 'x' }, alice.auth), 404);
    for (const body of [{}, { type: 'text' }, { type: 'image', url: 'nope' }, { content: { type: 'text', text: 'x' } }, '{', 'null']) {
      expectV1Error(await api(ep.v1, 'PUT', `/orders/${unknown}/content`, body, alice.auth), 400);
    }
    expectV1Error(await api(ep.v1, 'PATCH', `/orders/${unknown}`, { type: 'text', text: 'x' }, alice.auth), 404);
  });
});
