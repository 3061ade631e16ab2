/**
 * Request and answer examples for /openapi.json, one consistent story: the operator of a display
 * in Berlin and an advertiser booking it with a text creative. jsonBody/jsonResponse type each as
 * its schema's input, so a changed schema breaks its example at compile time; the docs lint
 * (services/api-v2/test/openapi-lint.test.ts) validates each against the published JSON Schema and
 * the request ones against the schemas that validate requests, as Swagger UI's "Try it out" sends them.
 */
import { PROBLEM_TYPE_BASE } from '@marquee/service-kit';

export const ids = {
  advertiser: 'b3f9c2e4-5d6a-4e8b-9c1d-2e3f4a5b6c7d',
  operator: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5',
  display: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  creative: 'c0ffee00-1234-4abc-8def-0123456789ab',
  otherCreative: 'c0ffee00-5678-4abc-9def-0123456789ab',
  booking: '5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e',
  upload: 'e1d2c3b4-a596-4786-9a5b-4c3d2e1f0a9b',
  command: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
} as const;

const BASE = 'http://127.0.0.1:8080/v2';
const created = '2026-11-02T09:14:00.000Z';

/**
 * A whole UTC hour `days` after the server started. Booking times must lie ahead (and within two
 * years), so examples that "Try it out" sends are computed rather than fixed dates that age out.
 */
export function upcoming(days: number, hour = 0): string {
  const at = new Date();
  at.setUTCHours(hour, 0, 0, 0);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().replace('.000Z', 'Z');
}

// auth
export const signupExample = { username: 'acme-media', password: 'correct-horse-battery-staple', accountType: 'advertiser' as const };
export const loginExample = { username: 'acme-media', password: 'correct-horse-battery-staple' };
export const refreshExample = { refreshToken: 'u7Vq2n8JcX0pLk4s9Rz1Ww3yTb6Ae5Hd' };
export const userExample = { id: ids.advertiser, username: 'acme-media', role: 'advertiser' as const, createdAt: created };
export const tokensExample = {
  tokenType: 'Bearer' as const,
  accessToken: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJiM2Y5YzJlNCJ9.c2lnbmF0dXJl',
  expiresIn: 900,
  refreshToken: 'Qm9vazFuZ3MtYXJlLWZ1bi10by1yZWFk',
  refreshExpiresIn: 2_592_000,
  user: userExample,
};

// media
export const createUploadExample = { contentType: 'image/png', totalBytes: 48_213, sha256: ids.sha256 };
const mediaUrl = `${BASE}/media/${ids.sha256}`;
export const uploadExample = {
  id: ids.upload,
  uploadUrl: `${BASE}/uploads/${ids.upload}`,
  contentType: 'image/png' as const,
  totalBytes: 48_213,
  received: 0,
  status: 'open' as const,
  expectedSha256: ids.sha256,
  expiresAt: '2026-11-03T09:14:00.000Z',
  createdAt: created,
  media: null,
};
export const receivedUploadExample = { ...uploadExample, received: 48_213 };
export const completedUploadExample = { sha256: ids.sha256, contentType: 'image/png' as const, sizeBytes: 48_213, url: mediaUrl, deduplicated: false };

// creatives
export const createCreativeExample = { name: 'Spring sale', type: 'text' as const, body: 'Spring sale: 20 % off everything', durationMs: 10_000 };
export const updateCreativeExample = { name: 'Spring sale (last week)', durationMs: 15_000 };
export const creativeExample = {
  id: ids.creative,
  ownerId: ids.advertiser,
  name: 'Spring sale',
  type: 'text' as const,
  // A text creative's body is stored as media too: the sha256 of its UTF-8 bytes.
  mediaSha256: '8204070c198d79013f684fff0367181b279683946c25fe2a15a402afc0bc025a',
  mediaUrl: `${BASE}/media/8204070c198d79013f684fff0367181b279683946c25fe2a15a402afc0bc025a`,
  mediaContentType: 'text/plain; charset=utf-8',
  mediaSizeBytes: 32,
  body: 'Spring sale: 20 % off everything',
  durationMs: 10_000,
  createdAt: created,
  updatedAt: created,
};
export const creativePageExample = { items: [creativeExample], nextCursor: null };

// displays
export const createDisplayExample = {
  name: 'Alexanderplatz lobby',
  location: { address: 'Alexanderplatz 1, 10178 Berlin', lat: 52.5219, lng: 13.4132 },
  timezone: 'Europe/Berlin',
  resolution: { widthPx: 1920, heightPx: 1080 },
  tags: ['lobby', 'berlin'],
  loop: { lengthMs: 60_000, slotCount: 6 },
  pricePerSlotHour: 250,
  currency: 'EUR',
  audienceMultiplier: 12,
  contentPolicy: 'review' as const,
};
export const updateDisplayExample = { pricePerSlotHour: 300, tags: ['lobby', 'berlin', 'transit'] };
export const publicDisplayExample = {
  id: ids.display,
  name: 'Alexanderplatz lobby',
  location: { address: 'Alexanderplatz 1, 10178 Berlin', lat: 52.5219, lng: 13.4132 },
  timezone: 'Europe/Berlin',
  resolution: { widthPx: 1920, heightPx: 1080 },
  orientation: 'landscape' as const,
  tags: ['lobby', 'berlin'],
  loop: { lengthMs: 60_000, slotCount: 6, slotMs: 10_000 },
  pricePerSlotHour: 250,
  currency: 'EUR',
  audienceMultiplier: 12,
  status: 'active' as const,
  createdAt: created,
};
export const displayExample = {
  ...publicDisplayExample,
  operatorId: ids.operator,
  updatedAt: created,
  credentialRotatedAt: created,
  htmlScripts: false,
  presence: { online: true, lastSeenAt: '2026-11-30T07:59:30.000Z', playlistVersion: 4, appliedVersion: 4 },
  contentPolicy: 'review' as const,
  houseCreativeId: null as string | null,
};
export const pendingDisplayExample = {
  ...displayExample,
  status: 'pending' as const,
  presence: { online: false, lastSeenAt: null, playlistVersion: 1, appliedVersion: null },
};
export const credentialExample = { displayId: ids.display, secret: 'mV1l8yJ0sQ6cT3wZ9xB4nR7kD2fH5gA0pL8uE1iO6tY', rotatedAt: created };
export const createdDisplayExample = { display: pendingDisplayExample, credential: credentialExample };
export const displayPageExample = { items: [publicDisplayExample], nextCursor: null };

// bookings
const startsAt = upcoming(30, 8);
const endsAt = upcoming(30, 10);
export const createBookingExample = { displayIds: [ids.display], creativeId: ids.creative, startsAt, endsAt };
export const patchBookingExample = { creativeId: ids.otherCreative };
export const heldBookingExample = {
  id: ids.booking,
  advertiserId: ids.advertiser,
  creativeId: ids.creative,
  status: 'held' as const,
  startsAt,
  endsAt,
  daypart: null,
  holdExpiresAt: '2026-11-30T08:15:00.000Z',
  priceTotal: 500,
  currency: 'EUR',
  displays: [{ displayId: ids.display, slot: 0, price: 500, windowCount: 1, approval: { state: 'pending' as const, reason: null }, shownCreativeId: null as string | null }],
  createdAt: '2026-11-30T08:00:00.000Z',
  updatedAt: '2026-11-30T08:00:00.000Z',
  confirmedAt: null,
  cancelledAt: null,
};
/** The answer to a booking whose creative (12 s) is longer than the display's 10 s slot. */
export const heldBookingWithWarningExample = {
  ...heldBookingExample,
  warnings: [
    {
      code: 'creative_longer_than_slot' as const,
      detail: 'The creative lasts 12000 ms but a slot lasts 10000 ms on 1 of the booked displays: it is cut at the end of its slot there.',
      displayIds: [ids.display],
    },
  ],
};
export const bookedBookingExample = {
  ...heldBookingExample,
  status: 'booked' as const,
  holdExpiresAt: null,
  displays: [{ ...heldBookingExample.displays[0]!, approval: { state: 'approved' as const, reason: null }, shownCreativeId: ids.creative }],
  confirmedAt: '2026-11-30T08:02:00.000Z',
  updatedAt: '2026-11-30T08:02:00.000Z',
};
export const cancelledBookingExample = { ...bookedBookingExample, status: 'cancelled' as const, cancelledAt: '2026-11-30T09:00:00.000Z', updatedAt: '2026-11-30T09:00:00.000Z' };
export const bookingPageExample = { items: [bookedBookingExample], nextCursor: null };
export const availabilityWindow = { from: upcoming(30), to: upcoming(37) };
export const availabilityExample = {
  displayId: ids.display,
  slotCount: 6,
  ...availabilityWindow,
  freeSlots: 5,
  blocks: [{ slot: 0, from: startsAt, to: endsAt, status: 'booked' as const, bookingId: ids.booking }],
  truncated: false,
};

// proof of play
export const playReportExample = {
  bookingId: ids.booking,
  from: '2026-12-01T00:00:00.000Z',
  to: '2026-12-02T00:00:00.000Z',
  bucket: 'hour' as const,
  currency: 'EUR',
  price: 4800,
  displays: [
    {
      displayId: ids.display,
      name: 'Alexanderplatz east entrance',
      price: 4800,
      plays: 120,
      impressions: 1440,
      creatives: [
        { creativeId: ids.creative, plays: 90, impressions: 1080 },
        { creativeId: ids.otherCreative, plays: 30, impressions: 360 },
      ],
      buckets: [
        { start: '2026-12-01T08:00:00.000Z', plays: 60, impressions: 720 },
        { start: '2026-12-01T09:00:00.000Z', plays: 60, impressions: 720 },
      ],
    },
  ],
  creatives: [
    { creativeId: ids.creative, plays: 90, impressions: 1080 },
    { creativeId: ids.otherCreative, plays: 30, impressions: 360 },
  ],
  totals: { plays: 120, impressions: 1440 },
};
export const playReportCsvExample =
  'booking_id,display_id,display_name,creative_id,bucket,bucket_start,plays,impressions\r\n' +
  `${ids.booking},${ids.display},Alexanderplatz east entrance,${ids.creative},hour,2026-12-01T08:00:00.000Z,60,720\r\n` +
  `${ids.booking},${ids.display},Alexanderplatz east entrance,${ids.creative},hour,2026-12-01T09:00:00.000Z,30,360\r\n` +
  `${ids.booking},${ids.display},Alexanderplatz east entrance,${ids.otherCreative},hour,2026-12-01T09:00:00.000Z,30,360\r\n`;
export const playRejectionsExample = {
  displayId: ids.display,
  total: 14,
  codes: [
    { code: 'duplicate_slot' as const, rejected: 12, firstAt: '2026-12-01T08:00:09.000Z', lastAt: '2026-12-01T09:41:00.000Z', lastDetail: 'the booking already earned a play in this occurrence of its slot on this display' },
    { code: 'in_future' as const, rejected: 2, firstAt: '2026-12-01T08:10:00.000Z', lastAt: '2026-12-01T08:10:00.000Z', lastDetail: "startedAt is more than 120000 ms ahead of the server's clock" },
  ],
};

// display commands
export const newCommandExample = { kind: 'reload' as const };
export const commandExample = {
  id: ids.command,
  displayId: ids.display,
  kind: 'reload' as const,
  args: {},
  status: 'pending' as const,
  createdAt: '2026-11-30T08:00:00.000Z',
  expiresAt: '2026-11-30T09:00:00.000Z',
  deliveredAt: null,
  completedAt: null,
  result: null,
};
export const commandListExample = { items: [commandExample] };

/** A problem document as the kit renders it, for the standard error responses. */
export const problemExample = (slug: string, title: string, status: number, detail: string, extra: Record<string, unknown> = {}) => ({
  type: PROBLEM_TYPE_BASE + slug,
  title,
  status,
  detail,
  ...extra,
  requestId: '3f0c1a52d4e24b8a',
});

// content approval
export const approvalExample = {
  id: 'a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d',
  operatorId: ids.operator,
  creativeId: ids.creative,
  state: 'pending' as const,
  reason: null,
  decidedBy: null,
  decidedAt: null,
  createdAt: '2026-11-30T08:02:00.000Z',
  creative: { advertiserId: ids.advertiser, name: 'Spring sale', type: 'text' as const, mediaUrl: null, body: 'Spring sale: 20 % off everything', durationMs: 10_000 },
};
export const approvedExample = { ...approvalExample, state: 'approved' as const, decidedBy: ids.operator, decidedAt: '2026-11-30T08:10:00.000Z' };
export const rejectApprovalExample = { reason: 'No alcohol advertising near the school entrance.' };
export const rejectedExample = { ...approvedExample, state: 'rejected' as const, reason: rejectApprovalExample.reason };
export const approvalPageExample = { items: [approvalExample], nextCursor: null };
export const trustAdvertiserExample = { advertiserId: ids.advertiser };
export const trustedAdvertiserExample = { advertiserId: ids.advertiser, operatorId: ids.operator, createdAt: '2026-11-30T08:20:00.000Z' };
export const trustedAdvertiserPageExample = { items: [trustedAdvertiserExample], nextCursor: null };

// emergency override
export const createEmergencyExample = { displayIds: [ids.display], message: 'Please leave the building by the nearest exit.' };
export const emergencyExample = {
  id: 'e3e3e3e3-1111-4222-8333-444455556666',
  displayIds: [ids.display],
  message: createEmergencyExample.message,
  creativeId: null,
  type: 'text' as const,
  mediaUrl: `${BASE}/media/5d41402abc4b2a76b9719d911017c592ae1d3a6b2f1b5e6c7d8e9f0a1b2c3d4e`,
  createdBy: ids.operator,
  startedAt: '2026-11-30T10:00:00.000Z',
  clearedAt: null as string | null,
  clearedBy: null as string | null,
};
export const clearedEmergencyExample = { ...emergencyExample, clearedAt: '2026-11-30T10:20:00.000Z', clearedBy: ids.operator };
export const emergencyPageExample = { items: [emergencyExample], nextCursor: null };
