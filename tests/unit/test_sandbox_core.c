/* The sandbox core (sandbox/core.c, deliver.c, oauth_page.c): a sandbox started in-process on a
 * free loopback port, driven over HTTP with libcurl: the request log, every kind of fault, latency,
 * the clock, reset, bad control bodies, deliveries with retries, and the shared OAuth helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/time.h"
#include "http/http.h"
#include "sandbox.h"
#include "sb.h"
#include "base/banned.h"

static struct sb *sb;

struct resp {
	CURLcode rc;
	long status;
	char *body;
	struct buf headers;
	int64_t elapsed_ms;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	(void)buf_append(b, p, size * n);
	return size * n;
}

static void resp_free(struct resp *r)
{
	free(r->body);
	buf_release(&r->headers);
	free(r);
}

/* method path [content-type body] [extra header line]; base URL of the sandbox in front. */
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
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
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
	int64_t t0 = time_now_ms();
	r->rc = curl_easy_perform(c);
	r->elapsed_ms = time_now_ms() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = buf_detach(&b, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return r;
}

static json_t *call_json(const char *method, const char *path, const char *body, long status)
{
	struct resp *r = call(method, path, body ? "application/json" : NULL, body, NULL);

	assert_int_equal(r->rc, CURLE_OK);
	assert_int_equal(r->status, status);
	json_t *doc = json_loads(r->body, 0, NULL);
	assert_non_null(doc);
	resp_free(r);
	return doc;
}

static json_t *state(void)
{
	return call_json("GET", "/_sandbox/state", NULL, 200);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* --- a webhook receiver in the test process --- */

static struct http_server *receiver;
static pthread_mutex_t received_lock = PTHREAD_MUTEX_INITIALIZER;
static int received;
static int receiver_status = 200;
static char *last_received_body;

static void hook(struct http_request *req)
{
	pthread_mutex_lock(&received_lock);
	received++;
	free(last_received_body);
	last_received_body = xstrdup(req->body ? req->body : "");
	int status = receiver_status;
	pthread_mutex_unlock(&received_lock);
	http_reply(req, status, "text/plain", "ok", 2);
}

static const struct http_route receiver_routes[] = {{"POST", "/hook", hook}};

static char *receiver_url(void)
{
	return xasprintf("http://127.0.0.1:%d/hook", http_server_port(receiver));
}

static int received_count(void)
{
	pthread_mutex_lock(&received_lock);
	int n = received;
	pthread_mutex_unlock(&received_lock);
	return n;
}

static int setup(void **st)
{
	struct sandbox_options opts = {.port = 0, .seed = 7, .threads = 2};
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
	assert_ptr_equal(sb_get(), sb);
	assert_int_equal(http_server_start(&ro, &receiver), CX_OK);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	sandbox_stop(sb);
	assert_null(sb_get());
	http_server_stop(receiver);
	free(last_received_body);
	curl_global_cleanup();
	return 0;
}

static int reset_each(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/reset", NULL, 200));
	pthread_mutex_lock(&received_lock);
	received = 0;
	receiver_status = 200;
	pthread_mutex_unlock(&received_lock);
	return 0;
}

/* --- tests --- */

static void state_has_every_part(void **st)
{
	(void)st;
	json_t *s = state();
	assert_true(json_is_object(json_object_get(s, "zoom")));
	assert_true(json_is_object(json_object_get(s, "google")));
	assert_true(json_is_object(json_object_get(s, "microsoft")));
	assert_true(json_is_array(json_object_get(s, "deliveries")));
	json_t *clock = json_object_get(s, "clock");
	assert_int_equal(json_integer_value(json_object_get(clock, "offset_s")), 0);
	int64_t now = json_integer_value(json_object_get(clock, "now_s"));
	assert_true(now >= time_wall_s() - 5 && now <= time_wall_s() + 5);
	int64_t parsed;
	assert_int_equal(
	    time_parse_rfc3339(json_string_value(json_object_get(clock, "now")), &parsed, NULL),
	    CX_OK);
	json_decref(s);
}

static void requests_are_logged_without_authorization(void **st)
{
	(void)st;
	struct resp *r = call("POST", "/zoom/v2/users/me/meetings?x=1&y=two", "application/json",
	                      "{\"topic\":\"t\"}", "Authorization: Bearer very-secret-token");
	assert_int_equal(r->status, 401);
	resp_free(r);
	json_decref(state()); /* control paths are not logged */

	json_t *doc = call_json("GET", "/_sandbox/requests", NULL, 200);
	json_t *list = json_object_get(doc, "requests");
	assert_int_equal(json_array_size(list), 1);
	json_t *e = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(e, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(e, "path")),
	                    "/zoom/v2/users/me/meetings");
	assert_string_equal(json_string_value(json_object_get(e, "query")), "x=1&y=two");
	assert_string_equal(json_string_value(json_object_get(e, "body")), "{\"topic\":\"t\"}");
	char *dump = json_dumps(doc, 0);
	assert_null(strstr(dump, "very-secret-token"));
	free(dump);
	json_decref(doc);
}

static void fault_answers_status_body_and_headers_once(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"method\":\"GET\",\"path_prefix\":\"/zoom/v2/users\","
	                      "\"status\":503,\"body\":{\"why\":\"maintenance\"},"
	                      "\"headers\":{\"Retry-After\":\"7\"}}]}",
	                      200));
	/* another method does not match */
	struct resp *r = call("POST", "/zoom/v2/users/me/meetings", NULL, NULL, NULL);
	assert_int_equal(r->status, 401);
	resp_free(r);

	r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_int_equal(r->status, 503);
	assert_non_null(strstr(r->body, "\"why\":\"maintenance\""));
	assert_non_null(strstr(r->headers.data, "Retry-After: 7"));
	resp_free(r);

	r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL); /* count 1 is used up */
	assert_int_equal(r->status, 401);
	resp_free(r);

	/* a rule for every path still leaves the control endpoints alone */
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"path_prefix\":\"/\",\"status\":500,\"count\":-1}]}",
	                      200));
	json_decref(call_json("GET", "/_sandbox/state", NULL, 200));
	r = call("GET", "/microsoft/v1.0/me/events", NULL, NULL, NULL);
	assert_int_equal(r->status, 500);
	resp_free(r);
}

static void fault_non_json_body_unlimited_then_deleted(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"path_prefix\":\"/zoom/oauth/token\",\"status\":500,"
	                      "\"body\":\"<html><body>Bad gateway</body></html>\",\"count\":-1}]}",
	                      200));
	for (int i = 0; i < 3; i++) {
		struct resp *r = call("POST", "/zoom/oauth/token", NULL, NULL, NULL);
		assert_int_equal(r->status, 500);
		assert_string_equal(r->body, "<html><body>Bad gateway</body></html>");
		assert_non_null(strstr(r->headers.data, "text/html"));
		resp_free(r);
	}
	struct resp *r = call("DELETE", "/_sandbox/faults", NULL, NULL, NULL);
	assert_int_equal(r->status, 204);
	resp_free(r);
	r = call("POST", "/zoom/oauth/token", NULL, NULL, NULL);
	assert_int_equal(r->status, 400); /* the emulator's own answer: no client credentials */
	resp_free(r);
}

static void fault_probability_follows_the_seed(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"path_prefix\":\"/zoom/v2\",\"status\":502,"
	                      "\"probability\":0,\"count\":-1},"
	                      "{\"path_prefix\":\"/zoom/v2\",\"status\":503,\"probability\":0.5,"
	                      "\"count\":-1}]}",
	                      200));
	int hits = 0;
	for (int i = 0; i < 40; i++) {
		struct resp *r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
		assert_true(r->status == 503 || r->status == 401);
		hits += r->status == 503;
		resp_free(r);
	}
	assert_true(hits > 5 && hits < 35);
}

static void fault_delay_and_latency(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"path_prefix\":\"/zoom/v2\",\"delay_ms\":500}]}",
	                      200));
	struct resp *r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_int_equal(r->status, 401); /* delayed, then answered for real */
	assert_true(r->elapsed_ms >= 490 && r->elapsed_ms < 2500);
	resp_free(r);
	r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_true(r->elapsed_ms < 450);
	resp_free(r);

	json_decref(call_json("POST", "/_sandbox/latency", "{\"ms\":600}", 200));
	r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_int_equal(r->status, 401);
	assert_true(r->elapsed_ms >= 590 && r->elapsed_ms < 2500);
	resp_free(r);
	r = call("GET", "/_sandbox/state", NULL, NULL, NULL); /* never on control paths */
	assert_true(r->elapsed_ms < 500);
	resp_free(r);

	/* a delay and then a status */
	json_decref(call_json("POST", "/_sandbox/latency", "{\"ms\":0}", 200));
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"path_prefix\":\"/zoom/v2\",\"delay_ms\":150,"
	                      "\"status\":504}]}",
	                      200));
	r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_int_equal(r->status, 504);
	assert_true(r->elapsed_ms >= 140);
	resp_free(r);
}

static void fault_reset_closes_the_connection(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"method\":\"GET\",\"path_prefix\":\"/zoom/\","
	                      "\"reset\":true}]}",
	                      200));
	struct resp *r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_int_not_equal(r->rc, CURLE_OK);
	assert_int_equal(r->status, 0);
	resp_free(r);
	r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	assert_int_equal(r->status, 401);
	resp_free(r);
}

static void fault_drop_response_does_the_work(void **st)
{
	(void)st;
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"method\":\"POST\","
	                      "\"path_prefix\":\"/zoom/oauth/authorize/decision\","
	                      "\"drop_response\":true}]}",
	                      200));
	struct resp *r =
	    call("POST", "/zoom/oauth/authorize/decision", "application/x-www-form-urlencoded",
	         "response_type=code&client_id=sandbox-zoom-client&redirect_uri="
	         "http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fzoom%2Fcallback&state=s1&"
	         "user=alice%40example.com&decision=allow",
	         NULL);
	assert_int_not_equal(r->rc, CURLE_OK);
	assert_int_equal(r->status, 0);
	resp_free(r);
	json_t *s = state();
	json_t *counters = json_object_get(json_object_get(s, "zoom"), "counters");
	assert_int_equal(json_integer_value(json_object_get(counters, "codes_issued")), 1);
	json_decref(s);
}

static void bad_control_bodies_are_400(void **st)
{
	(void)st;
	static const char *const bad_faults[] = {
	    "{\"rules\":",
	    "[]",
	    "{\"rules\":{}}",
	    "{\"rules\":[1]}",
	    "{\"rules\":[{\"status\":503,\"colour\":\"red\"}]}",
	    "{\"rules\":[{\"status\":503,\"count\":0}]}",
	    "{\"rules\":[{\"status\":99}]}",
	    "{\"rules\":[{\"status\":503,\"probability\":1.5}]}",
	    "{\"rules\":[{\"delay_ms\":-1}]}",
	    "{\"rules\":[{\"method\":\"GET\"}]}",
	    "{\"rules\":[{\"status\":503,\"reset\":true}]}",
	    "{\"rules\":[{\"status\":503,\"headers\":{\"X\":1}}]}",
	};
	for (size_t i = 0; i < sizeof(bad_faults) / sizeof(bad_faults[0]); i++) {
		json_t *doc = call_json("POST", "/_sandbox/faults", bad_faults[i], 400);
		assert_true(json_is_object(json_object_get(doc, "error")));
		json_decref(doc);
	}
	json_decref(call_json("POST", "/_sandbox/latency", "{\"ms\":-5}", 400));
	json_decref(call_json("POST", "/_sandbox/latency", "{\"ms\":\"5\"}", 400));
	json_decref(call_json("POST", "/_sandbox/clock", "{\"advance_seconds\":\"60\"}", 400));
	json_decref(call_json("POST", "/_sandbox/clock", "{}", 400));
	json_decref(call_json("POST", "/_sandbox/zoom/uninstall", "{\"email\":\"x@y\"}", 400));
	json_t *s = state();
	assert_int_equal(json_array_size(json_object_get(s, "faults")), 0);
	json_decref(s);
}

static void clock_advances_and_reset_restores_everything(void **st)
{
	(void)st;
	json_t *c = call_json("POST", "/_sandbox/clock", "{\"advance_seconds\":7200}", 200);
	assert_int_equal(json_integer_value(json_object_get(c, "offset_s")), 7200);
	json_decref(c);
	assert_true(sb_now_s(sb) >= time_wall_s() + 7195);
	json_decref(call_json("POST", "/_sandbox/latency", "{\"ms\":5}", 200));
	json_decref(call_json("POST", "/_sandbox/faults",
	                      "{\"rules\":[{\"path_prefix\":\"/google\",\"status\":500}]}", 200));
	struct resp *r = call("GET", "/zoom/v2/users/me", NULL, NULL, NULL);
	resp_free(r);

	json_decref(call_json("POST", "/_sandbox/reset", NULL, 200));
	json_t *s = state();
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(s, "clock"), "offset_s")), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "latency_ms")), 0);
	assert_int_equal(json_array_size(json_object_get(s, "faults")), 0);
	json_decref(s);
	json_t *log = call_json("GET", "/_sandbox/requests", NULL, 200);
	assert_int_equal(json_array_size(json_object_get(log, "requests")), 0);
	json_decref(log);
}

static json_t *deliveries(void)
{
	json_t *s = state();
	json_t *d = json_incref(json_object_get(s, "deliveries"));
	json_decref(s);
	return d;
}

static void wait_deliveries(size_t n)
{
	for (int i = 0; i < 250; i++) {
		json_t *d = deliveries();
		size_t have = json_array_size(d);
		json_decref(d);
		if (have >= n)
			return;
		sleep_ms(20);
	}
	fail_msg("expected %zu delivery attempts", n);
}

/* A loopback URL where nothing listens: a port the kernel handed out and that was closed again. */
static char *closed_port_url(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	return xasprintf("http://127.0.0.1:%d/nothing", ntohs(addr.sin_port));
}

static void delivery_retries_on_the_sandbox_clock(void **st)
{
	(void)st;
	static const int delays[] = {60, 120};
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	char *url = receiver_url();

	receiver_status = 500;
	sb_deliver(sb, "POST", url, headers, "{\"event\":\"demo.event\"}", delays, 2);
	wait_deliveries(1);
	json_t *d = deliveries();
	json_t *first = json_array_get(d, 0);
	assert_string_equal(json_string_value(json_object_get(first, "url")), url);
	assert_string_equal(json_string_value(json_object_get(first, "event")), "demo.event");
	assert_int_equal(json_integer_value(json_object_get(first, "attempt")), 1);
	assert_int_equal(json_integer_value(json_object_get(first, "status")), 500);
	assert_false(json_is_true(json_object_get(first, "delivered")));
	json_decref(d);

	sleep_ms(200); /* nothing more until the sandbox clock moves */
	assert_int_equal(received_count(), 1);
	json_decref(call_json("POST", "/_sandbox/clock", "{\"advance_seconds\":60}", 200));
	wait_deliveries(2);
	pthread_mutex_lock(&received_lock);
	receiver_status = 204;
	pthread_mutex_unlock(&received_lock);
	json_decref(call_json("POST", "/_sandbox/clock", "{\"advance_seconds\":120}", 200));
	wait_deliveries(3);
	d = deliveries();
	json_t *third = json_array_get(d, 2);
	assert_int_equal(json_integer_value(json_object_get(third, "attempt")), 3);
	assert_int_equal(json_integer_value(json_object_get(third, "status")), 204);
	assert_true(json_is_true(json_object_get(third, "delivered")));
	json_decref(d);
	assert_int_equal(received_count(), 3);
	pthread_mutex_lock(&received_lock);
	assert_string_equal(last_received_body, "{\"event\":\"demo.event\"}");
	pthread_mutex_unlock(&received_lock);

	/* A transport failure is recorded with status 0 and, without retries, dropped. */
	char *closed = closed_port_url();
	sb_deliver(sb, "POST", closed, NULL, "{}", NULL, 0);
	wait_deliveries(4);
	d = deliveries();
	json_t *fourth = json_array_get(d, 3);
	assert_int_equal(json_integer_value(json_object_get(fourth, "status")), 0);
	assert_non_null(json_object_get(fourth, "error"));
	json_decref(d);
	free(closed);
	free(url);
}

static void authorize_page_escapes_and_lists_scopes(void **st)
{
	(void)st;
	struct resp *r = call("GET",
	                      "/zoom/oauth/authorize?response_type=code&client_id=sandbox-zoom-"
	                      "client&redirect_uri=http%3A%2F%2Flocalhost%3A9%2Foauth%2Fzoom%2F"
	                      "callback&state=%3Cb%3E%22x%26&scope=meeting%3Awrite%3Ameeting+"
	                      "made%3Aup%3Cscope%3E",
	                      NULL, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->headers.data, "text/html"));
	assert_non_null(strstr(r->body, "<title>Sign in to Zoom</title>"));
	assert_non_null(strstr(r->body, "<label for=\"user\">Account</label>"));
	assert_non_null(strstr(r->body, "<option value=\"bob@example.com\">"));
	assert_non_null(strstr(r->body, "Calendox would like to:"));
	assert_non_null(strstr(r->body, "Create meetings when you add a meeting link"));
	assert_non_null(strstr(r->body, "made:up&lt;scope&gt;"));
	assert_null(strstr(r->body, "<scope>"));
	assert_non_null(strstr(r->body, "name=\"state\" value=\"&lt;b&gt;&quot;x&amp;\""));
	assert_non_null(strstr(r->body, "name=\"redirect_uri\" "
	                                "value=\"http://localhost:9/oauth/zoom/callback\""));
	assert_non_null(strstr(r->body, "action=\"/zoom/oauth/authorize/decision\""));
	assert_non_null(strstr(r->body, "value=\"allow\">Allow</button>"));
	assert_non_null(strstr(r->body, "value=\"deny\">Deny</button>"));
	assert_null(strstr(r->body, "<script"));
	assert_null(strstr(r->body, "src="));
	assert_null(strstr(r->body, "<link"));
	resp_free(r);
}

static void redirect_uris(void **st)
{
	(void)st;
	assert_true(sb_redirect_uri_ok("http://127.0.0.1:8080/oauth/zoom/callback", "zoom"));
	assert_true(sb_redirect_uri_ok("http://localhost/oauth/google/callback", "google"));
	assert_true(sb_redirect_uri_ok("http://[::1]:3000/oauth/microsoft/callback", "microsoft"));
	assert_true(sb_redirect_uri_ok("HTTP://LOCALHOST:1/oauth/zoom/callback", "zoom"));
	assert_false(sb_redirect_uri_ok("https://127.0.0.1/oauth/zoom/callback", "zoom"));
	assert_false(sb_redirect_uri_ok("http://example.com/oauth/zoom/callback", "zoom"));
	assert_false(
	    sb_redirect_uri_ok("http://127.0.0.1.example.com/oauth/zoom/callback", "zoom"));
	assert_false(sb_redirect_uri_ok("http://127.0.0.1:8080/oauth/google/callback", "zoom"));
	assert_false(sb_redirect_uri_ok("http://127.0.0.1:8080/oauth/zoom/callback/x", "zoom"));
	assert_false(sb_redirect_uri_ok("http://127.0.0.1:8080/oauth/zoom/callback?x=1", "zoom"));
	assert_false(sb_redirect_uri_ok("http://127.0.0.1:99999/oauth/zoom/callback", "zoom"));
	assert_false(sb_redirect_uri_ok("http://127.0.0.1:/oauth/zoom/callback", "zoom"));
	assert_false(sb_redirect_uri_ok("http://user@127.0.0.1/oauth/zoom/callback", "zoom"));
	assert_false(sb_redirect_uri_ok(NULL, "zoom"));
}

static void pkce(void **st)
{
	(void)st;
	/* RFC 7636 appendix B. */
	const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char *challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	assert_true(sb_pkce_ok(challenge, "S256", verifier));
	assert_false(sb_pkce_ok(challenge, "S256", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"));
	assert_false(sb_pkce_ok(challenge, "plain", verifier));
	assert_true(sb_pkce_ok("same-value", NULL, "same-value"));
	assert_true(sb_pkce_ok("same-value", "plain", "same-value"));
	assert_false(sb_pkce_ok("same-value", "", "other"));
	assert_false(sb_pkce_ok(challenge, "S512", verifier));
	assert_false(sb_pkce_ok(challenge, "S256", NULL));
	assert_false(sb_pkce_ok(challenge, "S256", ""));
}

static void random_is_reproducible(void **st)
{
	(void)st;
	struct arena *a = arena_new();
	uint64_t saved = sb->rng;
	char *one = sb_random_string(sb, a, "abc", 16);
	sb->rng = saved;
	char *two = sb_random_string(sb, a, "abc", 16);
	assert_string_equal(one, two);
	assert_int_equal(strlen(one), 16);
	assert_int_equal(strspn(one, "abc"), 16);
	arena_free(a);
}

static void main_help_and_bad_options(void **st)
{
	(void)st;
	char *help[] = {"sandbox", "--help", NULL};
	char *bad[] = {"sandbox", "--port", "70000", NULL};
	char *unknown[] = {"sandbox", "--colour", "red", NULL};
	assert_int_equal(sandbox_main(2, help), 0);
	assert_int_equal(sandbox_main(3, bad), 2);
	assert_int_equal(sandbox_main(3, unknown), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(state_has_every_part, reset_each),
	    cmocka_unit_test_setup(requests_are_logged_without_authorization, reset_each),
	    cmocka_unit_test_setup(fault_answers_status_body_and_headers_once, reset_each),
	    cmocka_unit_test_setup(fault_non_json_body_unlimited_then_deleted, reset_each),
	    cmocka_unit_test_setup(fault_probability_follows_the_seed, reset_each),
	    cmocka_unit_test_setup(fault_delay_and_latency, reset_each),
	    cmocka_unit_test_setup(fault_reset_closes_the_connection, reset_each),
	    cmocka_unit_test_setup(fault_drop_response_does_the_work, reset_each),
	    cmocka_unit_test_setup(bad_control_bodies_are_400, reset_each),
	    cmocka_unit_test_setup(clock_advances_and_reset_restores_everything, reset_each),
	    cmocka_unit_test_setup(delivery_retries_on_the_sandbox_clock, reset_each),
	    cmocka_unit_test_setup(authorize_page_escapes_and_lists_scopes, reset_each),
	    cmocka_unit_test(redirect_uris),
	    cmocka_unit_test(pkce),
	    cmocka_unit_test(random_is_reproducible),
	    cmocka_unit_test(main_help_and_bad_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
