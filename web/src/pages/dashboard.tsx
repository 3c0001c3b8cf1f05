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
import { calendarIndex, loadCalendars, safeColor } from '../calendars';
import type { WritableCalendar } from '../calendars';
import { browserTimeZone, nextHour } from '../datetime';
import { useLoad } from '../load';
import { Link } from '../router';
import { useMe } from '../session';
import { AddEventDialog } from './add-event';
import type { EventDraft } from './add-event';
import { EventDialog } from './event-details';

/* How often the grid reads its events again, so events made outside Calendox show up. */
const REFRESH_MS = 30_000;

type Open =
  | { kind: 'none' }
  | { kind: 'add'; draft: EventDraft }
  | { kind: 'edit'; event: CalendarEvent }
  | { kind: 'show'; event: CalendarEvent };

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

/* The grid's copy of an event, in its calendar's colour. All-day events are given as dates so the
 * browser's zone cannot move them to another day. */
function toInput(ev: CalendarEvent, calendars: Map<string, WritableCalendar>): EventInput {
  const color = safeColor(calendars.get(ev.calendar_id)?.calendar.color);
  return {
    id: ev.id,
    title: ev.title || '(No title)',
    start: ev.all_day ? ev.start.slice(0, 10) : ev.start,
    end: ev.all_day ? ev.end.slice(0, 10) : ev.end,
    allDay: ev.all_day,
    backgroundColor: color ?? undefined,
    borderColor: color ?? undefined,
    classNames: ev.meeting?.join_url ? ['event-with-meeting'] : [],
    extendedProps: { event: ev },
  };
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
  const indexRef = useRef<Map<string, WritableCalendar>>(new Map());
  const [open, setOpen] = useState<Open>({ kind: 'none' });
  const [loadError, setLoadError] = useState<ApiError | null>(null);

  useEffect(() => {
    if (!host.current) return undefined;
    const media = window.matchMedia(NARROW);
    const bars = toolbars(media.matches);
    const addNew = () => {
      const start = nextHour();
      setOpen({
        kind: 'add',
        draft: { start, end: new Date(start.getTime() + 3_600_000), allDay: false },
      });
    };
    /* The events of the visible range with their calendars (for the colours), read together. */
    const fetchEvents = (
      info: EventSourceFuncArg,
      ok: (events: EventInput[]) => void,
      fail: (error: Error) => void,
    ) => {
      Promise.all([api.events(info.startStr, info.endStr), loadCalendars().catch(() => null)]).then(
        ([r, cals]) => {
          if (cals) indexRef.current = calendarIndex(cals);
          setLoadError(null);
          ok(r.events.map((ev) => toInput(ev, indexRef.current)));
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
      /* events are reachable with Tab and open with Enter, not only with a pointer */
      eventInteractive: true,
      select: (sel) => {
        setOpen({ kind: 'add', draft: { start: sel.start, end: sel.end, allDay: sel.allDay } });
        sel.view.calendar.unselect();
      },
      eventClick: (arg: EventClickArg) => {
        arg.jsEvent.preventDefault();
        /* The grid's pointer handling keeps a click from focusing the event; focusing it here
         * lets the dialog give focus back to it when it closes. */
        arg.el.focus();
        const ev = arg.event.extendedProps.event as CalendarEvent | undefined;
        if (ev) setOpen({ kind: 'show', event: ev });
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
    /* Events made outside Calendox: read again now and then, and when the person comes back. */
    const refetch = () => {
      if (document.visibilityState === 'visible') calendar.refetchEvents();
    };
    const timer = window.setInterval(refetch, REFRESH_MS);
    media.addEventListener('change', onMedia);
    window.addEventListener('focus', refetch);
    document.addEventListener('visibilitychange', refetch);
    return () => {
      window.clearInterval(timer);
      media.removeEventListener('change', onMedia);
      window.removeEventListener('focus', refetch);
      document.removeEventListener('visibilitychange', refetch);
      calendar.destroy();
      calendarRef.current = null;
    };
  }, []);

  const refetch = () => calendarRef.current?.refetchEvents();
  const close = () => setOpen({ kind: 'none' });

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
          <button type="button" class="button button-small" onClick={refetch}>
            Try again
          </button>
        </div>
      )}
      <div class="calendar-host" ref={host} />
      {open.kind === 'add' && (
        <AddEventDialog
          key="add"
          plan={plan.name}
          draft={open.draft}
          onClose={close}
          onSaved={(ev) => {
            setOpen({ kind: 'show', event: ev });
            refetch();
          }}
        />
      )}
      {open.kind === 'edit' && (
        <AddEventDialog
          key={`edit-${open.event.id}`}
          plan={plan.name}
          draft={{
            start: new Date(open.event.start),
            end: new Date(open.event.end),
            allDay: false,
          }}
          editing={open.event}
          onClose={() => setOpen({ kind: 'show', event: open.event })}
          onSaved={(ev) => {
            setOpen({ kind: 'show', event: ev });
            refetch();
          }}
        />
      )}
      {open.kind === 'show' && (
        <EventDialog
          key={`show-${open.event.id}`}
          event={open.event}
          calendar={indexRef.current.get(open.event.calendar_id) ?? null}
          onClose={close}
          onEdit={(ev) => setOpen({ kind: 'edit', event: ev })}
          onDeleted={(id) => {
            calendarRef.current?.getEventById(id)?.remove();
            close();
            refetch();
          }}
          onChanged={() => refetch()}
        />
      )}
    </section>
  );
}
