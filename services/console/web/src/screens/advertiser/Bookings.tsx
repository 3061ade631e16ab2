import { Link } from 'react-router';
import { useUser } from '../../App.tsx';
import { api, unwrap } from '../../api/client.ts';
import { BookingStateCells } from '../../components/BookingCells.tsx';
import { ListTable } from '../../components/ListTable.tsx';
import { PagedList } from '../../components/PagedList.tsx';
import { EmptyState, PageHeader } from '../../components/ui.tsx';
import { formatDateTime, formatMoney } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';

export function Bookings() {
  const user = useUser();
  const refetchInterval = useLiveRefetch();
  const bookings = usePagedList(['bookings'], (cursor) => unwrap(api.GET('/bookings', { params: { query: { limit: 50, ...cursorParam(cursor) } } })), { refetchInterval });
  return (
    <section>
      <PageHeader title={user?.role === 'admin' ? 'All bookings' : 'Bookings & reports'}>{user?.role === 'advertiser' && <Link to="/displays">New booking</Link>}</PageHeader>
      <PagedList
        list={bookings}
        loadingWhat="bookings"
        errorTitle="Could not load bookings"
        empty={
          <EmptyState title="No bookings yet">
            <p>
              <Link to="/displays">Find displays</Link>, pick the ones you want and book them with one of your creatives.
            </p>
          </EmptyState>
        }
        moreLabel="Show older bookings"
      >
        <ListTable caption="Bookings, newest first" captionHidden columns={['Booking', 'Status', 'Runs', 'Displays', 'Price']}>
          {bookings.items.map((b) => (
            <tr key={b.id}>
              <td>
                <Link to={`/bookings/${b.id}`}>Booked {formatDateTime(b.createdAt)}</Link>
              </td>
              <BookingStateCells booking={b} />
              <td>{b.displays.length}</td>
              <td>{formatMoney(b.priceTotal, b.currency)}</td>
            </tr>
          ))}
        </ListTable>
      </PagedList>
    </section>
  );
}
