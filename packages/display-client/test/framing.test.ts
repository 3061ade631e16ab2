import { describe, expect, it } from 'vitest';
import { FrameDecoder, FramingError, encodeFrame, parsePayload } from '../src/framing.ts';

const frame = (payload: Buffer | string) => {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
};

describe('framing (protocol §2)', () => {
  it('encodes the worked example of §11 byte for byte', () => {
    const hello = { type: 'hello', protocol: 1, displayId: 'd-1', secret: 's3cret', playlistVersion: 0, client: { name: 'x', version: '1' } };
    const bytes = encodeFrame(hello, 4096);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('00000079');
    expect(bytes.length).toBe(4 + 121);
    // And §2's heartbeat example: 40 bytes of payload.
    expect(encodeFrame({ type: 'heartbeat', playlistVersion: 3 }, 4096).readUInt32BE(0)).toBe(40);
  });

  it('refuses to encode a frame above the limit (nothing partial)', () => {
    expect(() => encodeFrame({ type: 'x', pad: 'y'.repeat(5000) }, 4096)).toThrow(FramingError);
  });

  it('reassembles frames split over reads, byte by byte, and several in one read', () => {
    const a = frame('{"type":"a","n":1}');
    const b = frame('{"type":"b","text":"grüße"}');
    const stream = Buffer.concat([a, b, a]);
    const d1 = new FrameDecoder();
    const got = [...stream].flatMap((byte) => d1.push(Buffer.from([byte])));
    expect(got.map((m) => m.type)).toEqual(['a', 'b', 'a']);
    expect(got[1]).toEqual({ type: 'b', text: 'grüße' });
    const d2 = new FrameDecoder();
    expect(d2.push(stream).map((m) => m.type)).toEqual(['a', 'b', 'a']);
    // The end of one frame and the start of the next in one read.
    const d3 = new FrameDecoder();
    expect(d3.push(stream.subarray(0, a.length + 3))).toHaveLength(1);
    expect(d3.push(stream.subarray(a.length + 3))).toHaveLength(2);
  });

  it('accepts a 4 MiB server frame and refuses anything larger without reading it', () => {
    const big = frame(JSON.stringify({ type: 'playlist', pad: 'x'.repeat(4 * 1024 * 1024 - 40) }));
    expect(big.length - 4).toBeLessThanOrEqual(4 * 1024 * 1024);
    const d = new FrameDecoder();
    const parts = [];
    for (let off = 0; off < big.length; off += 65_536) parts.push(...d.push(big.subarray(off, off + 65_536)));
    expect(parts).toHaveLength(1);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4 * 1024 * 1024 + 1);
    expect(() => new FrameDecoder().push(header)).toThrow(/exceeds/);
  });

  it.each([
    ['length 0', Buffer.from([0, 0, 0, 0])],
    ['invalid UTF-8', frame(Buffer.from([0x7b, 0xff, 0x7d]))],
    ['a BOM', frame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"a"}')]))],
    ['invalid JSON', frame('{"type":')],
    ['an array', frame('[1]')],
    ['no type', frame('{"kind":"x"}')],
    ['a non-string type', frame('{"type":7}')],
  ])('treats %s as a broken stream', (_what, bytes) => {
    const d = new FrameDecoder();
    expect(() => d.push(bytes)).toThrow(FramingError);
    // After a bad frame nothing more is trusted.
    expect(() => d.push(frame('{"type":"a"}'))).toThrow(FramingError);
  });

  it('ignores JSON whitespace around the object', () => {
    expect(parsePayload(Buffer.from(' {"type":"a"}\n'))).toEqual({ type: 'a' });
  });
});
