/**
 * Display → server messages, one handler per type (after aedes' lib/handlers). A session hands
 * every frame here once it is past the PROXY header: `hello` first, the rest once open.
 */
import type { TypedMessage } from '@marquee/display-protocol';
import type { Session } from '../session.ts';
import { commandResult } from './command-result.ts';
import { heartbeat } from './heartbeat.ts';
import { hello } from './hello.ts';
import { playlistAck } from './playlist-ack.ts';
import { plays } from './plays.ts';

export type MessageHandler = (session: Session, msg: TypedMessage) => void | Promise<void>;

const handlers = new Map<string, MessageHandler>([
  ['hello', hello],
  ['heartbeat', heartbeat],
  ['playlist_ack', playlistAck],
  ['plays', plays],
  ['command_result', commandResult],
]);

export function handle(session: Session, msg: TypedMessage): void {
  const handler = handlers.get(msg.type);
  if (handler) return void handler(session, msg);
  const type = msg.type.slice(0, 64);
  session.sendError('unsupported_message', `unknown message type "${type}"`, false, { ref: type });
}

/** Bounded label set for metrics: arbitrary client strings must not create time series. */
export function metricsLabel(type: string): string {
  return handlers.has(type) ? type : 'other';
}
