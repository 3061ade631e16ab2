/**
 * PROXY protocol v1 (text) and v2 (binary) header parsing, as specified by HAProxy
 * (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt). When enabled the header is
 * mandatory: accepting it optionally would let any client spoof its source address.
 */
import { isIP } from 'node:net';

export type ProxyMode = 'off' | 'v1' | 'v2' | 'any';

export type ProxyParse =
  | { status: 'incomplete' }
  | { status: 'error'; message: string }
  /** `source` is absent for LOCAL (v2) / UNKNOWN (v1) headers: use the socket's own address. */
  | { status: 'ok'; consumed: number; source?: { address: string; port: number } };

const V1_PREFIX = Buffer.from('PROXY ');
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Generous cap for v2 TLVs; real load balancers send far less. */
export const V2_MAX = 16 + 1024;

function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

export function parseProxyHeader(buf: Buffer, mode: Exclude<ProxyMode, 'off'>): ProxyParse {
  const maybeV1 = mode !== 'v2' && startsLike(buf, V1_PREFIX);
  const maybeV2 = mode !== 'v1' && startsLike(buf, V2_SIGNATURE);
  if (!maybeV1 && !maybeV2) return { status: 'error', message: `expected a PROXY protocol ${mode} header` };
  if (buf.length < Math.min(V1_PREFIX.length, V2_SIGNATURE.length)) return { status: 'incomplete' };
  if (maybeV1 && buf.length >= V1_PREFIX.length) return parseV1(buf);
  if (maybeV2 && buf.length >= V2_SIGNATURE.length) return parseV2(buf);
  return { status: 'incomplete' };
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    return buf.length >= V1_MAX ? { status: 'error', message: 'PROXY v1 header too long' } : { status: 'incomplete' };
  }
  if (end + 2 > V1_MAX) return { status: 'error', message: 'PROXY v1 header too long' };
  const parts = buf.toString('latin1', 0, end).split(' ');
  const consumed = end + 2;
  if (parts[1] === 'UNKNOWN') return { status: 'ok', consumed };
  if (parts.length !== 6) return { status: 'error', message: 'malformed PROXY v1 header' };
  const [, proto, src, , sport] = parts as [string, string, string, string, string, string];
  const family = isIP(src);
  if ((proto === 'TCP4' && family !== 4) || (proto === 'TCP6' && family !== 6) || (proto !== 'TCP4' && proto !== 'TCP6')) {
    return { status: 'error', message: 'malformed PROXY v1 address' };
  }
  const port = Number(sport);
  if (!/^\d{1,5}$/.test(sport) || port > 65535) return { status: 'error', message: 'malformed PROXY v1 port' };
  return { status: 'ok', consumed, source: { address: src, port } };
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { status: 'incomplete' };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { status: 'error', message: 'unsupported PROXY v2 version' };
  const command = verCmd & 0x0f;
  if (command > 1) return { status: 'error', message: 'unsupported PROXY v2 command' };
  const length = buf.readUInt16BE(14);
  const consumed = 16 + length;
  if (consumed > V2_MAX) return { status: 'error', message: 'PROXY v2 header too long' };
  if (buf.length < consumed) return { status: 'incomplete' };
  if (command === 0) return { status: 'ok', consumed }; // LOCAL: health check from the balancer itself
  const family = buf[13]! >> 4;
  if (family === 1 && length >= 12) {
    const address = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`;
    return { status: 'ok', consumed, source: { address, port: buf.readUInt16BE(24) } };
  }
  if (family === 2 && length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(16 + i * 2).toString(16));
    return { status: 'ok', consumed, source: { address: compactIPv6(groups), port: buf.readUInt16BE(48) } };
  }
  // AF_UNSPEC / AF_UNIX: no usable address, fall back to the socket's.
  if (family === 0 || family === 3) return { status: 'ok', consumed };
  return { status: 'error', message: 'malformed PROXY v2 address block' };
}

function compactIPv6(groups: string[]): string {
  // Longest run of zero groups becomes "::", as in RFC 5952.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Builds headers; used by tests and the simulator's --proxy option. */
export function buildProxyV1(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  return Buffer.from(`PROXY ${isIP(src) === 6 ? 'TCP6' : 'TCP4'} ${src} ${dst} ${srcPort} ${dstPort}\r\n`, 'latin1');
}

export function buildProxyV2Ipv4(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  const header = Buffer.alloc(16 + 12);
  V2_SIGNATURE.copy(header, 0);
  header[12] = 0x21; // version 2, PROXY
  header[13] = 0x11; // AF_INET, STREAM
  header.writeUInt16BE(12, 14);
  src.split('.').forEach((octet, i) => (header[16 + i] = Number(octet)));
  dst.split('.').forEach((octet, i) => (header[20 + i] = Number(octet)));
  header.writeUInt16BE(srcPort, 24);
  header.writeUInt16BE(dstPort, 26);
  return header;
}
