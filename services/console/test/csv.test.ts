import { expect, it } from 'vitest';
import { perBucket, reportCsv } from '../web/src/lib/csv.ts';

const report = {
  bookingId: 'b1',
  from: '2026-12-01T00:00:00.000Z',
  to: '2026-12-03T00:00:00.000Z',
  bucket: 'day' as const,
  currency: 'EUR',
  price: 300,
  displays: [
    {
      displayId: 'd1',
      name: 'Hall',
      price: 200,
      plays: 3,
      impressions: 6,
      creatives: [{ creativeId: 'c1', plays: 3, impressions: 6 }],
      buckets: [{ start: '2026-12-01T00:00:00.000Z', plays: 1, impressions: 2 }, { start: '2026-12-02T00:00:00.000Z', plays: 2, impressions: 4 }],
    },
    { displayId: 'd2', name: 'Gate', price: 100, plays: 1, impressions: 1.5, creatives: [{ creativeId: 'c1', plays: 1, impressions: 1.5 }], buckets: [{ start: '2026-12-02T00:00:00.000Z', plays: 1, impressions: 1.5 }] },
  ],
  creatives: [{ creativeId: 'c1', plays: 4, impressions: 7.5 }],
  totals: { plays: 4, impressions: 7.5 },
};

it('writes one row per display and bucket, per creative, and the total; names quoted and formula-safe', () => {
  const csv = reportCsv(report, { displays: new Map([['d1', 'Hall, "north"'], ['d2', '=HYPERLINK("x")']]), creatives: new Map([['c1', '+sale']]) });
  const lines = csv.split('\r\n');
  expect(lines[0]).toBe('section,booking_id,display_id,display_name,creative_id,creative_name,bucket_start,bucket,plays,impressions');
  expect(lines[1]).toBe('display,b1,d1,"Hall, ""north""",,,2026-12-01T00:00:00.000Z,day,1,2');
  expect(lines[3]).toBe(`display,b1,d2,"'=HYPERLINK(""x"")",,,2026-12-02T00:00:00.000Z,day,1,1.5`);
  expect(lines[4]).toBe("creative,b1,,,c1,'+sale,2026-12-01T00:00:00.000Z,range,4,7.5");
  expect(lines[5]).toBe('total,b1,,,,,2026-12-01T00:00:00.000Z,range,4,7.5');
  expect(lines[6]).toBe('');
});

it('sums buckets over displays in time order', () => {
  expect(perBucket(report)).toEqual([
    { start: '2026-12-01T00:00:00.000Z', plays: 1, impressions: 2 },
    { start: '2026-12-02T00:00:00.000Z', plays: 3, impressions: 5.5 },
  ]);
});
