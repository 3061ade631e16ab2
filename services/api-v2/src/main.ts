import { ConfigError, createLogger, onShutdown } from '@marquee/service-kit';
import { loadApiV2Config } from './config.ts';
import { startApiV2 } from './server.ts';

try {
  const config = loadApiV2Config();
  const logger = createLogger('api-v2', config.LOG_LEVEL);
  const running = await startApiV2(config, { logger });
  onShutdown(logger, config.SHUTDOWN_GRACE_MS, [{ name: 'api-v2', run: () => running.close() }]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
