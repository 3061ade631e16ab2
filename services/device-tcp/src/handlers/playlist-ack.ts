/** `playlist_ack` (protocol §5): the display now shows this version. */
import { playlistAckSchema, type TypedMessage } from '@marquee/display-protocol';
import type { Session } from '../session.ts';

export function playlistAck(session: Session, msg: TypedMessage): void {
  const parsed = playlistAckSchema.safeParse(msg);
  if (!parsed.success) return session.invalid(msg.type, parsed.error.issues);
  session.reportApplied(parsed.data.version);
}
