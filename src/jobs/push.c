/* calendar.watch, calendar.watch_renew and calendar.unwatch: push notifications for calendar sync
 * (DESIGN §4 "Delete"; GOOGLE.md §8, MICROSOFT.md §8). A selected calendar of an active account
 * gets a Google push channel (events.watch) or a Graph change-notification subscription (me/events:
 * Graph's builder watches the mailbox, so each calendar's subscription stands for the account and
 * each notification syncs only that calendar). A notification then enqueues the calendar's sync
 * round (api/webhooks_calendar.c); the poll stays the fallback, so nothing here blocks sync.
 *
 * calendar.watch ({"calendar_id"[,"force"]}) makes sure the calendar has a live registration:
 *   - none (or only expired ones): create one;
 *   - one expiring within PUSH_RENEW_MARGIN_S (or force, Graph's reauthorizationRequired): Graph
 *     renews it with PATCH expirationDateTime; Google cannot renew, so a new channel is created and
 *     the old one stopped (calendar.unwatch) once the new one is stored.
 * A create writes a pending row with the SHA-256 of the new secret before the provider is asked,
 * because Google's first "sync" message and Graph's validation may arrive before the answer. The
 * egress completion must not touch the store, so it parses the answer and hands the recording back
 * to a worker with job_run_continue(). Two watch jobs for one calendar race on the unique slot: the
 * loser is done. A pending row of another live job means that job is at it.
 *
 * calendar.watch_renew (periodic, every 60 s) enqueues calendar.watch for calendars without a live
 * registration beyond the margin, stops registrations of calendars no longer selected or of
 * accounts suspended or needing reconnection, and clears pending rows whose job died.
 *
 * calendar.unwatch ({"provider","account_id","user_id","channel_id","resource_id"[,"token"]}) stops
 * one channel or deletes one subscription; 404 means already gone. When the account has been
 * removed its access token travels in the payload, sealed under "calendar.unwatch:<user id>" (as
 * revoke.c does), because the account row and its tokens are gone by then.
 *
 * Push needs a notification address the provider can reach: https, or http on loopback (the
 * sandbox). Any other CALENDOX_PUBLIC_URL turns push off (logged once) and leaves the poll.
 *
 * Threads: run functions and steps on job workers; token answers on a worker or the refresher
 * thread (no store I/O there); egress completions on the egress thread (no store I/O). Secrets
 * (access tokens, channel tokens, clientState) are never logged and are wiped after use. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "core/tokens.h"
#include "jobs/kinds.h"
#include "jobs/tokens.h"
#include "providers/google.h"
#include "providers/graph.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/push.h"

#include "base/banned.h"

#define PUSH_PENDING_STALE_S 600 /* a pending row this old belongs to a dead job */
#define PUSH_TIMEOUT_MS 20000    /* Graph's create waits for our validation answer */
#define PUSH_RENEW_BATCH 200     /* calendars (and stale rows) one renew run handles */
#define PUSH_ACCOUNT_MAX 2000    /* registrations of one account stopped at removal */
#define PUSH_BACKOFF_MAX_MS 300000

bool job_push_enabled(const struct config *cfg)
{
	const char *u = cfg ? cfg->public_url : NULL;
	if (!u)
		return false;
	if (strncmp(u, "https://", 8) == 0)
		return true;
	if (strncmp(u, "http://", 7) != 0)
		return false;
	const char *host = u + 7;
	static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]"};
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t n = strlen(loopback[i]);
		if (strncmp(host, loopback[i], n) == 0 &&
		    (host[n] == '\0' || host[n] == ':' || host[n] == '/'))
			return true;
	}
	return false;
}

/* Logs once per process that push is off, so the poll is the only way changes arrive. */
static void push_off_note(const struct config *cfg)
{
	static atomic_bool noted; /* the one global here: set once, never reset */
	if (!atomic_exchange(&noted, true))
		log_warn(
		    "push notifications off: CALENDOX_PUBLIC_URL is neither https nor loopback",
		    "public_url=%s", cfg->public_url ? cfg->public_url : "-");
}

static int64_t backoff_ms(int attempts)
{
	int64_t ms = 1000;
	for (int i = 1; i < attempts && ms < PUSH_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > PUSH_BACKOFF_MAX_MS)
		ms = PUSH_BACKOFF_MAX_MS;
	return ms + (int64_t)sec_random_uniform((uint32_t)(ms / 4 + 1));
}

/* Sets the run's outcome for a classified provider failure: retry rate limits (with Retry-After)
 * and transient failures, give up on the rest. */
static enum job_outcome failure_outcome(struct job_run *run, const struct cal_error *ce)
{
	if (ce->rate_limited && ce->retry_after_s > 0) {
		run->retry_after_ms = ce->retry_after_s * 1000;
		return JOB_OUTCOME_RETRY;
	}
	if (ce->rate_limited || ce->retryable || ce->auth_invalid) {
		run->retry_after_ms = backoff_ms(run->job->attempts);
		return JOB_OUTCOME_RETRY;
	}
	return JOB_OUTCOME_FAIL;
}

static void wipe_free(char *s)
{
	if (s) {
		sec_wipe(s, strlen(s));
		free(s);
	}
}

/* --- calendar.unwatch --- */

struct unwatch {
	struct job_run *run;
	bool google;
	char *channel_id;
	char *resource_id;
};

static void unwatch_free(struct unwatch *u)
{
	free(u->channel_id);
	free(u->resource_id);
	free(u);
}

/* On the egress thread: no store work is left, so the run ends here. */
static void stopped(struct egress_response *resp, void *arg)
{
	struct unwatch *u = arg;
	struct job_run *run = u->run;
	struct cal_error ce;
	bool gone = false;
	memset(&ce, 0, sizeof(ce));
	int64_t now = time_wall_s();
	enum cx_err e = u->google ? google_delete_result(resp, now, &gone, &ce)
	                          : graph_delete_result(resp, now, &gone, &ce);
	egress_response_free(resp);
	enum job_outcome outcome = JOB_OUTCOME_DONE;
	if (e) {
		snprintf(run->error, sizeof(run->error), "stopping the %s failed: status %ld %s",
		         u->google ? "channel" : "subscription", ce.http_status,
		         ce.reason[0] ? ce.reason : cx_strerror(e));
		outcome = failure_outcome(run, &ce);
	} else {
		log_info("push registration stopped", "job=%lld provider=%s already_gone=%d",
		         (long long)run->job->id, u->google ? "google" : "microsoft", gone);
	}
	unwatch_free(u);
	job_run_finish(run, outcome);
}

static void unwatch_submit(struct unwatch *u, const char *access)
{
	struct job_run *run = u->run;
	const struct job_env *env = run->app;
	struct egress_request *r = NULL;
	enum cx_err e = u->google ? google_channel_stop_request(env->cfg->google.api_url, access,
	                                                        u->channel_id, u->resource_id, &r)
	                          : graph_subscription_delete_request(env->cfg->microsoft.api_url,
	                                                              access, u->channel_id, &r);
	if (e) {
		snprintf(run->error, sizeof(run->error), "building the stop request failed: %s",
		         cx_strerror(e));
		unwatch_free(u);
		job_run_finish(run, JOB_OUTCOME_FAIL);
		return;
	}
	r->done = stopped;
	r->arg = u;
	r->timeout_ms = job_call_timeout_ms(env, PUSH_TIMEOUT_MS);
	egress_submit(env->egress, r);
}

static void unwatch_with_token(enum cx_err err, const char *access, int64_t version, void *arg)
{
	struct unwatch *u = arg;
	struct job_run *run = u->run;
	(void)version;
	if (err) {
		/* Without a token nothing can be stopped: the registration expires by itself. */
		snprintf(run->error, sizeof(run->error), "no usable access token: %s",
		         cx_strerror(err));
		unwatch_free(u);
		job_run_finish(run, err == CX_EBUSY || err == CX_EUPSTREAM || err == CX_EDB
		                        ? JOB_OUTCOME_RETRY
		                        : JOB_OUTCOME_FAIL);
		return;
	}
	unwatch_submit(u, access);
}

enum job_outcome job_calendar_unwatch(struct job_run *run)
{
	const struct job_env *env = run->app;
	json_t *payload = json_loads(run->job->payload, 0, NULL);
	const char *provider = payload ? json_get_str(payload, "provider") : NULL;
	const char *channel_id = payload ? json_get_str(payload, "channel_id") : NULL;
	const char *resource_id = payload ? json_get_str(payload, "resource_id") : NULL;
	const char *sealed = payload ? json_get_str(payload, "token") : NULL;
	long long account_id = payload ? json_get_int(payload, "account_id", 0) : 0;
	long long user_id = payload ? json_get_int(payload, "user_id", 0) : 0;
	enum job_outcome outcome = JOB_OUTCOME_FAIL;
	if (!provider || !channel_id || !*channel_id || account_id <= 0 || user_id <= 0 ||
	    (strcmp(provider, "google") != 0 && strcmp(provider, "microsoft") != 0)) {
		snprintf(run->error, sizeof(run->error), "the unwatch job names no registration");
		goto out;
	}
	bool google = strcmp(provider, "google") == 0;
	if (google && (!resource_id || !*resource_id)) {
		outcome = JOB_OUTCOME_DONE; /* never answered: nothing Google knows to stop */
		goto out;
	}
	struct unwatch *u = xcalloc(1, sizeof(*u));
	u->run = run;
	u->google = google;
	u->channel_id = xstrdup(channel_id);
	u->resource_id = resource_id ? xstrdup(resource_id) : NULL;
	if (sealed) {
		char *access = NULL;
		if (tokens_open(env->cfg->secret_key, run->job->kind, user_id, sealed, &access,
		                NULL) != CX_OK) {
			snprintf(run->error, sizeof(run->error),
			         "the unwatch job's token does not open");
			unwatch_free(u);
			goto out;
		}
		unwatch_submit(u, access);
		wipe_free(access);
	} else {
		token_get(env->tokens, TOKEN_CALENDAR, account_id, user_id, false, 0,
		          unwatch_with_token, u);
	}
	outcome = JOB_OUTCOME_PENDING;
out:
	json_decref(payload);
	return outcome;
}

/* Queues the stop of one registration and deletes its row. access_sealed (may be NULL) is the
 * account's access token sealed for the job. */
static enum cx_err unwatch_enqueue(struct store_conn *c, const struct store_push *p,
                                   const char *access_sealed)
{
	enum cx_err e = CX_OK;
	if (strcmp(p->state, PUSH_ACTIVE) == 0) {
		json_t *payload = json_pack(
		    "{s:s, s:I, s:I, s:s, s:s?, s:s?}", "provider", p->provider, "account_id",
		    (json_int_t)p->account_id, "user_id", (json_int_t)p->user_id, "channel_id",
		    p->channel_id, "resource_id", p->resource_id, "token", access_sealed);
		char *text = json_dumps(payload, JSON_COMPACT);
		json_decref(payload);
		char *key = xasprintf("calendar.unwatch:%s:%s", p->provider, p->channel_id);
		e = job_enqueue(c, "calendar.unwatch", text, key, 0, NULL, NULL);
		free(key);
		free(text);
	}
	if (!e)
		e = store_push_delete(c, p->id);
	return e;
}

enum cx_err job_calendar_unwatch_calendar(struct store_conn *c, int64_t calendar_id, size_t *n)
{
	struct store_push *list = NULL;
	size_t count = 0, queued = 0;
	enum cx_err e = store_push_list_calendar(c, calendar_id, &list, &count);
	for (size_t i = 0; !e && i < count; i++) {
		e = unwatch_enqueue(c, &list[i], NULL);
		queued += strcmp(list[i].state, PUSH_ACTIVE) == 0;
	}
	store_pushes_free(list, count);
	if (n)
		*n = e ? 0 : queued;
	return e;
}

/* The account's access token (from its sealed tokens, kind "calendar_account") sealed for a
 * calendar.unwatch job of user_id; NULL when there is none that opens. Caller frees. */
static char *reseal_access(const struct config *cfg, int64_t account_id, int64_t user_id,
                           const char *sealed_tokens)
{
	char *access = NULL, *resealed = NULL;
	if (sealed_tokens &&
	    tokens_open(cfg->secret_key, "calendar_account", account_id, sealed_tokens, &access,
	                NULL) == CX_OK &&
	    tokens_seal(cfg->secret_key, "calendar.unwatch", user_id, access, NULL, &resealed) !=
	        CX_OK)
		resealed = NULL;
	wipe_free(access);
	return resealed;
}

enum cx_err job_calendar_unwatch_account(struct store_conn *c, const struct config *cfg,
                                         int64_t account_id, int64_t user_id,
                                         const char *sealed_tokens, size_t *n)
{
	struct store_push *list = NULL;
	size_t count = 0, queued = 0;
	char *resealed = NULL;
	enum cx_err e = store_push_list_account(c, account_id, PUSH_ACCOUNT_MAX, &list, &count);
	if (!e && count > 0)
		resealed = reseal_access(cfg, account_id, user_id, sealed_tokens);
	for (size_t i = 0; !e && i < count; i++) {
		e = unwatch_enqueue(c, &list[i], resealed);
		queued += strcmp(list[i].state, PUSH_ACTIVE) == 0;
	}
	free(resealed);
	store_pushes_free(list, count);
	if (n)
		*n = e ? 0 : queued;
	return e;
}

/* --- calendar.watch --- */

struct watch {
	struct job_run *run;
	bool google;
	bool renew;     /* Graph: PATCH the subscription of row_id */
	int64_t row_id; /* the pending row (create) or the renewed row */
	int64_t calendar_id;
	int64_t account_id;
	int64_t user_id;
	char *calendar_external_id;
	char *channel_id;      /* Google: the new channel's id; Graph renew: the subscription id */
	char secret[64];       /* create: the channel token / clientState (wiped) */
	int64_t token_version; /* of the access token the request carried */
	bool forced;           /* a 401 was already answered with a forced refresh */
	/* the answer, filled on the egress thread */
	enum cx_err result;
	bool answered; /* false: no request went out (no token) */
	struct cal_error ce;
	struct google_channel channel;
	struct graph_subscription sub;
};

static void watch_free(struct watch *w)
{
	free(w->calendar_external_id);
	free(w->channel_id);
	sec_wipe(w->secret, sizeof(w->secret));
	google_channel_release(&w->channel);
	graph_subscription_release(&w->sub);
	free(w);
}

static enum job_outcome recorded(struct job_run *run, struct store_conn *c, void *arg);
static void watch_with_token(enum cx_err err, const char *access, int64_t version, void *arg);

/* On the egress thread: parse, then record on a worker. */
static void watch_answered(struct egress_response *resp, void *arg)
{
	struct watch *w = arg;
	int64_t now = time_wall_s();
	w->answered = true;
	memset(&w->ce, 0, sizeof(w->ce));
	if (w->google)
		w->result = google_parse_channel(resp, now, &w->channel, &w->ce);
	else
		w->result = graph_parse_subscription(resp, now, &w->sub, &w->ce);
	egress_response_free(resp);
	job_run_continue(w->run, recorded, w);
}

static void watch_submit(struct watch *w, const char *access)
{
	struct job_run *run = w->run;
	const struct job_env *env = run->app;
	const struct config *cfg = env->cfg;
	struct egress_request *r = NULL;
	int64_t now = time_wall_s();
	char *address =
	    xasprintf("%s/webhooks/%s", cfg->public_url, w->google ? "google" : "microsoft");
	enum cx_err e;
	if (w->google)
		e = google_events_watch_request(cfg->google.api_url, access,
		                                w->calendar_external_id, w->channel_id, address,
		                                w->secret, 0, &r);
	else if (w->renew)
		e = graph_subscription_renew_request(cfg->microsoft.api_url, access, w->channel_id,
		                                     now + GRAPH_SUBSCRIPTION_MAX_MINUTES * 60, now,
		                                     &r);
	else
		e = graph_subscription_create_request(
		    cfg->microsoft.api_url, access, address, address, w->secret,
		    now + GRAPH_SUBSCRIPTION_MAX_MINUTES * 60, now, &r);
	free(address);
	if (e) {
		w->answered = false;
		w->result = e;
		job_run_continue(run, recorded, w);
		return;
	}
	r->done = watch_answered;
	r->arg = w;
	r->timeout_ms = job_call_timeout_ms(env, PUSH_TIMEOUT_MS);
	egress_submit(env->egress, r);
}

static void watch_with_token(enum cx_err err, const char *access, int64_t version, void *arg)
{
	struct watch *w = arg;
	if (err) {
		w->answered = false;
		w->result = err;
		job_run_continue(w->run, recorded, w);
		return;
	}
	w->token_version = version;
	watch_submit(w, access);
}

/* On a worker: stores the provider's answer. A new Google channel replaces the calendar's older
 * registrations, which are stopped. */
static enum job_outcome recorded(struct job_run *run, struct store_conn *c, void *arg)
{
	struct watch *w = arg;
	const struct job_env *env = run->app;
	enum job_outcome outcome = JOB_OUTCOME_DONE;
	size_t stopped_n = 0;
	if (!c) {
		watch_free(w);
		return JOB_OUTCOME_RETRY;
	}
	if (w->answered && w->result != CX_OK && w->ce.auth_invalid && !w->forced) {
		/* The token was refused: once more, with a refresh of exactly that version. */
		w->forced = true;
		token_get(env->tokens, TOKEN_CALENDAR, w->account_id, w->user_id, true,
		          w->token_version, watch_with_token, w);
		return JOB_OUTCOME_PENDING;
	}
	enum cx_err e = store_begin(c);
	if (e)
		goto failed_store;
	if (w->result != CX_OK) {
		if (!w->answered) {
			snprintf(run->error, sizeof(run->error), "no request made: %s",
			         cx_strerror(w->result));
			outcome = w->result == CX_EBUSY || w->result == CX_EUPSTREAM ||
			                  w->result == CX_EDB
			              ? JOB_OUTCOME_RETRY
			              : JOB_OUTCOME_FAIL;
			if (outcome == JOB_OUTCOME_RETRY)
				run->retry_after_ms = backoff_ms(run->job->attempts);
		} else {
			snprintf(run->error, sizeof(run->error), "%s failed: status %ld %s %s",
			         w->google ? "events.watch"
			                   : (w->renew ? "renewing the subscription"
			                               : "creating the subscription"),
			         w->ce.http_status, w->ce.reason[0] ? w->ce.reason : "",
			         w->ce.message);
			outcome = failure_outcome(run, &w->ce);
		}
		if (w->renew && w->ce.not_found) {
			/* Graph dropped it (expired or removed): create a new one at once. */
			e = store_push_delete(c, w->row_id);
			outcome = JOB_OUTCOME_RETRY;
			run->retry_after_ms = 1;
		} else if (!w->renew) {
			e = store_push_delete(c, w->row_id);
		}
	} else if (w->renew) {
		int64_t expires =
		    w->sub.expiration_s > 0 ? w->sub.expiration_s : time_wall_s() + 3 * 86400;
		/* Removed meanwhile: whoever removed it queued its stop. */
		e = store_push_set_expiry(c, w->row_id, expires);
		if (e == CX_ENOTFOUND)
			e = CX_OK;
	} else {
		const char *id = w->google ? w->channel.id : w->sub.id;
		int64_t expires = w->google ? w->channel.expiration_ms / 1000 : w->sub.expiration_s;
		if (expires <= 0)
			expires = time_wall_s() + (w->google ? 7 * 86400 : 3 * 86400);
		e = store_push_activate(c, w->row_id, id && *id ? id : w->channel_id,
		                        w->google ? w->channel.resource_id : NULL, expires);
		if (e == CX_ENOTFOUND) {
			/* The calendar went or was hidden while we asked: stop what we made. */
			struct store_push gone = {
			    .account_id = w->account_id,
			    .user_id = w->user_id,
			    .channel_id = (char *)(id && *id ? id : w->channel_id),
			    .resource_id = w->google ? w->channel.resource_id : NULL,
			};
			snprintf(gone.provider, sizeof(gone.provider), "%s",
			         w->google ? "google" : "microsoft");
			snprintf(gone.state, sizeof(gone.state), "%s", PUSH_ACTIVE);
			e = unwatch_enqueue(c, &gone, NULL);
		} else if (!e) {
			struct store_push *list = NULL;
			size_t n = 0;
			e = store_push_list_calendar(c, w->calendar_id, &list, &n);
			for (size_t i = 0; !e && i < n; i++) {
				if (list[i].id == w->row_id ||
				    strcmp(list[i].state, PUSH_ACTIVE) != 0)
					continue;
				e = unwatch_enqueue(c, &list[i], NULL);
				stopped_n++;
			}
			store_pushes_free(list, n);
		}
	}
	if (e)
		goto failed_store;
	e = store_commit(c);
	if (e)
		goto failed_store;
	if (w->result == CX_OK) {
		log_info("push registration stored",
		         "job=%lld calendar=%lld provider=%s mode=%s replaced=%zu",
		         (long long)run->job->id, (long long)w->calendar_id,
		         w->google ? "google" : "microsoft", w->renew ? "renew" : "create",
		         stopped_n);
		if (stopped_n > 0)
			job_runner_kick(run->runner);
	}
	watch_free(w);
	return outcome;
failed_store:
	store_rollback(c);
	snprintf(run->error, sizeof(run->error), "recording the push registration failed: %s",
	         cx_strerror(e));
	run->retry_after_ms = backoff_ms(run->job->attempts);
	watch_free(w);
	return JOB_OUTCOME_RETRY;
}

/* Decides in one transaction what the calendar needs; fills w and writes the pending row for a
 * create. *nothing says that nothing is to be done. */
static enum cx_err plan_watch(struct store_conn *c, struct watch *w, bool force, int64_t job_id,
                              bool *nothing)
{
	struct store_push *list = NULL;
	size_t n = 0;
	int64_t now = time_wall_s();
	*nothing = false;
	enum cx_err e = store_begin(c);
	if (e)
		return e;
	e = store_push_list_calendar(c, w->calendar_id, &list, &n);
	int64_t max_slot = 0;
	const struct store_push *renewable = NULL;
	for (size_t i = 0; !e && i < n; i++) {
		const struct store_push *p = &list[i];
		if (p->slot > max_slot)
			max_slot = p->slot;
		if (strcmp(p->state, PUSH_PENDING) == 0) {
			if (p->job_id == job_id || p->created_at <= now - PUSH_PENDING_STALE_S)
				e = store_push_delete(c, p->id); /* an earlier attempt of ours */
			else
				*nothing = true; /* another watch job is at it */
			continue;
		}
		if (p->expires_at > now + PUSH_RENEW_MARGIN_S && !force)
			*nothing = true;
		else if (p->expires_at > now)
			renewable = p;
	}
	if (e || *nothing)
		goto out;
	if (!w->google && renewable) {
		w->renew = true;
		w->row_id = renewable->id;
		w->channel_id = xstrdup(renewable->channel_id);
		goto out;
	}
	char channel[48];
	sec_random_token(channel, sizeof(channel), 24);
	sec_random_token(w->secret, sizeof(w->secret), 32);
	char hash[65];
	sec_sha256_hex(w->secret, strlen(w->secret), hash);
	struct store_push row = {
	    .calendar_id = w->calendar_id,
	    .account_id = w->account_id,
	    .user_id = w->user_id,
	    .slot = max_slot + 1,
	    .channel_id = channel,
	    .job_id = job_id,
	    .created_at = now,
	};
	snprintf(row.provider, sizeof(row.provider), "%s", w->google ? "google" : "microsoft");
	snprintf(row.secret_hash, sizeof(row.secret_hash), "%s", hash);
	e = store_push_insert(c, &row, &w->row_id);
	if (e == CX_ECONFLICT) {
		*nothing = true; /* another watch job took the slot */
		e = CX_OK;
	}
	w->channel_id = xstrdup(channel);
out:
	store_pushes_free(list, n);
	if (!e)
		e = store_commit(c);
	if (e)
		store_rollback(c);
	return e;
}

enum job_outcome job_calendar_watch(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct store_conn *c = store_conn(env->store);
	struct store_sync_target t;
	json_t *payload = json_loads(run->job->payload, 0, NULL);
	int64_t calendar_id = payload ? (int64_t)json_get_int(payload, "calendar_id", 0) : 0;
	bool force = payload ? json_get_bool(payload, "force", false) : false;
	json_decref(payload);
	if (calendar_id <= 0) {
		snprintf(run->error, sizeof(run->error), "the watch job names no calendar");
		return JOB_OUTCOME_FAIL;
	}
	if (!job_push_enabled(env->cfg)) {
		push_off_note(env->cfg);
		return JOB_OUTCOME_DONE;
	}
	enum cx_err e = store_sync_target_get(c, calendar_id, &t);
	if (e == CX_ENOTFOUND)
		return JOB_OUTCOME_DONE;
	if (e) {
		snprintf(run->error, sizeof(run->error), "reading the calendar failed: %s",
		         cx_strerror(e));
		return JOB_OUTCOME_RETRY;
	}
	if (strcmp(t.account_status, CALENDAR_ACCOUNT_ACTIVE) != 0 || !t.selected) {
		store_sync_target_release(&t);
		return JOB_OUTCOME_DONE;
	}
	struct watch *w = xcalloc(1, sizeof(*w));
	w->run = run;
	w->google = strcmp(t.provider, "google") == 0;
	w->calendar_id = calendar_id;
	w->account_id = t.account_id;
	w->user_id = t.user_id;
	w->calendar_external_id = xstrdup(t.calendar_external_id);
	store_sync_target_release(&t);
	bool nothing = false;
	e = plan_watch(c, w, force, run->job->id, &nothing);
	if (e || nothing) {
		watch_free(w);
		if (e) {
			snprintf(run->error, sizeof(run->error), "planning the watch failed: %s",
			         cx_strerror(e));
			return JOB_OUTCOME_RETRY;
		}
		return JOB_OUTCOME_DONE;
	}
	token_get(env->tokens, TOKEN_CALENDAR, w->account_id, w->user_id, false, 0,
	          watch_with_token, w);
	return JOB_OUTCOME_PENDING;
}

enum cx_err job_calendar_watch_enqueue(struct store_conn *c, int64_t calendar_id, bool force,
                                       const char *idempotency_key)
{
	char payload[96];
	snprintf(payload, sizeof(payload), "{\"calendar_id\":%lld%s}", (long long)calendar_id,
	         force ? ",\"force\":true" : "");
	return job_enqueue(c, "calendar.watch", payload, idempotency_key, 0, NULL, NULL);
}

enum cx_err job_calendar_watch_enqueue_account(struct store_conn *c, int64_t account_id, size_t *n)
{
	struct store_sync_due *due = NULL;
	size_t count = 0;
	enum cx_err e =
	    store_calendars_sync_due(c, account_id, 0, CALENDARS_PER_ACCOUNT_MAX, &due, &count);
	for (size_t i = 0; !e && i < count; i++)
		e = job_calendar_watch_enqueue(c, due[i].calendar_id, false, NULL);
	free(due);
	if (n)
		*n = e ? 0 : count;
	return e;
}

/* --- calendar.watch_renew --- */

/* Queues the stop of a registration whose calendar is hidden or whose account is not active. The
 * refresher hands out no token for a suspended account, so the stop carries the one it has. */
static enum cx_err stop_stale(struct store_conn *c, const struct config *cfg,
                              const struct store_push *p)
{
	struct store_sync_target t;
	char *resealed = NULL;
	enum cx_err e = store_sync_target_get(c, p->calendar_id, &t);
	if (e == CX_ENOTFOUND)
		return store_push_delete(c, p->id);
	if (e)
		return e;
	if (strcmp(t.account_status, CALENDAR_ACCOUNT_ACTIVE) != 0)
		resealed = reseal_access(cfg, t.account_id, t.user_id, t.tokens);
	e = unwatch_enqueue(c, p, resealed);
	free(resealed);
	store_sync_target_release(&t);
	return e;
}

enum job_outcome job_calendar_watch_renew(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct store_conn *c = store_conn(env->store);
	struct store_push *stale = NULL;
	int64_t *due = NULL;
	size_t n_stale = 0, n_due = 0;
	int64_t now = time_wall_s();
	int64_t minute = now / 60;
	bool push = job_push_enabled(env->cfg);
	if (!push)
		push_off_note(env->cfg);
	enum cx_err e = store_begin(c);
	if (e)
		goto out;
	e = store_push_delete_pending(c, now - PUSH_PENDING_STALE_S, NULL);
	if (!e)
		e = store_push_stale(c, PUSH_RENEW_BATCH, &stale, &n_stale);
	for (size_t i = 0; !e && i < n_stale; i++)
		e = stop_stale(c, env->cfg, &stale[i]);
	if (!e && push)
		e = store_push_calendars_due(c, now + PUSH_RENEW_MARGIN_S,
		                             now - PUSH_PENDING_STALE_S, PUSH_RENEW_BATCH, &due,
		                             &n_due);
	for (size_t i = 0; !e && i < n_due; i++) {
		/* One per calendar and minute, so a watch that keeps failing does not pile up. */
		char key[96];
		snprintf(key, sizeof(key), "calendar.watch:%lld:%lld", (long long)due[i],
		         (long long)minute);
		e = job_calendar_watch_enqueue(c, due[i], false, key);
	}
	if (!e)
		e = store_commit(c);
out:
	store_pushes_free(stale, n_stale);
	free(due);
	if (e) {
		store_rollback(c);
		snprintf(run->error, sizeof(run->error), "checking push registrations failed: %s",
		         cx_strerror(e));
		return JOB_OUTCOME_RETRY;
	}
	if (n_stale + n_due > 0) {
		log_info("push registrations checked", "watch=%zu stop=%zu", n_due, n_stale);
		job_runner_kick(run->runner);
	}
	return JOB_OUTCOME_DONE;
}
