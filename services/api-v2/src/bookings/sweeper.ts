import type { Logger, MessageBus, Sql } from '@marquee/service-kit';
import { startBatchJob, type BatchJob } from '../batch-job.ts';
import { publishBookingChanges } from '../events/publish.ts';
import { sweepExpiredHolds } from './sql.ts';

const BATCH = 500;

/**
 * Periodically releases holds past their expiry (runOnce resolves with the ids it expired).
 * Booking transactions also sweep the displays they touch, so correctness never depends on this
 * timer; it keeps statuses tidy for readers. Safe with several replicas: each batch uses FOR
 * UPDATE SKIP LOCKED.
 */
export function startHoldSweeper(deps: { sql: Sql; logger: Logger; bus?: MessageBus }, intervalMs = 15_000): BatchJob<string> {
  return startBatchJob({
    what: 'expired holds released',
    intervalMs,
    batchSize: BATCH,
    logger: deps.logger,
    batch: async () => {
      const expired = await sweepExpiredHolds(deps.sql, { limit: BATCH });
      if (deps.bus) await publishBookingChanges({ ...deps, bus: deps.bus }, expired.map((id) => ({ id, status: 'expired' as const })));
      return expired;
    },
  });
}
