/**
 * A Server-Sent Events reader for tests over a real socket, with the console's own parser: every
 * frame as it arrives (events with id, type and data; comment lines such as heartbeats) and a way
 * to wait for one.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { createSseParser, type SseFrame } from '../../services/console/web/src/lib/event-stream.ts';

export type { SseFrame };

export interface SseStream {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Parsed `data` of each event frame (comments and bare retry frames left out). */
  readonly events: { id?: string; event?: string; data: any }[];
  /** Resolves with the first frame (searching from the start) that matches; rejects after `ms`. */
  waitFor(what: string, match: (frame: SseFrame) => boolean, ms?: number): Promise<SseFrame>;
  /** Resolves once the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  // node:http rather than fetch: closing destroys exactly this socket (undici's pool may open another).
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpGet(url, { headers: { accept: 'text/event-stream', ...headers } }, resolve);
    req.on('error', reject);
  });
  const frames: SseFrame[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  res.setEncoding('utf8');
  const ok = res.statusCode === 200;
  let refused = '';
  const push = createSseParser((frame) => {
    frames.push(frame);
    notify();
  });
  const ended = new Promise<void>((resolve) => {
    res.on('data', (chunk: string) => (ok ? push(chunk) : (refused += chunk)));
    res.on('close', () => {
      if (!ok) frames.push({ data: refused });
      notify();
      resolve();
    });
  });
  if (!ok) await ended;
  return {
    status: res.statusCode!,
    headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
    frames,
    get events() {
      return frames.filter((f) => f.data !== undefined).map((f) => ({ id: f.id, event: f.event, data: JSON.parse(f.data!) }));
    },
    waitFor(what, match, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.find(match);
          if (found) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames.slice(-10))}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    ended,
    close: () => res.destroy(),
  };
}
