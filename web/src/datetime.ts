/* Dates as the forms show them (the browser's local time) and as the API wants them (RFC 3339). */

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/* "YYYY-MM-DD" in local time. */
export function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/* "YYYY-MM-DDTHH:mm" in local time, the value of an <input type="datetime-local">. */
export function localDateTime(d: Date): string {
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/* RFC 3339 with the local offset, e.g. "2025-03-01T09:30:00+01:00". */
export function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${localDateTime(d)}:${pad(d.getSeconds())}${offset}`;
}

/* Parses a datetime-local ("YYYY-MM-DDTHH:mm") or date ("YYYY-MM-DD") value as local time. */
export function parseLocal(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(value);
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0);
  return Number.isNaN(d.getTime()) ? null : d;
}

/* The next full hour from now, the default start of a new event. */
export function nextHour(now: Date = new Date()): Date {
  const d = new Date(now);
  d.setMinutes(0, 0, 0);
  d.setHours(d.getHours() + 1);
  return d;
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
