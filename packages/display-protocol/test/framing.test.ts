import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, MAX_SERVER_FRAME_BYTES, PRE_AUTH_MAX_FRAME_BYTES, encodeFrame, parsePayload } from '../src/framing.ts';

function collect(decoder: FrameDecoder, chunks: Buffer[]): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks) decoder.push(chunk, (p) => void out.push(parsePayload(p)));
  return out;
}

const messages = [
  { type: 'hello', n: 1, text: 'grüße ✓' },
  { type: 'heartbeat', playlistVersion: 42 },
  { type: 'plays', plays: Array.from({ length: 50 }, (_, i) => ({ i })) },
];

describe('FrameDecoder', () => {
  it('reassembles frames fed one byte at a time', () => {
    const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
    const singles = [...bytes].map((b) => Buffer.from([b]));
    const decoder = new FrameDecoder(1 << 16);
    expect(collect(decoder, singles)).toEqual(messages);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes many frames delivered in one read', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ type: 'heartbeat', playlistVersion: i }));
    const decoder = new FrameDecoder(1 << 16);
    expect(collect(decoder, [Buffer.concat(many.map((m) => encodeFrame(m)))])).toEqual(many);
  });

  it('handles splits at every position across frame boundaries', () => {
    const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new FrameDecoder(1 << 16);
      expect(collect(decoder, [bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(messages);
    }
  });

  it('does not keep a reference into the caller chunk for a partial frame', () => {
    const frame = encodeFrame({ type: 'x', pad: 'a'.repeat(100) });
    const chunk = Buffer.from(frame.subarray(0, 50));
    const decoder = new FrameDecoder(1 << 16);
    const out: unknown[] = [];
    decoder.push(chunk, (p) => void out.push(parsePayload(p)));
    chunk.fill(0); // the read buffer is reused by the runtime
    decoder.push(frame.subarray(50), (p) => void out.push(parsePayload(p)));
    expect(out).toEqual([{ type: 'x', pad: 'a'.repeat(100) }]);
  });

  it('rejects a length above the limit before the payload arrives', () => {
    const decoder = new FrameDecoder(100);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101);
    expect(() => decoder.push(header, () => {})).toThrow(expect.objectContaining({ code: 'frame_too_large' }));
    // A failed decoder refuses further input.
    expect(() => decoder.push(Buffer.from([1]), () => {})).toThrow(FrameError);
  });

  it('rejects a zero length', () => {
    const decoder = new FrameDecoder(100);
    expect(() => decoder.push(Buffer.alloc(4), () => {})).toThrow(expect.objectContaining({ code: 'bad_frame' }));
  });

  it('treats random garbage as a too-large or bad frame', () => {
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const decoder = new FrameDecoder(4096);
    expect(() => decoder.push(garbage, () => {})).toThrow(expect.objectContaining({ code: 'frame_too_large' }));
  });

  it('accepts a 4 MiB server frame and refuses anything larger without reading it', () => {
    const big = encodeFrame({ type: 'playlist', pad: 'x'.repeat(MAX_SERVER_FRAME_BYTES - 40) });
    expect(big.length - 4).toBeLessThanOrEqual(MAX_SERVER_FRAME_BYTES);
    const decoder = new FrameDecoder(MAX_SERVER_FRAME_BYTES);
    const parts: unknown[] = [];
    for (let off = 0; off < big.length; off += 65_536) decoder.push(big.subarray(off, off + 65_536), (p) => void parts.push(parsePayload(p)));
    expect(parts).toHaveLength(1);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_SERVER_FRAME_BYTES + 1);
    expect(() => new FrameDecoder(MAX_SERVER_FRAME_BYTES).push(header, () => {})).toThrow(/exceeds/);
  });

  it('refuses further input once a handler rejected a payload (a client checking what it reads)', () => {
    const decoder = new FrameDecoder(1 << 16);
    const frame = (text: string) => {
      const body = Buffer.from(text);
      return Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
    };
    expect(() => decoder.push(frame('[1]'), (p) => void parsePayload(p))).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => decoder.push(frame('{"type":"a"}'), () => {})).toThrow(FrameError);
  });

  it('stops decoding when the handler returns false', () => {
    const decoder = new FrameDecoder(1 << 16);
    let seen = 0;
    decoder.push(Buffer.concat([encodeFrame({ type: 'a' }), encodeFrame({ type: 'b' })]), () => {
      seen++;
      return false;
    });
    expect(seen).toBe(1);
  });
});

describe('parsePayload', () => {
  const bad = (s: string | Buffer) => () => parsePayload(typeof s === 'string' ? Buffer.from(s) : s);
  it('accepts an object with a string type', () => {
    expect(parsePayload(Buffer.from('{"type":"heartbeat","playlistVersion":1}'))).toEqual({ type: 'heartbeat', playlistVersion: 1 });
  });
  it.each([
    ['not json', 'hello'],
    ['array', '[1,2]'],
    ['null', 'null'],
    ['number', '42'],
    ['no type', '{"a":1}'],
    ['non-string type', '{"type":5}'],
    ['BOM', '\ufeff{"type":"x"}'],
  ])('rejects %s', (_name, text) => {
    expect(bad(text)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
  });
  it('ignores JSON whitespace around the object', () => {
    expect(parsePayload(Buffer.from(' {"type":"a"}\n'))).toEqual({ type: 'a' });
  });
  it('rejects invalid UTF-8', () => {
    expect(bad(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toThrow(expect.objectContaining({ code: 'bad_frame' }));
  });
});

describe('encodeFrame', () => {
  it('prefixes the UTF-8 byte length big-endian', () => {
    const frame = encodeFrame({ type: 'heartbeat', playlistVersion: 3 });
    expect(frame.readUInt32BE(0)).toBe(40);
    expect(frame.subarray(4).toString()).toBe('{"type":"heartbeat","playlistVersion":3}');
  });
  it('encodes the worked example of protocol §11 byte for byte', () => {
    const hello = { type: 'hello', protocol: 1, displayId: 'd-1', secret: 's3cret', playlistVersion: 0, client: { name: 'x', version: '1' } };
    const bytes = encodeFrame(hello, PRE_AUTH_MAX_FRAME_BYTES);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('00000079');
    expect(bytes.length).toBe(4 + 121);
  });
  it('refuses to produce a frame above the limit', () => {
    expect(() => encodeFrame({ type: 'x', pad: 'a'.repeat(100) }, 50)).toThrow(FrameError);
  });
});
