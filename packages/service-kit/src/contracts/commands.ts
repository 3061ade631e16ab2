import { z } from 'zod';
import { DisplayKeySchema, InstantSchema, UuidSchema } from './common.ts';

export const COMMAND_KINDS = ['reload', 'screenshot'] as const;

/** An operator's command as device-tcp receives it: on the bus (TOPIC_DISPLAY_COMMAND), in a handshake answer, in the pending list. */
export const DisplayCommandSchema = z
  .object({
    commandId: UuidSchema,
    displayId: DisplayKeySchema,
    kind: z.enum(COMMAND_KINDS),
    args: z.record(z.string(), z.unknown()),
    expiresAt: InstantSchema,
  })
  .meta({ id: 'DeviceCommand' });
export type DisplayCommand = z.infer<typeof DisplayCommandSchema>;

/** POST /internal/commands/{id}/result: what the display answered (device-tcp → api-v2). */
export const CommandResultSchema = z
  .strictObject({
    displayId: UuidSchema,
    commandId: UuidSchema,
    ok: z.boolean(),
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.string().max(2000).optional(),
    completedAt: InstantSchema,
  })
  .meta({ id: 'CommandResult' });
export type CommandResult = z.infer<typeof CommandResultSchema>;

export const CommandResultParamsSchema = z.object({ id: z.string() });

/** GET /internal/displays/{id}/commands/pending (legacy, before batched hellos). */
export const PendingCommandsAnswerSchema = z.object({ commands: z.array(DisplayCommandSchema) });
export type PendingCommandsAnswer = z.infer<typeof PendingCommandsAnswerSchema>;
