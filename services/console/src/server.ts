import { createLogger, createMetrics, listen, type Logger } from '@marquee/service-kit';
import { createConsoleApp } from './app.ts';
import type { ConsoleConfig } from './config.ts';
import { loadSpa } from './spa.ts';

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

/** Reads the built app (refusing to start without one) and listens. */
export async function startConsole(config: ConsoleConfig, opts: { logger?: Logger } = {}): Promise<RunningConsole> {
  const logger = opts.logger ?? createLogger('console', config.LOG_LEVEL);
  const spa = await loadSpa(config.CONSOLE_STATIC_DIR);
  const server = await listen(createConsoleApp({ logger, metrics: createMetrics('console'), spa }), config.HOST, config.PORT);
  logger.info({ url: server.url, files: spa.files.size }, 'console listening');
  return { url: server.url, close: () => server.close(config.SHUTDOWN_GRACE_MS) };
}
