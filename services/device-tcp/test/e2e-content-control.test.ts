/**
 * What operators decide reaches the screen, end to end: the real api-v2 (scratch database, Redis
 * bus), a device-tcp, and displays connected over real TCP that record every playlist frame.
 * A creative on a `review` display is never pushed before approval and arrives after it; a
 * rejected swap leaves the approved creative playing; house content fills unbooked slots; an
 * emergency reaches every chosen display and clearing it restores the schedule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Playlist } from '@marquee/service-kit';
import { api, createDisplay, deviceTcpEnv, signUpAndLogIn, startTestPlatform, type Session, type TestPlatform } from '../../../test/support/platform.ts';
import { loadDeviceTcpConfig } from '../src/config.ts';
import { startDeviceTcp, type RunningDeviceTcp } from '../src/server.ts';
import { RawClient } from './support/raw-client.ts';

let p: TestPlatform;
let tcp: RunningDeviceTcp;
let op: Session;
let adv: Session;
const clients: RawClient[] = [];

beforeAll(async () => {
  p = await startTestPlatform('devicecontent');
  tcp = await startDeviceTcp(loadDeviceTcpConfig(deviceTcpEnv(p)));
  [op, adv] = await Promise.all([signUpAndLogIn(p.apiV2.url, 'operator'), signUpAndLogIn(p.apiV2.url, 'advertiser')]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await tcp?.close();
  await p?.close();
});

/** A connected display that keeps every playlist frame it is sent, in order. */
class Screen {
  readonly playlists: Playlist[] = [];
  private constructor(readonly id: string, private readonly client: RawClient) {}

  static async connect(display: { id: string; secret: string }): Promise<Screen> {
    const client = await RawClient.connect(tcp.devicePort);
    clients.push(client);
    await client.hello(display.id, display.secret);
    return new Screen(display.id, client);
  }

  /** Waits for the first playlist frame (already received or still to come) that `accept`s. */
  async playlist(accept: (p: Playlist) => boolean, timeoutMs = 15_000): Promise<Playlist> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.playlists.find(accept);
      if (found) return found;
      const frame = await this.client.next('playlist', Math.max(1, deadline - Date.now()));
      this.playlists.push(frame.playlist as Playlist);
    }
  }

  /** The frame carrying the display's current version (the newest the server has). */
  async current(): Promise<Playlist> {
    const version = (await api(p.apiV2.url, 'GET', `/displays/${this.id}`, undefined, op.auth)).body.presence.playlistVersion as number;
    return this.playlist((pl) => pl.version >= version);
  }
}

const call = (method: string, path: string, who: Session, body?: unknown, headers: Record<string, string> = {}) =>
  api(p.apiV2.url, method, path, body, { ...who.auth, ...headers });

async function creative(who: Session, body: string) {
  const r = await call('POST', '/creatives', who, { name: body, type: 'text', body, durationMs: 5_000 });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

const reviewDisplay = () => createDisplay(p.apiV2.url, op.auth, { contentPolicy: 'review', loop: { lengthMs: 30_000, slotCount: 3 } }, { activate: true });
const kinds = (pl: Playlist) => pl.entries.map((e) => `${e.slot}:${e.kind}:${e.creativeId}`);
const pendingApproval = async (creativeId: string) =>
  ((await call('GET', '/approvals?state=pending&limit=200', op)).body.items as { id: string; creativeId: string }[]).find((a) => a.creativeId === creativeId)!;

describe('content control reaches the screen over TCP', () => {
  let screen: Screen;
  let booking: string;
  let approved: string;

  it('a creative on a review display is never pushed before approval, and arrives after it', async () => {
    const display = await reviewDisplay();
    screen = await Screen.connect(display);
    approved = await creative(adv, 'Reviewed card');
    const held = await call('POST', '/bookings', adv, {
      displayIds: [display.id], creativeId: approved,
      startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
    }, { 'idempotency-key': 'content-control-1' });
    expect(held.status).toBe(201);
    booking = held.body.id;
    expect((await call('POST', `/bookings/${booking}/confirm`, adv)).status).toBe(200);

    // Confirmation changed the display's version: that playlist reached the screen without the creative.
    const afterConfirm = await screen.current();
    expect(afterConfirm.entries).toEqual([]);
    const approval = await pendingApproval(approved);

    const started = performance.now();
    expect((await call('POST', `/approvals/${approval.id}/approve`, op)).status).toBe(200);
    const arrived = await screen.playlist((pl) => pl.entries.some((e) => e.creativeId === approved));
    const ms = performance.now() - started;
    console.log(`approval → playlist frame on the display: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(15_000);
    expect(arrived.entries.map((e) => [e.kind, e.bookingId, e.creativeId])).toEqual([['booking', booking, approved]]);
    // No frame before it carried the creative.
    expect(screen.playlists.slice(0, screen.playlists.indexOf(arrived)).some((pl) => pl.entries.length > 0)).toBe(false);
  });

  it('a rejected swap leaves the last approved creative playing', async () => {
    const swappedTo = await creative(adv, 'Swapped card');
    expect((await call('PATCH', `/bookings/${booking}`, adv, { creativeId: swappedTo })).status).toBe(200);
    const afterSwap = await screen.current();
    expect(afterSwap.entries.map((e) => e.creativeId)).toEqual([approved]);
    const rejected = await call('POST', `/approvals/${(await pendingApproval(swappedTo)).id}/reject`, op, { reason: 'Off brand' });
    expect(rejected.status).toBe(200);
    // Rejecting changes nothing on screen: the display's current version is still that frame.
    const now = await screen.current();
    expect(now.version).toBe(afterSwap.version);
    expect(now.entries.map((e) => e.creativeId)).toEqual([approved]);
    expect(screen.playlists.some((pl) => pl.entries.some((e) => e.creativeId === swappedTo))).toBe(false);
  });

  it('house content fills the unbooked slots', async () => {
    const house = await creative(op, 'House card');
    expect((await call('PATCH', `/displays/${screen.id}`, op, { houseCreativeId: house })).status).toBe(200);
    const filled = await screen.playlist((pl) => pl.entries.some((e) => e.kind === 'house'));
    const bookedSlot = filled.entries.find((e) => e.kind === 'booking')!.slot;
    expect(filled.entries.filter((e) => e.slot !== bookedSlot).map((e) => [e.kind, e.bookingId, e.creativeId, e.validFrom, e.validUntil])).toEqual(
      [0, 1, 2].filter((s) => s !== bookedSlot).map(() => ['house', null, house, filled.validFrom, filled.validUntil]),
    );
  });

  it('an emergency reaches every chosen display; clearing it restores the schedule', async () => {
    const second = await Screen.connect(await reviewDisplay());
    const before = await screen.current();
    await second.current();
    const started = performance.now();
    const emergency = await call('POST', '/emergencies', op, { displayIds: [screen.id, second.id], message: 'Leave by the east exit' });
    expect(emergency.status).toBe(201);
    const allEmergency = (pl: Playlist) => pl.entries.length === 3 && pl.entries.every((e) => e.kind === 'emergency');
    const shown = await Promise.all([screen, second].map((s) => s.playlist(allEmergency)));
    console.log(`emergency → playlist frames on both displays: ${(performance.now() - started).toFixed(1)} ms`);
    for (const pl of shown) expect(pl.entries.map((e) => e.mediaUrl)).toEqual([0, 1, 2].map(() => emergency.body.mediaUrl));

    expect((await call('POST', `/emergencies/${emergency.body.id}/clear`, op)).status).toBe(200);
    const restored = await screen.playlist((pl) => pl.version > shown[0]!.version);
    expect(kinds(restored)).toEqual(kinds(before));
    const secondRestored = await second.playlist((pl) => pl.version > shown[1]!.version);
    expect(secondRestored.entries).toEqual([]);
  });
});
