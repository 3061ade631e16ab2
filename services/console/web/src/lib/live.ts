/**
 * Live status of displays, bookings and commands. Today it polls: queries that show live state
 * pass `useLiveRefetch()` as their refetchInterval. The follow-up (GET /v2/events, Server-Sent
 * Events) plugs in here: a provider that opens the stream, invalidates the matching queries per
 * event (queryClient.invalidateQueries) and switches `mode` to 'stream', at which point polling
 * stops and nothing else in the screens changes.
 */
import { createContext, useContext } from 'react';

export interface LiveUpdates {
  mode: 'polling' | 'stream';
  /** How often live queries poll while there is no stream. */
  pollMs: number;
}

export const LiveUpdatesContext = createContext<LiveUpdates>({ mode: 'polling', pollMs: 2_000 });

/** refetchInterval for a query that shows live state: a period while polling, off with a stream. */
export function useLiveRefetch(): number | false {
  const live = useContext(LiveUpdatesContext);
  return live.mode === 'polling' ? live.pollMs : false;
}
