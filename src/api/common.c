/* common.c: what every API handler shares: authentication, CSRF, body checks, failure replies and
 * the JSON shapes that appear in several answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/alloc.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "store/accounts.h"

#include "base/banned.h"

bool api_authenticate(struct http_request *req, bool need_csrf, struct api_user *out)
{
	struct app *app = req->app;
	const char *cookie = http_cookie(req, API_SESSION_COOKIE);
	if (!cookie || !*cookie || strlen(cookie) > 128) {
		http_reply_error(req, 401, "unauthenticated", "You are not signed in.",
				 "Sign in and try again.");
		return false;
	}
	char id_hash[65];
	sec_sha256_hex(cookie, strlen(cookie), id_hash);
	char *csrf = NULL;
	int64_t user_id = 0;
	enum cx_err err = store_session_get(store_conn(app->store), id_hash, time_wall_s(), &user_id,
					    &csrf);
	if (err == CX_ENOTFOUND) {
		http_set_cookie(req, API_SESSION_COOKIE, "", -1, app->cfg->secure_cookies);
		http_reply_error(req, 401, "unauthenticated", "Your session has ended.",
				 "Sign in and try again.");
		return false;
	}
	if (err) {
		api_reply_failure(req, err, "reading the session");
		return false;
	}
	out->id = user_id;
	out->csrf_token = arena_strdup(req->arena, csrf);
	free(csrf);
	if (need_csrf) {
		const char *sent = http_header(req, "X-CSRF-Token");
		if (!sent || !sec_str_equal(sent, out->csrf_token)) {
			http_reply_error(req, 403, "csrf_failed",
					 "The request did not carry this session's CSRF token.",
					 "Reload the page and try again.");
			return false;
		}
	}
	return true;
}

void api_reply_failure(struct http_request *req, enum cx_err err, const char *what)
{
	log_error("request failed", "what=\"%s\" err=%s", what, cx_strerror(err));
	if (err == CX_EBUSY)
		http_reply_error(req, 503, "busy", "Calendox is busy right now.",
				 "Try again in a moment.");
	else
		http_reply_error(req, 500, "internal_error", "Something went wrong on our side.",
				 "Try again; if it keeps happening, tell your administrator.");
}

json_t *api_body(struct http_request *req, const struct json_field *fields)
{
	json_t *body = http_body_json(req);
	if (!body)
		return NULL;
	char msg[256];
	if (json_check_object(body, fields, msg, sizeof(msg)) != CX_OK) {
		http_reply_error(req, 400, "invalid_request", msg, NULL);
		json_decref(body);
		return NULL;
	}
	return body;
}

json_t *api_time_json(int64_t unix_s)
{
	if (unix_s == 0)
		return json_null();
	char buf[40];
	time_format_rfc3339(unix_s, 0, buf, sizeof(buf));
	return json_string(buf);
}

json_t *api_user_json(int64_t id, const char *email, const char *name, int64_t created_at)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	return json_pack("{s:s, s:s, s:s, s:o}", "id", idbuf, "email", email, "name", name,
			 "created_at", api_time_json(created_at));
}

/* The plan in force for user_id now: a trial that ended counts as Free before the periodic job
 * records it, and a person without a subscription row is on Free. */
enum cx_err api_plan_now(struct store_conn *c, int64_t user_id, int64_t now, enum plan *out)
{
	struct store_subscription sub;
	enum plan stored = PLAN_FREE;
	enum cx_err e = store_subscription_get(c, user_id, &sub);
	if (e == CX_ENOTFOUND) {
		*out = PLAN_FREE;
		return CX_OK;
	}
	if (e)
		return e;
	if (plan_parse(sub.plan, &stored) != CX_OK)
		stored = PLAN_FREE;
	*out = plan_effective(stored, sub.trial_ends_at, now);
	return CX_OK;
}

json_t *api_plan_json(struct app *app, int64_t user_id, int64_t now)
{
	struct store_subscription sub;
	enum plan stored = PLAN_FREE;
	if (store_subscription_get(store_conn(app->store), user_id, &sub) != CX_OK) {
		snprintf(sub.plan, sizeof(sub.plan), "free");
		snprintf(sub.status, sizeof(sub.status), PLAN_STATUS_ACTIVE);
		sub.trial_ends_at = 0;
	}
	plan_parse(sub.plan, &stored);
	enum plan now_plan = plan_effective(stored, sub.trial_ends_at, now);
	const char *status = sub.status;
	if (now_plan != stored)
		status = PLAN_STATUS_TRIAL_ENDED;
	return json_pack("{s:s, s:s, s:o}", "name", plan_name(now_plan), "status", status,
			 "trial_ends_at", api_time_json(sub.trial_ends_at));
}

void api_html_escape(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(out, "&amp;");
			break;
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '"':
			buf_puts(out, "&quot;");
			break;
		case '\'':
			buf_puts(out, "&#39;");
			break;
		default:
			buf_append(out, s, 1);
		}
	}
}

