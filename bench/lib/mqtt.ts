/**
 * The few MQTT 3.1.1 packets the broker peer of T1/T2 needs (CONNECT, SUBSCRIBE, PUBLISH at QoS 0,
 * PINGREQ, DISCONNECT) and a parser for what a broker sends back (CONNACK, SUBACK, PUBLISH,
 * PINGRESP). Hand-written rather than the `mqtt` package: a subscriber here is one socket and a
 * parse loop, as light as the display simulator's client, so 10 000 of them in two worker
 * processes measure the broker rather than the client library.
 */
import { connect as tcpConnect, type Socket } from 'node:net';

export const PACKET = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, SUBSCRIBE: 8, SUBACK: 9, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14 } as const;

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

const utf8 = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

const packet = (firstByte: number, body: Buffer) => Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body]);

/** CONNECT with a clean session and no credentials. */
export function connectPacket(clientId: string, keepAliveSec: number): Buffer {
  const header = Buffer.concat([utf8('MQTT'), Buffer.from([4, 0x02, keepAliveSec >> 8, keepAliveSec & 0xff])]);
  return packet(PACKET.CONNECT << 4, Buffer.concat([header, utf8(clientId)]));
}

export function subscribePacket(packetId: number, topic: string): Buffer {
  return packet((PACKET.SUBSCRIBE << 4) | 0x02, Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), utf8(topic), Buffer.from([0])]));
}

/** PUBLISH at QoS 0 (no packet id): what a broker fans out to a display with no acknowledgement of its own. */
export function publishPacket(topic: string, payload: Buffer): Buffer {
  return packet(PACKET.PUBLISH << 4, Buffer.concat([utf8(topic), payload]));
}

export const PINGREQ = Buffer.from([PACKET.PINGREQ << 4, 0]);
export const DISCONNECT = Buffer.from([PACKET.DISCONNECT << 4, 0]);

export interface MqttPacket {
  type: number;
  flags: number;
  body: Buffer;
}

/** Splits a byte stream into packets (a packet may span reads, a read may hold many). */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onPacket: (p: MqttPacket) => void): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      while (i < buf.length && i < at + 5) {
        const byte = buf[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || buf.length - i < length) break;
      onPacket({ type: buf[at]! >> 4, flags: buf[at]! & 0x0f, body: buf.subarray(i, i + length) });
      at = i + length;
    }
    this.pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
  }
}

/** Topic and payload of a QoS 0 PUBLISH body. */
export function readPublish(body: Buffer): { topic: string; payload: Buffer } {
  const topicLength = body.readUInt16BE(0);
  return { topic: body.toString('utf8', 2, 2 + topicLength), payload: body.subarray(2 + topicLength) };
}

export interface MqttClientOptions {
  host: string;
  port: number;
  clientId: string;
  keepAliveSec: number;
  /** Subscribed after CONNACK. */
  topic?: string;
  localAddress?: string;
  onPublish?: (topic: string, payload: Buffer) => void;
}

/** One connection: resolves once CONNACK (and SUBACK, when subscribing) arrived. */
export function connectMqtt(o: MqttClientOptions): Promise<{ socket: Socket; pingresps: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    socket.setNoDelay(true);
    const reader = new PacketReader();
    let pingresps = 0;
    const ready = () => resolve({ socket, pingresps: () => pingresps });
    socket.once('error', reject);
    socket.on('connect', () => socket.write(connectPacket(o.clientId, o.keepAliveSec)));
    socket.on('data', (chunk) =>
      reader.push(chunk, (p) => {
        if (p.type === PACKET.CONNACK) {
          if (p.body[1] !== 0) return reject(new Error(`CONNACK return code ${p.body[1]}`));
          if (o.topic) socket.write(subscribePacket(1, o.topic));
          else ready();
        } else if (p.type === PACKET.SUBACK) {
          if (p.body[2] === 0x80) return reject(new Error(`SUBSCRIBE ${o.topic} refused`));
          ready();
        } else if (p.type === PACKET.PUBLISH) {
          const { topic, payload } = readPublish(p.body);
          o.onPublish?.(topic, payload);
        } else if (p.type === PACKET.PINGRESP) {
          pingresps++;
        }
      }),
    );
  });
}
