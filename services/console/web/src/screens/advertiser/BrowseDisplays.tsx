import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { EmptyState, ErrorMessage, Field, Loading, PageHeader } from '../../components/ui.tsx';
import { cart, useCart } from '../../lib/cart.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';
import { formatMoney, fromLocalInput } from '../../lib/format.ts';

type AnyDisplay = components['schemas']['Display'] | components['schemas']['PublicDisplay'];

interface Filters {
  tag?: string;
  near?: string;
  radiusKm?: number;
  availableFrom?: string;
  availableTo?: string;
}

export function BrowseDisplays() {
  const [filters, setFilters] = useState<Filters>({});
  const [draft, setDraft] = useState({ tag: '', lat: '', lng: '', radiusKm: '10', from: '', to: '' });
  const picked = useCart();
  const displays = usePagedList(['displays', 'catalogue', filters], (cursor) => unwrap(api.GET('/displays', { params: { query: { limit: 24, ...filters, ...cursorParam(cursor) } } })));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const near = draft.lat && draft.lng ? `${draft.lat},${draft.lng}` : undefined;
    setFilters({
      ...(draft.tag.trim() ? { tag: draft.tag.trim() } : {}),
      ...(near ? { near, radiusKm: Number(draft.radiusKm) || 10 } : {}),
      ...(draft.from && draft.to ? { availableFrom: fromLocalInput(draft.from), availableTo: fromLocalInput(draft.to) } : {}),
    });
  };
  const items: AnyDisplay[] = displays.items;
  const filtered = Object.keys(filters).length > 0;

  return (
    <section>
      <PageHeader title="Find displays">
        {picked.length > 0 && (
          <Link className="button primary" to="/book">
            Book {picked.length} display{picked.length === 1 ? '' : 's'} →
          </Link>
        )}
      </PageHeader>
      <form className="filters card" onSubmit={apply} aria-label="Filter displays">
        <Field label="Tags" hint="Comma separated; every tag must match.">
          {(id, hint) => <input id={id} aria-describedby={hint} placeholder="mall, outdoor" value={draft.tag} onChange={(e) => setDraft({ ...draft, tag: e.target.value })} />}
        </Field>
        <fieldset className="inline">
          <legend>Near</legend>
          <Field label="Latitude">{(id) => <input id={id} inputMode="decimal" placeholder="52.52" value={draft.lat} onChange={(e) => setDraft({ ...draft, lat: e.target.value })} />}</Field>
          <Field label="Longitude">{(id) => <input id={id} inputMode="decimal" placeholder="13.40" value={draft.lng} onChange={(e) => setDraft({ ...draft, lng: e.target.value })} />}</Field>
          <Field label="Radius (km)">{(id) => <input id={id} type="number" min="0.1" step="0.1" value={draft.radiusKm} onChange={(e) => setDraft({ ...draft, radiusKm: e.target.value })} />}</Field>
        </fieldset>
        <fieldset className="inline">
          <legend>Free between</legend>
          <Field label="From">{(id) => <input id={id} type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />}</Field>
          <Field label="To">{(id) => <input id={id} type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />}</Field>
        </fieldset>
        <div className="actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          {filtered && (
            <button
              type="button"
              onClick={() => {
                setDraft({ tag: '', lat: '', lng: '', radiusKm: '10', from: '', to: '' });
                setFilters({});
              }}
            >
              Clear
            </button>
          )}
        </div>
      </form>

      <ErrorMessage error={displays.error} title="Could not load displays" />
      {displays.isPending && <Loading what="displays" />}
      {displays.isSuccess && items.length === 0 && (
        <EmptyState title={filtered ? 'No display matches these filters' : 'No displays are on offer yet'}>
          {filtered ? <p>Widen the radius, drop a tag or pick another time window.</p> : <p>Operators add their screens to the catalogue when they activate them. Check back soon.</p>}
        </EmptyState>
      )}
      <ul className="grid" aria-label="Displays">
        {items.map((d) => {
          const selected = picked.some((p) => p.id === d.id);
          return (
            <li key={d.id} className={selected ? 'card display-card selected' : 'card display-card'}>
              <h2>
                <Link to={`/displays/${d.id}`}>{d.name}</Link>
              </h2>
              <p className="muted">{d.location.address || `${d.location.lat.toFixed(3)}, ${d.location.lng.toFixed(3)}`}</p>
              <dl className="facts">
                <dt>Price</dt>
                <dd>{formatMoney(d.pricePerSlotHour, d.currency)} per slot-hour</dd>
                <dt>Screen</dt>
                <dd>
                  {d.resolution.widthPx}×{d.resolution.heightPx} {d.orientation}
                </dd>
                <dt>Loop</dt>
                <dd>
                  {d.loop.slotCount} slots of {d.loop.slotMs / 1000} s
                </dd>
              </dl>
              {d.tags.length > 0 && (
                <ul className="tags" aria-label="Tags">
                  {d.tags.map((t) => (
                    <li key={t}>{t}</li>
                  ))}
                </ul>
              )}
              <label className="choice">
                <input
                  type="checkbox"
                  checked={selected}
                  onChange={() => cart.toggle({ id: d.id, name: d.name, currency: d.currency, pricePerSlotHour: d.pricePerSlotHour })}
                />
                Add “{d.name}” to booking
              </label>
            </li>
          );
        })}
      </ul>
      {displays.hasNextPage && (
        <button type="button" onClick={() => void displays.fetchNextPage()} disabled={displays.isFetchingNextPage}>
          {displays.isFetchingNextPage ? 'Loading…' : 'Show more displays'}
        </button>
      )}
    </section>
  );
}
