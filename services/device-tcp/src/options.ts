/** What a DeviceServer is configured with (config.ts maps the environment onto it) and depends on. */
import type { Logger, MessageBus } from '@marquee/service-kit';
import type { DisplayDirectory } from './directory.ts';
import type { DeviceMetrics } from './metrics.ts';
import type { ProxyMode } from './proxy-protocol.ts';

/** A second listener that terminates TLS itself (node:tls); its connections carry no PROXY header. */
export interface DeviceTlsOptions {
  host: string;
  port: number;
  /** PEM private key and certificate (chain). */
  key: string | Buffer;
  cert: string | Buffer;
}

export interface DeviceServerOptions {
  host: string;
  port: number;
  /** PROXY protocol expected on the plain listener (a load balancer in front). */
  proxyProtocol: ProxyMode;
  tls: DeviceTlsOptions | null;
  instanceId: string;
  helloTimeoutMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxFrameBytes: number;
  maxPlaysPerBatch: number;
  /** Outgoing bytes a connection may have queued beyond the frame being written. */
  writeQueueLimitBytes: number;
  maxConnectionsPerAddress: number;
  handshakesPerSecPerAddress: number;
  handshakeBurstPerAddress: number;
  handshakesPerSecTotal: number;
  handshakeBurstTotal: number;
  /** Concurrent calls to api-v2 (auth, playlist fetches) from this instance. */
  directoryConcurrency: number;
  /** Hellos allowed to wait for api-v2 at once; beyond it a hello is answered `unavailable`. */
  maxHandshakesWaiting: number;
  /** A display still out of step after a push is re-sent the playlist at most this often. */
  repushAfterMs: number;
  /**
   * A bus delta keeps the window of the playlist it is applied to; a held playlist generated longer
   * ago than this is not a base (the display's playlist is fetched, with a fresh 48 h window).
   */
  deltaBaseMaxAgeMs: number;
  /** Latest playlist versions are re-confirmed with api-v2 this often (heals missed bus messages). */
  versionRecheckMs: number;
  presenceFlushMs: number;
  /**
   * Liveness ("seen") is reported to api-v2 at most this often per display unless its applied
   * version changed; must stay well under api-v2's PRESENCE_STALE_MS (90 s by default).
   */
  seenReportEveryMs: number;
  sweepIntervalMs: number;
  /** `reconnect.afterMs` sent on drain is uniform in [min, max]. */
  reconnectAfterMinMs: number;
  reconnectAfterMaxMs: number;
}

export const defaultDeviceServerOptions: DeviceServerOptions = {
  host: '0.0.0.0',
  port: 7000,
  proxyProtocol: 'off',
  tls: null,
  instanceId: 'device-tcp',
  helloTimeoutMs: 5_000,
  heartbeatIntervalMs: 30_000,
  heartbeatTimeoutMs: 75_000,
  maxFrameBytes: 256 * 1024,
  maxPlaysPerBatch: 500,
  writeQueueLimitBytes: 1024 * 1024,
  maxConnectionsPerAddress: 500,
  handshakesPerSecPerAddress: 20,
  handshakeBurstPerAddress: 100,
  handshakesPerSecTotal: 2_000,
  handshakeBurstTotal: 4_000,
  directoryConcurrency: 64,
  maxHandshakesWaiting: 8_192,
  repushAfterMs: 5 * 60_000,
  deltaBaseMaxAgeMs: 6 * 3600_000,
  versionRecheckMs: 5 * 60_000,
  presenceFlushMs: 1_000,
  seenReportEveryMs: 45_000,
  sweepIntervalMs: 1_000,
  reconnectAfterMinMs: 1_000,
  reconnectAfterMaxMs: 30_000,
};

export interface DeviceServerDeps {
  directory: DisplayDirectory;
  bus: MessageBus;
  logger: Logger;
  metrics?: DeviceMetrics;
}
