import { Link } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import { EmptyState, ErrorMessage, Loading, PageHeader } from '../../components/ui.tsx';
import { cursorParam, usePagedList } from '../../lib/pages.ts';
import { ContentSettings, useContentChoices } from './content.tsx';
import { isOwned } from './shared.tsx';

/** House content for all of the operator's displays at once: what plays where no booking does. */
export function HouseContent() {
  const displays = usePagedList(['displays', 'mine'], (cursor) => unwrap(api.GET('/displays', { params: { query: { limit: 200, ...cursorParam(cursor) } } })));
  const choices = useContentChoices();
  const items = displays.items.filter(isOwned);
  return (
    <section>
      <PageHeader title="House content" />
      <p className="muted">
        House content plays in every slot of a display that no booking fills — one of <Link to="/creatives">your own creatives</Link> or an advertiser’s
        creative you approved.
      </p>
      <ErrorMessage error={displays.error ?? choices.error} title="Could not load your displays or creatives" />
      {(displays.isPending || choices.isPending) && <Loading what="your displays and creatives" />}
      {displays.isSuccess && items.length === 0 && (
        <EmptyState title="No displays yet">
          <p>
            <Link to="/operator/displays">Register a display</Link> first; then choose what it plays when nothing is booked.
          </p>
        </EmptyState>
      )}
      {choices.isSuccess && choices.data.length === 0 && items.length > 0 && (
        <EmptyState title="Nothing to choose from yet">
          <p>Create a creative of your own, or approve an advertiser’s in the review queue: either can then play as house content.</p>
        </EmptyState>
      )}
      {choices.isSuccess && items.length > 0 && (
        <ul className="plain-list">
          {items.map((d) => (
            <li key={d.id} className="card">
              <h2>
                <Link to={`/operator/displays/${d.id}`}>{d.name}</Link>
              </h2>
              <ContentSettings display={d} choices={choices.data} compact />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
