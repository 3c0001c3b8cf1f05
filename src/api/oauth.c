/* oauth.c: GET /oauth/{provider}/start and /callback (DESIGN §4 "Connect") for Zoom, Google and
 * Microsoft, driven by a small table of the providers' differences.
 *
 * start needs a session, stores a single-use state with a PKCE verifier (10 minutes, bound to the
 * session) and redirects to the provider. For the calendar providers it first checks the plan: Free
 * allows no calendar accounts, and a plan whose account limit is reached allows only reconnecting
 * an account already there (402 plan_required otherwise). callback takes the state for good, then
 * walks the upstream steps without ever blocking a pool thread, each submitted to the egress thread
 * while the request is suspended with a deadline: the code exchange; the identity (Zoom
 * GET /users/me, Microsoft GET /me); the calendar list (Google calendarList pages, whose primary
 * calendar's id is the account's identity; Microsoft /me/calendars pages). Only when every step
 * succeeds is anything stored, in one transaction: the connection or calendar account with its
 * sealed tokens, its calendars, and the activity entry; the plan is checked again there, since it
 * may have changed meanwhile. Every failure ends on the "Authorization failed" page.
 *
 * Threads: struct connect_flow is shared by the request (pool threads) and the egress completion
 * (egress thread); a mutex guards its hand-over fields and a count of two references (the
 * request's, dropped by http_on_complete, and the one in-flight upstream call's) decides who frees
 * it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "core/tokens.h"
#include "egress/oauth.h"
#include "jobs/kinds.h"
#include "providers/google.h"
#include "providers/graph.h"
#include "providers/zoom.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/connections.h"

#include "base/banned.h"

#define STATE_TTL_S 600
#define STEP_DEADLINE_MS 20000
#define CALENDAR_PAGES_MAX 20 /* calendar list pages read per connect */

static const char zoom_admin_hint[] =
	"If your Zoom account belongs to an organization, it may restrict third-party apps: ask your "
	"Zoom administrator to approve Calendox, then try again.";

/* What differs between the providers a person can connect. */
struct oauth_provider {
	const char *id;    /* the route segment, oauth_states.provider and activity prefix */
	const char *title; /* for people: "Zoom", "Google", "Microsoft" */
	bool calendar;     /* a calendar account: plan checks, calendar import */
	enum oauth_client_auth auth;
	const struct oauth_param *extras; /* authorize URL extras */
	const char *again_hint;           /* how to start over */
};

static const struct oauth_param google_extras[] = {
	{"access_type", "offline"},
	{"prompt", "consent"},
	{"include_granted_scopes", "true"},
	{NULL, NULL},
};
static const struct oauth_param microsoft_extras[] = {
	{"response_mode", "query"},
	{NULL, NULL},
};

static const struct oauth_provider zoom_provider = {
	"zoom", "Zoom", false, OAUTH_AUTH_BASIC, NULL,
	"Close this window and connect Zoom again from Settings → App.",
};
static const struct oauth_provider google_provider = {
	"google", "Google", true, OAUTH_AUTH_BODY, google_extras,
	"Close this window and connect Google again from Settings → Calendars.",
};
static const struct oauth_provider microsoft_provider = {
	"microsoft", "Microsoft", true, OAUTH_AUTH_BODY, microsoft_extras,
	"Close this window and connect Microsoft again from Settings → Calendars.",
};

static const struct provider_config *provider_cfg(const struct config *cfg,
						  const struct oauth_provider *p)
{
	if (p == &google_provider)
		return &cfg->google;
	if (p == &microsoft_provider)
		return &cfg->microsoft;
	return &cfg->zoom;
}

enum flow_step { STEP_EXCHANGE, STEP_IDENTITY, STEP_CALENDARS };

struct connect_flow {
	pthread_mutex_t lock;
	int refs;                      /* under lock */
	struct egress_response *resp;  /* under lock: the finished upstream call, or NULL */
	struct http_waiter *waiter;    /* under lock: woken by the completion, exactly once */
	/* Touched by the request's threads only (one at a time). */
	const struct oauth_provider *provider;
	enum flow_step step;
	int64_t user_id;
	struct oauth_tokens tokens;
	char *external_id;              /* calendar providers: the account's stable id */
	char *external_email;           /* calendar providers; may stay NULL */
	struct cal_calendar_page calendars; /* every page read so far (tokens unused) */
	int pages;
};

static void flow_unref(struct connect_flow *f)
{
	pthread_mutex_lock(&f->lock);
	int left = --f->refs;
	pthread_mutex_unlock(&f->lock);
	if (left > 0)
		return;
	if (f->resp)
		egress_response_free(f->resp);
	oauth_tokens_release(&f->tokens);
	free(f->external_id);
	free(f->external_email);
	cal_calendar_page_release(&f->calendars);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static void flow_request_done(struct http_request *req, void *arg)
{
	flow_unref(arg);
}

static void flow_upstream_done(struct egress_response *resp, void *arg)
{
	struct connect_flow *f = arg;
	pthread_mutex_lock(&f->lock);
	f->resp = resp;
	struct http_waiter *w = f->waiter;
	f->waiter = NULL;
	pthread_mutex_unlock(&f->lock);
	if (w)
		http_waiter_wake(w);
	flow_unref(f);
}

/* Takes the finished upstream answer out of the flow (caller frees). */
static struct egress_response *flow_take(struct connect_flow *f)
{
	pthread_mutex_lock(&f->lock);
	struct egress_response *resp = f->resp;
	f->resp = NULL;
	pthread_mutex_unlock(&f->lock);
	return resp;
}

static void flow_resume(struct http_request *req, bool timed_out);

/* Suspends req and hands r to the egress thread; the answer resumes the request. */
static void flow_submit(struct http_request *req, struct connect_flow *f,
			struct egress_request *r)
{
	struct app *app = req->app;
	pthread_mutex_lock(&f->lock);
	f->refs++;
	f->waiter = http_suspend(req, time_now_ms() + STEP_DEADLINE_MS, flow_resume);
	pthread_mutex_unlock(&f->lock);
	r->done = flow_upstream_done;
	r->arg = f;
	r->timeout_ms = STEP_DEADLINE_MS - 1000;
	egress_submit(app->egress, r);
}

/* scheme://host[:port] of the public URL: the only origin the page posts its result to. */
static char *public_origin(struct http_request *req)
{
	struct app *app = req->app;
	const char *url = app->cfg->public_url;
	const char *host = strstr(url, "://");
	const char *end = host ? strchr(host + 3, '/') : NULL;
	return end ? arena_strndup(req->arena, url, (size_t)(end - url))
		   : arena_strdup(req->arena, url);
}

void api_oauth_page(struct http_request *req, int status, const char *provider, bool ok,
		    const char *title, const char *message, const char *hint)
{
	/* The page tells its opener (same origin only) and closes itself. Its script and style carry
	 * a nonce, so the strict CSP stays on; the message is JSON for the script and escaped text
	 * for the HTML. */
	char nonce[32];
	sec_random_token(nonce, sizeof(nonce), 16);
	json_t *msg = json_pack("{s:s, s:s, s:b, s:s, s:s?}", "source", "calendox-oauth",
				"provider", provider, "ok", ok, "message", message, "hint", hint);
	json_t *origin = json_string(public_origin(req));
	char *msg_json = json_dumps(msg, JSON_COMPACT | JSON_ESCAPE_SLASH);
	char *origin_json = json_dumps(origin, JSON_ENCODE_ANY | JSON_ESCAPE_SLASH);
	json_decref(msg);
	json_decref(origin);

	struct buf html;
	buf_init(&html, 64 << 10);
	buf_puts(&html, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			"<title>");
	api_html_escape(&html, title);
	buf_printf(&html,
		   " · Calendox</title><style nonce=\"%s\">body{font:16px system-ui,sans-serif;"
		   "max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2937}"
		   "h1{font-size:1.4rem}.hint{color:#4b5563}</style></head><body><main><h1>",
		   nonce);
	api_html_escape(&html, title);
	buf_puts(&html, "</h1><p>");
	api_html_escape(&html, message);
	buf_puts(&html, "</p>");
	if (hint) {
		buf_puts(&html, "<p class=\"hint\">");
		api_html_escape(&html, hint);
		buf_puts(&html, "</p>");
	}
	/* Opened in this window (the popup was blocked), the page is the end of the road: it links
	 * back to the settings tab the person came from. */
	buf_printf(&html,
		   "<p>You can close this window, or <a href=\"%s\">go back to Calendox</a>.</p>"
		   "</main><script nonce=\"%s\">"
		   "if(window.opener&&!window.opener.closed){window.opener.postMessage(%s,%s);"
		   "window.close();}</script></body></html>",
		   strcmp(provider, "zoom") == 0 ? "/settings/app" : "/settings/calendars", nonce,
		   msg_json, origin_json);
	free(msg_json);
	free(origin_json);
	char *csp = arena_printf(req->arena,
				 "default-src 'none'; script-src 'nonce-%s'; style-src 'nonce-%s'; "
				 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
				 nonce, nonce);
	http_add_header(req, "Content-Security-Policy", csp);
	http_reply(req, status, "text/html; charset=utf-8", html.data, html.len);
	buf_release(&html);
}

static void fail(struct http_request *req, const struct oauth_provider *p, const char *message,
		 const char *hint)
{
	log_info("authorization failed", "provider=%s reason=\"%s\"", p->id, message);
	api_oauth_page(req, 400, p->id, false, "Authorization failed", message, hint);
}

/* Zoom's failures after Allow are mostly an organization's restriction; the calendar providers'
 * are not, so they get the way to start over instead. */
static const char *admin_hint(const struct oauth_provider *p)
{
	return p == &zoom_provider ? zoom_admin_hint : p->again_hint;
}

static const char *session_hash(struct http_request *req)
{
	const char *cookie = http_cookie(req, API_SESSION_COOKIE);
	if (!cookie || !*cookie || strlen(cookie) > 128)
		return NULL;
	char *hash = arena_alloc(req->arena, 65);
	sec_sha256_hex(cookie, strlen(cookie), hash);
	return hash;
}

static char *redirect_uri(struct http_request *req, const struct oauth_provider *p)
{
	struct app *app = req->app;
	return arena_printf(req->arena, "%s/oauth/%s/callback", app->cfg->public_url, p->id);
}

enum plan_verdict { PLAN_ALLOWS, PLAN_FREE_REFUSES, PLAN_LIMIT_REACHED };

/* Whether the plan lets user_id connect an account of provider. In the callback the account is
 * known: reconnecting one already there is always fine (known_account), a new one needs room under
 * the limit. At start (at_start) it is not known yet, so having any account of the provider lets
 * the person through, since they may be reconnecting it; the callback then decides. */
static enum cx_err plan_check(struct app *app, struct store_conn *c, int64_t user_id,
			      const struct oauth_provider *p, bool at_start, bool known_account,
			      enum plan_verdict *verdict)
{
	enum plan plan;
	int64_t total = 0, same = 0;
	*verdict = PLAN_ALLOWS;
	enum cx_err e = api_plan_now(c, user_id, time_wall_s(), &plan);
	if (e)
		return e;
	if (!plan_can_connect_calendars(plan)) {
		*verdict = PLAN_FREE_REFUSES;
		return CX_OK;
	}
	int limit = plan_calendar_accounts(plan, &app->limits);
	if (limit == PLAN_UNLIMITED || known_account)
		return CX_OK;
	e = store_calendar_accounts_count(c, user_id, NULL, &total);
	if (!e && at_start)
		e = store_calendar_accounts_count(c, user_id, p->id, &same);
	if (!e && total >= limit && same == 0)
		*verdict = PLAN_LIMIT_REACHED;
	return e;
}

/* 402 plan_required: the popup's page for a browser, the JSON error for an API client. */
static void refuse_plan(struct http_request *req, const struct oauth_provider *p,
			enum plan_verdict verdict)
{
	const char *message, *hint;
	if (verdict == PLAN_FREE_REFUSES) {
		message = "Connecting calendars needs an active trial or a paid plan.";
		hint = "Subscribe under Settings → Billing, then connect your calendar again.";
	} else {
		message = "Your plan's calendar accounts are all in use.";
		hint = "Remove an account under Settings → Calendars, or choose a larger plan under "
		       "Settings → Billing.";
	}
	log_info("calendar connect refused by the plan", "provider=%s limit=%s", p->id,
		 verdict == PLAN_FREE_REFUSES ? "free" : "accounts");
	const char *accept = http_header(req, "Accept");
	if (accept && strstr(accept, "application/json") && !strstr(accept, "text/html")) {
		http_reply_error(req, 402, "plan_required", message, hint);
		return;
	}
	api_oauth_page(req, 402, p->id, false, "Authorization failed", message, hint);
}

static void oauth_start(struct http_request *req, const struct oauth_provider *p)
{
	struct app *app = req->app;
	struct api_user user;
	char err[256];
	if (!api_authenticate(req, false, &user))
		return;
	if (config_require_provider(app->cfg, p->id, err, sizeof(err)) != CX_OK) {
		log_error("provider is not configured", "provider=%s detail=\"%s\"", p->id, err);
		api_oauth_page(req, 503, p->id, false,
			       arena_printf(req->arena, "%s is not set up", p->title),
			       arena_printf(req->arena, "This Calendox has no %s app configured.",
					    p->title),
			       arena_printf(req->arena, "Ask your administrator to configure %s.",
					    p->title));
		return;
	}
	enum cx_err e;
	if (p->calendar) {
		enum plan_verdict verdict;
		e = plan_check(app, store_conn(app->store), user.id, p, true, false, &verdict);
		if (e) {
			api_reply_failure(req, e, "checking the plan");
			return;
		}
		if (verdict != PLAN_ALLOWS) {
			refuse_plan(req, p, verdict);
			return;
		}
	}
	char state[64], state_hash[65];
	struct oauth_pkce pkce;
	sec_random_token(state, sizeof(state), 32);
	sec_sha256_hex(state, strlen(state), state_hash);
	oauth_pkce_new(&pkce);
	int64_t now = time_wall_s();
	e = store_oauth_state_create(store_conn(app->store), state_hash, user.id, session_hash(req),
				     p->id, pkce.verifier, now, now + STATE_TTL_S);
	if (e) {
		sec_wipe(&pkce, sizeof(pkce));
		api_reply_failure(req, e, "storing the authorization state");
		return;
	}
	char *url = NULL;
	e = oauth_authorize_url(provider_cfg(app->cfg, p), redirect_uri(req, p), state,
				pkce.challenge, p->extras, &url);
	sec_wipe(&pkce, sizeof(pkce));
	if (e) {
		api_reply_failure(req, e, "building the authorization URL");
		return;
	}
	http_reply_redirect(req, 302, url);
	free(url);
}

static const char *denied_message(struct http_request *req, const struct oauth_provider *p,
				  const char *error)
{
	if (strcmp(error, "access_denied") == 0)
		return arena_printf(req->arena, "Calendox was not allowed to use your %s account.",
				    p->title);
	return arena_printf(req->arena, "%s refused the authorization.", p->title);
}

static void oauth_callback(struct http_request *req, const struct oauth_provider *p)
{
	struct app *app = req->app;
	const char *error = http_query(req, "error");
	const char *code = http_query(req, "code");
	const char *state = http_query(req, "state");
	const char *sess = session_hash(req);
	char state_hash[65];
	int64_t user_id = 0;
	char *verifier = NULL;

	/* The state is taken first in every case, so whatever happens it is never usable again. */
	if (!state || !*state || strlen(state) > 256) {
		fail(req, p,
		     arena_printf(req->arena, "The answer from %s did not carry a valid state.",
				  p->title),
		     p->again_hint);
		return;
	}
	sec_sha256_hex(state, strlen(state), state_hash);
	enum cx_err e = sess ? store_oauth_state_take(store_conn(app->store), state_hash, sess,
						      p->id, time_wall_s(), &user_id, &verifier)
			     : CX_ENOTFOUND;
	if (e == CX_ENOTFOUND) {
		fail(req, p,
		     "This authorization is no longer valid: it was already used, it expired, or it "
		     "was started in another browser session.",
		     p->again_hint);
		return;
	}
	if (e) {
		api_reply_failure(req, e, "reading the authorization state");
		return;
	}
	if (error && *error) {
		free(verifier);
		fail(req, p, denied_message(req, p, error), admin_hint(p));
		return;
	}
	if (!code || !*code || strlen(code) > 2048) {
		free(verifier);
		fail(req, p,
		     arena_printf(req->arena, "%s did not send an authorization code.", p->title),
		     admin_hint(p));
		return;
	}
	struct egress_request *r = NULL;
	e = oauth_code_request(provider_cfg(app->cfg, p), p->auth, code, redirect_uri(req, p),
			       verifier, NULL, &r);
	sec_wipe(verifier, strlen(verifier));
	free(verifier);
	if (e) {
		api_reply_failure(req, e, "building the token request");
		return;
	}
	struct connect_flow *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->refs = 1;
	f->provider = p;
	f->step = STEP_EXCHANGE;
	f->user_id = user_id;
	req->user = f;
	http_on_complete(req, flow_request_done, f);
	flow_submit(req, f, r);
}

/* Stores the Zoom connection: the row first (its id is the sealed tokens' associated data), then
 * the identity and tokens, and the activity entry, in one transaction. */
static enum cx_err save_connection(struct app *app, struct connect_flow *f,
				   const struct zoom_user *zu)
{
	struct store_conn *c = store_conn(app->store);
	int64_t now = time_wall_s(), id = 0;
	char *sealed = NULL;
	enum cx_err e = store_begin(c);
	if (e)
		return e;
	e = store_connection_reserve(c, f->user_id, "zoom", now, &id);
	if (!e)
		e = tokens_seal(app->cfg->secret_key, "app_connection", id, f->tokens.access_token,
				f->tokens.refresh_token, &sealed);
	if (!e)
		e = store_connection_connect(c, id, f->user_id, zu->id, zu->account_id, zu->email,
					     sealed, f->tokens.expires_at, f->tokens.scope, now);
	if (!e) {
		char detail[512];
		snprintf(detail, sizeof(detail), "Zoom connected as %s.",
			 zu->email ? zu->email : "your Zoom account");
		e = store_activity_add(c, f->user_id, now, "zoom.connected", detail);
	}
	if (!e)
		e = store_commit(c);
	if (e)
		store_rollback(c);
	free(sealed);
	return e;
}

/* Stores the calendar account, its calendars and the activity entry in one transaction, after
 * checking the plan again (it may have changed since start). A plan that refuses leaves
 * *verdict set and stores nothing. */
static enum cx_err save_calendar_account(struct app *app, struct connect_flow *f,
					 enum plan_verdict *verdict)
{
	struct store_conn *c = store_conn(app->store);
	const struct oauth_provider *p = f->provider;
	int64_t now = time_wall_s(), id = 0;
	bool created = false;
	char *sealed = NULL;
	struct store_calendar *cals = xcalloc(f->calendars.n + 1, sizeof(*cals));
	for (size_t i = 0; i < f->calendars.n; i++) {
		const struct cal_calendar *src = &f->calendars.items[i];
		cals[i].external_id = src->external_id;
		cals[i].name = src->name;
		cals[i].primary = src->primary;
		cals[i].writable = src->writable;
		cals[i].color = src->color;
	}
	*verdict = PLAN_ALLOWS;
	enum cx_err e = store_begin(c);
	if (e)
		goto out_free;
	/* The plan check counts accounts and the insert adds one: two connects of one person on two
	 * instances must not both pass the count. */
	e = store_user_lock(c, f->user_id);
	bool known = false;
	if (!e) {
		e = store_calendar_account_find(c, f->user_id, p->id, f->external_id, &id);
		known = e == CX_OK;
		if (e == CX_ENOTFOUND)
			e = CX_OK;
	}
	if (!e)
		e = plan_check(app, c, f->user_id, p, false, known, verdict);
	if (!e && *verdict != PLAN_ALLOWS)
		e = CX_EFORBIDDEN;
	if (!e)
		e = store_calendar_account_reserve(c, f->user_id, p->id, f->external_id, now, &id,
						   &created);
	if (!e)
		e = tokens_seal(app->cfg->secret_key, "calendar_account", id,
				f->tokens.access_token, f->tokens.refresh_token, &sealed);
	if (!e)
		e = store_calendar_account_connect(c, id, f->user_id, f->external_email, sealed,
						   f->tokens.expires_at, f->tokens.scope,
						   CALENDAR_ACCOUNT_ACTIVE, now);
	if (!e)
		e = store_calendars_merge(c, f->user_id, id, cals, f->calendars.n);
	/* The first sync of every selected calendar, with the account. */
	if (!e)
		e = job_calendar_sync_enqueue_account(c, id, NULL);
	/* And its push channels or subscriptions (jobs/push.c). */
	if (!e)
		e = job_calendar_watch_enqueue_account(c, id, NULL);
	if (!e) {
		char detail[512], kind[48];
		snprintf(detail, sizeof(detail), "%s %s as %s (%zu calendars).", p->title,
			 created ? "connected" : "reconnected",
			 f->external_email ? f->external_email : f->external_id, f->calendars.n);
		snprintf(kind, sizeof(kind), "%s.%s", p->id, created ? "connected" : "reconnected");
		e = store_activity_add(c, f->user_id, now, kind, detail);
	}
	if (!e)
		e = store_commit(c);
	if (e)
		store_rollback(c);
out_free:
	free(sealed);
	free(cals);
	return e;
}

static void exchange_done(struct http_request *req, struct connect_flow *f,
			  struct egress_response *resp)
{
	struct app *app = req->app;
	const struct oauth_provider *p = f->provider;
	const struct provider_config *pc = provider_cfg(app->cfg, p);
	struct oauth_error oe;
	enum cx_err e = oauth_parse_tokens(resp, time_wall_s(), NULL, &f->tokens, &oe);
	egress_response_free(resp);
	if (e) {
		log_warn("code exchange failed", "provider=%s status=%ld error=%s", p->id,
			 oe.http_status, oe.error[0] ? oe.error : "-");
		fail(req, p,
		     oe.invalid_grant
			     ? arena_printf(req->arena, "%s did not accept the authorization code.",
					    p->title)
			     : arena_printf(req->arena, "%s could not complete the authorization.",
					    p->title),
		     oe.invalid_grant ? admin_hint(p) : "Try connecting again in a moment.");
		return;
	}
	struct egress_request *r = NULL;
	if (p == &google_provider) {
		e = google_calendar_list_request(pc->api_url, f->tokens.access_token, NULL, &r);
		f->step = STEP_CALENDARS;
	} else if (p == &microsoft_provider) {
		e = graph_me_request(pc->api_url, f->tokens.access_token, &r);
		f->step = STEP_IDENTITY;
	} else {
		e = zoom_user_request(pc->api_url, f->tokens.access_token, &r);
		f->step = STEP_IDENTITY;
	}
	if (e) {
		api_reply_failure(req, e, "building the identity request");
		return;
	}
	flow_submit(req, f, r);
}

static void zoom_identity_done(struct http_request *req, struct connect_flow *f,
			       struct egress_response *resp)
{
	struct app *app = req->app;
	struct zoom_user zu = {0};
	struct zoom_error ze;
	enum cx_err e = zoom_parse_user(resp, time_wall_s(), &zu, &ze);
	egress_response_free(resp);
	if (e) {
		log_warn("zoom identity read failed", "status=%ld code=%d", ze.http_status,
			 ze.code);
		fail(req, f->provider, "Calendox could not read your Zoom user.",
		     ze.code == 4711 ? "Allow every permission Calendox asks for, then try again."
				     : "Try connecting again in a moment.");
		return;
	}
	e = save_connection(app, f, &zu);
	if (e) {
		zoom_user_release(&zu);
		api_reply_failure(req, e, "storing the Zoom connection");
		return;
	}
	log_info("zoom connected", "user=%lld", (long long)f->user_id);
	api_oauth_page(req, 200, "zoom", true, "Zoom connected",
		       "Calendox can now add Zoom links to your events.", NULL);
	zoom_user_release(&zu);
}

static void microsoft_identity_done(struct http_request *req, struct connect_flow *f,
				    struct egress_response *resp)
{
	struct app *app = req->app;
	struct graph_user gu = {0};
	struct cal_error ce;
	enum cx_err e = graph_parse_user(resp, time_wall_s(), &gu, &ce);
	egress_response_free(resp);
	if (e || !gu.id || !*gu.id) {
		log_warn("microsoft identity read failed", "status=%ld reason=%s", ce.http_status,
			 ce.reason[0] ? ce.reason : "-");
		graph_user_release(&gu);
		fail(req, f->provider, "Calendox could not read your Microsoft account.",
		     "Allow every permission Calendox asks for, then try again.");
		return;
	}
	f->external_id = xstrdup(gu.id);
	f->external_email = gu.email ? xstrdup(gu.email) : NULL;
	graph_user_release(&gu);
	struct egress_request *r = NULL;
	e = graph_calendars_request(app->cfg->microsoft.api_url, f->tokens.access_token, NULL, &r);
	if (e) {
		api_reply_failure(req, e, "building the calendar list request");
		return;
	}
	f->step = STEP_CALENDARS;
	flow_submit(req, f, r);
}

/* Moves the page's calendars to the end of the flow's list. */
static void take_calendars(struct connect_flow *f, struct cal_calendar_page *page)
{
	size_t room = CALENDARS_PER_ACCOUNT_MAX - f->calendars.n;
	size_t n = page->n < room ? page->n : room;
	if (n > 0) {
		f->calendars.items = xrealloc(f->calendars.items,
					      (f->calendars.n + n) * sizeof(*f->calendars.items));
		memcpy(&f->calendars.items[f->calendars.n], page->items, n * sizeof(*page->items));
		f->calendars.n += n;
		/* The moved ones now belong to the flow; the rest stay with the page. */
		memmove(page->items, page->items + n, (page->n - n) * sizeof(*page->items));
		page->n -= n;
	}
}

static void calendars_done(struct http_request *req, struct connect_flow *f,
			   struct egress_response *resp)
{
	struct app *app = req->app;
	const struct oauth_provider *p = f->provider;
	const struct provider_config *pc = provider_cfg(app->cfg, p);
	struct cal_calendar_page page = {0};
	struct cal_error ce;
	enum cx_err e = p == &google_provider
				? google_parse_calendar_list(resp, time_wall_s(), &page, &ce)
				: graph_parse_calendars(resp, time_wall_s(), &page, &ce);
	egress_response_free(resp);
	if (e) {
		log_warn("calendar list read failed", "provider=%s status=%ld reason=%s", p->id,
			 ce.http_status, ce.reason[0] ? ce.reason : "-");
		cal_calendar_page_release(&page);
		fail(req, p,
		     arena_printf(req->arena, "Calendox could not read your calendars from %s.",
				  p->title),
		     "Try connecting again in a moment.");
		return;
	}
	take_calendars(f, &page);
	f->pages++;
	if (page.next_page_token && f->pages < CALENDAR_PAGES_MAX &&
	    f->calendars.n < CALENDARS_PER_ACCOUNT_MAX) {
		struct egress_request *r = NULL;
		e = p == &google_provider
			    ? google_calendar_list_request(pc->api_url, f->tokens.access_token,
							   page.next_page_token, &r)
			    : graph_calendars_request(pc->api_url, f->tokens.access_token,
						      page.next_page_token, &r);
		cal_calendar_page_release(&page);
		if (e) {
			api_reply_failure(req, e, "building the calendar list request");
			return;
		}
		flow_submit(req, f, r);
		return;
	}
	cal_calendar_page_release(&page);
	if (p == &google_provider) {
		/* Google's stable account identity is its primary calendar's id (the address). */
		for (size_t i = 0; i < f->calendars.n && !f->external_id; i++)
			if (f->calendars.items[i].primary)
				f->external_id = xstrdup(f->calendars.items[i].external_id);
		if (!f->external_id) {
			fail(req, p, "Google did not name your primary calendar.",
			     "Try connecting again in a moment.");
			return;
		}
		f->external_email = xstrdup(f->external_id);
	}
	enum plan_verdict verdict;
	e = save_calendar_account(app, f, &verdict);
	if (e == CX_EFORBIDDEN && verdict != PLAN_ALLOWS) {
		refuse_plan(req, p, verdict);
		return;
	}
	if (e) {
		api_reply_failure(req, e, "storing the calendar account");
		return;
	}
	if (app->jobs)
		job_runner_kick(app->jobs);
	log_info("calendar account connected", "user=%lld provider=%s calendars=%zu",
		 (long long)f->user_id, p->id, f->calendars.n);
	api_oauth_page(req, 200, p->id, true,
		       arena_printf(req->arena, "%s connected", p->title),
		       arena_printf(req->arena,
				    "Calendox imported %zu calendars from your %s account.",
				    f->calendars.n, p->title),
		       NULL);
}

static void flow_resume(struct http_request *req, bool timed_out)
{
	struct connect_flow *f = req->user;
	if (timed_out) {
		fail(req, f->provider,
		     arena_printf(req->arena, "%s did not answer in time.", f->provider->title),
		     "Try connecting again in a moment.");
		return;
	}
	struct egress_response *resp = flow_take(f);
	switch (f->step) {
	case STEP_EXCHANGE:
		exchange_done(req, f, resp);
		break;
	case STEP_IDENTITY:
		if (f->provider == &microsoft_provider)
			microsoft_identity_done(req, f, resp);
		else
			zoom_identity_done(req, f, resp);
		break;
	case STEP_CALENDARS:
		calendars_done(req, f, resp);
		break;
	}
}

void api_oauth_zoom_start(struct http_request *req)
{
	oauth_start(req, &zoom_provider);
}

void api_oauth_zoom_callback(struct http_request *req)
{
	oauth_callback(req, &zoom_provider);
}

void api_oauth_google_start(struct http_request *req)
{
	oauth_start(req, &google_provider);
}

void api_oauth_google_callback(struct http_request *req)
{
	oauth_callback(req, &google_provider);
}

void api_oauth_microsoft_start(struct http_request *req)
{
	oauth_start(req, &microsoft_provider);
}

void api_oauth_microsoft_callback(struct http_request *req)
{
	oauth_callback(req, &microsoft_provider);
}
