/** What the per-topic helpers (playlist pusher, plays and commands) need from the server. */
import type { Connection } from './connection.ts';
import type { DeviceServerDeps, DeviceServerOptions } from './options.ts';
import type { Semaphore } from './limits.ts';
import type { ErrorCode, ErrorMessage, ServerMessage } from './protocol/messages.ts';

export interface SessionIO {
  readonly options: Readonly<DeviceServerOptions>;
  readonly deps: DeviceServerDeps;
  /** Bounds concurrent api-v2 calls made on behalf of displays. */
  readonly directoryLimit: Semaphore;
  /** Writes one frame; false if not sent (closed, or cut as a slow reader). */
  send(conn: Connection, message: ServerMessage): boolean;
  /** send() for a message already serialised to JSON. */
  sendJson(conn: Connection, type: ServerMessage['type'], json: string): boolean;
  sendError(conn: Connection, code: ErrorCode, message: string, fatal: boolean, extra?: Partial<ErrorMessage>): void;
  invalid(conn: Connection, type: string, issues: readonly { path: PropertyKey[]; message: string }[]): void;
  recordSeen(conn: Connection): void;
  sessionFor(displayId: string): Connection | undefined;
  openSessions(): Iterable<Connection>;
}
