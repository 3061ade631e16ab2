/**
 * Length-prefixed JSON framing (docs/display-protocol.md §2): uint32 big-endian payload length,
 * then that many bytes of UTF-8 JSON, one object with a string `type`. Both ends use this codec;
 * each passes its own limits. The decoder never holds more than one partial frame and copies
 * partial data out of Node's pooled read buffers so an idle connection retains nothing big.
 */

export const HEADER_BYTES = 4;
/** Displays must accept server frames up to this size (protocol §2). */
export const MAX_SERVER_FRAME_BYTES = 4 * 1024 * 1024;
/** Display → server payload limit until `welcome` (protocol §2). */
export const PRE_AUTH_MAX_FRAME_BYTES = 4096;
/** Display → server payload limit after `welcome` when the server announces none other (protocol §2). */
export const DEFAULT_MAX_FRAME_BYTES = 262_144;

export type FrameErrorCode = 'bad_frame' | 'frame_too_large';

export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A decoded payload: a JSON object with a string `type`, members not yet checked. */
export interface TypedMessage {
  type: string;
  [key: string]: unknown;
}

/** Returns false to stop decoding the rest of the chunk (e.g. the connection is being closed). */
export type PayloadHandler = (payload: Buffer) => boolean | void;

export class FrameDecoder {
  private headerBuf: Buffer | null = null;
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failed = false;

  /** The payload limit; a server raises it after `welcome`. */
  constructor(public maxFrameBytes: number) {}

  /** Bytes currently held for a partial frame (for memory accounting and tests). */
  get bufferedBytes(): number {
    return this.headerFilled + (this.body ? this.bodyFilled : 0);
  }

  /**
   * Feeds one read. Calls onPayload once per complete frame, in order. Throws FrameError on an
   * invalid length, and passes on what onPayload throws; after either the decoder refuses further
   * input (the stream cannot be trusted).
   */
  push(chunk: Buffer, onPayload: PayloadHandler): void {
    if (this.failed) throw new FrameError('bad_frame', 'the stream already carried an invalid frame');
    try {
      this.decode(chunk, onPayload);
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private decode(chunk: Buffer, onPayload: PayloadHandler): void {
    let off = 0;
    const end = chunk.length;
    while (off < end) {
      if (this.body === null) {
        let length: number;
        if (this.headerFilled === 0 && end - off >= HEADER_BYTES) {
          length = chunk.readUInt32BE(off);
          off += HEADER_BYTES;
        } else {
          const header = (this.headerBuf ??= Buffer.allocUnsafe(HEADER_BYTES));
          const n = Math.min(HEADER_BYTES - this.headerFilled, end - off);
          chunk.copy(header, this.headerFilled, off, off + n);
          this.headerFilled += n;
          off += n;
          if (this.headerFilled < HEADER_BYTES) return;
          length = header.readUInt32BE(0);
          this.headerFilled = 0;
          this.headerBuf = null;
        }
        this.checkLength(length);
        if (end - off >= length) {
          // Whole payload in this read: hand out a view, the handler consumes it synchronously.
          const payload = chunk.subarray(off, off + length);
          off += length;
          if (onPayload(payload) === false) return;
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      }
      const n = Math.min(this.body.length - this.bodyFilled, end - off);
      chunk.copy(this.body, this.bodyFilled, off, off + n);
      this.bodyFilled += n;
      off += n;
      if (this.bodyFilled === this.body.length) {
        const payload = this.body;
        this.body = null;
        this.bodyFilled = 0;
        if (onPayload(payload) === false) return;
      }
    }
  }

  private checkLength(length: number): void {
    if (length === 0) throw new FrameError('bad_frame', 'frame length 0 is invalid');
    if (length > this.maxFrameBytes) {
      throw new FrameError('frame_too_large', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
  }
}

/** Encodes one message. Throws FrameError if the JSON exceeds maxBytes (nothing partial is produced). */
export function encodeFrame(message: object, maxBytes = MAX_SERVER_FRAME_BYTES): Buffer {
  return encodeJsonFrame(JSON.stringify(message), undefined, maxBytes);
}

const NO_BYTES = Buffer.alloc(0);

/**
 * A frame whose payload is `head` followed by `tail`, JSON text already serialised: a sender that
 * shares the tail between many frames (one playlist's content for many displays) serialises it
 * once and copies it into each frame.
 */
export function encodeJsonFrame(head: string, tail: Uint8Array = NO_BYTES, maxBytes = MAX_SERVER_FRAME_BYTES): Buffer {
  const headBytes = Buffer.byteLength(head);
  const length = headBytes + tail.length;
  if (length > maxBytes) throw new FrameError('frame_too_large', `outgoing frame of ${length} bytes exceeds the limit of ${maxBytes}`);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(head, HEADER_BYTES, 'utf8');
  frame.set(tail, HEADER_BYTES + headBytes);
  return frame;
}

/** Size of the payload `message` would have on the wire. */
export function payloadBytes(message: object): number {
  return Buffer.byteLength(JSON.stringify(message));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Payload → JSON object with a string `type`, or FrameError('bad_frame'). */
export function parsePayload(payload: Uint8Array): TypedMessage {
  let text: string;
  try {
    text = strictUtf8.decode(payload);
  } catch {
    throw new FrameError('bad_frame', 'payload is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) throw new FrameError('bad_frame', 'payload starts with a BOM');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FrameError('bad_frame', 'payload is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('bad_frame', 'payload is not a JSON object');
  }
  if (typeof (value as { type?: unknown }).type !== 'string') {
    throw new FrameError('bad_frame', 'payload has no string "type"');
  }
  return value as TypedMessage;
}
