/* The Google emulator (sandbox/google.c): a sandbox started in-process on a free loopback port and
 * driven over HTTP with libcurl: OAuth (authorize page, decision, token, refresh without rotation,
 * revoke), calendarList, events list with paging and sync tokens, insert/get/patch/delete, Meet,
 * push channels received by a small server in the test, rate limits and the error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/time.h"
#include "http/http.h"
#include "sandbox.h"
#include "sb.h"
#include "base/banned.h"

#define REDIRECT "http://127.0.0.1:5555/oauth/google/callback"
#define SCOPE_EVENTS "https://www.googleapis.com/auth/calendar.events"
#define SCOPE_LIST "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
#define EV "/google/calendar/v3/calendars/primary/events"

static struct sb *sb;

struct resp {
	CURLcode rc;
	long status;
	char *body;
	struct buf headers;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	(void)buf_append(arg, p, size * n);
	return size * n;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	buf_release(&r->headers);
	free(r);
}

/* A response header's value (copied; caller frees) or NULL. */
static char *resp_header(struct resp *r, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = r->headers.data; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			return xstrndup(v, len - (size_t)(v - p));
		}
		p = eol ? eol + 2 : p + len;
	}
	return NULL;
}

static struct resp *call(const char *method, const char *path, const char *ctype, const char *body,
                         const char *header)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	struct buf b;
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	char *url = xasprintf("%s%s", sb->base_url, path);

	buf_init(&b, 4 * 1024 * 1024);
	buf_init(&r->headers, 64 * 1024);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (ctype) {
		char *line = xasprintf("Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
		free(line);
	}
	if (header)
		h = curl_slist_append(h, header);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = buf_detach(&b, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return r;
}

/* An API call with a bearer token; asserts the status and returns the JSON body (or NULL). */
static json_t *api(const char *method, const char *path, const char *token, const char *body,
                   long status)
{
	char *auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
	struct resp *r = call(method, path, body ? "application/json" : NULL, body, auth);
	free(auth);
	assert_int_equal(r->rc, CURLE_OK);
	if (r->status != status)
		fprintf(stderr, "%s %s: %ld %s\n", method, path, r->status, r->body);
	assert_int_equal(r->status, status);
	json_t *doc = json_loads(r->body, 0, NULL);
	resp_free(r);
	return doc;
}

static json_t *control(const char *path, const char *body)
{
	json_t *doc = api("POST", path, NULL, body, 200);
	assert_non_null(doc);
	return doc;
}

static void advance_clock(long seconds)
{
	char *body = xasprintf("{\"advance_seconds\":%ld}", seconds);
	json_decref(control("/_sandbox/clock", body));
	free(body);
}

static const char *error_reason(const json_t *doc)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(json_object_get(doc, "error"), "errors"), 0), "reason"));
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static char *escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out = xstrdup(e);
	curl_free(e);
	return out;
}

/* The value of a query parameter in a URL (decoded; caller frees) or NULL. */
static char *url_param(const char *url, const char *name)
{
	size_t n = strlen(name);
	const char *q = strchr(url, '?');
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			int outlen;
			char *raw = xstrndup(p + n + 1, len - n - 1);
			for (char *x = raw; *x; x++)
				if (*x == '+')
					*x = ' ';
			char *d = curl_easy_unescape(NULL, raw, 0, &outlen);
			char *out = xstrdup(d);
			curl_free(d);
			free(raw);
			return out;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* Posts the consent form; returns the Location of the 302. */
static char *decide(const char *decision, const char *scope, const char *extra)
{
	char *es = escape(scope), *er = escape(REDIRECT);
	char *form = xasprintf("client_id=sandbox-google-client&redirect_uri=%s&response_type=code&"
	                       "scope=%s&state=st%%2B1&user=alice%%40example.com&decision=%s%s",
	                       er, es, decision, extra ? extra : "");
	struct resp *r = call("POST", "/google/o/oauth2/v2/auth/decision",
	                      "application/x-www-form-urlencoded", form, NULL);
	assert_int_equal(r->status, 302);
	char *loc = resp_header(r, "Location");
	assert_non_null(loc);
	resp_free(r);
	free(es);
	free(er);
	free(form);
	return loc;
}

static json_t *token_call(const char *form, long status)
{
	struct resp *r =
	    call("POST", "/google/token", "application/x-www-form-urlencoded", form, NULL);
	assert_int_equal(r->rc, CURLE_OK);
	if (r->status != status)
		fprintf(stderr, "token: %ld %s\n", r->status, r->body);
	assert_int_equal(r->status, status);
	json_t *doc = json_loads(r->body, 0, NULL);
	assert_non_null(doc);
	resp_free(r);
	return doc;
}

/* Authorize (offline, with prompt=consent) and exchange: the token answer. */
static json_t *connect_with(const char *scope)
{
	char *loc = decide("allow", scope, "&access_type=offline&prompt=consent");
	char *code = url_param(loc, "code");
	assert_non_null(code);
	char *ec = escape(code), *er = escape(REDIRECT);
	char *form = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&client_id="
	                       "sandbox-google-client&client_secret=sandbox-secret",
	                       ec, er);
	json_t *tok = token_call(form, 200);
	free(form);
	free(ec);
	free(er);
	free(code);
	free(loc);
	return tok;
}

static char *access_token;

static int connect_default(void)
{
	json_t *tok = connect_with(SCOPE_EVENTS " " SCOPE_LIST);
	free(access_token);
	access_token = xstrdup(json_string_value(json_object_get(tok, "access_token")));
	json_decref(tok);
	return 0;
}

/* --- a push receiver in the test process --- */

#define MAX_PUSHES 32
struct push {
	char *channel, *token, *state, *number, *resource_id, *resource_uri, *expiration;
};
static struct http_server *receiver;
static pthread_mutex_t pushes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct push pushes[MAX_PUSHES];
static int n_pushes;

static char *dup_header(struct http_request *req, const char *name)
{
	const char *v = http_header(req, name);
	return v ? xstrdup(v) : NULL;
}

static void hook(struct http_request *req)
{
	pthread_mutex_lock(&pushes_lock);
	if (n_pushes < MAX_PUSHES) {
		struct push *p = &pushes[n_pushes++];
		p->channel = dup_header(req, "X-Goog-Channel-ID");
		p->token = dup_header(req, "X-Goog-Channel-Token");
		p->state = dup_header(req, "X-Goog-Resource-State");
		p->number = dup_header(req, "X-Goog-Message-Number");
		p->resource_id = dup_header(req, "X-Goog-Resource-ID");
		p->resource_uri = dup_header(req, "X-Goog-Resource-URI");
		p->expiration = dup_header(req, "X-Goog-Channel-Expiration");
	}
	pthread_mutex_unlock(&pushes_lock);
	http_reply_empty(req, 200);
}

static void clear_pushes(void)
{
	pthread_mutex_lock(&pushes_lock);
	for (int i = 0; i < n_pushes; i++) {
		free(pushes[i].channel);
		free(pushes[i].token);
		free(pushes[i].state);
		free(pushes[i].number);
		free(pushes[i].resource_id);
		free(pushes[i].resource_uri);
		free(pushes[i].expiration);
	}
	memset(pushes, 0, sizeof(pushes));
	n_pushes = 0;
	pthread_mutex_unlock(&pushes_lock);
}

static int wait_pushes(int n)
{
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&pushes_lock);
		int have = n_pushes;
		pthread_mutex_unlock(&pushes_lock);
		if (have >= n)
			return have;
		sleep_ms(10);
	}
	pthread_mutex_lock(&pushes_lock);
	int have = n_pushes;
	pthread_mutex_unlock(&pushes_lock);
	return have;
}

static const struct http_route receiver_routes[] = {{"POST", "/hook", hook}};

static int setup(void **st)
{
	struct sandbox_options opts = {.port = 0, .seed = 11, .threads = 2};
	struct http_server_options ro = {
	    .host = "127.0.0.1",
	    .threads = 1,
	    .max_connections = 16,
	    .idle_timeout_s = 5,
	    .max_body = 65536,
	    .max_header_memory = 16384,
	    .routes = receiver_routes,
	    .n_routes = 1,
	};
	(void)st;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(sandbox_start(&opts, &sb), CX_OK);
	assert_int_equal(http_server_start(&ro, &receiver), CX_OK);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	sandbox_stop(sb);
	http_server_stop(receiver);
	clear_pushes();
	free(access_token);
	curl_global_cleanup();
	return 0;
}

static int reset_each(void **st)
{
	(void)st;
	json_decref(control("/_sandbox/reset", NULL));
	clear_pushes();
	return connect_default();
}

static json_t *insert(const char *body)
{
	json_t *e = api("POST", EV, access_token, body, 200);
	assert_non_null(e);
	return e;
}

static json_t *insert_at(const char *summary, const char *start, const char *end)
{
	char *body = xasprintf("{\"summary\":\"%s\",\"start\":{\"dateTime\":\"%s\"},"
	                       "\"end\":{\"dateTime\":\"%s\"}}",
	                       summary, start, end);
	json_t *e = insert(body);
	free(body);
	return e;
}

/* --- OAuth --- */

static void authorize_page_and_bad_clients(void **st)
{
	(void)st;
	char *er = escape(REDIRECT);
	char *path = xasprintf("/google/o/oauth2/v2/auth?client_id=sandbox-google-client&"
	                       "redirect_uri=%s&response_type=code&scope=%s&state=x",
	                       er, SCOPE_EVENTS);
	struct resp *r = call("GET", path, NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->body, "/google/o/oauth2/v2/auth/decision"));
	assert_non_null(strstr(r->body, "View and edit events on all your calendars"));
	resp_free(r);
	free(path);

	path = xasprintf("/google/o/oauth2/v2/auth?client_id=someone-else&redirect_uri=%s&"
	                 "response_type=code&scope=x",
	                 er);
	r = call("GET", path, NULL, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_non_null(strstr(r->body, "invalid_client"));
	assert_null(resp_header(r, "Location"));
	resp_free(r);
	free(path);

	r = call("GET",
	         "/google/o/oauth2/v2/auth?client_id=sandbox-google-client&redirect_uri="
	         "http%3A%2F%2Fevil.example%2Foauth%2Fgoogle%2Fcallback&response_type=code&scope=x",
	         NULL, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_non_null(strstr(r->body, "redirect_uri_mismatch"));
	resp_free(r);
	free(er);
}

static void deny_redirects_with_access_denied(void **st)
{
	(void)st;
	char *loc = decide("deny", SCOPE_EVENTS, NULL);
	assert_int_equal(strncmp(loc, REDIRECT "?", strlen(REDIRECT) + 1), 0);
	char *err = url_param(loc, "error"), *state = url_param(loc, "state");
	assert_string_equal(err, "access_denied");
	assert_string_equal(state, "st+1");
	assert_null(url_param(loc, "code"));
	free(err);
	free(state);
	free(loc);
}

static void code_exchange_rules(void **st)
{
	(void)st;
	char *loc = decide("allow", SCOPE_EVENTS, "&access_type=offline&prompt=consent");
	char *code = url_param(loc, "code"), *scope = url_param(loc, "scope");
	assert_string_equal(scope, SCOPE_EVENTS);
	char *ec = escape(code), *er = escape(REDIRECT);

	char *form = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&client_id="
	                       "sandbox-google-client&client_secret=wrong",
	                       ec, er);
	json_t *doc = token_call(form, 401);
	assert_string_equal(json_string_value(json_object_get(doc, "error")), "invalid_client");
	assert_string_equal(json_string_value(json_object_get(doc, "error_description")),
	                    "Unauthorized");
	json_decref(doc);
	free(form);

	/* Basic client authentication works too. */
	form = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s", ec, er);
	struct resp *r =
	    call("POST", "/google/token", "application/x-www-form-urlencoded", form,
	         "Authorization: Basic c2FuZGJveC1nb29nbGUtY2xpZW50OnNhbmRib3gtc2VjcmV0");
	assert_int_equal(r->status, 200);
	doc = json_loads(r->body, 0, NULL);
	resp_free(r);
	assert_int_equal(json_integer_value(json_object_get(doc, "expires_in")), 3599);
	assert_string_equal(json_string_value(json_object_get(doc, "token_type")), "Bearer");
	assert_string_equal(json_string_value(json_object_get(doc, "scope")), SCOPE_EVENTS);
	assert_non_null(json_string_value(json_object_get(doc, "refresh_token")));
	json_decref(doc);

	/* Codes are single-use. */
	r = call("POST", "/google/token", "application/x-www-form-urlencoded", form,
	         "Authorization: Basic c2FuZGJveC1nb29nbGUtY2xpZW50OnNhbmRib3gtc2VjcmV0");
	assert_int_equal(r->status, 400);
	doc = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "error")), "invalid_grant");
	assert_string_equal(json_string_value(json_object_get(doc, "error_description")),
	                    "Bad Request");
	json_decref(doc);
	resp_free(r);
	free(form);
	free(ec);
	free(code);
	free(scope);
	free(loc);

	/* Without prompt=consent a second offline consent brings no refresh token (GE-05). */
	loc = decide("allow", SCOPE_EVENTS, "&access_type=offline");
	code = url_param(loc, "code");
	ec = escape(code);
	form = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&client_id="
	                 "sandbox-google-client&client_secret=sandbox-secret",
	                 ec, er);
	doc = token_call(form, 200);
	assert_null(json_object_get(doc, "refresh_token"));
	assert_non_null(json_object_get(doc, "access_token"));
	json_decref(doc);
	free(form);
	free(ec);
	free(code);
	free(loc);
	free(er);
}

static void pkce_s256_is_checked(void **st)
{
	(void)st;
	const char *verifier = "dBjftJeZ4CVP-mJ92K9qlUo4tFxGk4AgwWbYDmJ3Kcw0";
	uint8_t digest[32];
	sec_sha256(verifier, strlen(verifier), digest);
	char *challenge = sec_base64url_encode(digest, sizeof(digest));
	char *extra = xasprintf("&code_challenge=%s&code_challenge_method=S256", challenge);
	char *er = escape(REDIRECT);
	for (int round = 0; round < 2; round++) {
		char *loc = decide("allow", SCOPE_EVENTS, extra);
		char *code = url_param(loc, "code");
		char *ec = escape(code);
		char *form = xasprintf(
		    "grant_type=authorization_code&code=%s&redirect_uri=%s&"
		    "client_id=sandbox-google-client&client_secret=sandbox-"
		    "secret&code_verifier=%s",
		    ec, er, round == 0 ? "wrong-verifier-wrong-verifier-wrong-1234" : verifier);
		json_t *doc = token_call(form, round == 0 ? 400 : 200);
		if (round == 0)
			assert_string_equal(json_string_value(json_object_get(doc, "error")),
			                    "invalid_grant");
		else
			assert_non_null(json_object_get(doc, "access_token"));
		json_decref(doc);
		free(form);
		free(ec);
		free(code);
		free(loc);
	}
	free(er);
	free(extra);
	free(challenge);
}

static void refresh_keeps_token_and_revoke_kills_grant(void **st)
{
	(void)st;
	json_t *tok = connect_with(SCOPE_EVENTS " " SCOPE_LIST);
	char *rt = escape(json_string_value(json_object_get(tok, "refresh_token")));
	char *at = xstrdup(json_string_value(json_object_get(tok, "access_token")));
	json_decref(tok);
	char *form = xasprintf("grant_type=refresh_token&refresh_token=%s&client_id=sandbox-"
	                       "google-client&client_secret=sandbox-secret",
	                       rt);
	json_t *a = token_call(form, 200);
	json_t *b = token_call(form, 200); /* the same refresh token works again: no rotation */
	assert_null(json_object_get(a, "refresh_token"));
	assert_null(json_object_get(b, "refresh_token"));
	const char *at2 = json_string_value(json_object_get(b, "access_token"));
	assert_string_not_equal(at2, at);
	json_decref(api("GET", "/google/calendar/v3/users/me/calendarList", at2, NULL, 200));

	json_t *s = api("GET", "/_sandbox/state", NULL, NULL, 200);
	json_t *g = json_object_get(s, "google");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(g, "counters"), "token_refreshes")),
	    2);
	/* The state lists token prefixes, never whole tokens. */
	char *dump = json_dumps(s, JSON_COMPACT);
	assert_null(strstr(dump, at2));
	assert_null(strstr(dump, json_string_value(json_object_get(a, "access_token"))));
	free(dump);
	json_decref(s);

	char *rev = xasprintf("/google/revoke?token=%s", rt);
	json_decref(api("POST", rev, NULL, "", 200));
	json_t *dead = token_call(form, 400);
	assert_string_equal(json_string_value(json_object_get(dead, "error")), "invalid_grant");
	assert_string_equal(json_string_value(json_object_get(dead, "error_description")),
	                    "Token has been expired or revoked.");
	json_decref(dead);
	/* The whole grant died: its access tokens too. */
	json_t *e = api("GET", "/google/calendar/v3/users/me/calendarList", at2, NULL, 401);
	assert_string_equal(error_reason(e), "authError");
	json_decref(e);
	json_t *again = api("POST", rev, NULL, "", 400);
	assert_string_equal(json_string_value(json_object_get(again, "error")), "invalid_token");
	json_decref(again);
	free(rev);
	json_decref(a);
	json_decref(b);
	free(form);
	free(rt);
	free(at);
}

static void access_tokens_expire_on_the_sandbox_clock(void **st)
{
	(void)st;
	json_decref(
	    api("GET", "/google/calendar/v3/users/me/calendarList", access_token, NULL, 200));
	advance_clock(3600);
	json_t *e =
	    api("GET", "/google/calendar/v3/users/me/calendarList", access_token, NULL, 401);
	json_t *err = json_object_get(e, "error");
	assert_int_equal(json_integer_value(json_object_get(err, "code")), 401);
	assert_string_equal(json_string_value(json_object_get(err, "message")),
	                    "Invalid Credentials");
	json_t *first = json_array_get(json_object_get(err, "errors"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "domain")), "global");
	assert_string_equal(json_string_value(json_object_get(first, "reason")), "authError");
	assert_string_equal(json_string_value(json_object_get(first, "locationType")), "header");
	assert_string_equal(json_string_value(json_object_get(first, "location")), "Authorization");
	json_decref(e);
	json_decref(api("GET", "/google/calendar/v3/users/me/calendarList", NULL, NULL, 401));
}

/* --- calendarList --- */

static void calendar_list_pages_and_scopes(void **st)
{
	(void)st;
	json_t *l =
	    api("GET", "/google/calendar/v3/users/me/calendarList", access_token, NULL, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 2);
	json_t *p = json_array_get(items, 0);
	assert_string_equal(json_string_value(json_object_get(p, "id")), "alice@example.com");
	assert_true(json_is_true(json_object_get(p, "primary")));
	assert_string_equal(json_string_value(json_object_get(p, "accessRole")), "owner");
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "summary")),
	                    "Work");
	assert_non_null(json_object_get(l, "nextSyncToken"));
	assert_null(json_object_get(l, "nextPageToken"));
	json_decref(l);

	l = api("GET", "/google/calendar/v3/users/me/calendarList?maxResults=1", access_token, NULL,
	        200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
	assert_null(json_object_get(l, "nextSyncToken"));
	char *path = xasprintf("/google/calendar/v3/users/me/calendarList?maxResults=1&"
	                       "pageToken=%s",
	                       json_string_value(json_object_get(l, "nextPageToken")));
	json_decref(l);
	l = api("GET", path, access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(l, "items"), 0), "summary")),
	                    "Work");
	assert_non_null(json_object_get(l, "nextSyncToken"));
	assert_null(json_object_get(l, "nextPageToken"));
	json_decref(l);
	free(path);

	/* calendar.events alone cannot list calendars (GE-11). */
	json_t *tok = connect_with(SCOPE_EVENTS);
	json_t *e = api("GET", "/google/calendar/v3/users/me/calendarList",
	                json_string_value(json_object_get(tok, "access_token")), NULL, 403);
	assert_string_equal(error_reason(e), "insufficientPermissions");
	json_decref(e);
	json_decref(tok);
}

/* --- events --- */

static void insert_get_patch_delete(void **st)
{
	(void)st;
	json_t *e = insert("{\"id\":\"calend0booking42\",\"summary\":\"Intro\",\"location\":"
	                   "\"https://zoom.example/j/1\",\"start\":{\"dateTime\":"
	                   "\"2026-12-01T10:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"},\"end\":"
	                   "{\"dateTime\":\"2026-12-01T11:00:00+01:00\"},\"extendedProperties\":"
	                   "{\"private\":{\"calendoxBookingId\":\"42\"}}}");
	assert_string_equal(json_string_value(json_object_get(e, "id")), "calend0booking42");
	assert_string_equal(json_string_value(json_object_get(e, "status")), "confirmed");
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "calendar#event");
	assert_non_null(json_object_get(e, "iCalUID"));
	assert_non_null(json_object_get(e, "htmlLink"));
	assert_non_null(json_object_get(e, "created"));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "start"), "timeZone")),
	    "Europe/Berlin");
	char *etag1 = xstrdup(json_string_value(json_object_get(e, "etag")));
	json_decref(e);

	/* The same client id again: 409 duplicate. */
	e = api("POST", EV, access_token,
	        "{\"id\":\"calend0booking42\",\"start\":{\"date\":\"2026-12-01\"},\"end\":"
	        "{\"date\":\"2026-12-02\"}}",
	        409);
	assert_string_equal(error_reason(e), "duplicate");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "error"), "message")),
	    "The requested identifier already exists.");
	json_decref(e);
	/* Ids outside base32hex or shorter than 5 characters: 400. */
	e = api("POST", EV, access_token,
	        "{\"id\":\"UPPER-case\",\"start\":{\"date\":\"2026-12-01\"},\"end\":{\"date\":"
	        "\"2026-12-02\"}}",
	        400);
	json_decref(e);
	json_decref(api("POST", EV, access_token,
	                "{\"id\":\"abcd\",\"start\":{\"date\":\"2026-12-01\"},\"end\":{\"date\":"
	                "\"2026-12-02\"}}",
	                400));
	/* start/end are required; an offset-less dateTime needs a timeZone. */
	json_decref(api("POST", EV, access_token, "{\"summary\":\"x\"}", 400));
	json_decref(api("POST", EV, access_token,
	                "{\"start\":{\"dateTime\":\"2026-12-01T10:00:00\"},\"end\":{\"dateTime\":"
	                "\"2026-12-01T11:00:00\"}}",
	                400));
	json_decref(api("POST", EV, access_token, "{not json", 400));

	json_t *g = api("GET", EV "/calend0booking42", access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(g, "summary")), "Intro");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(g, "extendedProperties"), "private"),
	        "calendoxBookingId")),
	    "42");
	json_decref(g);

	json_t *p = api("PATCH", EV "/calend0booking42", access_token,
	                "{\"summary\":\"Intro call\",\"extendedProperties\":{\"private\":"
	                "{\"zoomMeetingId\":\"9\"}}}",
	                200);
	assert_string_equal(json_string_value(json_object_get(p, "summary")), "Intro call");
	assert_string_equal(json_string_value(json_object_get(p, "location")),
	                    "https://zoom.example/j/1");
	json_t *priv = json_object_get(json_object_get(p, "extendedProperties"), "private");
	assert_string_equal(json_string_value(json_object_get(priv, "calendoxBookingId")), "42");
	assert_string_equal(json_string_value(json_object_get(priv, "zoomMeetingId")), "9");
	assert_string_not_equal(json_string_value(json_object_get(p, "etag")), etag1);
	json_decref(p);

	json_decref(api("DELETE", EV "/calend0booking42", access_token, NULL, 204));
	g = api("GET", EV "/calend0booking42", access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(g, "status")), "cancelled");
	json_decref(g);
	e = api("DELETE", EV "/calend0booking42", access_token, NULL, 410);
	assert_string_equal(error_reason(e), "deleted");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "error"), "message")),
	    "Resource has been deleted");
	json_decref(e);
	e = api("DELETE", EV "/unknownevent", access_token, NULL, 404);
	assert_string_equal(error_reason(e), "notFound");
	json_decref(e);
	json_decref(api("GET", "/google/calendar/v3/calendars/nobody%40example.com/events",
	                access_token, NULL, 404));
	free(etag1);

	json_t *s = api("GET", "/_sandbox/state", NULL, NULL, 200);
	json_t *c = json_object_get(json_object_get(s, "google"), "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "inserts")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "deletes")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "patches")), 1);
	json_decref(s);
}

static void stale_if_match_is_412(void **st)
{
	(void)st;
	json_t *e = insert_at("A", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z");
	char *id = xstrdup(json_string_value(json_object_get(e, "id")));
	char *old = xasprintf("If-Match: %s", json_string_value(json_object_get(e, "etag")));
	json_decref(e);
	char *path = xasprintf(EV "/%s", id);
	json_decref(api("PATCH", path, access_token, "{\"summary\":\"B\"}", 200));
	char *auth = xasprintf("Authorization: Bearer %s", access_token);
	/* curl takes one extra header here; send the token and the stale etag together. */
	struct curl_slist *h = curl_slist_append(NULL, auth);
	h = curl_slist_append(h, old);
	h = curl_slist_append(h, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	char *url = xasprintf("%s%s", sb->base_url, path);
	struct buf b;
	buf_init(&b, 65536);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"summary\":\"C\"}");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	long status;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 412);
	assert_non_null(strstr(b.data, "conditionNotMet"));
	buf_release(&b);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(url);
	free(auth);
	free(old);
	free(path);
	free(id);
}

static void list_filters_and_recurrence(void **st)
{
	(void)st;
	json_decref(insert_at("early", "2026-12-01T08:00:00Z", "2026-12-01T09:00:00Z"));
	json_decref(insert_at("late", "2026-12-03T08:00:00Z", "2026-12-03T09:00:00Z"));
	json_decref(insert("{\"summary\":\"standup\",\"start\":{\"dateTime\":"
	                   "\"2026-12-01T09:30:00Z\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
	                   "\"2026-12-01T09:45:00Z\",\"timeZone\":\"UTC\"},\"recurrence\":"
	                   "[\"RRULE:FREQ=DAILY;COUNT=3\"]}"));
	/* A recurring event without a time zone is refused. */
	json_decref(api("POST", EV, access_token,
	                "{\"start\":{\"dateTime\":\"2026-12-01T09:30:00Z\"},\"end\":{\"dateTime\":"
	                "\"2026-12-01T09:45:00Z\"},\"recurrence\":[\"RRULE:FREQ=DAILY\"]}",
	                400));

	/* timeMin compares with the end (exclusive), timeMax with the start (exclusive). */
	json_t *l = api("GET", EV "?timeMin=2026-12-01T09:00:00Z&timeMax=2026-12-03T08:00:00Z",
	                access_token, NULL, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 1); /* only the series, as one master */
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "summary")),
	                    "standup");
	assert_non_null(json_object_get(json_array_get(items, 0), "recurrence"));
	json_decref(l);

	l = api("GET", EV "?singleEvents=true&orderBy=startTime", access_token, NULL, 200);
	items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 5);
	const char *want[] = {"early", "standup", "standup", "late", "standup"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(items, i), "summary")),
		    want[i]);
	json_t *inst = json_array_get(items, 2);
	assert_non_null(json_object_get(inst, "recurringEventId"));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(inst, "start"), "dateTime")),
	    "2026-12-02T09:30:00Z");
	assert_non_null(json_object_get(inst, "originalStartTime"));
	assert_null(json_object_get(inst, "recurrence"));
	json_decref(l);

	json_t *e = api("GET", EV "?timeMin=2026-12-02T00:00:00Z&timeMax=2026-12-01T00:00:00Z",
	                access_token, NULL, 400);
	assert_string_equal(error_reason(e), "timeRangeEmpty");
	json_decref(e);
	json_decref(api("GET", EV "?orderBy=startTime", access_token, NULL, 400));
	json_decref(api("GET", EV "?maxResults=0", access_token, NULL, 400));
}

static void paging_and_incremental_sync(void **st)
{
	(void)st;
	char ids[5][64];
	for (int i = 0; i < 5; i++) {
		char start[32], end[32], name[8];
		snprintf(start, sizeof(start), "2026-12-0%dT10:00:00Z", i + 1);
		snprintf(end, sizeof(end), "2026-12-0%dT11:00:00Z", i + 1);
		snprintf(name, sizeof(name), "e%d", i);
		json_t *e = insert_at(name, start, end);
		snprintf(ids[i], sizeof(ids[i]), "%s", json_string_value(json_object_get(e, "id")));
		json_decref(e);
	}
	/* Full sync in pages of two: nextPageToken until the last page, then only nextSyncToken. */
	char *path = xstrdup(EV "?maxResults=2");
	int pages = 0, seen = 0;
	char *sync = NULL;
	for (;;) {
		json_t *l = api("GET", path, access_token, NULL, 200);
		pages++;
		seen += (int)json_array_size(json_object_get(l, "items"));
		const char *next = json_string_value(json_object_get(l, "nextPageToken"));
		const char *st_tok = json_string_value(json_object_get(l, "nextSyncToken"));
		assert_true((next == NULL) != (st_tok == NULL));
		free(path);
		if (!next) {
			sync = xstrdup(st_tok);
			json_decref(l);
			break;
		}
		path = xasprintf(EV "?maxResults=2&pageToken=%s", next);
		json_decref(l);
	}
	assert_int_equal(pages, 3);
	assert_int_equal(seen, 5);

	/* Nothing changed: an empty incremental page with a new token. */
	path = xasprintf(EV "?syncToken=%s", sync);
	json_t *l = api("GET", path, access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 0);
	assert_non_null(json_object_get(l, "nextSyncToken"));
	json_decref(l);
	free(path);

	/* One patched, one deleted in Calendox, one cancelled outside (GE-17, GE-29). */
	char *p = xasprintf(EV "/%s", ids[1]);
	json_decref(api("PATCH", p, access_token, "{\"summary\":\"moved\"}", 200));
	free(p);
	p = xasprintf(EV "/%s", ids[2]);
	json_decref(api("DELETE", p, access_token, NULL, 204));
	free(p);
	p = xasprintf("/_sandbox/google/calendars/alice%%40example.com/events/%s/delete", ids[3]);
	json_decref(control(p, NULL));
	free(p);

	path = xasprintf(EV "?syncToken=%s", sync);
	l = api("GET", path, access_token, NULL, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 3);
	json_t *a = json_array_get(items, 0), *b = json_array_get(items, 1),
	       *c = json_array_get(items, 2);
	assert_string_equal(json_string_value(json_object_get(a, "summary")), "moved");
	assert_string_equal(json_string_value(json_object_get(b, "id")), ids[2]);
	assert_string_equal(json_string_value(json_object_get(b, "status")), "cancelled");
	assert_null(json_object_get(b, "summary"));
	assert_string_equal(json_string_value(json_object_get(c, "id")), ids[3]);
	assert_string_equal(json_string_value(json_object_get(c, "status")), "cancelled");
	json_decref(l);
	free(path);

	/* A sync token cannot be combined with timeMin (GE-16). */
	path = xasprintf(EV "?syncToken=%s&timeMin=2026-01-01T00:00:00Z", sync);
	json_decref(api("GET", path, access_token, NULL, 400));
	free(path);

	/* Invalidated tokens: 410 fullSyncRequired (GE-18). */
	json_decref(control("/_sandbox/google/invalidate_sync_tokens", NULL));
	path = xasprintf(EV "?syncToken=%s", sync);
	json_t *e = api("GET", path, access_token, NULL, 410);
	assert_string_equal(error_reason(e), "fullSyncRequired");
	json_decref(e);
	free(path);
	free(sync);
	json_decref(api("GET", EV "?syncToken=garbage", access_token, NULL, 410));
}

static void meet_links(void **st)
{
	(void)st;
	const char *body =
	    "{\"summary\":\"Meet\",\"start\":{\"dateTime\":\"2026-12-01T10:00:00Z\"},"
	    "\"end\":{\"dateTime\":\"2026-12-01T11:00:00Z\"},\"conferenceData\":"
	    "{\"createRequest\":{\"requestId\":\"req-1\",\"conferenceSolutionKey\":"
	    "{\"type\":\"hangoutsMeet\"}}}}";
	/* Without conferenceDataVersion=1 the request is ignored. */
	json_t *e = insert(body);
	assert_null(json_object_get(e, "conferenceData"));
	json_decref(e);

	e = api("POST", EV "?conferenceDataVersion=1", access_token, body, 200);
	json_t *cr = json_object_get(json_object_get(e, "conferenceData"), "createRequest");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cr, "status"), "statusCode")),
	    "pending");
	char *path = xasprintf(EV "/%s", json_string_value(json_object_get(e, "id")));
	json_decref(e);

	e = api("GET", path, access_token, NULL, 200);
	json_t *cd = json_object_get(e, "conferenceData");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(cd, "createRequest"), "status"), "statusCode")),
	    "success");
	json_t *ep = json_array_get(json_object_get(cd, "entryPoints"), 0);
	assert_string_equal(json_string_value(json_object_get(ep, "entryPointType")), "video");
	const char *link = json_string_value(json_object_get(e, "hangoutLink"));
	assert_non_null(link);
	assert_string_equal(json_string_value(json_object_get(ep, "uri")), link);
	assert_int_equal(strncmp(link, sb->base_url, strlen(sb->base_url)), 0);
	struct resp *r = call("GET", link + strlen(sb->base_url), NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->body, "You joined"));
	resp_free(r);
	r = call("GET", "/google/meet/aaa-bbbb-ccc", NULL, NULL, NULL);
	assert_int_equal(r->status, 404);
	resp_free(r);
	json_decref(e);
	free(path);
}

static void watch_push_and_stop(void **st)
{
	(void)st;
	char *body = xasprintf("{\"id\":\"chan-1\",\"type\":\"web_hook\",\"address\":"
	                       "\"http://127.0.0.1:%d/hook\",\"token\":\"chan-secret\"}",
	                       http_server_port(receiver));
	json_t *ch = api("POST", EV "/watch", access_token, body, 200);
	assert_string_equal(json_string_value(json_object_get(ch, "kind")), "api#channel");
	assert_string_equal(json_string_value(json_object_get(ch, "id")), "chan-1");
	assert_string_equal(json_string_value(json_object_get(ch, "token")), "chan-secret");
	assert_non_null(json_string_value(json_object_get(ch, "expiration")));
	char *rid = xstrdup(json_string_value(json_object_get(ch, "resourceId")));
	assert_non_null(strstr(json_string_value(json_object_get(ch, "resourceUri")),
	                       "/google/calendar/v3/calendars/alice%40example.com/events"));
	json_decref(ch);
	/* The same channel id twice: 400. */
	json_decref(api("POST", EV "/watch", access_token, body, 400));

	assert_int_equal(wait_pushes(1), 1);
	pthread_mutex_lock(&pushes_lock);
	assert_string_equal(pushes[0].state, "sync");
	assert_string_equal(pushes[0].number, "1");
	assert_string_equal(pushes[0].channel, "chan-1");
	assert_string_equal(pushes[0].token, "chan-secret");
	assert_string_equal(pushes[0].resource_id, rid);
	assert_non_null(pushes[0].resource_uri);
	assert_non_null(strstr(pushes[0].expiration, "GMT"));
	pthread_mutex_unlock(&pushes_lock);

	json_t *e = insert_at("watched", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z");
	char *del = xasprintf("/_sandbox/google/calendars/primary/events/%s/delete",
	                      json_string_value(json_object_get(e, "id")));
	json_decref(e);
	json_decref(control(del, NULL));
	free(del);
	assert_int_equal(wait_pushes(3), 3);
	pthread_mutex_lock(&pushes_lock);
	assert_string_equal(pushes[1].state, "exists");
	assert_string_equal(pushes[2].state, "exists");
	long n1 = strtol(pushes[1].number, NULL, 10), n2 = strtol(pushes[2].number, NULL, 10);
	pthread_mutex_unlock(&pushes_lock);
	assert_true(n1 >= 2 && n2 >= 2 && n1 != n2);

	/* Unknown channel: 404; stop: 204, and no more messages. */
	json_decref(api("POST", "/google/calendar/v3/channels/stop", access_token,
	                "{\"id\":\"nope\",\"resourceId\":\"nope\"}", 404));
	char *stop = xasprintf("{\"id\":\"chan-1\",\"resourceId\":\"%s\"}", rid);
	json_decref(api("POST", "/google/calendar/v3/channels/stop", access_token, stop, 204));
	json_decref(insert_at("quiet", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z"));
	sleep_ms(300);
	assert_int_equal(wait_pushes(4), 3);
	free(stop);
	free(rid);
	free(body);
}

static void rate_limits(void **st)
{
	(void)st;
	json_decref(control("/_sandbox/google/rate_limit", "{\"limit\":1,\"status\":403}"));
	json_decref(api("GET", EV, access_token, NULL, 200));
	json_t *e = api("GET", EV, access_token, NULL, 403);
	assert_string_equal(error_reason(e), "rateLimitExceeded");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(json_object_get(e, "error"), "errors"), 0),
	        "domain")),
	    "usageLimits");
	json_decref(e);
	json_decref(control("/_sandbox/google/rate_limit", "{\"limit\":1,\"status\":429}"));
	json_decref(api("GET", EV, access_token, NULL, 200));
	e = api("GET", EV, access_token, NULL, 429);
	assert_string_equal(error_reason(e), "rateLimitExceeded");
	json_decref(e);
	/* A new window lets requests through again. */
	advance_clock(61);
	json_decref(api("GET", EV, access_token, NULL, 200));
	json_decref(control("/_sandbox/google/rate_limit", "{\"limit\":0}"));
	json_decref(
	    api("POST", "/_sandbox/google/rate_limit", NULL, "{\"limit\":1,\"status\":500}", 400));
}

static void time_zones_and_dst_in_series(void **st)
{
	(void)st;
	/* An offset-less dateTime is read in its timeZone (10:00 Berlin = 09:00Z in December). */
	json_decref(insert("{\"summary\":\"local\",\"start\":{\"dateTime\":\"2026-12-01T10:00:00\","
	                   "\"timeZone\":\"Europe/Berlin\"},\"end\":{\"dateTime\":"
	                   "\"2026-12-01T11:00:00\",\"timeZone\":\"Europe/Berlin\"}}"));
	json_t *l = api("GET", EV "?timeMax=2026-12-01T09:00:00Z", access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 0);
	json_decref(l);
	l = api("GET", EV "?timeMax=2026-12-01T09:00:01Z", access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
	json_decref(l);
	json_decref(
	    api("POST", EV, access_token,
	        "{\"start\":{\"dateTime\":\"2026-12-01T10:00:00\",\"timeZone\":\"Mars/Base\"},"
	        "\"end\":{\"dateTime\":\"2026-12-01T11:00:00\",\"timeZone\":\"Mars/Base\"}}",
	        400));

	/* A weekly series keeps its wall time across the end of summer time. */
	json_decref(control("/_sandbox/reset", NULL));
	connect_default();
	json_decref(insert("{\"summary\":\"weekly\",\"start\":{\"dateTime\":"
	                   "\"2026-10-20T10:00:00+02:00\",\"timeZone\":\"Europe/Berlin\"},\"end\":"
	                   "{\"dateTime\":\"2026-10-20T10:30:00+02:00\",\"timeZone\":"
	                   "\"Europe/Berlin\"},\"recurrence\":[\"RRULE:FREQ=WEEKLY;COUNT=3\","
	                   "\"EXDATE;TZID=Europe/Berlin:20261103T100000\"]}"));
	l = api("GET", EV "?singleEvents=true&orderBy=startTime", access_token, NULL, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(items, 0), "start"), "dateTime")),
	                    "2026-10-20T10:00:00+02:00");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(items, 1), "start"), "dateTime")),
	                    "2026-10-27T10:00:00+01:00");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(items, 1), "id")),
	                       "_20261027T090000Z"));
	json_decref(l);
}

static void update_replaces_and_work_calendar_is_separate(void **st)
{
	(void)st;
	json_t *e = insert("{\"summary\":\"A\",\"location\":\"room\",\"start\":{\"date\":"
	                   "\"2026-12-01\"},\"end\":{\"date\":\"2026-12-02\"}}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "start"), "date")),
	                    "2026-12-01");
	char *path = xasprintf(EV "/%s", json_string_value(json_object_get(e, "id")));
	json_decref(e);
	/* PUT replaces every field: location is gone. */
	e = api("PUT", path, access_token,
	        "{\"summary\":\"B\",\"start\":{\"date\":\"2026-12-01\"},\"end\":{\"date\":"
	        "\"2026-12-03\"}}",
	        200);
	assert_string_equal(json_string_value(json_object_get(e, "summary")), "B");
	assert_null(json_object_get(e, "location"));
	json_decref(e);
	free(path);

	const char *work = "/google/calendar/v3/calendars/c_alicework%40group.calendar.google.com/"
	                   "events";
	e = api("POST", work, access_token,
	        "{\"summary\":\"work\",\"start\":{\"date\":\"2026-12-01\"},\"end\":{\"date\":"
	        "\"2026-12-02\"}}",
	        200);
	json_t *org = json_object_get(e, "organizer");
	assert_string_equal(json_string_value(json_object_get(org, "email")),
	                    "c_alicework@group.calendar.google.com");
	json_decref(e);
	json_t *l = api("GET", work, access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
	assert_string_equal(json_string_value(json_object_get(l, "summary")), "Work");
	json_decref(l);
	l = api("GET", EV, access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 1);
	json_decref(l);
}

static void channels_expire_on_the_sandbox_clock(void **st)
{
	(void)st;
	char *body = xasprintf("{\"id\":\"chan-2\",\"type\":\"web_hook\",\"address\":"
	                       "\"http://127.0.0.1:%d/hook\"}",
	                       http_server_port(receiver));
	json_decref(api("POST", EV "/watch", access_token, body, 200));
	assert_int_equal(wait_pushes(1), 1);
	advance_clock(8 * 86400);
	connect_default();
	json_decref(insert_at("after", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"));
	sleep_ms(300);
	assert_int_equal(wait_pushes(2), 1);
	free(body);
}

static void short_and_empty_pages(void **st)
{
	(void)st;
	for (int i = 0; i < 3; i++)
		json_decref(insert_at("p", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"));
	json_decref(control("/_sandbox/google/page_mode", "{\"short\":true}"));
	char *path = xstrdup(EV "?maxResults=2");
	int pages = 0, seen = 0, last_size = -1;
	for (;;) {
		json_t *l = api("GET", path, access_token, NULL, 200);
		pages++;
		last_size = (int)json_array_size(json_object_get(l, "items"));
		assert_true(last_size <= 1);
		seen += last_size;
		const char *next = json_string_value(json_object_get(l, "nextPageToken"));
		free(path);
		if (!next) {
			assert_non_null(json_object_get(l, "nextSyncToken"));
			json_decref(l);
			break;
		}
		assert_null(json_object_get(l, "nextSyncToken"));
		path = xasprintf(EV "?maxResults=2&pageToken=%s", next);
		json_decref(l);
	}
	assert_int_equal(seen, 3);
	assert_int_equal(pages, 4);
	assert_int_equal(last_size, 0);
}

/* --- instances of recurring events --- */

/* The summaries (or "-" for a cancelled item) of a listing's items, joined with commas. */
static char *summaries(const json_t *list)
{
	struct buf b;
	buf_init(&b, 4096);
	size_t i;
	const json_t *it;
	json_array_foreach(json_object_get(list, "items"), i, it)
	{
		const char *s = json_string_value(json_object_get(it, "summary"));
		if (strcmp(json_string_value(json_object_get(it, "status")), "cancelled") == 0)
			s = "-";
		assert_int_equal(buf_printf(&b, "%s%s", i ? "," : "", s ? s : "?"), CX_OK);
	}
	char *out = xstrdup(b.data ? b.data : "");
	buf_release(&b);
	return out;
}

static void instance_ids_get_patch_delete(void **st)
{
	(void)st;
	json_t *series =
	    insert("{\"summary\":\"standup\",\"start\":{\"dateTime\":"
	           "\"2026-11-24T09:00:00Z\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
	           "\"2026-11-24T09:30:00Z\",\"timeZone\":\"UTC\"},\"recurrence\":"
	           "[\"RRULE:FREQ=DAILY;COUNT=3\"]}");
	const char *sid = json_string_value(json_object_get(series, "id"));
	char *ical = xstrdup(json_string_value(json_object_get(series, "iCalUID")));
	char *first = xasprintf("%s_20261124T090000Z", sid);
	char *second = xasprintf("%s_20261125T090000Z", sid);
	char *third = xasprintf("%s_20261126T090000Z", sid);

	/* The expanded listing names occurrences by series id and original start in UTC. */
	json_t *l = api("GET", EV "?singleEvents=true&orderBy=startTime", access_token, NULL, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "id")),
	                    second);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "iCalUID")),
	                    ical);
	char *sync = xstrdup(json_string_value(json_object_get(l, "nextSyncToken")));
	json_decref(l);

	/* get an occurrence that has no exception */
	char *path = xasprintf(EV "/%s", second);
	json_t *e = api("GET", path, access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(e, "id")), second);
	assert_string_equal(json_string_value(json_object_get(e, "recurringEventId")), sid);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "start"), "dateTime")),
	    "2026-11-25T09:00:00Z");
	assert_null(json_object_get(e, "recurrence"));
	json_decref(e);
	/* ids that name no occurrence */
	char *bad = xasprintf(EV "/%s_20261124T100000Z", sid);
	json_decref(api("GET", bad, access_token, NULL, 404));
	free(bad);
	bad = xasprintf(EV "/%s_20261127T090000Z", sid);
	json_decref(api("PATCH", bad, access_token, "{\"summary\":\"x\"}", 404));
	free(bad);

	/* A patch creates an exception: moved and renamed, same id and originalStartTime. */
	json_decref(api("PATCH", path, access_token,
	                "{\"summary\":\"late standup\",\"start\":{\"dateTime\":"
	                "\"2026-11-25T11:00:00Z\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
	                "\"2026-11-25T11:30:00Z\",\"timeZone\":\"UTC\"}}",
	                200));
	e = api("GET", path, access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(e, "id")), second);
	assert_string_equal(json_string_value(json_object_get(e, "summary")), "late standup");
	assert_string_equal(json_string_value(json_object_get(e, "recurringEventId")), sid);
	assert_string_equal(json_string_value(json_object_get(e, "iCalUID")), ical);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "originalStartTime"), "dateTime")),
	    "2026-11-25T09:00:00Z");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "start"), "dateTime")),
	    "2026-11-25T11:00:00Z");
	json_decref(e);
	/* A bad body leaves no exception behind. */
	char *third_path = xasprintf(EV "/%s", third);
	json_decref(api("PATCH", third_path, access_token, "{\"summary\":7}", 400));

	/* Delete cancels the first occurrence; a second delete is 410. */
	char *first_path = xasprintf(EV "/%s", first);
	json_decref(api("DELETE", first_path, access_token, NULL, 204));
	json_decref(api("DELETE", first_path, access_token, NULL, 410));
	e = api("GET", first_path, access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(e, "status")), "cancelled");
	json_decref(e);

	l = api("GET", EV "?singleEvents=true&orderBy=startTime", access_token, NULL, 200);
	char *got = summaries(l);
	assert_string_equal(got, "late standup,standup");
	free(got);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(l, "items"), 1), "id")),
	                    third);
	json_decref(l);
	l = api("GET", EV "?singleEvents=true&orderBy=startTime&showDeleted=true", access_token,
	        NULL, 200);
	got = summaries(l);
	assert_string_equal(got, "-,late standup,standup");
	free(got);
	json_decref(l);

	/* Incremental sync shows both exceptions; the cancelled one with its occurrence. */
	char *q = xasprintf(EV "?syncToken=%s", sync);
	l = api("GET", q, access_token, NULL, 200);
	items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 2);
	json_t *gone = json_array_get(items, 1);
	assert_string_equal(json_string_value(json_object_get(gone, "id")), first);
	assert_string_equal(json_string_value(json_object_get(gone, "status")), "cancelled");
	assert_string_equal(json_string_value(json_object_get(gone, "recurringEventId")), sid);
	assert_non_null(json_object_get(gone, "originalStartTime"));
	json_decref(l);
	free(q);

	/* Deleting the series cancels its exceptions too. */
	char *series_path = xasprintf(EV "/%s", sid);
	json_decref(api("DELETE", series_path, access_token, NULL, 204));
	e = api("GET", path, access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(e, "status")), "cancelled");
	json_decref(e);
	json_decref(api("GET", third_path, access_token, NULL, 404));

	free(series_path);
	free(first_path);
	free(third_path);
	free(path);
	free(sync);
	free(first);
	free(second);
	free(third);
	free(ical);
	json_decref(series);
}

static void all_day_instances_endpoint(void **st)
{
	(void)st;
	json_t *series = insert("{\"summary\":\"holiday\",\"start\":{\"date\":\"2026-11-24\"},"
	                        "\"end\":{\"date\":\"2026-11-25\"},\"recurrence\":"
	                        "[\"RRULE:FREQ=WEEKLY;UNTIL=20261215\"]}");
	const char *sid = json_string_value(json_object_get(series, "id"));
	char *path = xasprintf(EV "/%s/instances", sid);
	json_t *l = api("GET", path, access_token, NULL, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 4);
	char *want = xasprintf("%s_20261201", sid);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "id")),
	                    want);
	json_decref(l);

	/* update (PUT) of an all-day occurrence, then the instances show the exception in place */
	char *one = xasprintf(EV "/%s", want);
	json_decref(api("PUT", one, access_token,
	                "{\"summary\":\"moved\",\"start\":{\"date\":\"2026-12-02\"},"
	                "\"end\":{\"date\":\"2026-12-03\"}}",
	                200));
	char *paged = xasprintf("%s?maxResults=3", path);
	l = api("GET", paged, access_token, NULL, 200);
	char *got = summaries(l);
	assert_string_equal(got, "holiday,moved,holiday");
	free(got);
	const char *tok = json_string_value(json_object_get(l, "nextPageToken"));
	assert_non_null(tok);
	char *next = xasprintf("%s&pageToken=%s", paged, tok);
	json_decref(l);
	l = api("GET", next, access_token, NULL, 200);
	items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 1);
	char *last = xasprintf("%s_20261215", sid);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")),
	                    last);
	assert_null(json_object_get(l, "nextPageToken"));
	json_decref(l);

	/* an all-day series bounded by COUNT rather than UNTIL expands too */
	json_t *counted = insert("{\"summary\":\"standup day\",\"start\":{\"date\":\"2026-11-24\"},"
	                         "\"end\":{\"date\":\"2026-11-25\"},\"recurrence\":"
	                         "[\"RRULE:FREQ=WEEKLY;COUNT=3\"]}");
	char *counted_path = xasprintf(
	    EV "/%s/instances", json_string_value(json_object_get(counted, "id")));
	l = api("GET", counted_path, access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 3);
	json_decref(l);
	free(counted_path);
	json_decref(counted);

	/* a window, and an event that is no series */
	free(paged);
	paged = xasprintf("%s?timeMin=2026-12-05T00:00:00Z&timeMax=2026-12-20T00:00:00Z", path);
	l = api("GET", paged, access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "items")), 2);
	json_decref(l);
	json_t *single = insert_at("once", "2026-12-01T08:00:00Z", "2026-12-01T09:00:00Z");
	char *nope =
	    xasprintf(EV "/%s/instances", json_string_value(json_object_get(single, "id")));
	json_decref(api("GET", nope, access_token, NULL, 404));

	free(nope);
	json_decref(single);
	free(last);
	free(next);
	free(paged);
	free(one);
	free(want);
	free(path);
	json_decref(series);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(authorize_page_and_bad_clients, reset_each),
	    cmocka_unit_test_setup(deny_redirects_with_access_denied, reset_each),
	    cmocka_unit_test_setup(code_exchange_rules, reset_each),
	    cmocka_unit_test_setup(pkce_s256_is_checked, reset_each),
	    cmocka_unit_test_setup(refresh_keeps_token_and_revoke_kills_grant, reset_each),
	    cmocka_unit_test_setup(access_tokens_expire_on_the_sandbox_clock, reset_each),
	    cmocka_unit_test_setup(calendar_list_pages_and_scopes, reset_each),
	    cmocka_unit_test_setup(insert_get_patch_delete, reset_each),
	    cmocka_unit_test_setup(stale_if_match_is_412, reset_each),
	    cmocka_unit_test_setup(list_filters_and_recurrence, reset_each),
	    cmocka_unit_test_setup(paging_and_incremental_sync, reset_each),
	    cmocka_unit_test_setup(meet_links, reset_each),
	    cmocka_unit_test_setup(watch_push_and_stop, reset_each),
	    cmocka_unit_test_setup(rate_limits, reset_each),
	    cmocka_unit_test_setup(time_zones_and_dst_in_series, reset_each),
	    cmocka_unit_test_setup(update_replaces_and_work_calendar_is_separate, reset_each),
	    cmocka_unit_test_setup(channels_expire_on_the_sandbox_clock, reset_each),
	    cmocka_unit_test_setup(short_and_empty_pages, reset_each),
	    cmocka_unit_test_setup(instance_ids_get_patch_delete, reset_each),
	    cmocka_unit_test_setup(all_day_instances_endpoint, reset_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
