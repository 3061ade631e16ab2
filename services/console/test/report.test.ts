import { expect, it } from 'vitest';
import { perBucket } from '../web/src/lib/report.ts';

const report = {
  bookingId: 'b1',
  from: '2026-12-01T00:00:00.000Z',
  to: '2026-12-03T00:00:00.000Z',
  bucket: 'day' as const,
  currency: 'EUR',
  price: 3000,
  displays: [
    { displayId: 'd1', name: 'Hall', price: 2000, creatives: [{ creativeId: 'c1', plays: 3, impressions: 6 }], plays: 3, impressions: 6, buckets: [{ start: '2026-12-01T00:00:00.000Z', plays: 1, impressions: 2 }, { start: '2026-12-02T00:00:00.000Z', plays: 2, impressions: 4 }] },
    { displayId: 'd2', name: 'Lobby', price: 1000, creatives: [{ creativeId: 'c1', plays: 1, impressions: 1.5 }], plays: 1, impressions: 1.5, buckets: [{ start: '2026-12-02T00:00:00.000Z', plays: 1, impressions: 1.5 }] },
  ],
  creatives: [{ creativeId: 'c1', plays: 4, impressions: 7.5 }],
  totals: { plays: 4, impressions: 7.5 },
};

it('sums buckets over displays in time order', () => {
  expect(perBucket(report)).toEqual([
    { start: '2026-12-01T00:00:00.000Z', plays: 1, impressions: 2 },
    { start: '2026-12-02T00:00:00.000Z', plays: 3, impressions: 5.5 },
  ]);
});
