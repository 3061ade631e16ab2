/**
 * GET /events across two api-v2 replicas: two apps on one database and one Redis bus prefix, each
 * with its own hub, both on real sockets. Events caused through replica A reach streams on B (and
 * the other way round); each user hears only their own; a reconnect with Last-Event-ID — on the
 * other replica — gets exactly what it missed; idle streams carry heartbeats; bad input is refused.
 *
 * "Never receives" is checked without waiting for time to pass: after the event that must not
 * arrive, an event that must arrive on the same stream is caused; the bus delivers in one order,
 * so once the second is there the first would have been too.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, createRedisBus, listen, type MessageBus, type RunningHttpServer } from '@marquee/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiV2App } from '../src/app.ts';
import { createLiveEventHub, type LiveEventHub } from '../src/events/hub.ts';
import { api as request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { TEST_REDIS_URL, uniqueBusPrefix } from '../../../test/support/infra.ts';
import { openSse, type SseFrame, type SseStream } from '../../../test/support/sse.ts';
import type { Session as Caller } from '../../../test/support/platform.ts';
import { until } from '../../../test/support/until.ts';

let a: ApiV2TestApp;
let busB: MessageBus;
let hubB: LiveEventHub;
let serverB: RunningHttpServer;
let urlA: string;
let urlB: string;
let who: Record<'opA' | 'opB' | 'advA' | 'advB' | 'admin', Caller>;
let dA: string; // run by opA
let dB: string; // run by opB
const streams: SseStream[] = [];
const window = () => ({ startsAt: new Date(Date.now() + 2 * 3600_000).toISOString(), endsAt: new Date(Date.now() + 3 * 3600_000).toISOString() });

const call = async (method: string, path: string, caller: Caller, body?: unknown, headers: Record<string, string> = {}) =>
  request(a.v2, method, path, body, { ...caller.auth, ...headers });

async function stream(url: string, caller: Caller, headers: Record<string, string> = {}): Promise<SseStream> {
  const s = await openSse(`${url}/events`, { ...caller.auth, ...headers });
  streams.push(s);
  expect(s.status).toBe(200);
  expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
  await s.waitFor('stream.open', (f) => f.event === 'stream.open');
  return s;
}

const isEvent = (type: string, key: string, value: string) => (f: SseFrame) => f.event === type && JSON.parse(f.data!)[key] === value;
const mentions = (s: SseStream, id: string) => s.frames.filter((f) => f.data?.includes(id));

async function display(op: Caller): Promise<string> {
  const created = await call('POST', '/displays', op, {
    name: 'lobby',
    location: { lat: 1, lng: 2 },
    timezone: 'UTC',
    resolution: { widthPx: 800, heightPx: 600 },
    loop: { lengthMs: 60_000, slotCount: 4 },
    pricePerSlotHour: 10,
  });
  expect(created.status).toBe(201);
  expect((await call('POST', `/displays/${created.body.display.id}/activate`, op)).status).toBe(200);
  return created.body.display.id;
}

async function textCreative(adv: Caller, name = 'c'): Promise<string> {
  const res = await call('POST', '/creatives', adv, { name, type: 'text', body: 'hi', durationMs: 5_000 });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function hold(adv: Caller, displayIds: string[], creativeId: string): Promise<string> {
  const res = await call('POST', '/bookings', adv, { displayIds, creativeId, ...window() }, { 'idempotency-key': randomUUID() });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function connect(displayId: string, playlistVersion: number) {
  const res = await request(a.internal, 'POST', '/internal/presence', {
    events: [{ kind: 'connected', displayId, sessionId: randomUUID(), instanceId: 'tcp-1', at: new Date().toISOString(), remoteAddress: '127.0.0.1', playlistVersion }],
  });
  expect(res.status).toBe(204);
}

beforeAll(async () => {
  const prefix = uniqueBusPrefix('api-v2-live-events');
  a = await startApiV2TestApp('v2live', { bus: createRedisBus(TEST_REDIS_URL, { prefix }), liveHeartbeatMs: 200 });
  // Replica B: the same database, its own bus connections and hub, on the same prefix.
  busB = createRedisBus(TEST_REDIS_URL, { prefix });
  hubB = createLiveEventHub({ bus: busB, logger: createLogger('api-v2-b', 'silent') });
  await hubB.ready;
  serverB = await listen(createApiV2App({ ...a.deps, bus: busB, liveEvents: hubB }), '127.0.0.1', 0);
  urlA = await a.listen();
  urlB = serverB.url;
  who = { opA: a.user('operator'), opB: a.user('operator'), advA: a.user('advertiser'), advB: a.user('advertiser'), admin: a.user('admin') };
  dA = await display(who.opA);
  dB = await display(who.opB);
});

afterAll(async () => {
  for (const s of streams) s.close();
  await hubB?.close();
  await serverB?.close(1_000);
  await busB?.close();
  await a?.close();
});

describe('GET /events', () => {
  it("a display's status change on replica A reaches its operator's stream on replica B, and not another operator's", async () => {
    const opA = await stream(urlB, who.opA);
    const opB = await stream(urlB, who.opB);
    const admin = await stream(urlB, who.admin);

    await connect(dA, 3);
    const seen = await opA.waitFor('dA online for opA', isEvent('display.status', 'displayId', dA));
    expect(JSON.parse(seen.data!)).toMatchObject({ type: 'display.status', displayId: dA, online: true, appliedVersion: 3 });
    expect(seen.id).toMatch(/\S/);
    await admin.waitFor('dA online for the admin', isEvent('display.status', 'displayId', dA));

    // The fence: opB's own display changes next; by then dA's event would have reached opB too.
    await connect(dB, 1);
    await opB.waitFor('dB online for opB', isEvent('display.status', 'displayId', dB));
    expect(mentions(opB, dA)).toEqual([]);
    await admin.waitFor('dB online for the admin', isEvent('display.status', 'displayId', dB));
    // And the other way round: opA's display reconnects showing v4; dB's event would be there first.
    await connect(dA, 4);
    await opA.waitFor('dA on v4', (f) => isEvent('display.status', 'displayId', dA)(f) && JSON.parse(f.data!).appliedVersion === 4);
    expect(mentions(opA, dB)).toEqual([]);
  });

  it("bookings reach their advertiser and the displays' operators only; command results reach the display's operator", async () => {
    const advA = await stream(urlA, who.advA);
    const advB = await stream(urlB, who.advB);
    const opA = await stream(urlA, who.opA);
    const opB = await stream(urlB, who.opB);

    const bookingA = await hold(who.advA, [dA], await textCreative(who.advA));
    await advA.waitFor("advA's hold", isEvent('booking.changed', 'bookingId', bookingA));
    await opA.waitFor("advA's hold on opA's display", isEvent('booking.changed', 'bookingId', bookingA));
    expect(JSON.parse(advA.frames.find(isEvent('booking.changed', 'bookingId', bookingA))!.data!)).toEqual({ type: 'booking.changed', bookingId: bookingA, status: 'held' });

    const bookingB = await hold(who.advB, [dB], await textCreative(who.advB));
    await advB.waitFor("advB's hold", isEvent('booking.changed', 'bookingId', bookingB));
    await opB.waitFor("advB's hold on opB's display", isEvent('booking.changed', 'bookingId', bookingB));
    expect(mentions(advB, bookingA)).toEqual([]);
    expect(mentions(opB, bookingA)).toEqual([]);

    // opA's screenshot answered by the display through device-tcp's internal call (on replica A).
    const sent = await call('POST', `/displays/${dA}/commands`, who.opA, { kind: 'screenshot' });
    expect(sent.status).toBe(202);
    const answered = await request(a.internal, 'POST', `/internal/commands/${sent.body.id}/result`, {
      displayId: dA,
      commandId: sent.body.id,
      ok: true,
      result: { bytes: 10 },
      completedAt: new Date().toISOString(),
    });
    expect(answered.status).toBe(204);
    const result = await opA.waitFor('the command result', isEvent('command.result', 'commandId', sent.body.id));
    expect(JSON.parse(result.data!)).toMatchObject({ displayId: dA, status: 'succeeded' });

    // Fences for everyone else: advB confirms (advB, opB hear it), after which nothing of opA's may be there.
    expect((await call('POST', `/bookings/${bookingB}/confirm`, who.advB)).status).toBe(200);
    await advB.waitFor("advB's confirmation", (f) => isEvent('booking.changed', 'bookingId', bookingB)(f) && f.data!.includes('"booked"'));
    await opB.waitFor("advB's confirmation", (f) => isEvent('booking.changed', 'bookingId', bookingB)(f) && f.data!.includes('"booked"'));
    for (const s of [advB, opB]) expect(mentions(s, sent.body.id)).toEqual([]);
    for (const s of [advA, opA]) expect(mentions(s, bookingB)).toEqual([]);
    expect(mentions(advA, sent.body.id)).toEqual([]);
  });

  it("approval decisions reach the reviewing operator and the creative's advertiser only, on approve, reject and trust", async () => {
    const advA = await stream(urlB, who.advA);
    const opA = await stream(urlA, who.opA);
    const advB = await stream(urlA, who.advB);
    const opB = await stream(urlB, who.opB);

    const creative = await textCreative(who.advA, 'to review');
    const booking = await hold(who.advA, [dA], creative); // dA reviews content (the default policy)
    expect((await call('POST', `/bookings/${booking}/confirm`, who.advA)).status).toBe(200);
    const queue = await call('GET', '/approvals?state=pending&limit=200', who.opA);
    const approval = queue.body.items.find((i: { creativeId: string }) => i.creativeId === creative);
    expect(approval).toBeDefined();

    expect((await call('POST', `/approvals/${approval.id}/reject`, who.opA, { reason: 'Too small to read' })).status).toBe(200);
    const rejected = (f: SseFrame) => isEvent('approval.changed', 'approvalId', approval.id)(f) && f.data!.includes('"rejected"');
    const heard = await advA.waitFor('the rejection (advertiser)', rejected);
    expect(JSON.parse(heard.data!)).toEqual({ type: 'approval.changed', approvalId: approval.id, creativeId: creative, state: 'rejected', reason: 'Too small to read' });
    await opA.waitFor('the rejection (operator)', rejected);

    expect((await call('POST', `/approvals/${approval.id}/approve`, who.opA)).status).toBe(200);
    const approved = (f: SseFrame) => isEvent('approval.changed', 'approvalId', approval.id)(f) && f.data!.includes('"approved"');
    expect(JSON.parse((await advA.waitFor('the approval (advertiser)', approved)).data!)).toMatchObject({ state: 'approved', reason: null });
    await opA.waitFor('the approval (operator)', approved);
    // Approving again changes nothing and says nothing.
    expect((await call('POST', `/approvals/${approval.id}/approve`, who.opA)).status).toBe(200);

    // Trust approves what waits: opB trusts advB with a creative of advB's pending on dB.
    const theirs = await textCreative(who.advB, 'trusted');
    const bookingB = await hold(who.advB, [dB], theirs);
    expect((await call('POST', `/bookings/${bookingB}/confirm`, who.advB)).status).toBe(200);
    expect((await call('POST', '/trusted-advertisers', who.opB, { advertiserId: who.advB.userId })).status).toBe(200);
    const trusted = (f: SseFrame) => isEvent('approval.changed', 'creativeId', theirs)(f) && f.data!.includes('"approved"');
    await advB.waitFor('approved by trust (advertiser)', trusted);
    await opB.waitFor('approved by trust (operator)', trusted);
    // Fences: the trust events came after advA's decisions on the same bus, so those would be here.
    for (const s of [advB, opB]) expect(mentions(s, approval.id)).toEqual([]);
    // And advB's confirmation/trust, before a last event of advA's, would have reached advA/opA by then.
    expect((await call('POST', `/bookings/${booking}/cancel`, who.advA)).status).toBe(200);
    await advA.waitFor('the cancellation', (f) => isEvent('booking.changed', 'bookingId', booking)(f) && f.data!.includes('"cancelled"'));
    await opA.waitFor('the cancellation', (f) => isEvent('booking.changed', 'bookingId', booking)(f) && f.data!.includes('"cancelled"'));
    for (const s of [advA, opA]) expect(mentions(s, theirs)).toEqual([]);
    expect(advA.frames.filter((f) => isEvent('approval.changed', 'approvalId', approval.id)(f)).length).toBe(2);
  });

  it('a reconnect with Last-Event-ID, on the other replica, gets exactly the events missed, in order, and only its own', async () => {
    const creative = await textCreative(who.advA, 'first');
    const other = await textCreative(who.advA, 'second');
    const watcher = await stream(urlA, who.admin); // sees everything: tells when an event has reached replica A
    const first = await stream(urlB, who.advA);
    const booking = await hold(who.advA, [dA], creative);
    const last = await first.waitFor('the hold', isEvent('booking.changed', 'bookingId', booking));
    first.close();

    // Missed while away: advA confirms and swaps; advB books meanwhile (not advA's to hear).
    expect((await call('POST', `/bookings/${booking}/confirm`, who.advA)).status).toBe(200);
    const theirs = await hold(who.advB, [dB], await textCreative(who.advB));
    expect((await call('PATCH', `/bookings/${booking}`, who.advA, { creativeId: other })).status).toBe(200);
    expect((await call('POST', `/bookings/${booking}/cancel`, who.advA)).status).toBe(200);
    await watcher.waitFor('the cancellation on replica A', (f) => isEvent('booking.changed', 'bookingId', booking)(f) && f.data!.includes('"cancelled"'));

    const resumed = await stream(urlA, who.advA, { 'last-event-id': last.id! });
    const open = resumed.events.find((e) => e.event === 'stream.open')!;
    expect(open.data).toEqual({ type: 'stream.open', resumed: true });
    await resumed.waitFor('the replayed cancellation', (f) => isEvent('booking.changed', 'bookingId', booking)(f) && f.data!.includes('"cancelled"'));
    const replayed = resumed.events.filter((e) => e.event !== 'stream.open');
    expect(replayed.map((e) => e.data.status)).toEqual(['booked', 'booked', 'cancelled']);
    expect(replayed.every((e) => e.data.bookingId === booking)).toBe(true);
    expect(mentions(resumed, theirs)).toEqual([]);
    // The replayed ids are the ones replica A's own listeners saw, in the same order.
    const watched = watcher.events.filter((e) => e.data.bookingId === booking).map((e) => e.id);
    expect(replayed.map((e) => e.id)).toEqual(watched.slice(watched.indexOf(last.id) + 1));
  });

  it('an id the replica does not know asks the client to refetch (resumed: false)', async () => {
    const s = await stream(urlB, who.advA, { 'last-event-id': 'not-an-id-we-handed-out' });
    expect(s.events[0]).toEqual({ id: undefined, event: 'stream.open', data: { type: 'stream.open', resumed: false } });
    const fresh = await stream(urlB, who.advA);
    expect(fresh.events[0]!.data).toEqual({ type: 'stream.open', resumed: false });
    expect(fresh.frames[0]!.retry).toBeGreaterThan(0);
  });

  it('sends heartbeat comments on an idle stream', async () => {
    const s = await stream(urlA, who.advB);
    await s.waitFor('a heartbeat', (f) => f.comment === 'heartbeat');
    await s.waitFor('a second heartbeat', (f) => f.comment === 'heartbeat' && s.frames.filter((g) => g.comment === 'heartbeat').length >= 2);
  });

  it('refuses a missing or bad token (401) and an oversized Last-Event-ID (422)', async () => {
    const none = await openSse(`${urlA}/events`);
    expect(none.status).toBe(401);
    const expired = await openSse(`${urlA}/events`, a.user('operator', { ttlSeconds: -10 }).auth);
    expect(expired.status).toBe(401);
    const long = await openSse(`${urlA}/events`, { ...who.advA.auth, 'last-event-id': 'x'.repeat(65) });
    expect(long.status).toBe(422);
    expect(long.frames[0]!.data).toContain('Last-Event-Id must have at most 64 characters');
  });

  it("a client that disconnects is dropped; closing a replica's hub (shutdown) ends the other streams", async () => {
    const hub = createLiveEventHub({ bus: busB, logger: createLogger('api-v2-c', 'silent') });
    await hub.ready;
    const server = await listen(createApiV2App({ ...a.deps, bus: busB, liveEvents: hub }), '127.0.0.1', 0);
    try {
      const gone = await stream(server.url, who.opA);
      const s = await stream(server.url, who.opA);
      expect(hub.listeners).toBe(2);
      gone.close(); // a client that goes away is forgotten
      await until('the listener of the closed stream to be dropped', () => hub.listeners === 1);
      await hub.close();
      await s.ended;
      expect(hub.listeners).toBe(0);
    } finally {
      await server.close(1_000);
    }
  });
});
