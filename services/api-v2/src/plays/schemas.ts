import { z } from '@hono/zod-openapi';

export const ReportQuery = z.object({
  from: z.string().datetime({ offset: true }).openapi({ param: { name: 'from', in: 'query' }, example: '2026-12-01T00:00:00Z' }),
  to: z.string().datetime({ offset: true }).openapi({ param: { name: 'to', in: 'query' }, example: '2026-12-02T00:00:00Z' }),
  bucket: z.enum(['hour', 'day']).default('hour').openapi({ param: { name: 'bucket', in: 'query' } }),
});
export type ReportRange = z.infer<typeof ReportQuery>;

const Bucket = z.object({ start: z.string(), plays: z.number().int(), impressions: z.number() });

export const PlayReportSchema = z
  .object({
    bookingId: z.string().uuid(),
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['hour', 'day']),
    displays: z.array(
      z.object({
        displayId: z.string().uuid(),
        audienceMultiplier: z.number(),
        plays: z.number().int(),
        impressions: z.number(),
        buckets: z.array(Bucket),
      }),
    ),
    creatives: z
      .array(z.object({ creativeId: z.string().uuid(), plays: z.number().int(), impressions: z.number() }))
      .openapi({ description: 'The same plays by the creative that was played (a booking may have swapped creatives)' }),
    totals: z.object({ plays: z.number().int(), impressions: z.number() }),
  })
  .openapi('PlayReport');
export type PlayReport = z.infer<typeof PlayReportSchema>;
