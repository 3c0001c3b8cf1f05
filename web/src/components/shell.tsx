/*
 * The frame of every signed-in page: the header (brand, "Dashboard" and "Settings", the plan,
 * "Sign out") and, on the Free plan, the banner that says what Free lacks and where to change it.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { daysLeftText, planLabel, trialDaysLeft } from '../plan';
import { Link, navigate, usePath } from '../router';
import { useMe, useSession } from '../session';

function NavLink({ href, match, children }: { href: string; match: string; children: string }) {
  const path = usePath();
  const current = path === match || path.startsWith(match + '/');
  return (
    <Link href={href} class="nav-link" aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function PlanChip() {
  const { plan } = useMe();
  let text = planLabel(plan.name);
  if (plan.name === 'trial') {
    const days = trialDaysLeft(plan.trial_ends_at);
    if (days !== null) text = `Trial · ${daysLeftText(days)}`;
  }
  return (
    <Link href="/settings/billing" class="plan-chip" aria-label={`Plan: ${text}`}>
      {text}
    </Link>
  );
}

function FreeBanner() {
  const { plan } = useMe();
  if (plan.name !== 'free') return null;
  return (
    <section class="banner banner-warn" aria-label="Free plan">
      <p>
        <strong>You are on the Free plan.</strong>{' '}
        {plan.status === 'trial_ended' || plan.trial_ends_at ? 'Your trial has ended. ' : ''}
        Calendars need a trial or a paid plan (Basic, Standard or Premium) —{' '}
        <Link href="/settings/billing">Subscribe in Settings → Billing</Link>
      </p>
    </section>
  );
}

export function Shell({ children }: { children: ComponentChildren }) {
  const me = useMe();
  const { signOut } = useSession();
  const [error, setError] = useState<string | null>(null);

  const onSignOut = async () => {
    setError(null);
    try {
      await signOut();
      navigate('/login', true);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Signing out failed.');
    }
  };

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="app-header">
        <div class="app-header-inner">
          <Link href="/dashboard" class="brand" aria-label="Calendox home">
            Calendox
          </Link>
          <nav class="app-nav" aria-label="Main">
            <NavLink href="/dashboard" match="/dashboard">
              Dashboard
            </NavLink>
            <NavLink href="/settings/calendars" match="/settings">
              Settings
            </NavLink>
          </nav>
          <div class="app-user">
            <PlanChip />
            <span class="user-name" title={me.user.email}>
              {me.user.name}
            </span>
            <button type="button" class="button button-quiet" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      {error && (
        <div class="banner banner-error" role="alert">
          <p>{error}</p>
        </div>
      )}
      <FreeBanner />
      <main id="main" class="app-main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
