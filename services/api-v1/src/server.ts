import { createInternalClient, createLogger, createMetrics, listen, type Logger } from '@marquee/service-kit';
import { createApiV1App } from './app.ts';
import type { ApiV1Config } from './config.ts';

export interface RunningApiV1 {
  url: string;
  close(): Promise<void>;
}

export async function startApiV1(config: ApiV1Config, opts: { logger?: Logger } = {}): Promise<RunningApiV1> {
  const logger = opts.logger ?? createLogger('api-v1', config.LOG_LEVEL);
  const account = createInternalClient({ name: 'account service', baseUrl: config.ACCOUNT_URL, timeoutMs: 3_000 });
  const apiV2 = createInternalClient({ name: 'api-v2', baseUrl: config.API_V2_URL, timeoutMs: 3_000 });
  const app = createApiV1App({ account, apiV2, logger, metrics: createMetrics('api-v1') });
  const server = await listen(app, config.HOST, config.PORT);
  logger.info({ url: server.url }, 'api-v1 listening');
  return {
    url: server.url,
    async close() {
      await server.close(config.SHUTDOWN_GRACE_MS);
      await Promise.all([account.close(), apiV2.close()]);
    },
  };
}
