/*
 * The one client of the Calendox HTTP API (DESIGN §5). Every shape the server answers has a type
 * here; pages never call fetch themselves. Requests carry the session cookie (same origin); POST,
 * PATCH and DELETE also carry X-CSRF-Token, the token from GET /api/me that setCsrfToken() keeps.
 * Every non-2xx answer is thrown as an ApiError with the server's code, message and hint.
 */

export type PlanName = 'free' | 'trial' | 'basic' | 'standard' | 'premium';
export type PaidPlanName = 'basic' | 'standard' | 'premium';
export type PlanStatus = 'trialing' | 'active' | 'trial_ended';

export interface User {
  id: string;
  email: string;
  name: string;
  /* RFC 3339 */
  created_at: string;
}

export interface Plan {
  name: PlanName;
  status: PlanStatus;
  /* RFC 3339, or null when there never was a trial */
  trial_ends_at: string | null;
}

export interface Me {
  user: User;
  plan: Plan;
  csrf_token: string;
}

export interface OfferedPlan {
  name: PlanName;
  /* how many calendar accounts the plan allows; null means unlimited */
  calendar_accounts: number | null;
}

export interface Billing {
  plan: PlanName;
  status: PlanStatus;
  trial_ends_at: string | null;
  plans: OfferedPlan[];
}

export interface Subscription {
  plan: PlanName;
  status: PlanStatus;
}

export interface ActivityEntry {
  at: string;
  kind: string;
  detail: string;
}

/* The endpoints below are in the contract but may not be served yet (the server then answers
 * 404 not_found); the pages treat that as "nothing connected". */

export interface Calendar {
  id: string;
  name: string;
  primary: boolean;
  writable: boolean;
  color: string | null;
  selected: boolean;
}

export type CalendarProvider = 'google' | 'microsoft';

export interface CalendarAccount {
  id: string;
  provider: CalendarProvider;
  email: string;
  status: 'active' | 'suspended' | 'needs_reconnect';
  calendars: Calendar[];
}

export type AppStatus = 'connected' | 'not_connected' | 'needs_reconnect';

export interface AppConnection {
  id: string;
  name: string;
  category: string;
  status: AppStatus;
  account_email: string | null;
  connected_at: string | null;
  scopes: string[];
  /* Why the connection needs attention (needs_reconnect), in words for the person. */
  last_error?: string | null;
}

export type MeetingProviderId = 'zoom' | 'google_meet' | 'teams';

export interface MeetingProvider {
  id: MeetingProviderId;
  name: string;
  available: boolean;
  status: string;
}

/* Why a meeting link could not be made, with the next step for the person. */
export interface MeetingError {
  code: string;
  message: string;
  hint?: string | null;
}

export interface Meeting {
  provider: MeetingProviderId;
  status: 'pending' | 'ready' | 'failed' | 'deleting' | 'deleted';
  join_url: string | null;
  meeting_id: string | null;
  passcode: string | null;
  /* An object per DESIGN §5; a plain sentence is accepted too. */
  error: MeetingError | string | null;
}

export interface CalendarEvent {
  id: string;
  calendar_id: string;
  provider: CalendarProvider;
  external_id: string | null;
  title: string;
  start: string;
  end: string;
  time_zone: string;
  all_day: boolean;
  /* null when the provider's event has none */
  description: string | null;
  location: string | null;
  meeting: Meeting | null;
  updated_at: string;
}

export interface NewEvent {
  calendar_id: string;
  title: string;
  start: string;
  end: string;
  time_zone: string;
  all_day: boolean;
  description: string;
  location: string;
  meeting: { provider: MeetingProviderId } | null;
}

/* PATCH /api/events/{id}: only the fields that changed. */
export type EventChanges = Partial<NewEvent>;

export interface ErrorBody {
  error: { code: string; message: string; hint?: string | null };
}

/* A failed request: an answer from the server (status > 0) or no answer at all (status 0,
 * code "network_error"). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | null;

  constructor(status: number, code: string, message: string, hint: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = hint;
  }

  /* True for "this endpoint (or thing) does not exist here", which the UI shows as empty. */
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  extraHeaders?: Record<string, string>,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      0,
      'network_error',
      'Calendox could not be reached.',
      'Check your connection and try again.',
    );
  }
  if (res.status === 204) return undefined as T;
  let parsed: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    if (isErrorBody(parsed)) {
      const e = parsed.error;
      throw new ApiError(res.status, e.code, e.message, e.hint ?? null);
    }
    throw new ApiError(
      res.status,
      res.status === 404 ? 'not_found' : 'http_error',
      `The server answered ${res.status}.`,
      null,
    );
  }
  if (parsed === null) {
    throw new ApiError(res.status, 'bad_response', 'The server sent an unreadable answer.', null);
  }
  return parsed as T;
}

export const api = {
  signup(email: string, password: string, name: string): Promise<{ user: User }> {
    return request('POST', '/api/auth/signup', { email, password, name });
  },
  login(email: string, password: string): Promise<{ user: User }> {
    return request('POST', '/api/auth/login', { email, password });
  },
  logout(): Promise<void> {
    return request('POST', '/api/auth/logout');
  },
  me(): Promise<Me> {
    return request('GET', '/api/me');
  },
  billing(): Promise<Billing> {
    return request('GET', '/api/billing');
  },
  subscribe(plan: PaidPlanName): Promise<Subscription> {
    return request('POST', '/api/billing/subscribe', { plan });
  },
  activity(): Promise<{ entries: ActivityEntry[] }> {
    return request('GET', '/api/activity');
  },
  calendars(): Promise<{ accounts: CalendarAccount[] }> {
    return request('GET', '/api/calendars');
  },
  apps(): Promise<{ apps: AppConnection[] }> {
    return request('GET', '/api/apps');
  },
  disconnectApp(id: 'zoom'): Promise<void> {
    return request('DELETE', `/api/apps/${id}`);
  },
  meetingProviders(): Promise<{ providers: MeetingProvider[] }> {
    return request('GET', '/api/meeting-providers');
  },
  events(start: string, end: string): Promise<{ events: CalendarEvent[] }> {
    const q = new URLSearchParams({ start, end });
    return request('GET', `/api/events?${q.toString()}`);
  },
  /* The same idempotencyKey for a retry of the same form never makes a second event. */
  createEvent(ev: NewEvent, idempotencyKey: string): Promise<CalendarEvent> {
    return request('POST', '/api/events', ev, { 'Idempotency-Key': idempotencyKey });
  },
  event(id: string): Promise<CalendarEvent> {
    return request('GET', `/api/events/${encodeURIComponent(id)}`);
  },
  updateEvent(id: string, changes: EventChanges): Promise<CalendarEvent> {
    return request('PATCH', `/api/events/${encodeURIComponent(id)}`, changes);
  },
  deleteEvent(id: string): Promise<void> {
    return request('DELETE', `/api/events/${encodeURIComponent(id)}`);
  },
  setCalendarSelected(id: string, selected: boolean): Promise<Calendar> {
    return request('PATCH', `/api/calendars/${encodeURIComponent(id)}`, { selected });
  },
  disconnectCalendarAccount(id: string): Promise<void> {
    return request('DELETE', `/api/calendar-accounts/${encodeURIComponent(id)}`);
  },
};

/* For lists whose endpoint may not exist yet: a 404 means an empty list, anything else throws. */
export async function orEmptyWhenMissing<T>(p: Promise<T>, empty: T): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.isNotFound) return empty;
    throw e;
  }
}
