import { ConfigError, createLogger, onShutdown } from '@marquee/service-kit';
import { loadDeviceTcpConfig } from './config.ts';
import { startDeviceTcp } from './server.ts';

try {
  const config = loadDeviceTcpConfig();
  const logger = createLogger('device-tcp', config.LOG_LEVEL);
  const running = await startDeviceTcp(config, { logger });
  onShutdown(logger, config.SHUTDOWN_GRACE_MS, [{ name: 'device-tcp', run: () => running.close() }]);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
