import type { Logger } from 'pino';
import { ConfigError } from './config.ts';
import { MigrationError } from './db.ts';
import { createLogger } from './logger.ts';
import { GracePeriodExceededError } from './serve.ts';

export type ShutdownStep = { name: string; run: () => Promise<unknown> | unknown };

/**
 * Runs the steps in order on SIGTERM/SIGINT (stop accepting → drain → close pools), then exits 0.
 * It exits 1 instead when a step failed — notably a server that had to cut requests still running
 * at the end of the grace period — or when the steps themselves overrun it, so an orchestrator
 * sees that work was lost.
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
    runSteps(logger, steps).then((failed) => {
      if (failed.length === 0) {
        logger.info('shutdown complete');
        process.exit(0);
      }
      logger.error({ failed }, 'shutdown incomplete; exiting 1');
      process.exit(1);
    });
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

/** Runs every step even after one fails (each failure logged); resolves to the names of those that failed. */
export async function runSteps(logger: Logger, steps: ShutdownStep[]): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step.run();
      logger.debug({ step: step.name }, 'shutdown step done');
    } catch (err) {
      failed.push(step.name);
      if (err instanceof GracePeriodExceededError) logger.error({ step: step.name, graceMs: err.graceMs, connectionsCut: err.connectionsCut }, 'shutdown grace period exceeded; requests still running were cut');
      else logger.warn({ err, step: step.name }, 'shutdown step failed');
    }
  }
  return failed;
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
    // Configuration and migrations explain themselves; anything else shows its stack.
    console.error(err instanceof ConfigError || err instanceof MigrationError ? `${service} cannot start: ${err.message}` : err);
    process.exit(1);
  }
}
