import { api, unwrap } from '../../api/client.ts';
import { EmptyState, ErrorMessage, Loading, Online, PageHeader, StatusBadge } from '../../components/ui.tsx';
import { formatDateTime, formatMoney, formatRelative } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';
import { isOwned } from '../operator/shared.tsx';

export function AdminDisplays() {
  const refetchInterval = useLiveRefetch();
  const displays = usePagedList(['displays', 'all'], (cursor) => unwrap(api.GET('/displays', { params: { query: { limit: 200, ...cursorParam(cursor) } } })), { refetchInterval });
  const items = displays.items.filter(isOwned);
  return (
    <section>
      <PageHeader title="All displays" />
      <ErrorMessage error={displays.error} title="Could not load displays" />
      {displays.isPending && <Loading what="displays" />}
      {displays.isSuccess && items.length === 0 && (
        <EmptyState title="No displays registered">
          <p>Operators register displays from their console; they appear here in every status.</p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <table className="list">
          <caption>Every display, in registration order</caption>
          <thead>
            <tr>
              <th scope="col">Display</th>
              <th scope="col">Operator</th>
              <th scope="col">Status</th>
              <th scope="col">Connection</th>
              <th scope="col">Last seen</th>
              <th scope="col">Price</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>{d.name}</td>
                <td>
                  <code title={d.operatorId}>{d.operatorId.slice(0, 8)}</code>
                </td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td>
                  <Online online={d.presence.online} />
                </td>
                <td>{formatRelative(d.presence.lastSeenAt)}</td>
                <td>{formatMoney(d.pricePerSlotHour, d.currency)}</td>
                <td>{formatDateTime(d.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {displays.hasNextPage && (
        <button type="button" onClick={() => void displays.fetchNextPage()}>
          Show more
        </button>
      )}
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
