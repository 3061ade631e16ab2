/**
 * The platform as the web console sees it, over real sockets: account + api-v2 (real PostgreSQL
 * and Redis), device-tcp for simulated displays, the console service, and the local edge routing
 * /v2 to api-v2 and everything else to the console, on one port.
 */
import { loadConsoleConfig, startConsole, type RunningConsole } from '@marquee/console';
import { loadDeviceTcpConfig, startDeviceTcp, type RunningDeviceTcp } from '@marquee/device-tcp';
import { startEdge, type Edge } from '../../scripts/local/edge.ts';
import { buildConsole } from '../../services/console/scripts/build-web.mjs';
import { deviceTcpEnv, startTestPlatform, type TestPlatform } from './platform.ts';

export interface ConsolePlatform {
  platform: TestPlatform;
  device: RunningDeviceTcp;
  console: RunningConsole;
  edge: Edge;
  /** What a browser opens: the edge's origin. */
  url: string;
  close(): Promise<void>;
}

export async function startConsolePlatform(name: string): Promise<ConsolePlatform> {
  await buildConsole({ log: () => {} }); // built at npm install; rebuilt only if web/ changed since
  const logLevel = process.env.TEST_LOG_LEVEL ?? 'silent';
  const platform = await startTestPlatform(name);
  const device = await startDeviceTcp(
    loadDeviceTcpConfig(deviceTcpEnv(platform, { INSTANCE_ID: `${name}-tcp`, HEARTBEAT_INTERVAL_MS: '1000', SHUTDOWN_GRACE_MS: '1000' })),
  );
  const webConsole = await startConsole(loadConsoleConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: logLevel }));
  const edge = await startEdge({ host: '127.0.0.1', port: 0, routes: [{ prefix: '/v2', target: platform.apiV2.url }], fallback: webConsole.url });
  return {
    platform,
    device,
    console: webConsole,
    edge,
    url: edge.url,
    async close() {
      await edge.close();
      await webConsole.close();
      await device.close();
      await platform.close();
    },
  };
}
