/**
 * Reconnect delays (protocol §8): full jitter between 0 and min(cap, base × 2^attempt), where
 * `attempt` counts consecutive failed connections, and never less than what the server asked
 * for (`retryAfterMs`, `reconnect.afterMs`) or what its error code demands.
 */

export interface BackoffOptions {
  /** 1 s in the protocol. */
  baseMs: number;
  /** 60 s in the protocol. */
  capMs: number;
  /** A connection that stays up this long resets `attempt` (60 s in the protocol). */
  stableMs: number;
}

export const PROTOCOL_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 60_000, stableMs: 60_000 };

/** Minimum waits after fatal errors (protocol §8). */
export const ERROR_FLOORS_MS: Readonly<Record<string, number>> = {
  auth_failed: 300_000,
  display_disabled: 300_000,
  // Another device holds these credentials; coming straight back would steal the session in turn.
  replaced: 60_000,
  // We only speak version 1; a server without it will not change within seconds.
  unsupported_protocol: 300_000,
};

export function reconnectDelay(attempt: number, floorMs: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(floorMs, random() * ceiling);
}
