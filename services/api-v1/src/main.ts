import { ConfigError, createLogger, onShutdown } from '@marquee/service-kit';
import { loadApiV1Config } from './config.ts';
import { startApiV1 } from './server.ts';

try {
  const config = loadApiV1Config();
  const logger = createLogger('api-v1', config.LOG_LEVEL);
  const running = await startApiV1(config, { logger });
  onShutdown(logger, config.SHUTDOWN_GRACE_MS, [{ name: 'api-v1', run: () => running.close() }]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
