/* zoom.revoke: after a disconnect, tells Zoom to revoke the token (DESIGN §4 "Disconnect"). Zoom
 * may be slow or down, so this is a durable job with retries; the person's connection is already
 * gone from Calendox when it runs. The upstream call goes through the egress thread (the run is
 * PENDING meanwhile), never blocking a worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
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
	snprintf(run->error, sizeof(run->error), "zoom revoke failed: status %ld %s", oe.http_status,
		 oe.error[0] ? oe.error : cx_strerror(e));
	job_run_finish(run, oe.retryable ? JOB_OUTCOME_RETRY : JOB_OUTCOME_FAIL);
}

enum job_outcome job_zoom_revoke(struct job_run *run)
{
	const struct job_env *env = run->app;
	json_t *payload = json_loads(run->job->payload, 0, NULL);
	const char *sealed = payload ? json_get_str(payload, "token") : NULL;
	long long user_id = payload ? json_get_int(payload, "user_id", 0) : 0;
	char *token = NULL;
	struct egress_request *r = NULL;
	enum job_outcome outcome = JOB_OUTCOME_FAIL;
	if (!sealed || user_id <= 0 ||
	    tokens_open(env->cfg->secret_key, "zoom.revoke", user_id, sealed, &token, NULL) !=
		    CX_OK) {
		snprintf(run->error, sizeof(run->error), "the revoke job's token does not open");
		goto out;
	}
	enum cx_err e = oauth_revoke_request(&env->cfg->zoom, OAUTH_AUTH_BASIC, token, NULL, &r);
	if (e) {
		snprintf(run->error, sizeof(run->error), "building the revoke request failed: %s",
			 cx_strerror(e));
		goto out;
	}
	r->done = revoked;
	r->arg = run;
	r->timeout_ms = 20000;
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
