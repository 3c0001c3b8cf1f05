/* test_server.c: a real server on 127.0.0.1 (port 0) driven with libcurl and raw sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/time.h"
#include "http/http.h"

#include "base/banned.h"

/* --- handlers --- */

static void h_hello(struct http_request *req)
{
	http_add_header(req, "X-Custom", "yes");
	http_reply_json(req, 200, json_pack("{s:s}", "hello", "world"));
}

static void h_item(struct http_request *req)
{
	const char *q = http_query(req, "q");
	char *text = arena_printf(req->arena, "%s|%s|%s", http_param(req, "id"), q ? q : "(none)",
	                          req->route);
	http_reply(req, 200, "text/plain", text, strlen(text));
}

static void h_echo(struct http_request *req)
{
	json_t *body = http_body_json(req);
	if (!body)
		return;
	http_reply_json(req, 200, body);
}

static void h_form(struct http_request *req)
{
	const char *a = http_form(req, "a");
	const char *b = http_form(req, "b");
	char *text = arena_printf(req->arena, "%s,%s", a ? a : "-", b ? b : "-");
	http_reply(req, 200, "text/plain", text, strlen(text));
}

static void h_cookies(struct http_request *req)
{
	const char *sid = http_cookie(req, "sid");
	http_set_cookie(req, "one", "1", 60, false);
	http_set_cookie(req, "two", "2", 3600, true);
	http_set_cookie(req, "gone", "", -1, false);
	http_reply(req, 200, "text/plain", sid ? sid : "(none)", strlen(sid ? sid : "(none)"));
}

static void h_csp(struct http_request *req)
{
	http_add_header(req, "Content-Security-Policy", "default-src 'none'");
	http_add_header(req, "Cache-Control", "max-age=5");
	http_reply(req, 200, "text/html", "<p>x</p>", 8);
}

static void h_abort(struct http_request *req)
{
	http_abort(req);
}

static void h_drop(struct http_request *req)
{
	http_drop_response(req);
	http_reply_json(req, 200, json_pack("{s:b}", "done", 1));
}

static void h_noreply(struct http_request *req)
{
}

static void h_redirect(struct http_request *req)
{
	http_reply_redirect(req, 302, "https://example.com/next");
}

static void h_ip(struct http_request *req)
{
	const char *ip = http_client_ip(req);
	http_reply(req, 200, "text/plain", ip, strlen(ip));
}

static void h_error(struct http_request *req)
{
	http_reply_error(req, http_status_for(CX_ECONFLICT), "email_taken", "That email is taken.",
	                 NULL);
}

static void h_error_hint(struct http_request *req)
{
	http_reply_error(req, 402, "plan_required", "Subscribe first.", "Settings, Billing.");
}

static void h_body_len(struct http_request *req)
{
	char *text = arena_printf(req->arena, "%zu", req->body_len);
	http_reply(req, 200, "text/plain", text, strlen(text));
}

/* Waking side of the suspension tests: a thread that wakes queued waiters when they are due. */
struct wake_item {
	struct http_waiter *w;
	int64_t at_ms;
	struct wake_item *next;
};

static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wake_item *wake_list;
static bool waker_stop;
static pthread_t waker;
static struct http_waiter *held; /* the /suspend/hold waiter, woken by the test itself */
static int resumed_timeouts;
static int resumed_wakes;

static void schedule_wake(struct http_waiter *w, int64_t at_ms)
{
	struct wake_item *it = calloc(1, sizeof(*it));
	it->w = w;
	it->at_ms = at_ms;
	pthread_mutex_lock(&wake_lock);
	it->next = wake_list;
	wake_list = it;
	pthread_mutex_unlock(&wake_lock);
}

static void *waker_main(void *arg)
{
	for (;;) {
		pthread_mutex_lock(&wake_lock);
		if (waker_stop && !wake_list) {
			pthread_mutex_unlock(&wake_lock);
			return NULL;
		}
		struct wake_item **pp = &wake_list;
		while (*pp) {
			struct wake_item *it = *pp;
			if (it->at_ms <= time_now_ms() || waker_stop) {
				*pp = it->next;
				http_waiter_wake(it->w);
				free(it);
			} else {
				pp = &it->next;
			}
		}
		pthread_mutex_unlock(&wake_lock);
		usleep(2000);
	}
}

static void on_resume(struct http_request *req, bool timed_out)
{
	pthread_mutex_lock(&wake_lock);
	if (timed_out)
		resumed_timeouts++;
	else
		resumed_wakes++;
	pthread_mutex_unlock(&wake_lock);
	const char *text = timed_out ? "timeout" : "woken";
	http_reply(req, timed_out ? 202 : 200, "text/plain", text, strlen(text));
}

static void h_suspend_wake(struct http_request *req)
{
	struct http_waiter *w = http_suspend(req, time_now_ms() + 5000, on_resume);
	schedule_wake(w, time_now_ms() + 50);
}

static void h_suspend_timeout(struct http_request *req)
{
	struct http_waiter *w = http_suspend(req, time_now_ms() + 50, on_resume);
	/* The wake comes long after the deadline: a no-op that frees the waiter. */
	schedule_wake(w, time_now_ms() + 300);
}

/* The result is already there: the waking side wakes before the handler even returned. */
static void h_suspend_instant(struct http_request *req)
{
	http_waiter_wake(http_suspend(req, time_now_ms() + 5000, on_resume));
}

static int hold_completions; /* guarded by wake_lock */

static void on_hold_complete(struct http_request *req, void *arg)
{
	pthread_mutex_lock(&wake_lock);
	hold_completions++;
	pthread_mutex_unlock(&wake_lock);
}

static void h_suspend_hold(struct http_request *req)
{
	http_on_complete(req, on_hold_complete, NULL);
	struct http_waiter *w = http_suspend(req, time_now_ms() + 60000, on_resume);
	pthread_mutex_lock(&wake_lock);
	held = w;
	pthread_mutex_unlock(&wake_lock);
}

/* Suspends twice: the first resume suspends again, the second replies. */
static void on_resume_again(struct http_request *req, bool timed_out)
{
	if (!req->user) {
		req->user = (void *)1;
		struct http_waiter *w = http_suspend(req, time_now_ms() + 5000, on_resume);
		schedule_wake(w, time_now_ms() + 10);
		return;
	}
	on_resume(req, timed_out);
}

static void h_suspend_twice(struct http_request *req)
{
	struct http_waiter *w = http_suspend(req, time_now_ms() + 5000, on_resume_again);
	schedule_wake(w, time_now_ms() + 10);
}

static void before_hook(struct http_request *req)
{
	const char *block = http_header(req, "X-Block");
	if (block && strcmp(block, "1") == 0)
		http_reply_error(req, 403, "forbidden", "Blocked by the hook.", NULL);
}

static const struct http_route routes[] = {
    {"GET", "/hello", h_hello},
    {"GET", "/items/{id}", h_item},
    {"DELETE", "/items/{id}", h_item},
    {"POST", "/echo", h_echo},
    {"POST", "/form", h_form},
    {"POST", "/len", h_body_len},
    {"GET", "/cookies", h_cookies},
    {"GET", "/csp", h_csp},
    {"GET", "/abort", h_abort},
    {"GET", "/drop", h_drop},
    {"GET", "/noreply", h_noreply},
    {"GET", "/redirect", h_redirect},
    {"GET", "/ip", h_ip},
    {"GET", "/error", h_error},
    {"GET", "/error-hint", h_error_hint},
    {"GET", "/suspend/wake", h_suspend_wake},
    {"GET", "/suspend/timeout", h_suspend_timeout},
    {"GET", "/suspend/hold", h_suspend_hold},
    {"GET", "/suspend/instant", h_suspend_instant},
    {"GET", "/suspend/twice", h_suspend_twice},
};

#define MAX_BODY 1024

static struct http_server *srv;
static int port;

static int setup(void **state)
{
	struct http_server_options o = {
	    .host = "127.0.0.1",
	    .port = 0,
	    .threads = 2,
	    .max_connections = 256,
	    .idle_timeout_s = 5,
	    .max_body = MAX_BODY,
	    .max_header_memory = 64 << 10,
	    .routes = routes,
	    .n_routes = sizeof(routes) / sizeof(routes[0]),
	    .access_log = true,
	    .before = before_hook,
	};
	if (http_server_start(&o, &srv) != CX_OK)
		return -1;
	port = http_server_port(srv);
	waker_stop = false;
	pthread_create(&waker, NULL, waker_main, NULL);
	return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	pthread_mutex_lock(&wake_lock);
	waker_stop = true;
	pthread_mutex_unlock(&wake_lock);
	pthread_join(waker, NULL);
	http_server_stop(srv);
	srv = NULL;
	return 0;
}

/* --- clients --- */

struct resp {
	long status;
	struct buf body;
	struct buf headers;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static void resp_release(struct resp *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

static CURL *easy_for(const char *method, const char *path, struct curl_slist *hdrs,
                      const char *body, struct resp *r)
{
	char url[512];
	CURL *c = curl_easy_init();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	buf_init(&r->body, 1 << 20);
	buf_init(&r->headers, 1 << 16);
	r->status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	return c;
}

static CURLcode fetch(const char *method, const char *path, const char *header1,
                      const char *header2, const char *body, struct resp *r)
{
	struct curl_slist *hdrs = NULL;
	if (header1)
		hdrs = curl_slist_append(hdrs, header1);
	if (header2)
		hdrs = curl_slist_append(hdrs, header2);
	CURL *c = easy_for(method, path, hdrs, body, r);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	return rc;
}

/* The value of the n-th (0-based) header called name, copied into out; false if absent. */
static bool header_nth(const struct resp *r, const char *name, int nth, char *out, size_t n)
{
	const char *p = r->headers.data;
	size_t len = strlen(name);
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if ((size_t)(eol - p) > len && strncasecmp(p, name, len) == 0 && p[len] == ':') {
			if (nth-- == 0) {
				const char *v = p + len + 1;
				while (*v == ' ')
					v++;
				snprintf(out, n, "%.*s", (int)(eol - v), v);
				return true;
			}
		}
		p = eol + 2;
	}
	return false;
}

static const char *header(const struct resp *r, const char *name)
{
	static char value[1024];
	return header_nth(r, name, 0, value, sizeof(value)) ? value : NULL;
}

/* Sends text on a fresh connection and reads until EOF or timeout_ms. *eof says whether the server
 * closed the connection. */
static size_t raw_exchange(const char *text, char *out, size_t cap, int timeout_ms, bool *eof)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(s, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t got = 0;
	*eof = false;
	for (;;) {
		ssize_t n = recv(s, out + got, cap - 1 - got, 0);
		if (n == 0) {
			*eof = true;
			break;
		}
		if (n < 0)
			break;
		got += (size_t)n;
		if (got == cap - 1)
			break;
	}
	out[got] = '\0';
	close(s);
	return got;
}

/* --- tests --- */

static void test_json_reply_and_standard_headers(void **state)
{
	struct resp r;
	assert_int_equal(fetch("GET", "/hello", NULL, NULL, NULL, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"hello\":\"world\"}");
	assert_string_equal(header(&r, "Content-Type"), "application/json; charset=utf-8");
	assert_string_equal(header(&r, "X-Custom"), "yes");
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(header(&r, "Referrer-Policy"), "no-referrer");
	assert_string_equal(header(&r, "X-Frame-Options"), "DENY");
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	assert_non_null(strstr(header(&r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	const char *rid = header(&r, "X-Request-Id");
	assert_non_null(rid);
	assert_int_equal(strlen(rid), 16);
	assert_int_equal(strspn(rid, "0123456789abcdef"), 16);
	resp_release(&r);
}

static void test_request_id(void **state)
{
	struct resp r;
	fetch("GET", "/hello", "X-Request-Id: client-id_1.2", NULL, NULL, &r);
	assert_string_equal(header(&r, "X-Request-Id"), "client-id_1.2");
	resp_release(&r);

	fetch("GET", "/hello", "X-Request-Id: bad id!", NULL, NULL, &r);
	assert_int_equal(strlen(header(&r, "X-Request-Id")), 16);
	resp_release(&r);

	char long_id[100] = "X-Request-Id: ";
	memset(long_id + strlen(long_id), 'a', 65);
	fetch("GET", "/hello", long_id, NULL, NULL, &r);
	assert_int_equal(strlen(header(&r, "X-Request-Id")), 16);
	resp_release(&r);
}

static void test_params_query_and_encoded_slash(void **state)
{
	struct resp r;
	fetch("GET", "/items/a%2Fb?q=x+y%21&q=second", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "a/b|x y!|/items/{id}");
	resp_release(&r);

	fetch("GET", "/items/plain", NULL, NULL, NULL, &r);
	assert_string_equal(r.body.data, "plain|(none)|/items/{id}");
	resp_release(&r);

	/* An encoded slash does not create a new segment: no route has three segments here. */
	fetch("GET", "/items/a/b", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);

	fetch("GET", "/items/", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);

	fetch("GET", "/items/bad%zz", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 400);
	resp_release(&r);
}

static void test_method_not_allowed_and_not_found(void **state)
{
	struct resp r;
	fetch("POST", "/hello", NULL, NULL, "x", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD");
	assert_non_null(strstr(r.body.data, "\"code\":\"method_not_allowed\""));
	resp_release(&r);

	fetch("PUT", "/items/7", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD, DELETE");
	resp_release(&r);

	fetch("GET", "/api/nothing", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(header(&r, "Content-Type"), "application/json; charset=utf-8");
	assert_non_null(strstr(r.body.data, "\"code\":\"not_found\""));
	resp_release(&r);
}

static void test_head_answers_get_without_body(void **state)
{
	struct resp r;
	fetch("HEAD", "/hello", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(header(&r, "Content-Length"), "17");
	resp_release(&r);
}

static void test_body_json(void **state)
{
	struct resp r;
	const char *ct = "Content-Type: application/json; charset=utf-8";
	fetch("POST", "/echo", ct, NULL, "{\"a\":[1,2]}", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"a\":[1,2]}");
	resp_release(&r);

	fetch("POST", "/echo", "Content-Type: text/plain", NULL, "{}", &r);
	assert_int_equal(r.status, 415);
	assert_non_null(strstr(r.body.data, "\"code\":\"unsupported_media_type\""));
	resp_release(&r);

	fetch("POST", "/echo", "Content-Type: application/jsonx", NULL, "{}", &r);
	assert_int_equal(r.status, 415);
	resp_release(&r);

	fetch("POST", "/echo", ct, NULL, "{\"a\":1,\"a\":2}", &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body.data, "\"code\":\"invalid_request\""));
	assert_non_null(strstr(r.body.data, "\"message\":\""));
	resp_release(&r);

	fetch("POST", "/echo", ct, NULL, "{\"a\":", &r);
	assert_int_equal(r.status, 400);
	resp_release(&r);
}

static void test_form_body(void **state)
{
	struct resp r;
	fetch("POST", "/form", "Content-Type: application/x-www-form-urlencoded", NULL,
	      "a=one+two&b=%C3%A9&a=again", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "one two,\xc3\xa9");
	resp_release(&r);
}

static void test_cookies(void **state)
{
	struct resp r;
	char v[256];
	fetch("GET", "/cookies", "Cookie: a=1; sid=\"s3cr3t\"; sid=later", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "s3cr3t");
	assert_true(header_nth(&r, "Set-Cookie", 0, v, sizeof(v)));
	assert_string_equal(v, "one=1; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
	assert_true(header_nth(&r, "Set-Cookie", 1, v, sizeof(v)));
	assert_string_equal(v, "two=2; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure");
	assert_true(header_nth(&r, "Set-Cookie", 2, v, sizeof(v)));
	assert_non_null(strstr(v, "gone=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970"));
	resp_release(&r);

	fetch("GET", "/cookies", NULL, NULL, NULL, &r);
	assert_string_equal(r.body.data, "(none)");
	resp_release(&r);
}

static void test_handler_headers_win(void **state)
{
	struct resp r;
	fetch("GET", "/csp", NULL, NULL, NULL, &r);
	assert_string_equal(header(&r, "Content-Security-Policy"), "default-src 'none'");
	assert_string_equal(header(&r, "Cache-Control"), "max-age=5");
	char v[256];
	assert_false(header_nth(&r, "Content-Security-Policy", 1, v, sizeof(v)));
	resp_release(&r);
}

static void test_errors_redirect_and_ip(void **state)
{
	struct resp r;
	fetch("GET", "/error", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(
	    r.body.data,
	    "{\"error\":{\"code\":\"email_taken\",\"message\":\"That email is taken.\"}}");
	resp_release(&r);

	fetch("GET", "/error-hint", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 402);
	assert_non_null(strstr(r.body.data, "\"hint\":\"Settings, Billing.\""));
	resp_release(&r);

	fetch("GET", "/redirect", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 302);
	assert_string_equal(header(&r, "Location"), "https://example.com/next");
	resp_release(&r);

	fetch("GET", "/ip", NULL, NULL, NULL, &r);
	assert_string_equal(r.body.data, "127.0.0.1");
	resp_release(&r);

	fetch("GET", "/noreply", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 500);
	assert_non_null(strstr(r.body.data, "internal_error"));
	resp_release(&r);
}

static void test_before_hook(void **state)
{
	struct resp r;
	fetch("GET", "/hello", "X-Block: 1", NULL, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body.data, "Blocked by the hook."));
	resp_release(&r);
}

static void test_abort_and_drop_close_without_answer(void **state)
{
	char out[4096];
	bool eof;
	size_t n =
	    raw_exchange("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out), 2000, &eof);
	assert_true(eof);
	assert_int_equal(n, 0);
	n = raw_exchange("GET /drop HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out), 2000, &eof);
	assert_true(eof);
	assert_int_equal(n, 0);
}

static void expect_framing_400(const char *text)
{
	char out[4096];
	bool eof;
	raw_exchange(text, out, sizeof(out), 2000, &eof);
	assert_true(eof);
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(out, "\"code\":\"bad_request\""));
	/* The request never reached a handler: no echo of the body. */
	assert_null(strstr(out, "hello\":"));
}

static void test_framing_guard(void **state)
{
	expect_framing_400("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                   "Transfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n"
	                   "9\r\n{\"hello\":1}\r\n0\r\n\r\n");
	expect_framing_400("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                   "Content-Length: 11\r\nContent-Length: 11\r\n\r\n{\"hello\":1}");
	expect_framing_400("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                   "Transfer-Encoding: gzip\r\n\r\n{\"hello\":1}");
	expect_framing_400(
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\nb\r\n{\"hello\":1}\r\n0\r\n\r\n");
	expect_framing_400("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	                   "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
	                   "b\r\n{\"hello\":1}\r\n0\r\n\r\n");

	/* A well-formed chunked body is fine. */
	char out[4096];
	bool eof;
	raw_exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	             "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	             "b\r\n{\"hello\":1}\r\n0\r\n\r\n",
	             out, sizeof(out), 2000, &eof);
	assert_non_null(strstr(out, "HTTP/1.1 200"));
	assert_non_null(strstr(out, "{\"hello\":1}"));
}

static void test_body_limits(void **state)
{
	char out[4096];
	bool eof;
	/* Content-Length over the limit: 413 at once, before any body byte is sent. */
	raw_exchange("POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", out,
	             sizeof(out), 2000, &eof);
	assert_non_null(strstr(out, "HTTP/1.1 413"));
	assert_non_null(strstr(out, "\"code\":\"payload_too_large\""));
	assert_true(eof);

	/* A chunked body that grows past the limit. */
	struct buf req;
	buf_init(&req, 1 << 16);
	buf_puts(&req, "POST /len HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 3; i++) {
		buf_puts(&req, "200\r\n");
		for (int k = 0; k < 512; k++)
			buf_puts(&req, "x");
		buf_puts(&req, "\r\n");
	}
	buf_puts(&req, "0\r\n\r\n");
	raw_exchange(req.data, out, sizeof(out), 2000, &eof);
	assert_non_null(strstr(out, "HTTP/1.1 413"));
	buf_release(&req);

	/* Exactly the limit is accepted and NUL-terminated. */
	struct resp r;
	char *body = calloc(1, MAX_BODY + 1);
	memset(body, 'y', MAX_BODY);
	fetch("POST", "/len", NULL, NULL, body, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "1024");
	resp_release(&r);
	free(body);
}

static void test_suspend_woken(void **state)
{
	struct resp r;
	int64_t t0 = time_now_ms();
	fetch("GET", "/suspend/wake", NULL, NULL, NULL, &r);
	int64_t took = time_now_ms() - t0;
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "woken");
	assert_true(took >= 45);
	assert_true(took < 4000);
	resp_release(&r);
}

static void test_suspend_deadline(void **state)
{
	struct resp r;
	fetch("GET", "/suspend/timeout", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body.data, "timeout");
	resp_release(&r);
	/* Let the late wake run (it must be a harmless no-op). */
	usleep(400 * 1000);
}

static void test_suspend_woken_at_once(void **state)
{
	struct resp r;
	for (int i = 0; i < 20; i++) {
		fetch("GET", "/suspend/instant", NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body.data, "woken");
		resp_release(&r);
	}
}

static void test_suspend_twice(void **state)
{
	struct resp r;
	fetch("GET", "/suspend/twice", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "woken");
	resp_release(&r);
}

static void test_hundred_concurrent_suspensions(void **state)
{
	enum { N = 100 };
	CURLM *multi = curl_multi_init();
	CURL *easy[N];
	struct resp r[N];
	for (int i = 0; i < N; i++) {
		easy[i] = easy_for("GET", "/suspend/wake", NULL, NULL, &r[i]);
		curl_easy_setopt(easy[i], CURLOPT_FORBID_REUSE, 1L);
		curl_multi_add_handle(multi, easy[i]);
	}
	int running = 1;
	int64_t deadline = time_now_ms() + 20000;
	while (running && time_now_ms() < deadline) {
		curl_multi_perform(multi, &running);
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	int ok = 0;
	for (int i = 0; i < N; i++) {
		long status = 0;
		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 && r[i].body.data && strcmp(r[i].body.data, "woken") == 0)
			ok++;
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
		resp_release(&r[i]);
	}
	curl_multi_cleanup(multi);
	assert_int_equal(ok, N);
}

static void test_client_leaves_while_suspended(void **state)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	const char *text = "GET /suspend/hold HTTP/1.1\r\nHost: x\r\n\r\n";
	send(s, text, strlen(text), MSG_NOSIGNAL);
	struct http_waiter *w = NULL;
	pthread_mutex_lock(&wake_lock);
	int completions_before = hold_completions;
	pthread_mutex_unlock(&wake_lock);
	for (int i = 0; i < 200 && !w; i++) {
		usleep(10 * 1000);
		pthread_mutex_lock(&wake_lock);
		w = held;
		held = NULL;
		pthread_mutex_unlock(&wake_lock);
	}
	assert_non_null(w);
	close(s);
	usleep(50 * 1000);
	http_waiter_wake(w);
	/* The server notices the closed socket after the resume and cleans up; it still serves. */
	usleep(100 * 1000);
	/* The handler's completion hook ran although no resume function did. */
	pthread_mutex_lock(&wake_lock);
	assert_int_equal(hold_completions, completions_before + 1);
	pthread_mutex_unlock(&wake_lock);
	struct resp r;
	fetch("GET", "/hello", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
}

static void test_oversized_headers(void **state)
{
	/* MHD answers this itself; the request state made for it must still be freed (ASan). */
	struct buf req;
	char out[4096];
	bool eof;
	buf_init(&req, 1 << 20);
	buf_puts(&req, "GET /hello HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 100; i++) {
		buf_printf(&req, "X-Filler-%d: ", i);
		for (int k = 0; k < 1000; k++)
			buf_puts(&req, "f");
		buf_puts(&req, "\r\n");
	}
	buf_puts(&req, "\r\n");
	raw_exchange(req.data, out, sizeof(out), 2000, &eof);
	buf_release(&req);
	assert_non_null(strstr(out, "HTTP/1.1 4"));
	assert_null(strstr(out, "hello"));

	struct resp r;
	fetch("GET", "/hello", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
}

static void test_idle_connection_closed(void **state)
{
	struct http_server *own;
	struct http_server_options o = {
	    .host = "127.0.0.1",
	    .threads = 1,
	    .idle_timeout_s = 1,
	    .routes = routes,
	    .n_routes = sizeof(routes) / sizeof(routes[0]),
	};
	assert_int_equal(http_server_start(&o, &own), CX_OK);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)http_server_port(own))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	send(s, "GET /hel", 8, MSG_NOSIGNAL);
	struct timeval tv = {4, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char c;
	int64_t t0 = time_now_ms();
	ssize_t n = recv(s, &c, 1, 0);
	int64_t took = time_now_ms() - t0;
	close(s);
	http_server_stop(own);
	assert_true(n <= 0);
	assert_true(took >= 500 && took < 3500);
}

static void test_metrics(void **state)
{
	struct resp r;
	fetch("GET", "/hello", NULL, NULL, NULL, &r);
	resp_release(&r);
	fetch("GET", "/items/9", NULL, NULL, NULL, &r);
	resp_release(&r);
	fetch("GET", "/nowhere", NULL, NULL, NULL, &r);
	resp_release(&r);
	fetch("BREW", "/hello", NULL, NULL, NULL, &r);
	resp_release(&r);
	usleep(50 * 1000); /* the completion callback records after the client has its answer */

	struct buf out;
	buf_init(&out, 1 << 20);
	http_server_metrics(srv, &out);
	assert_non_null(strstr(out.data, "# TYPE calendox_http_requests_total counter"));
	assert_non_null(strstr(out.data, "calendox_http_requests_total{route=\"/hello\","
	                                 "method=\"GET\",status=\"200\"} "));
	assert_non_null(strstr(out.data, "calendox_http_requests_total{route=\"/items/{id}\","
	                                 "method=\"GET\",status=\"200\"} "));
	assert_non_null(strstr(out.data, "calendox_http_requests_total{route=\"none\","
	                                 "method=\"GET\",status=\"404\"} "));
	assert_non_null(strstr(out.data, "calendox_http_requests_total{route=\"/hello\","
	                                 "method=\"OTHER\",status=\"405\"} 1\n"));
	assert_non_null(
	    strstr(out.data, "# TYPE calendox_http_request_duration_seconds histogram"));
	assert_non_null(strstr(out.data, "calendox_http_request_duration_seconds_bucket{route="
	                                 "\"/hello\",le=\"0.005\"} "));
	assert_non_null(strstr(out.data, "calendox_http_request_duration_seconds_bucket{route="
	                                 "\"/hello\",le=\"+Inf\"} "));
	assert_non_null(strstr(out.data, "calendox_http_request_duration_seconds_sum{route="
	                                 "\"/hello\"} "));
	assert_non_null(strstr(out.data, "calendox_http_request_duration_seconds_count{route="
	                                 "\"/items/{id}\"} "));
	buf_release(&out);
}

static void test_status_for(void **state)
{
	assert_int_equal(http_status_for(CX_EINVAL), 400);
	assert_int_equal(http_status_for(CX_ENOTFOUND), 404);
	assert_int_equal(http_status_for(CX_ECONFLICT), 409);
	assert_int_equal(http_status_for(CX_EAUTH), 401);
	assert_int_equal(http_status_for(CX_EFORBIDDEN), 403);
	assert_int_equal(http_status_for(CX_ETOOBIG), 413);
	assert_int_equal(http_status_for(CX_ETIMEOUT), 504);
	assert_int_equal(http_status_for(CX_EUPSTREAM), 502);
	assert_int_equal(http_status_for(CX_EBUSY), 503);
	assert_int_equal(http_status_for(CX_EDB), 500);
}

/* A server stopped while a request is suspended answers it (timed out) before going away. */
struct stop_client {
	int port;
	long status;
	char body[64];
};

static void *stop_client_main(void *arg)
{
	struct stop_client *c = arg;
	struct resp r;
	port = c->port;
	fetch("GET", "/suspend/hold", NULL, NULL, NULL, &r);
	c->status = r.status;
	snprintf(c->body, sizeof(c->body), "%s", r.body.data ? r.body.data : "");
	resp_release(&r);
	return NULL;
}

static void test_stop_with_suspended_request(void **state)
{
	struct http_server *own;
	struct http_server_options o = {
	    .host = "127.0.0.1",
	    .threads = 2,
	    .max_connections = 16,
	    .idle_timeout_s = 5,
	    .max_body = MAX_BODY,
	    .routes = routes,
	    .n_routes = sizeof(routes) / sizeof(routes[0]),
	};
	int shared_port = port;
	assert_int_equal(http_server_start(&o, &own), CX_OK);
	struct stop_client c = {.port = http_server_port(own)};
	pthread_t t;
	pthread_create(&t, NULL, stop_client_main, &c);
	struct http_waiter *w = NULL;
	for (int i = 0; i < 200 && !w; i++) {
		usleep(10 * 1000);
		pthread_mutex_lock(&wake_lock);
		w = held;
		held = NULL;
		pthread_mutex_unlock(&wake_lock);
	}
	assert_non_null(w);
	http_server_stop(own);
	pthread_join(t, NULL);
	port = shared_port;
	assert_int_equal(c.status, 202);
	assert_string_equal(c.body, "timeout");
	/* The waking side may still wake after the server is gone. */
	http_waiter_wake(w);
}

static void test_start_rejects_bad_host(void **state)
{
	struct http_server *s = NULL;
	struct http_server_options o = {.host = "localhost", .threads = 1};
	assert_int_equal(http_server_start(&o, &s), CX_EINVAL);
	assert_null(s);
}

static void test_ipv6_loopback(void **state)
{
	struct http_server *s = NULL;
	struct http_server_options o = {
	    .host = "::1",
	    .threads = 1,
	    .routes = routes,
	    .n_routes = sizeof(routes) / sizeof(routes[0]),
	};
	if (http_server_start(&o, &s) != CX_OK)
		skip(); /* no IPv6 on this machine */
	char url[128];
	snprintf(url, sizeof(url), "http://[::1]:%d/hello", http_server_port(s));
	struct buf body;
	buf_init(&body, 4096);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	assert_string_equal(body.data, "{\"hello\":\"world\"}");
	buf_release(&body);
	http_server_stop(s);
}

int main(void)
{
	sec_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_reply_and_standard_headers),
	    cmocka_unit_test(test_request_id),
	    cmocka_unit_test(test_params_query_and_encoded_slash),
	    cmocka_unit_test(test_method_not_allowed_and_not_found),
	    cmocka_unit_test(test_head_answers_get_without_body),
	    cmocka_unit_test(test_body_json),
	    cmocka_unit_test(test_form_body),
	    cmocka_unit_test(test_cookies),
	    cmocka_unit_test(test_handler_headers_win),
	    cmocka_unit_test(test_errors_redirect_and_ip),
	    cmocka_unit_test(test_before_hook),
	    cmocka_unit_test(test_abort_and_drop_close_without_answer),
	    cmocka_unit_test(test_framing_guard),
	    cmocka_unit_test(test_body_limits),
	    cmocka_unit_test(test_suspend_woken),
	    cmocka_unit_test(test_suspend_deadline),
	    cmocka_unit_test(test_suspend_woken_at_once),
	    cmocka_unit_test(test_suspend_twice),
	    cmocka_unit_test(test_hundred_concurrent_suspensions),
	    cmocka_unit_test(test_client_leaves_while_suspended),
	    cmocka_unit_test(test_oversized_headers),
	    cmocka_unit_test(test_idle_connection_closed),
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_status_for),
	    cmocka_unit_test(test_stop_with_suspended_request),
	    cmocka_unit_test(test_start_rejects_bad_host),
	    cmocka_unit_test(test_ipv6_loopback),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
