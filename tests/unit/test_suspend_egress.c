/* A suspended HTTP request waiting for an egress request, end to end (DESIGN §1): the handler
 * suspends with a deadline and submits to a slow upstream; the egress callback stores the result
 * and wakes the waiter; the resume function answers with the upstream's answer, or 202 when the
 * deadline came first. The late completion and the request may end in either order, so the state
 * they share is reference-counted and never lives in the request's arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
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

#include "base/alloc.h"
#include "base/log.h"
#include "base/time.h"
#include "egress/egress.h"
#include "http/http.h"
#include "base/banned.h"

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* --- the slow upstream: answers "upstream answer <n>" after ?delay_ms, with ?status --- */

struct upstream {
	struct MHD_Daemon *daemon;
	int port;
	atomic_bool stopping;
	atomic_int answered;
};

static long query_long(struct MHD_Connection *c, const char *name, long dflt)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v ? strtol(v, NULL, 10) : dflt;
}

static enum MHD_Result upstream_request(void *cls, struct MHD_Connection *c, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_size,
                                        void **con_cls)
{
	static int first_call_marker;
	struct upstream *u = cls;

	if (*con_cls == NULL) {
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	*upload_size = 0;
	long delay = query_long(c, "delay_ms", 0);
	for (long waited = 0; waited < delay && !atomic_load(&u->stopping); waited += 5)
		sleep_ms(5);
	int n = atomic_fetch_add(&u->answered, 1);
	char *body = xasprintf("upstream answer %d", n);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)query_long(c, "status", 200), resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct upstream *upstream_start(void)
{
	struct upstream *u = xcalloc(1, sizeof(*u));
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
	    NULL, upstream_request, u, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
	assert_non_null(u->daemon);
	u->port = MHD_get_daemon_info(u->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	return u;
}

static void upstream_stop(struct upstream *u)
{
	atomic_store(&u->stopping, true);
	MHD_stop_daemon(u->daemon);
	free(u);
}

/* --- the server side: a handler that waits for the upstream without holding its thread --- */

struct app {
	struct egress *egress; /* the server's egress thread */
	int upstream_port;
	atomic_int completions; /* egress callbacks run */
	atomic_int resumes;     /* resume functions run */
	atomic_int timed_out;   /* ... of which after the deadline */
};

/* Shared by the suspended request and its egress completion; whichever drops the last reference
 * frees it. The request's arena cannot hold it: the completion may arrive after the request was
 * answered (deadline) and freed. */
struct upstream_wait {
	pthread_mutex_t lock;         /* guards everything below */
	int refs;                     /* 2 at the start: the request, the completion */
	bool done;                    /* the egress callback stored the result */
	struct egress_response *resp; /* owned; the upstream's answer once done */
	struct http_waiter *waiter;   /* woken exactly once, by the completion */
	struct app *app;
};

static void upstream_wait_unref(struct upstream_wait *w)
{
	pthread_mutex_lock(&w->lock);
	int left = --w->refs;
	pthread_mutex_unlock(&w->lock);
	if (left)
		return;
	egress_response_free(w->resp);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Egress thread: store, wake, let go. Never touches the request, which may be gone. */
static void upstream_done(struct egress_response *resp_take, void *arg)
{
	struct upstream_wait *w = arg;
	struct http_waiter *waiter;

	pthread_mutex_lock(&w->lock);
	w->resp = resp_take;
	w->done = true;
	waiter = w->waiter;
	w->waiter = NULL;
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_add(&w->app->completions, 1);
	http_waiter_wake(waiter);
	upstream_wait_unref(w);
}

/* Pool thread, after the wake or the deadline. */
static void resume_with_upstream(struct http_request *req, bool timed_out)
{
	struct upstream_wait *w = req->user;
	struct app *app = w->app;

	req->user = NULL;
	atomic_fetch_add(&app->resumes, 1);
	pthread_mutex_lock(&w->lock);
	if (timed_out) {
		atomic_fetch_add(&app->timed_out, 1);
		http_reply(req, 202, "application/json", "{\"pending\":true}", 16);
	} else if (!w->done) {
		/* Only the completion wakes us: this cannot happen. */
		http_reply_error(req, 500, "internal", "woken without a result", NULL);
	} else if (w->resp->err != CX_OK) {
		http_reply_error(req, 502, "upstream_error", "the upstream did not answer", NULL);
	} else {
		http_reply(req, (int)w->resp->status, "text/plain", w->resp->body,
		           w->resp->body_len);
	}
	pthread_mutex_unlock(&w->lock);
	upstream_wait_unref(w);
}

/* GET /wait?delay_ms=&deadline_ms=[&port=]: asks the upstream, answers when it has. */
static void handle_wait(struct http_request *req)
{
	struct app *app = req->app;
	const char *delay = http_query(req, "delay_ms");
	const char *deadline = http_query(req, "deadline_ms");
	const char *port = http_query(req, "port");
	struct upstream_wait *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->lock, NULL);
	w->refs = 2;
	w->app = app;
	req->user = w;
	/* The waiter must exist before the completion can run: suspend first, then submit. */
	w->waiter =
	    http_suspend(req, time_now_ms() + strtol(deadline ? deadline : "1000", NULL, 10),
	                 resume_with_upstream);

	long upstream_port = port ? strtol(port, NULL, 10) : app->upstream_port;
	char *url = xasprintf("http://127.0.0.1:%ld/answer?delay_ms=%ld", upstream_port,
	                      delay ? strtol(delay, NULL, 10) : 0L);
	struct egress_request *er = egress_request_new("GET", url);
	free(url);
	er->timeout_ms = 10000;
	er->done = upstream_done;
	er->arg = w;
	egress_submit(app->egress, er);
}

static const struct http_route routes[] = {
    {"GET", "/wait", handle_wait},
};

struct fixture {
	struct upstream *upstream;
	struct app app;
	struct http_server *server;
	struct egress *client; /* the test's own client, separate from the server's egress */
};

static struct fixture *fixture_start(int pool_threads)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	f->upstream = upstream_start();
	f->app.upstream_port = f->upstream->port;
	assert_int_equal(egress_start(32, 64, &f->app.egress), CX_OK);
	struct http_server_options opts = {
	    .host = "127.0.0.1",
	    .port = 0,
	    .threads = pool_threads,
	    .max_connections = 128,
	    .idle_timeout_s = 30,
	    .max_body = 1 << 20,
	    .max_header_memory = 64 << 10,
	    .routes = routes,
	    .n_routes = sizeof(routes) / sizeof(routes[0]),
	    .app = &f->app,
	};
	assert_int_equal(http_server_start(&opts, &f->server), CX_OK);
	assert_true(http_server_port(f->server) > 0);
	assert_int_equal(egress_start(32, 64, &f->client), CX_OK);
	return f;
}

/* Waits (bounded) until the server's egress has run n completions. */
static void wait_completions(struct fixture *f, int n)
{
	int64_t deadline = time_now_ms() + 5000;
	while (atomic_load(&f->app.completions) < n && time_now_ms() < deadline)
		sleep_ms(5);
	assert_int_equal(atomic_load(&f->app.completions), n);
}

static void fixture_stop(struct fixture *f)
{
	egress_stop(f->client);
	http_server_stop(f->server);
	egress_stop(f->app.egress);
	upstream_stop(f->upstream);
	free(f);
}

static struct egress_request *wait_request(struct fixture *f, const char *query)
{
	char *url = xasprintf("http://127.0.0.1:%d/wait?%s", http_server_port(f->server), query);
	struct egress_request *req = egress_request_new("GET", url);
	free(url);
	req->timeout_ms = 10000;
	return req;
}

static void upstream_in_time(void **state)
{
	struct fixture *f = fixture_start(2);
	struct egress_response *resp;

	int64_t t0 = time_now_ms();
	assert_int_equal(
	    egress_call(f->client, wait_request(f, "delay_ms=100&deadline_ms=3000"), &resp), CX_OK);
	int64_t took = time_now_ms() - t0;
	assert_int_equal(resp->status, 200);
	assert_string_equal(resp->body, "upstream answer 0");
	/* Answered when the upstream did, not at the deadline. */
	assert_true(took >= 90);
	assert_true(took < 2000);
	egress_response_free(resp);
	assert_int_equal(atomic_load(&f->app.resumes), 1);
	assert_int_equal(atomic_load(&f->app.timed_out), 0);
	fixture_stop(f);
}

static void upstream_status_passed_on(void **state)
{
	struct fixture *f = fixture_start(2);
	struct egress_response *resp;
	char query[128];

	/* An upstream that cannot be reached: the resume function maps it to 502. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(addr);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	snprintf(query, sizeof(query), "deadline_ms=3000&port=%d", ntohs(addr.sin_port));
	assert_int_equal(egress_call(f->client, wait_request(f, query), &resp), CX_OK);
	assert_int_equal(resp->status, 502);
	assert_non_null(strstr(resp->body, "upstream_error"));
	egress_response_free(resp);
	fixture_stop(f);
}

static void upstream_slower_than_deadline(void **state)
{
	struct fixture *f = fixture_start(2);
	struct egress_response *resp;

	int64_t t0 = time_now_ms();
	assert_int_equal(
	    egress_call(f->client, wait_request(f, "delay_ms=1000&deadline_ms=150"), &resp), CX_OK);
	int64_t took = time_now_ms() - t0;
	assert_int_equal(resp->status, 202);
	assert_string_equal(resp->body, "{\"pending\":true}");
	assert_true(took >= 140);
	assert_true(took < 800);
	egress_response_free(resp);
	assert_int_equal(atomic_load(&f->app.timed_out), 1);
	/* The request is answered and freed; the late completion now runs against the shared state
	 * alone (ASan watches this), and is the one that frees it. */
	assert_int_equal(atomic_load(&f->app.completions), 0);
	wait_completions(f, 1);
	assert_int_equal(atomic_load(&f->app.resumes), 1);
	fixture_stop(f);
}

struct client_results {
	pthread_mutex_t lock;
	int finished;
	int ok_200;
};

static void client_done(struct egress_response *resp, void *arg)
{
	struct client_results *r = arg;
	pthread_mutex_lock(&r->lock);
	r->finished++;
	if (resp->err == CX_OK && resp->status == 200 &&
	    strncmp(resp->body, "upstream answer ", 16) == 0)
		r->ok_200++;
	pthread_mutex_unlock(&r->lock);
	egress_response_free(resp);
}

static void many_suspended_on_two_threads(void **state)
{
	enum { N = 20 };
	struct fixture *f = fixture_start(2);
	struct client_results r = {.finished = 0};

	pthread_mutex_init(&r.lock, NULL);
	int64_t t0 = time_now_ms();
	for (int i = 0; i < N; i++) {
		struct egress_request *req = wait_request(f, "delay_ms=400&deadline_ms=8000");
		req->done = client_done;
		req->arg = &r;
		egress_submit(f->client, req);
	}
	int64_t deadline = t0 + 9000;
	for (;;) {
		pthread_mutex_lock(&r.lock);
		int finished = r.finished;
		pthread_mutex_unlock(&r.lock);
		if (finished == N || time_now_ms() > deadline)
			break;
		sleep_ms(5);
	}
	int64_t took = time_now_ms() - t0;
	assert_int_equal(r.finished, N);
	assert_int_equal(r.ok_200, N);
	/* Two threads holding each request for 400 ms would need 4 s. */
	assert_true(took < 2500);
	assert_int_equal(atomic_load(&f->app.resumes), N);
	assert_int_equal(atomic_load(&f->app.timed_out), 0);
	pthread_mutex_destroy(&r.lock);
	fixture_stop(f);
}

int main(void)
{
	log_set_level(LOG_LEVEL_WARN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(upstream_in_time),
	    cmocka_unit_test(upstream_status_passed_on),
	    cmocka_unit_test(upstream_slower_than_deadline),
	    cmocka_unit_test(many_suspended_on_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
