/* kinds.h: the job kinds Calendox runs, one file each, and the environment they run in.
 * job_runner_options.app points at a struct job_env that lives as long as the runner. */
#ifndef CX_JOBS_KINDS_H
#define CX_JOBS_KINDS_H

#include "base/config.h"
#include "egress/egress.h"
#include "jobs/jobs.h"
#include "store/store.h"

struct job_env {
	struct store *store;
	const struct config *cfg;
	struct egress *egress;
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

#endif
