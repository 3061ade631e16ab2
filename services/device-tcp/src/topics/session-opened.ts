/**
 * TOPIC_SESSION_OPENED: cross-replica replacement. Redis delivers one channel's messages to every
 * subscriber in the same order, so "the later announcement wins" is decided identically
 * everywhere: a local session closes only for an announcement that arrives after its own came back.
 */
import type { DeviceServer } from '../device-server.ts';
import type { SessionOpened } from '../directory.ts';

export function onSessionOpened(server: DeviceServer, msg: SessionOpened): void {
  const session = server.sessionFor(msg.displayId);
  if (!session) return;
  if (session.sessionId === msg.sessionId) {
    session.announced = true;
    return;
  }
  if (session.announced) session.fail('replaced', 'a newer connection for this display was accepted elsewhere');
}
