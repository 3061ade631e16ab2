/**
 * The Mosquitto peer's two sides, as the display fleet has them: subscribers in worker processes
 * (mqtt-worker.ts) and one publisher connection in the runner that sends one message per display.
 */
import type { Socket } from 'node:net';
import { epochNow } from './displays.ts';
import { connectMqtt, publishPacket } from './mqtt.ts';
import { SimProcess, type MqttWorkerStatus } from './sim.ts';

export interface MqttFleet {
  workers: SimProcess[];
  /** topics per worker, in connect order */
  shards: string[][];
  status(): Promise<MqttWorkerStatus>;
  /** Receipt times (epoch ms, null if not received) of the payload with `version`, over all subscribers. */
  received(version: number): Promise<{ times: (number | null)[]; missing: number }>;
  close(): Promise<void>;
}

export interface MqttFleetOptions {
  port: number;
  topics: string[];
  workers: number;
  /** connects per second over all workers */
  rate: number;
  perAddress: number;
  /** First x in 127.0.x.y; keep clear of the display simulators' addresses. */
  addressBase: number;
  heartbeatMs: number;
}

export async function connectMqttFleet(name: string, o: MqttFleetOptions): Promise<MqttFleet> {
  const per = Math.ceil(o.topics.length / o.workers);
  const workers = Array.from({ length: o.workers }, (_, w) => new SimProcess(`${name}-mqtt-${w}`, 'mqtt-worker.ts'));
  const shards = Array.from({ length: o.workers }, (_, w) => o.topics.slice(w * per, (w + 1) * per));
  const status = async () => {
    const all = await Promise.all(workers.map((w) => w.call<MqttWorkerStatus>({ op: 'status' })));
    const t: MqttWorkerStatus = { total: 0, online: 0, pingsSent: 0, pingresps: 0, parseFailures: 0, errors: {} };
    for (const s of all) {
      for (const k of ['total', 'online', 'pingsSent', 'pingresps', 'parseFailures'] as const) t[k] += s[k];
      for (const [c, n] of Object.entries(s.errors)) t.errors[c] = (t.errors[c] ?? 0) + n;
    }
    return t;
  };
  const fleet: MqttFleet = {
    workers,
    shards,
    status,
    async received(version) {
      const parts = await Promise.all(workers.map((w) => w.call<{ times: (number | null)[]; missing: number }>({ op: 'received', version })));
      return { times: parts.flatMap((p) => p.times), missing: parts.reduce((n, p) => n + p.missing, 0) };
    },
    async close() {
      for (const w of workers) await w.close();
    },
  };
  try {
    await Promise.all(
      workers.map((w, i) =>
        w.call({
          op: 'connect',
          topics: shards[i]!,
          port: o.port,
          rate: Math.max(1, Math.round(o.rate / o.workers)),
          perAddress: o.perAddress,
          addressBase: o.addressBase + i * 10,
          keepAliveSec: Math.ceil(o.heartbeatMs / 1000),
          heartbeatMs: o.heartbeatMs,
        }),
      ),
    );
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return fleet;
}

/** One publisher connection; `publish` writes one QoS 0 message per topic and returns when it started (epoch ms). */
export async function connectPublisher(port: number): Promise<{ publish(messages: [topic: string, payload: Buffer][]): number; close(): void }> {
  const { socket } = await connectMqtt({ host: '127.0.0.1', port, clientId: `bench-publisher-${process.pid}`, keepAliveSec: 0 });
  return {
    publish(messages) {
      const packets = messages.map(([topic, payload]) => publishPacket(topic, payload));
      const startedAt = epochNow();
      (socket as Socket).cork();
      for (const p of packets) socket.write(p);
      socket.uncork();
      return startedAt;
    },
    close: () => socket.destroy(),
  };
}
