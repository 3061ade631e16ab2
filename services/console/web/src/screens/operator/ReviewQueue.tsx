import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { Preview } from '../../components/Preview.tsx';
import { EmptyState, ErrorMessage, Field, Loading, PageHeader } from '../../components/ui.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';

type Approval = components['schemas']['Approval'];

/** The approval's creative as the preview reads it (its media from this origin). */
const previewOf = (a: Approval) => ({ ...a.creative, mediaSha256: a.creative.mediaUrl?.match(/\/media\/([0-9a-f]{64})$/)?.[1] ?? null });

/**
 * Creatives booked on the operator's `review` displays, oldest first. Approving once covers all of
 * the operator's displays; the list refreshes on `approval.changed` and `booking.changed` events.
 */
export function ReviewQueue() {
  const refetchInterval = useLiveRefetch();
  const queue = useQuery({
    queryKey: ['approvals', 'pending'],
    queryFn: () => unwrap(api.GET('/approvals', { params: { query: { state: 'pending', limit: 100 } } })),
    refetchInterval,
  });
  return (
    <section>
      <PageHeader title="Review queue" />
      <p className="muted">
        Creatives booked on your displays that review content. Approving a creative puts it on screen at once, on all of your displays; a rejection keeps the
        last approved creative (or your house content) playing and shows your reason to the advertiser.
      </p>
      {queue.isPending ? (
        <Loading what="the review queue" />
      ) : queue.error ? (
        <ErrorMessage error={queue.error} title="Could not load the review queue" />
      ) : queue.data.items.length === 0 ? (
        <EmptyState title="Nothing to review">
          <p>
            New bookings on displays whose content policy is “review” appear here. To let an advertiser’s creatives play without review, add them to your
            trusted advertisers below.
          </p>
        </EmptyState>
      ) : (
        <ul className="review-list" aria-label="Creatives waiting for review">
          {queue.data.items.map((a) => (
            <ReviewItem key={a.id} approval={a} />
          ))}
        </ul>
      )}
      <TrustedAdvertisers />
    </section>
  );
}

function ReviewItem({ approval }: { approval: Approval }) {
  const queryClient = useQueryClient();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const decided = () => {
    void queryClient.invalidateQueries({ queryKey: ['approvals'] });
    void queryClient.invalidateQueries({ queryKey: ['displays'] });
  };
  const approve = useMutation({ mutationFn: () => unwrap(api.POST('/approvals/{id}/approve', { params: { path: { id: approval.id } } })), onSuccess: decided });
  const reject = useMutation({
    mutationFn: () => unwrap(api.POST('/approvals/{id}/reject', { params: { path: { id: approval.id } }, body: { reason } })),
    onSuccess: decided,
  });
  const c = approval.creative;
  const titleId = `review-${approval.id}`;
  return (
    <li className="card review-item" aria-labelledby={titleId} data-testid="review-item">
      <h2 id={titleId}>{c.name}</h2>
      <Preview creative={previewOf(approval)} />
      <dl className="facts">
        <dt>Type</dt>
        <dd>
          {c.type}, {c.durationMs / 1000} s
        </dd>
        <dt>Advertiser</dt>
        <dd>
          <code data-testid="review-advertiser">{c.advertiserId}</code>
        </dd>
        <dt>Waiting since</dt>
        <dd>{formatDateTime(approval.createdAt)}</dd>
      </dl>
      <div className="actions">
        <button type="button" className="primary" onClick={() => approve.mutate()} disabled={approve.isPending || reject.isPending}>
          Approve “{c.name}”
        </button>
        {!rejecting && (
          <button type="button" onClick={() => setRejecting(true)}>
            Reject…
          </button>
        )}
      </div>
      {rejecting && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            reject.mutate();
          }}
        >
          <Field label="Reason for rejecting" hint="The advertiser sees this on their booking (up to 500 characters).">
            {(id, describedBy) => (
              <textarea id={id} aria-describedby={describedBy} value={reason} maxLength={500} required onChange={(e) => setReason(e.target.value)} autoFocus />
            )}
          </Field>
          <div className="actions">
            <button type="submit" className="danger" disabled={reject.isPending || reason.trim() === ''}>
              Reject with this reason
            </button>
            <button type="button" onClick={() => setRejecting(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ErrorMessage error={approve.error ?? reject.error} title="Could not record your decision" />
    </li>
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Advertisers whose creatives play on the operator's displays without review. */
function TrustedAdvertisers() {
  const queryClient = useQueryClient();
  const [advertiserId, setAdvertiserId] = useState('');
  const trusted = useQuery({ queryKey: ['trusted-advertisers'], queryFn: () => unwrap(api.GET('/trusted-advertisers', { params: { query: { limit: 200 } } })) });
  const changed = () => {
    void queryClient.invalidateQueries({ queryKey: ['trusted-advertisers'] });
    void queryClient.invalidateQueries({ queryKey: ['approvals'] });
  };
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/trusted-advertisers', { body: { advertiserId: advertiserId.trim() } })),
    onSuccess: () => {
      setAdvertiserId('');
      changed();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/trusted-advertisers/{advertiserId}', { params: { path: { advertiserId: id } } })),
    onSuccess: changed,
  });
  const valid = UUID.test(advertiserId.trim());
  return (
    <div className="card" aria-labelledby="trusted-title">
      <h2 id="trusted-title">Trusted advertisers</h2>
      <p className="muted">Their creatives play on your displays without review. Trusting one approves what of theirs waits above.</p>
      {trusted.isPending ? (
        <Loading what="trusted advertisers" />
      ) : trusted.error ? (
        <ErrorMessage error={trusted.error} title="Could not load your trusted advertisers" />
      ) : trusted.data.items.length === 0 ? (
        <EmptyState title="You trust no advertiser yet">
          <p>Add an advertiser’s id (shown on each creative in the queue) to skip review for them.</p>
        </EmptyState>
      ) : (
        <ul>
          {trusted.data.items.map((t) => (
            <li key={t.advertiserId}>
              <code>{t.advertiserId}</code> <span className="muted">since {formatDateTime(t.createdAt)}</span>{' '}
              <button type="button" onClick={() => remove.mutate(t.advertiserId)} disabled={remove.isPending} aria-label={`Stop trusting ${t.advertiserId}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <Field label="Advertiser id" hint="The id of the advertiser’s account (a UUID).">
          {(id, describedBy) => <input id={id} aria-describedby={describedBy} value={advertiserId} onChange={(e) => setAdvertiserId(e.target.value)} />}
        </Field>
        <button type="submit" disabled={!valid || add.isPending}>
          Trust advertiser
        </button>
      </form>
      <ErrorMessage error={add.error ?? remove.error} title="Could not change your trusted advertisers" />
    </div>
  );
}
