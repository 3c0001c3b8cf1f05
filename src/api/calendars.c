/* calendars.c: a person's calendar accounts and calendars (DESIGN §4 "Connect", "Plans"; §5):
 * GET /api/calendars, PATCH /api/calendars/{id} (which calendars show in the Unified Calendar) and
 * DELETE /api/calendar-accounts/{id}, which removes the account and its calendars from Calendox,
 * never from the provider. Google's grant is revoked by a durable job (the person's choice must not
 * wait for Google); Microsoft has no revoke endpoint. Connecting is in oauth.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "core/tokens.h"
#include "jobs/kinds.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/events.h"

#include "base/banned.h"

/* The {id} of the route as a row id; false for anything that is not a positive decimal. */
static bool route_id(struct http_request *req, int64_t *id)
{
	const char *s = http_param(req, "id");
	if (!s || !*s || strlen(s) > 19 || s[0] < '1' || s[0] > '9')
		return false;
	for (const char *q = s; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno)
		return false;
	*id = v;
	return true;
}

bool api_calendars_allowed(struct app *app, int64_t user_id, int64_t now)
{
	enum plan current = PLAN_FREE;
	/* A store error counts as Free: never show or allow calendars the plan may not cover. */
	if (api_plan_now(store_conn(app->store), user_id, now, &current) != CX_OK)
		current = PLAN_FREE;
	return plan_can_connect_calendars(current);
}

static json_t *id_json(int64_t id)
{
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)id);
	return json_string(text);
}

static json_t *calendar_json(const struct store_calendar *cal)
{
	return json_pack("{s:o, s:s, s:b, s:b, s:s?, s:b}", "id", id_json(cal->id), "name",
			 cal->name ? cal->name : "", "primary", cal->primary, "writable",
			 cal->writable, "color", cal->color, "selected", cal->selected);
}

void api_calendars_list(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	struct store_calendar_account *accounts = NULL;
	struct store_calendar *cals = NULL;
	size_t n_accounts = 0, n_cals = 0;
	if (!api_authenticate(req, false, &auth))
		return;
	struct store_conn *c = store_conn(app->store);
	enum cx_err e = store_calendar_accounts_list(c, auth.id, &accounts, &n_accounts);
	if (!e)
		e = store_calendars_list(c, auth.id, &cals, &n_cals);
	if (e) {
		api_reply_failure(req, e, "reading calendar accounts");
		goto out;
	}
	/* A trial that ended is Free at once, before the periodic job suspends the accounts in the
	 * store: show them suspended already. */
	bool plan_suspends = !api_calendars_allowed(app, auth.id, time_wall_s());
	json_t *list = json_array();
	for (size_t i = 0; i < n_accounts; i++) {
		const struct store_calendar_account *a = &accounts[i];
		bool active = strcmp(a->status, CALENDAR_ACCOUNT_ACTIVE) == 0;
		const char *status =
			plan_suspends && active ? CALENDAR_ACCOUNT_SUSPENDED : a->status;
		json_t *items = json_array();
		for (size_t j = 0; j < n_cals; j++)
			if (cals[j].account_id == a->id)
				json_array_append_new(items, calendar_json(&cals[j]));
		json_array_append_new(list, json_pack("{s:o, s:s, s:s?, s:s, s:o}", "id",
						      id_json(a->id), "provider", a->provider,
						      "email", a->external_email, "status",
						      status, "calendars", items));
	}
	http_reply_json(req, 200, json_pack("{s:o}", "accounts", list));
out:
	store_calendar_accounts_free(accounts, n_accounts);
	store_calendars_free(cals, n_cals);
}

/* Queues a sync round for the calendar when its account is active (folded into a round already
 * queued or running, which is then followed by one more: see jobs/sync.c). */
static enum cx_err enqueue_sync(struct store_conn *c, int64_t calendar_id, bool *queued)
{
	struct store_sync_target t;
	enum cx_err e = store_sync_target_get(c, calendar_id, &t);
	if (e)
		return e;
	if (strcmp(t.account_status, CALENDAR_ACCOUNT_ACTIVE) == 0) {
		e = job_calendar_sync_enqueue(c, calendar_id, t.generation, NULL);
		*queued = !e;
	}
	store_sync_target_release(&t);
	return e;
}

void api_calendar_patch(struct http_request *req)
{
	static const struct json_field fields[] = {
		{"selected", JK_BOOL, true, 0},
		{NULL, 0, false, 0},
	};
	struct app *app = req->app;
	struct api_user auth;
	struct store_calendar *cals = NULL;
	size_t n_cals = 0;
	int64_t id = 0;
	if (!api_authenticate(req, true, &auth))
		return;
	if (!route_id(req, &id)) {
		http_reply_error(req, 404, "not_found", "There is no such calendar.", NULL);
		return;
	}
	json_t *body = api_body(req, fields);
	if (!body)
		return;
	struct store_conn *c = store_conn(app->store);
	bool selected = json_get_bool(body, "selected", true);
	bool queued = false;
	enum cx_err e = store_begin(c);
	if (!e)
		e = store_calendar_set_selected(c, auth.id, id, selected);
	/* A calendar shown again is synced at once rather than at the next poll. */
	if (!e && selected)
		e = enqueue_sync(c, id, &queued);
	/* Push follows the choice: a channel for a shown calendar, a stop for a hidden one. */
	if (!e && selected && queued)
		e = job_calendar_watch_enqueue(c, id, false, NULL);
	if (!e && !selected) {
		size_t stops = 0;
		e = job_calendar_unwatch_calendar(c, id, &stops);
		queued = stops > 0;
	}
	if (!e)
		e = store_commit(c);
	else
		store_rollback(c);
	if (!e && queued && app->jobs)
		job_runner_kick(app->jobs);
	if (e == CX_ENOTFOUND) {
		http_reply_error(req, 404, "not_found", "There is no such calendar.", NULL);
		goto out;
	}
	if (!e)
		e = store_calendars_list(c, auth.id, &cals, &n_cals);
	if (e) {
		api_reply_failure(req, e, "changing the calendar");
		goto out;
	}
	for (size_t i = 0; i < n_cals; i++) {
		if (cals[i].id == id) {
			http_reply_json(req, 200, calendar_json(&cals[i]));
			goto out;
		}
	}
	/* Deleted by another request between the two statements. */
	http_reply_error(req, 404, "not_found", "There is no such calendar.", NULL);
out:
	store_calendars_free(cals, n_cals);
	json_decref(body);
}

/* The token to revoke at Google, sealed for the job under "google.revoke:<user id>": the refresh
 * token when there is one (revoking it ends the whole grant), else the access token. NULL when the
 * account holds none that opens. Caller frees. */
static char *sealed_for_revoke(struct app *app, int64_t user_id,
			       const struct store_calendar_account *a)
{
	char *access = NULL, *refresh = NULL, *sealed = NULL;
	if (!a->tokens || tokens_open(app->cfg->secret_key, "calendar_account", a->id, a->tokens,
				      &access, &refresh) != CX_OK)
		return NULL;
	const char *token = refresh && *refresh ? refresh : access;
	if (tokens_seal(app->cfg->secret_key, "google.revoke", user_id, token, NULL, &sealed) !=
	    CX_OK)
		sealed = NULL;
	if (access) {
		sec_wipe(access, strlen(access));
		free(access);
	}
	if (refresh) {
		sec_wipe(refresh, strlen(refresh));
		free(refresh);
	}
	return sealed;
}

/* Removes the account, queues Google's revoke and records it, in one transaction. */
static enum cx_err remove_account(struct app *app, int64_t user_id, int64_t id,
				  bool *revoke_queued)
{
	struct store_conn *c = store_conn(app->store);
	struct store_calendar_account a;
	char *sealed = NULL;
	int64_t now = time_wall_s();
	*revoke_queued = false;
	enum cx_err e = store_begin(c);
	if (e)
		return e;
	e = store_calendar_account_get(c, user_id, id, &a);
	if (e) {
		store_rollback(c);
		return e;
	}
	if (strcmp(a.provider, "google") == 0)
		sealed = sealed_for_revoke(app, user_id, &a);
	/* Stop its push channels and subscriptions with the token it still has. */
	size_t stops = 0;
	e = job_calendar_unwatch_account(c, app->cfg, id, user_id, a.tokens, &stops);
	*revoke_queued = stops > 0;
	if (!e)
		e = store_calendar_account_delete(c, user_id, id);
	if (!e && sealed) {
		json_t *payload = json_pack("{s:I, s:s}", "user_id", (json_int_t)user_id, "token",
					    sealed);
		char *text = json_dumps(payload, JSON_COMPACT);
		json_decref(payload);
		/* After the stops, which need the grant the revoke ends. */
		e = job_enqueue(c, "google.revoke", text, NULL,
				stops > 0 ? time_wall_ms() + 3000 : 0, NULL, NULL);
		free(text);
		*revoke_queued = !e;
	}
	if (!e) {
		char detail[512], kind[48];
		snprintf(detail, sizeof(detail),
			 "The %s account %s was removed from Calendox; its calendars stay at %s.",
			 strcmp(a.provider, "google") == 0 ? "Google" : "Microsoft",
			 a.external_email ? a.external_email : a.external_id,
			 strcmp(a.provider, "google") == 0 ? "Google" : "Microsoft");
		snprintf(kind, sizeof(kind), "%s.disconnected", a.provider);
		e = store_activity_add(c, user_id, now, kind, detail);
	}
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		*revoke_queued = false;
	}
	store_calendar_account_release(&a);
	free(sealed);
	return e;
}

void api_calendar_account_delete(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	int64_t id = 0;
	bool queued = false;
	if (!api_authenticate(req, true, &auth))
		return;
	enum cx_err e = route_id(req, &id) ? remove_account(app, auth.id, id, &queued)
					   : CX_ENOTFOUND;
	if (e == CX_ENOTFOUND) {
		http_reply_error(req, 404, "not_found", "There is no such calendar account.", NULL);
		return;
	}
	if (e) {
		api_reply_failure(req, e, "removing the calendar account");
		return;
	}
	log_info("calendar account removed", "user=%lld account=%lld", (long long)auth.id,
		 (long long)id);
	if (queued && app->jobs)
		job_runner_kick(app->jobs);
	http_reply_empty(req, 204);
}
