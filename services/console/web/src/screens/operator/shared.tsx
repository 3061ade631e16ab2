import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { CopyButton, Online, StatusBadge } from '../../components/ui.tsx';
import { formatRelative } from '../../lib/format.ts';
import { useLiveRefetch } from '../../lib/live.ts';
import { cursorParam, usePagedList } from '../../lib/pages.ts';

export type OwnedDisplay = components['schemas']['Display'];
type AnyDisplay = OwnedDisplay | components['schemas']['PublicDisplay'];
export type Credential = components['schemas']['DeviceCredential'];

/** The owner's view carries presence; the catalogue view does not. */
export const isOwned = (d: AnyDisplay): d is OwnedDisplay => 'presence' in d;

/**
 * The displays the caller sees with their presence (an operator their own, an admin every one),
 * paged and kept live; `cacheKey` names the view's cache entry.
 */
export function useOwnedDisplays(cacheKey: string) {
  const refetchInterval = useLiveRefetch();
  const list = usePagedList(['displays', cacheKey], (cursor) => unwrap(api.GET('/displays', { params: { query: { limit: 200, ...cursorParam(cursor) } } })), { refetchInterval });
  return { ...list, items: list.items.filter(isOwned) };
}

/** A display's status, connection and when it was last seen (relative to `now`), as table cells. */
export function DisplayPresenceCells({ display, now }: { display: OwnedDisplay; now?: number }) {
  return (
    <>
      <td>
        <StatusBadge status={display.status} />
      </td>
      <td>
        <Online online={display.presence.online} />
      </td>
      <td>{formatRelative(display.presence.lastSeenAt, now)}</td>
    </>
  );
}

/** A display secret, shown exactly once (the API never shows it again). */
export function CredentialReveal({ credential, onDone }: { credential: Credential; onDone: () => void }) {
  return (
    <div className="card credential" role="alert" aria-labelledby="credential-title">
      <h2 id="credential-title">Store this display credential now</h2>
      <p className="warning">
        <strong>This secret is shown only once.</strong> Put it on the display (its configuration) now. Marquee keeps only a hash: if you lose it, rotate
        the credential and configure the display again.
      </p>
      <dl className="facts facts-wide">
        <dt>Display id</dt>
        <dd>
          <code data-testid="credential-display-id">{credential.displayId}</code> <CopyButton text={credential.displayId} label="Copy id" />
        </dd>
        <dt>Secret</dt>
        <dd>
          <input className="secret" readOnly value={credential.secret} aria-label="Display secret" data-testid="credential-secret" onFocus={(e) => e.target.select()} />{' '}
          <CopyButton text={credential.secret} label="Copy secret" />
        </dd>
      </dl>
      <button type="button" className="primary" onClick={onDone}>
        I have stored the secret
      </button>
    </div>
  );
}

/** "Up to date" when the device applied the version it should play. */
export function VersionState({ display }: { display: OwnedDisplay }) {
  const { playlistVersion, appliedVersion } = display.presence;
  if (appliedVersion === null) return <span data-testid="version-state">v{playlistVersion} not applied yet (never connected)</span>;
  return (
    <span data-testid="version-state">
      applied v{appliedVersion} of v{playlistVersion} {appliedVersion >= playlistVersion ? '(up to date)' : '(update pending)'}
    </span>
  );
}
