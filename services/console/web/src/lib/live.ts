/**
 * Live status of displays, bookings and commands from GET /v2/events. While the stream is up,
 * nothing polls: a display's status is written straight into the cached display (no request), and
 * a booking or command event refetches the queries that show it. While it is down, live queries
 * poll slowly (`useLiveRefetch`) until it is back; a reconnect the server cannot resume refetches
 * everything live once.
 */
import { useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from 'react';
import type { components } from '../api/schema.ts';
import { API_BASE, authFetch } from '../api/session.ts';
import { runEventStream } from './event-stream.ts';

type StreamEvent = components['schemas']['LiveStreamEvent'];
type Display = components['schemas']['Display'];
type Page<T> = { items: T[]; nextCursor: string | null };

export interface LiveUpdates {
  mode: 'polling' | 'stream';
  /** How often live queries poll while there is no stream. */
  pollMs: number;
}

/** Polling only when the stream is lost: slow, the stream normally comes back within seconds. */
export const FALLBACK_POLL_MS = 30_000;

const LiveUpdatesContext = createContext<LiveUpdates>({ mode: 'polling', pollMs: FALLBACK_POLL_MS });

/** refetchInterval for a query that shows live state: off while the stream is up, slow without it. */
export function useLiveRefetch(): number | false {
  const live = useContext(LiveUpdatesContext);
  return live.mode === 'polling' ? live.pollMs : false;
}

/** Whether the stream is up (the page says "live" or "reconnecting"). */
export const useLiveMode = () => useContext(LiveUpdatesContext).mode;

/** Keeps the signed-in user's event stream open while mounted and applies its events to the query cache. */
export function LiveUpdatesProvider({ children, pollMs = FALLBACK_POLL_MS }: { children: ReactNode; pollMs?: number }) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<LiveUpdates['mode']>('polling');
  useEffect(
    () =>
      runEventStream<StreamEvent>({
        open: (headers, signal) => authFetch(new Request(`${API_BASE}/events`, { headers: { accept: 'text/event-stream', ...headers }, signal })),
        onEvent: (event) => applyEvent(queryClient, event),
        onConnection: (connected) => setMode(connected ? 'stream' : 'polling'),
      }),
    [queryClient],
  );
  return createElement(LiveUpdatesContext.Provider, { value: { mode, pollMs } }, children);
}

/** What one event changes in the cache. */
export function applyEvent(queryClient: QueryClient, event: StreamEvent): void {
  switch (event.type) {
    case 'stream.open':
      // Events may have been missed (first connect, or too long away to replay): refetch what is live.
      if (!event.resumed) for (const key of ['display', 'displays', 'bookings', 'booking', 'commands', 'report', 'approvals', 'content-choices']) void queryClient.invalidateQueries({ queryKey: [key] });
      return;
    case 'display.status': {
      const presence = { online: event.online, lastSeenAt: event.lastSeenAt, appliedVersion: event.appliedVersion, playlistVersion: event.playlistVersion };
      const update = (d: Display): Display => (d.id === event.displayId && 'presence' in d ? { ...d, presence } : d);
      queryClient.setQueryData<Display>(['display', event.displayId, 'owner'], (d) => d && update(d));
      queryClient.setQueriesData<InfiniteData<Page<Display>>>({ queryKey: ['displays'] }, (data) =>
        data?.pages ? { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map(update) })) } : data,
      );
      return;
    }
    case 'booking.changed':
      void queryClient.invalidateQueries({ queryKey: ['booking', event.bookingId] });
      void queryClient.invalidateQueries({ queryKey: ['bookings'] });
      void queryClient.invalidateQueries({ queryKey: ['report', event.bookingId] });
      // A confirmation or swap on a `review` display puts a creative in its operator's queue.
      void queryClient.invalidateQueries({ queryKey: ['approvals'] });
      return;
    case 'command.result':
      void queryClient.invalidateQueries({ queryKey: ['commands', event.displayId] });
      return;
    case 'approval.changed':
      // The review queue, bookings' approval states, and what an operator may choose as house content.
      void queryClient.invalidateQueries({ queryKey: ['approvals'] });
      void queryClient.invalidateQueries({ queryKey: ['booking'] });
      void queryClient.invalidateQueries({ queryKey: ['content-choices'] });
      return;
  }
}
