/** `heartbeat` (protocol §5): acknowledged; carries the version shown, so a display out of step (behind or ahead) is pushed the current playlist. */
import { heartbeatSchema, type TypedMessage } from '@marquee/display-protocol';
import type { Session } from '../session.ts';

export function heartbeat(session: Session, msg: TypedMessage): void {
  const parsed = heartbeatSchema.safeParse(msg);
  if (!parsed.success) return session.invalid(msg.type, parsed.error.issues);
  session.send({ type: 'heartbeat_ack', serverTime: new Date().toISOString() });
  session.reportApplied(parsed.data.playlistVersion);
  void session.push.pushIfOutOfStep();
}
