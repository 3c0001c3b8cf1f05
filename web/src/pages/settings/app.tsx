/*
 * Settings → App → "Meeting Apps": the Zoom row with its toggle (DESIGN §8). "Connect Zoom" (or the
 * toggle) opens Zoom's authorization window; when the server's callback page reports back, the row
 * is refreshed without a reload and shows "Connected" with the Zoom account, the toggle blue. A
 * refusal shows "Authorization failed" with the reason and the hint (an organization may have to
 * approve Calendox). A blocked pop-up says how to allow it and offers the same window instead.
 * Turning the toggle off asks for confirmation, then disconnects (existing events keep their
 * links). A connection whose token can no longer be refreshed shows "Needs reconnect" and a
 * Reconnect button. While this server has no apps API (GET /api/apps answers 404) the row shows
 * "Not connected" and cannot be used.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, orEmptyWhenMissing } from '../../api';
import type { AppConnection } from '../../api';
import { ConfirmActions, Dialog } from '../../components/dialog';
import { LoadError, Loading } from '../../components/notice';
import { connectInPopup, PopupBlockedError, startUrl } from '../../connect';
import { useLoad } from '../../load';

interface AppList {
  available: boolean;
  zoom: AppConnection | null;
}

async function loadApps(): Promise<AppList> {
  const r = await orEmptyWhenMissing(api.apps(), null);
  if (r === null) return { available: false, zoom: null };
  return { available: true, zoom: r.apps.find((a) => a.id === 'zoom') ?? null };
}

const STATUS_TEXT: Record<AppConnection['status'], string> = {
  connected: 'Connected',
  not_connected: 'Not connected',
  needs_reconnect: 'Needs reconnect',
};

/* What the row tells the person about the last thing they tried. */
type Outcome =
  | { kind: 'none' }
  | { kind: 'connecting' }
  | { kind: 'failed'; message: string; hint: string | null }
  | { kind: 'blocked'; message: string }
  | { kind: 'error'; message: string; hint: string | null }
  | { kind: 'info'; message: string };

function DisconnectDialog(props: { busy: boolean; onConfirm: () => void; onClose: () => void }) {
  return (
    <Dialog title="Disconnect Zoom?" onClose={props.onClose}>
      <p>
        Existing events keep their Zoom links. New events can't get Zoom links until you connect
        Zoom again.
      </p>
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

function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  switch (outcome.kind) {
    case 'none':
      return null;
    case 'connecting':
      return (
        <p class="app-row-note muted" role="status">
          Finish in the Zoom window that opened. Closing it cancels.
        </p>
      );
    case 'failed':
      return (
        <div class="notice notice-error app-row-error" role="alert">
          <p class="notice-title">Authorization failed</p>
          {outcome.message && <p>{outcome.message}</p>}
          {outcome.hint && <p>{outcome.hint}</p>}
        </div>
      );
    case 'blocked':
      return (
        <div class="notice notice-warn app-row-error" role="alert">
          <p class="notice-title">The Zoom window was blocked</p>
          <p>{outcome.message}</p>
          <p>
            Or <a href={startUrl('zoom')}>Continue in this window</a>: Zoom opens in this tab
            instead of a new one.
          </p>
        </div>
      );
    case 'error':
      return (
        <div class="notice notice-error app-row-error" role="alert">
          <p>{outcome.message}</p>
          {outcome.hint && <p>{outcome.hint}</p>}
        </div>
      );
    case 'info':
      return (
        <p class="app-row-note muted" role="status">
          {outcome.message}
        </p>
      );
  }
}

function ZoomRow({ list, refresh }: { list: AppList; refresh: () => Promise<AppList | null> }) {
  const [confirming, setConfirming] = useState(false);
  const [disconnecting, setDisconnecting] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'none' });
  const zoom = list.zoom;
  const status = zoom?.status ?? 'not_connected';
  const on = status !== 'not_connected';
  const busy = disconnecting || outcome.kind === 'connecting';

  /* Must run straight from the click: a window opened later is blocked as an unasked pop-up. */
  const connect = async () => {
    setOutcome({ kind: 'connecting' });
    let result;
    try {
      result = (await connectInPopup('zoom')).result;
    } catch (e) {
      if (e instanceof PopupBlockedError) setOutcome({ kind: 'blocked', message: e.message });
      else setOutcome({ kind: 'error', message: String(e), hint: null });
      return;
    }
    const fresh = await refresh();
    if (result && !result.ok) {
      setOutcome({ kind: 'failed', message: result.message, hint: result.hint });
    } else if (result && result.ok) {
      setOutcome({ kind: 'none' });
    } else if (fresh && fresh.zoom?.status === 'connected') {
      setOutcome({ kind: 'none' });
    } else {
      setOutcome({
        kind: 'info',
        message: 'The Zoom window was closed before Zoom was connected.',
      });
    }
  };

  const toggle = () => {
    if (on) {
      setOutcome({ kind: 'none' });
      setConfirming(true);
      return;
    }
    void connect();
  };

  const disconnect = async () => {
    setDisconnecting(true);
    try {
      await api.disconnectApp('zoom');
      setConfirming(false);
      await refresh();
      setOutcome({
        kind: 'info',
        message: 'Zoom is disconnected. Existing events keep their Zoom links.',
      });
    } catch (e) {
      setConfirming(false);
      setOutcome(
        e instanceof ApiError
          ? { kind: 'error', message: e.message, hint: e.hint }
          : { kind: 'error', message: String(e), hint: null },
      );
    } finally {
      setDisconnecting(false);
    }
  };

  return (
    <li class="app-row">
      <div class="app-row-main">
        <span class="app-logo app-logo-zoom" aria-hidden="true">
          Z
        </span>
        <div class="app-row-text">
          <h4 id="zoom-name">Zoom</h4>
          <p class="muted">Create a unique Zoom meeting link when you add an event.</p>
          <p class={`app-status app-status-${status}`} id="zoom-status">
            {STATUS_TEXT[status]}
            {zoom?.account_email && on && <span class="app-account"> · {zoom.account_email}</span>}
          </p>
          {status === 'needs_reconnect' && (
            <div class="notice notice-warn app-row-warn">
              <p>
                Calendox can no longer refresh its access to Zoom, so new events get no Zoom link.
                Reconnect to fix it.
              </p>
              {zoom?.last_error && <p class="muted">{zoom.last_error}</p>}
            </div>
          )}
          {!list.available && (
            <p class="muted">Connecting Zoom is not available on this server yet.</p>
          )}
        </div>
      </div>
      <div class="app-row-actions">
        {list.available && status === 'not_connected' && (
          <button
            type="button"
            class="button button-primary button-small"
            disabled={busy}
            onClick={() => void connect()}
          >
            Connect Zoom
          </button>
        )}
        {status === 'needs_reconnect' && (
          <button
            type="button"
            class="button button-primary button-small"
            disabled={busy}
            onClick={() => void connect()}
          >
            Reconnect
          </button>
        )}
        <button
          type="button"
          role="switch"
          class="switch"
          aria-checked={on ? 'true' : 'false'}
          aria-labelledby="zoom-name"
          aria-describedby="zoom-status"
          disabled={!list.available || busy}
          onClick={toggle}
        >
          <span class="switch-knob" aria-hidden="true" />
        </button>
      </div>
      <OutcomeNotice outcome={outcome} />
      {confirming && (
        <DisconnectDialog
          busy={disconnecting}
          onConfirm={() => void disconnect()}
          onClose={() => setConfirming(false)}
        />
      )}
    </li>
  );
}

export function AppSettings() {
  const [state, reload, set] = useLoad(loadApps);

  /* Reads the list again in place (no "Loading…" flash); a failure shows the page's load error. */
  const refresh = async (): Promise<AppList | null> => {
    try {
      const fresh = await loadApps();
      set(fresh);
      return fresh;
    } catch {
      reload();
      return null;
    }
  };

  return (
    <div class="stack">
      <h2>App</h2>
      <section aria-labelledby="meeting-apps-title" class="card">
        <h3 id="meeting-apps-title" class="section-title">
          Meeting Apps
        </h3>
        {state.kind === 'loading' && <Loading what="meeting apps" />}
        {state.kind === 'error' && <LoadError error={state.error} onRetry={reload} />}
        {state.kind === 'ok' && (
          <ul class="app-list">
            <ZoomRow list={state.data} refresh={refresh} />
          </ul>
        )}
        <p class="muted">
          Google Meet and Microsoft Teams links come with your connected Google and Microsoft
          calendars.
        </p>
      </section>
    </div>
  );
}
