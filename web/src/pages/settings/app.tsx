/*
 * Settings → App → "Meeting Apps": the Zoom row with its toggle (DESIGN §8). Turning it on opens
 * Zoom's authorization window; after Allow the row shows "Connected" and the toggle turns blue.
 * Turning it off asks for confirmation, then disconnects (existing events keep their links). A
 * connection whose token can no longer be refreshed shows "Needs reconnect" and how to fix it.
 * While this server has no apps API (GET /api/apps answers 404) the row shows "Not connected" and
 * the toggle cannot be used.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, orEmptyWhenMissing } from '../../api';
import type { AppConnection } from '../../api';
import { Dialog } from '../../components/dialog';
import { LoadError, Loading } from '../../components/notice';
import { connectInPopup } from '../../connect';
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

function DisconnectDialog(props: { busy: boolean; onConfirm: () => void; onClose: () => void }) {
  return (
    <Dialog title="Disconnect Zoom?" onClose={props.onClose}>
      <p>
        Calendox will stop creating Zoom meetings for new events. Events that already have a Zoom
        link keep it.
      </p>
      <div class="button-row button-row-end">
        <button type="button" class="button" onClick={props.onClose} data-autofocus>
          Cancel
        </button>
        <button
          type="button"
          class="button button-danger"
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          Disconnect
        </button>
      </div>
    </Dialog>
  );
}

function ZoomRow({ list, onChanged }: { list: AppList; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const zoom = list.zoom;
  const status = zoom?.status ?? 'not_connected';
  const on = status !== 'not_connected';

  const toggle = async () => {
    setError(null);
    if (on) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    try {
      await connectInPopup('zoom');
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async () => {
    setBusy(true);
    try {
      await api.disconnectApp('zoom');
      setConfirming(false);
      onChanged();
    } catch (e) {
      setConfirming(false);
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="app-row">
      <div class="app-row-main">
        <span class="app-logo app-logo-zoom" aria-hidden="true">
          Z
        </span>
        <div>
          <h4 id="zoom-name">Zoom</h4>
          <p class="muted">Create a unique Zoom meeting link when you add an event.</p>
          <p class={`app-status app-status-${status}`} id="zoom-status">
            {STATUS_TEXT[status]}
            {zoom?.account_email && status !== 'not_connected' ? ` · ${zoom.account_email}` : ''}
          </p>
          {status === 'needs_reconnect' && (
            <p class="notice notice-warn">
              Calendox can no longer refresh its access to Zoom, so new events get no Zoom link.
              Turn Zoom off and on again to reconnect.
            </p>
          )}
          {!list.available && (
            <p class="muted">Connecting Zoom is not available on this server yet.</p>
          )}
        </div>
      </div>
      <button
        type="button"
        role="switch"
        class="switch"
        aria-checked={on ? 'true' : 'false'}
        aria-labelledby="zoom-name"
        aria-describedby="zoom-status"
        disabled={!list.available || busy}
        onClick={() => void toggle()}
      >
        <span class="switch-knob" aria-hidden="true" />
      </button>
      {error && (
        <p class="notice notice-error app-row-error" role="alert">
          {error}
        </p>
      )}
      {confirming && (
        <DisconnectDialog
          busy={busy}
          onConfirm={() => void disconnect()}
          onClose={() => setConfirming(false)}
        />
      )}
    </li>
  );
}

export function AppSettings() {
  const [state, reload] = useLoad(loadApps);
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
            <ZoomRow list={state.data} onChanged={reload} />
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
