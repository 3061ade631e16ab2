/** TOPIC_DISPLAY_COMMAND: an operator's command reaches the display if its session is here. */
import type { DeviceServer } from '../device-server.ts';
import type { DisplayCommand } from '../directory.ts';
import type { Session } from '../session.ts';

export function onDisplayCommand(server: DeviceServer, cmd: DisplayCommand): void {
  const session = server.sessionFor(cmd.displayId);
  if (session?.isOpen) sendCommand(session, cmd);
}

/** Sends a command unless it has expired (live from the bus, or pending at hello). */
export function sendCommand(session: Session, cmd: DisplayCommand): void {
  const expires = Date.parse(cmd.expiresAt);
  if (!Number.isFinite(expires) || expires <= Date.now()) return;
  session.send({ type: 'command', commandId: cmd.commandId, kind: cmd.kind, args: cmd.args ?? {}, expiresAt: cmd.expiresAt });
}
