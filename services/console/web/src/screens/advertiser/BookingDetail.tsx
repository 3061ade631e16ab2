import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useUser } from '../../App.tsx';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { BarChart } from '../../components/charts.tsx';
import { Preview } from '../../components/Preview.tsx';
import { Badge, EmptyState, ErrorMessage, Field, Loading, PageHeader, StatusBadge } from '../../components/ui.tsx';
import { perBucket } from '../../lib/report.ts';
import { download } from '../../lib/download.ts';
import { formatDateTime, formatDay, formatMoney } from '../../lib/format.ts';

type Booking = components['schemas']['Booking'];

export function BookingDetail() {
  const { id = '' } = useParams();
  const user = useUser();
  const buyer = user?.role === 'advertiser' || user?.role === 'admin';
  const queryClient = useQueryClient();
  const booking = useQuery({ queryKey: ['booking', id], queryFn: () => unwrap(api.GET('/bookings/{id}', { params: { path: { id } } })) });
  const displayIds = booking.data?.displays.map((d) => d.displayId) ?? [];
  const displays = useQueries({
    queries: displayIds.map((displayId) => ({ queryKey: ['display', displayId], queryFn: () => unwrap(api.GET('/displays/{id}', { params: { path: { id: displayId } } })) })),
  });
  const displayNames = new Map(displays.flatMap((q) => (q.data ? [[q.data.id, q.data.name] as const] : [])));
  const creatives = useQuery({
    queryKey: ['creatives', 'all-for-booking'],
    queryFn: () => unwrap(api.GET('/creatives', { params: { query: { limit: 200 } } })),
    enabled: buyer,
  });
  const creativeNames = new Map((creatives.data?.items ?? []).map((c) => [c.id, c.name]));
  const refresh = (b: Booking) => {
    queryClient.setQueryData(['booking', id], b);
    void queryClient.invalidateQueries({ queryKey: ['bookings'] });
  };

  if (booking.isPending) return <Loading what="the booking" />;
  if (booking.error) return <ErrorMessage error={booking.error} title="Could not load this booking" />;
  const b = booking.data;
  const live = b.status === 'held' || b.status === 'booked';
  const over = new Date(b.endsAt).getTime() <= Date.now();
  const creative = creatives.data?.items.find((c) => c.id === b.creativeId);

  return (
    <section>
      <PageHeader title="Booking">
        <StatusBadge status={b.status} />
      </PageHeader>
      <div className="columns">
        <div className="card">
          <dl className="facts facts-wide">
            <dt>Runs</dt>
            <dd>
              {formatDateTime(b.startsAt)} → {formatDateTime(b.endsAt)}
            </dd>
            {b.daypart && (
              <>
                <dt>Daily</dt>
                <dd>
                  {b.daypart.from}–{b.daypart.to} {b.daypart.days ? `on ${b.daypart.days.join(', ')}` : 'every day'} (display time)
                </dd>
              </>
            )}
            <dt>Price</dt>
            <dd>{formatMoney(b.priceTotal, b.currency)}</dd>
            <dt>Confirmed</dt>
            <dd>{formatDateTime(b.confirmedAt)}</dd>
            {b.cancelledAt && (
              <>
                <dt>Cancelled</dt>
                <dd>{formatDateTime(b.cancelledAt)}</dd>
              </>
            )}
          </dl>
          <h2>Displays</h2>
          <ul>
            {b.displays.map((d) => (
              <li key={d.displayId}>
                {buyer ? <Link to={`/displays/${d.displayId}`}>{displayNames.get(d.displayId) ?? d.displayId}</Link> : (displayNames.get(d.displayId) ?? d.displayId)} — slot {d.slot + 1},{' '}
                {formatMoney(d.price, b.currency)} <ApprovalState approval={d.approval} shownCreativeId={d.shownCreativeId} bookedCreativeId={b.creativeId} />
              </li>
            ))}
          </ul>
        </div>
        {buyer && (
          <div className="card">
            <h2>Creative</h2>
            {creative ? (
              <>
                <Preview creative={creative} />
                <p data-testid="booking-creative">
                  Now showing: <strong>{creative.name}</strong>
                </p>
              </>
            ) : (
              <p className="muted">{creatives.isPending ? 'Loading…' : b.creativeId}</p>
            )}
            {live && !over && <SwapCreative booking={b} creatives={creatives.data?.items ?? []} onSwapped={refresh} />}
            {live && !over && <CancelBooking booking={b} onCancelled={refresh} />}
          </div>
        )}
      </div>
      <Report booking={b} displayNames={displayNames} creativeNames={creativeNames} />
    </section>
  );
}

function SwapCreative({ booking, creatives, onSwapped }: { booking: Booking; creatives: components['schemas']['Creative'][]; onSwapped: (b: Booking) => void }) {
  const [next, setNext] = useState('');
  const swap = useMutation({
    mutationFn: () => unwrap(api.PATCH('/bookings/{id}', { params: { path: { id: booking.id } }, body: { creativeId: next } })),
    onSuccess: (b) => {
      setNext('');
      onSwapped(b);
    },
  });
  const others = creatives.filter((c) => c.id !== booking.creativeId);
  if (others.length === 0) {
    return (
      <p className="muted">
        To show something else, <Link to="/creatives">add another creative</Link> and swap it in here.
      </p>
    );
  }
  return (
    <form
      className="inline"
      aria-label="Swap the creative"
      onSubmit={(e) => {
        e.preventDefault();
        swap.mutate();
      }}
    >
      <Field label="Swap in">
        {(id) => (
          <select id={id} required value={next} onChange={(e) => setNext(e.target.value)}>
            <option value="">Choose a creative…</option>
            {others.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.type})
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" disabled={!next || swap.isPending}>
        {swap.isPending ? 'Swapping…' : 'Swap creative'}
      </button>
      <ErrorMessage error={swap.error} title="Could not swap" />
    </form>
  );
}

function CancelBooking({ booking, onCancelled }: { booking: Booking; onCancelled: (b: Booking) => void }) {
  const [asking, setAsking] = useState(false);
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST('/bookings/{id}/cancel', { params: { path: { id: booking.id } } })),
    onSuccess: onCancelled,
  });
  return (
    <div className="danger-zone">
      {asking ? (
        <div role="group" aria-label="Confirm cancellation">
          <p>Cancel this booking? Its slots are released and the displays stop showing it.</p>
          <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            Yes, cancel the booking
          </button>{' '}
          <button type="button" onClick={() => setAsking(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setAsking(true)}>
          Cancel booking…
        </button>
      )}
      <ErrorMessage error={cancel.error} title="Could not cancel" />
    </div>
  );
}

const DAY = 86_400_000;
/** Plays are not pushed (displays report them in batches): a running booking's report refreshes on its own. */
const PLAYS_REFRESH_MS = 30_000;

function Report({
  booking,
  displayNames,
  creativeNames,
}: {
  booking: Booking;
  displayNames: Map<string, string>;
  creativeNames: Map<string, string>;
}) {
  // Whole UTC days (the report buckets by UTC day) from the start to the end or tomorrow.
  const from = new Date(Math.floor(Date.parse(booking.startsAt) / DAY) * DAY).toISOString();
  const to = new Date(Math.ceil(Math.min(Date.parse(booking.endsAt), Date.now() + DAY) / DAY) * DAY).toISOString();
  const report = useQuery({
    queryKey: ['report', booking.id, from, to],
    queryFn: async () => {
      const report = await unwrap(api.GET('/bookings/{id}/plays', { params: { path: { id: booking.id }, query: { from, to, bucket: 'day' } } }));
      if (typeof report === 'string') throw new Error('The report came back as CSV, not JSON.');
      return report;
    },
    enabled: booking.status === 'booked' || booking.status === 'cancelled',
    refetchInterval: booking.status === 'booked' ? PLAYS_REFRESH_MS : false,
  });
  // The API writes the CSV (Accept: text/csv), so the file matches what API users download.
  const csv = useMutation({
    mutationFn: async () => {
      const text = await unwrap(
        api.GET('/bookings/{id}/plays', { params: { path: { id: booking.id }, query: { from, to, bucket: 'day' } }, headers: { accept: 'text/csv' }, parseAs: 'text' }),
      );
      download(`marquee-booking-${booking.id}-plays.csv`, String(text));
    },
  });
  const downloadCsv = () => csv.mutateAsync().catch(() => undefined);
  if (booking.status !== 'booked' && booking.status !== 'cancelled') return null;
  const r = report.data;
  return (
    <section aria-labelledby="report-title" className="card report">
      <h2 id="report-title">Proof of play</h2>
      <ErrorMessage error={report.error} title="Could not load the report" />
      <ErrorMessage error={csv.error} title="Could not download the CSV" />
      {report.isPending && <Loading what="the report" />}
      {r && r.totals.plays === 0 && (
        <EmptyState title="No plays yet">
          <p>Plays appear here as the displays report them, usually within a minute of the booking starting ({formatDateTime(booking.startsAt)}).</p>
        </EmptyState>
      )}
      {r && r.totals.plays > 0 && (
        <>
          <p className="totals" data-testid="report-totals">
            <strong>{r.totals.plays.toLocaleString()}</strong> plays · <strong>{r.totals.impressions.toLocaleString()}</strong> estimated impressions
          </p>
          <BarChart title="Plays per day (UTC)" unit="plays" bars={perBucket(r).map((b) => ({ label: formatDay(b.start), value: b.plays }))} />
          <BarChart title="Plays per creative" unit="plays" bars={r.creatives.map((c) => ({ label: creativeNames.get(c.creativeId) ?? c.creativeId.slice(0, 8), value: c.plays }))} />
          <BarChart title="Impressions per display" unit="impressions" bars={r.displays.map((d) => ({ label: displayNames.get(d.displayId) ?? d.displayId.slice(0, 8), value: d.impressions }))} />
          <button type="button" onClick={() => void downloadCsv()}>
            Download CSV
          </button>
        </>
      )}
    </section>
  );
}

type DisplayApproval = Booking['displays'][number]['approval'];

/** Whether the display's operator has approved the booked creative yet, and why not if rejected. */
function ApprovalState({ approval, shownCreativeId, bookedCreativeId }: { approval: DisplayApproval; shownCreativeId: string | null; bookedCreativeId: string }) {
  if (!approval) return null;
  const stillShowing = shownCreativeId && shownCreativeId !== bookedCreativeId ? ' It keeps showing your previously approved creative.' : shownCreativeId ? '' : ' Until then the slot plays the display’s house content.';
  return (
    <span data-testid="approval-state">
      {approval.state === 'approved' && <Badge tone="ok">approved</Badge>}
      {approval.state === 'pending' && (
        <>
          <Badge tone="warn">awaiting review</Badge> <span className="muted">The display’s operator reviews this creative before it plays.{stillShowing}</span>
        </>
      )}
      {approval.state === 'rejected' && (
        <>
          <Badge tone="bad">rejected</Badge> <span>Reason: “{approval.reason}”.{stillShowing} Swap in another creative to have it reviewed.</span>
        </>
      )}
    </span>
  );
}
