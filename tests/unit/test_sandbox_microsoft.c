/* The Microsoft emulator (sandbox/microsoft.c): a sandbox started in-process on a free loopback
 * port and driven over HTTP with libcurl: OAuth v2.0 with refresh-token rotation, /me, calendars,
 * calendarView and delta, events with transactionId dedupe and Teams links, subscriptions with the
 * validation handshake and change notifications received by a small server in the test, throttling
 * and the error bodies. */
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
#include "base/time.h"
#include "http/http.h"
#include "microsoft_zone.h"
#include "sandbox.h"
#include "sb.h"
#include "base/banned.h"

#define REDIRECT "http://localhost:7777/oauth/microsoft/callback"
#define SCOPES "offline_access User.Read Calendars.ReadWrite"
#define V1 "/microsoft/v1.0"

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

/* path may be a full URL (a nextLink) or a path below the sandbox. */
static struct resp *call(const char *method, const char *path, const char *ctype, const char *body,
                         const char *h1, const char *h2)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	struct buf b;
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	char *url =
	    strncmp(path, "http", 4) == 0 ? xstrdup(path) : xasprintf("%s%s", sb->base_url, path);

	buf_init(&b, 4 * 1024 * 1024);
	buf_init(&r->headers, 64 * 1024);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (ctype) {
		char *line = xasprintf("Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
		free(line);
	}
	if (h1)
		h = curl_slist_append(h, h1);
	if (h2)
		h = curl_slist_append(h, h2);
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

static json_t *api_h(const char *method, const char *path, const char *token, const char *body,
                     const char *extra, long status)
{
	char *auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
	struct resp *r = call(method, path, body ? "application/json" : NULL, body, auth, extra);
	free(auth);
	assert_int_equal(r->rc, CURLE_OK);
	if (r->status != status)
		fprintf(stderr, "%s %s: %ld %s\n", method, path, r->status, r->body);
	assert_int_equal(r->status, status);
	json_t *doc = json_loads(r->body, 0, NULL);
	resp_free(r);
	return doc;
}

static json_t *api(const char *method, const char *path, const char *token, const char *body,
                   long status)
{
	return api_h(method, path, token, body, NULL, status);
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

static const char *error_code(const json_t *doc)
{
	return json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
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

static char *decide(const char *decision, const char *scope)
{
	char *es = escape(scope), *er = escape(REDIRECT);
	char *form = xasprintf("client_id=sandbox-microsoft-client&redirect_uri=%s&response_type="
	                       "code&scope=%s&state=s1&user=alice%%40contoso.example&decision=%s",
	                       er, es, decision);
	struct resp *r = call("POST", "/microsoft/common/oauth2/v2.0/authorize/decision",
	                      "application/x-www-form-urlencoded", form, NULL, NULL);
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
	struct resp *r = call("POST", "/microsoft/common/oauth2/v2.0/token",
	                      "application/x-www-form-urlencoded", form, NULL, NULL);
	assert_int_equal(r->rc, CURLE_OK);
	if (r->status != status)
		fprintf(stderr, "token: %ld %s\n", r->status, r->body);
	assert_int_equal(r->status, status);
	json_t *doc = json_loads(r->body, 0, NULL);
	assert_non_null(doc);
	resp_free(r);
	return doc;
}

static char *code_form(const char *loc)
{
	char *code = url_param(loc, "code");
	assert_non_null(code);
	char *ec = escape(code), *er = escape(REDIRECT);
	char *form = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&client_id="
	                       "sandbox-microsoft-client&client_secret=sandbox-secret",
	                       ec, er);
	free(ec);
	free(er);
	free(code);
	return form;
}

static json_t *connect_with(const char *scope)
{
	char *loc = decide("allow", scope);
	char *form = code_form(loc);
	json_t *tok = token_call(form, 200);
	free(form);
	free(loc);
	return tok;
}

static char *access_token;

/* --- a notification receiver in the test process --- */

static struct http_server *receiver;
static pthread_mutex_t recv_lock = PTHREAD_MUTEX_INITIALIZER;
static int validations;
static bool echo_wrong;
static int notify_status = 202;
static json_t *notes; /* every notification object received, in order */

static void hook(struct http_request *req)
{
	const char *token = http_query(req, "validationToken");
	pthread_mutex_lock(&recv_lock);
	if (token) {
		validations++;
		bool wrong = echo_wrong;
		pthread_mutex_unlock(&recv_lock);
		const char *answer = wrong ? "not the token" : token;
		http_reply(req, 200, "text/plain", answer, strlen(answer));
		return;
	}
	json_t *doc = req->body ? json_loads(req->body, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(doc, "value"), i, v) json_array_append(notes, v);
	json_decref(doc);
	int status = notify_status;
	pthread_mutex_unlock(&recv_lock);
	http_reply_empty(req, status);
}

static size_t wait_notes(size_t n)
{
	size_t have = 0;
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&recv_lock);
		have = json_array_size(notes);
		pthread_mutex_unlock(&recv_lock);
		if (have >= n)
			break;
		sleep_ms(10);
	}
	return have;
}

static const struct http_route receiver_routes[] = {{"POST", "/hook", hook}};

static int setup(void **st)
{
	struct sandbox_options opts = {.port = 0, .seed = 5, .threads = 3};
	struct http_server_options ro = {
	    .host = "127.0.0.1",
	    .threads = 2,
	    .max_connections = 16,
	    .idle_timeout_s = 5,
	    .max_body = 65536,
	    .max_header_memory = 16384,
	    .routes = receiver_routes,
	    .n_routes = 1,
	};
	(void)st;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	notes = json_array();
	assert_int_equal(sandbox_start(&opts, &sb), CX_OK);
	assert_int_equal(http_server_start(&ro, &receiver), CX_OK);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	sandbox_stop(sb);
	http_server_stop(receiver);
	json_decref(notes);
	free(access_token);
	curl_global_cleanup();
	return 0;
}

static int reset_each(void **st)
{
	(void)st;
	json_decref(control("/_sandbox/reset", NULL));
	pthread_mutex_lock(&recv_lock);
	json_array_clear(notes);
	validations = 0;
	echo_wrong = false;
	notify_status = 202;
	pthread_mutex_unlock(&recv_lock);
	json_t *tok = connect_with(SCOPES);
	free(access_token);
	access_token = xstrdup(json_string_value(json_object_get(tok, "access_token")));
	json_decref(tok);
	return 0;
}

static json_t *create(const char *body)
{
	json_t *e = api("POST", V1 "/me/events", access_token, body, 201);
	assert_non_null(e);
	return e;
}

static json_t *create_at(const char *subject, const char *start, const char *end)
{
	char *body = xasprintf("{\"subject\":\"%s\",\"start\":{\"dateTime\":\"%s\",\"timeZone\":"
	                       "\"UTC\"},\"end\":{\"dateTime\":\"%s\",\"timeZone\":\"UTC\"}}",
	                       subject, start, end);
	json_t *e = create(body);
	free(body);
	return e;
}

/* --- OAuth --- */

static void authorize_page_deny_and_bad_requests(void **st)
{
	(void)st;
	char *er = escape(REDIRECT);
	char *path = xasprintf("/microsoft/common/oauth2/v2.0/authorize?client_id=sandbox-"
	                       "microsoft-client&redirect_uri=%s&response_type=code&scope=%s&"
	                       "state=s",
	                       er, "offline_access%20Calendars.ReadWrite");
	struct resp *r = call("GET", path, NULL, NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->body, "/microsoft/common/oauth2/v2.0/authorize/decision"));
	assert_non_null(strstr(r->body, "Have full access to your calendars"));
	resp_free(r);
	free(path);
	path = xasprintf("/microsoft/nosuchtenant/oauth2/v2.0/authorize?client_id=sandbox-"
	                 "microsoft-client&redirect_uri=%s&response_type=code&scope=x",
	                 er);
	r = call("GET", path, NULL, NULL, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_non_null(strstr(r->body, "AADSTS90002"));
	resp_free(r);
	free(path);
	r = call(
	    "GET",
	    "/microsoft/organizations/oauth2/v2.0/authorize?client_id=sandbox-microsoft-client&"
	    "redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fother&response_type=code&scope=x",
	    NULL, NULL, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_non_null(strstr(r->body, "AADSTS50011"));
	assert_null(resp_header(r, "Location"));
	resp_free(r);
	free(er);

	char *loc = decide("deny", SCOPES);
	char *err = url_param(loc, "error"), *desc = url_param(loc, "error_description"),
	     *state = url_param(loc, "state");
	assert_string_equal(err, "access_denied");
	assert_non_null(desc);
	assert_string_equal(state, "s1");
	free(err);
	free(desc);
	free(state);
	free(loc);
}

static void token_exchange_rules(void **st)
{
	(void)st;
	char *loc = decide("allow", SCOPES);
	char *state = url_param(loc, "state");
	assert_string_equal(state, "s1");
	free(state);
	char *form = code_form(loc);
	/* A wrong client secret: 401 invalid_client (ME-09). */
	char *wrong = xstrdup(form);
	char *sec = strstr(wrong, "client_secret=sandbox-secret");
	memcpy(sec + strlen("client_secret="), "wrongo-secret1", 14);
	json_t *e = token_call(wrong, 401);
	assert_string_equal(json_string_value(json_object_get(e, "error")), "invalid_client");
	json_decref(e);
	free(wrong);

	json_t *tok = token_call(form, 200);
	assert_string_equal(json_string_value(json_object_get(tok, "token_type")), "Bearer");
	assert_int_equal(json_integer_value(json_object_get(tok, "expires_in")), 3599);
	assert_int_equal(json_integer_value(json_object_get(tok, "ext_expires_in")), 3599);
	assert_non_null(strstr(json_string_value(json_object_get(tok, "scope")),
	                       "https://graph.microsoft.com/Calendars.ReadWrite"));
	assert_non_null(json_object_get(tok, "refresh_token"));
	json_decref(tok);

	e = token_call(form, 400);
	assert_string_equal(json_string_value(json_object_get(e, "error")), "invalid_grant");
	assert_non_null(
	    strstr(json_string_value(json_object_get(e, "error_description")), "AADSTS54005"));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(e, "error_codes"), 0)),
	                 54005);
	json_decref(e);
	free(form);
	free(loc);

	/* Without offline_access there is no refresh token (ME-04). */
	tok = connect_with("User.Read Calendars.ReadWrite");
	assert_null(json_object_get(tok, "refresh_token"));
	json_decref(tok);
}

static void refresh_rotates_and_revocation_ends_it(void **st)
{
	(void)st;
	json_t *tok = connect_with(SCOPES);
	char *rt1 = escape(json_string_value(json_object_get(tok, "refresh_token")));
	json_decref(tok);
	char *f1 = xasprintf("grant_type=refresh_token&refresh_token=%s&client_id=sandbox-"
	                     "microsoft-client&client_secret=sandbox-secret",
	                     rt1);
	json_t *a = token_call(f1, 200);
	const char *rt2 = json_string_value(json_object_get(a, "refresh_token"));
	assert_non_null(rt2);
	char *erl = escape(rt2);
	assert_string_not_equal(erl, rt1);
	/* The old refresh token keeps working (lenient rotation, MICROSOFT.md §2). */
	json_t *b = token_call(f1, 200);
	json_t *me =
	    api("GET", V1 "/me", json_string_value(json_object_get(b, "access_token")), NULL, 200);
	assert_string_equal(json_string_value(json_object_get(me, "mail")),
	                    "alice@contoso.example");
	json_decref(me);
	json_decref(b);

	/* Strict mode: a superseded refresh token is refused. */
	json_decref(control("/_sandbox/microsoft/refresh_mode", "{\"strict\":true}"));
	json_t *e = token_call(f1, 400);
	assert_string_equal(json_string_value(json_object_get(e, "error")), "invalid_grant");
	json_decref(e);
	json_decref(control("/_sandbox/microsoft/refresh_mode", "{\"strict\":false}"));

	json_t *s = api("GET", "/_sandbox/state", NULL, NULL, 200);
	json_t *c = json_object_get(json_object_get(s, "microsoft"), "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "token_refreshes")), 2);
	char *dump = json_dumps(s, JSON_COMPACT);
	assert_null(strstr(dump, rt2));
	free(dump);
	json_decref(s);

	json_decref(control("/_sandbox/microsoft/revoke", NULL));
	e = token_call(f1, 400);
	assert_string_equal(json_string_value(json_object_get(e, "error")), "invalid_grant");
	assert_non_null(
	    strstr(json_string_value(json_object_get(e, "error_description")), "AADSTS50173"));
	json_decref(e);
	e = api("GET", V1 "/me", access_token, NULL, 401);
	assert_string_equal(error_code(e), "InvalidAuthenticationToken");
	json_decref(e);
	json_decref(a);
	free(erl);
	free(f1);
	free(rt1);
}

static void access_tokens_expire_and_error_body(void **st)
{
	(void)st;
	json_decref(api("GET", V1 "/me", access_token, NULL, 200));
	advance_clock(3600);
	json_t *e = api("GET", V1 "/me/events", access_token, NULL, 401);
	json_t *err = json_object_get(e, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")),
	                    "InvalidAuthenticationToken");
	assert_non_null(json_string_value(json_object_get(err, "message")));
	json_t *inner = json_object_get(err, "innerError");
	assert_non_null(json_string_value(json_object_get(inner, "request-id")));
	assert_non_null(json_string_value(json_object_get(inner, "date")));
	json_decref(e);
	json_decref(api("GET", V1 "/me", NULL, NULL, 401));
}

/* --- me and calendars --- */

static void me_and_calendars(void **st)
{
	(void)st;
	json_t *me = api("GET", V1 "/me", access_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(me, "userPrincipalName")),
	                    "alice@contoso.example");
	assert_non_null(json_object_get(me, "id"));
	json_decref(me);
	json_t *l = api("GET", V1 "/me/calendars", access_token, NULL, 200);
	json_t *cal = json_array_get(json_object_get(l, "value"), 0);
	assert_int_equal(json_array_size(json_object_get(l, "value")), 1);
	assert_string_equal(json_string_value(json_object_get(cal, "name")), "Calendar");
	assert_true(json_is_true(json_object_get(cal, "isDefaultCalendar")));
	assert_true(json_is_true(json_object_get(cal, "canEdit")));
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(cal, "allowedOnlineMeetingProviders"), 0)),
	                    "teamsForBusiness");
	char *path =
	    xasprintf(V1 "/me/calendars/%s/events", json_string_value(json_object_get(cal, "id")));
	json_decref(l);
	json_t *e =
	    api("POST", path, access_token,
	        "{\"subject\":\"in calendar\",\"start\":{\"dateTime\":\"2026-12-01T10:00:00\","
	        "\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":\"2026-12-01T11:00:00\","
	        "\"timeZone\":\"UTC\"}}",
	        201);
	json_decref(e);
	json_decref(
	    api("POST", V1 "/me/calendars/nope/events", access_token, "{\"subject\":\"x\"}", 404));
	free(path);
}

/* --- events --- */

static void create_patch_delete_and_dedupe(void **st)
{
	(void)st;
	json_t *e = create("{\"subject\":\"Intro\",\"body\":{\"contentType\":\"HTML\",\"content\":"
	                   "\"<p>Join: https://zoom.example/j/1</p>\"},\"start\":{\"dateTime\":"
	                   "\"2026-12-01T10:00:00\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
	                   "\"2026-12-01T11:00:00\",\"timeZone\":\"UTC\"},\"location\":"
	                   "{\"displayName\":\"https://zoom.example/j/1\"},\"transactionId\":"
	                   "\"booking-42\"}");
	const char *id = json_string_value(json_object_get(e, "id"));
	char *path = xasprintf(V1 "/me/events/%s", id);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "start"), "dateTime")),
	    "2026-12-01T10:00:00.0000000");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "start"), "timeZone")), "UTC");
	assert_non_null(json_object_get(e, "iCalUId"));
	assert_non_null(json_object_get(e, "@odata.etag"));
	assert_string_equal(json_string_value(json_object_get(e, "bodyPreview")),
	                    "Join: https://zoom.example/j/1");
	assert_string_equal(json_string_value(json_object_get(e, "transactionId")), "booking-42");
	char *ck = xstrdup(json_string_value(json_object_get(e, "changeKey")));

	/* The same transactionId again answers the first event (ME-15). */
	json_t *again =
	    create("{\"subject\":\"Intro\",\"start\":{\"dateTime\":"
	           "\"2026-12-01T10:00:00\",\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
	           "\"2026-12-01T11:00:00\",\"timeZone\":\"UTC\"},\"transactionId\":"
	           "\"booking-42\"}");
	assert_string_equal(json_string_value(json_object_get(again, "id")), id);
	json_decref(again);
	json_t *l = api("GET", V1 "/me/events", access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "value")), 1);
	json_decref(l);

	json_t *p =
	    api("PATCH", path, access_token,
	        "{\"subject\":\"Intro call\",\"location\":{\"displayName\":\"Room 1\"}}", 200);
	assert_string_equal(json_string_value(json_object_get(p, "subject")), "Intro call");
	assert_string_not_equal(json_string_value(json_object_get(p, "changeKey")), ck);
	json_t *locs = json_object_get(p, "locations");
	assert_int_equal(json_array_size(locs), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(locs, 0), "displayName")), "Room 1");
	json_decref(p);

	/* Bad input: unknown property, missing times, end before start, broken JSON. */
	json_t *bad = api("POST", V1 "/me/events", access_token, "{\"subjekt\":\"x\"}", 400);
	assert_string_equal(error_code(bad), "RequestBodyRead");
	json_decref(bad);
	json_decref(api("POST", V1 "/me/events", access_token, "{\"subject\":\"x\"}", 400));
	json_decref(api("POST", V1 "/me/events", access_token,
	                "{\"start\":{\"dateTime\":\"2026-12-01T10:00:00\",\"timeZone\":\"UTC\"},"
	                "\"end\":{\"dateTime\":\"2026-12-01T09:00:00\",\"timeZone\":\"UTC\"}}",
	                400));
	json_decref(api("POST", V1 "/me/events", access_token, "{", 400));

	json_decref(api("DELETE", path, access_token, NULL, 204));
	json_t *nf = api("GET", path, access_token, NULL, 404);
	assert_string_equal(error_code(nf), "ErrorItemNotFound");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(nf, "error"), "message")),
	    "The specified object was not found in the store.");
	json_decref(nf);
	json_decref(api("DELETE", path, access_token, NULL, 404));
	json_decref(api("PATCH", path, access_token, "{\"subject\":\"x\"}", 404));

	json_t *s = api("GET", "/_sandbox/state", NULL, NULL, 200);
	json_t *c = json_object_get(json_object_get(s, "microsoft"), "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "creates")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "deduplicated")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "deletes")), 1);
	json_t *ev = json_array_get(json_object_get(json_object_get(s, "microsoft"), "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "status")), "deleted");
	json_decref(s);
	free(ck);
	free(path);
	json_decref(e);

	/* Read-only grants cannot write (ME-11). */
	json_t *tok = connect_with("offline_access User.Read Calendars.Read");
	json_t *d =
	    api("POST", V1 "/me/events", json_string_value(json_object_get(tok, "access_token")),
	        "{\"subject\":\"x\"}", 403);
	assert_string_equal(error_code(d), "ErrorAccessDenied");
	json_decref(d);
	json_decref(tok);
}

static void teams_links(void **st)
{
	(void)st;
	json_t *e = create("{\"subject\":\"Teams\",\"start\":{\"dateTime\":\"2026-12-01T10:00:00\","
	                   "\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":\"2026-12-01T11:00:00\","
	                   "\"timeZone\":\"UTC\"},\"isOnlineMeeting\":true,"
	                   "\"onlineMeetingProvider\":\"teamsForBusiness\"}");
	assert_true(json_is_true(json_object_get(e, "isOnlineMeeting")));
	assert_string_equal(json_string_value(json_object_get(e, "onlineMeetingProvider")),
	                    "teamsForBusiness");
	const char *join =
	    json_string_value(json_object_get(json_object_get(e, "onlineMeeting"), "joinUrl"));
	assert_non_null(join);
	assert_int_equal(strncmp(join, sb->base_url, strlen(sb->base_url)), 0);
	struct resp *r = call("GET", join, NULL, NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->body, "You joined"));
	resp_free(r);
	r = call("GET", "/microsoft/teams/l/meetup-join/19%3Ameeting_nope%40thread.v2/0", NULL,
	         NULL, NULL, NULL);
	assert_int_equal(r->status, 404);
	resp_free(r);
	json_decref(e);
	e = create_at("plain", "2026-12-01T10:00:00", "2026-12-01T11:00:00");
	assert_true(json_is_null(json_object_get(e, "onlineMeeting")));
	json_decref(e);
}

static void calendar_view_window_and_paging(void **st)
{
	(void)st;
	json_decref(create_at("a", "2026-12-01T10:00:00", "2026-12-01T11:00:00"));
	json_decref(create_at("b", "2026-12-02T10:00:00", "2026-12-02T11:00:00"));
	json_decref(create_at("c", "2026-12-03T10:00:00", "2026-12-03T11:00:00"));
	json_decref(create_at("outside", "2027-01-03T10:00:00", "2027-01-03T11:00:00"));
	json_t *e = api("GET", V1 "/me/calendarView?startDateTime=2026-12-01T00:00:00Z",
	                access_token, NULL, 400);
	assert_non_null(error_code(e));
	json_decref(e);

	json_t *l = api("GET",
	                V1 "/me/calendarView?startDateTime=2026-12-01T00:00:00Z&endDateTime="
	                   "2026-12-31T00:00:00Z&$top=2",
	                access_token, NULL, 200);
	json_t *v = json_object_get(l, "value");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "subject")),
	                    "a");
	const char *next = json_string_value(json_object_get(l, "@odata.nextLink"));
	assert_non_null(next);
	json_t *l2 = api("GET", next, access_token, NULL, 200);
	v = json_object_get(l2, "value");
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "subject")),
	                    "c");
	assert_null(json_object_get(l2, "@odata.nextLink"));
	json_decref(l2);
	json_decref(l);
}

static void delta_rounds(void **st)
{
	(void)st;
	char ids[5][128];
	for (int i = 0; i < 5; i++) {
		char s[32], en[32], name[8];
		snprintf(s, sizeof(s), "2026-12-0%dT10:00:00", i + 1);
		snprintf(en, sizeof(en), "2026-12-0%dT11:00:00", i + 1);
		snprintf(name, sizeof(name), "d%d", i);
		json_t *e = create_at(name, s, en);
		snprintf(ids[i], sizeof(ids[i]), "%s", json_string_value(json_object_get(e, "id")));
		json_decref(e);
	}
	const char *prefer = "Prefer: odata.maxpagesize=2";
	char *link = xstrdup(V1 "/me/calendarView/delta?startDateTime=2026-12-01T00:00:00Z&"
	                        "endDateTime=2027-01-01T00:00:00Z");
	char *delta = NULL;
	int pages = 0, seen = 0;
	while (!delta) {
		json_t *p = api_h("GET", link, access_token, NULL, prefer, 200);
		pages++;
		seen += (int)json_array_size(json_object_get(p, "value"));
		const char *next = json_string_value(json_object_get(p, "@odata.nextLink"));
		const char *dl = json_string_value(json_object_get(p, "@odata.deltaLink"));
		assert_true((next == NULL) != (dl == NULL));
		free(link);
		link = next ? xstrdup(next) : NULL;
		if (dl) {
			assert_non_null(strstr(dl, "$deltatoken="));
			delta = xstrdup(dl);
		} else {
			assert_non_null(strstr(next, "$skiptoken="));
		}
		json_decref(p);
	}
	assert_int_equal(pages, 3);
	assert_int_equal(seen, 5);

	/* A patch, an API delete and an outside delete; the next round has only those. */
	char *p = xasprintf(V1 "/me/events/%s", ids[0]);
	json_decref(api("PATCH", p, access_token, "{\"subject\":\"changed\"}", 200));
	free(p);
	p = xasprintf(V1 "/me/events/%s", ids[1]);
	json_decref(api("DELETE", p, access_token, NULL, 204));
	free(p);
	p = xasprintf("/_sandbox/microsoft/events/%s/delete", ids[2]);
	struct resp *r = call("POST", p, NULL, NULL, NULL, NULL);
	assert_int_equal(r->status, 204);
	resp_free(r);
	free(p);

	json_t *round = api_h("GET", delta, access_token, NULL, prefer, 200);
	json_t *v = json_object_get(round, "value");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "subject")),
	                    "changed");
	json_t *rm = json_array_get(v, 1);
	assert_string_equal(json_string_value(json_object_get(rm, "id")), ids[1]);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(rm, "@removed"), "reason")),
	    "deleted");
	const char *next = json_string_value(json_object_get(round, "@odata.nextLink"));
	assert_non_null(next);
	json_t *round2 = api_h("GET", next, access_token, NULL, prefer, 200);
	v = json_object_get(round2, "value");
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "id")), ids[2]);
	assert_non_null(json_object_get(json_array_get(v, 0), "@removed"));
	assert_non_null(json_object_get(round2, "@odata.deltaLink"));
	json_decref(round2);
	json_decref(round);

	json_decref(api("GET",
	                V1 "/me/calendarView/delta?startDateTime=2026-12-01T00:00:00Z&"
	                   "endDateTime=2027-01-01T00:00:00Z&$select=subject",
	                access_token, NULL, 400));
	json_decref(control("/_sandbox/microsoft/invalidate_delta_tokens", NULL));
	json_decref(api("GET", delta, access_token, NULL, 410));
	free(delta);
}

/* --- subscriptions --- */

static char *sub_body(const char *exp, const char *client_state)
{
	return xasprintf("{\"changeType\":\"created,updated,deleted\",\"notificationUrl\":"
	                 "\"http://127.0.0.1:%d/hook\",\"resource\":\"me/events\","
	                 "\"expirationDateTime\":\"%s\",\"clientState\":\"%s\"}",
	                 http_server_port(receiver), exp, client_state);
}

static char *in_minutes(long minutes)
{
	char buf[40];
	time_format_rfc3339(sb_now_s(sb) + minutes * 60, 0, buf, sizeof(buf));
	return xstrdup(buf);
}

static void subscriptions_handshake_and_notifications(void **st)
{
	(void)st;
	char *exp = in_minutes(120);
	char *body = sub_body(exp, "client-secret-1");
	json_t *s = api("POST", V1 "/subscriptions", access_token, body, 201);
	pthread_mutex_lock(&recv_lock);
	assert_int_equal(validations, 1);
	pthread_mutex_unlock(&recv_lock);
	assert_string_equal(json_string_value(json_object_get(s, "clientState")),
	                    "client-secret-1");
	assert_string_equal(json_string_value(json_object_get(s, "resource")), "me/events");
	char *sid = xstrdup(json_string_value(json_object_get(s, "id")));
	json_decref(s);

	/* A receiver that echoes something else: 400, nothing created. */
	pthread_mutex_lock(&recv_lock);
	echo_wrong = true;
	pthread_mutex_unlock(&recv_lock);
	json_t *e = api("POST", V1 "/subscriptions", access_token, body, 400);
	assert_string_equal(error_code(e), "ValidationError");
	json_decref(e);
	pthread_mutex_lock(&recv_lock);
	echo_wrong = false;
	pthread_mutex_unlock(&recv_lock);

	/* Expiration rules (ME-23). */
	char *far = in_minutes(5000), *near = in_minutes(10);
	char *b2 = sub_body(far, "x");
	json_decref(api("POST", V1 "/subscriptions", access_token, b2, 400));
	free(b2);
	b2 = sub_body(near, "x");
	json_t *ns = api("POST", V1 "/subscriptions", access_token, b2, 201);
	int64_t t;
	assert_int_equal(
	    time_parse_rfc3339(json_string_value(json_object_get(ns, "expirationDateTime")), &t,
	                       NULL),
	    CX_OK);
	assert_true(t >= sb_now_s(sb) + 44 * 60);
	char *del = xasprintf(V1 "/subscriptions/%s", json_string_value(json_object_get(ns, "id")));
	json_decref(api("DELETE", del, access_token, NULL, 204));
	json_decref(api("DELETE", del, access_token, NULL, 404));
	free(del);
	json_decref(ns);
	free(b2);
	char long_state[200];
	memset(long_state, 'a', 150);
	long_state[150] = '\0';
	b2 = sub_body(exp, long_state);
	json_decref(api("POST", V1 "/subscriptions", access_token, b2, 400));
	free(b2);
	free(far);
	free(near);

	/* Notifications for create, update and an outside delete (ME-25). */
	json_t *ev = create_at("n", "2026-12-01T10:00:00", "2026-12-01T11:00:00");
	char *id = xstrdup(json_string_value(json_object_get(ev, "id")));
	json_decref(ev);
	char *p = xasprintf(V1 "/me/events/%s", id);
	json_decref(api("PATCH", p, access_token, "{\"subject\":\"m\"}", 200));
	free(p);
	p = xasprintf("/_sandbox/microsoft/events/%s/delete", id);
	struct resp *r = call("POST", p, NULL, NULL, NULL, NULL);
	assert_int_equal(r->status, 204);
	resp_free(r);
	free(p);
	assert_int_equal(wait_notes(3), 3);
	pthread_mutex_lock(&recv_lock);
	const char *want[] = {"created", "updated", "deleted"};
	int found[3] = {0, 0, 0};
	for (size_t i = 0; i < 3; i++) {
		json_t *n = json_array_get(notes, i);
		assert_string_equal(json_string_value(json_object_get(n, "clientState")),
		                    "client-secret-1");
		assert_string_equal(json_string_value(json_object_get(n, "subscriptionId")), sid);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(n, "resourceData"), "id")),
		    id);
		assert_non_null(strstr(json_string_value(json_object_get(n, "resource")), id));
		for (int k = 0; k < 3; k++)
			if (strcmp(json_string_value(json_object_get(n, "changeType")), want[k]) ==
			    0)
				found[k]++;
	}
	pthread_mutex_unlock(&recv_lock);
	assert_int_equal(found[0] + found[1] + found[2], 3);
	assert_true(found[0] == 1 && found[1] == 1 && found[2] == 1);

	/* Renew, read back, then let it expire on the sandbox clock: no more notifications. */
	char *sp = xasprintf(V1 "/subscriptions/%s", sid);
	char *exp2 = in_minutes(3000);
	char *renew = xasprintf("{\"expirationDateTime\":\"%s\"}", exp2);
	json_t *rs = api("PATCH", sp, access_token, renew, 200);
	assert_string_equal(json_string_value(json_object_get(rs, "expirationDateTime")), exp2);
	json_decref(rs);
	json_decref(api("GET", sp, access_token, NULL, 200));
	advance_clock(3001 * 60);
	free(access_token);
	json_t *tok = connect_with(SCOPES);
	access_token = xstrdup(json_string_value(json_object_get(tok, "access_token")));
	json_decref(tok);
	json_decref(api("GET", sp, access_token, NULL, 404));
	json_decref(create_at("late", "2026-12-01T10:00:00", "2026-12-01T11:00:00"));
	sleep_ms(300);
	assert_int_equal(wait_notes(4), 3);
	free(renew);
	free(exp2);
	free(sp);
	free(id);
	free(sid);
	free(body);
	free(exp);
}

static void throttling_with_retry_after(void **st)
{
	(void)st;
	json_decref(control("/_sandbox/microsoft/throttle", "{\"limit\":2,\"window_s\":30}"));
	json_decref(api("GET", V1 "/me", access_token, NULL, 200));
	json_decref(api("GET", V1 "/me/events", access_token, NULL, 200));
	char *auth = xasprintf("Authorization: Bearer %s", access_token);
	struct resp *r = call("GET", V1 "/me/events", NULL, NULL, auth, NULL);
	assert_int_equal(r->status, 429);
	char *ra = resp_header(r, "Retry-After");
	assert_non_null(ra);
	long secs = strtol(ra, NULL, 10);
	assert_true(secs >= 1 && secs <= 30);
	json_t *doc = json_loads(r->body, 0, NULL);
	assert_non_null(error_code(doc));
	json_decref(doc);
	free(ra);
	resp_free(r);
	free(auth);
	advance_clock(31);
	json_decref(api("GET", V1 "/me/events", access_token, NULL, 200));
}

static int64_t at(const char *rfc3339)
{
	int64_t t;
	assert_int_equal(time_parse_rfc3339(rfc3339, &t, NULL), CX_OK);
	return t;
}

static void zone_offsets(void **st)
{
	(void)st;
	int off;
	assert_true(microsoft_zone_offset("Europe/Berlin", at("2026-01-15T12:00:00Z"), &off));
	assert_int_equal(off, 3600);
	assert_true(microsoft_zone_offset("Europe/Berlin", at("2026-07-15T12:00:00Z"), &off));
	assert_int_equal(off, 7200);
	/* Far beyond the listed transitions the POSIX footer rule decides. */
	assert_true(
	    microsoft_zone_offset("W. Europe Standard Time", at("2061-07-15T12:00:00Z"), &off));
	assert_int_equal(off, 7200);
	assert_true(
	    microsoft_zone_offset("Pacific Standard Time", at("2026-12-01T12:00:00Z"), &off));
	assert_int_equal(off, -8 * 3600);
	assert_true(microsoft_zone_offset("Australia/Sydney", at("2061-01-15T00:00:00Z"), &off));
	assert_int_equal(off, 11 * 3600);
	assert_true(microsoft_zone_offset("UTC", 0, &off));
	assert_int_equal(off, 0);
	assert_false(microsoft_zone_offset("Mars/Base", 0, &off));
	assert_null(microsoft_zone_iana("Not A Zone"));
	assert_null(microsoft_zone_iana("../etc/passwd"));

	int64_t u;
	assert_true(microsoft_zone_to_utc("Europe/Berlin", at("2026-12-01T10:00:00Z"), &u));
	assert_int_equal(u, at("2026-12-01T09:00:00Z"));
	/* 02:30 does not exist on 2026-03-29 in Berlin: it becomes 03:30 CEST. */
	assert_true(microsoft_zone_to_utc("Europe/Berlin", at("2026-03-29T02:30:00Z"), &u));
	assert_int_equal(u, at("2026-03-29T01:30:00Z"));
	/* 02:30 happens twice on 2026-10-25: the first one wins. */
	assert_true(microsoft_zone_to_utc("Europe/Berlin", at("2026-10-25T02:30:00Z"), &u));
	assert_int_equal(u, at("2026-10-25T00:30:00Z"));
}

static void event_time_zones_and_prefer(void **st)
{
	(void)st;
	json_t *e = create("{\"subject\":\"tz\",\"start\":{\"dateTime\":\"2026-12-01T10:00:00\","
	                   "\"timeZone\":\"W. Europe Standard Time\"},\"end\":{\"dateTime\":"
	                   "\"2026-12-01T11:00:00\",\"timeZone\":\"W. Europe Standard Time\"}}");
	json_t *s = json_object_get(e, "start");
	assert_string_equal(json_string_value(json_object_get(s, "dateTime")),
	                    "2026-12-01T09:00:00.0000000");
	assert_string_equal(json_string_value(json_object_get(s, "timeZone")), "UTC");
	assert_string_equal(json_string_value(json_object_get(e, "originalStartTimeZone")),
	                    "W. Europe Standard Time");
	char *path = xasprintf(V1 "/me/events/%s", json_string_value(json_object_get(e, "id")));
	json_decref(e);
	e = api_h("GET", path, access_token, NULL,
	          "Prefer: outlook.timezone=\"Pacific Standard Time\"", 200);
	s = json_object_get(e, "start");
	assert_string_equal(json_string_value(json_object_get(s, "dateTime")),
	                    "2026-12-01T01:00:00.0000000");
	assert_string_equal(json_string_value(json_object_get(s, "timeZone")),
	                    "Pacific Standard Time");
	json_decref(e);
	free(path);
	e = api("POST", V1 "/me/events", access_token,
	        "{\"start\":{\"dateTime\":\"2026-12-01T10:00:00\",\"timeZone\":\"Nowhere\"},"
	        "\"end\":{\"dateTime\":\"2026-12-01T11:00:00\",\"timeZone\":\"Nowhere\"}}",
	        400);
	assert_string_equal(error_code(e), "TimeZoneNotSupportedException");
	json_decref(e);
}

static void calendar_view_expands_series(void **st)
{
	(void)st;
	json_t *e =
	    create("{\"subject\":\"standup\",\"start\":{\"dateTime\":\"2026-10-23T10:00:00\","
	           "\"timeZone\":\"W. Europe Standard Time\"},\"end\":{\"dateTime\":"
	           "\"2026-10-23T10:15:00\",\"timeZone\":\"W. Europe Standard Time\"},"
	           "\"recurrence\":{\"pattern\":{\"type\":\"weekly\",\"interval\":1,"
	           "\"daysOfWeek\":[\"monday\",\"friday\"]},\"range\":{\"type\":"
	           "\"numbered\",\"startDate\":\"2026-10-23\",\"numberOfOccurrences\":3}}}");
	assert_string_equal(json_string_value(json_object_get(e, "type")), "seriesMaster");
	char *master = xstrdup(json_string_value(json_object_get(e, "id")));
	json_decref(e);
	json_t *l = api("GET",
	                V1 "/me/calendarView?startDateTime=2026-10-01T00:00:00Z&endDateTime="
	                   "2026-11-30T00:00:00Z&$top=50",
	                access_token, NULL, 200);
	json_t *v = json_object_get(l, "value");
	assert_int_equal(json_array_size(v), 3);
	/* Friday 23 Oct (summer time), Monday 26 and Friday 30 Oct (winter time): 10:00 Berlin. */
	const char *want[] = {"2026-10-23T08:00:00.0000000", "2026-10-26T09:00:00.0000000",
	                      "2026-10-30T09:00:00.0000000"};
	for (size_t i = 0; i < 3; i++) {
		json_t *o = json_array_get(v, i);
		assert_string_equal(json_string_value(json_object_get(o, "type")), "occurrence");
		assert_string_equal(json_string_value(json_object_get(o, "seriesMasterId")),
		                    master);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(o, "start"), "dateTime")),
		    want[i]);
	}
	json_decref(l);
	l = api("GET", V1 "/me/events", access_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(l, "value")), 1);
	json_decref(l);
	json_decref(api("POST", V1 "/me/events", access_token,
	                "{\"start\":{\"dateTime\":\"2026-10-23T10:00:00\",\"timeZone\":\"UTC\"},"
	                "\"end\":{\"dateTime\":\"2026-10-23T11:00:00\",\"timeZone\":\"UTC\"},"
	                "\"recurrence\":\"daily\"}",
	                400));
	free(master);
}

static void failed_notifications_are_resent(void **st)
{
	(void)st;
	char *exp = in_minutes(120);
	char *body = sub_body(exp, "cs");
	json_decref(api("POST", V1 "/subscriptions", access_token, body, 201));
	pthread_mutex_lock(&recv_lock);
	notify_status = 500;
	pthread_mutex_unlock(&recv_lock);
	json_decref(create_at("r", "2026-12-01T10:00:00", "2026-12-01T11:00:00"));
	assert_int_equal(wait_notes(1), 1);
	pthread_mutex_lock(&recv_lock);
	notify_status = 202;
	pthread_mutex_unlock(&recv_lock);
	sleep_ms(200);
	assert_int_equal(wait_notes(2), 1); /* the retry waits for the sandbox clock */
	advance_clock(61);
	assert_int_equal(wait_notes(2), 2);
	pthread_mutex_lock(&recv_lock);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(notes, 1), "changeType")), "created");
	pthread_mutex_unlock(&recv_lock);
	free(body);
	free(exp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(authorize_page_deny_and_bad_requests, reset_each),
	    cmocka_unit_test_setup(token_exchange_rules, reset_each),
	    cmocka_unit_test_setup(refresh_rotates_and_revocation_ends_it, reset_each),
	    cmocka_unit_test_setup(access_tokens_expire_and_error_body, reset_each),
	    cmocka_unit_test_setup(me_and_calendars, reset_each),
	    cmocka_unit_test_setup(create_patch_delete_and_dedupe, reset_each),
	    cmocka_unit_test_setup(teams_links, reset_each),
	    cmocka_unit_test_setup(calendar_view_window_and_paging, reset_each),
	    cmocka_unit_test_setup(delta_rounds, reset_each),
	    cmocka_unit_test_setup(subscriptions_handshake_and_notifications, reset_each),
	    cmocka_unit_test_setup(throttling_with_retry_after, reset_each),
	    cmocka_unit_test(zone_offsets),
	    cmocka_unit_test_setup(event_time_zones_and_prefer, reset_each),
	    cmocka_unit_test_setup(calendar_view_expands_series, reset_each),
	    cmocka_unit_test_setup(failed_notifications_are_resent, reset_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
