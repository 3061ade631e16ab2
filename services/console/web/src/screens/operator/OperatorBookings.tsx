import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import { EmptyState, ErrorMessage, Loading, PageHeader, StatusBadge } from '../../components/ui.tsx';
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
      <ErrorMessage error={bookings.error} title="Could not load bookings" />
      {bookings.isPending && <Loading what="bookings" />}
      {bookings.isSuccess && items.length === 0 && (
        <EmptyState title="No bookings on your displays yet">
          <p>
            Advertisers can book a display once it is active. Check that your displays are <Link to="/operator/displays">activated</Link> and online.
          </p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <>
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
              <table className="list">
                <caption>Confirmed revenue per display{bookings.hasNextPage ? ' (first 200 bookings)' : ''}</caption>
                <thead>
                  <tr>
                    <th scope="col">Display</th>
                    <th scope="col">Bookings</th>
                    <th scope="col">Revenue</th>
                  </tr>
                </thead>
                <tbody>
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
                </tbody>
              </table>
            )}
          </div>
          <table className="list">
            <caption>Bookings on your displays, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Booking</th>
                <th scope="col">Status</th>
                <th scope="col">Runs</th>
                <th scope="col">Your displays</th>
                <th scope="col">Your share</th>
              </tr>
            </thead>
            <tbody>
              {items.map((b) => (
                <tr key={b.id}>
                  <td>
                    <Link to={`/bookings/${b.id}`}>{formatDateTime(b.createdAt)}</Link>
                  </td>
                  <td>
                    <StatusBadge status={b.status} />
                  </td>
                  <td>
                    {formatDateTime(b.startsAt)} → {formatDateTime(b.endsAt)}
                  </td>
                  <td>{b.displays.map((d) => names.get(d.displayId) ?? d.displayId.slice(0, 8)).join(', ')}</td>
                  <td>{formatMoney(b.displays.reduce((n, d) => n + d.price, 0), b.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {bookings.hasNextPage && (
            <button type="button" onClick={() => void bookings.fetchNextPage()}>
              Show older bookings
            </button>
          )}
        </>
      )}
    </section>
  );
}
