/*
 * The signed-in person as the app knows it: GET /api/me, loaded once at start and again after
 * sign-in, sign-out and plan changes. The CSRF token from that answer is handed to the API client
 * so every later POST/PATCH/DELETE carries it.
 */
import { createContext } from 'preact';
import type { ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken } from './api';
import type { Me } from './api';

export type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed_out' }
  | { kind: 'signed_in'; me: Me }
  | { kind: 'unreachable'; error: ApiError };

export interface Session {
  state: SessionState;
  /* Reloads /api/me; resolves to the new state. */
  refresh(): Promise<SessionState>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

async function load(): Promise<SessionState> {
  try {
    const me = await api.me();
    setCsrfToken(me.csrf_token);
    return { kind: 'signed_in', me };
  } catch (e) {
    setCsrfToken('');
    if (e instanceof ApiError && e.status === 401) return { kind: 'signed_out' };
    if (e instanceof ApiError) return { kind: 'unreachable', error: e };
    throw e;
  }
}

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });

  const refresh = useCallback(async () => {
    const next = await load();
    setState(next);
    return next;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } catch (e) {
      /* An expired session is signed out already; anything else is worth showing. */
      if (!(e instanceof ApiError && e.status === 401)) throw e;
    }
    setCsrfToken('');
    setState({ kind: 'signed_out' });
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <SessionContext.Provider value={{ state, refresh, signOut }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/* The signed-in person; only for components rendered inside the signed-in shell. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.kind !== 'signed_in') throw new Error('useMe without a session');
  return state.me;
}
