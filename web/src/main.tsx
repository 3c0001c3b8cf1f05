/*
 * Entry point: the session, then the page for the current path. Signed-out visitors only see the
 * sign-in and sign-up pages; signed-in people are sent from those to the dashboard.
 */
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import './styles.css';
import { Shell } from './components/shell';
import { SignInPage, SignUpPage } from './pages/auth';
import { DashboardPage } from './pages/dashboard';
import { SettingsPage } from './pages/settings';
import { Redirect, usePath } from './router';
import { SessionProvider, useSession } from './session';

const TITLES: Record<string, string> = {
  '/login': 'Sign in',
  '/signup': 'Sign up',
  '/dashboard': 'Dashboard',
  '/settings/calendars': 'Calendars · Settings',
  '/settings/app': 'App · Settings',
  '/settings/billing': 'Billing · Settings',
};

function useTitle(path: string) {
  useEffect(() => {
    const t = TITLES[path];
    document.title = t ? `${t} · Calendox` : 'Calendox';
  }, [path]);
}

function Routes() {
  const path = usePath();
  const { state, refresh } = useSession();
  useTitle(path);

  if (state.kind === 'loading') {
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  }
  if (state.kind === 'unreachable') {
    return (
      <main class="auth" id="main">
        <div class="auth-card" role="alert">
          <h1>Calendox is not reachable</h1>
          <p>{state.error.message}</p>
          <button type="button" class="button button-primary" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      </main>
    );
  }

  const signedIn = state.kind === 'signed_in';
  if (path === '/login') return signedIn ? <Redirect to="/dashboard" /> : <SignInPage />;
  if (path === '/signup') return signedIn ? <Redirect to="/dashboard" /> : <SignUpPage />;
  if (!signedIn) return <Redirect to="/login" />;

  if (path === '/dashboard')
    return (
      <Shell>
        <DashboardPage />
      </Shell>
    );
  if (path === '/settings' || path === '/settings/') return <Redirect to="/settings/calendars" />;
  if (path.startsWith('/settings/'))
    return (
      <Shell>
        <SettingsPage path={path} />
      </Shell>
    );
  if (path === '/') return <Redirect to="/dashboard" />;
  return (
    <Shell>
      <section class="page">
        <h1>Page not found</h1>
        <p>
          There is no page at this address. <a href="/dashboard">Go to the dashboard</a>.
        </p>
      </section>
    </Shell>
  );
}

render(
  <SessionProvider>
    <Routes />
  </SessionProvider>,
  document.getElementById('app')!,
);
