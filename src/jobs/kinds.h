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

/* A provider call's timeout in a job: wanted_ms, but kept below the job's lease when the operator
 * shortened leases (CALENDOX_JOB_LEASE_S), so no other worker takes the job over while the call may
 * still be under way (a second Zoom create would be a duplicate meeting). */
long job_call_timeout_ms(const struct job_env *env, long wanted_ms);

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

/* Push notifications (push.c). calendar.watch ({"calendar_id"[,"force"]}): gives a selected
 * calendar of an active account a live Google push channel or Graph subscription, renewing (Graph)
 * or replacing (Google) one that expires within a day, or at once with force. calendar.watch_renew
 * (periodic): enqueues the watches that are due and stops registrations of calendars no longer
 * selected or of accounts not active. calendar.unwatch: stops one channel or subscription. */
enum job_outcome job_calendar_watch(struct job_run *run);
enum job_outcome job_calendar_watch_renew(struct job_run *run);
enum job_outcome job_calendar_unwatch(struct job_run *run);
/* Whether push can work with cfg->public_url: https, or http on a loopback host (the sandbox). */
bool job_push_enabled(const struct config *cfg);
/* Enqueues calendar.watch for the calendar (idempotency_key may be NULL: two watches of one
 * calendar settle it between themselves). On the caller's connection. */
enum cx_err job_calendar_watch_enqueue(struct store_conn *c, int64_t calendar_id, bool force,
				       const char *idempotency_key);
/* The same for every selected calendar of an active account (after it was connected); *n (may be
 * NULL) gets how many. */
enum cx_err job_calendar_watch_enqueue_account(struct store_conn *c, int64_t account_id,
					       size_t *n);
/* Queues calendar.unwatch for every registration of the calendar (deselected) and deletes the
 * rows, in the caller's transaction; *n (may be NULL) gets how many stops were queued. */
enum cx_err job_calendar_unwatch_calendar(struct store_conn *c, int64_t calendar_id, size_t *n);
/* The same for every registration of an account about to be removed: its access token (opened
 * from sealed_tokens, kind "calendar_account") travels sealed in each job, because the account's
 * row is gone when the job runs. Call before deleting the account, in the same transaction. */
enum cx_err job_calendar_unwatch_account(struct store_conn *c, const struct config *cfg,
					 int64_t account_id, int64_t user_id,
					 const char *sealed_tokens, size_t *n);

/* event.write: carries one event's creation, changes or deletion, and its meeting, to Google,
 * Outlook and Zoom ({"event_id"}; event_write.c); and what it does when given up. */
enum job_outcome job_event_write(struct job_run *run);
void job_event_write_failed(struct job_run *run, struct store_conn *c);
/* Enqueues event.write for the event, keyed by its write generation (a job already queued or
 * running for the event is returned in *job_id instead; it reads the event again before it ends).
 * job_id may be NULL. On the caller's connection, usually in its transaction. */
enum cx_err job_event_write_enqueue(struct store_conn *c, int64_t event_id, int64_t generation,
				    int64_t *job_id);
/* zoom.meeting.delete: deletes one Zoom meeting ({"user_id","event_id","meeting_id"}). */
enum job_outcome job_zoom_meeting_delete(struct job_run *run);
/* zoom.meeting.read: reads an event's Zoom meeting from Zoom and takes a changed link over
 * ({"event_id"}; GET /api/events/{id}?refresh=1). */
enum job_outcome job_zoom_meeting_read(struct job_run *run);

#endif
