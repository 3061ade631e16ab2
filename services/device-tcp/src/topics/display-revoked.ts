/** TOPIC_DISPLAY_REVOKED: credentials rotated or display disabled; its live session here closes. */
import type { DeviceServer } from '../device-server.ts';
import type { DisplayRevoked } from '../directory.ts';

export function onDisplayRevoked(server: DeviceServer, msg: DisplayRevoked): void {
  const session = server.sessionFor(msg.displayId);
  if (!session) return;
  if (msg.reason === 'disabled') session.fail('display_disabled', 'this display was disabled');
  else session.fail('auth_failed', 'the credentials of this display are no longer valid');
}
