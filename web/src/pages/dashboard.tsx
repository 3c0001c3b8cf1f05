/*
 * Dashboard → "Unified Calendar": every event of the connected calendars in one FullCalendar grid
 * (month, week and day views, in the browser's time zone), with "+ Add Event" in its toolbar.
 * Events come from GET /api/events for the visible range only; while the server has no events API
 * (404) the grid is simply empty. FullCalendar is driven through its plain JavaScript API: it
 * renders with its own copy of Preact, so this page only owns the element it is mounted on.
 */
import { Calendar } from '@fullcalendar/core';
import type {
  EventClickArg,
  EventInput,
  EventSourceFuncArg,
  ToolbarInput,
} from '@fullcalendar/core';
import dayGridPlugin from '@fullcalendar/daygrid';
import interactionPlugin from '@fullcalendar/interaction';
import timeGridPlugin from '@fullcalendar/timegrid';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type { CalendarEvent } from '../api';
import { loadCalendars } from '../calendars';
import { Dialog } from '../components/dialog';
import { browserTimeZone, nextHour } from '../datetime';
import { useLoad } from '../load';
import { Link } from '../router';
import { useMe } from '../session';
import { AddEventDialog } from './add-event';
import type { EventDraft } from './add-event';

const NARROW = '(max-width: 640px)';

function toolbars(narrow: boolean): { header: ToolbarInput; footer: ToolbarInput | false } {
  if (narrow) {
    return {
      header: { left: 'prev,next', center: 'title', right: 'addEvent' },
      footer: { left: 'today', right: 'dayGridMonth,timeGridWeek,timeGridDay' },
    };
  }
  return {
    header: {
      left: 'prev,next today',
      center: 'title',
      right: 'dayGridMonth,timeGridWeek,timeGridDay addEvent',
    },
    footer: false,
  };
}

function toInput(ev: CalendarEvent): EventInput {
  return {
    id: ev.id,
    title: ev.title,
    start: ev.start,
    end: ev.end,
    allDay: ev.all_day,
    extendedProps: { event: ev },
  };
}

function formatWhen(ev: CalendarEvent): string {
  const start = new Date(ev.start);
  const end = new Date(ev.end);
  if (ev.all_day) return start.toLocaleDateString(undefined, { dateStyle: 'full' });
  const f = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return `${f.format(start)} – ${f.format(end)}`;
}

function EventDetails({ event, onClose }: { event: CalendarEvent; onClose: () => void }) {
  const m = event.meeting;
  return (
    <Dialog title={event.title || 'Event'} onClose={onClose}>
      <dl class="details">
        <dt>When</dt>
        <dd>{formatWhen(event)}</dd>
        {event.location && (
          <>
            <dt>Location</dt>
            <dd>{event.location}</dd>
          </>
        )}
        {m && (
          <>
            <dt>Meeting</dt>
            <dd>
              {m.status === 'ready' && m.join_url ? (
                <a href={m.join_url} target="_blank" rel="noopener noreferrer">
                  Join{' '}
                  {m.provider === 'zoom'
                    ? 'Zoom'
                    : m.provider === 'teams'
                      ? 'Teams'
                      : 'Google Meet'}{' '}
                  meeting
                </a>
              ) : m.status === 'pending' ? (
                'The meeting link is being created…'
              ) : m.status === 'failed' ? (
                `No meeting link: ${m.error ?? 'creating the meeting failed'}`
              ) : (
                'No meeting link'
              )}
              {m.passcode && <span class="muted"> · Passcode {m.passcode}</span>}
            </dd>
          </>
        )}
        {event.description && (
          <>
            <dt>Description</dt>
            <dd class="pre-wrap">{event.description}</dd>
          </>
        )}
      </dl>
    </Dialog>
  );
}

function CalendarNotice() {
  const { plan } = useMe();
  const [calendars] = useLoad(loadCalendars);
  /* On Free the banner above already says what is missing. */
  if (plan.name === 'free' || calendars.kind !== 'ok' || calendars.data.accounts.length > 0)
    return null;
  return (
    <div class="notice">
      <p>
        <strong>No calendars connected yet.</strong> Connect Google or Microsoft calendars to see
        their events here.
      </p>
      <Link href="/settings/calendars">Go to Settings → Calendars</Link>
    </div>
  );
}

export function DashboardPage() {
  const { plan } = useMe();
  const host = useRef<HTMLDivElement>(null);
  const calendarRef = useRef<Calendar | null>(null);
  const [draft, setDraft] = useState<EventDraft | null>(null);
  const [opened, setOpened] = useState<CalendarEvent | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);

  useEffect(() => {
    if (!host.current) return undefined;
    const media = window.matchMedia(NARROW);
    const bars = toolbars(media.matches);
    const addNew = () => {
      const start = nextHour();
      setDraft({ start, end: new Date(start.getTime() + 3_600_000), allDay: false });
    };
    const fetchEvents = (
      info: EventSourceFuncArg,
      ok: (events: EventInput[]) => void,
      fail: (error: Error) => void,
    ) => {
      api.events(info.startStr, info.endStr).then(
        (r) => {
          setLoadError(null);
          ok(r.events.map(toInput));
        },
        (e: unknown) => {
          if (e instanceof ApiError && e.isNotFound) {
            ok([]);
            return;
          }
          if (e instanceof ApiError) setLoadError(e);
          fail(e instanceof Error ? e : new Error(String(e)));
        },
      );
    };
    const calendar = new Calendar(host.current, {
      plugins: [dayGridPlugin, timeGridPlugin, interactionPlugin],
      initialView: 'dayGridMonth',
      timeZone: 'local',
      headerToolbar: bars.header,
      footerToolbar: bars.footer,
      customButtons: { addEvent: { text: '+ Add Event', click: addNew } },
      buttonText: { today: 'Today', month: 'Month', week: 'Week', day: 'Day' },
      height: 'auto',
      nowIndicator: true,
      dayMaxEvents: true,
      selectable: true,
      selectMirror: true,
      select: (sel) => {
        setDraft({ start: sel.start, end: sel.end, allDay: sel.allDay });
        sel.view.calendar.unselect();
      },
      eventClick: (arg: EventClickArg) => {
        arg.jsEvent.preventDefault();
        const ev = arg.event.extendedProps.event as CalendarEvent | undefined;
        if (ev) setOpened(ev);
      },
      events: fetchEvents,
    });
    calendar.render();
    calendarRef.current = calendar;
    const onMedia = () => {
      const b = toolbars(media.matches);
      calendar.setOption('headerToolbar', b.header);
      calendar.setOption('footerToolbar', b.footer);
    };
    media.addEventListener('change', onMedia);
    return () => {
      media.removeEventListener('change', onMedia);
      calendar.destroy();
      calendarRef.current = null;
    };
  }, []);

  return (
    <section class="page page-calendar">
      <div class="page-head">
        <h1>Unified Calendar</h1>
        <p class="muted">Times are shown in {browserTimeZone()}.</p>
      </div>
      <CalendarNotice />
      {loadError && (
        <div class="notice notice-error" role="alert">
          <p>Events could not be loaded: {loadError.message}</p>
          {loadError.hint && <p class="muted">{loadError.hint}</p>}
          <button
            type="button"
            class="button button-small"
            onClick={() => calendarRef.current?.refetchEvents()}
          >
            Try again
          </button>
        </div>
      )}
      <div class="calendar-host" ref={host} />
      {draft && (
        <AddEventDialog
          plan={plan.name}
          draft={draft}
          onClose={() => setDraft(null)}
          onSaved={() => {
            setDraft(null);
            calendarRef.current?.refetchEvents();
          }}
        />
      )}
      {opened && <EventDetails event={opened} onClose={() => setOpened(null)} />}
    </section>
  );
}
