/* oauth.c: GET /oauth/{provider}/start and /callback (DESIGN §4 "Connect"), for Zoom so far.
 *
 * start needs a session, stores a single-use state with a PKCE verifier (10 minutes, bound to the
 * session) and redirects to the provider. callback takes the state for good, then walks two upstream
 * steps without ever blocking a pool thread: the code exchange and the identity read (Zoom:
 * GET /users/me), each submitted to the egress thread while the request is suspended with a
 * deadline. Only when both succeed is anything stored: the connection with its sealed tokens, in one
 * transaction with its activity entry. Every failure ends on the "Authorization failed" page.
 *
 * Threads: struct connect_flow is shared by the request (pool threads) and the egress completion
 * (egress thread); a mutex guards its hand-over fields and a count of two references (the request's,
 * dropped by http_on_complete, and the one in-flight upstream call's) decides who frees it. */
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
#include "providers/zoom.h"
#include "store/accounts.h"
#include "store/connections.h"

#include "base/banned.h"

#define STATE_TTL_S 600
#define STEP_DEADLINE_MS 20000

static const char zoom_admin_hint[] =
	"If your Zoom account belongs to an organization, it may restrict third-party apps: ask your "
	"Zoom administrator to approve Calendox, then try again.";

enum flow_step { STEP_EXCHANGE, STEP_IDENTITY };

struct connect_flow {
	pthread_mutex_t lock;
	int refs;                      /* under lock */
	struct egress_response *resp;  /* under lock: the finished upstream call, or NULL */
	struct http_waiter *waiter;    /* under lock: woken by the completion, exactly once */
	/* Touched by the request's threads only (one at a time). */
	enum flow_step step;
	int64_t user_id;
	struct oauth_tokens tokens;
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
	buf_printf(&html,
		   "<p>You can close this window.</p></main><script nonce=\"%s\">"
		   "if(window.opener&&!window.opener.closed){window.opener.postMessage(%s,%s);"
		   "window.close();}</script></body></html>",
		   nonce, msg_json, origin_json);
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

static void fail(struct http_request *req, const char *provider, const char *message,
		 const char *hint)
{
	log_info("authorization failed", "provider=%s reason=\"%s\"", provider, message);
	api_oauth_page(req, 400, provider, false, "Authorization failed", message, hint);
}

static const char *admin_hint(const char *provider)
{
	return strcmp(provider, "zoom") == 0 ? zoom_admin_hint : NULL;
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

static char *redirect_uri(struct http_request *req, const char *provider)
{
	struct app *app = req->app;
	return arena_printf(req->arena, "%s/oauth/%s/callback", app->cfg->public_url, provider);
}

void api_oauth_zoom_start(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user user;
	char err[256];
	if (!api_authenticate(req, false, &user))
		return;
	if (config_require_provider(app->cfg, "zoom", err, sizeof(err)) != CX_OK) {
		log_error("zoom is not configured", "detail=\"%s\"", err);
		api_oauth_page(req, 503, "zoom", false, "Zoom is not set up",
			       "This Calendox has no Zoom app configured.",
			       "Ask your administrator to configure Zoom.");
		return;
	}
	char state[64], state_hash[65];
	struct oauth_pkce pkce;
	sec_random_token(state, sizeof(state), 32);
	sec_sha256_hex(state, strlen(state), state_hash);
	oauth_pkce_new(&pkce);
	int64_t now = time_wall_s();
	enum cx_err e = store_oauth_state_create(store_conn(app->store), state_hash, user.id,
						 session_hash(req), "zoom", pkce.verifier, now,
						 now + STATE_TTL_S);
	if (e) {
		api_reply_failure(req, e, "storing the authorization state");
		return;
	}
	char *url = NULL;
	e = oauth_authorize_url(&app->cfg->zoom, redirect_uri(req, "zoom"), state, pkce.challenge,
				NULL, &url);
	sec_wipe(&pkce, sizeof(pkce));
	if (e) {
		api_reply_failure(req, e, "building the authorization URL");
		return;
	}
	http_reply_redirect(req, 302, url);
	free(url);
}

static const char *denied_message(const char *error)
{
	if (strcmp(error, "access_denied") == 0)
		return "Calendox was not allowed to use your Zoom account.";
	return "Zoom refused the authorization.";
}

void api_oauth_zoom_callback(struct http_request *req)
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
		fail(req, "zoom", "The answer from Zoom did not carry a valid state.",
		     "Close this window and connect Zoom again from Settings → App.");
		return;
	}
	sec_sha256_hex(state, strlen(state), state_hash);
	enum cx_err e = sess ? store_oauth_state_take(store_conn(app->store), state_hash, sess,
						      "zoom", time_wall_s(), &user_id, &verifier)
			     : CX_ENOTFOUND;
	if (e == CX_ENOTFOUND) {
		fail(req, "zoom",
		     "This authorization is no longer valid: it was already used, it expired, or it "
		     "was started in another browser session.",
		     "Close this window and connect Zoom again from Settings → App.");
		return;
	}
	if (e) {
		api_reply_failure(req, e, "reading the authorization state");
		return;
	}
	if (error && *error) {
		free(verifier);
		fail(req, "zoom", denied_message(error), admin_hint("zoom"));
		return;
	}
	if (!code || !*code || strlen(code) > 2048) {
		free(verifier);
		fail(req, "zoom", "Zoom did not send an authorization code.", admin_hint("zoom"));
		return;
	}
	struct egress_request *r = NULL;
	e = oauth_code_request(&app->cfg->zoom, OAUTH_AUTH_BASIC, code, redirect_uri(req, "zoom"),
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
	f->step = STEP_EXCHANGE;
	f->user_id = user_id;
	req->user = f;
	http_on_complete(req, flow_request_done, f);
	flow_submit(req, f, r);
}

/* Stores the connection: the row first (its id is the sealed tokens' associated data), then the
 * identity and tokens, and the activity entry, in one transaction. */
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

static void flow_resume(struct http_request *req, bool timed_out)
{
	struct app *app = req->app;
	struct connect_flow *f = req->user;
	if (timed_out) {
		fail(req, "zoom", "Zoom did not answer in time.", "Try connecting again in a moment.");
		return;
	}
	struct egress_response *resp = flow_take(f);
	if (f->step == STEP_EXCHANGE) {
		struct oauth_error oe;
		enum cx_err e = oauth_parse_tokens(resp, time_wall_s(), NULL, &f->tokens, &oe);
		egress_response_free(resp);
		if (e) {
			log_warn("zoom code exchange failed", "status=%ld error=%s", oe.http_status,
				 oe.error[0] ? oe.error : "-");
			fail(req, "zoom",
			     oe.invalid_grant ? "Zoom did not accept the authorization code."
					      : "Zoom could not complete the authorization.",
			     oe.invalid_grant ? admin_hint("zoom") : "Try connecting again in a moment.");
			return;
		}
		struct egress_request *r = NULL;
		e = zoom_user_request(app->cfg->zoom.api_url, f->tokens.access_token, &r);
		if (e) {
			api_reply_failure(req, e, "building the Zoom identity request");
			return;
		}
		f->step = STEP_IDENTITY;
		flow_submit(req, f, r);
		return;
	}
	struct zoom_user zu = {0};
	struct zoom_error ze;
	enum cx_err e = zoom_parse_user(resp, time_wall_s(), &zu, &ze);
	egress_response_free(resp);
	if (e) {
		log_warn("zoom identity read failed", "status=%ld code=%d", ze.http_status, ze.code);
		fail(req, "zoom", "Calendox could not read your Zoom user.",
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
