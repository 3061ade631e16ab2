import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import { ErrorMessage, Loading, PageHeader, StatusBadge } from '../../components/ui.tsx';
import { mondayOf, WeekGrid } from '../../components/WeekGrid.tsx';
import { cart, useCart } from '../../lib/cart.ts';
import { formatMoney } from '../../lib/format.ts';

export function DisplayDetail() {
  const { id = '' } = useParams();
  const [weekStart, setWeekStart] = useState(() => mondayOf(new Date()));
  const picked = useCart();
  const display = useQuery({ queryKey: ['display', id], queryFn: () => unwrap(api.GET('/displays/{id}', { params: { path: { id } } })) });
  const weekEnd = new Date(weekStart.getFullYear(), weekStart.getMonth(), weekStart.getDate() + 7);
  const availability = useQuery({
    queryKey: ['availability', id, weekStart.toISOString()],
    queryFn: () => unwrap(api.GET('/displays/{id}/availability', { params: { path: { id }, query: { from: weekStart.toISOString(), to: weekEnd.toISOString() } } })),
  });
  const shift = (days: number) => setWeekStart(new Date(weekStart.getFullYear(), weekStart.getMonth(), weekStart.getDate() + days));

  if (display.isPending) return <Loading what="the display" />;
  if (display.error) return <ErrorMessage error={display.error} title="Could not load this display" />;
  const d = display.data;
  const selected = picked.some((p) => p.id === d.id);
  return (
    <section>
      <PageHeader title={d.name}>
        <button type="button" className={selected ? '' : 'primary'} onClick={() => cart.toggle({ id: d.id, name: d.name, currency: d.currency, pricePerSlotHour: d.pricePerSlotHour })}>
          {selected ? 'Remove from booking' : 'Add to booking'}
        </button>
        {picked.length > 0 && <Link to="/book">Go to booking ({picked.length})</Link>}
      </PageHeader>
      <div className="card">
        <dl className="facts facts-wide">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={d.status} />
          </dd>
          <dt>Where</dt>
          <dd>
            {d.location.address || '—'} ({d.location.lat}, {d.location.lng})
          </dd>
          <dt>Time zone</dt>
          <dd>{d.timezone}</dd>
          <dt>Screen</dt>
          <dd>
            {d.resolution.widthPx}×{d.resolution.heightPx}, {d.orientation}
          </dd>
          <dt>Loop</dt>
          <dd>
            {d.loop.lengthMs / 1000} s, {d.loop.slotCount} slots of {d.loop.slotMs / 1000} s — one booking holds one slot
          </dd>
          <dt>Price</dt>
          <dd>{formatMoney(d.pricePerSlotHour, d.currency)} per slot-hour</dd>
          <dt>Audience</dt>
          <dd>about {d.audienceMultiplier} impressions per play</dd>
        </dl>
      </div>
      <h2>Availability</h2>
      <div className="actions">
        <button type="button" onClick={() => shift(-7)}>
          ← Previous week
        </button>
        <button type="button" onClick={() => setWeekStart(mondayOf(new Date()))}>
          This week
        </button>
        <button type="button" onClick={() => shift(7)}>
          Next week →
        </button>
      </div>
      <ErrorMessage error={availability.error} title="Could not load availability" />
      {availability.isPending && <Loading what="availability" />}
      {availability.data && <WeekGrid weekStart={weekStart} availability={availability.data} />}
    </section>
  );
}
