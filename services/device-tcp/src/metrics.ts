/** device-tcp's Prometheus metrics, registered on the service's own registry. */
import { Counter, Gauge, Histogram, type Registry } from '@marquee/service-kit';

export interface DeviceGaugeSource {
  connectionCount(): number;
  sessionCount(): number;
  displaysBehind(): number;
  presencePending(): number;
}

export function createDeviceMetrics(registry: Registry) {
  const registers = [registry];
  return {
    framesIn: new Counter({ name: 'device_tcp_frames_in_total', help: 'Frames received, by message type', labelNames: ['type'] as const, registers }),
    framesOut: new Counter({ name: 'device_tcp_frames_out_total', help: 'Frames sent, by message type', labelNames: ['type'] as const, registers }),
    bytesIn: new Counter({ name: 'device_tcp_bytes_in_total', help: 'Bytes received from displays', registers }),
    closed: new Counter({ name: 'device_tcp_connections_closed_total', help: 'Closed connections, by reason', labelNames: ['reason'] as const, registers }),
    handshakes: new Counter({ name: 'device_tcp_handshakes_total', help: 'Handshakes, by result', labelNames: ['result'] as const, registers }),
    plays: new Counter({ name: 'device_tcp_plays_total', help: 'Play records, by outcome', labelNames: ['outcome'] as const, registers }),
    pushLatency: new Histogram({
      name: 'device_tcp_push_latency_seconds',
      help: 'Time from a playlist change (publish time if known, else bus receipt) to the playlist frame being written',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    bindGauges(source: DeviceGaugeSource) {
      new Gauge({ name: 'device_tcp_connections', help: 'Open TCP connections (any state)', registers, collect() { this.set(source.connectionCount()); } });
      new Gauge({ name: 'device_tcp_sessions', help: 'Authenticated display sessions', registers, collect() { this.set(source.sessionCount()); } });
      new Gauge({ name: 'device_tcp_displays_behind', help: 'Connected displays whose applied playlist version differs from the latest known (older or newer)', registers, collect() { this.set(source.displaysBehind()); } });
      new Gauge({ name: 'device_tcp_presence_pending', help: 'Presence events waiting to be reported to api-v2', registers, collect() { this.set(source.presencePending()); } });
    },
  };
}

export type DeviceMetrics = ReturnType<typeof createDeviceMetrics>;
