import { ListTable } from '../../components/ListTable.tsx';
import { PagedList } from '../../components/PagedList.tsx';
import { EmptyState, PageHeader } from '../../components/ui.tsx';
import { formatDateTime, formatMoney } from '../../lib/format.ts';
import { DisplayPresenceCells, useOwnedDisplays } from '../operator/shared.tsx';

export function AdminDisplays() {
  const displays = useOwnedDisplays('all');
  return (
    <section>
      <PageHeader title="All displays" />
      <PagedList
        list={displays}
        loadingWhat="displays"
        errorTitle="Could not load displays"
        empty={
          <EmptyState title="No displays registered">
            <p>Operators register displays from their console; they appear here in every status.</p>
          </EmptyState>
        }
        moreLabel="Show more"
      >
        <ListTable caption="Every display, in registration order" columns={['Display', 'Operator', 'Status', 'Connection', 'Last seen', 'Price', 'Registered']}>
          {displays.items.map((d) => (
            <tr key={d.id}>
              <td>{d.name}</td>
              <td>
                <code title={d.operatorId}>{d.operatorId.slice(0, 8)}</code>
              </td>
              <DisplayPresenceCells display={d} />
              <td>{formatMoney(d.pricePerSlotHour, d.currency)}</td>
              <td>{formatDateTime(d.createdAt)}</td>
            </tr>
          ))}
        </ListTable>
      </PagedList>
    </section>
  );
}

/** api-v2 has no endpoint listing users (the account service keeps them and exposes only /me). */
export function AdminUsers() {
  return (
    <section>
      <PageHeader title="Users" />
      <EmptyState title="The user list is not available yet">
        <p>
          Marquee’s API does not list accounts yet (it has sign-up, sign-in and “who am I” only), so this page cannot show them. Operators appear by id on{' '}
          <a href="/admin/displays">All displays</a>, advertisers on <a href="/bookings">All bookings</a>.
        </p>
      </EmptyState>
    </section>
  );
}
