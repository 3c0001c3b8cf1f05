/*
 * Settings → Calendars: the connected Google and Microsoft accounts and their calendars, and the
 * buttons to connect more. Connecting needs a trial or a paid plan; on Free the page says so and
 * links to Billing. While this server has no calendar API (GET /api/calendars answers 404) the
 * page shows that nothing is connected rather than an error.
 */
import { useState } from 'preact/hooks';
import type { CalendarAccount } from '../../api';
import { EmptyState, LoadError, Loading } from '../../components/notice';
import { connectInPopup } from '../../connect';
import type { OAuthProvider } from '../../connect';
import { loadCalendars } from '../../calendars';
import { useLoad } from '../../load';
import { canConnectCalendars } from '../../plan';
import { Link } from '../../router';
import { useMe } from '../../session';

const PROVIDER_LABEL: Record<string, string> = {
  google: 'Google Calendar',
  microsoft: 'Microsoft Outlook',
};

const STATUS_LABEL: Record<CalendarAccount['status'], string> = {
  active: 'Active',
  suspended: 'Suspended (Free plan)',
  needs_reconnect: 'Needs reconnect',
};

/* The calendar's colour comes from the provider, so it cannot be a class; it is set through the
 * CSSOM (allowed by the page's Content-Security-Policy, unlike a style attribute). */
function Swatch({ color }: { color: string | null }) {
  return (
    <span
      class="swatch"
      aria-hidden="true"
      ref={(el) => {
        if (el && color && /^#[0-9a-fA-F]{3,8}$/.test(color))
          el.style.setProperty('--swatch', color);
      }}
    />
  );
}

function AccountCard({ account }: { account: CalendarAccount }) {
  const label = PROVIDER_LABEL[account.provider] ?? account.provider;
  return (
    <li class="card">
      <div class="row">
        <div>
          <h3>{label}</h3>
          <p class="muted">{account.email}</p>
        </div>
        <span class={`badge badge-${account.status}`}>{STATUS_LABEL[account.status]}</span>
      </div>
      {account.calendars.length === 0 ? (
        <p class="muted">This account has no calendars.</p>
      ) : (
        <ul class="calendar-list" aria-label={`Calendars of ${account.email}`}>
          {account.calendars.map((c) => (
            <li key={c.id}>
              <Swatch color={c.color} />
              {c.name}
              {c.primary && <span class="muted"> · primary</span>}
              {!c.writable && <span class="muted"> · read-only</span>}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function CalendarSettings() {
  const { plan } = useMe();
  const [state, reload] = useLoad(loadCalendars);
  const [connectError, setConnectError] = useState<string | null>(null);
  const allowed = canConnectCalendars(plan.name);

  const connect = async (provider: OAuthProvider) => {
    setConnectError(null);
    try {
      await connectInPopup(provider);
    } catch (e) {
      setConnectError(e instanceof Error ? e.message : String(e));
      return;
    }
    reload();
  };

  return (
    <div class="stack">
      <h2>Calendars</h2>
      {!allowed && (
        <div class="notice notice-warn">
          <p>
            Connecting calendars needs an active trial or a paid plan (Basic, Standard or Premium).
            The Free plan has no calendar accounts.
          </p>
          <Link href="/settings/billing">Subscribe under Settings → Billing</Link>
        </div>
      )}
      {state.kind === 'loading' && <Loading what="calendars" />}
      {state.kind === 'error' && <LoadError error={state.error} onRetry={reload} />}
      {state.kind === 'ok' && state.data.accounts.length === 0 && (
        <EmptyState title="No calendars connected yet">
          <p class="muted">
            Connected Google and Microsoft calendars appear here, and their events on the dashboard.
          </p>
        </EmptyState>
      )}
      {state.kind === 'ok' && state.data.accounts.length > 0 && (
        <ul class="stack" aria-label="Connected calendar accounts">
          {state.data.accounts.map((a) => (
            <AccountCard key={a.id} account={a} />
          ))}
        </ul>
      )}
      {state.kind === 'ok' && state.data.available && allowed && (
        <div class="button-row">
          <button type="button" class="button" onClick={() => void connect('google')}>
            Connect Google Calendar
          </button>
          <button type="button" class="button" onClick={() => void connect('microsoft')}>
            Connect Microsoft Outlook
          </button>
        </div>
      )}
      {connectError && (
        <div class="notice notice-error" role="alert">
          <p>{connectError}</p>
        </div>
      )}
    </div>
  );
}
