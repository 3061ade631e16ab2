import { createLogger, createMemoryBus, createMetrics, type MessageBus } from '@marquee/service-kit';
import { DeviceServer } from '../../src/device-server.ts';
import type { DeviceServerOptions } from '../../src/options.ts';
import { createDeviceMetrics } from '../../src/metrics.ts';
import { MemoryDirectory } from './memory-directory.ts';
import { RawClient } from './raw-client.ts';

export interface Harness {
  server: DeviceServer;
  directory: MemoryDirectory;
  bus: MessageBus;
  metrics: ReturnType<typeof createMetrics>;
  connect(localAddress?: string): Promise<RawClient>;
  close(): Promise<void>;
}

/**
 * Fast timings so timeout tests stay short. Except the heartbeat timeout: test clients rarely
 * send heartbeats, and a session cut for silence on a slow machine fails tests about something
 * else; the heartbeat test sets its own short one.
 */
export const fastOptions: Partial<DeviceServerOptions> = {
  host: '127.0.0.1',
  port: 0,
  helloTimeoutMs: 400,
  heartbeatIntervalMs: 200,
  heartbeatTimeoutMs: 10_000,
  sweepIntervalMs: 25,
  presenceFlushMs: 50,
};

export async function startHarness(
  options: Partial<DeviceServerOptions> = {},
  shared: { directory?: MemoryDirectory; bus?: MessageBus } = {},
): Promise<Harness> {
  const directory = shared.directory ?? new MemoryDirectory();
  const metrics = createMetrics('device-tcp');
  const bus = shared.bus ?? createMemoryBus({ registry: metrics.registry });
  const server = new DeviceServer(
    { ...fastOptions, ...options },
    { directory, bus, logger: createLogger('device-tcp', 'silent'), metrics: createDeviceMetrics(metrics.registry) },
  );
  await server.listen();
  const clients: RawClient[] = [];
  return {
    server,
    directory,
    bus,
    metrics,
    async connect(localAddress) {
      const c = await RawClient.connect(server.port, localAddress);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns truthy or fails after timeoutMs. */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
