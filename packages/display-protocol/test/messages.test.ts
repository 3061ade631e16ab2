/** The frame schemas against docs/display-protocol.md: its examples pass, and a receiver takes what §9 lets a newer server add. */
import { describe, expect, it } from 'vitest';
import {
  commandSchema,
  errorMessageSchema,
  helloSchema,
  heartbeatSchema,
  LOOP_ANCHOR_AT,
  PlaylistSchema,
  playsAckSchema,
  welcomeSchema,
} from '../src/index.ts';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('frame schemas', () => {
  it('accept the worked example of §11 and ignore unknown members (§2)', () => {
    const hello = { type: 'hello', protocol: 1, displayId: 'd-1', secret: 's3cret', playlistVersion: 0, client: { name: 'x', version: '1' } };
    expect(helloSchema.parse({ ...hello, later: true })).toEqual(hello);
    expect(heartbeatSchema.parse({ type: 'heartbeat', playlistVersion: 7 })).toEqual({ type: 'heartbeat', playlistVersion: 7 });
    const welcome = {
      type: 'welcome',
      protocol: 1,
      displayId: 'd-1',
      sessionId: 's',
      serverTime: '2025-05-01T12:00:00.000Z',
      heartbeatIntervalMs: 30000,
      heartbeatTimeoutMs: 75000,
      maxFrameBytes: 262144,
      maxPlaysPerBatch: 500,
    };
    expect(welcomeSchema.parse(welcome)).toEqual(welcome);
  });

  it('refuse frames with members off the protocol', () => {
    expect(helloSchema.safeParse({ type: 'hello', protocol: 1, displayId: '', secret: 's', playlistVersion: 0 }).success).toBe(false);
    expect(welcomeSchema.safeParse({ type: 'welcome', protocol: 1, displayId: 'd', sessionId: 's', serverTime: 'noon', heartbeatIntervalMs: 1, heartbeatTimeoutMs: 1, maxFrameBytes: 1, maxPlaysPerBatch: 1 }).success).toBe(false);
    expect(commandSchema.safeParse({ type: 'command', commandId: 'c', kind: 'reload', args: {} }).success).toBe(false); // no expiresAt
  });

  it('take error and play rejection codes a newer server may add (§9)', () => {
    expect(errorMessageSchema.parse({ type: 'error', code: 'brand_new', message: 'm', fatal: true }).code).toBe('brand_new');
    const ack = { type: 'plays_ack', batchId: 'b', accepted: [], rejected: [{ playId: uuid(1), code: 'brand_new', detail: 'd' }] };
    expect(playsAckSchema.parse(ack)).toEqual(ack);
  });

  it('describe the playlist of §6, with its loop origin as a timestamp', () => {
    const entry = {
      slot: 0,
      kind: 'booking',
      bookingId: uuid(1),
      creativeId: uuid(2),
      type: 'image',
      mediaUrl: 'https://cdn.example/m',
      mediaSha256: 'a'.repeat(64),
      durationMs: 10000,
      scripts: false,
      validFrom: '2025-05-01T00:00:00Z',
      validUntil: '2025-05-03T00:00:00Z',
    };
    const playlist = {
      displayId: 'd-1',
      version: 7,
      generatedAt: '2025-05-01T00:00:00Z',
      validFrom: '2025-05-01T00:00:00Z',
      validUntil: '2025-05-03T00:00:00Z',
      loop: { lengthMs: 60000, slotCount: 6, slotMs: 10000, anchorAt: LOOP_ANCHOR_AT },
      entries: [entry],
    };
    expect(PlaylistSchema.parse(playlist)).toEqual(playlist);
    expect(PlaylistSchema.safeParse({ ...playlist, loop: { ...playlist.loop, anchorAt: '2024-01-01T00:00:00.250Z' } }).success).toBe(true);
    expect(PlaylistSchema.safeParse({ ...playlist, entries: [{ ...entry, bookingId: 'b-1' }] }).success).toBe(false);
  });
});
