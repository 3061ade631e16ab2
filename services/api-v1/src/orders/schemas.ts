import { z } from '@hono/zod-openapi';

/** RFC 3339 instant with an explicit offset ("Z" or "+02:00"). */
const Instant = z.iso.datetime({ offset: true }).openapi({ example: '2027-03-01T08:00:00Z' });

export const MAX_TEXT_CHARS = 10_000;
export const MAX_URL_CHARS = 2_048;

const TextContent = z
  .strictObject({
    type: z.literal('text'),
    text: z.string().max(MAX_TEXT_CHARS).refine((t) => t.trim() !== '', 'must not be empty'),
  })
  .openapi('V1TextContent');
const ImageContent = z
  .strictObject({
    type: z.literal('image'),
    url: z.url({ protocol: /^https?$/ }).max(MAX_URL_CHARS).openapi({
      description: 'An http(s) URL the display loads the image from (v1 fetches nothing itself)',
    }),
  })
  .openapi('V1ImageContent');

export const ContentSchema = z.discriminatedUnion('type', [TextContent, ImageContent]).openapi('V1Content');

export const CreateOrderSchema = z
  .strictObject({ deviceid: z.uuid(), start: Instant, end: Instant, content: ContentSchema })
  .refine((o) => Date.parse(o.end) > Date.parse(o.start), { message: 'end must be after start', path: ['end'] })
  .openapi('V1CreateOrder');

export const OrderIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const ORDER_STATUSES = ['pending', 'confirmed', 'cancelled', 'expired'] as const;

export const OrderSchema = z
  .object({
    orderid: z.uuid(),
    deviceid: z.uuid().openapi({ description: 'The display (for a multi-display order made through v2: the first one)' }),
    start: z.string(),
    end: z.string(),
    status: z.enum(ORDER_STATUSES).openapi({
      description: 'confirmed = booked; cancelled; pending = an unconfirmed v2 hold; expired = a v2 hold that lapsed',
    }),
    price: z.number().int().openapi({ description: 'Total, in minor currency units (cents)' }),
    content: z.union([
      TextContent,
      ImageContent,
      z.object({ type: z.literal('other'), name: z.string() }).openapi('V1OtherContent', {
        description: 'Content made through v2 that v1 cannot express (e.g. video): its name only',
      }),
    ]),
  })
  .openapi('V1Order');
export type V1Order = z.infer<typeof OrderSchema>;
