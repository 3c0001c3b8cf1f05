/*
 * The Event dialog of the Unified Calendar: an event's title, time (in the browser's zone; all-day
 * events as dates), calendar, location, description (as text) and its meeting: the join link with
 * "Copy link", "Creating the Zoom meeting…" while the server makes it (the dialog reads the event
 * again until it settles), or why it failed with the way to fix it. "Edit" hands the event to the
 * owner (the Add Event dialog, prefilled); "Delete" asks first, then deletes it everywhere.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type { CalendarEvent, Meeting } from '../api';
import type { WritableCalendar } from '../calendars';
import { ConfirmActions, Dialog } from '../components/dialog';
import { Swatch } from '../components/swatch';
import {
  calendarServiceName,
  joinLabel,
  meetingError,
  pendingText,
  serviceName,
  settingsFor,
} from '../meeting';
import { Link } from '../router';

/* How often and how long a pending meeting is read again. */
const POLL_MS = 1_000;
const POLL_MAX_MS = 120_000;

function dateOnly(s: string): Date {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number);
  return new Date(y, m - 1, d);
}

/* The event's time as a person reads it: all-day events as dates (the API's end is the day after
 * the last), others in the browser's zone. */
export function formatWhen(ev: CalendarEvent): string {
  if (ev.all_day) {
    const first = dateOnly(ev.start);
    const last = dateOnly(ev.end);
    last.setDate(last.getDate() - 1);
    const f = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
    return last > first
      ? `${f.format(first)} – ${f.format(last)} (all day)`
      : `${f.format(first)} (all day)`;
  }
  const start = new Date(ev.start);
  const end = new Date(ev.end);
  const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
  const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
  if (day.format(start) === day.format(end))
    return `${day.format(start)}, ${time.format(start)} – ${time.format(end)}`;
  const both = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return `${both.format(start)} – ${both.format(end)}`;
}

function CopyLink({ url }: { url: string }) {
  const [said, setSaid] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setSaid('Copied');
    } catch {
      setSaid('Copying is not allowed here; select the link and copy it.');
    }
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setSaid(null), 4_000);
  };
  return (
    <>
      <button type="button" class="button button-small" onClick={() => void copy()}>
        Copy link
      </button>
      <span class="copy-status" role="status">
        {said}
      </span>
    </>
  );
}

function MeetingPart({ meeting }: { meeting: Meeting }) {
  const m = meeting;
  if (m.status === 'ready' && m.join_url) {
    return (
      <div class="meeting">
        <a class="meeting-join" href={m.join_url} target="_blank" rel="noopener noreferrer">
          {joinLabel(m.provider)}
        </a>
        <div class="meeting-copy">
          <CopyLink url={m.join_url} />
        </div>
        {m.passcode && <p class="muted">Passcode {m.passcode}</p>}
      </div>
    );
  }
  if (m.status === 'pending') {
    return (
      <p class="meeting meeting-pending" role="status">
        <span class="spinner" aria-hidden="true" />
        {pendingText(m.provider)}
      </p>
    );
  }
  if (m.status === 'failed') {
    const err = meetingError(m);
    const fix = settingsFor(m.provider);
    return (
      <div class="notice notice-error meeting-error" role="alert">
        <p class="notice-title">No {serviceName(m.provider)} link</p>
        <p>{err.message}</p>
        {err.hint && <p>{err.hint}</p>}
        <Link href={fix.href}>Open {fix.label}</Link>
      </div>
    );
  }
  return <p class="muted">No meeting link</p>;
}

function DeleteDialog(props: {
  event: CalendarEvent;
  busy: boolean;
  error: ApiError | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const m = props.event.meeting;
  const zoom = m && m.provider === 'zoom' && m.status !== 'deleted';
  return (
    <Dialog title="Delete this event?" onClose={props.onClose}>
      <p>
        It is also deleted from {calendarServiceName(props.event.provider)}
        {zoom ? ', and its Zoom meeting is removed.' : '.'}
      </p>
      {props.error && (
        <div class="form-error" role="alert">
          <p>{props.error.message}</p>
          {props.error.hint && <p class="form-error-hint">{props.error.hint}</p>}
        </div>
      )}
      <ConfirmActions
        action="Delete"
        busyLabel="Deleting…"
        busy={props.busy}
        onCancel={props.onClose}
        onConfirm={props.onConfirm}
      />
    </Dialog>
  );
}

interface Props {
  event: CalendarEvent;
  /* the event's calendar and account, when known */
  calendar: WritableCalendar | null;
  onClose: () => void;
  onEdit: (ev: CalendarEvent) => void;
  onDeleted: (id: string) => void;
  /* the event as read again (a pending meeting settled) */
  onChanged: (ev: CalendarEvent) => void;
}

export function EventDialog({
  event: initial,
  calendar,
  onClose,
  onEdit,
  onDeleted,
  onChanged,
}: Props) {
  const [event, setEvent] = useState(initial);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<ApiError | null>(null);
  const [pollError, setPollError] = useState<ApiError | null>(null);
  const changedRef = useRef(onChanged);
  changedRef.current = onChanged;

  useEffect(() => setEvent(initial), [initial]);

  /* A pending meeting is read again until it is ready or failed (bounded). */
  const pending = event.meeting?.status === 'pending';
  useEffect(() => {
    if (!pending) return undefined;
    const started = Date.now();
    let stopped = false;
    let timer: number | undefined;
    const tick = () => {
      api.event(event.id).then(
        (fresh) => {
          if (stopped) return;
          setPollError(null);
          setEvent(fresh);
          if (fresh.meeting?.status !== 'pending') changedRef.current(fresh);
          else if (Date.now() - started < POLL_MAX_MS) timer = window.setTimeout(tick, POLL_MS);
        },
        (e: unknown) => {
          if (stopped) return;
          if (e instanceof ApiError) setPollError(e);
          if (Date.now() - started < POLL_MAX_MS) timer = window.setTimeout(tick, POLL_MS * 3);
        },
      );
    };
    timer = window.setTimeout(tick, POLL_MS);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [pending, event.id]);

  const remove = async () => {
    setBusy(true);
    setDeleteError(null);
    try {
      await api.deleteEvent(event.id);
      onDeleted(event.id);
    } catch (e) {
      if (e instanceof ApiError && e.isNotFound) onDeleted(event.id);
      else if (e instanceof ApiError) setDeleteError(e);
      else throw e;
    } finally {
      setBusy(false);
    }
  };

  if (confirming)
    return (
      <DeleteDialog
        event={event}
        busy={busy}
        error={deleteError}
        onConfirm={() => void remove()}
        onClose={() => setConfirming(false)}
      />
    );

  const writable = calendar
    ? calendar.calendar.writable && calendar.account.status === 'active'
    : true;
  return (
    <Dialog title={event.title || '(No title)'} onClose={onClose} class="dialog-wide">
      <dl class="details">
        <dt>When</dt>
        <dd>{formatWhen(event)}</dd>
        <dt>Calendar</dt>
        <dd class="details-calendar">
          {calendar ? (
            <>
              <Swatch color={calendar.calendar.color} />
              <span>
                {calendar.calendar.name}
                <span class="muted"> · {calendar.account.email}</span>
              </span>
            </>
          ) : (
            calendarServiceName(event.provider)
          )}
        </dd>
        {event.location && event.location !== event.meeting?.join_url && (
          <>
            <dt>Location</dt>
            <dd>{event.location}</dd>
          </>
        )}
        {event.meeting && (
          <>
            <dt>Meeting</dt>
            <dd>
              <MeetingPart meeting={event.meeting} />
            </dd>
          </>
        )}
        {event.description && (
          <>
            <dt>Description</dt>
            <dd class="pre-wrap event-description">{event.description}</dd>
          </>
        )}
      </dl>
      {pollError && (
        <p class="field-error" role="alert">
          {pollError.message}
        </p>
      )}
      <div class="button-row button-row-end event-actions">
        <button
          type="button"
          class="button button-danger-quiet"
          disabled={!writable}
          onClick={() => setConfirming(true)}
        >
          Delete
        </button>
        <button
          type="button"
          class="button button-primary"
          disabled={!writable}
          onClick={() => onEdit(event)}
        >
          Edit
        </button>
      </div>
      {!writable && (
        <p class="muted">
          This calendar is read-only in Calendox, so the event cannot be changed here.
        </p>
      )}
    </Dialog>
  );
}
