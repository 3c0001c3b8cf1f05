/*
 * The person's calendars and meeting providers as the dashboard and its Add Event dialog need them.
 * Both endpoints may be missing on this server (404); that means "none connected", never an error.
 */
import { api, orEmptyWhenMissing } from './api';
import type { Calendar, CalendarAccount, MeetingProvider } from './api';

export interface CalendarList {
  /* false when the server has no calendar API */
  available: boolean;
  accounts: CalendarAccount[];
}

export async function loadCalendars(): Promise<CalendarList> {
  const r = await orEmptyWhenMissing(api.calendars(), null);
  if (r === null) return { available: false, accounts: [] };
  return { available: true, accounts: r.accounts };
}

export interface WritableCalendar {
  calendar: Calendar;
  account: CalendarAccount;
}

/* Calendars an event can be added to: writable ones of active accounts. */
export function writableCalendars(list: CalendarList): WritableCalendar[] {
  const out: WritableCalendar[] = [];
  for (const account of list.accounts) {
    if (account.status !== 'active') continue;
    for (const calendar of account.calendars)
      if (calendar.writable) out.push({ calendar, account });
  }
  return out;
}

/* Every meeting provider Calendox knows, shown when the server cannot list them yet. */
const KNOWN_PROVIDERS: MeetingProvider[] = [
  { id: 'zoom', name: 'Zoom', available: false, status: 'not_connected' },
  { id: 'google_meet', name: 'Google Meet', available: false, status: 'not_connected' },
  { id: 'teams', name: 'Microsoft Teams', available: false, status: 'not_connected' },
];

export async function loadMeetingProviders(): Promise<MeetingProvider[]> {
  const r = await orEmptyWhenMissing(api.meetingProviders(), null);
  return r === null ? KNOWN_PROVIDERS : r.providers;
}

/* A colour the app may paint with: only a plain hex colour from the provider, never other CSS. */
export function safeColor(color: string | null | undefined): string | null {
  return color && /^#[0-9a-fA-F]{3,8}$/.test(color) ? color : null;
}

/* The calendars by id, for colouring events and naming their calendar. */
export function calendarIndex(list: CalendarList): Map<string, WritableCalendar> {
  const out = new Map<string, WritableCalendar>();
  for (const account of list.accounts)
    for (const calendar of account.calendars) out.set(calendar.id, { calendar, account });
  return out;
}
