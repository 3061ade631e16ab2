/**
 * The proof-of-play report as CSV, built in the browser from GET /bookings/{id}/plays (the API
 * has no CSV representation): one row per display and bucket, then one per creative.
 */
import type { components } from '../api/schema.ts';

type PlayReport = components['schemas']['PlayReport'];

const cell = (value: string | number) => {
  const text = String(value);
  // Quote when needed; a leading = + - @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

export function reportCsv(report: PlayReport, names: { displays: Map<string, string>; creatives: Map<string, string> }): string {
  const rows: (string | number)[][] = [['section', 'booking_id', 'display_id', 'display_name', 'creative_id', 'creative_name', 'bucket_start', 'bucket', 'plays', 'impressions']];
  for (const d of report.displays) {
    for (const b of d.buckets) rows.push(['display', report.bookingId, d.displayId, names.displays.get(d.displayId) ?? '', '', '', b.start, report.bucket, b.plays, b.impressions]);
  }
  for (const c of report.creatives) rows.push(['creative', report.bookingId, '', '', c.creativeId, names.creatives.get(c.creativeId) ?? '', report.from, 'range', c.plays, c.impressions]);
  rows.push(['total', report.bookingId, '', '', '', '', report.from, 'range', report.totals.plays, report.totals.impressions]);
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** Plays and impressions per bucket start, summed over displays, in time order. */
export function perBucket(report: PlayReport): { start: string; plays: number; impressions: number }[] {
  const sums = new Map<string, { start: string; plays: number; impressions: number }>();
  for (const d of report.displays) {
    for (const b of d.buckets) {
      const s = sums.get(b.start) ?? { start: b.start, plays: 0, impressions: 0 };
      s.plays += b.plays;
      s.impressions = Math.round((s.impressions + b.impressions) * 1000) / 1000;
      sums.set(b.start, s);
    }
  }
  return [...sums.values()].sort((a, b) => a.start.localeCompare(b.start));
}
