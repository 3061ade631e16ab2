import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import { ListTable } from '../../components/ListTable.tsx';
import { PagedList } from '../../components/PagedList.tsx';
import { EmptyState, ErrorMessage, Field, PageHeader, useNow } from '../../components/ui.tsx';
import { formatMoney, minorUnits } from '../../lib/format.ts';
import { useLiveMode } from '../../lib/live.ts';
import { CredentialReveal, DisplayPresenceCells, useOwnedDisplays, VersionState, type Credential } from './shared.tsx';

export function OperatorDisplays() {
  const now = useNow(5000);
  const [registering, setRegistering] = useState(false);
  const [credential, setCredential] = useState<Credential | null>(null);
  const live = useLiveMode();
  const displays = useOwnedDisplays('mine');
  return (
    <section>
      <PageHeader title="My displays">
        {!registering && !credential && (
          <button type="button" className="primary" onClick={() => setRegistering(true)}>
            Register a display
          </button>
        )}
      </PageHeader>
      {credential && <CredentialReveal credential={credential} onDone={() => setCredential(null)} />}
      {registering && (
        <RegisterDisplay
          onCancel={() => setRegistering(false)}
          onRegistered={(c) => {
            setRegistering(false);
            setCredential(c);
          }}
        />
      )}
      <PagedList
        list={displays}
        loadingWhat="your displays"
        errorTitle="Could not load your displays"
        moreLabel="Show more displays"
        empty={
          !registering && (
            <EmptyState title="No displays yet">
              <p>Register your first screen: you get a credential to put on the device, then activate it to offer it to advertisers.</p>
            </EmptyState>
          )
        }
      >
        <ListTable
          aria-describedby="live-note"
          caption={
            <>
              Your displays <span id="live-note" className="muted">{live === 'stream' ? '(live)' : '(reconnecting: refreshed every 30 s meanwhile)'}</span>
            </>
          }
          columns={['Display', 'Status', 'Connection', 'Last seen', 'Playlist', 'Price']}
        >
          {displays.items.map((d) => (
            <tr key={d.id} data-testid={`display-row-${d.id}`}>
              <td>
                <Link to={`/operator/displays/${d.id}`}>{d.name}</Link>
              </td>
              <DisplayPresenceCells display={d} now={now} />
              <td>
                <VersionState display={d} />
              </td>
              <td>{formatMoney(d.pricePerSlotHour, d.currency)}/slot-hour</td>
            </tr>
          ))}
        </ListTable>
      </PagedList>
    </section>
  );
}

function RegisterDisplay({ onRegistered, onCancel }: { onRegistered: (c: Credential) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const [f, setF] = useState({
    name: '',
    address: '',
    lat: '',
    lng: '',
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    width: '1920',
    height: '1080',
    loopSeconds: '60',
    slotCount: '6',
    price: '1.00',
    currency: 'EUR',
    tags: '',
    audience: '1',
    contentPolicy: 'review',
  });
  const set = (key: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [key]: e.target.value });
  const register = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/displays', {
          body: {
            name: f.name,
            location: { address: f.address, lat: Number(f.lat), lng: Number(f.lng) },
            timezone: f.timezone,
            resolution: { widthPx: Number(f.width), heightPx: Number(f.height) },
            loop: { lengthMs: Math.round(Number(f.loopSeconds) * 1000), slotCount: Number(f.slotCount) },
            pricePerSlotHour: minorUnits(Number(f.price), f.currency),
            currency: f.currency.toUpperCase(),
            tags: f.tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
            audienceMultiplier: Number(f.audience),
            contentPolicy: f.contentPolicy === 'auto' ? 'auto' : 'review',
          },
        }),
      ),
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ['displays'] });
      onRegistered(created.credential);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    register.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Register a display">
      <h2>Register a display</h2>
      <Field label="Name">{(id) => <input id={id} required maxLength={120} value={f.name} onChange={set('name')} />}</Field>
      <Field label="Address">{(id) => <input id={id} maxLength={300} value={f.address} onChange={set('address')} />}</Field>
      <fieldset className="inline">
        <legend>Position</legend>
        <Field label="Latitude">{(id) => <input id={id} required type="number" step="any" min="-90" max="90" value={f.lat} onChange={set('lat')} />}</Field>
        <Field label="Longitude">{(id) => <input id={id} required type="number" step="any" min="-180" max="180" value={f.lng} onChange={set('lng')} />}</Field>
        <Field label="Time zone" hint="IANA name, e.g. Europe/Berlin">
          {(id, hint) => <input id={id} aria-describedby={hint} required value={f.timezone} onChange={set('timezone')} />}
        </Field>
      </fieldset>
      <fieldset className="inline">
        <legend>Screen and loop</legend>
        <Field label="Width (px)">{(id) => <input id={id} required type="number" min="1" value={f.width} onChange={set('width')} />}</Field>
        <Field label="Height (px)">{(id) => <input id={id} required type="number" min="1" value={f.height} onChange={set('height')} />}</Field>
        <Field label="Loop length (s)">{(id) => <input id={id} required type="number" min="1" value={f.loopSeconds} onChange={set('loopSeconds')} />}</Field>
        <Field label="Slots per loop" hint="Must divide the loop into whole seconds or more.">
          {(id, hint) => <input id={id} aria-describedby={hint} required type="number" min="1" max="360" value={f.slotCount} onChange={set('slotCount')} />}
        </Field>
      </fieldset>
      <fieldset className="inline">
        <legend>Offer</legend>
        <Field label="Price per slot-hour">{(id) => <input id={id} required type="number" min="0" step="0.01" value={f.price} onChange={set('price')} />}</Field>
        <Field label="Currency">{(id) => <input id={id} required pattern="[A-Za-z]{3}" maxLength={3} value={f.currency} onChange={set('currency')} />}</Field>
        <Field label="Impressions per play">{(id) => <input id={id} required type="number" min="0" step="any" value={f.audience} onChange={set('audience')} />}</Field>
        <Field label="Tags" hint="Comma separated, e.g. mall, indoor">
          {(id, hint) => <input id={id} aria-describedby={hint} value={f.tags} onChange={set('tags')} />}
        </Field>
        <Field label="Booked content" hint="Review: each creative (and each swap) plays once you approve it in your review queue.">
          {(id, hint) => (
            <select id={id} aria-describedby={hint} value={f.contentPolicy} onChange={set('contentPolicy')}>
              <option value="review">Waits for my review</option>
              <option value="auto">Plays as booked</option>
            </select>
          )}
        </Field>
      </fieldset>
      <ErrorMessage error={register.error} title="Could not register the display" />
      <div className="actions">
        <button type="submit" className="primary" disabled={register.isPending}>
          {register.isPending ? 'Registering…' : 'Register'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
