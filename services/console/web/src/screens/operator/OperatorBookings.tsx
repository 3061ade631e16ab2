import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import { BookingStateCells } from '../../components/BookingCells.tsx';
import { ListTable } from '../../components/ListTable.tsx';
import { PagedList } from '../../components/PagedList.tsx';
import { EmptyState, PageHeader } from '../../components/ui.tsx';
import { formatDateTime, formatMoney } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';

/**
 * Bookings on my displays and what they earn. The API shows an operator only the parts of each
 * booking on their own displays (with each part's price), so sums here are this operator's
 * revenue. Confirmed ("booked") bookings count; held ones are shown as pending, cancelled and
 * expired ones earn nothing.
 */
export function OperatorBookings() {
  const refetchInterval = useLiveRefetch();
  const bookings = usePagedList(['bookings', 'operator'], (cursor) => unwrap(api.GET('/bookings', { params: { query: { limit: 200, ...cursorParam(cursor) } } })), { refetchInterval });
  const displays = useQuery({ queryKey: ['displays', 'mine', 'names'], queryFn: () => unwrap(api.GET('/displays', { params: { query: { limit: 200 } } })) });
  const names = new Map((displays.data?.items ?? []).map((d) => [d.id, d.name]));
  const items = bookings.items;

  const revenue = new Map<string, { currency: string; booked: number; held: number }>();
  const perDisplay = new Map<string, { currency: string; booked: number; count: number }>();
  for (const b of items) {
    for (const part of b.displays) {
      const r = revenue.get(b.currency) ?? { currency: b.currency, booked: 0, held: 0 };
      if (b.status === 'booked') r.booked += part.price;
      if (b.status === 'held') r.held += part.price;
      revenue.set(b.currency, r);
      if (b.status === 'booked') {
        const key = `${part.displayId}/${b.currency}`;
        const p = perDisplay.get(key) ?? { currency: b.currency, booked: 0, count: 0 };
        p.booked += part.price;
        p.count++;
        perDisplay.set(key, p);
      }
    }
  }

  return (
    <section>
      <PageHeader title="Bookings & revenue" />
      <PagedList
        list={bookings}
        loadingWhat="bookings"
        errorTitle="Could not load bookings"
        empty={
          <EmptyState title="No bookings on your displays yet">
            <p>
              Advertisers can book a display once it is active. Check that your displays are <Link to="/operator/displays">activated</Link> and online.
            </p>
          </EmptyState>
        }
        moreLabel="Show older bookings"
      >
        <div className="card">
          <h2>Revenue</h2>
          <ul className="totals" data-testid="revenue">
            {[...revenue.values()].map((r) => (
              <li key={r.currency}>
                <strong>{formatMoney(r.booked, r.currency)}</strong> confirmed
                {r.held > 0 && <span className="muted"> · {formatMoney(r.held, r.currency)} on hold</span>}
              </li>
            ))}
          </ul>
          {perDisplay.size > 0 && (
            <ListTable caption={`Confirmed revenue per display${bookings.hasNextPage ? ' (first 200 bookings)' : ''}`} columns={['Display', 'Bookings', 'Revenue']}>
              {[...perDisplay.entries()].map(([key, p]) => {
                const displayId = key.split('/')[0]!;
                return (
                  <tr key={key}>
                    <td>
                      <Link to={`/operator/displays/${displayId}`}>{names.get(displayId) ?? displayId}</Link>
                    </td>
                    <td>{p.count}</td>
                    <td>{formatMoney(p.booked, p.currency)}</td>
                  </tr>
                );
              })}
            </ListTable>
          )}
        </div>
        <ListTable caption="Bookings on your displays, newest first" columns={['Booking', 'Status', 'Runs', 'Your displays', 'Your share']}>
          {items.map((b) => (
            <tr key={b.id}>
              <td>
                <Link to={`/bookings/${b.id}`}>{formatDateTime(b.createdAt)}</Link>
              </td>
              <BookingStateCells booking={b} />
              <td>{b.displays.map((d) => names.get(d.displayId) ?? d.displayId.slice(0, 8)).join(', ')}</td>
              <td>{formatMoney(b.displays.reduce((n, d) => n + d.price, 0), b.currency)}</td>
            </tr>
          ))}
        </ListTable>
      </PagedList>
    </section>
  );
}
