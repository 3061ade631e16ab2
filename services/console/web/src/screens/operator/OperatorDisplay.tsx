import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { ListTable } from '../../components/ListTable.tsx';
import { EmptyState, ErrorMessage, Loading, Online, PageHeader, StatusBadge, useNow } from '../../components/ui.tsx';
import { formatDateTime, formatMoney, formatRelative } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';
import { ContentSettings, useContentChoices } from './content.tsx';
import { CredentialReveal, isOwned, VersionState, type Credential } from './shared.tsx';

type Command = components['schemas']['DisplayCommand'];

export function OperatorDisplay() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const refetchInterval = useLiveRefetch();
  const now = useNow(5000);
  const [credential, setCredential] = useState<Credential | null>(null);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const display = useQuery({ queryKey: ['display', id, 'owner'], queryFn: () => unwrap(api.GET('/displays/{id}', { params: { path: { id } } })), refetchInterval });
  const commands = useQuery({
    queryKey: ['commands', id],
    queryFn: () => unwrap(api.GET('/displays/{id}/commands', { params: { path: { id } } })),
    refetchInterval,
  });
  const choices = useContentChoices();
  const changed = () => void queryClient.invalidateQueries({ queryKey: ['display', id] });
  const setStatus = useMutation({
    mutationFn: (action: 'activate' | 'disable') =>
      unwrap(action === 'activate' ? api.POST('/displays/{id}/activate', { params: { path: { id } } }) : api.POST('/displays/{id}/disable', { params: { path: { id } } })),
    onSuccess: changed,
  });
  const rotate = useMutation({
    mutationFn: () => unwrap(api.POST('/displays/{id}/credentials', { params: { path: { id } } })),
    onSuccess: (c) => {
      setConfirmRotate(false);
      setCredential(c);
      changed();
    },
  });
  const send = useMutation({
    mutationFn: (kind: 'reload' | 'screenshot') => unwrap(api.POST('/displays/{id}/commands', { params: { path: { id } }, body: { kind, args: kind === 'screenshot' ? { maxWidth: 640 } : {} } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['commands', id] }),
  });

  if (display.isPending) return <Loading what="the display" />;
  if (display.error) return <ErrorMessage error={display.error} title="Could not load this display" />;
  const d = display.data;
  if (!isOwned(d)) return <ErrorMessage error={new Error('This display belongs to another operator.')} />;
  const items = commands.data?.items ?? [];
  const lastShot = items.find((c) => c.kind === 'screenshot' && c.status === 'succeeded' && c.result);

  return (
    <section>
      <PageHeader title={d.name}>
        <StatusBadge status={d.status} />
      </PageHeader>
      {credential && <CredentialReveal credential={credential} onDone={() => setCredential(null)} />}
      <div className="columns">
        <div className="card" aria-labelledby="live-title">
          <h2 id="live-title">Live status</h2>
          <dl className="facts facts-wide" aria-live="polite">
            <dt>Connection</dt>
            <dd>
              <Online online={d.presence.online} />
            </dd>
            <dt>Last seen</dt>
            <dd title={formatDateTime(d.presence.lastSeenAt)}>{formatRelative(d.presence.lastSeenAt, now)}</dd>
            <dt>Playlist</dt>
            <dd>
              <VersionState display={d} />
            </dd>
          </dl>
          <h3>On screen (last screenshot)</h3>
          {lastShot ? <Screenshot command={lastShot} /> : <p className="muted">No screenshot yet: use “Take screenshot” below.</p>}
        </div>
        <div className="card">
          <h2>Display</h2>
          <dl className="facts facts-wide">
            <dt>Id</dt>
            <dd>
              <code>{d.id}</code>
            </dd>
            <dt>Where</dt>
            <dd>{d.location.address || `${d.location.lat}, ${d.location.lng}`}</dd>
            <dt>Loop</dt>
            <dd>
              {d.loop.slotCount} × {d.loop.slotMs / 1000} s
            </dd>
            <dt>Price</dt>
            <dd>{formatMoney(d.pricePerSlotHour, d.currency)} per slot-hour</dd>
            <dt>Credential</dt>
            <dd>rotated {formatDateTime(d.credentialRotatedAt)}</dd>
          </dl>
          <div className="actions">
            {d.status !== 'active' ? (
              <button type="button" className="primary" onClick={() => setStatus.mutate('activate')} disabled={setStatus.isPending}>
                Activate (offer to advertisers)
              </button>
            ) : (
              <button type="button" onClick={() => setStatus.mutate('disable')} disabled={setStatus.isPending}>
                Disable (take offline)
              </button>
            )}
            {confirmRotate ? (
              <span role="group" aria-label="Confirm rotation">
                <button type="button" className="danger" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
                  Yes, rotate now
                </button>{' '}
                <button type="button" onClick={() => setConfirmRotate(false)}>
                  Keep the current one
                </button>
              </span>
            ) : (
              <button type="button" onClick={() => setConfirmRotate(true)}>
                Rotate credential…
              </button>
            )}
          </div>
          {confirmRotate && <p className="warning">The current secret stops working at once and the display is disconnected until it gets the new one.</p>}
          <ErrorMessage error={setStatus.error ?? rotate.error} />
        </div>
      </div>
      <div className="card" aria-labelledby="content-title">
        <h2 id="content-title">Content policy and house content</h2>
        {choices.error ? (
          <ErrorMessage error={choices.error} title="Could not load the creatives you may choose" />
        ) : choices.isPending ? (
          <Loading what="your creatives" />
        ) : (
          <ContentSettings key={`${d.contentPolicy}:${d.houseCreativeId}`} display={d} choices={choices.data} />
        )}
      </div>
      <div className="card">
        <h2>Commands</h2>
        <div className="actions">
          <button type="button" onClick={() => send.mutate('reload')} disabled={send.isPending}>
            Reload player
          </button>
          <button type="button" onClick={() => send.mutate('screenshot')} disabled={send.isPending}>
            Take screenshot
          </button>
        </div>
        <ErrorMessage error={send.error} title="Could not send the command" />
        {items.length === 0 ? (
          <EmptyState title="No commands sent yet">
            <p>Commands reach the display at once when it is online, or when it next connects (until they expire).</p>
          </EmptyState>
        ) : (
          <ListTable caption="Recent commands" captionHidden columns={['Command', 'Status', 'Sent', 'Done', 'Result']}>
            {items.map((c) => (
              <tr key={c.id}>
                <td>{c.kind}</td>
                <td>
                  <StatusBadge status={c.status} />
                </td>
                <td>{formatDateTime(c.createdAt)}</td>
                <td>{formatDateTime(c.completedAt)}</td>
                <td>{describeResult(c)}</td>
              </tr>
            ))}
          </ListTable>
        )}
      </div>
    </section>
  );
}

function describeResult(c: Command): string {
  if (!c.result) return c.status === 'expired' ? 'expired before the display came online' : '—';
  if (typeof c.result.error === 'string') return `error: ${c.result.error}`;
  if (c.kind === 'screenshot' && typeof c.result.width === 'number') return `${c.result.width}×${String(c.result.height)} ${String(c.result.mimeType ?? '')}`;
  return c.status === 'succeeded' ? 'done' : JSON.stringify(c.result).slice(0, 120);
}

/** The screenshot bytes come inside the command result; shown through a blob: URL (the CSP allows no data: images). */
function Screenshot({ command }: { command: Command }) {
  const result = command.result as { mimeType?: string; dataBase64?: string; width?: number; height?: number };
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!result.dataBase64 || !/^image\/(png|jpeg)$/.test(result.mimeType ?? '')) return;
    const bytes = Uint8Array.from(atob(result.dataBase64), (ch) => ch.charCodeAt(0));
    const next = URL.createObjectURL(new Blob([bytes], { type: result.mimeType }));
    setUrl(next);
    return () => URL.revokeObjectURL(next);
  }, [result.dataBase64, result.mimeType]);
  if (!url) return <p className="muted">The screenshot could not be shown.</p>;
  return (
    <figure>
      <img className="screenshot" src={url} alt={`Screenshot taken ${formatDateTime(command.completedAt)}`} width={result.width} height={result.height} />
      <figcaption className="muted">
        {result.width}×{result.height}, {formatDateTime(command.completedAt)}
      </figcaption>
    </figure>
  );
}
