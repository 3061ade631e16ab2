import { z } from '@hono/zod-openapi';
import { CREATIVE_TYPES } from '@marquee/service-kit';
import { PageQuery, pageSchema } from '../pagination.ts';

export const MAX_EMERGENCY_DISPLAYS = 1_000;

export const CreateEmergencySchema = z
  .strictObject({
    displayIds: z
      .array(z.uuid())
      .min(1)
      .max(MAX_EMERGENCY_DISPLAYS)
      .refine((ids) => new Set(ids.map((i) => i.toLowerCase())).size === ids.length, 'displayIds must not repeat')
      .openapi({ description: 'Displays you run (admins: any)' }),
    message: z.string().trim().min(1).max(2000).optional().openapi({ description: 'A text message (plain text) — or give `creativeId`' }),
    creativeId: z.uuid().optional().openapi({ description: 'One of your creatives, or one you approved (admins: any) — or give `message`' }),
  })
  .refine((e) => (e.message === undefined) !== (e.creativeId === undefined), { message: 'give exactly one of message and creativeId', path: ['message'] })
  .openapi('CreateEmergency');
export type CreateEmergencyInput = z.infer<typeof CreateEmergencySchema>;

export const EmergencySchema = z
  .object({
    id: z.uuid(),
    displayIds: z.array(z.uuid()).openapi({ description: 'The displays it is on (operators: those they run)' }),
    message: z.string().nullable(),
    creativeId: z.uuid().nullable(),
    type: z.enum(CREATIVE_TYPES).openapi({ description: 'How displays render it (`text` for a message)' }),
    mediaUrl: z.string().openapi({ description: 'What displays download and show' }),
    createdBy: z.uuid(),
    startedAt: z.string(),
    clearedAt: z.string().nullable(),
    clearedBy: z.uuid().nullable(),
  })
  .openapi('Emergency');
export type Emergency = z.infer<typeof EmergencySchema>;

export const EmergencyPageSchema = pageSchema(EmergencySchema, 'EmergencyPage');
export const EmergencyListQuery = PageQuery;
