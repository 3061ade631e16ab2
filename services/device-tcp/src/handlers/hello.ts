/** `hello` (protocol §5): starts the handshake; once a session is open it is a mistake, not fatal. */
import { describeIssues, helloSchema, type TypedMessage } from '@marquee/display-protocol';
import { runHandshake } from '../handshake.ts';
import type { Session } from '../session.ts';

export function hello(session: Session, msg: TypedMessage): void {
  if (!session.awaitingHello) return session.sendError('invalid_message', 'already authenticated', false, { ref: 'hello' });
  const parsed = helloSchema.safeParse(msg);
  if (!parsed.success) {
    session.server.deps.metrics?.handshakes.inc({ result: 'invalid' });
    return session.fail('invalid_hello', describeIssues(parsed.error.issues));
  }
  void runHandshake(session, parsed.data);
}
