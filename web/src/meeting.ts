/* How a meeting link is named and explained in the UI (DESIGN §5 meeting, §8 troubleshooting). */
import type { CalendarProvider, Meeting, MeetingError, MeetingProviderId } from './api';

const SERVICE: Record<MeetingProviderId, string> = {
  zoom: 'Zoom',
  google_meet: 'Google Meet',
  teams: 'Microsoft Teams',
};

export function serviceName(p: MeetingProviderId): string {
  return SERVICE[p] ?? p;
}

/* "Join Zoom meeting", "Join Google Meet", "Join Microsoft Teams". */
export function joinLabel(p: MeetingProviderId): string {
  return p === 'zoom' ? 'Join Zoom meeting' : `Join ${serviceName(p)}`;
}

/* "Creating the Zoom meeting…" while the link is being made. */
export function pendingText(p: MeetingProviderId): string {
  return `Creating the ${serviceName(p)} meeting…`;
}

/* The meeting's error as message and hint, whichever shape the server sent. */
export function meetingError(m: Meeting): MeetingError {
  const e = m.error;
  if (e && typeof e === 'object') return { code: e.code, message: e.message, hint: e.hint ?? null };
  return {
    code: 'meeting_failed',
    message:
      typeof e === 'string' && e ? e : `The ${serviceName(m.provider)} meeting could not be made.`,
    hint: null,
  };
}

/* Where the person fixes a meeting provider: Zoom in Settings → App, Meet and Teams come with the
 * calendar account in Settings → Calendars. */
export function settingsFor(p: MeetingProviderId): { href: string; label: string } {
  return p === 'zoom'
    ? { href: '/settings/app', label: 'Settings → App' }
    : { href: '/settings/calendars', label: 'Settings → Calendars' };
}

export function calendarServiceName(p: CalendarProvider): string {
  return p === 'microsoft' ? 'Outlook' : 'Google Calendar';
}
