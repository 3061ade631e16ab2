/**
 * Framing (docs/display-protocol.md §2): a uint32 big-endian payload length, then that many bytes
 * of UTF-8 JSON — one object with a string `type`. Written from the document, not from the
 * server's code, so the client checks the contract rather than mirroring the implementation.
 */

/** A display MUST accept server frames up to this size. */
export const MAX_SERVER_FRAME_BYTES = 4 * 1024 * 1024;
/** Largest frame a display may send before `welcome`. */
export const PRE_WELCOME_MAX_FRAME_BYTES = 4096;
/** `welcome.maxFrameBytes` when a server leaves it out. */
export const DEFAULT_MAX_FRAME_BYTES = 262_144;

export interface Message {
  type: string;
  [member: string]: unknown;
}

export class FramingError extends Error {
  override name = 'FramingError';
}

/** Encodes one message; throws FramingError if its payload exceeds `maxBytes`. */
export function encodeFrame(message: Message, maxBytes: number): Buffer {
  const json = JSON.stringify(message);
  const length = Buffer.byteLength(json, 'utf8');
  if (length > maxBytes) throw new FramingError(`a "${message.type}" frame of ${length} bytes exceeds the limit of ${maxBytes}`);
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4, 'utf8');
  return frame;
}

/** Size of the payload `message` would have on the wire. */
export function payloadBytes(message: Message): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Payload bytes → message, or FramingError (invalid UTF-8 or JSON, a BOM, not an object, no string type). */
export function parsePayload(payload: Uint8Array): Message {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new FramingError('payload is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) throw new FramingError('payload starts with a BOM');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FramingError('payload is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FramingError('payload is not a JSON object');
  if (typeof (value as { type?: unknown }).type !== 'string') throw new FramingError('payload has no string "type"');
  return value as Message;
}

/**
 * Reassembles frames from a byte stream: a frame may span many reads and a read may hold many
 * frames. A large frame is collected into one buffer sized from its header (no repeated
 * concatenation); after an invalid length the decoder refuses all further input.
 */
export class FrameDecoder {
  private header = Buffer.alloc(4);
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failed = false;

  constructor(private readonly maxFrameBytes = MAX_SERVER_FRAME_BYTES) {}

  /** Feeds one read; returns the complete messages in order. Throws FramingError on a bad frame. */
  push(chunk: Buffer): Message[] {
    if (this.failed) throw new FramingError('the stream already carried an invalid frame');
    const out: Message[] = [];
    let off = 0;
    try {
      while (off < chunk.length) {
        if (this.body === null) {
          const n = Math.min(4 - this.headerFilled, chunk.length - off);
          chunk.copy(this.header, this.headerFilled, off, off + n);
          this.headerFilled += n;
          off += n;
          if (this.headerFilled < 4) break;
          this.headerFilled = 0;
          const length = this.header.readUInt32BE(0);
          if (length === 0) throw new FramingError('frame length 0 is invalid');
          if (length > this.maxFrameBytes) throw new FramingError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
          if (chunk.length - off >= length) {
            out.push(parsePayload(chunk.subarray(off, off + length)));
            off += length;
            continue;
          }
          this.body = Buffer.allocUnsafe(length);
          this.bodyFilled = 0;
        }
        const n = Math.min(this.body.length - this.bodyFilled, chunk.length - off);
        chunk.copy(this.body, this.bodyFilled, off, off + n);
        this.bodyFilled += n;
        off += n;
        if (this.bodyFilled === this.body.length) {
          const payload = this.body;
          this.body = null;
          out.push(parsePayload(payload));
        }
      }
    } catch (err) {
      this.failed = true;
      throw err;
    }
    return out;
  }
}
