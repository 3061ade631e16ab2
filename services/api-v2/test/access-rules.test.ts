/**
 * The access rules stay in one place: only src/access.ts (the object rules) and src/authz.ts
 * (the role gate for whole actions) may look at a caller's role. A route or query that decided
 * access by itself would drift from the rules every other route follows. Then the rules that
 * ownership-matrix.test.ts (peers get 404) does not pin: what each role sees of a booking that
 * spans two operators' displays.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api as request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import type { Session as Caller } from '../../../test/support/platform.ts';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
const ALLOWED = new Set(['access.ts', 'authz.ts']);

it('no source file outside access.ts and authz.ts reads a role', async () => {
  const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(20);
  const offenders: string[] = [];
  for (const file of files) {
    if (ALLOWED.has(file)) continue;
    const text = await readFile(path.join(SRC, file), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/\.role\b|\brole\s*[=!]==|'(admin|operator|advertiser)'\s*[=!]==/.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(offenders).toEqual([]);
});

describe('what each caller sees of one two-display booking (rules from access.ts, through the app)', () => {
  let api: InProcess;
  let who: Record<'opA' | 'opB' | 'advA' | 'advB' | 'admin', Caller>;
  let dA: string; // run by opA, fully booked by advA's booking
  let dB: string; // run by opB, also in advA's booking
  let booking: string;
  let theirCreative: string;
  const window = { startsAt: new Date(Date.now() + 2 * 3600_000).toISOString(), endsAt: new Date(Date.now() + 3 * 3600_000).toISOString() };

  beforeAll(async () => {
    api = await inProcess('v2access');
    who = { opA: api.user('operator'), opB: api.user('operator'), advA: api.user('advertiser'), advB: api.user('advertiser'), admin: api.user('admin') };
    const display = async (op: Caller) => {
      const created = await api.call('POST', '/displays', op, {
        name: 'one slot',
        location: { lat: 1, lng: 2 },
        timezone: 'UTC',
        resolution: { widthPx: 800, heightPx: 600 },
        loop: { lengthMs: 60_000, slotCount: 1 },
        pricePerSlotHour: 10,
      });
      expect((await api.call('POST', `/displays/${created.body.display.id}/activate`, op)).status).toBe(200);
      return created.body.display.id as string;
    };
    dA = await display(who.opA);
    dB = await display(who.opB);
    const creative = async (adv: Caller) => (await api.call('POST', '/creatives', adv, { name: 'c', type: 'text', body: 'hi', durationMs: 5_000 })).body.id as string;
    const mine = await creative(who.advA);
    theirCreative = await creative(who.advB);
    const made = await api.call('POST', '/bookings', who.advA, { displayIds: [dA, dB], creativeId: mine, ...window }, { 'idempotency-key': randomUUID() });
    expect(made.status).toBe(201);
    booking = made.body.id;
    const hour = new Date(Math.floor(Date.now() / 3600_000) * 3600_000);
    await api.sql`
      insert into plays (play_id, display_id, booking_id, creative_id, started_at, duration_ms, audience_multiplier)
      values (${randomUUID()}, ${dA}, ${booking}, ${mine}, ${hour}, 5000, 1), (${randomUUID()}, ${dB}, ${booking}, ${mine}, ${hour}, 5000, 1),
             (${randomUUID()}, ${dB}, ${booking}, ${mine}, ${hour}, 5000, 1)`;
  });
  afterAll(async () => api?.close());

  it('availability names a blocking booking only to its advertiser, the display’s operator and admins', async () => {
    const q = `?from=${encodeURIComponent(window.startsAt)}&to=${encodeURIComponent(window.endsAt)}`;
    const ids = async (caller: Caller) => {
      const res = await api.call('GET', `/displays/${dA}/availability${q}`, caller);
      expect(res.status).toBe(200);
      expect(res.body.blocks).toHaveLength(1);
      return res.body.blocks[0].bookingId;
    };
    expect(await ids(who.advA)).toBe(booking);
    expect(await ids(who.opA)).toBe(booking);
    expect(await ids(who.admin)).toBe(booking);
    expect(await ids(who.advB)).toBeUndefined();
    // opB sees this booking in GET /bookings (it uses their display dB), but dA is not theirs.
    expect(await ids(who.opB)).toBeUndefined();
  });

  it('a booking conflict names the blocker to an admin, not to another advertiser', async () => {
    const attempt = async (caller: Caller) => {
      const res = await api.call('POST', '/bookings', caller, { displayIds: [dA], creativeId: theirCreative, ...window }, { 'idempotency-key': randomUUID() });
      expect(res.status).toBe(409);
      return res.body.conflicts[0].blockedBy.map((b: { bookingId?: string }) => b.bookingId);
    };
    expect(await attempt(who.admin)).toEqual([booking]);
    expect(await attempt(who.advB)).toEqual([undefined]);
  });

  it('operators see only their displays’ part of the booking and of its plays; its advertiser and admins all', async () => {
    const parts = async (caller: Caller) => (await api.call('GET', `/bookings/${booking}`, caller)).body.displays.map((d: { displayId: string }) => d.displayId).sort();
    expect(await parts(who.opA)).toEqual([dA]);
    expect(await parts(who.opB)).toEqual([dB]);
    expect(await parts(who.advA)).toEqual([dA, dB].sort());
    expect(await parts(who.admin)).toEqual([dA, dB].sort());
    // The price too: an operator sees its own share, never what the other operator earns.
    const whole = (await api.call('GET', `/bookings/${booking}`, who.advA)).body;
    const share = (id: string) => whole.displays.find((d: { displayId: string }) => d.displayId === id).price as number;
    expect(whole.priceTotal).toBe(share(dA) + share(dB));
    expect((await api.call('GET', `/bookings/${booking}`, who.opA)).body.priceTotal).toBe(share(dA));
    expect((await api.call('GET', `/bookings/${booking}`, who.opB)).body.priceTotal).toBe(share(dB));
    expect((await api.call('GET', `/bookings/${booking}`, who.admin)).body.priceTotal).toBe(whole.priceTotal);

    const from = new Date(Date.now() - 2 * 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const plays = async (caller: Caller) => {
      const res = await api.call('GET', `/bookings/${booking}/plays?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, caller);
      return res.status === 200 ? Object.fromEntries(res.body.displays.map((d: { displayId: string; plays: number }) => [d.displayId, d.plays])) : res.status;
    };
    expect(await plays(who.opA)).toEqual({ [dA]: 1 });
    expect(await plays(who.opB)).toEqual({ [dB]: 2 });
    expect(await plays(who.advA)).toEqual({ [dA]: 1, [dB]: 2 });
    expect(await plays(who.admin)).toEqual({ [dA]: 1, [dB]: 2 });
    expect(await plays(who.advB)).toBe(404);
    const reportPrice = async (caller: Caller) => (await api.call('GET', `/bookings/${booking}/plays?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, caller)).body.price;
    expect(await reportPrice(who.opA)).toBe(share(dA));
    expect(await reportPrice(who.advA)).toBe(whole.priceTotal);
  });

  it('admins see and change anyone’s creatives; advertisers only their own', async () => {
    expect((await api.call('GET', `/creatives/${theirCreative}`, who.admin)).status).toBe(200);
    expect((await api.call('PATCH', `/creatives/${theirCreative}`, who.admin, { name: 'renamed by an admin' })).body.name).toBe('renamed by an admin');
    expect((await api.call('GET', `/creatives/${theirCreative}`, who.advA)).status).toBe(404);
    const listed = async (caller: Caller) => (await api.call('GET', '/creatives', caller)).body.items.map((c: { id: string }) => c.id);
    expect(await listed(who.admin)).toContain(theirCreative);
    expect(await listed(who.advA)).not.toContain(theirCreative);
  });
});

/** The app harness with a JSON call as `who` (content type and parsed body, null when empty). */
type InProcess = ApiV2TestApp & {
  call(method: string, path: string, who?: Caller, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; type: string | null; body: any }>;
};

async function inProcess(name: string): Promise<InProcess> {
  const h = await startApiV2TestApp(name);
  return Object.assign(h, {
    async call(method: string, path: string, who?: Caller, body?: unknown, headers: Record<string, string> = {}) {
      const res = await request(h.v2, method, path, body, { ...who?.auth, ...headers });
      return { status: res.status, type: res.headers.get('content-type'), body: res.body ?? null };
    },
  });
}
