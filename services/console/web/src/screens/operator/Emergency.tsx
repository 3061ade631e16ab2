import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { Badge, EmptyState, ErrorMessage, Field, Loading, PageHeader } from '../../components/ui.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';
import { choiceLabel, useContentChoices } from './content.tsx';
import { isOwned, type OwnedDisplay } from './shared.tsx';

type Emergency = components['schemas']['Emergency'];

/**
 * Emergency override: a message or an approved creative replaces everything on the chosen
 * displays at once, until cleared.
 */
export function EmergencyOverride() {
  const displays = usePagedList(['displays', 'mine'], (cursor) => unwrap(api.GET('/displays', { params: { query: { limit: 200, ...cursorParam(cursor) } } })));
  const emergencies = useQuery({ queryKey: ['emergencies'], queryFn: () => unwrap(api.GET('/emergencies', { params: { query: { limit: 100 } } })) });
  const owned = displays.items.filter(isOwned);
  const names = new Map(owned.map((d) => [d.id, d.name]));
  const active = emergencies.data?.items.filter((e) => !e.clearedAt) ?? [];
  const past = emergencies.data?.items.filter((e) => e.clearedAt) ?? [];
  return (
    <section>
      <PageHeader title="Emergency override" />
      <p className="muted">Replaces everything on the displays you choose — bookings and house content — until you clear it.</p>
      <ErrorMessage error={displays.error ?? emergencies.error} title="Could not load your displays or emergencies" />
      {(displays.isPending || emergencies.isPending) && <Loading what="your displays and emergencies" />}
      {active.length > 0 && (
        <div className="card" aria-labelledby="active-title">
          <h2 id="active-title">On screen now</h2>
          <ul className="plain-list">
            {active.map((e) => (
              <ActiveEmergency key={e.id} emergency={e} names={names} />
            ))}
          </ul>
        </div>
      )}
      {displays.isSuccess && owned.length === 0 ? (
        <EmptyState title="No displays yet">
          <p>
            <Link to="/operator/displays">Register a display</Link> first: an override goes to displays you run.
          </p>
        </EmptyState>
      ) : (
        displays.isSuccess && <StartEmergency displays={owned} />
      )}
      {past.length > 0 && (
        <div className="card">
          <h2>Cleared</h2>
          <ul>
            {past.map((e) => (
              <li key={e.id}>
                {describe(e)} on {e.displayIds.map((id) => names.get(id) ?? id).join(', ')} — {formatDateTime(e.startedAt)} to {formatDateTime(e.clearedAt)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

const describe = (e: Emergency) => (e.message !== null ? `“${e.message}”` : `creative ${e.creativeId}`);

function ActiveEmergency({ emergency, names }: { emergency: Emergency; names: Map<string, string> }) {
  const queryClient = useQueryClient();
  const clear = useMutation({
    mutationFn: () => unwrap(api.POST('/emergencies/{id}/clear', { params: { path: { id: emergency.id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['emergencies'] }),
  });
  return (
    <li data-testid="active-emergency">
      <Badge tone="bad">override</Badge> {describe(emergency)} on {emergency.displayIds.map((id) => names.get(id) ?? id).join(', ')}, since{' '}
      {formatDateTime(emergency.startedAt)}{' '}
      <button type="button" onClick={() => clear.mutate()} disabled={clear.isPending}>
        Clear override
      </button>
      <ErrorMessage error={clear.error} title="Could not clear the override" />
    </li>
  );
}

function StartEmergency({ displays }: { displays: OwnedDisplay[] }) {
  const queryClient = useQueryClient();
  const choices = useContentChoices();
  const [kind, setKind] = useState<'message' | 'creative'>('message');
  const [message, setMessage] = useState('');
  const [creativeId, setCreativeId] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const toggle = (id: string) =>
    setChosen((prev) => {
      const next = new Set(prev);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const start = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/emergencies', {
          body: { displayIds: [...chosen], ...(kind === 'message' ? { message: message.trim() } : { creativeId }) },
        }),
      ),
    onSuccess: () => {
      setMessage('');
      setChosen(new Set());
      void queryClient.invalidateQueries({ queryKey: ['emergencies'] });
    },
  });
  const ready = chosen.size > 0 && (kind === 'message' ? message.trim() !== '' : creativeId !== '');
  return (
    <form
      className="card"
      aria-labelledby="start-title"
      onSubmit={(e) => {
        e.preventDefault();
        start.mutate();
      }}
    >
      <h2 id="start-title">Start an override</h2>
      <fieldset>
        <legend>Show</legend>
        <label>
          <input type="radio" name="emergency-kind" checked={kind === 'message'} onChange={() => setKind('message')} /> A text message
        </label>{' '}
        <label>
          <input type="radio" name="emergency-kind" checked={kind === 'creative'} onChange={() => setKind('creative')} /> A creative (yours or one you approved)
        </label>
      </fieldset>
      {kind === 'message' ? (
        <Field label="Message" hint="Plain text, up to 2000 characters, shown full screen.">
          {(id, describedBy) => <textarea id={id} aria-describedby={describedBy} value={message} maxLength={2000} onChange={(e) => setMessage(e.target.value)} />}
        </Field>
      ) : choices.data?.length === 0 ? (
        <p className="muted">You have no creative of your own and have approved none yet: send a text message instead.</p>
      ) : (
        <Field label="Creative">
          {(id) => (
            <select id={id} value={creativeId} onChange={(e) => setCreativeId(e.target.value)}>
              <option value="">Choose a creative…</option>
              {(choices.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {choiceLabel(c)}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <fieldset>
        <legend>On these displays</legend>
        {displays.map((d) => (
          <label key={d.id} className="check">
            <input type="checkbox" checked={chosen.has(d.id)} onChange={() => toggle(d.id)} /> {d.name}
          </label>
        ))}
        <button type="button" className="link" onClick={() => setChosen(new Set(displays.map((d) => d.id)))}>
          Choose all
        </button>
      </fieldset>
      <div className="actions">
        <button type="submit" className="danger" disabled={!ready || start.isPending}>
          Start override on {chosen.size} display{chosen.size === 1 ? '' : 's'}
        </button>
      </div>
      <ErrorMessage error={start.error ?? choices.error} title="Could not start the override" />
    </form>
  );
}
