/* Tests for jobs/tokens: single-flight token refresh against the provider emulators started in
 * this process, with a real store. Tokens come from the consent form and a real code exchange;
 * the store's expiry is set close to now to make a token due. Covers: a fresh token without any
 * request; a due Zoom token refreshed once with the rotated refresh token stored sealed and usable
 * for the next refresh; 50 concurrent callers across two refreshers (two instances) → exactly one
 * refresh request and one new token; a revoked grant → needs_reconnect and an activity entry; a
 * 503 → retryable error, connection unchanged; a forced refresh after a rejected version once only;
 * Google (no rotation) and Microsoft (rotation, scope sent); and a job run that waits for a token
 * without blocking its worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/config.h"
#include "base/crypto.h"
#include "base/time.h"
#include "core/tokens.h"
#include "egress/egress.h"
#include "egress/oauth.h"
#include "jobs/jobs.h"
#include "jobs/kinds.h"
#include "jobs/tokens.h"
#include "sb.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/connections.h"
#include "store/store.h"
#include "base/banned.h"

struct fixture {
	char dir[64];
	struct sb *sb;
	struct egress *eg;
	struct config cfg;
	struct store *st;
	struct token_refresher *tr;
	int users;
};

static struct fixture *fx;

static const char *fake_getenv(const char *name)
{
	if (strcmp(name, "CALENDOX_SANDBOX") == 0)
		return fx->sb->base_url;
	if (strcmp(name, "CALENDOX_SECRET_KEY") == 0)
		return "c2VjcmV0LWtleS1mb3ItdG9rZW4tcmVmcmVzaC10ZXM=";
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	fx = f;
	char err[256];
	struct sandbox_options so = {.port = 0, .seed = 11, .threads = 4};
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-refresh-XXXXXX");
	if (!mkdtemp(f->dir) || sandbox_start(&so, &f->sb) != CX_OK ||
	    egress_start(16, 256, &f->eg) != CX_OK ||
	    config_load(&f->cfg, NULL, fake_getenv, err, sizeof(err)) != CX_OK)
		return -1;
	char *url = xasprintf("sqlite:%s/t.db", f->dir);
	int rc = store_open(url, &f->st) != CX_OK || store_migrate(f->st) != CX_OK;
	free(url);
	if (rc)
		return -1;
	struct token_refresher_options to = {.store = f->st, .cfg = &f->cfg, .egress = f->eg};
	if (token_refresher_start(&to, &f->tr) != CX_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	token_refresher_stop(f->tr);
	store_thread_done(f->st);
	store_close(f->st);
	egress_stop(f->eg);
	sandbox_stop(f->sb);
	config_release(&f->cfg);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* ---- talking to the emulator ---- */

static struct egress_response *call(struct egress_request *r)
{
	struct egress_response *resp = NULL;
	assert_non_null(r);
	assert_int_equal(egress_call(fx->eg, r, &resp), CX_OK);
	return resp;
}

static void control(const char *path, const char *json)
{
	char *url = xasprintf("%s%s", fx->sb->base_url, path);
	struct egress_request *r = egress_request_new("POST", url);
	egress_request_body(r, "application/json", json, strlen(json));
	struct egress_response *resp = call(r);
	assert_true(resp->status >= 200 && resp->status < 300);
	egress_response_free(resp);
	free(url);
}

/* Token-endpoint refresh requests that reached the emulator for provider (its path prefix). */
static int refresh_requests(const char *token_path, const char *must_contain)
{
	char *url = xasprintf("%s/_sandbox/requests", fx->sb->base_url);
	struct egress_response *resp = call(egress_request_new("GET", url));
	assert_int_equal(resp->status, 200);
	json_t *root = json_loads(resp->body, 0, NULL);
	assert_non_null(root);
	json_t *list = json_object_get(root, "requests");
	int n = 0;
	size_t i;
	json_t *req;
	json_array_foreach(list, i, req)
	{
		const char *path = json_string_value(json_object_get(req, "path"));
		const char *body = json_string_value(json_object_get(req, "body"));
		if (path && body && strcmp(path, token_path) == 0 &&
		    strstr(body, "grant_type=refresh_token") &&
		    (!must_contain || strstr(body, must_contain)))
			n++;
	}
	json_decref(root);
	egress_response_free(resp);
	free(url);
	return n;
}

/* The percent-decoded value of name in a URL's query (Google's codes carry an encoded '/'). */
static char *query_value(const char *url, const char *name)
{
	char *key = xasprintf("%s=", name);
	const char *p = strstr(url, key);
	char *v = NULL;
	if (p && (p[-1] == '?' || p[-1] == '&')) {
		p += strlen(key);
		size_t n = strcspn(p, "&#"), j = 0;
		v = xmalloc(n + 1);
		for (size_t i = 0; i < n; i++) {
			unsigned int byte;
			if (p[i] == '%' && i + 2 < n + 1 && sscanf(p + i + 1, "%2x", &byte) == 1) {
				v[j++] = (char)byte;
				i += 2;
			} else {
				v[j++] = p[i] == '+' ? ' ' : p[i];
			}
		}
		v[j] = '\0';
	}
	free(key);
	return v;
}

/* Consent as `user`, then the code exchange: real tokens from the emulator. */
static void grant(const char *provider, const char *user, struct oauth_tokens *tok)
{
	const struct provider_config *pc = strcmp(provider, "zoom") == 0     ? &fx->cfg.zoom
	                                   : strcmp(provider, "google") == 0 ? &fx->cfg.google
	                                                                     : &fx->cfg.microsoft;
	enum oauth_client_auth auth =
	    strcmp(provider, "zoom") == 0 ? OAUTH_AUTH_BASIC : OAUTH_AUTH_BODY;
	static const struct oauth_param google_extras[] = {
	    {"access_type", "offline"}, {"prompt", "consent"}, {NULL, NULL}};
	char *redirect = xasprintf("http://127.0.0.1:8080/oauth/%s/callback", provider);
	struct oauth_pkce pkce;
	oauth_pkce_new(&pkce);
	char *url = NULL;
	assert_int_equal(oauth_authorize_url(pc, redirect, "st-1", pkce.challenge,
	                                     strcmp(provider, "google") == 0 ? google_extras : NULL,
	                                     &url),
	                 CX_OK);
	char *user_enc = xstrdup(user);
	char *at = strchr(user_enc, '@');
	*at = '\0';
	char *form =
	    xasprintf("%s&user=%s%%40%s&decision=allow", strchr(url, '?') + 1, user_enc, at + 1);
	char *decision_url = xasprintf("%s/decision", pc->auth_url);
	struct egress_request *r = egress_request_new("POST", decision_url);
	egress_request_body(r, "application/x-www-form-urlencoded", form, strlen(form));
	struct egress_response *resp = call(r);
	assert_int_equal(resp->status, 302);
	char *code = query_value(egress_response_header(resp, "location"), "code");
	assert_non_null(code);
	egress_response_free(resp);
	assert_int_equal(oauth_code_request(pc, auth, code, redirect, pkce.verifier, NULL, &r),
	                 CX_OK);
	resp = call(r);
	assert_int_equal(oauth_parse_tokens(resp, time_wall_s(), NULL, tok, NULL), CX_OK);
	assert_non_null(tok->refresh_token);
	egress_response_free(resp);
	free(code);
	free(decision_url);
	free(form);
	free(user_enc);
	free(url);
	free(redirect);
}

static int64_t new_user(void)
{
	int64_t id = 0;
	char *email = xasprintf("person%d@example.com", ++fx->users);
	assert_int_equal(store_user_create(store_conn(fx->st), email, "P", "h", 1, &id), CX_OK);
	free(email);
	return id;
}

/* A connected Zoom row whose stored token expires at expires_at; the granted tokens in *tok. */
static int64_t connect_zoom(int64_t user, int64_t expires_at, struct oauth_tokens *tok)
{
	struct store_conn *c = store_conn(fx->st);
	int64_t id = 0;
	char *sealed = NULL;
	grant("zoom", "alice@example.com", tok);
	assert_int_equal(store_connection_reserve(c, user, "zoom", 1, &id), CX_OK);
	assert_int_equal(tokens_seal(fx->cfg.secret_key, "app_connection", id, tok->access_token,
	                             tok->refresh_token, &sealed),
	                 CX_OK);
	assert_int_equal(store_connection_connect(c, id, user, "zu1", "za1", "alice@example.com",
	                                          sealed, expires_at, tok->scope, 1),
	                 CX_OK);
	free(sealed);
	return id;
}

static int64_t connect_calendar(int64_t user, const char *provider, const char *email,
                                int64_t expires_at, struct oauth_tokens *tok)
{
	struct store_conn *c = store_conn(fx->st);
	int64_t id = 0;
	char *sealed = NULL;
	grant(provider, email, tok);
	assert_int_equal(store_calendar_account_reserve(c, user, provider, email, 1, &id, NULL),
	                 CX_OK);
	assert_int_equal(tokens_seal(fx->cfg.secret_key, "calendar_account", id, tok->access_token,
	                             tok->refresh_token, &sealed),
	                 CX_OK);
	assert_int_equal(store_calendar_account_connect(c, id, user, email, sealed, expires_at, "",
	                                                CALENDAR_ACCOUNT_ACTIVE, 1),
	                 CX_OK);
	free(sealed);
	return id;
}

/* The stored (sealed) tokens of a row, opened. */
static void stored_tokens(enum token_owner kind, int64_t user, int64_t id, char **access,
                          char **refresh, int64_t *version, char *status, size_t status_len)
{
	struct store_conn *c = store_conn(fx->st);
	if (kind == TOKEN_ZOOM) {
		struct store_connection conn;
		assert_int_equal(store_connection_get_by_id(c, user, id, &conn), CX_OK);
		assert_int_equal(tokens_open(fx->cfg.secret_key, "app_connection", id, conn.tokens,
		                             access, refresh),
		                 CX_OK);
		*version = conn.token_version;
		snprintf(status, status_len, "%s", conn.status);
		store_connection_release(&conn);
	} else {
		struct store_calendar_account a;
		assert_int_equal(store_calendar_account_get(c, user, id, &a), CX_OK);
		assert_int_equal(tokens_open(fx->cfg.secret_key, "calendar_account", id, a.tokens,
		                             access, refresh),
		                 CX_OK);
		*version = a.token_version;
		snprintf(status, status_len, "%s", a.status);
		store_calendar_account_release(&a);
	}
}

/* ---- waiting for token_get ---- */

struct result {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int calls;
	enum cx_err err;
	char *token;
	int64_t version;
};

static void got(enum cx_err err, const char *access_token, int64_t version, void *arg)
{
	struct result *r = arg;
	pthread_mutex_lock(&r->lock);
	r->calls++;
	r->done = true;
	r->err = err;
	r->token = access_token ? xstrdup(access_token) : NULL;
	r->version = version;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void result_init(struct result *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
}

static void result_wait(struct result *r)
{
	int64_t deadline = time_now_ms() + 15000;
	pthread_mutex_lock(&r->lock);
	while (!r->done && time_now_ms() < deadline) {
		pthread_mutex_unlock(&r->lock);
		usleep(5000);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	assert_true(r->done);
	assert_int_equal(r->calls, 1);
}

static void result_release(struct result *r)
{
	free(r->token);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
}

static void get_sync(struct token_refresher *tr, enum token_owner kind, int64_t id, int64_t user,
                     bool force, int64_t rejected, struct result *r)
{
	result_init(r);
	token_get(tr, kind, id, user, force, rejected, got, r);
	result_wait(r);
}

static int zoom_refreshes(void)
{
	return refresh_requests("/zoom/oauth/token", NULL);
}

/* ---- tests ---- */

static void test_fresh_token_without_request(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() + 3000, &tok);
	int before = zoom_refreshes();
	struct result r;
	get_sync(fx->tr, TOKEN_ZOOM, id, user, false, 0, &r);
	assert_int_equal(r.err, CX_OK);
	assert_string_equal(r.token, tok.access_token);
	assert_int_equal(r.version, 1);
	assert_int_equal(zoom_refreshes(), before);
	result_release(&r);

	/* Another person's row is not found; so is a row that does not exist. */
	int64_t other = new_user();
	get_sync(fx->tr, TOKEN_ZOOM, id, other, false, 0, &r);
	assert_int_equal(r.err, CX_ENOTFOUND);
	assert_null(r.token);
	result_release(&r);
	get_sync(fx->tr, TOKEN_CALENDAR, 999999, user, false, 0, &r);
	assert_int_equal(r.err, CX_ENOTFOUND);
	result_release(&r);
	oauth_tokens_release(&tok);
}

static void test_zoom_refresh_rotates_and_stores(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() + 30, &tok); /* inside the 60 s margin */
	control("/_sandbox/clock", "{\"advance_seconds\":3600}");
	int before = zoom_refreshes();
	struct result r;
	get_sync(fx->tr, TOKEN_ZOOM, id, user, false, 0, &r);
	assert_int_equal(r.err, CX_OK);
	assert_string_not_equal(r.token, tok.access_token);
	assert_int_equal(r.version, 2);
	assert_int_equal(zoom_refreshes(), before + 1);

	char *access = NULL, *refresh = NULL, status[24];
	int64_t version = 0;
	stored_tokens(TOKEN_ZOOM, user, id, &access, &refresh, &version, status, sizeof(status));
	assert_string_equal(access, r.token);
	assert_string_not_equal(refresh, tok.refresh_token); /* rotated, and stored */
	assert_int_equal(version, 2);
	assert_string_equal(status, CONNECTION_CONNECTED);
	struct store_connection conn;
	assert_int_equal(store_connection_get_by_id(store_conn(fx->st), user, id, &conn), CX_OK);
	assert_true(conn.token_expires_at > time_wall_s() + 3000);
	assert_null(strstr(conn.tokens, refresh)); /* sealed, not in the clear */
	store_connection_release(&conn);

	/* The new access token works at the API. */
	char *me = xasprintf("%s/users/me", fx->cfg.zoom.api_url);
	struct egress_request *q = egress_request_new("GET", me);
	char *bearer = xasprintf("Bearer %s", r.token);
	egress_request_header(q, "Authorization", bearer);
	struct egress_response *resp = call(q);
	assert_int_equal(resp->status, 200);
	egress_response_free(resp);

	/* The old refresh token is dead at Zoom; the stored one works for the next refresh. */
	struct result r2;
	get_sync(fx->tr, TOKEN_ZOOM, id, user, true, 2, &r2);
	assert_int_equal(r2.err, CX_OK);
	assert_int_equal(r2.version, 3);
	assert_int_equal(zoom_refreshes(), before + 2);
	result_release(&r2);

	free(bearer);
	free(me);
	free(access);
	free(refresh);
	result_release(&r);
	oauth_tokens_release(&tok);
}

struct burst {
	struct token_refresher *tr;
	int64_t id, user;
	struct result *results;
	int n;
};

static void *burst_main(void *arg)
{
	struct burst *b = arg;
	for (int i = 0; i < b->n; i++)
		token_get(b->tr, TOKEN_ZOOM, b->id, b->user, false, 0, got, &b->results[i]);
	store_thread_done(fx->st);
	return NULL;
}

static void test_fifty_callers_one_refresh(void **state)
{
	(void)state;
	enum { CALLERS = 50, THREADS = 5 };
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() - 10, &tok);
	/* A second refresher on the same store stands for a second instance. */
	struct token_refresher *tr2 = NULL;
	struct token_refresher_options to = {.store = fx->st, .cfg = &fx->cfg, .egress = fx->eg};
	assert_int_equal(token_refresher_start(&to, &tr2), CX_OK);
	control("/_sandbox/latency", "{\"ms\":150}");
	int before = zoom_refreshes();

	struct result results[CALLERS];
	for (int i = 0; i < CALLERS; i++)
		result_init(&results[i]);
	struct burst bursts[THREADS];
	pthread_t threads[THREADS];
	for (int t = 0; t < THREADS; t++) {
		bursts[t] = (struct burst){t % 2 ? tr2 : fx->tr, id, user,
		                           results + t * (CALLERS / THREADS), CALLERS / THREADS};
		assert_int_equal(pthread_create(&threads[t], NULL, burst_main, &bursts[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	for (int i = 0; i < CALLERS; i++) {
		result_wait(&results[i]);
		assert_int_equal(results[i].err, CX_OK);
		assert_int_equal(results[i].version, 2);
		assert_string_equal(results[i].token, results[0].token);
	}
	assert_string_not_equal(results[0].token, tok.access_token);
	for (int i = 0; i < CALLERS; i++)
		result_release(&results[i]);
	control("/_sandbox/latency", "{\"ms\":0}");
	assert_int_equal(zoom_refreshes(), before + 1);
	assert_int_equal(token_refresher_refreshes(fx->tr) + token_refresher_refreshes(tr2) > 0, 1);
	char *access = NULL, *refresh = NULL, status[24];
	int64_t version = 0;
	stored_tokens(TOKEN_ZOOM, user, id, &access, &refresh, &version, status, sizeof(status));
	assert_string_equal(status, CONNECTION_CONNECTED);
	assert_int_equal(version, 2);
	int64_t lock = -1;
	struct store_val p[] = {SV_INT(id)};
	assert_int_equal(store_query_int(store_conn(fx->st),
	                                 "SELECT refresh_lock_until_ms FROM app_connections "
	                                 "WHERE id = $1",
	                                 p, 1, &lock),
	                 CX_OK);
	assert_int_equal(lock, 0); /* released with the store */
	free(access);
	free(refresh);
	token_refresher_stop(tr2);
	oauth_tokens_release(&tok);
}

static bool activity_has(int64_t user, const char *kind, const char *words);

static void test_revoked_grant_needs_reconnect(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() + 3000, &tok);
	struct egress_request *q = NULL;
	assert_int_equal(
	    oauth_revoke_request(&fx->cfg.zoom, OAUTH_AUTH_BASIC, tok.access_token, NULL, &q),
	    CX_OK);
	struct egress_response *resp = call(q);
	assert_int_equal(resp->status, 200);
	egress_response_free(resp);

	/* The API rejected version 1: refreshing finds the grant dead. */
	struct result r;
	get_sync(fx->tr, TOKEN_ZOOM, id, user, true, 1, &r);
	assert_int_equal(r.err, CX_EAUTH);
	assert_null(r.token);
	result_release(&r);
	struct store_connection conn;
	assert_int_equal(store_connection_get_by_id(store_conn(fx->st), user, id, &conn), CX_OK);
	assert_string_equal(conn.status, CONNECTION_NEEDS_RECONNECT);
	assert_non_null(conn.last_error);
	assert_non_null(strstr(conn.last_error, "connect it again"));
	store_connection_release(&conn);
	assert_true(activity_has(user, "zoom.needs_reconnect", "Disconnect Zoom"));

	/* From now on: CX_EAUTH at once, without asking Zoom again. */
	int before = zoom_refreshes();
	get_sync(fx->tr, TOKEN_ZOOM, id, user, true, 1, &r);
	assert_int_equal(r.err, CX_EAUTH);
	result_release(&r);
	assert_int_equal(zoom_refreshes(), before);
	oauth_tokens_release(&tok);
}

struct activity_search {
	const char *kind, *words;
	bool found;
};

static void activity_seen(const struct store_activity *a, void *arg)
{
	struct activity_search *s = arg;
	if (strcmp(a->kind, s->kind) == 0 && strstr(a->detail, s->words) &&
	    strstr(a->detail, "connect it again"))
		s->found = true;
}

static bool activity_has(int64_t user, const char *kind, const char *words)
{
	struct activity_search s = {kind, words, false};
	assert_int_equal(store_activity_list(store_conn(fx->st), user, 50, activity_seen, &s),
	                 CX_OK);
	return s.found;
}

static void test_503_is_retryable_and_changes_nothing(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() + 10, &tok);
	control("/_sandbox/faults", "{\"rules\":[{\"method\":\"POST\",\"path_prefix\":"
	                            "\"/zoom/oauth/token\",\"status\":503,\"count\":1}]}");
	struct result r;
	get_sync(fx->tr, TOKEN_ZOOM, id, user, false, 0, &r);
	assert_true(r.err == CX_EUPSTREAM || r.err == CX_EBUSY);
	result_release(&r);

	char *access = NULL, *refresh = NULL, status[24];
	int64_t version = 0;
	stored_tokens(TOKEN_ZOOM, user, id, &access, &refresh, &version, status, sizeof(status));
	assert_string_equal(status, CONNECTION_CONNECTED);
	assert_int_equal(version, 1);
	assert_string_equal(access, tok.access_token);
	assert_string_equal(refresh, tok.refresh_token);
	free(access);
	free(refresh);
	assert_false(activity_has(user, "zoom.needs_reconnect", "Zoom"));

	/* The lease was released and the refresh token is intact: the next call refreshes. */
	get_sync(fx->tr, TOKEN_ZOOM, id, user, false, 0, &r);
	assert_int_equal(r.err, CX_OK);
	assert_int_equal(r.version, 2);
	result_release(&r);
	oauth_tokens_release(&tok);
}

static void test_forced_refresh_once_per_rejected_version(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() + 3000, &tok);
	int before = zoom_refreshes();
	struct result r1, r2, r3;
	get_sync(fx->tr, TOKEN_ZOOM, id, user, true, 1, &r1);
	assert_int_equal(r1.err, CX_OK);
	assert_int_equal(r1.version, 2);
	assert_string_not_equal(r1.token, tok.access_token);
	assert_int_equal(zoom_refreshes(), before + 1);
	/* A second caller rejected by the same version gets the refreshed token, no refresh. */
	get_sync(fx->tr, TOKEN_ZOOM, id, user, true, 1, &r2);
	assert_int_equal(r2.err, CX_OK);
	assert_int_equal(r2.version, 2);
	assert_string_equal(r2.token, r1.token);
	assert_int_equal(zoom_refreshes(), before + 1);
	/* Rejecting a version that is not the stored one changes nothing either. */
	get_sync(fx->tr, TOKEN_ZOOM, id, user, true, 7, &r3);
	assert_int_equal(r3.err, CX_OK);
	assert_int_equal(r3.version, 2);
	assert_int_equal(zoom_refreshes(), before + 1);
	result_release(&r1);
	result_release(&r2);
	result_release(&r3);
	oauth_tokens_release(&tok);
}

static void test_google_keeps_refresh_token(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_calendar(user, "google", "alice@example.com", time_wall_s() + 5, &tok);
	int before = refresh_requests("/google/token", NULL);
	struct result r;
	get_sync(fx->tr, TOKEN_CALENDAR, id, user, false, 0, &r);
	assert_int_equal(r.err, CX_OK);
	assert_int_equal(r.version, 2);
	assert_string_not_equal(r.token, tok.access_token);
	assert_int_equal(refresh_requests("/google/token", NULL), before + 1);
	char *access = NULL, *refresh = NULL, status[24];
	int64_t version = 0;
	stored_tokens(TOKEN_CALENDAR, user, id, &access, &refresh, &version, status,
	              sizeof(status));
	assert_string_equal(access, r.token);
	assert_string_equal(refresh, tok.refresh_token); /* no rotation: the old one is kept */
	assert_string_equal(status, CALENDAR_ACCOUNT_ACTIVE);
	free(access);
	free(refresh);
	result_release(&r);

	/* Suspended accounts get no token. */
	assert_int_equal(store_calendar_accounts_suspend(store_conn(fx->st), user, true, 2, NULL),
	                 CX_OK);
	get_sync(fx->tr, TOKEN_CALENDAR, id, user, false, 0, &r);
	assert_int_equal(r.err, CX_EFORBIDDEN);
	result_release(&r);
	oauth_tokens_release(&tok);
}

static void test_microsoft_rotates(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id =
	    connect_calendar(user, "microsoft", "alice@contoso.example", time_wall_s() + 5, &tok);
	const char *path = "/microsoft/common/oauth2/v2.0/token";
	int before = refresh_requests(path, "scope=");
	struct result r;
	get_sync(fx->tr, TOKEN_CALENDAR, id, user, false, 0, &r);
	assert_int_equal(r.err, CX_OK);
	assert_int_equal(r.version, 2);
	assert_int_equal(refresh_requests(path, "scope="), before + 1);
	char *access = NULL, *refresh = NULL, status[24];
	int64_t version = 0;
	stored_tokens(TOKEN_CALENDAR, user, id, &access, &refresh, &version, status,
	              sizeof(status));
	assert_string_equal(access, r.token);
	assert_string_not_equal(refresh, tok.refresh_token);
	free(access);
	free(refresh);
	result_release(&r);
	oauth_tokens_release(&tok);
}

/* ---- from a job run: the worker returns PENDING and is not held while the token comes ---- */

static void job_got(enum cx_err err, const char *access_token, int64_t version, void *arg)
{
	struct job_run *run = arg;
	if (err) {
		snprintf(run->error, sizeof(run->error), "no token: %s", cx_strerror(err));
		job_run_finish(run, JOB_OUTCOME_FAIL);
		return;
	}
	(void)access_token;
	run->result = arena_printf(run->arena, "{\"version\":%lld}", (long long)version);
	job_run_finish(run, JOB_OUTCOME_DONE);
}

static enum job_outcome run_needs_token(struct job_run *run)
{
	const struct job_env *env = run->app;
	json_t *p = json_loads(run->job->payload, 0, NULL);
	int64_t id = json_integer_value(json_object_get(p, "id"));
	int64_t user = json_integer_value(json_object_get(p, "user"));
	json_decref(p);
	token_get(env->tokens, TOKEN_ZOOM, id, user, false, 0, job_got, run);
	return JOB_OUTCOME_PENDING;
}

static void test_from_a_job_run(void **state)
{
	(void)state;
	struct oauth_tokens tok;
	int64_t user = new_user();
	int64_t id = connect_zoom(user, time_wall_s() + 1, &tok);
	struct job_env env = {.store = fx->st, .cfg = &fx->cfg, .egress = fx->eg, .tokens = fx->tr};
	static const struct job_kind kinds[] = {
	    {.name = "test.needs_token", .run = run_needs_token, .max_attempts = 1}};
	struct job_runner_options ro = {.store = fx->st,
	                                .kinds = kinds,
	                                .n_kinds = 1,
	                                .workers = 1,
	                                .poll_ms = 50,
	                                .app = &env};
	struct job_runner *runner = NULL;
	assert_int_equal(job_runner_start(&ro, &runner), CX_OK);
	char *payload = xasprintf("{\"id\":%lld,\"user\":%lld}", (long long)id, (long long)user);
	int64_t job_id = 0;
	assert_int_equal(
	    job_enqueue(store_conn(fx->st), "test.needs_token", payload, NULL, 0, &job_id, NULL),
	    CX_OK);
	job_runner_kick(runner);
	enum job_state js = JOB_QUEUED;
	char *result = NULL;
	int64_t deadline = time_now_ms() + 15000;
	while (time_now_ms() < deadline) {
		free(result);
		result = NULL;
		assert_int_equal(job_get_state(store_conn(fx->st), job_id, &js, &result, NULL),
		                 CX_OK);
		if (js == JOB_DONE || js == JOB_FAILED)
			break;
		usleep(20000);
	}
	assert_int_equal(js, JOB_DONE);
	assert_non_null(result);
	assert_non_null(strstr(result, "\"version\":2"));
	free(result);
	free(payload);
	job_runner_stop(runner);
	oauth_tokens_release(&tok);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_token_without_request),
	    cmocka_unit_test(test_zoom_refresh_rotates_and_stores),
	    cmocka_unit_test(test_fifty_callers_one_refresh),
	    cmocka_unit_test(test_revoked_grant_needs_reconnect),
	    cmocka_unit_test(test_503_is_retryable_and_changes_nothing),
	    cmocka_unit_test(test_forced_refresh_once_per_rejected_version),
	    cmocka_unit_test(test_google_keeps_refresh_token),
	    cmocka_unit_test(test_microsoft_rotates),
	    cmocka_unit_test(test_from_a_job_run),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
