import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { LiveEventSchema, type LiveEventMessage } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { authenticated } from '../authz.ts';
import { bearerSecurity, createRouter, pick } from '../openapi.ts';

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_STREAM_MAX_MS = 10 * 60_000;
/** Events written but not yet taken by a slow client; beyond this the stream ends and the client resumes. */
const MAX_BACKLOG = 1_000;
/** What EventSource-style clients wait before reconnecting (the SSE `retry` field). */
const RETRY_MS = 2_000;

const StreamOpenSchema = z
  .object({
    type: z.literal('stream.open'),
    resumed: z.boolean().openapi({ description: 'true: the events missed since Last-Event-ID follow. false: refetch what you show' }),
  })
  .openapi('LiveStreamOpen');

const StreamEventSchema = z.union([StreamOpenSchema, LiveEventSchema]).openapi('LiveStreamEvent');

const LastEventIdHeader = z.object({
  'last-event-id': z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ param: { name: 'last-event-id', in: 'header' }, description: 'The `id` of the last event received: resume after it' }),
});

/**
 * GET /events: the caller's own live events as Server-Sent Events (see events/hub.ts for how
 * replicas share them). The stream ends after `liveStreamMaxMs` so a token that has expired or a
 * user whose rights changed is asked again; clients reconnect with Last-Event-ID and lose nothing.
 */
export function eventRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  app.use('/events', authenticated(deps.verifier));
  const heartbeatMs = deps.liveHeartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const maxMs = deps.liveStreamMaxMs ?? DEFAULT_STREAM_MAX_MS;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      operationId: 'streamEvents',
      tags: ['live'],
      summary: 'Your live events as Server-Sent Events: display status, bookings, command results, approvals',
      description:
        'A `text/event-stream` that stays open. Each event has `event:` = its `type`, `data:` = one JSON object (the schema below) ' +
        'and, except `stream.open`, an `id:`. It starts with `stream.open`; send the last `id` you received as `Last-Event-ID` when ' +
        'reconnecting to get what you missed (`resumed: true`), or refetch what you show when it says `resumed: false`. Comment lines ' +
        '(`: heartbeat`) keep the connection alive. You receive only events about your own displays and bookings (admins: all). ' +
        'Browsers: read it with fetch (EventSource cannot send the Authorization header; never put a token in the URL).',
      security: bearerSecurity,
      request: { headers: LastEventIdHeader },
      responses: {
        200: {
          description: 'The stream; each event\u2019s `data` is one of these',
          content: {
            'text/event-stream': {
              schema: StreamEventSchema,
              example: { type: 'display.status', displayId: '7d0c3a1e-1b2c-4d5e-8f90-1a2b3c4d5e6f', online: true, lastSeenAt: '2026-06-01T12:00:00.000Z', appliedVersion: 7, playlistVersion: 7 },
            },
          },
        },
        ...pick(401, 422),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const lastEventId = c.req.valid('header')['last-event-id'];
      const hub = deps.liveEvents;
      await hub.ready;
      c.header('X-Accel-Buffering', 'no'); // proxies must pass events on as they come
      return streamSSE(c, async (stream) => {
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => (finish = resolve));
        let backlog = 0;
        const send = (message: LiveEventMessage) => {
          if (backlog >= MAX_BACKLOG) return finish();
          backlog++;
          void stream.writeSSE({ id: message.id, event: message.event.type, data: JSON.stringify(message.event) }).finally(() => backlog--);
        };
        const { resume, stop } = hub.listen({ user, deliver: send, end: () => finish() }, lastEventId);
        // The client went away: node-server aborts the request's signal when the connection closes.
        c.req.raw.signal.addEventListener('abort', () => finish());
        stream.onAbort(() => finish());
        const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n'), heartbeatMs);
        const lifetime = setTimeout(() => finish(), maxMs);
        try {
          // Written in this order, before any later event: writes queue in the order they are started.
          void stream.writeSSE({ event: 'stream.open', data: JSON.stringify({ type: 'stream.open', resumed: resume.kind === 'replay' && lastEventId !== undefined }), retry: RETRY_MS });
          if (resume.kind === 'replay') for (const message of resume.messages) send(message);
          await finished;
        } finally {
          stop();
          clearInterval(heartbeat);
          clearTimeout(lifetime);
        }
      });
    },
  );
  return app;
}
