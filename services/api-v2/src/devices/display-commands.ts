import { NotFoundError, type AccessClaims, type Logger, type MessageBus, type Sql } from '@marquee/service-kit';
import { isManagedDisplay } from '../displays/sql.ts';
import { TOPIC_DISPLAY_COMMAND } from '../playlist-changes.ts';
import { commandView, toDeviceCommand, type CommandRow } from './commands-sql.ts';

/** What an operator sends: a command kind, its options, and how long an offline display keeps it. */
export interface NewCommand {
  kind: CommandRow['kind'];
  args: Record<string, unknown>;
  ttlSeconds: number;
}

/** Commands belong to their display: whoever does not run it finds neither (404). */
async function assertManaged(sql: Sql, user: AccessClaims, displayId: string) {
  if (!(await isManagedDisplay(sql, user, displayId))) throw new NotFoundError('No such display.');
}

/**
 * Stores a command for a display the caller runs, then tells device-tcp (after commit). A display
 * that misses the message gets it from the pending list when it (re)connects.
 */
export async function sendCommand(deps: { sql: Sql; bus: MessageBus; logger: Logger }, user: AccessClaims, displayId: string, command: NewCommand) {
  const { sql } = deps;
  await assertManaged(sql, user, displayId);
  const [row] = await sql<CommandRow[]>`
    insert into display_commands (display_id, kind, args, created_by, expires_at)
    values (${displayId}, ${command.kind}, ${sql.json(command.args as never)}, ${user.sub}, now() + ${command.ttlSeconds} * interval '1 second')
    returning *`;
  await deps.bus.publish(TOPIC_DISPLAY_COMMAND, toDeviceCommand(row!)).catch((err) => deps.logger.warn({ err }, 'command not published; delivered on reconnect'));
  return commandView(row!);
}

export async function findCommand(sql: Sql, user: AccessClaims, displayId: string, commandId: string) {
  await assertManaged(sql, user, displayId);
  const [row] = await sql<CommandRow[]>`select * from display_commands where id = ${commandId} and display_id = ${displayId}`;
  if (!row) throw new NotFoundError('No such command.');
  return commandView(row);
}

/** The 100 most recent commands of a display the caller runs, newest first. */
export async function recentCommands(sql: Sql, user: AccessClaims, displayId: string) {
  await assertManaged(sql, user, displayId);
  const rows = await sql<CommandRow[]>`select * from display_commands where display_id = ${displayId} order by created_at desc limit 100`;
  return rows.map(commandView);
}
