import { Link } from 'react-router';
import { useUser } from '../../App.tsx';
import { api, unwrap } from '../../api/client.ts';
import { EmptyState, ErrorMessage, Loading, PageHeader, StatusBadge } from '../../components/ui.tsx';
import { formatDateTime, formatMoney } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';

export function Bookings() {
  const user = useUser();
  const refetchInterval = useLiveRefetch();
  const bookings = usePagedList(['bookings'], (cursor) => unwrap(api.GET('/bookings', { params: { query: { limit: 50, ...cursorParam(cursor) } } })), { refetchInterval });
  const items = bookings.items;
  return (
    <section>
      <PageHeader title={user?.role === 'admin' ? 'All bookings' : 'Bookings & reports'}>{user?.role === 'advertiser' && <Link to="/displays">New booking</Link>}</PageHeader>
      <ErrorMessage error={bookings.error} title="Could not load bookings" />
      {bookings.isPending && <Loading what="bookings" />}
      {bookings.isSuccess && items.length === 0 && (
        <EmptyState title="No bookings yet">
          <p>
            <Link to="/displays">Find displays</Link>, pick the ones you want and book them with one of your creatives.
          </p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <table className="list">
          <caption className="sr-only">Bookings, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Booking</th>
              <th scope="col">Status</th>
              <th scope="col">Runs</th>
              <th scope="col">Displays</th>
              <th scope="col">Price</th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => (
              <tr key={b.id}>
                <td>
                  <Link to={`/bookings/${b.id}`}>Booked {formatDateTime(b.createdAt)}</Link>
                </td>
                <td>
                  <StatusBadge status={b.status} />
                </td>
                <td>
                  {formatDateTime(b.startsAt)} → {formatDateTime(b.endsAt)}
                </td>
                <td>{b.displays.length}</td>
                <td>{formatMoney(b.priceTotal, b.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {bookings.hasNextPage && (
        <button type="button" onClick={() => void bookings.fetchNextPage()}>
          Show older bookings
        </button>
      )}
    </section>
  );
}
