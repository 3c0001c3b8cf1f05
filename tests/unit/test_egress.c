/* The egress thread (egress/egress.c) against a small upstream on 127.0.0.1 built on
 * libmicrohttpd directly. The upstream echoes the request as JSON and, by query parameter,
 * answers late (delay_ms), answers a large body (size, chunked=1 without Content-Length), answers
 * any status, sends many headers (headers=N) or closes the connection without answering (close=1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/time.h"
#include "egress/egress.h"
#include "base/banned.h"

/* --- the test upstream --- */

struct upstream {
	struct MHD_Daemon *daemon;
	int port;
	atomic_bool stopping;   /* ends the delays at once when the test is over */
	atomic_int connections; /* TCP connections accepted */
	atomic_int requests;    /* requests answered or dropped */
};

struct upload {
	char *data;
	size_t len;
};

struct chunked_body {
	size_t left;
};

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static long query_long(struct MHD_Connection *c, const char *name, long dflt)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v ? strtol(v, NULL, 10) : dflt;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	json_object_set_new(cls, key, json_string(value ? value : ""));
	return MHD_YES;
}

static ssize_t chunked_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct chunked_body *b = cls;
	if (b->left == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = b->left < max ? b->left : max;
	memset(out, 'c', n);
	b->left -= n;
	return (ssize_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
	struct upstream *u = cls;
	struct upload *up = *con_cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!up) {
		*con_cls = calloc(1, sizeof(struct upload));
		return MHD_YES;
	}
	if (*upload_size) {
		up->data = realloc(up->data, up->len + *upload_size + 1);
		memcpy(up->data + up->len, upload_data, *upload_size);
		up->len += *upload_size;
		up->data[up->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&u->requests, 1);

	long delay = query_long(c, "delay_ms", 0);
	for (long waited = 0; waited < delay && !atomic_load(&u->stopping); waited += 5)
		sleep_ms(5);
	if (query_long(c, "close", 0))
		return MHD_NO; /* MHD closes the connection without an answer */

	long size = query_long(c, "size", -1);
	if (size >= 0 && query_long(c, "chunked", 0)) {
		struct chunked_body *b = malloc(sizeof(*b));
		b->left = (size_t)size;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunked_read, b,
		                                         free);
	} else if (size >= 0) {
		char *body = malloc((size_t)size + 1);
		memset(body, 'b', (size_t)size);
		resp = MHD_create_response_from_buffer((size_t)size, body, MHD_RESPMEM_MUST_FREE);
	} else {
		json_t *headers = json_object();
		MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, headers);
		json_t *echo =
		    json_pack("{s:s, s:s, s:o, s:s#}", "method", method, "path", url, "headers",
		              headers, "body", up->data ? up->data : "", (int)up->len);
		char *text = json_dumps(echo, JSON_COMPACT);
		json_decref(echo);
		resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", "application/json");
	}
	MHD_add_response_header(resp, "X-Upstream-Thing", "Yes");
	long many = query_long(c, "headers", 0);
	for (long i = 0; i < many; i++) {
		char name[32];
		snprintf(name, sizeof(name), "X-Extra-%ld", i);
		MHD_add_response_header(resp, name, "x");
	}
	long status = query_long(c, "status", 200);
	if (status >= 300 && status < 400)
		MHD_add_response_header(resp, "Location", "/echo?redirected=1");
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
	struct upload *up = *con_cls;
	if (up) {
		free(up->data);
		free(up);
		*con_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct upstream *u = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&u->connections, 1);
}

static struct upstream *upstream_start(void)
{
	struct upstream *u = calloc(1, sizeof(*u));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
	    NULL, on_request, u, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, u, MHD_OPTION_NOTIFY_CONNECTION, on_connection, u, MHD_OPTION_END);
	assert_non_null(u->daemon);
	u->port = MHD_get_daemon_info(u->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	assert_true(u->port > 0);
	return u;
}

static void upstream_stop(struct upstream *u)
{
	atomic_store(&u->stopping, true);
	MHD_stop_daemon(u->daemon);
	free(u);
}

static char *url_for(struct upstream *u, const char *path_and_query)
{
	static _Thread_local char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", u->port, path_and_query);
	return url;
}

/* --- collecting asynchronous results --- */

struct results {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int finished;          /* callbacks run */
	struct egress *egress; /* for the resubmit-while-stopping case */
	bool resubmit;
};

struct slot {
	struct results *r;
	int calls;
	enum cx_err err;
	long status;
	bool sent;
	pthread_t thread;
	int resubmitted_calls; /* callbacks of a request submitted from this callback */
	enum cx_err resubmitted_err;
};

static void results_init(struct results *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
}

static void results_release(struct results *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

static void resubmitted_done(struct egress_response *resp, void *arg)
{
	struct slot *s = arg;
	s->resubmitted_calls++;
	s->resubmitted_err = resp->err;
	egress_response_free(resp);
}

static void slot_done(struct egress_response *resp, void *arg)
{
	struct slot *s = arg;
	struct results *r = s->r;

	pthread_mutex_lock(&r->lock);
	bool resubmit = r->resubmit;
	pthread_mutex_unlock(&r->lock);
	if (resubmit) {
		struct egress_request *again = egress_request_new("GET", "http://127.0.0.1:1/");
		again->done = resubmitted_done;
		again->arg = s;
		egress_submit(r->egress, again);
	}
	pthread_mutex_lock(&r->lock);
	s->calls++;
	s->err = resp->err;
	s->status = resp->status;
	s->sent = resp->sent;
	s->thread = pthread_self();
	r->finished++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	egress_response_free(resp);
}

/* Waits until n callbacks ran or timeout_ms passed; returns how many ran. */
static int results_wait(struct results *r, int n, int64_t timeout_ms)
{
	int64_t deadline = time_now_ms() + timeout_ms;
	int got;
	pthread_mutex_lock(&r->lock);
	while (r->finished < n && time_now_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	got = r->finished;
	pthread_mutex_unlock(&r->lock);
	return got;
}

static void submit_slot(struct egress *e, const char *url, struct slot *s, struct results *r)
{
	struct egress_request *req = egress_request_new("GET", url);
	s->r = r;
	req->done = slot_done;
	req->arg = s;
	egress_submit(e, req);
}

static void wait_in_flight(struct egress *e, size_t n)
{
	int64_t deadline = time_now_ms() + 3000;
	struct egress_stats st;
	for (;;) {
		egress_stats(e, &st);
		if (st.in_flight >= n || time_now_ms() > deadline)
			break;
		sleep_ms(5);
	}
	assert_int_equal(st.in_flight, n);
}

static json_t *parse_body(const struct egress_response *resp)
{
	json_error_t jerr;
	json_t *v = json_loadb(resp->body, resp->body_len, 0, &jerr);
	assert_non_null(v);
	return v;
}

/* --- tests --- */

static void get_round_trip(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("GET", url_for(u, "/echo?x=1"));
	egress_request_header(req, "X-Custom", "hello there");
	egress_request_header(req, "Authorization", "Bearer secret-token");
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_int_equal(resp->status, 200);
	assert_true(resp->sent);
	assert_int_equal(strlen(resp->body), resp->body_len);

	json_t *echo = parse_body(resp);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(echo, "path")), "/echo");
	json_t *headers = json_object_get(echo, "headers");
	assert_string_equal(json_string_value(json_object_get(headers, "X-Custom")), "hello there");
	assert_string_equal(json_string_value(json_object_get(headers, "Authorization")),
	                    "Bearer secret-token");
	/* A GET carries no body and no invented headers. */
	assert_null(json_object_get(headers, "Content-Length"));
	assert_null(json_object_get(headers, "Expect"));
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "");
	json_decref(echo);
	egress_response_free(resp);
	egress_stop(e);
	upstream_stop(u);
}

static void post_round_trip(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;
	const char *body = "{\"topic\":\"Planning\",\"type\":2}";

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("POST", url_for(u, "/users/me/meetings"));
	egress_request_body(req, "application/json", body, strlen(body));
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_int_equal(resp->status, 200);
	json_t *echo = parse_body(resp);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(echo, "body")), body);
	json_t *headers = json_object_get(echo, "headers");
	assert_string_equal(json_string_value(json_object_get(headers, "Content-Type")),
	                    "application/json");
	json_decref(echo);
	egress_response_free(resp);

	/* A body larger than curl's Expect threshold goes in one round trip all the same. */
	size_t big_len = 200 * 1024;
	char *big = malloc(big_len + 1);
	memset(big, 'p', big_len);
	big[big_len] = '\0';
	req = egress_request_new("PUT", url_for(u, "/big"));
	egress_request_body(req, "text/plain", big, big_len);
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	echo = parse_body(resp);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "PUT");
	assert_string_equal(json_string_value(json_object_get(echo, "body")), big);
	json_decref(echo);
	egress_response_free(resp);
	free(big);

	egress_stop(e);
	upstream_stop(u);
}

static void methods_with_and_without_body(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);

	/* An empty POST still says Content-Length: 0, and no form Content-Type. */
	struct egress_request *req = egress_request_new("POST", url_for(u, "/oauth/revoke"));
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	json_t *echo = parse_body(resp);
	json_t *headers = json_object_get(echo, "headers");
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(headers, "Content-Length")), "0");
	assert_null(json_object_get(headers, "Content-Type"));
	json_decref(echo);
	egress_response_free(resp);

	req = egress_request_new("PATCH", url_for(u, "/meetings/42"));
	egress_request_body(req, "application/json", "{\"topic\":\"x\"}", 13);
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	echo = parse_body(resp);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "PATCH");
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "{\"topic\":\"x\"}");
	json_decref(echo);
	egress_response_free(resp);

	req = egress_request_new("DELETE", url_for(u, "/meetings/42"));
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	echo = parse_body(resp);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "DELETE");
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "");
	json_decref(echo);
	egress_response_free(resp);

	req = egress_request_new("DELETE", url_for(u, "/meetings/43"));
	egress_request_body(req, "application/json", "{\"why\":1}", 9);
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	echo = parse_body(resp);
	assert_string_equal(json_string_value(json_object_get(echo, "method")), "DELETE");
	assert_string_equal(json_string_value(json_object_get(echo, "body")), "{\"why\":1}");
	json_decref(echo);
	egress_response_free(resp);

	egress_stop(e);
	upstream_stop(u);
}

static void status_codes_pass_through(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;
	static const long codes[] = {201, 204, 400, 401, 404, 409, 410, 429, 500, 503};

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/echo?status=%ld", codes[i]);
		struct egress_request *req = egress_request_new("GET", url_for(u, path));
		assert_int_equal(egress_call(e, req, &resp), CX_OK);
		assert_int_equal(resp->status, codes[i]);
		assert_int_equal(resp->err, CX_OK);
		egress_response_free(resp);
	}
	/* Redirects are answered, not followed. */
	struct egress_request *req = egress_request_new("GET", url_for(u, "/echo?status=302"));
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_int_equal(resp->status, 302);
	assert_string_equal(egress_response_header(resp, "location"), "/echo?redirected=1");
	egress_response_free(resp);
	assert_int_equal(atomic_load(&u->requests), 11);

	egress_stop(e);
	upstream_stop(u);
}

static void total_timeout(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("GET", url_for(u, "/echo?delay_ms=3000"));
	req->timeout_ms = 200;
	int64_t t0 = time_now_ms();
	assert_int_equal(egress_call(e, req, &resp), CX_ETIMEOUT);
	int64_t took = time_now_ms() - t0;
	assert_true(took >= 150);
	assert_true(took < 1500);
	assert_int_equal(resp->err, CX_ETIMEOUT);
	assert_true(resp->sent); /* it reached the upstream, which was still working */
	assert_int_equal(resp->status, 0);
	assert_string_equal(resp->body, "");
	assert_true(resp->error[0] != '\0');
	egress_response_free(resp);

	struct egress_stats st;
	egress_stats(e, &st);
	assert_int_equal(st.timeout, 1);
	assert_int_equal(st.ok, 0);
	egress_stop(e);
	upstream_stop(u);
}

static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(addr);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	return ntohs(addr.sin_port);
}

static void connect_refused_not_sent(void **state)
{
	struct egress *e;
	struct egress_response *resp;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/users/me/meetings", closed_port());
	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("POST", url);
	egress_request_body(req, "application/json", "{}", 2);
	assert_int_equal(egress_call(e, req, &resp), CX_EIO);
	assert_false(resp->sent);
	assert_int_equal(resp->status, 0);
	assert_true(resp->error[0] != '\0');
	egress_response_free(resp);
	egress_stop(e);
}

static void closed_without_answer_was_sent(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("POST", url_for(u, "/echo?close=1"));
	egress_request_body(req, "application/json", "{}", 2);
	assert_int_equal(egress_call(e, req, &resp), CX_EIO);
	/* The upstream may have acted on it: not safe to repeat blindly. */
	assert_true(resp->sent);
	assert_int_equal(resp->status, 0);
	egress_response_free(resp);
	assert_true(atomic_load(&u->requests) >= 1);
	egress_stop(e);
	upstream_stop(u);
}

/* A keep-alive GET, then a POST the upstream acts on and answers by closing the connection: how
 * many times the POST reached the upstream. */
static int posts_after_dropped_answer(bool single_attempt)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;
	assert_int_equal(egress_start(1, 16, &e), CX_OK);
	assert_int_equal(egress_call(e, egress_request_new("GET", url_for(u, "/echo")), &resp),
			 CX_OK);
	egress_response_free(resp);
	int before = atomic_load(&u->requests);
	struct egress_request *req = egress_request_new("POST", url_for(u, "/echo?close=1"));
	egress_request_body(req, "application/json", "{}", 2);
	req->single_attempt = single_attempt;
	assert_int_equal(egress_call(e, req, &resp), CX_EIO);
	assert_true(resp->sent);
	egress_response_free(resp);
	int posts = atomic_load(&u->requests) - before;
	egress_stop(e);
	upstream_stop(u);
	return posts;
}

static void single_attempt_is_never_resent(void **state)
{
	/* libcurl resends on a reused connection that died: that is what single_attempt prevents. */
	assert_int_equal(posts_after_dropped_answer(false), 2);
	assert_int_equal(posts_after_dropped_answer(true), 1);
}

static void bad_requests_are_refused(void **state)
{
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("GET", "http://127.0.0.1:1/");
	egress_request_header(req, "X-Injected", "a\r\nHost: elsewhere");
	assert_true(req->refused);
	assert_int_equal(req->n_headers, 0);
	assert_int_equal(egress_call(e, req, &resp), CX_EINVAL);
	assert_false(resp->sent);
	egress_response_free(resp);

	req = egress_request_new("GET", "file:///etc/passwd");
	assert_int_equal(egress_call(e, req, &resp), CX_EINVAL);
	assert_false(resp->sent);
	egress_response_free(resp);

	req = egress_request_new("GET / HTTP/1.1\r\n", "http://127.0.0.1:1/");
	assert_int_equal(egress_call(e, req, &resp), CX_EINVAL);
	egress_response_free(resp);

	req = egress_request_new("GET", "http://127.0.0.1:1/");
	for (int i = 0; i < EGRESS_MAX_HEADERS; i++)
		egress_request_header(req, "X-N", "1");
	assert_false(req->refused);
	egress_request_header(req, "X-One-Too-Many", "1");
	assert_true(req->refused);
	egress_request_free(req);

	struct egress_stats st;
	egress_stats(e, &st);
	assert_int_equal(st.invalid, 3);
	egress_stop(e);
}

static void response_too_big(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	/* With a Content-Length, and chunked where only the write callback can notice. */
	const char *paths[] = {"/echo?size=5000", "/echo?size=50000&chunked=1"};
	for (size_t i = 0; i < 2; i++) {
		struct egress_request *req = egress_request_new("GET", url_for(u, paths[i]));
		req->max_response = 1000;
		assert_int_equal(egress_call(e, req, &resp), CX_ETOOBIG);
		assert_int_equal(resp->status, 0);
		assert_int_equal(resp->body_len, 0);
		assert_true(resp->error[0] != '\0');
		egress_response_free(resp);
	}
	/* Exactly at the bound is fine. */
	struct egress_request *req = egress_request_new("GET", url_for(u, "/echo?size=1000"));
	req->max_response = 1000;
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_int_equal(resp->body_len, 1000);
	assert_int_equal(resp->body[999], 'b');
	assert_int_equal(resp->body[1000], '\0');
	egress_response_free(resp);
	req = egress_request_new("GET", url_for(u, "/echo?size=1000&chunked=1"));
	req->max_response = 1000;
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_int_equal(resp->body_len, 1000);
	egress_response_free(resp);

	struct egress_stats st;
	egress_stats(e, &st);
	assert_int_equal(st.too_big, 2);
	assert_int_equal(st.ok, 2);
	egress_stop(e);
	upstream_stop(u);
}

static void concurrent_requests_overlap(void **state)
{
	enum { N = 50 };
	struct upstream *u = upstream_start();
	struct egress *e;
	struct results r;
	struct slot slots[N];

	memset(slots, 0, sizeof(slots));
	results_init(&r);
	assert_int_equal(egress_start(64, 64, &e), CX_OK);
	int64_t t0 = time_now_ms();
	for (int i = 0; i < N; i++)
		submit_slot(e, url_for(u, "/echo?delay_ms=100"), &slots[i], &r);
	assert_int_equal(results_wait(&r, N, 10000), N);
	int64_t took = time_now_ms() - t0;
	/* Serially this would take 5 s; overlapped it takes about one delay. */
	assert_true(took < 2500);
	for (int i = 0; i < N; i++) {
		assert_int_equal(slots[i].calls, 1);
		assert_int_equal(slots[i].err, CX_OK);
		assert_int_equal(slots[i].status, 200);
		assert_true(pthread_equal(slots[i].thread, slots[0].thread));
	}
	assert_false(pthread_equal(slots[0].thread, pthread_self()));
	egress_stop(e);
	upstream_stop(u);
	results_release(&r);
}

static void max_in_flight_bounds_transfers(void **state)
{
	enum { N = 6 };
	struct upstream *u = upstream_start();
	struct egress *e;
	struct results r;
	struct slot slots[N];

	memset(slots, 0, sizeof(slots));
	results_init(&r);
	assert_int_equal(egress_start(2, 16, &e), CX_OK);
	int64_t t0 = time_now_ms();
	for (int i = 0; i < N; i++)
		submit_slot(e, url_for(u, "/echo?delay_ms=150"), &slots[i], &r);
	wait_in_flight(e, 2);
	struct egress_stats st;
	egress_stats(e, &st);
	assert_int_equal(st.queued, N - 2);
	assert_int_equal(results_wait(&r, N, 5000), N);
	/* Three rounds of two. */
	assert_true(time_now_ms() - t0 >= 3 * 150 - 20);
	for (int i = 0; i < N; i++)
		assert_int_equal(slots[i].err, CX_OK);
	egress_stop(e);
	upstream_stop(u);
	results_release(&r);
}

static void full_queue_is_busy(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct results r;
	struct slot slots[4];

	memset(slots, 0, sizeof(slots));
	results_init(&r);
	assert_int_equal(egress_start(1, 2, &e), CX_OK);
	submit_slot(e, url_for(u, "/echo?delay_ms=300"), &slots[0], &r);
	wait_in_flight(e, 1);
	submit_slot(e, url_for(u, "/echo"), &slots[1], &r);
	submit_slot(e, url_for(u, "/echo"), &slots[2], &r);
	/* The queue holds two: the next one fails at once, on this thread. */
	submit_slot(e, url_for(u, "/echo"), &slots[3], &r);
	assert_int_equal(slots[3].calls, 1);
	assert_int_equal(slots[3].err, CX_EBUSY);
	assert_false(slots[3].sent);
	assert_true(pthread_equal(slots[3].thread, pthread_self()));

	assert_int_equal(results_wait(&r, 4, 5000), 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(slots[i].calls, 1);
		assert_int_equal(slots[i].err, CX_OK);
	}
	struct egress_stats st;
	egress_stats(e, &st);
	assert_int_equal(st.busy, 1);
	assert_int_equal(st.ok, 3);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.in_flight, 0);

	struct buf m;
	buf_init(&m, 4096);
	assert_int_equal(egress_metrics(e, &m), CX_OK);
	assert_non_null(strstr(m.data, "calendox_egress_requests_total{outcome=\"ok\"} 3\n"));
	assert_non_null(strstr(m.data, "calendox_egress_requests_total{outcome=\"busy\"} 1\n"));
	assert_non_null(strstr(m.data, "calendox_egress_in_flight 0\n"));
	buf_release(&m);

	egress_stop(e);
	upstream_stop(u);
	results_release(&r);
}

static void stop_cancels_everything_once(void **state)
{
	enum { N = 10 };
	struct upstream *u = upstream_start();
	struct egress *e;
	struct results r;
	struct slot slots[N];

	memset(slots, 0, sizeof(slots));
	results_init(&r);
	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	r.egress = e;
	for (int i = 0; i < N; i++)
		submit_slot(e, url_for(u, "/echo?delay_ms=5000"), &slots[i], &r);
	wait_in_flight(e, 4);
	/* From now on a callback submits again: that must fail at once with CX_EIO. */
	pthread_mutex_lock(&r.lock);
	r.resubmit = true;
	pthread_mutex_unlock(&r.lock);

	int64_t t0 = time_now_ms();
	egress_stop(e);
	assert_true(time_now_ms() - t0 < 2000);
	assert_int_equal(r.finished, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(slots[i].calls, 1);
		assert_int_equal(slots[i].err, CX_EIO);
		assert_int_equal(slots[i].resubmitted_calls, 1);
		assert_int_equal(slots[i].resubmitted_err, CX_EIO);
	}
	upstream_stop(u);
	results_release(&r);
}

static void response_headers(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	struct egress_request *req = egress_request_new("GET", url_for(u, "/echo"));
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_string_equal(egress_response_header(resp, "X-Upstream-Thing"), "Yes");
	assert_string_equal(egress_response_header(resp, "x-upstream-thing"), "Yes");
	assert_string_equal(egress_response_header(resp, "X-UPSTREAM-THING"), "Yes");
	assert_string_equal(egress_response_header(resp, "content-type"), "application/json");
	assert_null(egress_response_header(resp, "x-upstream"));
	assert_null(egress_response_header(resp, "x-absent"));
	bool found = false;
	for (size_t i = 0; i < resp->n_headers; i++) {
		/* Names are lower-cased, the status line is not a header. */
		assert_null(strstr(resp->headers[i], "HTTP/"));
		if (strcmp(resp->headers[i], "x-upstream-thing: Yes") == 0)
			found = true;
	}
	assert_true(found);
	egress_response_free(resp);

	/* More headers than fit: the first EGRESS_MAX_HEADERS are kept, the body is whole. */
	req = egress_request_new("GET", url_for(u, "/echo?headers=60"));
	assert_int_equal(egress_call(e, req, &resp), CX_OK);
	assert_int_equal(resp->n_headers, EGRESS_MAX_HEADERS);
	json_t *echo = parse_body(resp);
	json_decref(echo);
	egress_response_free(resp);

	egress_stop(e);
	upstream_stop(u);
}

static void connections_are_reused(void **state)
{
	struct upstream *u = upstream_start();
	struct egress *e;
	struct egress_response *resp;

	assert_int_equal(egress_start(4, 16, &e), CX_OK);
	for (int i = 0; i < 5; i++) {
		struct egress_request *req = egress_request_new("GET", url_for(u, "/echo"));
		assert_int_equal(egress_call(e, req, &resp), CX_OK);
		egress_response_free(resp);
	}
	assert_int_equal(atomic_load(&u->requests), 5);
	assert_int_equal(atomic_load(&u->connections), 1);
	egress_stop(e);
	upstream_stop(u);
}

static void start_rejects_bad_bounds(void **state)
{
	struct egress *e = (struct egress *)1;
	assert_int_equal(egress_start(0, 16, &e), CX_EINVAL);
	assert_null(e);
	assert_int_equal(egress_start(4, 0, &e), CX_EINVAL);
	assert_null(e);
}

int main(void)
{
	log_set_level(LOG_LEVEL_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(get_round_trip),
	    cmocka_unit_test(post_round_trip),
	    cmocka_unit_test(methods_with_and_without_body),
	    cmocka_unit_test(status_codes_pass_through),
	    cmocka_unit_test(total_timeout),
	    cmocka_unit_test(connect_refused_not_sent),
	    cmocka_unit_test(closed_without_answer_was_sent),
	    cmocka_unit_test(single_attempt_is_never_resent),
	    cmocka_unit_test(bad_requests_are_refused),
	    cmocka_unit_test(response_too_big),
	    cmocka_unit_test(concurrent_requests_overlap),
	    cmocka_unit_test(max_in_flight_bounds_transfers),
	    cmocka_unit_test(full_queue_is_busy),
	    cmocka_unit_test(stop_cancels_everything_once),
	    cmocka_unit_test(response_headers),
	    cmocka_unit_test(connections_are_reused),
	    cmocka_unit_test(start_rejects_bad_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
