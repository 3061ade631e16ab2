import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, messageOf } from '../api/problem.ts';

/** An error as a person should read it: the API's `detail`, and per-field reasons for a 422. */
export function ErrorMessage({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      <p>{messageOf(error)}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field + f.message}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** An empty list, and what to do about it. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <h3>{title}</h3>
      <div>{children}</div>
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  active: 'ok',
  booked: 'ok',
  succeeded: 'ok',
  pending: 'warn',
  held: 'warn',
  delivered: 'info',
  disabled: 'muted',
  cancelled: 'muted',
  expired: 'muted',
  failed: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONE[status] ?? 'info'}>{status}</Badge>;
}

export function Online({ online }: { online: boolean }) {
  return (
    <span className={online ? 'dot dot-on' : 'dot dot-off'}>
      <span aria-hidden="true">●</span> {online ? 'online' : 'offline'}
    </span>
  );
}

/** A labelled form control; `hint` is linked by aria-describedby. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string, describedBy?: string) => ReactNode }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id, hintId)}
      {hint && (
        <small id={hintId} className="muted">
          {hint}
        </small>
      )}
    </div>
  );
}

/** Re-renders every `ms` (clocks, countdowns, "seen 5 s ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** Time left until `until`, as m:ss; announces only whole minutes to screen readers. */
export function Countdown({ until, onExpired }: { until: string; onExpired?: () => void }) {
  const now = useNow(1000);
  const left = Math.max(0, Math.floor((new Date(until).getTime() - now) / 1000));
  useEffect(() => {
    if (left === 0) onExpired?.();
  }, [left, onExpired]);
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  return (
    <span className={left < 60 ? 'countdown countdown-low' : 'countdown'}>
      <span aria-hidden="true">{text}</span>
      <span className="sr-only" aria-live="polite">
        {left === 0 ? 'The hold has expired' : `${Math.ceil(left / 60)} minute${Math.ceil(left / 60) === 1 ? '' : 's'} left`}
      </span>
    </span>
  );
}

/** Copies text; falls back to selecting it where the clipboard API is unavailable (plain-http hosts). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" onClick={copy}>
        {label}
      </button>
      <span role="status" className="muted">
        {state === 'copied' ? ' Copied.' : state === 'failed' ? ' Could not copy: select the text and copy it by hand.' : ''}
      </span>
    </>
  );
}

/**
 * The page's heading. When a page (or a new view of it, once its data is there) appears, focus
 * moves to its heading, so keyboard and screen reader users start reading at the new content.
 */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, []);
  useEffect(() => {
    document.title = `${title} · Marquee`;
  }, [title]);
  return (
    <header className="page-header">
      <h1 tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}
