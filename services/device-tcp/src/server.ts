import {
  createInternalClient,
  createLogger,
  createMemoryBus,
  createMetrics,
  createRedisBus,
  createServiceApp,
  listen,
  ownCredential,
  serviceAuth,
  serviceSecretsOf,
  type Logger,
  type MessageBus,
} from '@marquee/service-kit';
import { deviceServerOptions, type DeviceTcpConfig } from './config.ts';
import { DeviceServer } from './device-server.ts';
import type { DisplayDirectory } from './directory.ts';
import { HttpDisplayDirectory } from './directory-http.ts';
import { createDeviceMetrics } from './metrics.ts';

export interface RunningDeviceTcp {
  /** Ops HTTP (/healthz, /readyz, /metrics). */
  url: string;
  devicePort: number;
  /** The TLS listener's port; 0 when DEVICE_TLS_PORT is not set. */
  deviceTlsPort: number;
  server: DeviceServer;
  /** Graceful: drain displays within SHUTDOWN_GRACE_MS, then stop the ops port and pools. */
  close(): Promise<void>;
}

/**
 * Starts the display TCP server and its ops HTTP port. `bus` is passed by the local launcher
 * (shared in-process bus); `directory` by tests that stand in for api-v2.
 */
export async function startDeviceTcp(
  config: DeviceTcpConfig,
  opts: { logger?: Logger; bus?: MessageBus; directory?: DisplayDirectory } = {},
): Promise<RunningDeviceTcp> {
  const logger = opts.logger ?? createLogger('device-tcp', config.LOG_LEVEL);
  const metrics = createMetrics('device-tcp');
  const ownsBus = !opts.bus;
  const bus =
    opts.bus ??
    (config.REDIS_URL
      ? createRedisBus(config.REDIS_URL, { prefix: config.BUS_PREFIX, logger, registry: metrics.registry })
      : createMemoryBus({ logger, registry: metrics.registry }));
  const apiV2 = opts.directory
    ? null
    : createInternalClient({ name: 'api-v2', baseUrl: config.API_V2_URL, timeoutMs: 3_000, connections: 64, credential: ownCredential(config, 'device-tcp') });
  const directory = opts.directory ?? new HttpDisplayDirectory(apiV2!);
  const releaseAll = async () => {
    await apiV2?.close();
    if (ownsBus) await bus.close();
  };
  let server: DeviceServer;
  try {
    // Throws on a TLS key or certificate that cannot be used.
    server = new DeviceServer(deviceServerOptions(config), { directory, bus, logger, metrics: createDeviceMetrics(metrics.registry) });
  } catch (err) {
    await releaseAll();
    throw err;
  }
  try {
    const bound = await server.listen();
    const app = createServiceApp({
      service: 'device-tcp',
      // /readyz and /metrics for the ops credential only; /healthz stays open.
      guard: serviceAuth('device-tcp-ops', serviceSecretsOf(config, ['ops'])),
      logger,
      metrics,
      readiness: {
        displays: async () => {
          if (server.isDraining) throw new Error('draining');
        },
        bus: () => bus.ping(),
      },
    });
    const ops = await listen(app, config.HOST, config.PORT);
    logger.info({ url: ops.url, devicePort: bound.port, deviceTlsPort: server.tlsPort || undefined, proxyProtocol: config.PROXY_PROTOCOL }, 'device-tcp listening');
    return {
      url: ops.url,
      devicePort: bound.port,
      deviceTlsPort: server.tlsPort,
      server,
      async close() {
        // Displays get most of the grace period; the rest covers the final presence flush.
        await server.drain(Math.max(0, config.SHUTDOWN_GRACE_MS - 1_500));
        try {
          await ops.close(1_000);
        } finally {
          await releaseAll();
        }
      },
    };
  } catch (err) {
    await server.close();
    await releaseAll();
    throw err;
  }
}
