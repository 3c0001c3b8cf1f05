#include "jobs/kinds.h"

#include "base/banned.h"

long job_call_timeout_ms(const struct job_env *env, long wanted_ms)
{
	long lease_ms = env && env->cfg ? (long)env->cfg->job_lease_s * 1000 : 0;
	if (lease_ms > 0 && wanted_ms > lease_ms - 2000)
		return lease_ms - 2000 > 1000 ? lease_ms - 2000 : 1000;
	return wanted_ms;
}

const struct job_kind job_kinds[] = {
	{.name = "plans.expire_trials", .run = job_plans_expire_trials, .max_attempts = 3},
	{.name = "sessions.cleanup", .run = job_sessions_cleanup, .max_attempts = 3},
	{.name = "zoom.revoke", .run = job_zoom_revoke, .max_attempts = 8, .lease_ms = 60000},
	{.name = "google.revoke", .run = job_google_revoke, .max_attempts = 8, .lease_ms = 60000},
	/* A run goes through every page of a round; an attempt is spent only by a failed fetch, and
	 * sync.c gives up a page after 8 failures in a row. */
	{.name = "calendar.sync",
	 .run = job_calendar_sync,
	 .on_failed = job_calendar_sync_failed,
	 .max_attempts = 40,
	 .lease_ms = 60000,
	 .max_backoff_ms = 60000},
	{.name = "calendar.poll", .run = job_calendar_poll, .max_attempts = 3},
	{.name = "calendar.watch", .run = job_calendar_watch, .max_attempts = 8, .lease_ms = 60000},
	{.name = "calendar.watch_renew", .run = job_calendar_watch_renew, .max_attempts = 3},
	{.name = "calendar.unwatch",
	 .run = job_calendar_unwatch,
	 .max_attempts = 8,
	 .lease_ms = 60000},
	/* A run goes through every step it can; retries wait on provider trouble and on Zoom's
	 * limits (a daily cap waits a day), so the bound is generous. */
	{.name = "event.write",
	 .run = job_event_write,
	 .on_failed = job_event_write_failed,
	 .max_attempts = 30,
	 .lease_ms = 180000,
	 .max_backoff_ms = 120000},
	{.name = "zoom.meeting.read", .run = job_zoom_meeting_read, .max_attempts = 1},
	{.name = "zoom.meeting.delete",
	 .run = job_zoom_meeting_delete,
	 .max_attempts = 20,
	 .lease_ms = 60000,
	 .max_backoff_ms = 300000},
};
const size_t job_kinds_count = sizeof(job_kinds) / sizeof(job_kinds[0]);

const struct job_periodic job_periodic[] = {
	{.kind = "plans.expire_trials", .interval_ms = 60 * 1000},
	{.kind = "sessions.cleanup", .interval_ms = 60 * 60 * 1000},
	{.kind = "calendar.poll", .interval_ms = 60 * 1000},
	{.kind = "calendar.watch_renew", .interval_ms = 60 * 1000},
};
const size_t job_periodic_count = sizeof(job_periodic) / sizeof(job_periodic[0]);
