/**
 * The local :8080-style entry for end-to-end tests of v1: account + api-v2 from startTestPlatform
 * (real PostgreSQL and Redis), api-v1 in front of them, and the local edge routing /v1 and /v2 on
 * one port. api-v2 can be stopped and started again on the same ports (its public and internal
 * URLs stay valid), to test how v1 degrades and recovers without restarting api-v1.
 */
import { loadApiV1Config, startApiV1, type RunningApiV1 } from '@marquee/api-v1';
import { loadApiV2Config, startApiV2, type RunningApiV2 } from '@marquee/api-v2';
import { startEdge, type Edge } from '../../scripts/local/edge.ts';
import { TEST_REDIS_URL, deleteRedisKeys, suiteServiceSecrets } from './infra.ts';
import { ACCOUNT_TIMEOUT_MS, startTestPlatform, type TestPlatform } from './platform.ts';

export interface EdgePlatform {
  platform: TestPlatform;
  apiV1: RunningApiV1;
  edge: Edge;
  /** Base URLs through the edge: `${edge}/v1` and `${edge}/v2`. */
  v1: string;
  v2: string;
  /** api-v2's internal URL (stable across restarts). */
  apiV2InternalUrl: string;
  stopApiV2(): Promise<void>;
  /** Starts a new api-v2 on the same public and internal ports. */
  restartApiV2(): Promise<void>;
  close(): Promise<void>;
}

const port = (url: string) => new URL(url).port;

export async function startEdgePlatform(name: string): Promise<EdgePlatform> {
  const platform = await startTestPlatform(name);
  const logLevel = process.env.TEST_LOG_LEVEL ?? 'silent';
  const apiV2Urls = { url: platform.apiV2.url, internalUrl: platform.apiV2.internalUrl };
  let apiV2: RunningApiV2 | undefined = platform.apiV2;

  const apiV1 = await startApiV1(
    loadApiV1Config({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: logLevel,
      ...suiteServiceSecrets().env,
      ACCOUNT_URL: platform.account.url,
      ACCOUNT_TIMEOUT_MS,
      API_V2_URL: apiV2Urls.url,
      API_V2_INTERNAL_URL: apiV2Urls.internalUrl,
    }),
  );
  const edge = await startEdge({
    host: '127.0.0.1',
    port: 0,
    routes: [
      { prefix: '/v1', target: apiV1.url },
      { prefix: '/v2', target: apiV2Urls.url },
    ],
  });

  return {
    platform,
    apiV1,
    edge,
    v1: `${edge.url}/v1`,
    v2: `${edge.url}/v2`,
    apiV2InternalUrl: apiV2Urls.internalUrl,
    async stopApiV2() {
      const running = apiV2;
      apiV2 = undefined;
      await running?.close();
    },
    async restartApiV2() {
      if (apiV2) throw new Error('api-v2 is still running');
      apiV2 = await startApiV2(
        loadApiV2Config({
          HOST: '127.0.0.1',
          PORT: port(apiV2Urls.url),
          INTERNAL_PORT: port(apiV2Urls.internalUrl),
          LOG_LEVEL: logLevel,
          ...suiteServiceSecrets().env,
          DATABASE_URL: platform.db.serviceUrl('api-v2'),
          REDIS_URL: TEST_REDIS_URL,
          BUS_PREFIX: platform.busPrefix,
          ACCOUNT_URL: platform.account.url,
          ACCOUNT_TIMEOUT_MS,
        }),
      );
    },
    async close() {
      await edge.close();
      await apiV1.close();
      await apiV2?.close();
      // Not platform.close(): it would close the first api-v2 again after a restart.
      await platform.account.close();
      await platform.db.drop();
      await deleteRedisKeys(platform.redisKeyPrefix);
    },
  };
}
