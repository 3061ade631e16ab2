/**
 * A process hosting many MQTT subscribers (bench/lib/mqtt.ts) for the Mosquitto peer of T1/T2,
 * driven over IPC like sim-worker.ts, so the subscribers' CPU never counts as the broker's. Each
 * subscriber sends PINGREQ on the displays' heartbeat schedule and parses every payload it gets
 * (JSON, as a display parses a playlist frame). Times are epoch milliseconds, as in sim-worker.ts.
 */
import type { Socket } from 'node:net';
import { connectMqtt, DISCONNECT, PINGREQ } from './mqtt.ts';
import type { MqttCommand, MqttWorkerStatus } from './sim.ts';

const now = () => performance.timeOrigin + performance.now();

interface Subscriber {
  socket: Socket | null;
  pingresps: () => number;
  /** When a payload with each `version` first arrived. */
  receivedAt: Map<number, number>;
  pingTimer: NodeJS.Timeout | null;
}

const subscribers: Subscriber[] = [];
let pingsSent = 0;
let parseFailures = 0;
const errors: Record<string, number> = {};

async function connectAll(cmd: Extract<MqttCommand, { op: 'connect' }>): Promise<unknown> {
  const { topics, port, rate, perAddress, addressBase, keepAliveSec, heartbeatMs } = cmd;
  const perTick = Math.max(1, Math.round(rate / 100));
  const pending: Promise<void>[] = [];
  for (let i = 0; i < topics.length; i++) {
    const sub: Subscriber = { socket: null, pingresps: () => 0, receivedAt: new Map(), pingTimer: null };
    subscribers.push(sub);
    pending.push(
      connectMqtt({
        host: '127.0.0.1',
        port,
        clientId: topics[i]!,
        topic: topics[i]!,
        keepAliveSec,
        localAddress: `127.0.${addressBase + Math.floor(i / perAddress / 254)}.${1 + (Math.floor(i / perAddress) % 254)}`,
        onPublish: (_topic, payload) => {
          try {
            const version = (JSON.parse(payload.toString('utf8')) as { playlist: { version: number } }).playlist.version;
            if (!sub.receivedAt.has(version)) sub.receivedAt.set(version, now());
          } catch {
            parseFailures++;
          }
        },
      }).then(
        (c) => {
          sub.socket = c.socket;
          sub.pingresps = c.pingresps;
          c.socket.on('error', (err) => (errors[(err as NodeJS.ErrnoException).code ?? 'error'] = (errors[(err as NodeJS.ErrnoException).code ?? 'error'] ?? 0) + 1));
          c.socket.on('close', () => {
            sub.socket = null;
            if (sub.pingTimer) clearTimeout(sub.pingTimer);
          });
          // The display protocol's heartbeat: every heartbeatMs ± 10 %.
          const schedule = () => {
            sub.pingTimer = setTimeout(() => {
              if (!sub.socket) return;
              sub.socket.write(PINGREQ);
              pingsSent++;
              schedule();
            }, heartbeatMs * (0.9 + Math.random() * 0.2));
          };
          schedule();
        },
        (err: NodeJS.ErrnoException) => {
          errors[err.code ?? err.message] = (errors[err.code ?? err.message] ?? 0) + 1;
        },
      ),
    );
    if ((i + 1) % perTick === 0) await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  return status();
}

function status(): MqttWorkerStatus {
  let online = 0;
  let pingresps = 0;
  for (const s of subscribers) {
    if (s.socket) online++;
    pingresps += s.pingresps();
  }
  return { total: subscribers.length, online, pingsSent, pingresps, parseFailures, errors };
}

async function handle(cmd: MqttCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'connect':
      return connectAll(cmd);
    case 'status':
      return status();
    case 'received': {
      // Per subscriber (in connect order): when it first got a payload of this version, or null.
      const times = subscribers.map((s) => s.receivedAt.get(cmd.version) ?? null);
      return { times, missing: times.filter((t) => t === null).length };
    }
    case 'closeAll':
      for (const s of subscribers) {
        if (s.pingTimer) clearTimeout(s.pingTimer);
        s.socket?.end(DISCONNECT);
      }
      subscribers.length = 0;
      return { ok: true };
  }
}

process.on('message', (msg: { seq: number; cmd: MqttCommand }) => {
  handle(msg.cmd).then(
    (value) => process.send!({ seq: msg.seq, ok: true, value }),
    (err) => process.send!({ seq: msg.seq, ok: false, error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
