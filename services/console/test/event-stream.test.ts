/**
 * The console's event stream reader: its SSE parser on awkward chunking, and `runEventStream`
 * against a real api-v2 (GET /events on a socket) whose streams end every few hundred ms, as a
 * replica's stream lifetime or a deploy would end them: it reconnects with Last-Event-ID, the
 * server resumes it, and every event arrives once, in order.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSseParser, runEventStream, type SseFrame } from '../web/src/lib/event-stream.ts';
import { api as request } from '../../../test/support/http.ts';
import { startApiV2TestApp, type ApiV2TestApp } from '../../../test/support/api-v2-app.ts';
import { until } from '../../../test/support/until.ts';

describe('createSseParser', () => {
  it('parses frames split anywhere, CRLF line ends, multi-line data, comments and retry', () => {
    const frames: SseFrame[] = [];
    const push = createSseParser((f) => frames.push(f));
    const text = ': heartbeat\r\n\r\nevent: display.status\r\nid: 7\r\ndata: {"a":\r\ndata: 1}\r\nretry: 2000\r\n\r\nevent: x\ndata\n\n';
    for (let i = 0; i < text.length; i += 3) push(text.slice(i, i + 3));
    expect(frames).toEqual([{ comment: 'heartbeat' }, { event: 'display.status', id: '7', data: '{"a":\n1}', retry: 2000 }, { event: 'x', data: '' }]);
  });
});

describe('runEventStream against api-v2', () => {
  let h: ApiV2TestApp;
  let url: string;
  beforeAll(async () => {
    h = await startApiV2TestApp('console_events', { liveStreamMaxMs: 400 });
    url = await h.listen();
  });
  afterAll(async () => h?.close());

  it('reconnects after the server ends the stream, resumes with Last-Event-ID and loses nothing', async () => {
    const op = h.user('operator');
    const created = await request(h.v2, 'POST', '/displays', {
      name: 'hall',
      location: { lat: 1, lng: 2 },
      timezone: 'UTC',
      resolution: { widthPx: 800, heightPx: 600 },
      loop: { lengthMs: 60_000, slotCount: 4 },
      pricePerSlotHour: 10,
    }, op.auth);
    const displayId = created.body.display.id as string;

    const events: { type: string; resumed?: boolean; appliedVersion?: number | null }[] = [];
    const sentHeaders: Record<string, string>[] = [];
    const connections: boolean[] = [];
    const stop = runEventStream<(typeof events)[number]>({
      open: (headers, signal) => {
        sentHeaders.push(headers);
        return fetch(`${url}/events`, { headers: { ...op.auth, ...headers }, signal });
      },
      onEvent: (e) => events.push(e),
      onConnection: (up) => connections.push(up),
    });
    try {
      // Versions 1..6 reported one after another, each once the previous arrived, across several stream lifetimes.
      for (let version = 1; version <= 6; version++) {
        const res = await request(h.internal, 'POST', '/internal/presence', {
          events: [{ kind: 'connected', displayId, sessionId: randomUUID(), instanceId: 't', at: new Date().toISOString(), remoteAddress: '127.0.0.1', playlistVersion: version }],
        });
        expect(res.status).toBe(204);
        await until(`v${version}`, () => events.some((e) => e.type === 'display.status' && e.appliedVersion === version));
        if (version % 2 === 0) {
          const opened = sentHeaders.length;
          await until('a reconnect', () => sentHeaders.length > opened && events.filter((e) => e.type === 'stream.open').length >= sentHeaders.length);
        }
      }
    } finally {
      stop();
    }
    const versions = events.filter((e) => e.type === 'display.status').map((e) => e.appliedVersion);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
    // After the first connection every reconnect named the last event and was resumed.
    expect(sentHeaders[0]).toEqual({});
    expect(sentHeaders.slice(1).every((hd) => typeof hd['last-event-id'] === 'string')).toBe(true);
    expect(events.filter((e) => e.type === 'stream.open').slice(1).every((e) => e.resumed)).toBe(true);
    expect(connections).toContain(false);
  });
});
