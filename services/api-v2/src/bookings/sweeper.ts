import type { Logger, MessageBus, Sql } from '@marquee/service-kit';
import { publishBookingChanges } from '../events/publish.ts';
import { sweepExpiredHolds } from './sql.ts';

export interface HoldSweeper {
  /** Runs one sweep now (also what the timer runs); resolves with the ids it expired. */
  sweepOnce(): Promise<string[]>;
  /** Stops the timer and waits for a sweep in progress, so the pool can close cleanly. */
  stop(): Promise<void>;
}

const BATCH = 500;

/**
 * Periodically releases holds past their expiry. Booking transactions also sweep the displays
 * they touch, so correctness never depends on this timer; it keeps statuses tidy for readers.
 * Safe with several replicas: each batch uses FOR UPDATE SKIP LOCKED.
 */
export function startHoldSweeper(deps: { sql: Sql; logger: Logger; bus?: MessageBus }, intervalMs = 15_000): HoldSweeper {
  let running: Promise<string[]> | undefined;
  let stopped = false;

  const sweepOnce = async () => {
    const expired: string[] = [];
    for (;;) {
      const batch = await sweepExpiredHolds(deps.sql, { limit: BATCH });
      expired.push(...batch);
      if (deps.bus) await publishBookingChanges({ ...deps, bus: deps.bus }, batch.map((id) => ({ id, status: 'expired' as const })));
      if (batch.length < BATCH || stopped) break;
    }
    if (expired.length) deps.logger.info({ count: expired.length }, 'expired holds released');
    return expired;
  };

  const tick = () => {
    if (running || stopped) return;
    running = sweepOnce()
      .catch((err) => {
        deps.logger.warn({ err }, 'hold sweep failed; retrying on the next tick');
        return [];
      })
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  return {
    sweepOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
