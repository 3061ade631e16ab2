/**
 * Content approval, trusted advertisers, house content and the emergency override through the
 * app: what each decision writes to the history (booking_display_creatives), what the playlist
 * builder then plays, who may decide, and what the advertiser sees on the booking.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_PLAYLIST_CHANGED, type PlaylistsChanged } from '@marquee/service-kit';
import { buildPlaylist } from '../src/playlists/build.ts';
import { API_V2_MIGRATIONS } from '../src/server.ts';
import { createScratchDatabase } from '../../../test/support/infra.ts';
import { api as call } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { createDisplay, type Session } from '../../../test/support/platform.ts';

const BASE = 'https://screens.example/v2';
let h: ApiV2TestApp;
let db: postgres.Sql;
let op: Session;
let otherOp: Session;
let adv: Session;
let admin: Session;
const published: PlaylistsChanged[] = [];

beforeAll(async () => {
  h = await startApiV2TestApp('v2approvals', { publicBaseUrl: BASE });
  db = postgres(h.db.url, { max: 2, onnotice: () => {} });
  [op, otherOp, adv, admin] = [h.user('operator'), h.user('operator'), h.user('advertiser'), h.user('admin')];
  await h.bus.subscribe(TOPIC_PLAYLIST_CHANGED, (m) => void published.push(m as PlaylistsChanged));
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

const api = (method: string, path: string, who: Session | undefined, body?: unknown) => call(h.v2, method, path, body, who?.auth ?? {});
const inAnHour = () => ({ startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString() });

async function reviewDisplay(owner = op, overrides: Record<string, unknown> = {}) {
  return (await createDisplay(h.v2, owner.auth, { contentPolicy: 'review', loop: { lengthMs: 60_000, slotCount: 3 }, ...overrides }, { activate: true })).id;
}

async function creative(who: Session, body: string) {
  const r = await api('POST', '/creatives', who, { name: body, type: 'text', body, durationMs: 5_000 });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

let keys = 0;
async function bookAndConfirm(displayIds: string[], creativeId: string, who = adv) {
  const held = await call(h.v2, 'POST', '/bookings', { displayIds, creativeId, ...inAnHour() }, { ...who.auth, 'idempotency-key': `k-${++keys}` });
  expect(held.status).toBe(201);
  const booked = await api('POST', `/bookings/${held.body.id}/confirm`, who);
  expect(booked.status).toBe(200);
  return booked.body as { id: string; displays: { displayId: string; approval: { state: string; reason: string | null }; shownCreativeId: string | null }[] };
}

const shown = async (bookingId: string) =>
  (await db`select display_id, creative_id from booking_display_creatives where booking_id = ${bookingId} order by since`).map((r) => [r.display_id, r.creative_id]);
const playlist = async (displayId: string) => (await buildPlaylist(h.sql, displayId, BASE))!;
const pendingFor = async (who: Session, creativeId: string) => {
  const r = await api('GET', '/approvals?state=pending&limit=200', who);
  expect(r.status).toBe(200);
  return (r.body.items as { id: string; creativeId: string }[]).find((a) => a.creativeId === creativeId);
};

describe('content policy on displays', () => {
  it("is 'review' for a new display unless given, shown to the owner, changeable, and validated", async () => {
    const created = await api('POST', '/displays', op, {
      name: 'Default policy', location: { lat: 1, lng: 2 }, timezone: 'UTC', resolution: { widthPx: 800, heightPx: 600 },
      loop: { lengthMs: 60_000, slotCount: 6 }, pricePerSlotHour: 10,
    });
    expect(created.status).toBe(201);
    expect(created.body.display).toMatchObject({ contentPolicy: 'review', houseCreativeId: null });
    const id = created.body.display.id;
    expect((await api('PATCH', `/displays/${id}`, op, { contentPolicy: 'auto' })).body.contentPolicy).toBe('auto');
    expect((await api('GET', `/displays/${id}`, op)).body.contentPolicy).toBe('auto');
    const bad = await api('PATCH', `/displays/${id}`, op, { contentPolicy: 'sometimes' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('contentPolicy');
  });
});

it('displays that existed before migration 100 take content as before (auto); displays made after it default to review', async () => {
  const scratch = await createScratchDatabase('v2policy');
  const s = postgres(scratch.url, { max: 1, onnotice: () => {} });
  const run = (file: string) => s.unsafe(readFileSync(path.join(API_V2_MIGRATIONS, file), 'utf8'));
  const insert = (name: string) => s`
    insert into displays (operator_id, name, lat, lng, timezone, width_px, height_px, orientation, loop_length_ms, slot_count, price_per_slot_hour, credential_hash)
    values (gen_random_uuid(), ${name}, 1, 2, 'UTC', 800, 600, 'landscape', 60000, 6, 10, '\\x00')`;
  try {
    const files = readdirSync(API_V2_MIGRATIONS).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
    for (const f of files.filter((f) => f < '100_')) await run(f);
    await insert('before');
    await run('100_content_approval.sql');
    await insert('after');
    expect(await s`select name, content_policy from displays order by name`).toEqual([
      { name: 'after', content_policy: 'review' },
      { name: 'before', content_policy: 'auto' },
    ]);
  } finally {
    await s.end();
    await scratch.drop();
  }
});

describe('a creative on a review display', () => {
  it('waits for approval (no history row, no entry), then plays on all of the operator’s displays once approved', async () => {
    const [d1, d2] = [await reviewDisplay(), await reviewDisplay()];
    const c = await creative(adv, 'Approve me');
    const booking = await bookAndConfirm([d1, d2], c);
    expect(booking.displays.map((d) => d.approval)).toEqual([{ state: 'pending', reason: null }, { state: 'pending', reason: null }]);
    expect(booking.displays.map((d) => d.shownCreativeId)).toEqual([null, null]);
    expect(await shown(booking.id)).toEqual([]);
    expect((await playlist(d1)).entries).toEqual([]);

    // One approval per operator and creative, in that operator's queue only.
    const pending = await pendingFor(op, c);
    expect(pending).toMatchObject({ operatorId: op.userId, state: 'pending', creative: { advertiserId: adv.userId, type: 'text', body: 'Approve me' } });
    expect(await pendingFor(otherOp, c)).toBeUndefined();
    expect((await pendingFor(admin, c))?.id).toBe(pending!.id);
    expect((await api('POST', `/approvals/${pending!.id}/approve`, otherOp)).status).toBe(404);
    expect((await api('POST', `/approvals/${pending!.id}/approve`, adv)).status).toBe(403);
    expect((await api('GET', '/approvals', adv)).status).toBe(403);
    expect((await api('GET', '/approvals', undefined)).status).toBe(401);

    const before = published.length;
    const approved = await api('POST', `/approvals/${pending!.id}/approve`, op);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'approved', decidedBy: op.userId, reason: null });
    expect(new Set((await shown(booking.id)).map(([d]) => d))).toEqual(new Set([d1, d2]));
    for (const d of [d1, d2]) expect((await playlist(d)).entries.map((e) => [e.kind, e.creativeId])).toEqual([['booking', c]]);
    // Published like any edit.
    await expect.poll(() => published.slice(before).flatMap((m) => m.changes.map((x) => x.displayId))).toEqual(expect.arrayContaining([d1, d2]));
    const seen = await api('GET', `/bookings/${booking.id}`, adv);
    expect(seen.body.displays.map((d: { approval: unknown; shownCreativeId: string }) => [d.approval, d.shownCreativeId])).toEqual([
      [{ state: 'approved', reason: null }, c],
      [{ state: 'approved', reason: null }, c],
    ]);
    // Approving again is harmless; the next booking of it plays at once.
    expect((await api('POST', `/approvals/${pending!.id}/approve`, op)).status).toBe(200);
    const again = await bookAndConfirm([await reviewDisplay()], c);
    expect(again.displays[0]!.approval.state).toBe('approved');
    expect((await shown(again.id)).length).toBe(1);
  });

  it('a rejected swap leaves the last approved creative playing; the advertiser sees the reason', async () => {
    const d = await reviewDisplay();
    const first = await creative(adv, 'First');
    const booking = await bookAndConfirm([d], first);
    await api('POST', `/approvals/${(await pendingFor(op, first))!.id}/approve`, op);
    const second = await creative(adv, 'Second');
    const swapped = await api('PATCH', `/bookings/${booking.id}`, adv, { creativeId: second });
    expect(swapped.status).toBe(200);
    expect(swapped.body.displays[0]).toMatchObject({ approval: { state: 'pending', reason: null }, shownCreativeId: first });
    expect((await playlist(d)).entries.map((e) => e.creativeId)).toEqual([first]);

    const approval = (await pendingFor(op, second))!;
    expect((await api('POST', `/approvals/${approval.id}/reject`, op, { reason: '  ' })).status).toBe(422);
    expect((await api('POST', `/approvals/${approval.id}/reject`, op, {})).status).toBe(422);
    const rejected = await api('POST', `/approvals/${approval.id}/reject`, op, { reason: 'Too small to read' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ state: 'rejected', reason: 'Too small to read', decidedBy: op.userId });
    expect((await playlist(d)).entries.map((e) => e.creativeId)).toEqual([first]);
    const seen = await api('GET', `/bookings/${booking.id}`, adv);
    expect(seen.body.displays[0]).toMatchObject({ approval: { state: 'rejected', reason: 'Too small to read' }, shownCreativeId: first });
    expect((await api('GET', '/approvals?state=rejected&limit=200', op)).body.items.map((a: { id: string }) => a.id)).toContain(approval.id);

    // An approved creative cannot be rejected (it may be playing); a rejected one may be approved.
    expect((await api('POST', `/approvals/${approval.id}/approve`, op)).status).toBe(200);
    expect((await playlist(d)).entries.map((e) => e.creativeId)).toEqual([second]);
    const late = await api('POST', `/approvals/${approval.id}/reject`, op, { reason: 'changed my mind' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('approval-decided');
  });

  it('an approval racing a confirmation never leaves that booking waiting although approved', async () => {
    const [first, second] = [await reviewDisplay(op, { loop: { lengthMs: 60_000, slotCount: 6 } }), await reviewDisplay(op, { loop: { lengthMs: 60_000, slotCount: 6 } })];
    for (let round = 0; round < 6; round++) {
      const c = await creative(adv, `race ${round}`);
      await bookAndConfirm([first], c); // queues the approval
      const approval = (await pendingFor(op, c))!;
      const held = await call(h.v2, 'POST', '/bookings', { displayIds: [second], creativeId: c, ...inAnHour() }, { ...adv.auth, 'idempotency-key': `race-${round}` });
      expect(held.status).toBe(201);
      const [confirmed, approved] = await Promise.all([
        api('POST', `/bookings/${held.body.id}/confirm`, adv),
        api('POST', `/approvals/${approval.id}/approve`, op),
      ]);
      expect([confirmed.status, approved.status]).toEqual([200, 200]);
      expect(await shown(held.body.id)).toEqual([[second, c]]);
    }
  });

  it('pages the queue with a cursor and refuses one it did not hand out', async () => {
    const d = await reviewDisplay(otherOp);
    const ids = [await creative(adv, 'q1'), await creative(adv, 'q2'), await creative(adv, 'q3')];
    for (const c of ids) await bookAndConfirm([d], c);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api('GET', `/approvals?state=pending&limit=1${cursor ? `&cursor=${cursor}` : ''}`, otherOp);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((a: { creativeId: string }) => a.creativeId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const bad = await api('GET', '/approvals?cursor=bm9wZQ', otherOp);
    expect(bad.status).toBe(422);
    expect((await api('GET', '/approvals?state=maybe', otherOp)).status).toBe(422);
  });

  it('turning a display to auto puts what waited on screen', async () => {
    const d = await reviewDisplay();
    const c = await creative(adv, 'Waiting');
    const booking = await bookAndConfirm([d], c);
    expect(await shown(booking.id)).toEqual([]);
    expect((await api('PATCH', `/displays/${d}`, op, { contentPolicy: 'auto' })).status).toBe(200);
    expect(await shown(booking.id)).toEqual([[d, c]]);
  });
});

describe('trusted advertisers', () => {
  it('skip review on the trusting operator’s displays; trusting approves what waits; only operators keep the list', async () => {
    const trusting = h.user('operator');
    const other = h.user('advertiser');
    const d = await reviewDisplay(trusting);
    const waiting = await creative(other, 'Before trust');
    const early = await bookAndConfirm([d], waiting, other);
    expect(await shown(early.id)).toEqual([]);

    const trusted = await api('POST', '/trusted-advertisers', trusting, { advertiserId: other.userId });
    expect(trusted.status).toBe(200);
    expect(trusted.body).toMatchObject({ advertiserId: other.userId, operatorId: trusting.userId });
    expect((await api('POST', '/trusted-advertisers', trusting, { advertiserId: other.userId })).status).toBe(200);
    expect(await shown(early.id)).toEqual([[d, waiting]]);
    expect(await pendingFor(trusting, waiting)).toBeUndefined();

    const next = await bookAndConfirm([d], await creative(other, 'After trust'), other);
    expect(next.displays[0]!.approval.state).toBe('approved');
    expect((await shown(next.id)).length).toBe(1);
    expect((await api('GET', '/trusted-advertisers', trusting)).body.items.map((t: { advertiserId: string }) => t.advertiserId)).toEqual([other.userId]);
    expect((await api('GET', '/trusted-advertisers', op)).body.items).toEqual([]);
    expect((await api('GET', '/trusted-advertisers', other)).status).toBe(403);
    expect((await api('POST', '/trusted-advertisers', admin, { advertiserId: other.userId })).status).toBe(403);
    expect((await api('POST', '/trusted-advertisers', trusting, { advertiserId: 'nobody' })).status).toBe(422);
    expect((await api('DELETE', `/trusted-advertisers/${other.userId}`, op)).status).toBe(404);
    expect((await api('DELETE', `/trusted-advertisers/${other.userId}`, trusting)).status).toBe(204);
    expect((await api('DELETE', `/trusted-advertisers/${other.userId}`, trusting)).status).toBe(404);
  });
});

describe('house content', () => {
  it("fills every stretch of every slot no booking shows anything in, with the operator's own creative", async () => {
    const d = await reviewDisplay();
    const house = await creative(op, 'Welcome to the mall');
    const foreign = await creative(adv, 'Not approved here');
    const refused = await api('PATCH', `/displays/${d}`, op, { houseCreativeId: foreign });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].field).toBe('houseCreativeId');
    expect((await api('PATCH', `/displays/${d}`, op, { houseCreativeId: house })).body.houseCreativeId).toBe(house);

    const p = await playlist(d);
    expect(p.entries.map((e) => [e.slot, e.kind, e.bookingId, e.creativeId, e.validFrom, e.validUntil])).toEqual(
      [0, 1, 2].map((slot) => [slot, 'house', null, house, p.validFrom, p.validUntil]),
    );
    // A booking waiting for review still leaves its slot to house content; once approved it plays there.
    const c = await creative(adv, 'Booked here');
    const booking = await bookAndConfirm([d], c);
    expect((await playlist(d)).entries.every((e) => e.kind === 'house')).toBe(true);
    await api('POST', `/approvals/${(await pendingFor(op, c))!.id}/approve`, op);
    const after = await playlist(d);
    const slot = (await db`select slot from booking_displays where booking_id = ${booking.id}`)[0]!.slot as number;
    const inSlot = after.entries.filter((e) => e.slot === slot);
    expect(inSlot.map((e) => e.kind)).toEqual(['booking', 'house']);
    expect(inSlot[0]!.validFrom).toBe(after.validFrom);
    expect(inSlot[1]!.validFrom).toBe(inSlot[0]!.validUntil);
    expect(inSlot[1]!.validUntil).toBe(after.validUntil);
    expect(after.entries.filter((e) => e.slot !== slot).every((e) => e.kind === 'house' && e.bookingId === null)).toBe(true);

    expect((await api('PATCH', `/displays/${d}`, op, { houseCreativeId: null })).body.houseCreativeId).toBeNull();
    expect((await playlist(d)).entries.map((e) => e.kind)).toEqual(['booking']);
  });
});

describe('emergency override', () => {
  it('replaces every slot of the chosen displays with the message until cleared', async () => {
    const [d1, d2, untouched] = [await reviewDisplay(), await reviewDisplay(), await reviewDisplay()];
    const started = await api('POST', '/emergencies', op, { displayIds: [d1, d2], message: 'Evacuate now' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ message: 'Evacuate now', creativeId: null, type: 'text', createdBy: op.userId, clearedAt: null });
    expect(started.body.displayIds).toEqual([d1, d2].sort());
    for (const d of [d1, d2]) {
      const p = await playlist(d);
      expect(p.entries.map((e) => [e.slot, e.kind, e.bookingId, e.type, e.durationMs])).toEqual([0, 1, 2].map((s) => [s, 'emergency', null, 'text', 20_000]));
      expect(p.entries[0]!.mediaUrl).toBe(started.body.mediaUrl);
    }
    expect((await playlist(untouched)).entries.some((e) => e.kind === 'emergency')).toBe(false);
    // The message is media: public, content-addressed, exactly these bytes.
    const sha = started.body.mediaUrl.split('/').pop();
    const media = await call(h.v2, 'GET', `/media/${sha}`);
    expect(media.status).toBe(200);
    expect(media.body).toBe('Evacuate now');

    const listed = await api('GET', '/emergencies', op);
    expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(started.body.id);
    expect((await api('GET', '/emergencies', otherOp)).body.items).toEqual([]);
    expect((await api('POST', `/emergencies/${started.body.id}/clear`, otherOp)).status).toBe(404);
    const cleared = await api('POST', `/emergencies/${started.body.id}/clear`, op);
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ clearedBy: op.userId });
    expect((await api('POST', `/emergencies/${started.body.id}/clear`, op)).status).toBe(200);
    for (const d of [d1, d2]) expect((await playlist(d)).entries).toEqual([]);
    expect((await api('GET', '/emergencies', op)).body.items.map((e: { id: string }) => e.id)).not.toContain(started.body.id);
  });

  it('takes an approved creative; refuses displays of others, unusable creatives, bad input and advertisers', async () => {
    const d = await reviewDisplay();
    const own = await creative(op, 'Own notice');
    const theirs = await creative(adv, 'Not approved');
    expect((await api('POST', '/emergencies', otherOp, { displayIds: [d], message: 'x' })).status).toBe(404);
    expect((await api('POST', '/emergencies', adv, { displayIds: [d], message: 'x' })).status).toBe(403);
    expect((await api('POST', '/emergencies', op, { displayIds: [d], creativeId: theirs })).status).toBe(422);
    expect((await api('POST', '/emergencies', op, { displayIds: [d], message: 'x', creativeId: own })).status).toBe(422);
    expect((await api('POST', '/emergencies', op, { displayIds: [d] })).status).toBe(422);
    expect((await api('POST', '/emergencies', op, { displayIds: [], message: 'x' })).status).toBe(422);
    expect((await api('POST', '/emergencies', op, { displayIds: [d, d], message: 'x' })).status).toBe(422);
    const withCreative = await api('POST', '/emergencies', op, { displayIds: [d], creativeId: own });
    expect(withCreative.status).toBe(201);
    expect((await playlist(d)).entries.every((e) => e.kind === 'emergency' && e.creativeId === own)).toBe(true);
    // An admin may clear any.
    expect((await api('POST', `/emergencies/${withCreative.body.id}/clear`, admin)).status).toBe(200);
  });
});
