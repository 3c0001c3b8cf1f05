/*
 * The Add Event dialog of the dashboard (DESIGN §8): title, calendar, time, meeting provider,
 * location and description. Its Calendar select lists the writable calendars; with none it stays
 * empty and says why — no calendar connected yet (link to Settings → Calendars), or the Free plan,
 * which has no calendars (link to Settings → Billing). The Meeting select lists every provider and
 * marks those not connected.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type { MeetingProvider, MeetingProviderId, PlanName } from '../api';
import { loadCalendars, loadMeetingProviders, writableCalendars } from '../calendars';
import type { CalendarList } from '../calendars';
import { Dialog } from '../components/dialog';
import { FormError } from '../components/field';
import { browserTimeZone, localDate, localDateTime, parseLocal, rfc3339 } from '../datetime';
import { useLoad } from '../load';
import { Link } from '../router';

export interface EventDraft {
  start: Date;
  end: Date;
  allDay: boolean;
}

interface Props {
  plan: PlanName;
  draft: EventDraft;
  onClose: () => void;
  onSaved: () => void;
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

export function AddEventDialog({ plan, draft, onClose, onSaved }: Props) {
  const [choices] = useLoad(loadChoices);
  const [title, setTitle] = useState('');
  const [calendarId, setCalendarId] = useState('');
  const [allDay, setAllDay] = useState(draft.allDay);
  const [start, setStart] = useState(
    draft.allDay ? localDate(draft.start) : localDateTime(draft.start),
  );
  const [end, setEnd] = useState(draft.allDay ? localDate(draft.end) : localDateTime(draft.end));
  const [meeting, setMeeting] = useState<MeetingProviderId | ''>('');
  const [location, setLocation] = useState('');
  const [description, setDescription] = useState('');
  const [titleError, setTitleError] = useState<string | null>(null);
  const [timeError, setTimeError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const writable = choices.kind === 'ok' ? writableCalendars(choices.data.calendars) : [];
  const providers = choices.kind === 'ok' ? choices.data.providers : [];
  const chosenCalendar = calendarId || writable[0]?.calendar.id || '';
  const canSave = writable.length > 0 && !busy;

  const switchAllDay = (on: boolean) => {
    const s = parseLocal(start);
    const e = parseLocal(end);
    setAllDay(on);
    if (s) setStart(on ? localDate(s) : localDateTime(s));
    if (e) setEnd(on ? localDate(e) : localDateTime(e));
  };

  const save = async (ev: Event) => {
    ev.preventDefault();
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
    setBusy(true);
    try {
      await api.createEvent({
        calendar_id: chosenCalendar,
        title: t,
        start: rfc3339(s),
        end: rfc3339(endAt),
        time_zone: browserTimeZone(),
        all_day: allDay,
        description,
        location,
        meeting: meeting ? { provider: meeting } : null,
      });
      onSaved();
    } catch (err) {
      if (err instanceof ApiError) setSaveError(err);
      else throw err;
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Add Event" onClose={onClose} class="dialog-wide">
      <form onSubmit={(e) => void save(e)} noValidate class="event-form">
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

        <div class="field">
          <label for="event-calendar">Calendar</label>
          <select
            id="event-calendar"
            value={chosenCalendar}
            disabled={writable.length === 0}
            aria-describedby={
              choices.kind === 'ok' && writable.length === 0 ? 'event-calendar-help' : undefined
            }
            onChange={(e) => setCalendarId(e.currentTarget.value)}
          >
            {writable.map(({ calendar, account }) => (
              <option key={calendar.id} value={calendar.id}>
                {calendar.name} ({account.email})
              </option>
            ))}
          </select>
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
          {choices.kind === 'ok' && writable.length === 0 && <NoCalendars plan={plan} />}
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

        <div class="field">
          <label for="event-meeting">Meeting</label>
          <select
            id="event-meeting"
            value={meeting}
            onChange={(e) => setMeeting(e.currentTarget.value as MeetingProviderId | '')}
          >
            <option value="">No meeting</option>
            {providers.map((p) => (
              <option key={p.id} value={p.id} disabled={!p.available}>
                {providerLabel(p)}
              </option>
            ))}
          </select>
          {providers.some((p) => p.id === 'zoom' && !p.available) && (
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

        <FormError message={saveError?.message ?? null} hint={saveError?.hint} />

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
