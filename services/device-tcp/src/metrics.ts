/** device-tcp's Prometheus metrics, registered on the service's own registry. */
import { Counter, Gauge, Histogram, type Registry } from '@marquee/service-kit';

export interface DeviceGaugeSource {
  connectionCount(): number;
  sessionCount(): number;
  displaysBehind(): number;
  presencePending(): number;
}

/**
 * Per-frame figures kept in plain numbers on the hot path and handed to prom-client when metrics
 * are read: a labelled counter's lookup per frame cost more than the rest of a push's bookkeeping.
 */
export class FrameTally {
  framesIn = new Map<string, number>();
  framesOut = new Map<string, number>();
  bytesIn = 0;
  /** Seconds from a change to its frame being written, one per pushed playlist. */
  pushLatencies: number[] = [];

  in(type: string): void {
    this.framesIn.set(type, (this.framesIn.get(type) ?? 0) + 1);
  }

  out(type: string): void {
    this.framesOut.set(type, (this.framesOut.get(type) ?? 0) + 1);
  }
}

function drainCounts(counts: Map<string, number>, counter: Counter<'type'>): void {
  for (const [type, n] of counts) counter.inc({ type }, n);
  counts.clear();
}

export function createDeviceMetrics(registry: Registry) {
  const registers = [registry];
  const tally = new FrameTally();
  return {
    tally,
    framesIn: new Counter({ name: 'device_tcp_frames_in_total', help: 'Frames received, by message type', labelNames: ['type'] as const, registers, collect() { drainCounts(tally.framesIn, this); } }),
    framesOut: new Counter({ name: 'device_tcp_frames_out_total', help: 'Frames sent, by message type', labelNames: ['type'] as const, registers, collect() { drainCounts(tally.framesOut, this); } }),
    bytesIn: new Counter({
      name: 'device_tcp_bytes_in_total',
      help: 'Bytes received from displays',
      registers,
      collect() {
        this.inc(tally.bytesIn);
        tally.bytesIn = 0;
      },
    }),
    closed: new Counter({ name: 'device_tcp_connections_closed_total', help: 'Closed connections, by reason', labelNames: ['reason'] as const, registers }),
    handshakes: new Counter({ name: 'device_tcp_handshakes_total', help: 'Handshakes, by result', labelNames: ['result'] as const, registers }),
    plays: new Counter({ name: 'device_tcp_plays_total', help: 'Play records, by outcome', labelNames: ['outcome'] as const, registers }),
    pushLatency: new Histogram({
      name: 'device_tcp_push_latency_seconds',
      help: 'Time from a playlist change (publish time if known, else bus receipt) to the playlist frame being written',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
      collect() {
        for (const seconds of tally.pushLatencies) this.observe(seconds);
        tally.pushLatencies = [];
      },
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
