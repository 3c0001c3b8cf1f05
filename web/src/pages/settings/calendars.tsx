/*
 * Settings → Calendars: the connected Google and Microsoft accounts with their calendars, and the
 * buttons to connect more. "Connect Google Calendar" and "Connect Microsoft Outlook" open the
 * provider's authorization in a popup (src/connect.ts); the callback page reports back and the list
 * is read again without a reload. A blocked popup says how to allow it and offers the same window;
 * a refusal shows "Authorization failed" with the reason. Each account shows its e-mail and status
 * (a suspended account says how to resume it, one that needs reconnecting has a Reconnect button),
 * its calendars with their colour and a show/hide switch (PATCH selected), and "Disconnect", which
 * asks first. Connecting needs a trial or a paid plan; on Free the page says so and links to
 * Billing. While this server has no calendar API (GET /api/calendars answers 404) the page shows
 * that nothing is connected rather than an error.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../../api';
import type { Calendar, CalendarAccount } from '../../api';
import { Swatch } from '../../components/swatch';
import { ConfirmActions, Dialog } from '../../components/dialog';
import { EmptyState, LoadError, Loading } from '../../components/notice';
import { connectInPopup, PopupBlockedError, startUrl } from '../../connect';
import type { OAuthProvider } from '../../connect';
import { loadCalendars } from '../../calendars';
import type { CalendarList } from '../../calendars';
import { useLoad } from '../../load';
import { canConnectCalendars } from '../../plan';
import { Link } from '../../router';
import { useMe } from '../../session';

type CalendarProviderId = Exclude<OAuthProvider, 'zoom'>;

const PROVIDER_LABEL: Record<CalendarProviderId, string> = {
  google: 'Google Calendar',
  microsoft: 'Microsoft Outlook',
};

const STATUS_LABEL: Record<CalendarAccount['status'], string> = {
  active: 'Active',
  suspended: 'Suspended',
  needs_reconnect: 'Needs reconnect',
};

/* What the page tells the person about the last connect they tried. */
type Outcome =
  | { kind: 'none' }
  | { kind: 'connecting'; provider: CalendarProviderId }
  | { kind: 'connected'; provider: CalendarProviderId }
  | { kind: 'failed'; provider: CalendarProviderId; message: string; hint: string | null }
  | { kind: 'blocked'; provider: CalendarProviderId; message: string }
  | { kind: 'closed'; provider: CalendarProviderId }
  | { kind: 'error'; message: string; hint: string | null };

function ConnectNotice({ outcome }: { outcome: Outcome }) {
  switch (outcome.kind) {
    case 'none':
      return null;
    case 'connecting':
      return (
        <p class="muted" role="status">
          Finish in the {PROVIDER_LABEL[outcome.provider]} window that opened. Closing it cancels.
        </p>
      );
    case 'connected':
      return (
        <p class="notice notice-ok" role="status">
          {PROVIDER_LABEL[outcome.provider]} is connected. Its events appear in the Unified Calendar
          within a few seconds.
        </p>
      );
    case 'closed':
      return (
        <p class="muted" role="status">
          The {PROVIDER_LABEL[outcome.provider]} window was closed before the calendar was
          connected.
        </p>
      );
    case 'failed':
      return (
        <div class="notice notice-error" role="alert">
          <p class="notice-title">Authorization failed</p>
          {outcome.message && <p>{outcome.message}</p>}
          {outcome.hint && <p>{outcome.hint}</p>}
        </div>
      );
    case 'blocked':
      return (
        <div class="notice notice-warn" role="alert">
          <p class="notice-title">The {PROVIDER_LABEL[outcome.provider]} window was blocked</p>
          <p>{outcome.message}</p>
          <p>
            Or <a href={startUrl(outcome.provider)}>Continue in this window</a>:{' '}
            {PROVIDER_LABEL[outcome.provider]} opens in this tab instead of a new one.
          </p>
        </div>
      );
    case 'error':
      return (
        <div class="notice notice-error" role="alert">
          <p>{outcome.message}</p>
          {outcome.hint && <p>{outcome.hint}</p>}
        </div>
      );
  }
}

function DisconnectDialog(props: {
  account: CalendarAccount;
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const label = PROVIDER_LABEL[props.account.provider] ?? props.account.provider;
  return (
    <Dialog title={`Disconnect ${props.account.email}?`} onClose={props.onClose}>
      <p>
        Its calendars and their events leave Calendox. Nothing is deleted in {label}; you can
        connect the account again later.
      </p>
      {props.error && (
        <p class="field-error" role="alert">
          {props.error}
        </p>
      )}
      <ConfirmActions
        action="Disconnect"
        busyLabel="Disconnecting…"
        busy={props.busy}
        onCancel={props.onClose}
        onConfirm={props.onConfirm}
      />
    </Dialog>
  );
}

function CalendarRow(props: {
  calendar: Calendar;
  onToggle: (c: Calendar, selected: boolean) => Promise<void>;
}) {
  const c = props.calendar;
  const [busy, setBusy] = useState(false);
  const labelId = `calendar-name-${c.id}`;
  const toggle = async () => {
    setBusy(true);
    try {
      await props.onToggle(c, !c.selected);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="calendar-row">
      <Swatch color={c.color} />
      <span class="calendar-row-name" id={labelId}>
        {c.name}
        {c.primary && <span class="muted"> · primary</span>}
        {!c.writable && <span class="muted"> · read-only</span>}
      </span>
      <span class="calendar-row-state muted" aria-hidden="true">
        {c.selected ? 'Shown' : 'Hidden'}
      </span>
      <button
        type="button"
        role="switch"
        class="switch switch-small"
        aria-checked={c.selected ? 'true' : 'false'}
        aria-label={`Show ${c.name}`}
        disabled={busy}
        onClick={() => void toggle()}
      >
        <span class="switch-knob" aria-hidden="true" />
      </button>
    </li>
  );
}

function AccountCard(props: {
  account: CalendarAccount;
  onToggle: (c: Calendar, selected: boolean) => Promise<void>;
  onReconnect: (provider: CalendarProviderId) => void;
  onDisconnect: (account: CalendarAccount) => void;
  busy: boolean;
}) {
  const { account } = props;
  const label = PROVIDER_LABEL[account.provider] ?? account.provider;
  return (
    <li class="card account-card" aria-label={`${label} ${account.email}`}>
      <div class="row account-head">
        <div class="account-who">
          <h3>{label}</h3>
          <p class="muted account-email">{account.email}</p>
        </div>
        <span class={`badge badge-${account.status}`}>{STATUS_LABEL[account.status]}</span>
      </div>
      {account.status === 'suspended' && (
        <div class="notice notice-warn">
          <p>
            This account is suspended because your plan has no calendars. Its events are not shown
            or synced.
          </p>
          <Link href="/settings/billing">Subscribe under Billing to resume</Link>
        </div>
      )}
      {account.status === 'needs_reconnect' && (
        <div class="notice notice-warn">
          <p>
            Calendox can no longer reach this account, so its events are not kept up to date.
            Reconnect to fix it.
          </p>
          <button
            type="button"
            class="button button-primary button-small"
            disabled={props.busy}
            onClick={() => props.onReconnect(account.provider)}
          >
            Reconnect
          </button>
        </div>
      )}
      {account.calendars.length === 0 ? (
        <p class="muted">This account has no calendars.</p>
      ) : (
        <ul class="calendar-list" aria-label={`Calendars of ${account.email}`}>
          {account.calendars.map((c) => (
            <CalendarRow key={c.id} calendar={c} onToggle={props.onToggle} />
          ))}
        </ul>
      )}
      <div class="button-row button-row-end account-actions">
        <button
          type="button"
          class="button button-small button-danger-quiet"
          aria-label={`Disconnect ${account.email}`}
          onClick={() => props.onDisconnect(account)}
        >
          Disconnect
        </button>
      </div>
    </li>
  );
}

export function CalendarSettings() {
  const { plan } = useMe();
  const [state, reload, set] = useLoad(loadCalendars);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'none' });
  const [toggleError, setToggleError] = useState<ApiError | null>(null);
  const [disconnecting, setDisconnecting] = useState<CalendarAccount | null>(null);
  const [disconnectBusy, setDisconnectBusy] = useState(false);
  const [disconnectError, setDisconnectError] = useState<string | null>(null);
  const allowed = canConnectCalendars(plan.name);
  const busy = outcome.kind === 'connecting';

  /* Reads the list again in place (no "Loading…" flash); a failure shows the page's load error. */
  const refresh = async (): Promise<CalendarList | null> => {
    try {
      const fresh = await loadCalendars();
      set(fresh);
      return fresh;
    } catch {
      reload();
      return null;
    }
  };

  /* Must run straight from the click: a window opened later is blocked as an unasked pop-up. */
  const connect = async (provider: CalendarProviderId) => {
    setOutcome({ kind: 'connecting', provider });
    let result;
    try {
      result = (await connectInPopup(provider)).result;
    } catch (e) {
      if (e instanceof PopupBlockedError)
        setOutcome({ kind: 'blocked', provider, message: e.message });
      else setOutcome({ kind: 'error', message: String(e), hint: null });
      return;
    }
    await refresh();
    if (result && !result.ok)
      setOutcome({ kind: 'failed', provider, message: result.message, hint: result.hint });
    else if (result && result.ok) setOutcome({ kind: 'connected', provider });
    else setOutcome({ kind: 'closed', provider });
  };

  const toggleCalendar = async (c: Calendar, selected: boolean) => {
    setToggleError(null);
    try {
      await api.setCalendarSelected(c.id, selected);
    } catch (e) {
      if (e instanceof ApiError) setToggleError(e);
      else throw e;
    }
    await refresh();
  };

  const disconnect = async () => {
    if (!disconnecting) return;
    setDisconnectBusy(true);
    setDisconnectError(null);
    try {
      await api.disconnectCalendarAccount(disconnecting.id);
      setDisconnecting(null);
      setOutcome({ kind: 'none' });
      await refresh();
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) {
        setDisconnecting(null);
        await refresh();
      } else {
        setDisconnectError(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setDisconnectBusy(false);
    }
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
      {state.kind === 'ok' && state.data.available && allowed && (
        <div class="button-row connect-buttons">
          <button
            type="button"
            class="button button-primary"
            disabled={busy}
            onClick={() => void connect('google')}
          >
            Connect Google Calendar
          </button>
          <button
            type="button"
            class="button button-primary"
            disabled={busy}
            onClick={() => void connect('microsoft')}
          >
            Connect Microsoft Outlook
          </button>
        </div>
      )}
      <ConnectNotice outcome={outcome} />
      {toggleError && <LoadError error={toggleError} />}
      {state.kind === 'ok' && state.data.accounts.length === 0 && (
        <EmptyState title="No calendars connected yet">
          <p class="muted">
            Connected Google and Microsoft calendars appear here, and their events on the dashboard.
          </p>
        </EmptyState>
      )}
      {state.kind === 'ok' && state.data.accounts.length > 0 && (
        <ul class="stack account-list" aria-label="Connected calendar accounts">
          {state.data.accounts.map((a) => (
            <AccountCard
              key={a.id}
              account={a}
              busy={busy}
              onToggle={toggleCalendar}
              onReconnect={(p) => void connect(p)}
              onDisconnect={(acc) => {
                setDisconnectError(null);
                setDisconnecting(acc);
              }}
            />
          ))}
        </ul>
      )}
      {disconnecting && (
        <DisconnectDialog
          account={disconnecting}
          busy={disconnectBusy}
          error={disconnectError}
          onConfirm={() => void disconnect()}
          onClose={() => setDisconnecting(null)}
        />
      )}
    </div>
  );
}
