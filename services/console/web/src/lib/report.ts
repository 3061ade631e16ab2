import type { components } from '../api/schema.ts';

type PlayReport = components['schemas']['PlayReport'];

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
