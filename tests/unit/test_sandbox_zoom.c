/* The Zoom emulator (sandbox/zoom.c), black-box over HTTP against a sandbox started in-process on a
 * free loopback port: OAuth (consent, codes, PKCE, client authentication, rotation, revoke), the
 * Meetings API with its errors and rate limits, and signed webhooks received by a small server in
 * this test whose signature check is computed here with libsodium, independently of the sandbox.
 * The ZE-nn numbers are the checklist of shared/providers/ZOOM.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/time.h"
#include "http/http.h"
#include "sandbox.h"
#include "sb.h"
#include "base/banned.h"

#define REDIRECT "http://127.0.0.1:8080/oauth/zoom/callback"
#define REDIRECT_ENC "http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fzoom%2Fcallback"
#define REDIRECT_FMT "http%%3A%%2F%%2F127.0.0.1%%3A8080%%2Foauth%%2Fzoom%%2Fcallback"
#define BASIC "Authorization: Basic c2FuZGJveC16b29tLWNsaWVudDpzYW5kYm94LXNlY3JldA=="
#define ALL_SCOPES                                                                                 \
	"meeting:write:meeting+meeting:read:meeting+meeting:update:meeting+"                       \
	"meeting:delete:meeting+user:read:user+meeting:read:list_meetings"

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

/* The value of a response header (case-insensitive name), in a new string, or NULL. */
static char *header_value(const struct resp *r, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = r->headers.data; p && *p;) {
		size_t len = strcspn(p, "\r\n");
		if (len > n + 1 && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			v += strspn(v, " ");
			return xstrndup(v, len - (size_t)(v - p));
		}
		p += len;
		p += strspn(p, "\r\n");
	}
	return NULL;
}

static json_t *expect_json(struct resp *r, long status)
{
	assert_int_equal(r->rc, CURLE_OK);
	if (r->status != status)
		fail_msg("status %ld, expected %ld: %s", r->status, status, r->body);
	json_t *doc = json_loads(r->body, 0, NULL);
	if (!doc)
		fail_msg("not JSON: %s", r->body);
	return doc;
}

static json_t *call_json(const char *method, const char *path, const char *body, long status)
{
	struct resp *r = call(method, path, body ? "application/json" : NULL, body, NULL);
	json_t *doc = expect_json(r, status);

	resp_free(r);
	return doc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static json_t *zoom_state(void)
{
	json_t *s = call_json("GET", "/_sandbox/state", NULL, 200);
	json_t *z = json_incref(json_object_get(s, "zoom"));

	json_decref(s);
	return z;
}

static long counter(const char *name)
{
	json_t *z = zoom_state();
	long v = (long)json_integer_value(json_object_get(json_object_get(z, "counters"), name));

	json_decref(z);
	return v;
}

static void advance_clock(long seconds)
{
	char *body = xasprintf("{\"advance_seconds\":%ld}", seconds);

	json_decref(call_json("POST", "/_sandbox/clock", body, 200));
	free(body);
}

/* --- the webhook receiver: checks nothing itself, records what arrived --- */

#define RECEIVED_MAX 32

struct received_event {
	char *body;
	char *signature;
	char *timestamp;
};

static struct http_server *receiver;
static pthread_mutex_t received_lock = PTHREAD_MUTEX_INITIALIZER;
static struct received_event events[RECEIVED_MAX];
static int n_events;
static int event_status = 200;
static bool validation_correct = true;

static void hmac_hex(const char *key, const char *msg, char out[65])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
}

static void hook(struct http_request *req)
{
	const char *body = req->body ? req->body : "";
	json_t *doc = json_loads(body, 0, NULL);
	const char *event = json_string_value(json_object_get(doc, "event"));
	int status;

	pthread_mutex_lock(&received_lock);
	if (n_events < RECEIVED_MAX) {
		const char *sig = http_header(req, "x-zm-signature");
		const char *ts = http_header(req, "x-zm-request-timestamp");
		events[n_events].body = xstrdup(body);
		events[n_events].signature = sig ? xstrdup(sig) : NULL;
		events[n_events].timestamp = ts ? xstrdup(ts) : NULL;
		n_events++;
	}
	status = event_status;
	bool correct = validation_correct;
	pthread_mutex_unlock(&received_lock);

	if (event && strcmp(event, "endpoint.url_validation") == 0) {
		const char *plain = json_string_value(
		    json_object_get(json_object_get(doc, "payload"), "plainToken"));
		char enc[65];
		hmac_hex(correct ? "sandbox-webhook-secret" : "another-secret", plain ? plain : "",
		         enc);
		http_reply_json(req, 200,
		                json_pack("{s:s, s:s}", "plainToken", plain ? plain : "",
		                          "encryptedToken", enc));
	} else {
		http_reply(req, status, "text/plain", "", 0);
	}
	json_decref(doc);
}

static const struct http_route receiver_routes[] = {{"POST", "/zoom-hook", hook}};

static void clear_events(void)
{
	pthread_mutex_lock(&received_lock);
	for (int i = 0; i < n_events; i++) {
		free(events[i].body);
		free(events[i].signature);
		free(events[i].timestamp);
	}
	memset(events, 0, sizeof(events));
	n_events = 0;
	event_status = 200;
	validation_correct = true;
	pthread_mutex_unlock(&received_lock);
}

/* Waits for the n-th received event (1-based) and returns a copy of its body. */
static char *wait_event(int n, char **signature, char **timestamp)
{
	for (int i = 0; i < 250; i++) {
		pthread_mutex_lock(&received_lock);
		if (n_events >= n) {
			char *body = xstrdup(events[n - 1].body);
			if (signature)
				*signature = events[n - 1].signature
				                 ? xstrdup(events[n - 1].signature)
				                 : NULL;
			if (timestamp)
				*timestamp = events[n - 1].timestamp
				                 ? xstrdup(events[n - 1].timestamp)
				                 : NULL;
			pthread_mutex_unlock(&received_lock);
			return body;
		}
		pthread_mutex_unlock(&received_lock);
		sleep_ms(20);
	}
	fail_msg("webhook %d never arrived", n);
	return NULL;
}

static int events_received(void)
{
	pthread_mutex_lock(&received_lock);
	int n = n_events;
	pthread_mutex_unlock(&received_lock);
	return n;
}

/* Sets the webhook URL to the receiver and waits until the sandbox judged the validation. */
static void use_receiver(bool correct)
{
	char *body = xasprintf("{\"webhook_url\":\"http://127.0.0.1:%d/zoom-hook\"}",
	                       http_server_port(receiver));

	pthread_mutex_lock(&received_lock);
	validation_correct = correct;
	pthread_mutex_unlock(&received_lock);
	json_decref(call_json("POST", "/_sandbox/zoom/settings", body, 200));
	free(body);
	for (int i = 0; i < 250; i++) {
		json_t *s = call_json("GET", "/_sandbox/zoom/settings", NULL, 200);
		const char *v = json_string_value(json_object_get(s, "webhook_validation"));
		bool done = v && strcmp(v, "pending") != 0;
		json_decref(s);
		if (done)
			return;
		sleep_ms(20);
	}
	fail_msg("webhook validation never finished");
}

/* The signature check of ZOOM.md §10, done here without the sandbox's code. */
static void assert_signed(const char *body, const char *signature, const char *timestamp)
{
	char hex[65];
	assert_non_null(signature);
	assert_non_null(timestamp);
	char *msg = xasprintf("v0:%s:%s", timestamp, body);
	hmac_hex("sandbox-webhook-secret", msg, hex);
	char *expect = xasprintf("v0=%s", hex);
	assert_string_equal(signature, expect);
	free(expect);
	free(msg);
	long long ts = strtoll(timestamp, NULL, 10);
	assert_true(ts >= time_wall_s() - 60 && ts <= time_wall_s() + 60);
}

/* --- OAuth helpers --- */

/* Runs the consent form as a browser would; returns the Location header of the answer. */
static char *decide(const char *user, const char *decision, const char *extra)
{
	char *form =
	    xasprintf("response_type=code&client_id=sandbox-zoom-client&redirect_uri=" REDIRECT_FMT
	              "&user=%s&decision=%s%s",
	              user, decision, extra ? extra : "");
	struct resp *r = call("POST", "/zoom/oauth/authorize/decision",
	                      "application/x-www-form-urlencoded", form, NULL);
	assert_int_equal(r->status, 302);
	char *loc = header_value(r, "Location");
	assert_non_null(loc);
	resp_free(r);
	free(form);
	return loc;
}

/* The decoded value of a query parameter of a URL (new string) or NULL. */
static char *query_value(const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(name);

	for (const char *p = q ? q + 1 : ""; *p;) {
		size_t len = strcspn(p, "&");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			char *v = curl_easy_unescape(NULL, p + n + 1, (int)(len - n - 1), NULL);
			char *out = xstrdup(v);
			curl_free(v);
			return out;
		}
		p += len;
		p += *p == '&';
	}
	return NULL;
}

static char *code_for(const char *user, const char *extra)
{
	char *loc = decide(user, "allow", extra);
	assert_true(strncmp(loc, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
	char *code = query_value(loc, "code");
	assert_non_null(code);
	free(loc);
	return code;
}

static struct resp *token_call(const char *form, const char *auth)
{
	return call("POST", "/zoom/oauth/token", "application/x-www-form-urlencoded", form, auth);
}

static json_t *exchange(const char *code, const char *verifier, long status)
{
	char *form =
	    xasprintf("grant_type=authorization_code&code=%s&redirect_uri=" REDIRECT_FMT "%s%s",
	              code, verifier ? "&code_verifier=" : "", verifier ? verifier : "");
	struct resp *r = token_call(form, BASIC);
	json_t *doc = expect_json(r, status);

	resp_free(r);
	free(form);
	return doc;
}

static json_t *refresh(const char *refresh_token, long status)
{
	char *form = xasprintf("grant_type=refresh_token&refresh_token=%s", refresh_token);
	struct resp *r = token_call(form, BASIC);
	json_t *doc = expect_json(r, status);

	resp_free(r);
	free(form);
	return doc;
}

/* A connected user: the whole flow with every scope; returns the token answer. */
static json_t *connect_user(const char *user)
{
	char *code = code_for(user, "&scope=" ALL_SCOPES);
	json_t *tok = exchange(code, NULL, 200);

	free(code);
	return tok;
}

static char *bearer(const json_t *tok)
{
	return xasprintf("Authorization: Bearer %s",
	                 json_string_value(json_object_get(tok, "access_token")));
}

static struct resp *api(const char *method, const char *path, const json_t *tok, const char *body)
{
	char *auth = tok ? bearer(tok) : NULL;
	struct resp *r = call(method, path, body ? "application/json" : NULL, body, auth);

	free(auth);
	return r;
}

static json_t *api_json(const char *method, const char *path, const json_t *tok, const char *body,
                        long status)
{
	struct resp *r = api(method, path, tok, body);
	json_t *doc = expect_json(r, status);

	resp_free(r);
	return doc;
}

static void assert_error(json_t *doc, long code, const char *message)
{
	assert_int_equal(json_integer_value(json_object_get(doc, "code")), code);
	if (message)
		assert_string_equal(json_string_value(json_object_get(doc, "message")), message);
	json_decref(doc);
}

static void assert_oauth_error(json_t *doc, const char *reason, const char *error)
{
	assert_string_equal(json_string_value(json_object_get(doc, "reason")), reason);
	assert_string_equal(json_string_value(json_object_get(doc, "error")), error);
	json_decref(doc);
}

static int64_t create_meeting(const json_t *tok, const char *body, json_t **out)
{
	json_t *m = api_json("POST", "/zoom/v2/users/me/meetings", tok, body, 201);
	int64_t id = json_integer_value(json_object_get(m, "id"));

	if (out)
		*out = m;
	else
		json_decref(m);
	return id;
}

/* --- setup --- */

static int setup(void **st)
{
	struct sandbox_options opts = {.port = 0, .seed = 42, .threads = 2};
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
	clear_events();
	curl_global_cleanup();
	return 0;
}

static int reset_each(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/reset", NULL, 200));
	json_decref(call_json("POST", "/_sandbox/zoom/settings", "{\"webhook_url\":null}", 200));
	clear_events();
	return 0;
}

/* --- OAuth --- */

static void authorize_refuses_unknown_client_and_redirect(void **st) /* ZE-01 */
{
	(void)st;
	struct resp *r = call("GET",
	                      "/zoom/oauth/authorize?response_type=code&client_id=sandbox-zoom-"
	                      "client&redirect_uri=https%3A%2F%2Fevil.example%2Foauth%2Fzoom%2F"
	                      "callback&state=abc",
	                      NULL, NULL, NULL);
	json_t *doc = expect_json(r, 400);
	assert_null(header_value(r, "Location"));
	assert_int_equal(json_integer_value(json_object_get(doc, "errorCode")), 4700);
	assert_string_equal(json_string_value(json_object_get(doc, "errorMessage")),
	                    "Invalid redirect url");
	assert_true(json_is_false(json_object_get(doc, "status")));
	json_decref(doc);
	resp_free(r);

	r = call(
	    "GET",
	    "/zoom/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=" REDIRECT_ENC,
	    NULL, NULL, NULL);
	doc = expect_json(r, 400);
	assert_null(header_value(r, "Location"));
	assert_int_equal(json_integer_value(json_object_get(doc, "errorCode")), 4700);
	json_decref(doc);
	resp_free(r);

	/* the decision form is checked the same way */
	r = call("POST", "/zoom/oauth/authorize/decision", "application/x-www-form-urlencoded",
	         "response_type=code&client_id=sandbox-zoom-client&redirect_uri=http%3A%2F%2F"
	         "127.0.0.1%3A8080%2Fother&user=alice%40example.com&decision=allow",
	         NULL);
	assert_int_equal(r->status, 400);
	assert_null(header_value(r, "Location"));
	resp_free(r);
}

static void consent_page_lists_requested_scopes(void **st)
{
	(void)st;
	struct resp *r = call("GET",
	                      "/zoom/oauth/authorize?response_type=code&client_id=sandbox-zoom-"
	                      "client&redirect_uri=" REDIRECT_ENC "&state=xyz&code_challenge=abc&"
	                      "code_challenge_method=S256",
	                      NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	static const char *const texts[] = {
	    "Sign in to Zoom",
	    "Create meetings when you add a meeting link",
	    "Read meeting details to display the join link",
	    "Remove the meeting when the event it was attached to is deleted",
	    "Read your Zoom user ID to associate meetings with your account",
	    "Update a meeting&#39;s time and topic when its event changes",
	    "alice@example.com",
	    "bob@example.com",
	    "restricted@example.com",
	    "name=\"code_challenge\" value=\"abc\"",
	    "name=\"state\" value=\"xyz\"",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!strstr(r->body, texts[i]))
			fail_msg("page lacks %s", texts[i]);
	resp_free(r);
}

static void allow_deny_and_state(void **st) /* ZE-02, ZE-03 */
{
	(void)st;
	char *loc = decide("alice%40example.com", "allow", "&state=a%2Bb%20c%26d");
	char *state = query_value(loc, "state");
	assert_string_equal(state, "a+b c&d");
	free(state);
	free(loc);

	loc = decide("alice%40example.com", "allow", NULL);
	assert_null(strstr(loc, "state="));
	assert_non_null(strstr(loc, "code="));
	free(loc);

	loc = decide("alice%40example.com", "deny", "&state=s9");
	assert_string_equal(loc, REDIRECT "?error=access_denied&state=s9");
	free(loc);
	assert_int_equal(counter("codes_issued"), 2);
}

static void restricted_account_never_gets_a_code(void **st) /* ZE-03 */
{
	(void)st;
	char *loc = decide("restricted%40example.com", "allow", "&state=r1");
	assert_string_equal(loc, REDIRECT "?error=access_denied&state=r1");
	free(loc);

	json_decref(
	    call_json("POST", "/_sandbox/zoom/settings", "{\"restricted_mode\":\"page\"}", 200));
	struct resp *r =
	    call("POST", "/zoom/oauth/authorize/decision", "application/x-www-form-urlencoded",
	         "response_type=code&client_id=sandbox-zoom-client&redirect_uri=" REDIRECT_ENC
	         "&user=restricted%40example.com&decision=allow",
	         NULL);
	assert_int_equal(r->status, 403);
	assert_null(header_value(r, "Location"));
	assert_non_null(strstr(r->body, "Authorization failed"));
	assert_non_null(strstr(r->body, "administrator"));
	resp_free(r);
	json_decref(
	    call_json("POST", "/_sandbox/zoom/settings", "{\"restricted_mode\":\"bogus\"}", 400));
	assert_int_equal(counter("codes_issued"), 0);
}

static void token_exchange_and_code_rules(void **st) /* ZE-04, ZE-08, ZE-09 */
{
	(void)st;
	char *code = code_for("alice%40example.com", "&scope=meeting:write:meeting+user:read:user");
	json_t *tok = exchange(code, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(tok, "token_type")), "bearer");
	assert_int_equal(json_integer_value(json_object_get(tok, "expires_in")), 3599);
	assert_string_equal(json_string_value(json_object_get(tok, "scope")),
	                    "meeting:write:meeting user:read:user");
	char *api_url = xasprintf("%s/zoom", sb->base_url);
	assert_string_equal(json_string_value(json_object_get(tok, "api_url")), api_url);
	free(api_url);
	assert_true(json_string_length(json_object_get(tok, "access_token")) > 20);
	assert_true(json_string_length(json_object_get(tok, "refresh_token")) > 20);
	json_decref(tok);

	/* reuse */
	assert_oauth_error(exchange(code, NULL, 400), "Invalid authorization code",
	                   "invalid_grant");
	free(code);

	/* expiry after five minutes of sandbox time */
	code = code_for("alice%40example.com", NULL);
	advance_clock(301);
	assert_oauth_error(exchange(code, NULL, 400), "Invalid authorization code",
	                   "invalid_grant");
	free(code);

	/* redirect_uri differing from the authorize request */
	code = code_for("alice%40example.com", NULL);
	char *form = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=http%%3A%%2F%%2F"
	                       "localhost%%3A8080%%2Foauth%%2Fzoom%%2Fcallback",
	                       code);
	struct resp *r = token_call(form, BASIC);
	json_t *doc = expect_json(r, 400);
	assert_string_equal(json_string_value(json_object_get(doc, "error")), "invalid_grant");
	json_decref(doc);
	resp_free(r);
	free(form);
	free(code);

	/* unknown grant type */
	r = token_call("grant_type=password&username=a&password=b", BASIC);
	doc = expect_json(r, 400);
	assert_string_equal(json_string_value(json_object_get(doc, "error")),
	                    "unsupported_grant_type");
	json_decref(doc);
	resp_free(r);
}

static void client_authentication(void **st) /* ZE-06, ZE-07 */
{
	(void)st;
	char *code = code_for("bob%40example.com", NULL);
	char *form =
	    xasprintf("grant_type=authorization_code&code=%s&redirect_uri=" REDIRECT_FMT, code);
	struct resp *r =
	    token_call(form, "Authorization: Basic c2FuZGJveC16b29tLWNsaWVudDp3cm9uZw==");
	assert_oauth_error(expect_json(r, 400), "Invalid client_id or client_secret",
	                   "invalid_client");
	resp_free(r);
	r = token_call(form, NULL);
	assert_oauth_error(expect_json(r, 400), "Invalid client_id or client_secret",
	                   "invalid_client");
	resp_free(r);
	free(form);

	/* credentials and parameters in the query string instead of Basic and a form body */
	char *path = xasprintf("/zoom/oauth/token?grant_type=authorization_code&code=%s&"
	                       "redirect_uri=" REDIRECT_FMT "&client_id=sandbox-zoom-client&"
	                       "client_secret=sandbox-secret",
	                       code);
	r = call("POST", path, NULL, NULL, NULL);
	json_t *tok = expect_json(r, 200);
	assert_non_null(json_object_get(tok, "access_token"));
	json_decref(tok);
	resp_free(r);
	free(path);
	free(code);
}

static void pkce_s256_and_plain(void **st) /* ZE-05 */
{
	(void)st;
	const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char *s256 = "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	                   "&code_challenge_method=S256";

	char *code = code_for("alice%40example.com", s256);
	json_decref(exchange(code, verifier, 200));
	free(code);

	code = code_for("alice%40example.com", s256);
	assert_oauth_error(exchange(code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx", 400),
	                   "Invalid code_verifier", "invalid_grant");
	free(code);

	code = code_for("alice%40example.com", s256);
	json_t *doc = exchange(code, NULL, 400);
	assert_string_equal(json_string_value(json_object_get(doc, "error")), "invalid_grant");
	json_decref(doc);
	free(code);

	code = code_for("alice%40example.com", "&code_challenge=plain-verifier-value");
	json_decref(exchange(code, "plain-verifier-value", 200));
	free(code);
	code = code_for("alice%40example.com",
	                "&code_challenge=plain-verifier-value&code_challenge_method=plain");
	assert_oauth_error(exchange(code, "other", 400), "Invalid code_verifier", "invalid_grant");
	free(code);
}

static void refresh_rotation(void **st) /* ZE-10, ZE-11 */
{
	(void)st;
	json_t *first = connect_user("alice%40example.com");
	const char *r1 = json_string_value(json_object_get(first, "refresh_token"));

	json_t *second = refresh(r1, 200);
	const char *r2 = json_string_value(json_object_get(second, "refresh_token"));
	assert_string_not_equal(r1, r2);
	assert_string_not_equal(json_string_value(json_object_get(first, "access_token")),
	                        json_string_value(json_object_get(second, "access_token")));
	assert_string_equal(json_string_value(json_object_get(second, "scope")),
	                    json_string_value(json_object_get(first, "scope")));
	assert_oauth_error(refresh(r1, 400), "Invalid Token!", "invalid_grant");
	assert_int_equal(counter("token_refreshes"), 1);

	/* the new access token works; after 3599 s of sandbox time it is expired */
	json_decref(api_json("GET", "/zoom/v2/users/me", second, NULL, 200));
	advance_clock(3600);
	assert_error(api_json("GET", "/zoom/v2/users/me", second, NULL, 401), 124,
	             "Access token is expired.");
	json_t *third = refresh(r2, 200);
	json_decref(api_json("GET", "/zoom/v2/users/me", third, NULL, 200));
	json_decref(third);
	json_decref(second);
	json_decref(first);
}

static void dropped_refresh_response_loses_the_old_token(void **st) /* ZE-12 */
{
	(void)st;
	json_t *tok = connect_user("alice%40example.com");
	json_decref(
	    call_json("POST", "/_sandbox/faults",
	              "{\"rules\":[{\"method\":\"POST\",\"path_prefix\":\"/zoom/oauth/token\","
	              "\"drop_response\":true}]}",
	              200));
	char *form = xasprintf("grant_type=refresh_token&refresh_token=%s",
	                       json_string_value(json_object_get(tok, "refresh_token")));
	struct resp *r = token_call(form, BASIC);
	assert_int_not_equal(r->rc, CURLE_OK);
	resp_free(r);
	free(form);
	assert_int_equal(counter("token_refreshes"), 1);
	assert_oauth_error(refresh(json_string_value(json_object_get(tok, "refresh_token")), 400),
	                   "Invalid Token!", "invalid_grant");
	json_decref(tok);
}

static void reauthorization_and_refresh_lifetime(void **st) /* ZE-13, ZE-14 */
{
	(void)st;
	json_t *old = connect_user("bob%40example.com");
	json_t *fresh = connect_user("bob%40example.com");
	assert_error(api_json("GET", "/zoom/v2/users/me", old, NULL, 401), 124,
	             "Invalid access token.");
	assert_oauth_error(refresh(json_string_value(json_object_get(old, "refresh_token")), 400),
	                   "Invalid Token!", "invalid_grant");
	json_decref(api_json("GET", "/zoom/v2/users/me", fresh, NULL, 200));
	json_decref(old);
	json_decref(fresh);

	json_decref(
	    call_json("POST", "/_sandbox/zoom/settings", "{\"refresh_token_ttl_s\":600}", 200));
	json_t *tok = connect_user("bob%40example.com");
	advance_clock(601);
	assert_oauth_error(refresh(json_string_value(json_object_get(tok, "refresh_token")), 400),
	                   "Invalid Token!", "invalid_grant");
	json_decref(tok);
}

static void revoke_kills_both_tokens_and_notifies(void **st) /* ZE-15, ZE-28 */
{
	(void)st;
	use_receiver(true);
	char *vbody = wait_event(1, NULL, NULL);
	assert_non_null(strstr(vbody, "\"event\":\"endpoint.url_validation\""));
	free(vbody);

	json_t *tok = connect_user("alice%40example.com");
	char *form = xasprintf("token=%s", json_string_value(json_object_get(tok, "access_token")));
	struct resp *r =
	    call("POST", "/zoom/oauth/revoke", "application/x-www-form-urlencoded", form, BASIC);
	json_t *doc = expect_json(r, 200);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "success");
	json_decref(doc);
	resp_free(r);
	free(form);
	assert_error(api_json("GET", "/zoom/v2/users/me", tok, NULL, 401), 124,
	             "Invalid access token.");
	assert_oauth_error(refresh(json_string_value(json_object_get(tok, "refresh_token")), 400),
	                   "Invalid Token!", "invalid_grant");

	char *sig = NULL, *ts = NULL;
	char *body = wait_event(2, &sig, &ts);
	assert_signed(body, sig, ts);
	json_t *ev = json_loads(body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "app_deauthorized");
	json_t *payload = json_object_get(ev, "payload");
	assert_string_equal(json_string_value(json_object_get(payload, "user_id")),
	                    "KDcuGIm1QgePTO8WbOqwIQ");
	assert_string_equal(json_string_value(json_object_get(payload, "client_id")),
	                    "sandbox-zoom-client");
	assert_non_null(json_string_value(json_object_get(payload, "account_id")));
	assert_int_equal(json_string_length(json_object_get(payload, "signature")), 64);
	int64_t when;
	assert_int_equal(
	    time_parse_rfc3339(json_string_value(json_object_get(payload, "deauthorization_time")),
	                       &when, NULL),
	    CX_OK);
	assert_true(json_integer_value(json_object_get(ev, "event_ts")) > INT64_C(1700000000000));
	json_decref(ev);
	free(body);
	free(sig);
	free(ts);
	json_decref(tok);
}

static void uninstall_removes_grant_and_sends_signed_event(void **st) /* ZE-31 */
{
	(void)st;
	use_receiver(true);
	json_t *tok = connect_user("bob%40example.com");
	json_t *res =
	    call_json("POST", "/_sandbox/zoom/uninstall", "{\"email\":\"bob@example.com\"}", 200);
	assert_int_equal(json_integer_value(json_object_get(res, "grants_removed")), 1);
	json_decref(res);
	assert_error(api_json("GET", "/zoom/v2/users/me", tok, NULL, 401), 124, NULL);
	json_t *z = zoom_state();
	assert_int_equal(json_array_size(json_object_get(z, "grants")), 0);
	json_decref(z);

	char *sig = NULL, *ts = NULL;
	char *body = wait_event(2, &sig, &ts);
	assert_signed(body, sig, ts);
	assert_non_null(strstr(body, "\"event\":\"app_deauthorized\""));
	assert_non_null(strstr(body, "\"user_id\":\"z8yCDPvqTfmWQz0Bf8V1sA\""));
	free(body);
	free(sig);
	free(ts);
	json_decref(
	    call_json("POST", "/_sandbox/zoom/uninstall", "{\"email\":\"bob@example.com\"}", 409));
	json_decref(tok);
}

static void failed_validation_stops_events(void **st) /* ZE-29 */
{
	(void)st;
	use_receiver(false);
	json_t *s = call_json("GET", "/_sandbox/zoom/settings", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(s, "webhook_validation")), "invalid");
	json_decref(s);
	json_t *tok = connect_user("alice%40example.com");
	json_decref(call_json("POST", "/_sandbox/zoom/uninstall",
	                      "{\"email\":\"alice@example.com\"}", 200));
	sleep_ms(300);
	assert_int_equal(events_received(), 1); /* only the validation request itself */
	json_decref(tok);
}

static const char *validation_status(void)
{
	static char out[16];
	json_t *s = call_json("GET", "/_sandbox/zoom/settings", NULL, 200);

	snprintf(out, sizeof(out), "%s",
	         json_string_value(json_object_get(s, "webhook_validation")));
	json_decref(s);
	return out;
}

static void unreachable_url_is_retried_before_it_fails(void **st)
{
	(void)st;
	/* a path of the sandbox's own listener: it answers 404, which is no answer to the
	 * challenge, as when Calendox is not running yet */
	char *body = xasprintf("{\"webhook_url\":\"%s/nowhere\"}", sb->base_url);
	json_decref(call_json("POST", "/_sandbox/zoom/settings", body, 200));
	free(body);
	for (int i = 0; i < 100; i++) {
		json_t *s = call_json("GET", "/_sandbox/state", NULL, 200);
		size_t n = json_array_size(json_object_get(s, "deliveries"));
		json_decref(s);
		if (n >= 1)
			break;
		sleep_ms(20);
	}
	assert_string_equal(validation_status(), "pending");
	for (int i = 0; i < 100 && strcmp(validation_status(), "pending") == 0; i++) {
		advance_clock(200);
		sleep_ms(60);
	}
	assert_string_equal(validation_status(), "invalid");
	json_t *s = call_json("GET", "/_sandbox/state", NULL, 200);
	assert_int_equal(json_array_size(json_object_get(s, "deliveries")), 9);
	json_decref(s);
}

static void webhook_retries_follow_the_clock(void **st) /* ZE-30 */
{
	(void)st;
	use_receiver(true);
	pthread_mutex_lock(&received_lock);
	event_status = 500;
	pthread_mutex_unlock(&received_lock);
	json_t *tok = connect_user("alice%40example.com");
	json_decref(call_json("POST", "/_sandbox/zoom/uninstall",
	                      "{\"email\":\"alice@example.com\"}", 200));
	char *first = wait_event(2, NULL, NULL);
	sleep_ms(150);
	assert_int_equal(events_received(), 2);
	advance_clock(5 * 60);
	char *second = wait_event(3, NULL, NULL);
	assert_string_equal(first, second);
	advance_clock(20 * 60);
	free(wait_event(4, NULL, NULL));
	advance_clock(60 * 60);
	free(wait_event(5, NULL, NULL));
	advance_clock(24 * 60 * 60);
	sleep_ms(200);
	assert_int_equal(events_received(), 5); /* three retries, then dropped */
	free(first);
	free(second);
	json_decref(tok);
}

/* --- the API --- */

static void bad_tokens_and_scopes(void **st) /* ZE-16, ZE-17 */
{
	(void)st;
	assert_error(api_json("GET", "/zoom/v2/users/me", NULL, NULL, 401), 124,
	             "Invalid access token.");
	struct resp *r = call("GET", "/zoom/v2/users/me", NULL, NULL, "Authorization: Bearer nope");
	assert_error(expect_json(r, 401), 124, "Invalid access token.");
	resp_free(r);

	char *code = code_for("alice%40example.com", "&scope=meeting:read:meeting");
	json_t *tok = exchange(code, NULL, 200);
	free(code);
	assert_error(api_json("POST", "/zoom/v2/users/me/meetings", tok, "{}", 400), 4711,
	             "Invalid access token, does not contain scopes:[meeting:write:meeting].");
	assert_error(api_json("GET", "/zoom/v2/users/me", tok, NULL, 400), 4711,
	             "Invalid access token, does not contain scopes:[user:read:user].");
	assert_error(api_json("DELETE", "/zoom/v2/meetings/81234567890", tok, NULL, 400), 4711,
	             "Invalid access token, does not contain scopes:[meeting:delete:meeting].");
	assert_error(api_json("PATCH", "/zoom/v2/meetings/81234567890", tok, "{}", 400), 4711,
	             "Invalid access token, does not contain scopes:[meeting:update:meeting].");
	assert_error(api_json("GET", "/zoom/v2/meetings/81234567890", tok, NULL, 404), 3001,
	             "Meeting 81234567890 is not found or has expired.");
	json_decref(tok);
}

static void users_me(void **st) /* ZE-25 */
{
	(void)st;
	json_t *alice = connect_user("alice%40example.com");
	json_t *bob = connect_user("bob%40example.com");
	json_t *u = api_json("GET", "/zoom/v2/users/me", alice, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(u, "email")), "alice@example.com");
	assert_int_equal(json_integer_value(json_object_get(u, "type")), 2);
	assert_true(json_is_integer(json_object_get(u, "pmi")));
	assert_true(json_is_string(json_object_get(u, "account_id")));
	json_decref(u);
	u = api_json("GET", "/zoom/v2/users/me", bob, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(u, "type")), 1);
	json_decref(u);
	assert_error(api_json("GET", "/zoom/v2/users/someone-else", bob, NULL, 404), 1001,
	             "User does not exist: someone-else.");
	assert_error(api_json("GET", "/zoom/v2/webinars/1/panelists", bob, NULL, 404), 404,
	             "This API endpoint is not recognized.");
	json_decref(alice);
	json_decref(bob);
}

static void create_meeting_fields(void **st) /* ZE-18, ZE-19, ZE-21 */
{
	(void)st;
	json_t *tok = connect_user("alice%40example.com");
	json_t *m;
	int64_t id = create_meeting(tok,
	                            "{\"topic\":\"Design review\",\"type\":2,\"start_time\":"
	                            "\"2026-07-01T10:00:00\",\"timezone\":\"Europe/Berlin\","
	                            "\"duration\":45,\"password\":\"abc123\",\"unknown_field\":1}",
	                            &m);
	assert_true(id > INT64_C(4294967296));
	assert_string_equal(json_string_value(json_object_get(m, "topic")), "Design review");
	assert_string_equal(json_string_value(json_object_get(m, "start_time")),
	                    "2026-07-01T08:00:00Z");
	assert_string_equal(json_string_value(json_object_get(m, "timezone")), "Europe/Berlin");
	assert_int_equal(json_integer_value(json_object_get(m, "duration")), 45);
	assert_string_equal(json_string_value(json_object_get(m, "password")), "abc123");
	assert_string_equal(json_string_value(json_object_get(m, "status")), "waiting");
	assert_string_equal(json_string_value(json_object_get(m, "host_id")),
	                    "KDcuGIm1QgePTO8WbOqwIQ");
	assert_true(json_is_string(json_object_get(m, "uuid")));
	assert_true(json_is_string(json_object_get(m, "start_url")));
	assert_true(json_is_string(json_object_get(m, "created_at")));
	assert_true(json_is_object(json_object_get(m, "settings")));
	const char *enc = json_string_value(json_object_get(m, "encrypted_password"));
	char *join = xasprintf("%s/zoom/j/%" PRId64 "?pwd=%s", sb->base_url, id, enc);
	assert_string_equal(json_string_value(json_object_get(m, "join_url")), join);
	free(join);
	assert_null(json_object_get(m, "unknown_field"));
	json_decref(m);

	/* a Z time stays UTC; alice's account requires a passcode, so one is generated */
	create_meeting(tok, "{\"start_time\":\"2026-12-01T15:30:00Z\"}", &m);
	assert_string_equal(json_string_value(json_object_get(m, "start_time")),
	                    "2026-12-01T15:30:00Z");
	assert_int_equal(json_string_length(json_object_get(m, "password")), 6);
	assert_non_null(strstr(json_string_value(json_object_get(m, "join_url")), "?pwd="));
	json_decref(m);

	/* local time without a zone is in the account's zone (Europe/Berlin, winter: +01:00) */
	create_meeting(tok, "{\"start_time\":\"2026-12-01T15:30:00\"}", &m);
	assert_string_equal(json_string_value(json_object_get(m, "start_time")),
	                    "2026-12-01T14:30:00Z");
	json_decref(m);
	assert_int_equal(counter("meetings_created"), 3);
	json_decref(tok);
}

static void waiting_room_forced_without_passcode(void **st) /* ZE-20 */
{
	(void)st;
	json_t *tok = connect_user("bob%40example.com");
	json_t *m;
	create_meeting(tok,
	               "{\"topic\":\"open\",\"settings\":{\"waiting_room\":false,"
	               "\"join_before_host\":true}}",
	               &m);
	json_t *s = json_object_get(m, "settings");
	assert_true(json_is_true(json_object_get(s, "waiting_room")));
	assert_true(json_is_false(json_object_get(s, "join_before_host")));
	assert_null(json_object_get(m, "password"));
	assert_null(strstr(json_string_value(json_object_get(m, "join_url")), "pwd="));
	json_decref(m);

	create_meeting(tok, "{\"password\":\"x1y2\",\"settings\":{\"join_before_host\":true}}", &m);
	s = json_object_get(m, "settings");
	assert_true(json_is_false(json_object_get(s, "waiting_room")));
	assert_true(json_is_true(json_object_get(s, "join_before_host")));
	json_decref(m);
	json_decref(tok);
}

static void bad_bodies(void **st)
{
	(void)st;
	json_t *tok = connect_user("alice%40example.com");
	static const char *const malformed[] = {"{\"topic\":", "[1,2]", "\"text\"", "", "{} x"};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		struct resp *r = api("POST", "/zoom/v2/users/me/meetings", tok, malformed[i]);
		assert_error(expect_json(r, 400), 300,
		             "Request Body should be a valid JSON object.");
		resp_free(r);
	}
	static const char *const wrong[][2] = {
	    {"{\"duration\":\"sixty\"}", "duration"},
	    {"{\"topic\":5}", "topic"},
	    {"{\"type\":7}", "type"},
	    {"{\"password\":\"this-is-far-too-long\"}", "password"},
	    {"{\"password\":\"no spaces\"}", "password"},
	    {"{\"start_time\":\"tomorrow\"}", "start_time"},
	    {"{\"timezone\":\"Mars/Olympus\"}", "timezone"},
	    {"{\"settings\":{\"waiting_room\":\"yes\"}}", "settings.waiting_room"},
	    {"{\"settings\":[]}", "settings"},
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		json_t *doc = api_json("POST", "/zoom/v2/users/me/meetings", tok, wrong[i][0], 400);
		json_t *err = json_array_get(json_object_get(doc, "errors"), 0);
		assert_string_equal(json_string_value(json_object_get(err, "field")), wrong[i][1]);
		assert_error(doc, 300, "Validation Failed.");
	}
	assert_int_equal(counter("meetings_created"), 0);
	json_decref(tok);
}

static void get_patch_delete(void **st) /* ZE-22, ZE-23, ZE-24 */
{
	(void)st;
	json_t *alice = connect_user("alice%40example.com");
	json_t *bob = connect_user("bob%40example.com");
	int64_t id = create_meeting(alice, "{\"topic\":\"One\"}", NULL);
	char *path = xasprintf("/zoom/v2/meetings/%" PRId64, id);

	json_t *m = api_json("GET", path, alice, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), id);
	assert_string_equal(json_string_value(json_object_get(m, "topic")), "One");
	json_decref(m);

	/* another user's meeting does not exist for bob */
	char *msg = xasprintf("Meeting %" PRId64 " is not found or has expired.", id);
	assert_error(api_json("GET", path, bob, NULL, 404), 3001, msg);
	assert_error(api_json("DELETE", path, bob, NULL, 404), 3001, msg);

	struct resp *r = api("PATCH", path, alice, "{\"topic\":\"Two\",\"duration\":15}");
	assert_int_equal(r->status, 204);
	assert_string_equal(r->body, "");
	resp_free(r);
	m = api_json("GET", path, alice, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(m, "topic")), "Two");
	assert_int_equal(json_integer_value(json_object_get(m, "duration")), 15);
	json_decref(m);
	assert_error(api_json("PATCH", "/zoom/v2/meetings/99999999999", alice, "{}", 404), 3001,
	             NULL);
	assert_error(api_json("PATCH", path, alice, "{\"duration\":true}", 400), 300, NULL);

	r = api("DELETE", path, alice, NULL);
	assert_int_equal(r->status, 204);
	resp_free(r);
	assert_error(api_json("DELETE", path, alice, NULL, 404), 3001, msg);
	assert_error(api_json("GET", path, alice, NULL, 404), 3001, msg);

	json_t *z = zoom_state();
	json_t *sm = json_array_get(json_object_get(z, "meetings"), 0);
	assert_string_equal(json_string_value(json_object_get(sm, "status")), "deleted");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(z, "counters"), "meetings_deleted")),
	    1);
	json_decref(z);

	/* a started meeting cannot be deleted */
	json_t *started;
	id = create_meeting(alice, "{}", &started);
	const char *start_url = json_string_value(json_object_get(started, "start_url"));
	r = call("GET", start_url + strlen(sb->base_url), NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	resp_free(r);
	free(path);
	path = xasprintf("/zoom/v2/meetings/%" PRId64, id);
	assert_error(api_json("DELETE", path, alice, NULL, 400), 3002, NULL);
	json_decref(started);

	json_t *list = api_json("GET", "/zoom/v2/users/me/meetings", alice, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(list, "total_records")), 1);
	json_decref(list);
	free(path);
	free(msg);
	json_decref(alice);
	json_decref(bob);
}

static void join_page(void **st)
{
	(void)st;
	json_t *tok = connect_user("alice%40example.com");
	json_t *m;
	int64_t id = create_meeting(tok, "{\"password\":\"pass1\"}", &m);
	const char *join = json_string_value(json_object_get(m, "join_url"));
	assert_true(strncmp(join, sb->base_url, strlen(sb->base_url)) == 0);

	struct resp *r = call("GET", join + strlen(sb->base_url), NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	char *text = xasprintf("You joined the Zoom meeting %" PRId64, id);
	assert_non_null(strstr(r->body, text));
	free(text);
	resp_free(r);

	char *wrong = xasprintf("/zoom/j/%" PRId64 "?pwd=wrong", id);
	r = call("GET", wrong, NULL, NULL, NULL);
	assert_int_equal(r->status, 403);
	assert_non_null(strstr(r->body, "passcode is wrong"));
	resp_free(r);
	free(wrong);
	char *none = xasprintf("/zoom/j/%" PRId64, id);
	r = call("GET", none, NULL, NULL, NULL);
	assert_int_equal(r->status, 403);
	assert_non_null(strstr(r->body, "requires a passcode"));
	resp_free(r);
	free(none);
	json_decref(m);
	json_decref(tok);
}

static void daily_cap_per_host(void **st) /* ZE-26 */
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/zoom/settings", "{\"daily_limit\":2}", 200));
	json_t *tok = connect_user("alice%40example.com");
	int64_t id = create_meeting(tok, "{}", NULL);
	char *path = xasprintf("/zoom/v2/meetings/%" PRId64, id);
	struct resp *r = api("PATCH", path, tok, "{\"topic\":\"x\"}");
	assert_int_equal(r->status, 204);
	resp_free(r);

	r = api("POST", "/zoom/v2/users/me/meetings", tok, "{}");
	json_t *doc = expect_json(r, 429);
	assert_error(doc, 429,
	             "You have exceeded the daily rate limit (2) of Meeting Create/Update API "
	             "requests permitted for this particular user. You may resume these requests "
	             "at GMT 00:00:00.");
	char *type = header_value(r, "X-RateLimit-Type");
	char *remaining = header_value(r, "X-RateLimit-Remaining");
	char *retry = header_value(r, "Retry-After");
	assert_string_equal(type, "Daily-limit");
	assert_string_equal(remaining, "0");
	int64_t at;
	assert_int_equal(time_parse_rfc3339(retry, &at, NULL), CX_OK);
	assert_int_equal(at % 86400, 0);
	assert_true(at > sb_now_s(sb) && at <= sb_now_s(sb) + 86400);
	free(type);
	free(remaining);
	free(retry);
	resp_free(r);

	/* other calls and other hosts are not capped; the next UTC day is */
	json_decref(api_json("GET", path, tok, NULL, 200));
	json_t *bob = connect_user("bob%40example.com");
	create_meeting(bob, "{}", NULL);
	advance_clock(86400);
	json_decref(tok);
	tok = connect_user("alice%40example.com"); /* the old one expired meanwhile */
	create_meeting(tok, "{}", NULL);
	json_decref(bob);
	json_decref(tok);
	free(path);
}

static void per_second_limit_and_header_modes(void **st) /* ZE-27 */
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/zoom/settings", "{\"qps_light\":1}", 200));
	json_t *tok = connect_user("alice%40example.com");
	bool limited = false;
	/* three calls inside one second window at least twice: one of them is refused */
	for (int i = 0; i < 3 && !limited; i++) {
		struct resp *r = api("GET", "/zoom/v2/users/me", tok, NULL);
		if (r->status == 429) {
			limited = true;
			assert_error(expect_json(r, 429), 429,
			             "You have reached the maximum per-second rate limit for this "
			             "API. Try again later.");
			char *type = header_value(r, "X-RateLimit-Type");
			char *reset = header_value(r, "X-RateLimit-Reset");
			char *category = header_value(r, "X-RateLimit-Category");
			assert_string_equal(type, "QPS");
			assert_string_equal(category, "Light");
			assert_non_null(reset);
			free(type);
			free(reset);
			free(category);
		} else {
			assert_int_equal(r->status, 200);
			char *limit = header_value(r, "X-RateLimit-Limit");
			assert_string_equal(limit, "1");
			free(limit);
		}
		resp_free(r);
	}
	assert_true(limited);

	json_decref(call_json("POST", "/_sandbox/zoom/settings", "{\"rate_headers\":false}", 200));
	limited = false;
	for (int i = 0; i < 3 && !limited; i++) {
		struct resp *r = api("GET", "/zoom/v2/users/me", tok, NULL);
		limited = r->status == 429;
		assert_null(header_value(r, "X-RateLimit-Type"));
		assert_null(header_value(r, "X-RateLimit-Limit"));
		resp_free(r);
	}
	assert_true(limited);
	json_decref(tok);
}

static void changes_made_in_zoom_send_events(void **st) /* ZE-32 */
{
	(void)st;
	use_receiver(true);
	json_t *tok = connect_user("alice%40example.com");
	int64_t id = create_meeting(tok, "{\"topic\":\"Before\",\"duration\":30}", NULL);
	char *path = xasprintf("/_sandbox/zoom/meetings/%" PRId64 "/update", id);
	json_decref(call_json("POST", path, "{\"topic\":\"After\"}", 200));
	free(path);

	char *sig = NULL, *ts = NULL;
	char *body = wait_event(2, &sig, &ts);
	assert_signed(body, sig, ts);
	json_t *ev = json_loads(body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "meeting.updated");
	json_t *payload = json_object_get(ev, "payload");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(payload, "object"), "topic")),
	    "After");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(payload, "old_object"), "topic")),
	    "Before");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(payload, "object"), "id")), id);
	json_decref(ev);
	free(body);
	free(sig);
	free(ts);

	path = xasprintf("/_sandbox/zoom/meetings/%" PRId64 "/delete", id);
	json_decref(call_json("POST", path, NULL, 200));
	free(path);
	body = wait_event(3, &sig, &ts);
	assert_signed(body, sig, ts);
	assert_non_null(strstr(body, "\"event\":\"meeting.deleted\""));
	free(body);
	free(sig);
	free(ts);
	path = xasprintf("/zoom/v2/meetings/%" PRId64, id);
	assert_error(api_json("GET", path, tok, NULL, 404), 3001, NULL);
	free(path);
	json_decref(tok);
}

static void state_hides_tokens_and_reset_reseeds(void **st)
{
	(void)st;
	json_t *tok = connect_user("alice%40example.com");
	create_meeting(tok, "{}", NULL);
	json_t *z = zoom_state();
	char *dump = json_dumps(z, 0);
	assert_null(strstr(dump, json_string_value(json_object_get(tok, "access_token"))));
	assert_null(strstr(dump, json_string_value(json_object_get(tok, "refresh_token"))));
	free(dump);
	assert_int_equal(json_array_size(json_object_get(z, "accounts")), 3);
	json_t *g = json_array_get(json_object_get(z, "grants"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "email")), "alice@example.com");
	assert_int_equal(json_string_length(json_object_get(g, "access_token_prefix")), 8);
	assert_int_equal(json_array_size(json_object_get(z, "meetings")), 1);
	json_decref(z);

	json_decref(call_json("POST", "/_sandbox/reset", NULL, 200));
	z = zoom_state();
	assert_int_equal(json_array_size(json_object_get(z, "grants")), 0);
	assert_int_equal(json_array_size(json_object_get(z, "meetings")), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(z, "counters"), "tokens_issued")),
	    0);
	assert_int_equal(json_array_size(json_object_get(z, "accounts")), 3);
	json_decref(z);
	assert_error(api_json("GET", "/zoom/v2/users/me", tok, NULL, 401), 124, NULL);
	json_decref(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(authorize_refuses_unknown_client_and_redirect, reset_each),
	    cmocka_unit_test_setup(consent_page_lists_requested_scopes, reset_each),
	    cmocka_unit_test_setup(allow_deny_and_state, reset_each),
	    cmocka_unit_test_setup(restricted_account_never_gets_a_code, reset_each),
	    cmocka_unit_test_setup(token_exchange_and_code_rules, reset_each),
	    cmocka_unit_test_setup(client_authentication, reset_each),
	    cmocka_unit_test_setup(pkce_s256_and_plain, reset_each),
	    cmocka_unit_test_setup(refresh_rotation, reset_each),
	    cmocka_unit_test_setup(dropped_refresh_response_loses_the_old_token, reset_each),
	    cmocka_unit_test_setup(reauthorization_and_refresh_lifetime, reset_each),
	    cmocka_unit_test_setup(revoke_kills_both_tokens_and_notifies, reset_each),
	    cmocka_unit_test_setup(uninstall_removes_grant_and_sends_signed_event, reset_each),
	    cmocka_unit_test_setup(failed_validation_stops_events, reset_each),
	    cmocka_unit_test_setup(unreachable_url_is_retried_before_it_fails, reset_each),
	    cmocka_unit_test_setup(webhook_retries_follow_the_clock, reset_each),
	    cmocka_unit_test_setup(bad_tokens_and_scopes, reset_each),
	    cmocka_unit_test_setup(users_me, reset_each),
	    cmocka_unit_test_setup(create_meeting_fields, reset_each),
	    cmocka_unit_test_setup(waiting_room_forced_without_passcode, reset_each),
	    cmocka_unit_test_setup(bad_bodies, reset_each),
	    cmocka_unit_test_setup(get_patch_delete, reset_each),
	    cmocka_unit_test_setup(join_page, reset_each),
	    cmocka_unit_test_setup(daily_cap_per_host, reset_each),
	    cmocka_unit_test_setup(per_second_limit_and_header_modes, reset_each),
	    cmocka_unit_test_setup(changes_made_in_zoom_send_events, reset_each),
	    cmocka_unit_test_setup(state_hides_tokens_and_reset_reseeds, reset_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
