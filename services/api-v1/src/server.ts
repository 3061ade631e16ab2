import { createInternalClient, createLogger, createMetrics, listen, ownCredential, type Logger } from '@marquee/service-kit';
import { createApiV1App } from './app.ts';
import type { ApiV1Config } from './config.ts';

export interface RunningApiV1 {
  url: string;
  close(): Promise<void>;
}

/**
 * Budgets: a v1 request makes up to four api-v2 calls, so each is short, retried once when
 * idempotent, and the breakers half-open after 1 s so a returning api-v2 is used again quickly.
 */
export async function startApiV1(config: ApiV1Config, opts: { logger?: Logger } = {}): Promise<RunningApiV1> {
  const logger = opts.logger ?? createLogger('api-v1', config.LOG_LEVEL);
  const credential = ownCredential(config, 'api-v1');
  const account = createInternalClient({ name: 'account service', baseUrl: config.ACCOUNT_URL, timeoutMs: config.ACCOUNT_TIMEOUT_MS, retries: 1, credential });
  const apiV2 = createInternalClient({ name: 'api-v2', baseUrl: config.API_V2_URL, timeoutMs: 2_000, retries: 1, breakerHalfOpenAfterMs: 1_000 });
  const apiV2Internal = createInternalClient({
    name: 'api-v2 (internal)',
    baseUrl: config.API_V2_INTERNAL_URL,
    timeoutMs: 1_500,
    retries: 1,
    breakerHalfOpenAfterMs: 1_000,
    credential,
  });
  const app = createApiV1App({ account, apiV2, apiV2Internal, logger, metrics: createMetrics('api-v1') });
  const server = await listen(app, config.HOST, config.PORT);
  logger.info({ url: server.url }, 'api-v1 listening');
  return {
    url: server.url,
    async close() {
      const clients = [account, apiV2, apiV2Internal];
      try {
        await server.close(config.SHUTDOWN_GRACE_MS);
      } catch (err) {
        // Requests were cut: nobody is left to answer the calls they were waiting on.
        await Promise.all(clients.map((c) => c.destroy()));
        throw err;
      }
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
