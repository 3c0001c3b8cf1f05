/* api.h: Calendox's HTTP API (DESIGN §5), one file per resource. The handlers run on HTTP pool
 * threads and use that thread's store connection; they never call a provider themselves (that is the
 * job workers' and the egress thread's work). Shared state is struct app, read-only after start-up
 * except through the thread-safe objects it points to. */
#ifndef CX_API_API_H
#define CX_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "base/buf.h"
#include "base/json.h"
#include "egress/egress.h"
#include "core/plans.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "store/store.h"

struct app {
	const struct config *cfg;
	struct store *store;
	struct job_runner *jobs;     /* may be NULL (tests without workers) */
	struct egress *egress;       /* the outbound thread (OAuth callbacks) */
	struct http_server *http;    /* set after the server started (for /metrics) */
	struct plan_limits limits;
};

#define API_SESSION_COOKIE "calendox_session"
#define API_SESSION_TTL_S (30 * 24 * 3600)
#define API_LOGIN_MAX_FAILURES 5
#define API_LOGIN_WINDOW_S (15 * 60)
#define API_LOGIN_LOCK_S (15 * 60)

/* Every route of the API, for http_server_options.routes. */
const struct http_route *api_routes(size_t *n);

/* The signed-in person of a request. */
struct api_user {
	int64_t id;
	char *csrf_token; /* arena memory */
};

/* Authenticates the request by its session cookie; with need_csrf (POST/PATCH/DELETE) also checks
 * X-CSRF-Token. On failure replies 401 unauthenticated or 403 csrf_failed and returns false. */
bool api_authenticate(struct http_request *req, bool need_csrf, struct api_user *out);

/* Replies with the error for a store or core failure (500 internal_error, 503 busy …), logging it. */
void api_reply_failure(struct http_request *req, enum cx_err err, const char *what);

/* The body as a JSON object checked against fields (json_check_object); on failure replies
 * 400 invalid_request / 415 / 413 and returns NULL. Caller json_decref()s. */
json_t *api_body(struct http_request *req, const struct json_field *fields);

/* Shared JSON shapes. */
json_t *api_user_json(int64_t id, const char *email, const char *name, int64_t created_at);
/* {name,status,trial_ends_at} for the plan in force now. */
json_t *api_plan_json(struct app *app, int64_t user_id, int64_t now);
/* The plan in force for user_id now: a trial that ended is Free before the periodic job records
 * it, and a person without a subscription row is on Free. */
enum cx_err api_plan_now(struct store_conn *c, int64_t user_id, int64_t now, enum plan *out);
/* Whether the plan in force now lets user_id use calendar accounts (a trial that ended counts as
 * Free at once, before the periodic job suspends the accounts in the store). */
bool api_calendars_allowed(struct app *app, int64_t user_id, int64_t now);
/* RFC 3339 "…Z" string or JSON null for 0. */
json_t *api_time_json(int64_t unix_s);

/* Handlers (one file per resource). */
void api_auth_signup(struct http_request *req);
void api_auth_login(struct http_request *req);
void api_auth_logout(struct http_request *req);
void api_me(struct http_request *req);
void api_billing_get(struct http_request *req);
void api_billing_subscribe(struct http_request *req);
void api_activity_list(struct http_request *req);
void api_healthz(struct http_request *req);
void api_readyz(struct http_request *req);
void api_metrics(struct http_request *req);
void api_oauth_zoom_start(struct http_request *req);
void api_oauth_zoom_callback(struct http_request *req);
void api_oauth_google_start(struct http_request *req);
void api_oauth_google_callback(struct http_request *req);
void api_oauth_microsoft_start(struct http_request *req);
void api_oauth_microsoft_callback(struct http_request *req);
void api_calendars_list(struct http_request *req);
void api_calendar_patch(struct http_request *req);
void api_calendar_account_delete(struct http_request *req);
void api_apps_list(struct http_request *req);
void api_apps_zoom_delete(struct http_request *req);
void api_meeting_providers(struct http_request *req);
void api_webhook_zoom(struct http_request *req);
/* Push notifications of calendar sync (webhooks_calendar.c). */
void api_webhook_google(struct http_request *req);
void api_webhook_microsoft(struct http_request *req);
void api_events_list(struct http_request *req);
void api_event_get(struct http_request *req);
void api_event_create(struct http_request *req);
void api_event_patch(struct http_request *req);
void api_event_delete(struct http_request *req);
/* GET /api/events/{id}?refresh=1 of an event with a Zoom meeting: reads the meeting from Zoom
 * (waiting for it like a write) and answers the event (event_writes.c). */
void api_event_refresh(struct http_request *req, int64_t user_id, int64_t event_id);
/* The event as DESIGN §5 shows it (events.c). */
struct store_event;
json_t *api_event_json(const struct store_event *e);

/* The small HTML page an OAuth popup ends on: it posts {source:"calendox-oauth", provider, ok,
 * message, hint} to the opener (our origin only) and closes. */
void api_oauth_page(struct http_request *req, int status, const char *provider, bool ok,
		    const char *title, const char *message, const char *hint);
/* Appends s with & < > " ' escaped. */
void api_html_escape(struct buf *out, const char *s);

/* Starts a session for user_id: stores its hash and sets the cookie. */
enum cx_err api_session_start(struct http_request *req, int64_t user_id);

/* Creates the account with a trial (CLI and signup share it). CX_ECONFLICT when the email is
 * taken; CX_EINVAL for input that fails validation. */
enum cx_err api_create_account(struct app *app, const char *email, const char *name,
			       const char *password, int64_t now, int64_t *user_id);
/* Sets a person's plan (CLI `admin plan` and sandbox payments). */
enum cx_err api_set_plan(struct app *app, int64_t user_id, enum plan plan, int64_t now);

#endif
