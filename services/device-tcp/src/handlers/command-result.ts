/** `command_result` (protocol §5, §7): relayed to api-v2; the ack tells the display whether to resend. */
import { commandResultSchema, type TypedMessage } from '@marquee/display-protocol';
import { DirectoryUnavailableError } from '../directory.ts';
import { jitter } from '../limits.ts';
import type { Session } from '../session.ts';

export async function commandResult(session: Session, msg: TypedMessage): Promise<void> {
  const parsed = commandResultSchema.safeParse(msg);
  if (!parsed.success) return session.invalid('command_result', parsed.error.issues);
  const { commandId, ok, result, error } = parsed.data;
  const { directory, logger } = session.server.deps;
  try {
    await directory.reportCommandResult(session.displayId, {
      commandId,
      ok,
      ...(result ? { result } : {}),
      ...(error !== undefined ? { error } : {}),
      completedAt: new Date().toISOString(),
    });
    session.send({ type: 'command_result_ack', commandId, recorded: true });
  } catch (err) {
    logger.warn({ err: String(err), displayId: session.displayId, commandId }, 'command result not recorded');
    const retryAfterMs = err instanceof DirectoryUnavailableError ? err.retryAfterMs : 5_000;
    session.send({ type: 'command_result_ack', commandId, recorded: false, retryAfterMs: jitter(retryAfterMs) });
  }
}
