import { describe, expect, it } from 'vitest';
import { toOwnerView, toPublicView, type DisplayRow } from '../src/displays/sql.ts';

const row = (over: Partial<DisplayRow> = {}): DisplayRow => ({
  id: 'b8ca355b-5a95-4935-a854-e12e0148189e',
  operator_id: 'e9ea45d5-3f0d-4192-b373-9cceeb7dd5d4',
  name: 'Lobby',
  address: 'Main St 1',
  lat: 52.52,
  lng: 13.405,
  timezone: 'Europe/Berlin',
  width_px: 1080,
  height_px: 1920,
  orientation: 'portrait',
  tags: ['indoor', 'mall'],
  loop_length_ms: 60_000,
  slot_count: 7,
  price_per_slot_hour: '12.50',
  currency: 'EUR',
  audience_multiplier: '1.25',
  status: 'active',
  credential_rotated_at: new Date('2026-01-02T03:04:05.678Z'),
  playlist_version: '9007199254740991',
  online: true,
  last_seen_at: new Date('2026-01-03T00:00:00.001Z'),
  applied_version: '41',
  html_scripts: false,
  created_at: new Date('2025-12-31T23:59:59.999Z'),
  updated_at: new Date('2026-01-01T00:00:00.000Z'),
  content_policy: 'review',
  house_creative_id: null,
  ...over,
});

describe('display views', () => {
  it('owner view = the public view, member for member and in the same order, then the owner members', () => {
    for (const r of [row(), row({ last_seen_at: null, applied_version: null, online: false, status: 'pending', tags: [] })]) {
      const pub = toPublicView(r);
      const owner = toOwnerView(r);
      const publicKeys = Object.keys(pub);
      expect(Object.keys(owner).slice(0, publicKeys.length)).toEqual(publicKeys);
      expect(Object.keys(owner).slice(publicKeys.length)).toEqual(['operatorId', 'updatedAt', 'credentialRotatedAt', 'htmlScripts', 'presence', 'contentPolicy', 'houseCreativeId']);
      // Same bytes on the wire for the shared part, as the spread produced.
      expect(JSON.stringify(owner)).toBe(
        JSON.stringify({
          ...pub,
          operatorId: owner.operatorId,
          updatedAt: owner.updatedAt,
          credentialRotatedAt: owner.credentialRotatedAt,
          htmlScripts: owner.htmlScripts,
          presence: owner.presence,
          contentPolicy: owner.contentPolicy,
          houseCreativeId: owner.houseCreativeId,
        }),
      );
    }
  });

  it('maps the owner members', () => {
    expect(toOwnerView(row())).toMatchObject({
      operatorId: 'e9ea45d5-3f0d-4192-b373-9cceeb7dd5d4',
      updatedAt: '2026-01-01T00:00:00.000Z',
      credentialRotatedAt: '2026-01-02T03:04:05.678Z',
      loop: { lengthMs: 60_000, slotCount: 7, slotMs: 60_000 / 7 },
      pricePerSlotHour: 12.5,
      audienceMultiplier: 1.25,
      presence: { online: true, lastSeenAt: '2026-01-03T00:00:00.001Z', playlistVersion: 9007199254740991, appliedVersion: 41 },
    });
    expect(toOwnerView(row({ last_seen_at: null, applied_version: null })).presence).toEqual({ online: true, lastSeenAt: null, playlistVersion: 9007199254740991, appliedVersion: null });
  });
});
