import { ConfigError, createLogger, onShutdown } from '@marquee/service-kit';
import { loadAccountConfig } from './config.ts';
import { startAccount } from './server.ts';

try {
  const config = loadAccountConfig();
  const logger = createLogger('account', config.LOG_LEVEL);
  const running = await startAccount(config, { logger });
  onShutdown(logger, config.SHUTDOWN_GRACE_MS, [{ name: 'account', run: () => running.close() }]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
