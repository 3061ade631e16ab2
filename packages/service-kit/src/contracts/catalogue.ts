import { z } from 'zod';
import { UuidSchema } from './common.ts';

const DisplayLoopSchema = z
  .object({ lengthMs: z.number().int(), slotCount: z.number().int(), slotMs: z.number().int() })
  .meta({ id: 'DisplayLoop' });

/**
 * A display as anyone signed in may see it (the advertisers' catalogue). api-v2's public API
 * serves it (and extends it for owners); its internal port serves it, with presence, to api-v1.
 */
export const PublicDisplaySchema = z
  .object({
    id: UuidSchema,
    name: z.string(),
    location: z.object({ address: z.string(), lat: z.number(), lng: z.number() }),
    timezone: z.string(),
    resolution: z.object({ widthPx: z.number().int(), heightPx: z.number().int() }),
    orientation: z.enum(['landscape', 'portrait']),
    tags: z.array(z.string()),
    loop: DisplayLoopSchema,
    pricePerSlotHour: z.number().int(),
    currency: z.string(),
    audienceMultiplier: z.number(),
    status: z.enum(['pending', 'active', 'disabled']),
    createdAt: z.string(),
  })
  .meta({ id: 'PublicDisplay' });
export type PublicDisplay = z.infer<typeof PublicDisplaySchema>;

/** GET /internal/displays/catalogue (api-v2 → api-v1's GET /v1/devices): every active display with presence, in creation order. */
export const CatalogueAnswerSchema = z.object({ items: z.array(PublicDisplaySchema.extend({ online: z.boolean() }).meta({ id: 'CatalogueDisplay' })) });
export type CatalogueAnswer = z.infer<typeof CatalogueAnswerSchema>;
export type CatalogueDisplay = CatalogueAnswer['items'][number];
