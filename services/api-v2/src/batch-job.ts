import type { Logger } from '@marquee/service-kit';

/** A job that works through batches on a timer and on demand. */
export interface BatchJob<T> {
  /** Runs the job now (also what the timer runs); resolves with every item it handled. */
  runOnce(): Promise<T[]>;
  /** Stops the timer and waits for a run in progress, so the pool can close cleanly. */
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, calls `batch` until it returns fewer than `batchSize` items or the job is
 * stopped; one run at a time. A failed run is logged and tried again on the next tick.
 */
export function startBatchJob<T>(opts: {
  what: string;
  intervalMs: number;
  batchSize: number;
  logger: Logger;
  batch: () => Promise<T[]>;
}): BatchJob<T> {
  let running: Promise<T[]> | undefined;
  let stopped = false;

  const runOnce = async () => {
    const handled: T[] = [];
    for (;;) {
      const batch = await opts.batch();
      handled.push(...batch);
      if (batch.length < opts.batchSize || stopped) break;
    }
    if (handled.length) opts.logger.info({ count: handled.length }, opts.what);
    return handled;
  };

  const tick = () => {
    if (running || stopped) return;
    running = runOnce()
      .catch((err) => {
        opts.logger.warn({ err }, `${opts.what}: failed; retrying on the next tick`);
        return [];
      })
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
