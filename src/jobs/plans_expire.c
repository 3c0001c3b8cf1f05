/* plans.expire_trials and sessions.cleanup: the housekeeping jobs behind plans and sessions. */
#include <stdio.h>

#include "base/log.h"
#include "base/time.h"
#include "jobs/kinds.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/connections.h"

#include "base/banned.h"

struct trial_end {
	int64_t now;
	enum cx_err err; /* the first failure, which fails the whole batch */
};

/* Runs inside the batch's transaction for each person moved to Free: suspends their calendar
 * accounts (Free allows none) and records it. A failure is kept and fails the batch, which the job
 * then retries, so the move, the suspension and their record stay together. */
static void record_trial_end(struct store_conn *c, int64_t user_id, void *arg)
{
	struct trial_end *t = arg;
	int64_t suspended = 0;
	if (t->err)
		return;
	t->err = store_calendar_accounts_suspend(c, user_id, true, t->now, &suspended);
	if (!t->err)
		t->err = store_activity_add(
			c, user_id, t->now, "plan.trial_ended",
			suspended > 0
				? "Your trial ended and the account moved to the Free plan; your "
				  "calendar accounts are suspended. Subscribe under Settings → "
				  "Billing to use them again."
				: "Your trial ended and the account moved to the Free plan. "
				  "Subscribe under Settings → Billing to connect calendars again.");
}

enum job_outcome job_plans_expire_trials(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct store_conn *c = store_conn(env->store);
	struct trial_end t = {.now = time_wall_s(), .err = CX_OK};
	int moved = 0;
	enum cx_err err = store_begin(c);
	if (!err)
		err = store_trials_expire(c, t.now, record_trial_end, &t, &moved);
	if (!err)
		err = t.err;
	if (!err)
		err = store_commit(c);
	if (err) {
		store_rollback(c);
		snprintf(run->error, sizeof(run->error), "expiring trials failed: %s",
			 cx_strerror(err));
		return JOB_OUTCOME_RETRY;
	}
	if (moved > 0)
		log_info("trials moved to free", "count=%d", moved);
	return JOB_OUTCOME_DONE;
}

enum job_outcome job_sessions_cleanup(struct job_run *run)
{
	const struct job_env *env = run->app;
	int64_t deleted = 0;
	struct store_conn *c = store_conn(env->store);
	enum cx_err err = store_sessions_delete_expired(c, time_wall_s(), &deleted);
	if (!err)
		err = store_oauth_states_delete_expired(c, time_wall_s());
	if (err) {
		snprintf(run->error, sizeof(run->error), "deleting expired sessions failed: %s",
			 cx_strerror(err));
		return JOB_OUTCOME_RETRY;
	}
	if (deleted > 0)
		log_info("expired sessions deleted", "count=%lld", (long long)deleted);
	return JOB_OUTCOME_DONE;
}
