import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, ValidationError } from '@marquee/service-kit';
import type { ApiV2Deps } from '../app.ts';
import { authenticated } from '../authz.ts';
import { IdParam, bearerSecurity, createRouter, jsonResponse, pick } from '../openapi.ts';

const MAX_BUCKETS = 24 * 93;

const ReportQuery = z.object({
  from: z.string().datetime({ offset: true }).openapi({ param: { name: 'from', in: 'query' }, example: '2026-12-01T00:00:00Z' }),
  to: z.string().datetime({ offset: true }).openapi({ param: { name: 'to', in: 'query' }, example: '2026-12-02T00:00:00Z' }),
  bucket: z.enum(['hour', 'day']).default('hour').openapi({ param: { name: 'bucket', in: 'query' } }),
});

const Bucket = z.object({ start: z.string(), plays: z.number().int(), impressions: z.number() });
const PlayReport = z
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

/** Proof-of-play report: plays and impressions (plays × the display's audience multiplier). */
export function playRoutes(deps: ApiV2Deps) {
  const app = createRouter();
  app.use('/bookings/:id/plays', authenticated(deps.verifier));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/bookings/{id}/plays',
      tags: ['proof of play'],
      summary: 'Plays and impressions per display, bucketed by hour or day',
      description:
        'Advertisers see their own bookings; operators see the plays on their own displays; admins everything. Empty buckets are omitted.',
      security: bearerSecurity,
      request: { params: IdParam, query: ReportQuery },
      responses: { 200: jsonResponse(PlayReport, 'The report'), ...pick(401, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const from = new Date(q.from);
      const to = new Date(q.to);
      if (!(to > from)) throw new ValidationError('`to` must be after `from`.', { errors: [{ field: 'to', message: 'must be after from' }] });
      const buckets = (to.getTime() - from.getTime()) / (q.bucket === 'hour' ? 3_600_000 : 86_400_000);
      if (buckets > MAX_BUCKETS) {
        throw new ValidationError(`The range spans ${Math.ceil(buckets)} ${q.bucket}s; at most ${MAX_BUCKETS} buckets per report.`, {
          errors: [{ field: 'to', message: 'range too long for this bucket' }],
        });
      }
      const user = c.get('user');
      const admin = user.role === 'admin';
      const [booking] = await deps.sql<{ id: string; advertiser_id: string }[]>`
        select b.id, b.advertiser_id from bookings b
        where b.id = ${id} and (
          ${admin} or b.advertiser_id = ${user.sub}
          or exists (select 1 from booking_slots bs join displays d on d.id = bs.display_id where bs.booking_id = b.id and d.operator_id = ${user.sub})
        )`;
      if (!booking) throw new NotFoundError('No such booking.');
      // An operator who is not the advertiser sees only the rows of their own displays.
      const onlyOperator = !admin && booking.advertiser_id !== user.sub ? user.sub : null;
      const rows = await deps.sql<{ display_id: string; creative_id: string; multiplier: string; bucket_start: Date; plays: number }[]>`
        select p.display_id, p.creative_id, d.audience_multiplier as multiplier, date_trunc(${q.bucket}, p.started_at, 'UTC') as bucket_start, count(*)::int as plays
        from plays p join displays d on d.id = p.display_id
        where p.booking_id = ${id} and p.started_at >= ${from} and p.started_at < ${to}
          and (${onlyOperator}::uuid is null or d.operator_id = ${onlyOperator}::uuid)
        group by p.display_id, p.creative_id, d.audience_multiplier, bucket_start
        order by p.display_id, bucket_start, p.creative_id`;
      const byDisplay = new Map<string, { displayId: string; audienceMultiplier: number; plays: number; impressions: number; buckets: z.infer<typeof Bucket>[] }>();
      const byCreative = new Map<string, { creativeId: string; plays: number; impressions: number }>();
      for (const r of rows) {
        const multiplier = Number(r.multiplier);
        let d = byDisplay.get(r.display_id);
        if (!d) byDisplay.set(r.display_id, (d = { displayId: r.display_id, audienceMultiplier: multiplier, plays: 0, impressions: 0, buckets: [] }));
        const start = r.bucket_start.toISOString();
        // Rows come per creative within a bucket: one bucket per (display, start).
        let bucket = d.buckets[d.buckets.length - 1];
        if (bucket?.start !== start) d.buckets.push((bucket = { start, plays: 0, impressions: 0 }));
        bucket.plays += r.plays;
        bucket.impressions = round3(bucket.plays * multiplier);
        d.plays += r.plays;
        let c = byCreative.get(r.creative_id);
        if (!c) byCreative.set(r.creative_id, (c = { creativeId: r.creative_id, plays: 0, impressions: 0 }));
        c.plays += r.plays;
        c.impressions = round3(c.impressions + r.plays * multiplier);
      }
      const displays = [...byDisplay.values()].map((d) => ({ ...d, impressions: round3(d.buckets.reduce((n, b) => n + b.impressions, 0)) }));
      return c.json(
        {
          bookingId: id,
          from: from.toISOString(),
          to: to.toISOString(),
          bucket: q.bucket,
          displays,
          creatives: [...byCreative.values()],
          totals: {
            plays: displays.reduce((n, d) => n + d.plays, 0),
            impressions: round3(displays.reduce((n, d) => n + d.impressions, 0)),
          },
        },
        200,
      );
    },
  );
  return app;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
