import type { Logger } from 'pino';
import { ConfigError } from './config.ts';
import { createLogger } from './logger.ts';

export type ShutdownStep = { name: string; run: () => Promise<unknown> | unknown };

/**
 * Runs the steps in order on SIGTERM/SIGINT (stop accepting → drain → close pools), then exits 0.
 * If the steps overrun the grace period the process exits 1 so an orchestrator sees the overrun.
 */
export function onShutdown(logger: Logger, graceMs: number, steps: ShutdownStep[]): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown grace period exceeded; exiting');
      process.exit(1);
    }, graceMs + 1_000);
    deadline.unref();
    runSteps(logger, steps).then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

export async function runSteps(logger: Logger, steps: ShutdownStep[]): Promise<void> {
  for (const step of steps) {
    try {
      await step.run();
      logger.debug({ step: step.name }, 'shutdown step done');
    } catch (err) {
      logger.warn({ err, step: step.name }, 'shutdown step failed');
    }
  }
}

/**
 * The whole of a service's main.ts: parse config once (a ConfigError prints its message and
 * exits 1), start, and stop gracefully on SIGTERM/SIGINT.
 */
export async function runService<C extends { LOG_LEVEL: string; SHUTDOWN_GRACE_MS: number }>(
  service: string,
  loadConfig: () => C,
  start: (config: C, opts: { logger: Logger }) => Promise<{ close(): Promise<void> }>,
): Promise<void> {
  try {
    const config = loadConfig();
    const logger = createLogger(service, config.LOG_LEVEL);
    const running = await start(config, { logger });
    onShutdown(logger, config.SHUTDOWN_GRACE_MS, [{ name: service, run: () => running.close() }]);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
}
