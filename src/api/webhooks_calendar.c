/* webhooks_calendar.c: POST /webhooks/google and POST /webhooks/microsoft, the push notifications
 * of calendar sync (DESIGN §4 "Delete", §5; GOOGLE.md §8, MICROSOFT.md §8). Registrations are
 * made by jobs/push.c.
 *
 * Google signs nothing: a message counts only when its X-Goog-Channel-ID names a stored channel,
 * its X-Goog-Resource-ID matches the channel's and the SHA-256 of its X-Goog-Channel-Token equals
 * the stored hash (constant-time compare). Unknown channels and bad tokens get the same 404, so the
 * answer does not tell which ids exist. "sync" (the first message) is acknowledged; "exists" and
 * "not_exists" enqueue the calendar's sync round (folded into a round already queued).
 *
 * Graph: a request with ?validationToken= is the validation handshake, answered 200 text/plain
 * with the decoded token and nothing else. Otherwise the body is a notification collection; each
 * entry counts only when its subscription is stored and its clientState matches (mismatches are
 * logged by subscription id, never with the secret, and skipped); it enqueues the calendar's sync,
 * or for lifecycle events a renewal (reauthorizationRequired), a new subscription
 * (subscriptionRemoved) or a sync (missed). The answer is 202 at once: the work is queued in one
 * short transaction; a store failure is a 5xx so Graph sends again.
 *
 * Neither needs a session or a CSRF token (they are not under /api/). Bodies are bounded. A
 * registration found to expire within the renewal margin also gets a watch, so renewals happen
 * as soon as there is traffic. Handlers run on HTTP pool threads with their store connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/kinds.h"
#include "providers/graph.h"
#include "store/calendars.h"
#include "store/events.h"
#include "store/push.h"

#include "base/banned.h"

#define WEBHOOK_BODY_MAX (256 * 1024)
#define WEBHOOK_CALENDARS_MAX 64 /* distinct calendars one Graph delivery syncs */

/* Whether secret (as it arrived) hashes to the stored hash; constant time. */
static bool secret_matches(const struct store_push *p, const char *secret)
{
	char hash[65];
	if (!secret || !*secret)
		return false;
	sec_sha256_hex(secret, strlen(secret), hash);
	return sec_str_equal(hash, p->secret_hash);
}

/* Queues the calendar's sync round when it is still selected on an active account; a
 * registration close to its end also gets a watch (renewal). *queued tells whether a job was
 * written. On the caller's transaction. */
static enum cx_err enqueue_for(struct store_conn *c, const struct store_push *p, bool sync,
                               bool force_watch, bool *queued)
{
	struct store_sync_target t;
	enum cx_err e = store_sync_target_get(c, p->calendar_id, &t);
	if (e == CX_ENOTFOUND)
		return CX_OK;
	if (e)
		return e;
	if (strcmp(t.account_status, CALENDAR_ACCOUNT_ACTIVE) == 0 && t.selected) {
		if (sync) {
			e = job_calendar_sync_enqueue(c, p->calendar_id, t.generation, NULL);
			*queued = *queued || !e;
		}
		bool expiring = strcmp(p->state, PUSH_ACTIVE) == 0 &&
		                p->expires_at <= time_wall_s() + PUSH_RENEW_MARGIN_S;
		if (!e && (force_watch || expiring)) {
			char key[96];
			/* At most one of each kind per calendar and minute, however many
			 * notifications arrive. */
			snprintf(key, sizeof(key), "calendar.watch:%lld:%s:%lld",
			         (long long)p->calendar_id, force_watch ? "force" : "renew",
			         (long long)(time_wall_s() / 60));
			e = job_calendar_watch_enqueue(c, p->calendar_id, force_watch, key);
			*queued = *queued || !e;
		}
	}
	store_sync_target_release(&t);
	return e;
}

static bool body_too_big(struct http_request *req)
{
	if (req->body_len <= WEBHOOK_BODY_MAX)
		return false;
	http_reply_error(req, 413, "too_large", "The notification is too large.", NULL);
	return true;
}

void api_webhook_google(struct http_request *req)
{
	struct app *app = req->app;
	struct store_push p;
	bool queued = false;
	memset(&p, 0, sizeof(p));
	if (body_too_big(req))
		return;
	const char *channel = http_header(req, "X-Goog-Channel-ID");
	const char *token = http_header(req, "X-Goog-Channel-Token");
	const char *state = http_header(req, "X-Goog-Resource-State");
	const char *resource = http_header(req, "X-Goog-Resource-ID");
	if (!channel || !*channel || !state || !*state || strlen(channel) > 64) {
		http_reply_error(req, 400, "invalid_request",
		                 "The notification lacks its channel headers.", NULL);
		return;
	}
	struct store_conn *c = store_conn(app->store);
	enum cx_err e = store_push_find(c, "google", channel, &p);
	if (e && e != CX_ENOTFOUND) {
		api_reply_failure(req, e, "reading a push channel");
		return;
	}
	bool known = e == CX_OK && secret_matches(&p, token) &&
	             (!p.resource_id || (resource && strcmp(resource, p.resource_id) == 0));
	if (!known) {
		log_warn("google notification refused", "reason=unknown_channel_or_token");
		http_reply_error(req, 404, "not_found", "There is no such channel.", NULL);
		goto out;
	}
	bool change = strcmp(state, "exists") == 0 || strcmp(state, "not_exists") == 0;
	if (change) {
		e = store_begin(c);
		if (!e)
			e = enqueue_for(c, &p, true, false, &queued);
		if (!e)
			e = store_commit(c);
		if (e) {
			store_rollback(c);
			/* Google retries a failed message, so nothing is lost. */
			api_reply_failure(req, e, "queueing a calendar sync");
			goto out;
		}
		if (queued && app->jobs)
			job_runner_kick(app->jobs);
		log_info("google notification", "calendar=%lld state=%s", (long long)p.calendar_id,
		         state);
	}
	http_reply_empty(req, 200);
out:
	store_push_release(&p);
}

/* Handles one Graph notification inside the caller's transaction; synced[] keeps the calendars
 * already queued by this delivery. */
static enum cx_err graph_one(struct store_conn *c, const struct graph_notification *gn,
                             int64_t *synced, size_t *n_synced, bool *queued)
{
	struct store_push p;
	enum cx_err e = store_push_find(c, "microsoft", gn->subscription_id, &p);
	if (e == CX_ENOTFOUND) {
		log_warn("graph notification ignored", "reason=unknown_subscription");
		return CX_OK;
	}
	if (e)
		return e;
	if (!secret_matches(&p, gn->client_state)) {
		log_warn("graph notification ignored",
		         "reason=client_state_mismatch subscription=%.64s", gn->subscription_id);
		goto out;
	}
	bool sync = true, force_watch = false;
	switch (gn->lifecycle) {
	case GRAPH_LIFECYCLE_REAUTHORIZATION_REQUIRED:
		sync = false;
		force_watch = true;
		break;
	case GRAPH_LIFECYCLE_SUBSCRIPTION_REMOVED:
		/* Gone at Graph: forget it and make a new one, then catch up. */
		e = store_push_delete(c, p.id);
		snprintf(p.state, sizeof(p.state), "%s", PUSH_PENDING);
		force_watch = true;
		break;
	default: /* a change, "missed", or a lifecycle event this version does not know: sync */
		break;
	}
	for (size_t i = 0; sync && i < *n_synced; i++)
		if (synced[i] == p.calendar_id)
			sync = false;
	if (sync && *n_synced >= WEBHOOK_CALENDARS_MAX)
		sync = false;
	if (!e && (sync || force_watch))
		e = enqueue_for(c, &p, sync, force_watch, queued);
	if (!e && sync)
		synced[(*n_synced)++] = p.calendar_id;
out:
	store_push_release(&p);
	return e;
}

void api_webhook_microsoft(struct http_request *req)
{
	struct app *app = req->app;
	struct graph_notifications list;
	int64_t synced[WEBHOOK_CALENDARS_MAX];
	size_t n_synced = 0;
	bool queued = false;
	memset(&list, 0, sizeof(list));
	if (body_too_big(req))
		return;
	const char *token = http_query(req, "validationToken");
	if (token || strstr(http_query_string(req), "validationToken=")) {
		if (!graph_is_validation_request(req->method, token)) {
			http_reply_error(req, 400, "invalid_request",
			                 "The validation token is not usable.", NULL);
			return;
		}
		http_reply(req, 200, "text/plain; charset=utf-8", token, strlen(token));
		return;
	}
	if (graph_parse_notifications(req->body ? req->body : "", req->body_len, &list) != CX_OK) {
		http_reply_error(req, 400, "invalid_request",
		                 "The body is not a change notification collection.", NULL);
		return;
	}
	struct store_conn *c = store_conn(app->store);
	enum cx_err e = store_begin(c);
	for (size_t i = 0; !e && i < list.n; i++)
		e = graph_one(c, &list.items[i], synced, &n_synced, &queued);
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		api_reply_failure(req, e, "queueing calendar syncs");
		goto out;
	}
	if (queued && app->jobs)
		job_runner_kick(app->jobs);
	if (n_synced > 0)
		log_info("graph notification", "notifications=%zu calendars=%zu", list.n, n_synced);
	http_reply_empty(req, 202);
out:
	graph_notifications_release(&list);
}
