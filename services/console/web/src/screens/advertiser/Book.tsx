import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import { ApiError } from '../../api/problem.ts';
import type { components } from '../../api/schema.ts';
import { Countdown, EmptyState, ErrorMessage, Field, PageHeader, StatusBadge } from '../../components/ui.tsx';
import { cart, useCart } from '../../lib/cart.ts';
import { formatDateTime, formatMoney, fromLocalInput, newIdempotencyKey, toLocalInput } from '../../lib/format.ts';

type Booking = components['schemas']['Booking'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Book the picked displays: hold (inventory blocked, price shown, countdown) → confirm or release. */
export function Book() {
  const picked = useCart();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const creatives = useQuery({ queryKey: ['creatives', 'all-for-booking'], queryFn: () => unwrap(api.GET('/creatives', { params: { query: { limit: 200 } } })) });
  const [creativeId, setCreativeId] = useState('');
  // Now (to the minute): the API accepts a start up to 5 minutes in the past.
  const [from, setFrom] = useState(() => toLocalInput(new Date()));
  const [to, setTo] = useState(() => toLocalInput(new Date(Date.now() + 7 * 86_400_000)));
  const [useDaypart, setUseDaypart] = useState(false);
  const [daypart, setDaypart] = useState({ from: '07:00', to: '10:00', days: [...DAYS] as string[] });
  const [hold, setHold] = useState<Booking | null>(null);
  const [expired, setExpired] = useState(false);
  // One key per intended booking: a retried click returns the same hold instead of a second one.
  const idempotencyKey = useRef(newIdempotencyKey());

  const createHold = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/bookings', {
          params: { header: { 'idempotency-key': idempotencyKey.current } },
          body: {
            displayIds: picked.map((p) => p.id),
            creativeId,
            startsAt: fromLocalInput(from) ?? '',
            endsAt: fromLocalInput(to) ?? '',
            ...(useDaypart ? { daypart: { from: daypart.from, to: daypart.to, days: daypart.days as (typeof DAYS)[number][] } } : {}),
          },
        }),
      ),
    onSuccess: (booking) => {
      setExpired(false);
      setHold(booking);
    },
  });
  const confirm = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/bookings/{id}/confirm', { params: { path: { id } } })),
    onSuccess: (booking) => {
      cart.clear();
      idempotencyKey.current = newIdempotencyKey();
      void queryClient.invalidateQueries({ queryKey: ['bookings'] });
      navigate(`/bookings/${booking.id}`);
    },
  });
  const release = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/bookings/{id}/cancel', { params: { path: { id } } })),
    onSuccess: () => {
      setHold(null);
      idempotencyKey.current = newIdempotencyKey();
    },
  });

  const nameOf = (id: string) => picked.find((p) => p.id === id)?.name ?? id;
  const conflicts = createHold.error instanceof ApiError ? ((createHold.error.problem.conflicts ?? []) as { displayId?: string }[]) : [];

  if (hold) {
    return (
      <section>
        <PageHeader title="Confirm your booking" />
        <div className="card hold" aria-labelledby="hold-title">
          <h2 id="hold-title">
            Held for you <StatusBadge status={hold.status} />
          </h2>
          {expired ? (
            <p className="error" role="alert">
              The hold has expired and the slots were released. Start again to get a new price.
            </p>
          ) : (
            <p className="hold-timer">
              The slots are held for <Countdown until={hold.holdExpiresAt ?? hold.createdAt} onExpired={() => setExpired(true)} />. Confirm before then.
            </p>
          )}
          <p className="price" data-testid="hold-price">
            Total <strong>{formatMoney(hold.priceTotal, hold.currency)}</strong>
          </p>
          <table>
            <caption className="sr-only">Price per display</caption>
            <thead>
              <tr>
                <th scope="col">Display</th>
                <th scope="col">Slot</th>
                <th scope="col">Windows</th>
                <th scope="col">Price</th>
              </tr>
            </thead>
            <tbody>
              {hold.displays.map((d) => (
                <tr key={d.displayId}>
                  <td>{nameOf(d.displayId)}</td>
                  <td>{d.slot + 1}</td>
                  <td>{d.windowCount}</td>
                  <td>{formatMoney(d.price, hold.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            {formatDateTime(hold.startsAt)} → {formatDateTime(hold.endsAt)}
            {hold.daypart && ` · daily ${hold.daypart.from}–${hold.daypart.to}${hold.daypart.days ? ` on ${hold.daypart.days.join(', ')}` : ''}`}
          </p>
          <ErrorMessage error={confirm.error ?? release.error} />
          <div className="actions">
            <button type="button" className="primary" disabled={expired || confirm.isPending} onClick={() => confirm.mutate(hold.id)}>
              {confirm.isPending ? 'Confirming…' : 'Confirm booking'}
            </button>
            <button type="button" disabled={release.isPending} onClick={() => (expired ? setHold(null) : release.mutate(hold.id))}>
              {expired ? 'Start again' : 'Release the hold'}
            </button>
          </div>
        </div>
      </section>
    );
  }

  if (picked.length === 0) {
    return (
      <section>
        <PageHeader title="Book" />
        <EmptyState title="No displays picked yet">
          <p>
            <Link to="/displays">Find displays</Link> and tick “Add to booking” on each one you want, then come back here.
          </p>
        </EmptyState>
      </section>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    createHold.mutate();
  };
  const creativeList = creatives.data?.items ?? [];
  return (
    <section>
      <PageHeader title="Book" />
      <form className="card" onSubmit={submit} aria-label="New booking">
        <h2>Displays</h2>
        <ul className="picked">
          {picked.map((p) => (
            <li key={p.id}>
              {p.name} <span className="muted">({formatMoney(p.pricePerSlotHour, p.currency)} per slot-hour)</span>{' '}
              <button type="button" className="link" onClick={() => cart.remove(p.id)} aria-label={`Remove ${p.name}`}>
                remove
              </button>
            </li>
          ))}
        </ul>
        <Field label="Creative" hint={creativeList.length === 0 ? 'You have no creatives yet: upload one first.' : undefined}>
          {(id, hint) => (
            <select id={id} aria-describedby={hint} required value={creativeId} onChange={(e) => setCreativeId(e.target.value)}>
              <option value="">Choose a creative…</option>
              {creativeList.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.type})
                </option>
              ))}
            </select>
          )}
        </Field>
        {creativeList.length === 0 && creatives.isSuccess && (
          <p>
            <Link to="/creatives">Upload a creative</Link>
          </p>
        )}
        <fieldset className="inline">
          <legend>When</legend>
          <Field label="Starts">{(id) => <input id={id} type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} />}</Field>
          <Field label="Ends">{(id) => <input id={id} type="datetime-local" required value={to} onChange={(e) => setTo(e.target.value)} />}</Field>
        </fieldset>
        <label className="choice">
          <input type="checkbox" checked={useDaypart} onChange={(e) => setUseDaypart(e.target.checked)} /> Only at certain times of day (in each display’s own time zone)
        </label>
        {useDaypart && (
          <fieldset className="inline">
            <legend>Daily window</legend>
            <Field label="From">{(id) => <input id={id} type="time" value={daypart.from} onChange={(e) => setDaypart({ ...daypart, from: e.target.value })} />}</Field>
            <Field label="To">{(id) => <input id={id} type="time" value={daypart.to} onChange={(e) => setDaypart({ ...daypart, to: e.target.value })} />}</Field>
            <div className="days" role="group" aria-label="Days">
              {DAYS.map((day) => (
                <label key={day} className="choice">
                  <input
                    type="checkbox"
                    checked={daypart.days.includes(day)}
                    onChange={(e) => setDaypart({ ...daypart, days: e.target.checked ? [...daypart.days, day] : daypart.days.filter((d) => d !== day) })}
                  />
                  {day}
                </label>
              ))}
            </div>
          </fieldset>
        )}
        <ErrorMessage error={createHold.error} title="Could not hold these displays" />
        {conflicts.length > 0 && (
          <p role="status">
            Full for that time: {conflicts.map((c) => nameOf(c.displayId ?? '')).join(', ')}. Remove them or pick another time.
          </p>
        )}
        <button type="submit" className="primary" disabled={createHold.isPending || !creativeId}>
          {createHold.isPending ? 'Holding…' : `Hold ${picked.length} display${picked.length === 1 ? '' : 's'} and see the price`}
        </button>
      </form>
    </section>
  );
}
