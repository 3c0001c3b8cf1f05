/* apps.c: the meeting apps a person can connect (Settings → App → Meeting Apps): their status,
 * disconnecting Zoom, and the meeting providers the Add Event dialog offers (DESIGN §4
 * "Disconnect", §5). */
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
#include "store/connections.h"

#include "base/banned.h"

/* connected, needs_reconnect or not_connected (never connected, or disconnected). */
static const char *app_status(const struct store_connection *conn, bool found)
{
	if (!found || strcmp(conn->status, CONNECTION_DISCONNECTED) == 0)
		return "not_connected";
	return conn->status;
}

static json_t *zoom_app_json(struct app *app, int64_t user_id, enum cx_err *err)
{
	struct store_connection conn;
	*err = store_connection_get(store_conn(app->store), user_id, "zoom", &conn);
	bool found = *err == CX_OK;
	if (*err && *err != CX_ENOTFOUND)
		return NULL;
	*err = CX_OK;
	const char *status = app_status(&conn, found);
	bool live = strcmp(status, "not_connected") != 0;
	json_t *scopes = json_array();
	if (live && conn.scopes) {
		char *copy = xstrdup(conn.scopes);
		char *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			json_array_append_new(scopes, json_string(t));
		free(copy);
	}
	json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:o, s:s?}", "id", "zoom", "name",
				"Zoom", "category", "meeting", "status", status, "account_email",
				live ? conn.external_email : NULL, "connected_at",
				api_time_json(live ? conn.connected_at : 0), "scopes", scopes,
				"last_error", live ? conn.last_error : NULL);
	if (found)
		store_connection_release(&conn);
	return out;
}

void api_apps_list(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	if (!api_authenticate(req, false, &auth))
		return;
	enum cx_err err;
	json_t *zoom = zoom_app_json(app, auth.id, &err);
	if (!zoom) {
		api_reply_failure(req, err, "reading app connections");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:[o]}", "apps", zoom));
}

void api_meeting_providers(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	if (!api_authenticate(req, false, &auth))
		return;
	enum cx_err err;
	json_t *zoom = zoom_app_json(app, auth.id, &err);
	if (!zoom) {
		api_reply_failure(req, err, "reading app connections");
		return;
	}
	const char *zoom_status = json_string_value(json_object_get(zoom, "status"));
	/* Google Meet and Teams links come from the calendar providers themselves: they need an
	 * active account of that provider with a calendar Calendox may write to. */
	bool meet = false, teams = false;
	struct store_conn *c = store_conn(app->store);
	err = store_calendar_provider_ready(c, auth.id, "google", &meet);
	if (!err)
		err = store_calendar_provider_ready(c, auth.id, "microsoft", &teams);
	if (err) {
		json_decref(zoom);
		api_reply_failure(req, err, "reading calendar accounts");
		return;
	}
	if ((meet || teams) && !api_calendars_allowed(app, auth.id, time_wall_s()))
		meet = teams = false;
	json_t *providers = json_pack(
		"[{s:s, s:s, s:b, s:s}, {s:s, s:s, s:b, s:s}, {s:s, s:s, s:b, s:s}]", "id", "zoom",
		"name", "Zoom", "available", strcmp(zoom_status, "connected") == 0, "status",
		zoom_status, "id", "google_meet", "name", "Google Meet", "available", meet,
		"status", meet ? "connected" : "not_connected", "id", "teams", "name",
		"Microsoft Teams", "available", teams, "status",
		teams ? "connected" : "not_connected");
	json_decref(zoom);
	http_reply_json(req, 200, json_pack("{s:o}", "providers", providers));
}

/* Forgets the tokens now, records it, and leaves the revoke at Zoom to a durable job (Zoom may be
 * slow or down; the person's choice must not wait for it). One transaction for all three. */
static enum cx_err disconnect_zoom(struct app *app, int64_t user_id, bool *changed)
{
	struct store_conn *c = store_conn(app->store);
	struct store_connection conn;
	char *access = NULL, *sealed_for_job = NULL;
	int64_t now = time_wall_s();
	*changed = false;
	enum cx_err e = store_begin(c);
	if (e)
		return e;
	e = store_connection_get(c, user_id, "zoom", &conn);
	if (e == CX_ENOTFOUND) {
		store_rollback(c);
		return CX_OK;
	}
	if (e)
		goto out_rollback;
	if (conn.tokens &&
	    tokens_open(app->cfg->secret_key, "app_connection", conn.id, conn.tokens, &access,
			NULL) == CX_OK &&
	    tokens_seal(app->cfg->secret_key, "zoom.revoke", user_id, access, NULL,
			&sealed_for_job) != CX_OK)
		sealed_for_job = NULL;
	e = store_connection_disconnect(c, user_id, "zoom", now, changed);
	if (!e && *changed)
		e = store_activity_add(c, user_id, now, "zoom.disconnected",
				       "Zoom was disconnected. Existing events keep their links; "
				       "new events cannot get Zoom links until you connect again.");
	if (!e && *changed && sealed_for_job) {
		json_t *payload = json_pack("{s:I, s:s}", "user_id", (json_int_t)user_id, "token",
					    sealed_for_job);
		char *text = json_dumps(payload, JSON_COMPACT);
		json_decref(payload);
		e = job_enqueue(c, "zoom.revoke", text, NULL, 0, NULL, NULL);
		free(text);
	}
	if (!e)
		e = store_commit(c);
	store_connection_release(&conn);
	if (access) {
		sec_wipe(access, strlen(access));
		free(access);
	}
	free(sealed_for_job);
	if (e)
		store_rollback(c);
	return e;
out_rollback:
	store_rollback(c);
	return e;
}

void api_apps_zoom_delete(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	if (!api_authenticate(req, true, &auth))
		return;
	bool changed = false;
	enum cx_err e = disconnect_zoom(app, auth.id, &changed);
	if (e) {
		api_reply_failure(req, e, "disconnecting Zoom");
		return;
	}
	if (changed) {
		log_info("zoom disconnected", "user=%lld", (long long)auth.id);
		if (app->jobs)
			job_runner_kick(app->jobs);
	}
	http_reply_empty(req, 204);
}
