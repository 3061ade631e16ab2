import { NotFoundError, ValidationError, type AccessClaims, type Queryable } from '@marquee/service-kit';
import { bookingDisplayVisible, bookingVisible } from '../access.ts';
import type { PlayReport, ReportRange } from './schemas.ts';

const MAX_BUCKETS = 24 * 93;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Proof of play for one booking the caller may see: plays and impressions (plays × the display's
 * audience multiplier) per display and hour or day, over the displays of it the caller may see.
 * Empty buckets are omitted.
 */
export async function playReport(sql: Queryable, user: AccessClaims, bookingId: string, range: ReportRange): Promise<PlayReport> {
  const from = new Date(range.from);
  const to = new Date(range.to);
  if (!(to > from)) throw new ValidationError('`to` must be after `from`.', { errors: [{ field: 'to', message: 'must be after from' }] });
  const buckets = (to.getTime() - from.getTime()) / (range.bucket === 'hour' ? 3_600_000 : 86_400_000);
  if (buckets > MAX_BUCKETS) {
    throw new ValidationError(`The range spans ${Math.ceil(buckets)} ${range.bucket}s; at most ${MAX_BUCKETS} buckets per report.`, {
      errors: [{ field: 'to', message: 'range too long for this bucket' }],
    });
  }
  const [booking] = await sql`select 1 from bookings b where b.id = ${bookingId} and ${bookingVisible(sql, user)}`;
  if (!booking) throw new NotFoundError('No such booking.');
  const rows = await sql<{ display_id: string; creative_id: string; multiplier: string; bucket_start: Date; plays: number }[]>`
    select p.display_id, p.creative_id, d.audience_multiplier as multiplier, date_trunc(${range.bucket}, p.started_at, 'UTC') as bucket_start, count(*)::int as plays
    from plays p join displays d on d.id = p.display_id
    where p.booking_id = ${bookingId} and p.started_at >= ${from} and p.started_at < ${to} and ${bookingDisplayVisible(sql, user)}
    group by p.display_id, p.creative_id, d.audience_multiplier, bucket_start
    order by p.display_id, bucket_start, p.creative_id`;

  const byDisplay = new Map<string, PlayReport['displays'][number]>();
  const byCreative = new Map<string, PlayReport['creatives'][number]>();
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
  return {
    bookingId,
    from: from.toISOString(),
    to: to.toISOString(),
    bucket: range.bucket,
    displays,
    creatives: [...byCreative.values()],
    totals: {
      plays: displays.reduce((n, d) => n + d.plays, 0),
      impressions: round3(displays.reduce((n, d) => n + d.impressions, 0)),
    },
  };
}
