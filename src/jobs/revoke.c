/* zoom.revoke and google.revoke: after a person disconnects Zoom or removes a Google calendar
 * account, tell the provider to revoke the token (DESIGN §4 "Disconnect"). The provider may be slow
 * or down, so this is a durable job with retries; the connection is already gone from Calendox when
 * it runs. The payload is {"user_id","token"} with the token sealed under "<kind>:<user id>". The
 * upstream call goes through the egress thread (the run is PENDING meanwhile), never blocking a
 * worker. Microsoft has no revoke endpoint, so it has no job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/json.h"
#include "core/tokens.h"
#include "egress/oauth.h"
#include "jobs/kinds.h"

#include "base/banned.h"

static void revoked(struct egress_response *resp, void *arg)
{
	struct job_run *run = arg;
	struct oauth_error oe;
	enum cx_err e = oauth_revoke_result(resp, &oe);
	egress_response_free(resp);
	if (e == CX_OK || e == CX_ENOTFOUND) {
		job_run_finish(run, JOB_OUTCOME_DONE);
		return;
	}
	snprintf(run->error, sizeof(run->error), "%s failed: status %ld %s", run->job->kind,
		 oe.http_status, oe.error[0] ? oe.error : cx_strerror(e));
	job_run_finish(run, oe.retryable ? JOB_OUTCOME_RETRY : JOB_OUTCOME_FAIL);
}

static enum job_outcome revoke(struct job_run *run, const struct provider_config *pc,
			       enum oauth_client_auth auth)
{
	const struct job_env *env = run->app;
	json_t *payload = json_loads(run->job->payload, 0, NULL);
	const char *sealed = payload ? json_get_str(payload, "token") : NULL;
	long long user_id = payload ? json_get_int(payload, "user_id", 0) : 0;
	char *token = NULL;
	struct egress_request *r = NULL;
	enum job_outcome outcome = JOB_OUTCOME_FAIL;
	if (!sealed || user_id <= 0 ||
	    tokens_open(env->cfg->secret_key, run->job->kind, user_id, sealed, &token, NULL) !=
		    CX_OK) {
		snprintf(run->error, sizeof(run->error), "the revoke job's token does not open");
		goto out;
	}
	enum cx_err e = oauth_revoke_request(pc, auth, token, NULL, &r);
	if (e) {
		snprintf(run->error, sizeof(run->error), "building the revoke request failed: %s",
			 cx_strerror(e));
		goto out;
	}
	r->done = revoked;
	r->arg = run;
	r->timeout_ms = job_call_timeout_ms(env, 20000);
	egress_submit(env->egress, r);
	outcome = JOB_OUTCOME_PENDING;
out:
	if (token) {
		sec_wipe(token, strlen(token));
		free(token);
	}
	json_decref(payload);
	return outcome;
}

enum job_outcome job_zoom_revoke(struct job_run *run)
{
	const struct job_env *env = run->app;
	return revoke(run, &env->cfg->zoom, OAUTH_AUTH_BASIC);
}

/* Google's revoke endpoint needs only the token, no client credentials. */
enum job_outcome job_google_revoke(struct job_run *run)
{
	const struct job_env *env = run->app;
	return revoke(run, &env->cfg->google, OAUTH_AUTH_NONE);
}
