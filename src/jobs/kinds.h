/* kinds.h: the job kinds Calendox runs, one file each, and the environment they run in.
 * job_runner_options.app points at a struct job_env that lives as long as the runner. */
#ifndef CX_JOBS_KINDS_H
#define CX_JOBS_KINDS_H

#include "base/config.h"
#include "egress/egress.h"
#include "jobs/jobs.h"
#include "store/store.h"

struct token_refresher;

struct job_env {
	struct store *store;
	const struct config *cfg;
	struct egress *egress;
	/* jobs/tokens.h: usable provider tokens, refreshed single-flight; may be NULL where no
	 * kind needs one (added with the token refresher; set by whoever starts the runner). */
	struct token_refresher *tokens;
};

/* Every kind, for job_runner_options.kinds. */
extern const struct job_kind job_kinds[];
extern const size_t job_kinds_count;
/* The periodic ones, for job_runner_options.periodic. */
extern const struct job_periodic job_periodic[];
extern const size_t job_periodic_count;

/* plans.expire_trials: trials that ended become Free (DESIGN §4 "Plans") and their calendar
 * accounts suspended. */
enum job_outcome job_plans_expire_trials(struct job_run *run);
/* zoom.revoke: revokes a disconnected person's token at Zoom ({"user_id","token"} with the token
 * sealed under "zoom.revoke:<user_id>"). */
enum job_outcome job_zoom_revoke(struct job_run *run);
/* google.revoke: revokes a removed calendar account's grant at Google ({"user_id","token"} with the
 * token sealed under "google.revoke:<user_id>"). */
enum job_outcome job_google_revoke(struct job_run *run);
/* sessions.cleanup: deletes expired sessions and used or expired OAuth states. */
enum job_outcome job_sessions_cleanup(struct job_run *run);

/* calendar.sync: one round of a calendar's events from Google or Microsoft into the store
 * ({"calendar_id"}; sync.c), and what it does when given up. */
enum job_outcome job_calendar_sync(struct job_run *run);
void job_calendar_sync_failed(struct job_run *run, struct store_conn *c);
/* calendar.poll: enqueues calendar.sync for calendars not synced within CALENDOX_SYNC_POLL_S. */
enum job_outcome job_calendar_poll(struct job_run *run);
/* Enqueues a round of calendar.sync for the calendar, keyed by its sync generation (so a round
 * already queued or running is returned instead). *created (may be NULL) tells whether it is new. */
enum cx_err job_calendar_sync_enqueue(struct store_conn *c, int64_t calendar_id,
				      int64_t generation, bool *created);
/* The same for every selected calendar of an active account (after it was connected); *n (may be
 * NULL) gets how many were new. On the caller's connection, usually in its transaction. */
enum cx_err job_calendar_sync_enqueue_account(struct store_conn *c, int64_t account_id,
					      size_t *n);

#endif
