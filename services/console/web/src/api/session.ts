/**
 * The signed-in session: tokens and who the user is. The one place that talks to /auth.
 *
 * Access token: in memory only (this module's variable), never in storage, so nothing persisted
 * can be replayed as a bearer token.
 *
 * Refresh token: the account service rotates it on every use and treats a second use of an old one
 * as theft (the whole login's token family is revoked). The safest place would be an HttpOnly
 * cookie scoped to the refresh route, out of reach of any script, but the API hands the token out
 * in the JSON body and reads it from the JSON body: there is no cookie flow to use. Of what is left:
 * memory alone would sign the user out on every reload; localStorage outlives the browser session
 * and is shared by every tab. It is kept in sessionStorage: this tab only, gone when the tab
 * closes, never sent by the browser on its own (no CSRF). Script on this origin could still read
 * it, which the console's CSP (scripts from this origin only, nothing inline, no eval) exists to
 * prevent, and a stolen token that gets used makes the real tab's next refresh fail and revoke it.
 *
 * Refresh happens once: concurrent 401s share a single in-flight refresh (a second refresh with
 * the same token would count as reuse and end the session).
 */
import type { components } from './schema.ts';

export type User = components['schemas']['User'];
type Tokens = components['schemas']['Tokens'];

/** Where the API is: same origin, under /v2 (the edge routes it). */
export const API_BASE = '/v2';
const REFRESH_KEY = 'marquee.refreshToken';

/** The part of the Web Storage API the session needs (sessionStorage in the browser). */
export interface TokenStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface SessionOptions {
  apiBase: string;
  storage: () => TokenStore | null;
  fetch?: (request: Request) => Promise<Response>;
}

export type Session = ReturnType<typeof createSession>['session'];

/** One session and its authenticated fetch; the app uses the single instance exported below. */
export function createSession(opts: SessionOptions) {
  const send = opts.fetch ?? ((request: Request) => fetch(request));
  let accessToken: string | null = null;
  let user: User | null = null;
  let refreshing: Promise<boolean> | null = null;
  const listeners = new Set<() => void>();

  const notify = () => {
    for (const l of listeners) l();
  };
  const adopt = (tokens: Tokens) => {
    accessToken = tokens.accessToken;
    user = tokens.user;
    opts.storage()?.setItem(REFRESH_KEY, tokens.refreshToken);
    notify();
  };
  const post = (path: string, body: unknown) =>
    send(new Request(`${opts.apiBase}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  async function rotate(): Promise<boolean> {
    const refreshToken = opts.storage()?.getItem(REFRESH_KEY);
    if (!refreshToken) return false;
    let res: Response;
    try {
      res = await post('/auth/refresh', { refreshToken });
    } catch {
      return false; // offline: keep the stored token for the next try
    }
    if (res.ok) {
      adopt((await res.json()) as Tokens);
      return true;
    }
    if (res.status === 401 || res.status === 422) session.clear();
    return false;
  }

  const session = {
    get user(): User | null {
      return user;
    },
    get accessToken(): string | null {
      return accessToken;
    },
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    signedIn(tokens: Tokens) {
      adopt(tokens);
    },
    /** Forgets everything locally (the server side is revoked by logout()). */
    clear() {
      accessToken = null;
      user = null;
      opts.storage()?.removeItem(REFRESH_KEY);
      notify();
    },
    /** Whether a refresh token from an earlier page load of this tab is waiting to be used. */
    hasStoredSession(): boolean {
      return Boolean(opts.storage()?.getItem(REFRESH_KEY));
    },
    /** Rotates the refresh token; concurrent callers share one request. False = signed out. */
    refresh(): Promise<boolean> {
      refreshing ??= rotate().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    async logout(): Promise<void> {
      const refreshToken = opts.storage()?.getItem(REFRESH_KEY);
      session.clear();
      if (refreshToken) await post('/auth/logout', { refreshToken }).catch(() => {});
    },
  };

  /**
   * fetch with the bearer token; on a 401 it refreshes (once, shared) and resends the request one
   * time. A request that was sent with an older token than the current one is simply resent.
   */
  async function authFetch(input: Request): Promise<Response> {
    const retry = input.clone();
    const used = accessToken;
    const res = await send(withToken(input, used));
    if (res.status !== 401 || used === null) return res;
    const renewed = accessToken !== used || (await session.refresh());
    if (!renewed || !accessToken) {
      session.clear();
      return res;
    }
    return send(withToken(retry, accessToken));
  }

  return { session, authFetch };
}

function withToken(request: Request, token: string | null): Request {
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  return request;
}

function browserSessionStorage(): TokenStore | null {
  try {
    return (globalThis as { sessionStorage?: TokenStore }).sessionStorage ?? null;
  } catch {
    return null; // storage disabled: the session lasts as long as the page
  }
}

export const { session, authFetch } = createSession({ apiBase: API_BASE, storage: browserSessionStorage });
