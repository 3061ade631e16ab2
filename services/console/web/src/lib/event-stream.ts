/**
 * Reading GET /v2/events (Server-Sent Events) with fetch: EventSource cannot send the
 * Authorization header, and the access token must not go in a URL (it would land in logs).
 */

/** One Server-Sent Events frame: an event (id, type, data) or a comment line (a heartbeat). */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: number;
}

/** Splits a text stream into frames as chunks arrive (a frame may span chunks). */
export function createSseParser(onFrame: (frame: SseFrame) => void): (chunk: string) => void {
  let buffer = '';
  let carriageReturn = false; // a chunk ended in \r: the next may start with its \n
  return (chunk) => {
    let text = carriageReturn ? `\r${chunk}` : chunk;
    carriageReturn = text.endsWith('\r');
    if (carriageReturn) text = text.slice(0, -1);
    buffer += text.replace(/\r\n?/g, '\n');
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const text = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (text) onFrame(parseFrame(text));
    }
  };
}

function parseFrame(text: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      frame.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (field === 'id') frame.id = value;
    else if (field === 'event') frame.event = value;
    else if (field === 'retry' && /^\d+$/.test(value)) frame.retry = Number(value);
  }
  return frame;
}

export interface EventStreamOptions<T> {
  /** Opens the stream (the session's authenticated fetch: a 401 refreshes the token once). */
  open: (headers: Record<string, string>, signal: AbortSignal) => Promise<Response>;
  onEvent: (event: T) => void;
  /** Connected (true, after the server's first frame) or lost (false; it reconnects by itself). */
  onConnection: (connected: boolean) => void;
  /** With no frame (not even a heartbeat) for this long the connection counts as dead. */
  silenceMs?: number;
}

/**
 * Keeps one stream open until stopped: reconnects after a loss (backing off to 15 s), sending the
 * last event id so the server replays what was missed. Returns the function that stops it.
 */
export function runEventStream<T>(opts: EventStreamOptions<T>): () => void {
  const stopped = new AbortController();
  const silenceMs = opts.silenceMs ?? 45_000;
  let lastEventId: string | undefined;
  let retryMs = 1_000;

  const connectOnce = async () => {
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    stopped.signal.addEventListener('abort', abort);
    let silence: ReturnType<typeof setTimeout> | undefined;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(abort, silenceMs);
    };
    try {
      const res = await opts.open(lastEventId ? { 'last-event-id': lastEventId } : {}, attempt.signal);
      if (!res.ok || !res.body) return false;
      heard();
      const push = createSseParser((frame) => {
        heard();
        if (frame.retry) retryMs = frame.retry;
        if (frame.data === undefined) return;
        if (frame.id) lastEventId = frame.id;
        opts.onConnection(true);
        opts.onEvent(JSON.parse(frame.data) as T);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return true;
        push(value);
      }
    } catch {
      return false;
    } finally {
      clearTimeout(silence);
      stopped.signal.removeEventListener('abort', abort);
      if (!stopped.signal.aborted) opts.onConnection(false);
    }
  };

  void (async () => {
    let failures = 0;
    while (!stopped.signal.aborted) {
      const endedCleanly = await connectOnce();
      if (stopped.signal.aborted) break;
      // A stream the server ended (its lifetime, a replica shutting down) reconnects at once; failures back off.
      failures = endedCleanly ? 0 : failures + 1;
      const wait = failures === 0 ? 250 : Math.min(15_000, retryMs * 2 ** (failures - 1));
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return () => stopped.abort();
}
