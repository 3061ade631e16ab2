import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError, busPrefixSchema, commonConfigShape, env, loadConfig, serviceSecretsShape } from '@marquee/service-kit';
import type { DeviceServerOptions } from './options.ts';

export const deviceTcpConfigShape = {
  ...commonConfigShape,
  DEVICE_HOST: z.string().default('0.0.0.0'),
  DEVICE_PORT: env.port(7000),
  REDIS_URL: z.string().optional(),
  /** Bus channels are `<BUS_PREFIX>.<topic>`; must match api-v2's. */
  BUS_PREFIX: busPrefixSchema,
  /** api-v2's internal port (its INTERNAL_PORT), e.g. http://api-v2:3001. */
  API_V2_URL: z.string().url(),
  PROXY_PROTOCOL: z.enum(['off', 'v1', 'v2', 'any']).default('off'),
  /**
   * A TLS listener terminated here (node:tls), beside the plain one: its port, and the PEM key and
   * certificate (chain), normally as DEVICE_TLS_KEY_FILE / DEVICE_TLS_CERT_FILE (Docker secrets).
   */
  DEVICE_TLS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DEVICE_TLS_KEY: z.string().min(1).optional(),
  DEVICE_TLS_CERT: z.string().min(1).optional(),
  /** Names this replica in presence events; defaults to hostname:pid. */
  INSTANCE_ID: z.string().min(1).max(128).optional(),
  HEARTBEAT_INTERVAL_MS: env.int(30_000, 1_000, 600_000),
  /** Defaults to 2.5 × HEARTBEAT_INTERVAL_MS. */
  HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(1_800_000).optional(),
  // The protocol promises displays at least 5 s.
  HELLO_TIMEOUT_MS: env.int(5_000, 5_000, 60_000),
  MAX_FRAME_BYTES: env.int(256 * 1024, 4096, 4 * 1024 * 1024),
  MAX_PLAYS_PER_BATCH: env.int(500, 1, 10_000),
  WRITE_QUEUE_LIMIT_BYTES: env.int(1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
  MAX_CONNECTIONS_PER_ADDRESS: env.int(500, 1, 1_000_000),
  HANDSHAKES_PER_SEC_PER_ADDRESS: env.int(20, 1, 1_000_000),
  HANDSHAKE_BURST_PER_ADDRESS: env.int(100, 1, 1_000_000),
  HANDSHAKES_PER_SEC: env.int(2_000, 1, 1_000_000),
  HANDSHAKE_BURST: env.int(4_000, 1, 1_000_000),
  API_V2_CONCURRENCY: env.int(64, 1, 1_024),
  /** Hellos waiting for api-v2 (checked in batches of up to 1 000) before new ones are told to come back later. */
  MAX_HANDSHAKES_WAITING: env.int(8_192, 1, 1_000_000),
  /** A display's liveness is reported to api-v2 at most this often (keep well under api-v2's PRESENCE_STALE_MS). */
  PRESENCE_SEEN_EVERY_MS: env.int(45_000, 1_000, 600_000),
  /** On drain, each display is told to reconnect after a delay uniform in [MIN, MAX] (spreads the storm). */
  DRAIN_RECONNECT_MIN_MS: env.int(1_000, 0, 600_000),
  DRAIN_RECONNECT_MAX_MS: env.int(30_000, 0, 600_000),
  /** Its own credential (calls to api-v2's internal port) and the ops credential (its /readyz and /metrics). */
  ...serviceSecretsShape(['device-tcp', 'ops']),
};

export type DeviceTcpConfig = ReturnType<typeof loadDeviceTcpConfig>;

export function loadDeviceTcpConfig(source: Record<string, string | undefined> = process.env) {
  const config = loadConfig(deviceTcpConfigShape, source);
  const problems: string[] = [];
  if (config.DRAIN_RECONNECT_MAX_MS < config.DRAIN_RECONNECT_MIN_MS) problems.push('DRAIN_RECONNECT_MAX_MS: must not be below DRAIN_RECONNECT_MIN_MS');
  const tlsGiven = [config.DEVICE_TLS_PORT, config.DEVICE_TLS_KEY, config.DEVICE_TLS_CERT].filter((v) => v !== undefined).length;
  if (tlsGiven > 0 && tlsGiven < 3) {
    for (const name of ['DEVICE_TLS_PORT', 'DEVICE_TLS_KEY', 'DEVICE_TLS_CERT'] as const) {
      if (config[name] === undefined) problems.push(`${name}${name === 'DEVICE_TLS_PORT' ? '' : '(_FILE)'}: required with the other DEVICE_TLS_* settings (TLS needs a port, a key and a certificate)`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return { ...config, HEARTBEAT_TIMEOUT_MS: config.HEARTBEAT_TIMEOUT_MS ?? Math.round(config.HEARTBEAT_INTERVAL_MS * 2.5) };
}

export function deviceServerOptions(config: DeviceTcpConfig): Partial<DeviceServerOptions> {
  return {
    host: config.DEVICE_HOST,
    port: config.DEVICE_PORT,
    proxyProtocol: config.PROXY_PROTOCOL,
    tls:
      config.DEVICE_TLS_PORT !== undefined && config.DEVICE_TLS_KEY && config.DEVICE_TLS_CERT
        ? { host: config.DEVICE_HOST, port: config.DEVICE_TLS_PORT, key: config.DEVICE_TLS_KEY, cert: config.DEVICE_TLS_CERT }
        : null,
    instanceId: config.INSTANCE_ID ?? `${hostname()}:${process.pid}`,
    helloTimeoutMs: config.HELLO_TIMEOUT_MS,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
    heartbeatTimeoutMs: config.HEARTBEAT_TIMEOUT_MS,
    maxFrameBytes: config.MAX_FRAME_BYTES,
    maxPlaysPerBatch: config.MAX_PLAYS_PER_BATCH,
    writeQueueLimitBytes: config.WRITE_QUEUE_LIMIT_BYTES,
    maxConnectionsPerAddress: config.MAX_CONNECTIONS_PER_ADDRESS,
    handshakesPerSecPerAddress: config.HANDSHAKES_PER_SEC_PER_ADDRESS,
    handshakeBurstPerAddress: config.HANDSHAKE_BURST_PER_ADDRESS,
    handshakesPerSecTotal: config.HANDSHAKES_PER_SEC,
    handshakeBurstTotal: config.HANDSHAKE_BURST,
    directoryConcurrency: config.API_V2_CONCURRENCY,
    maxHandshakesWaiting: config.MAX_HANDSHAKES_WAITING,
    seenReportEveryMs: config.PRESENCE_SEEN_EVERY_MS,
    reconnectAfterMinMs: config.DRAIN_RECONNECT_MIN_MS,
    reconnectAfterMaxMs: config.DRAIN_RECONNECT_MAX_MS,
  };
}
