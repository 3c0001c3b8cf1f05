/*
 * The Add Event dialog of the dashboard (DESIGN §8), also used to edit an event: title, calendar,
 * time, meeting provider, location and description. Its Calendar select lists the writable
 * calendars; with none it stays empty and says why — no calendar connected yet (link to Settings →
 * Calendars), or the Free plan, which has no calendars (link to Settings → Billing). The Meeting
 * select lists every provider and marks those not connected.
 *
 * Save sends POST /api/events with an Idempotency-Key made once per dialog, so a double click or a
 * retry of the same dialog never makes two events; editing sends PATCH with only the fields that
 * changed. The server's errors are shown at the field they are about (the calendar, the meeting),
 * the others above the buttons, an upstream failure with "Try again".
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type {
  CalendarEvent,
  EventChanges,
  MeetingProvider,
  MeetingProviderId,
  NewEvent,
  PlanName,
} from '../api';
import { loadCalendars, loadMeetingProviders, writableCalendars } from '../calendars';
import type { CalendarList } from '../calendars';
import { Dialog } from '../components/dialog';
import { browserTimeZone, localDate, localDateTime, parseLocal, rfc3339 } from '../datetime';
import { useLoad } from '../load';
import { serviceName, settingsFor } from '../meeting';
import { Link } from '../router';

export interface EventDraft {
  start: Date;
  end: Date;
  allDay: boolean;
}

interface Props {
  plan: PlanName;
  /* where a new event starts (ignored when editing) */
  draft: EventDraft;
  /* the event to edit; absent for a new one */
  editing?: CalendarEvent;
  onClose: () => void;
  /* the event as the server answered it (its meeting may still be pending) */
  onSaved: (ev: CalendarEvent) => void;
}

interface Choices {
  calendars: CalendarList;
  providers: MeetingProvider[];
}

async function loadChoices(): Promise<Choices> {
  const [calendars, providers] = await Promise.all([loadCalendars(), loadMeetingProviders()]);
  return { calendars, providers };
}

function providerLabel(p: MeetingProvider): string {
  if (p.available) return p.name;
  return `${p.name} (${p.status === 'needs_reconnect' ? 'Needs reconnect' : 'Not connected'})`;
}

/* A random version 4 UUID; crypto.randomUUID exists only on secure origins. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function NoCalendars({ plan }: { plan: PlanName }) {
  if (plan === 'free') {
    return (
      <div id="event-calendar-help" class="notice notice-warn">
        <p>
          The Free plan has no calendars. Connecting calendars needs an active trial or a paid plan
          (Basic, Standard or Premium).
        </p>
        <Link href="/settings/billing">Subscribe under Settings → Billing</Link>
      </div>
    );
  }
  return (
    <div id="event-calendar-help" class="notice">
      <p>No calendars are connected yet, so there is nowhere to add the event.</p>
      <Link href="/settings/calendars">Connect a calendar in Settings → Calendars</Link>
    </div>
  );
}

/* A server error, placed where the person can act on it. */
type Placed =
  | { at: 'calendar'; error: ApiError }
  | { at: 'meeting'; error: ApiError }
  | { at: 'form'; error: ApiError };

function place(e: ApiError): Placed {
  switch (e.code) {
    case 'calendar_not_found':
    case 'calendar_read_only':
      return { at: 'calendar', error: e };
    case 'provider_not_connected':
    case 'provider_needs_reconnect':
      return { at: 'meeting', error: e };
    default:
      return { at: 'form', error: e };
  }
}

function MeetingProblem({ error, provider }: { error: ApiError; provider: MeetingProviderId }) {
  const fix = settingsFor(provider);
  const name = serviceName(provider);
  const first =
    error.code === 'provider_needs_reconnect'
      ? `${name} needs reconnecting — reconnect in `
      : `${name} is not connected — connect it in `;
  return (
    <div id="event-meeting-error" class="field-error" role="alert" data-save-error>
      <p>
        {first}
        <Link href={fix.href}>{fix.label}</Link>
      </p>
      {error.message && <p class="muted">{error.message}</p>}
    </div>
  );
}

function FormProblem(props: { error: ApiError; onRetry: () => void; busy: boolean }) {
  const e = props.error;
  let extra: ComponentChildren = null;
  if (e.code === 'plan_required')
    extra = <Link href="/settings/billing">Subscribe under Settings → Billing</Link>;
  else if (e.code === 'upstream_error' || e.code === 'network_error' || e.status >= 500)
    extra = (
      <button
        type="button"
        class="button button-small"
        disabled={props.busy}
        onClick={props.onRetry}
      >
        Try again
      </button>
    );
  return (
    <div class="form-error" role="alert" data-save-error>
      <p>{e.message}</p>
      {e.hint && <p class="form-error-hint">{e.hint}</p>}
      {extra}
    </div>
  );
}

function dateOnly(s: string): Date {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number);
  return new Date(y, m - 1, d);
}

/* The form's first values: the event's when editing, the draft's otherwise. */
function initialTimes(
  draft: EventDraft,
  ev: CalendarEvent | undefined,
): { allDay: boolean; start: string; end: string } {
  if (ev && ev.all_day) {
    const last = dateOnly(ev.end);
    last.setDate(last.getDate() - 1);
    const first = dateOnly(ev.start);
    return { allDay: true, start: localDate(first), end: localDate(last < first ? first : last) };
  }
  if (ev)
    return {
      allDay: false,
      start: localDateTime(new Date(ev.start)),
      end: localDateTime(new Date(ev.end)),
    };
  if (draft.allDay) {
    /* A selection of days ends at the start of the day after its last. */
    const last = new Date(draft.end.getFullYear(), draft.end.getMonth(), draft.end.getDate() - 1);
    return {
      allDay: true,
      start: localDate(draft.start),
      end: localDate(last < draft.start ? draft.start : last),
    };
  }
  return { allDay: false, start: localDateTime(draft.start), end: localDateTime(draft.end) };
}

function sameInstant(a: string, b: string): boolean {
  return Date.parse(a) === Date.parse(b);
}

/* What PATCH must carry: the fields whose value differs from the event's. */
export function changedFields(ev: CalendarEvent, next: NewEvent): EventChanges {
  const out: EventChanges = {};
  if (next.title !== ev.title) out.title = next.title;
  if (next.all_day !== ev.all_day) out.all_day = next.all_day;
  if (next.all_day !== ev.all_day || !sameInstant(next.start, ev.start)) out.start = next.start;
  if (next.all_day !== ev.all_day || !sameInstant(next.end, ev.end)) out.end = next.end;
  if ((out.start || out.end) && next.time_zone !== ev.time_zone) out.time_zone = next.time_zone;
  if (next.description !== (ev.description ?? '')) out.description = next.description;
  if (next.location !== (ev.location ?? '')) out.location = next.location;
  const before = ev.meeting && ev.meeting.status !== 'deleted' ? ev.meeting.provider : null;
  const after = next.meeting ? next.meeting.provider : null;
  if (before !== after) out.meeting = next.meeting;
  return out;
}

export function AddEventDialog({ plan, draft, editing, onClose, onSaved }: Props) {
  const [choices] = useLoad(loadChoices);
  const first = initialTimes(draft, editing);
  const [title, setTitle] = useState(editing?.title ?? '');
  const [calendarId, setCalendarId] = useState(editing?.calendar_id ?? '');
  const [allDay, setAllDay] = useState(first.allDay);
  const [start, setStart] = useState(first.start);
  const [end, setEnd] = useState(first.end);
  const initialMeeting =
    editing?.meeting && editing.meeting.status !== 'deleted' ? editing.meeting.provider : '';
  const [meeting, setMeeting] = useState<MeetingProviderId | ''>(initialMeeting);
  const [location, setLocation] = useState(editing?.location ?? '');
  const [description, setDescription] = useState(editing?.description ?? '');
  const [titleError, setTitleError] = useState<string | null>(null);
  const [timeError, setTimeError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<Placed | null>(null);
  const [busy, setBusy] = useState(false);
  /* One key for the dialog's lifetime: every Save of this dialog is the same request. */
  const idempotencyKey = useRef(newIdempotencyKey()).current;
  const inFlight = useRef(false);

  const writable = choices.kind === 'ok' ? writableCalendars(choices.data.calendars) : [];
  const providers = choices.kind === 'ok' ? choices.data.providers : [];
  const chosenCalendar = calendarId || writable[0]?.calendar.id || '';
  const canSave = (editing !== undefined || writable.length > 0) && !busy;
  const meetingProvider = (meeting || 'zoom') as MeetingProviderId;

  const switchAllDay = (on: boolean) => {
    const s = parseLocal(start);
    const e = parseLocal(end);
    setAllDay(on);
    if (s) setStart(on ? localDate(s) : localDateTime(s));
    if (e) setEnd(on ? localDate(e) : localDateTime(e));
  };

  const submit = async () => {
    if (inFlight.current) return;
    setSaveError(null);
    const s = parseLocal(start);
    const e = parseLocal(end);
    const t = title.trim();
    setTitleError(t ? null : 'Enter a title.');
    const badTime =
      !s || !e
        ? 'Enter a start and an end.'
        : e < s || (!allDay && +e === +s)
          ? 'The end must be after the start.'
          : null;
    setTimeError(badTime);
    if (!t || badTime || !s || !e || !chosenCalendar) return;
    /* An all-day event ends at the start of the day after its last day. */
    const endAt = allDay ? new Date(e.getFullYear(), e.getMonth(), e.getDate() + 1) : e;
    const body: NewEvent = {
      calendar_id: chosenCalendar,
      title: t,
      start: rfc3339(s),
      end: rfc3339(endAt),
      time_zone: browserTimeZone(),
      all_day: allDay,
      description,
      location,
      meeting: meeting ? { provider: meeting } : null,
    };
    inFlight.current = true;
    setBusy(true);
    try {
      if (editing) {
        const changes = changedFields(editing, body);
        const saved =
          Object.keys(changes).length === 0 ? editing : await api.updateEvent(editing.id, changes);
        onSaved(saved);
      } else {
        onSaved(await api.createEvent(body, idempotencyKey));
      }
    } catch (err) {
      if (err instanceof ApiError) setSaveError(place(err));
      else throw err;
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  /* The dialog scrolls on a small screen: bring the server's answer into view. */
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!saveError || !formRef.current) return;
    const shown = formRef.current.querySelector('[data-save-error]');
    if (shown) shown.scrollIntoView({ block: 'nearest' });
  }, [saveError]);

  const calendarProblem = saveError?.at === 'calendar' ? saveError.error : null;
  const meetingProblem = saveError?.at === 'meeting' ? saveError.error : null;
  const calendarDescribedBy =
    [
      choices.kind === 'ok' && writable.length === 0 && !editing ? 'event-calendar-help' : '',
      calendarProblem ? 'event-calendar-error' : '',
    ]
      .filter(Boolean)
      .join(' ') || undefined;

  /* Editing keeps the event's own calendar even when it is not among the writable ones. */
  const calendarOptions = writable.map(({ calendar, account }) => ({
    id: calendar.id,
    label: `${calendar.name} (${account.email})`,
  }));
  if (editing && !calendarOptions.some((o) => o.id === editing.calendar_id))
    calendarOptions.unshift({ id: editing.calendar_id, label: 'This event’s calendar' });

  return (
    <Dialog title={editing ? 'Edit Event' : 'Add Event'} onClose={onClose} class="dialog-wide">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        noValidate
        class="event-form"
        ref={formRef}
      >
        <div class={`field${titleError ? ' field-invalid' : ''}`}>
          <label for="event-title">Title</label>
          <input
            id="event-title"
            type="text"
            maxLength={1024}
            value={title}
            data-autofocus
            aria-invalid={titleError ? 'true' : undefined}
            aria-describedby={titleError ? 'event-title-error' : undefined}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
          {titleError && (
            <p id="event-title-error" class="field-error" role="alert">
              {titleError}
            </p>
          )}
        </div>

        <div class={`field${calendarProblem ? ' field-invalid' : ''}`}>
          <label for="event-calendar">Calendar</label>
          <select
            id="event-calendar"
            key={`calendar-${calendarOptions.length}`}
            value={chosenCalendar}
            disabled={editing !== undefined || writable.length === 0}
            aria-invalid={calendarProblem ? 'true' : undefined}
            aria-describedby={calendarDescribedBy}
            onChange={(e) => setCalendarId(e.currentTarget.value)}
          >
            {calendarOptions.map((o) => (
              <option key={o.id} value={o.id}>
                {o.label}
              </option>
            ))}
          </select>
          {editing && <p class="field-help">An event stays in its calendar.</p>}
          {choices.kind === 'loading' && (
            <p class="field-help" role="status">
              Loading calendars…
            </p>
          )}
          {choices.kind === 'error' && (
            <p class="field-error" role="alert">
              {choices.error.message}
            </p>
          )}
          {choices.kind === 'ok' && writable.length === 0 && !editing && (
            <NoCalendars plan={plan} />
          )}
          {calendarProblem && (
            <div id="event-calendar-error" class="field-error" role="alert" data-save-error>
              <p>
                {calendarProblem.code === 'calendar_read_only'
                  ? 'This calendar is read-only: choose another one.'
                  : 'This calendar is no longer connected: choose another one.'}
              </p>
              <p class="muted">{calendarProblem.message}</p>
            </div>
          )}
        </div>

        <div class="field field-check">
          <input
            id="event-all-day"
            type="checkbox"
            checked={allDay}
            onChange={(e) => switchAllDay(e.currentTarget.checked)}
          />
          <label for="event-all-day">All day</label>
        </div>

        <div class="field-pair">
          <div class={`field${timeError ? ' field-invalid' : ''}`}>
            <label for="event-start">Starts</label>
            <input
              id="event-start"
              type={allDay ? 'date' : 'datetime-local'}
              value={start}
              aria-invalid={timeError ? 'true' : undefined}
              aria-describedby={timeError ? 'event-time-error' : undefined}
              onInput={(e) => setStart(e.currentTarget.value)}
            />
          </div>
          <div class={`field${timeError ? ' field-invalid' : ''}`}>
            <label for="event-end">Ends</label>
            <input
              id="event-end"
              type={allDay ? 'date' : 'datetime-local'}
              value={end}
              aria-invalid={timeError ? 'true' : undefined}
              aria-describedby={timeError ? 'event-time-error' : undefined}
              onInput={(e) => setEnd(e.currentTarget.value)}
            />
          </div>
        </div>
        {timeError && (
          <p id="event-time-error" class="field-error" role="alert">
            {timeError}
          </p>
        )}
        <p class="field-help">Times are in {browserTimeZone()}.</p>

        <div class={`field${meetingProblem ? ' field-invalid' : ''}`}>
          <label for="event-meeting">Meeting</label>
          {/* Remounted when the providers arrive: a value set before its option existed is lost. */}
          <select
            id="event-meeting"
            key={`meeting-${providers.length}`}
            value={meeting}
            aria-invalid={meetingProblem ? 'true' : undefined}
            aria-describedby={meetingProblem ? 'event-meeting-error' : undefined}
            onChange={(e) => setMeeting(e.currentTarget.value as MeetingProviderId | '')}
          >
            <option value="">No meeting</option>
            {providers.map((p) => (
              <option key={p.id} value={p.id} disabled={!p.available && p.id !== initialMeeting}>
                {providerLabel(p)}
              </option>
            ))}
          </select>
          {meetingProblem && <MeetingProblem error={meetingProblem} provider={meetingProvider} />}
          {!meetingProblem && providers.some((p) => p.id === 'zoom' && !p.available) && (
            <p class="field-help">
              Connect Zoom in <Link href="/settings/app">Settings → App</Link> to add Zoom links.
            </p>
          )}
        </div>

        <div class="field">
          <label for="event-location">Location</label>
          <input
            id="event-location"
            type="text"
            value={location}
            onInput={(e) => setLocation(e.currentTarget.value)}
          />
        </div>

        <div class="field">
          <label for="event-description">Description</label>
          <textarea
            id="event-description"
            rows={3}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </div>

        {saveError?.at === 'form' && (
          <FormProblem error={saveError.error} busy={busy} onRetry={() => void submit()} />
        )}

        <div class="button-row button-row-end">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={!canSave}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
