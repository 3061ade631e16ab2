import { z } from '@hono/zod-openapi';
import { PLAY_REJECTION_CODES } from '@marquee/service-kit';

const instant = z.string().datetime({ offset: true });

// Optional filters carry no example: "Try it out" would send it instead of the default.
export const ReportQuery = z.object({
  from: instant.optional().openapi({ param: { name: 'from', in: 'query' }, description: "Start of the range (default: the booking's start)" }),
  to: instant.optional().openapi({ param: { name: 'to', in: 'query' }, description: "End of the range, exclusive (default: the booking's end)" }),
  bucket: z
    .enum(['hour', 'day'])
    .optional()
    .openapi({ param: { name: 'bucket', in: 'query' }, description: 'Bucket size (UTC); default `hour` when the range has at most 2 232 hours, else `day`' }),
});
export type ReportRange = z.infer<typeof ReportQuery>;

const Counts = { plays: z.number().int(), impressions: z.number() };
const Bucket = z.object({ start: z.string(), ...Counts });
const CreativeCounts = z.object({ creativeId: z.string().uuid(), ...Counts });

export const PlayReportSchema = z
  .object({
    bookingId: z.string().uuid(),
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['hour', 'day']),
    currency: z.string(),
    price: z.number().int().openapi({ description: 'Price of the displays listed, in minor units of `currency`: for an operator, its own share of the booking' }),
    displays: z
      .array(
        z.object({
          displayId: z.string().uuid(),
          name: z.string(),
          price: z.number().int().openapi({ description: "This display's part of the booking's price" }),
          ...Counts,
          creatives: z.array(CreativeCounts).openapi({ description: 'The plays of this display by the creative that was played' }),
          buckets: z.array(Bucket).openapi({ description: 'Empty buckets are omitted' }),
        }),
      )
      .openapi({ description: 'Every display of the booking the caller may see, also those with no plays (zeros)' }),
    creatives: z.array(CreativeCounts).openapi({ description: 'The same plays by the creative that was played (a booking may have swapped creatives)' }),
    totals: z.object(Counts),
  })
  .openapi('PlayReport', {
    description: 'Impressions are plays × the audience multiplier the display had when each play was stored (a later change of the multiplier does not rewrite them).',
  });
export type PlayReport = z.infer<typeof PlayReportSchema>;

export const PlayRejectionsSchema = z
  .object({
    displayId: z.string().uuid(),
    total: z.number().int(),
    codes: z.array(
      z.object({
        code: z.enum(PLAY_REJECTION_CODES),
        rejected: z.number().int(),
        firstAt: z.string(),
        lastAt: z.string(),
        lastDetail: z.string().openapi({ description: 'What the display was told the last time' }),
      }),
    ),
  })
  .openapi('PlayRejections', { description: 'Plays this display reported that were not counted, by rejection code (docs/display-protocol.md, "Plays")' });
export type PlayRejections = z.infer<typeof PlayRejectionsSchema>;
