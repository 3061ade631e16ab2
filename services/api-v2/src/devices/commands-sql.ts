import type { CommandResult, DisplayCommand, Sql } from '@marquee/service-kit';
import { displayEventAudience } from '../access.ts';
import { publishLiveEvents, type LiveEventDeps } from '../events/publish.ts';
import { COMMAND_KINDS } from '@marquee/service-kit';

export interface CommandRow {
  id: string;
  display_id: string;
  kind: (typeof COMMAND_KINDS)[number];
  args: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'succeeded' | 'failed' | 'expired';
  created_at: Date;
  expires_at: Date;
  delivered_at: Date | null;
  completed_at: Date | null;
  result: Record<string, unknown> | null;
}

/** Expiry is applied on read: an unanswered command past its expiry is reported as expired. */
export const commandView = (r: CommandRow) => {
  const expired = (r.status === 'pending' || r.status === 'delivered') && r.expires_at.getTime() <= Date.now();
  return {
    id: r.id,
    displayId: r.display_id,
    kind: r.kind,
    args: r.args,
    status: expired ? 'expired' : r.status,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    deliveredAt: r.delivered_at?.toISOString() ?? null,
    completedAt: r.completed_at?.toISOString() ?? null,
    result: r.result,
  };
};

/** A command as device-tcp receives it (bus message, handshake answer, pending list). */
export const toDeviceCommand = (r: CommandRow): DisplayCommand => ({
  commandId: r.id,
  displayId: r.display_id,
  kind: r.kind,
  args: r.args,
  expiresAt: r.expires_at.toISOString(),
});

/** Unexpired, unanswered commands for these displays, oldest first; marks them delivered (they stay until answered). */
export async function takePendingCommands(sql: Sql, displayIds: readonly string[]): Promise<CommandRow[]> {
  if (displayIds.length === 0) return [];
  const rows = await sql<CommandRow[]>`
    update display_commands set status = 'delivered', delivered_at = coalesce(delivered_at, now())
    where display_id = any(${[...displayIds]}::uuid[]) and status in ('pending', 'delivered') and expires_at > now()
    returning *`;
  return rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
}

export type CommandResultOutcome = 'recorded' | 'unknown' | 'already-answered';

/** Stores a display's answer to a command, then tells the display's operator (GET /events). */
export async function recordCommandResult(deps: LiveEventDeps & { sql: Sql }, r: CommandResult): Promise<CommandResultOutcome> {
  const { sql } = deps;
  const updated = await sql<{ operator_id: string }[]>`
    update display_commands
    set status = ${r.ok ? 'succeeded' : 'failed'}, completed_at = ${r.completedAt},
        result = ${sql.json((r.ok ? r.result ?? {} : { error: r.error ?? 'failed', ...r.result }) as never)}
    where id = ${r.commandId} and display_id = ${r.displayId} and status in ('pending', 'delivered') and expires_at > now()
    returning (select operator_id from displays where id = display_commands.display_id)`;
  if (updated.length) {
    const status = r.ok ? 'succeeded' : 'failed';
    publishLiveEvents(deps, [{ event: { type: 'command.result', displayId: r.displayId, commandId: r.commandId, status, completedAt: r.completedAt }, audience: displayEventAudience(updated[0]!.operator_id) }]);
    return 'recorded';
  }
  const [exists] = await sql`select status from display_commands where id = ${r.commandId} and display_id = ${r.displayId}`;
  return exists ? 'already-answered' : 'unknown';
}
