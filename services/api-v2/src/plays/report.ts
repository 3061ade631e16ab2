import { NotFoundError, ValidationError, type AccessClaims, type Queryable } from '@marquee/service-kit';
import { bookingDisplayVisible, bookingVisible } from '../access.ts';
import type { PlayReport, ReportRange } from './schemas.ts';

const MAX_BUCKETS = 24 * 93;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Plays and impressions of one display, creative and bucket: the finest grain of the report (its CSV rows). */
export interface PlayReportRow {
  displayId: string;
  creativeId: string;
  bucketStart: string;
  plays: number;
  impressions: number;
}

/**
 * Proof of play for one booking the caller may see, over the displays of it the caller may see
 * (an operator: its own, with its own share of the price): every such display, also those with
 * no plays, split by creative and bucketed by hour or day. Impressions are the sum of each
 * stored play's frozen audience multiplier. `from`/`to` default to the booking's window.
 */
export async function playReport(sql: Queryable, user: AccessClaims, bookingId: string, range: ReportRange): Promise<{ report: PlayReport; rows: PlayReportRow[] }> {
  const [booking] = await sql<{ starts_at: Date; ends_at: Date; currency: string }[]>`
    select b.starts_at, b.ends_at, b.currency from bookings b where b.id = ${bookingId} and ${bookingVisible(sql, user)}`;
  if (!booking) throw new NotFoundError('No such booking.');
  const from = range.from ? new Date(range.from) : booking.starts_at;
  const to = range.to ? new Date(range.to) : booking.ends_at;
  if (!(to > from)) throw new ValidationError('`to` must be after `from`.', { errors: [{ field: 'to', message: 'must be after from' }] });
  const spanMs = to.getTime() - from.getTime();
  const bucket = range.bucket ?? (spanMs / HOUR_MS <= MAX_BUCKETS ? 'hour' : 'day');
  const buckets = spanMs / (bucket === 'hour' ? HOUR_MS : DAY_MS);
  if (buckets > MAX_BUCKETS) {
    throw new ValidationError(`The range spans ${Math.ceil(buckets)} ${bucket}s; at most ${MAX_BUCKETS} buckets per report.`, {
      errors: [{ field: 'to', message: 'range too long for this bucket' }],
    });
  }
  const parts = await sql<{ display_id: string; name: string; price: string }[]>`
    select bd.display_id, d.name, bd.price::text
    from booking_displays bd join displays d on d.id = bd.display_id
    where bd.booking_id = ${bookingId} and ${bookingDisplayVisible(sql, user)}
    order by d.name, d.id`;
  const counted = await sql<{ display_id: string; creative_id: string; bucket_start: Date; plays: number; impressions: string }[]>`
    select p.display_id, p.creative_id, date_trunc(${bucket}, p.started_at, 'UTC') as bucket_start,
           count(*)::int as plays, sum(p.audience_multiplier)::text as impressions
    from plays p
    where p.booking_id = ${bookingId} and p.display_id = any(${parts.map((p) => p.display_id)}::uuid[])
      and p.started_at >= ${from} and p.started_at < ${to}
    group by p.display_id, bucket_start, p.creative_id
    order by p.display_id, bucket_start, p.creative_id`;
  const rows: PlayReportRow[] = counted.map((r) => ({
    displayId: r.display_id,
    creativeId: r.creative_id,
    bucketStart: r.bucket_start.toISOString(),
    plays: r.plays,
    impressions: Number(r.impressions),
  }));

  const displays = new Map<string, PlayReport['displays'][number]>(
    parts.map((p) => [p.display_id, { displayId: p.display_id, name: p.name, price: Number(p.price), plays: 0, impressions: 0, creatives: [], buckets: [] }]),
  );
  const creatives = new Map<string, PlayReport['creatives'][number]>();
  const add = (into: { plays: number; impressions: number }, r: PlayReportRow) => {
    into.plays += r.plays;
    into.impressions = round3(into.impressions + r.impressions);
  };
  for (const r of rows) {
    const d = displays.get(r.displayId)!;
    add(d, r);
    // Rows come in bucket order per display: one bucket per (display, start).
    let b = d.buckets[d.buckets.length - 1];
    if (b?.start !== r.bucketStart) d.buckets.push((b = { start: r.bucketStart, plays: 0, impressions: 0 }));
    add(b, r);
    let dc = d.creatives.find((c) => c.creativeId === r.creativeId);
    if (!dc) d.creatives.push((dc = { creativeId: r.creativeId, plays: 0, impressions: 0 }));
    add(dc, r);
    let c = creatives.get(r.creativeId);
    if (!c) creatives.set(r.creativeId, (c = { creativeId: r.creativeId, plays: 0, impressions: 0 }));
    add(c, r);
  }
  const totals = { plays: 0, impressions: 0 };
  for (const d of displays.values()) add(totals, { ...d, displayId: d.displayId, creativeId: '', bucketStart: '' });
  return {
    report: {
      bookingId,
      from: from.toISOString(),
      to: to.toISOString(),
      bucket,
      currency: booking.currency.trim(),
      price: parts.reduce((n, p) => n + Number(p.price), 0),
      displays: [...displays.values()],
      creatives: [...creatives.values()],
      totals,
    },
    rows,
  };
}

const cell = (value: string | number) => {
  const text = String(value);
  // A leading = + - @ would be a formula in a spreadsheet; quote what needs quoting.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

/**
 * The report as CSV (RFC 4180, CRLF): one line per display, creative and bucket; a display
 * without plays gets one line with zeros (no creative, no bucket).
 */
export function playReportCsv(report: PlayReport, rows: readonly PlayReportRow[]): string {
  const lines: (string | number)[][] = [['booking_id', 'display_id', 'display_name', 'creative_id', 'bucket', 'bucket_start', 'plays', 'impressions']];
  const byDisplay = new Map<string, PlayReportRow[]>();
  for (const r of rows) byDisplay.set(r.displayId, [...(byDisplay.get(r.displayId) ?? []), r]);
  for (const d of report.displays) {
    const own = byDisplay.get(d.displayId) ?? [];
    if (own.length === 0) lines.push([report.bookingId, d.displayId, d.name, '', report.bucket, '', 0, 0]);
    for (const r of own) lines.push([report.bookingId, d.displayId, d.name, r.creativeId, report.bucket, r.bucketStart, r.plays, r.impressions]);
  }
  return lines.map((l) => l.map(cell).join(',')).join('\r\n') + '\r\n';
}
