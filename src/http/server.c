/* server.c: the MHD daemon, the access handler (framing guard, body limits, dispatch), the
 * request lifecycle, suspension with deadlines and the access log. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "http/internal.h"

#include "base/banned.h"

pthread_mutex_t http_suspend_lock = PTHREAD_MUTEX_INITIALIZER;

/* How long http_server_stop waits for requests in flight before stopping MHD under them. */
#define STOP_GRACE_MS 5000
/* A resume function that keeps suspending while the server stops is answered 503 after this. */
#define STOP_MAX_RESUMES 3
/* After a body outgrew max_body, this much more is read and discarded so the client can get its
 * 413 (MHD cannot answer in the middle of a body); past it the connection is closed. */
#define DISCARD_MAX (1u << 20)

static const char default_csp[] = "default-src 'self'; base-uri 'none'; form-action 'self'; "
                                  "frame-ancestors 'none'; object-src 'none'";

/* --- MHD callbacks that are not the access handler --- */

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[512];
	char quoted[600];
	vsnprintf(text, sizeof(text), fmt, ap);
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	log_warn("http server", "detail=%s", log_quote(text, quoted, sizeof(quoted)));
}

/* MHD calls this with the raw request target before it decodes the URL in place, which is the
 * only way to see "%2F" inside a path segment. Its return value becomes the request's context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *srv = cls;
	struct http_request_state *st = xcalloc(1, sizeof(*st));
	st->srv = srv;
	st->conn = conn;
	st->req.arena = arena_new();
	st->req.state = st;
	st->req.app = srv->app;
	st->req.started_ms = time_now_ms();
	st->req.route = "none";
	buf_init(&st->body, srv->max_body);
	const char *q = strchr(uri, '?');
	st->raw_path = q ? arena_strndup(st->req.arena, uri, (size_t)(q - uri))
	                 : arena_strdup(st->req.arena, uri);
	st->raw_query = q ? arena_strdup(st->req.arena, q + 1) : NULL;
	pthread_mutex_lock(&http_suspend_lock);
	srv->live_requests++;
	pthread_mutex_unlock(&http_suspend_lock);
	return st;
}

static void access_log(struct http_request_state *st)
{
	struct http_request *req = &st->req;
	char method[40], path[512];
	int64_t ms = time_now_ms() - req->started_ms;
	log_context_set(req->request_id, 0);
	/* The path only: the query may carry OAuth codes and state. */
	log_info("request", "method=%s path=%s route=%s status=%d ms=%lld bytes=%zu",
	         log_quote(req->method ? req->method : "-", method, sizeof(method)),
	         log_quote(req->path ? req->path : st->raw_path, path, sizeof(path)), req->route,
	         st->status, (long long)ms, st->response_bytes);
	log_context_set(NULL, 0);
}

static void request_free(struct http_request_state *st)
{
	buf_release(&st->body);
	arena_free(st->req.arena);
	free(st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_request_state *st = *ctx;
	*ctx = NULL;
	if (!st)
		return;
	if (st->began) {
		if (srv->access_log)
			access_log(st);
		double seconds = (double)(time_now_ms() - st->req.started_ms) / 1000.0;
		http_metrics_observe(&srv->metrics, st->req.route, st->req.method, st->status,
		                     seconds);
	}
	pthread_mutex_lock(&http_suspend_lock);
	struct http_waiter *w = st->waiter;
	if (w) {
		/* The client left between the resume and the handler running again. */
		w->st = NULL;
		if (!w->fired) {
			if (w->prev)
				w->prev->next = w->next;
			else
				srv->armed = w->next;
			if (w->next)
				w->next->prev = w->prev;
		}
		if (--w->refs == 0)
			free(w);
		st->waiter = NULL;
	}
	if (st->suspended)
		srv->suspended_requests--;
	srv->live_requests--;
	pthread_cond_broadcast(&srv->idle_cond);
	pthread_mutex_unlock(&http_suspend_lock);
	if (st->on_complete)
		st->on_complete(&st->req, st->on_complete_arg);
	request_free(st);
}

/* --- the access handler --- */

struct header_count {
	const char *name;
	unsigned n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	struct header_count *c = cls;
	if (strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

static unsigned header_count(struct MHD_Connection *conn, const char *name)
{
	struct header_count c = {name, 0};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &c);
	return c.n;
}

/* Request smuggling defence (DESIGN §5): MHD 0.9.75 hands all of these to the application, so
 * they are refused here before anything looks at the request. */
static bool framing_ok(struct MHD_Connection *conn)
{
	unsigned n_te = header_count(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	unsigned n_cl = header_count(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (n_cl > 1 || (n_te > 0 && n_cl > 0) || n_te > 1)
		return false;
	if (n_te == 1) {
		const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_TRANSFER_ENCODING);
		if (!te || strcmp(te, "chunked") != 0)
			return false;
	}
	return true;
}

/* false if the Content-Length is not a plain decimal number. */
static bool content_length(struct MHD_Connection *conn, unsigned long long *out)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	*out = 0;
	if (!cl)
		return true;
	if (!*cl)
		return false;
	for (const char *p = cl; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	char *end = NULL;
	*out = strtoull(cl, &end, 10);
	return errno == 0 && end && *end == '\0';
}

static bool request_id_ok(const char *id)
{
	size_t n = 0;
	if (!id)
		return false;
	for (const char *p = id; *p; p++, n++) {
		char c = *p;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok || n >= 64)
			return false;
	}
	return n >= 1;
}

static void begin(struct http_request_state *st, const char *method)
{
	struct http_request *req = &st->req;
	req->method = arena_strdup(req->arena, method);
	const char *id = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "X-Request-Id");
	if (request_id_ok(id)) {
		req->request_id = arena_strdup(req->arena, id);
	} else {
		static const char hex[] = "0123456789abcdef";
		unsigned char raw[8];
		char *text = arena_alloc(req->arena, 17);
		sec_random_bytes(raw, sizeof(raw));
		for (size_t i = 0; i < sizeof(raw); i++) {
			text[2 * i] = hex[raw[i] >> 4];
			text[2 * i + 1] = hex[raw[i] & 15];
		}
		req->request_id = text;
	}
	req->path = http_url_decode(req->arena, st->raw_path, strlen(st->raw_path), false);
}

/* The first access-handler call: everything that can be decided from the headers alone. Returns
 * true if the request may go on to its body. */
static bool check_headers(struct http_request_state *st)
{
	struct http_request *req = &st->req;
	unsigned long long len = 0;
	if (!framing_ok(st->conn)) {
		http_reply_error_close(req, 400, "bad_request",
		                       "The request's message framing is ambiguous.");
		return false;
	}
	if (!content_length(st->conn, &len)) {
		http_reply_error_close(req, 400, "bad_request", "The Content-Length is not valid.");
		return false;
	}
	if (len > st->srv->max_body) {
		http_reply_error_close(req, 413, "payload_too_large",
		                       "The request body is too large.");
		return false;
	}
	if (!req->path || req->path[0] != '/') {
		http_reply_error_close(req, 400, "bad_request", "The request path is not valid.");
		return false;
	}
	st->match_kind = http_router_match(req->arena, st->srv->routes, st->srv->n_routes,
	                                   req->method, st->raw_path, &st->match);
	if (st->match.route)
		req->route = st->match.route->pattern;
	return true;
}

void http_dispatch(struct http_request *req)
{
	struct http_request_state *st = req->state;
	switch (st->match_kind) {
	case HTTP_MATCH_FOUND:
		st->match.route->handler(req);
		return;
	case HTTP_MATCH_METHOD:
		http_add_header(req, MHD_HTTP_HEADER_ALLOW, st->match.allow);
		http_reply_error(req, 405, "method_not_allowed",
		                 "This method is not allowed on this path.", NULL);
		return;
	case HTTP_MATCH_BAD:
		http_reply_error(req, 400, "bad_request", "The request path is not valid.", NULL);
		return;
	case HTTP_MATCH_NONE:
		break;
	}
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool api = strncmp(req->path, "/api/", 5) == 0 || strcmp(req->path, "/api") == 0;
	if (get && !api && http_static_serve(st))
		return;
	http_reply_error(req, 404, "not_found", "There is nothing at this address.", NULL);
}

static void run_first(struct http_request_state *st)
{
	struct http_request *req = &st->req;
	if (st->body_too_big) {
		http_reply_error_close(req, 413, "payload_too_large",
		                       "The request body is too large.");
		return;
	}
	if (st->body.len > 0) {
		req->body = st->body.data;
		req->body_len = st->body.len;
	}
	if (st->srv->before) {
		st->srv->before(req);
		if (st->replied || st->close_now || st->suspended)
			return;
	}
	http_dispatch(req);
}

/* The connection was resumed: hand the waiter back and run the resume function. */
static void run_resumed(struct http_request_state *st)
{
	struct http_server *srv = st->srv;
	http_resume_fn fn = st->resume_fn;
	pthread_mutex_lock(&http_suspend_lock);
	bool timed_out = st->timed_out;
	bool stopping = srv->stopping;
	struct http_waiter *w = st->waiter;
	st->waiter = NULL;
	st->suspended = false;
	st->resume_fn = NULL;
	srv->suspended_requests--;
	if (w) {
		w->st = NULL;
		if (--w->refs == 0)
			free(w);
	}
	pthread_cond_broadcast(&srv->idle_cond);
	pthread_mutex_unlock(&http_suspend_lock);
	if (stopping && ++st->stop_resumes > STOP_MAX_RESUMES) {
		http_reply_error(&st->req, 503, "shutting_down", "The server is shutting down.",
		                 NULL);
		return;
	}
	fn(&st->req, timed_out);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_size, void **ctx)
{
	struct http_server *srv = cls;
	struct http_request_state *st = *ctx;
	if (!st) /* MHD always calls on_uri first; this keeps a wrong assumption from crashing */
		st = *ctx = on_uri(srv, url, conn);

	if (!st->began) {
		st->began = true;
		begin(st, method);
		log_context_set(st->req.request_id, 0);
		if (!check_headers(st))
			st->ran = true;
		log_context_set(NULL, 0);
		return st->close_now ? MHD_NO : MHD_YES;
	}
	if (*upload_size > 0) {
		if (!st->body_too_big && buf_append(&st->body, upload_data, *upload_size) != CX_OK)
			st->body_too_big = true;
		if (st->body_too_big) {
			st->body_discarded += *upload_size;
			if (st->body_discarded > DISCARD_MAX)
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->replied && !st->suspended)
		return st->close_now ? MHD_NO : MHD_YES;

	log_context_set(st->req.request_id, 0);
	if (st->suspended) {
		run_resumed(st);
	} else if (!st->ran) {
		st->ran = true;
		run_first(st);
	}
	if (!st->replied && !st->suspended) {
		log_error("handler returned without a reply", "route=%s", st->req.route);
		http_reply_error(&st->req, 500, "internal_error",
		                 "Something went wrong on our side.", NULL);
	}
	log_context_set(NULL, 0);
	return st->close_now ? MHD_NO : MHD_YES;
}

/* --- suspension --- */

static void disarm(struct http_server *srv, struct http_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		srv->armed = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

struct http_waiter *http_suspend(struct http_request *req, int64_t deadline_ms, http_resume_fn fn)
{
	struct http_request_state *st = req->state;
	struct http_server *srv = st->srv;
	struct http_waiter *w = xcalloc(1, sizeof(*w));
	w->st = st;
	w->deadline_ms = deadline_ms;
	w->refs = 2;
	/* Suspend before the waiter becomes visible to the timer, so that nobody can resume a
	 * connection that is not suspended yet. The waking side only gets w after we return. */
	MHD_suspend_connection(st->conn);
	pthread_mutex_lock(&http_suspend_lock);
	st->waiter = w;
	st->resume_fn = fn;
	st->suspended = true;
	st->timed_out = false;
	srv->suspended_requests++;
	bool now = srv->stopping;
	if (now) {
		w->fired = true;
		st->timed_out = true;
	} else {
		w->next = srv->armed;
		if (srv->armed)
			srv->armed->prev = w;
		srv->armed = w;
		pthread_cond_signal(&srv->timer_cond);
	}
	pthread_mutex_unlock(&http_suspend_lock);
	if (now)
		MHD_resume_connection(st->conn);
	return w;
}

void http_waiter_wake(struct http_waiter *w)
{
	struct MHD_Connection *conn = NULL;
	if (!w)
		return;
	pthread_mutex_lock(&http_suspend_lock);
	if (w->st && !w->fired) {
		w->fired = true;
		w->st->timed_out = false;
		disarm(w->st->srv, w);
		conn = w->st->conn;
	}
	if (--w->refs == 0)
		free(w);
	pthread_mutex_unlock(&http_suspend_lock);
	/* Outside the lock: the connection stays suspended, hence alive, until this very call. */
	if (conn)
		MHD_resume_connection(conn);
}

/* Fires every armed waiter whose deadline passed (all of them when everything is set); returns
 * their connections, which the caller resumes after unlocking. Called with the lock held. */
static struct MHD_Connection **fire_due(struct http_server *srv, bool everything, int64_t now,
                                        size_t *n_out, int64_t *next_deadline)
{
	struct MHD_Connection **conns = NULL;
	size_t n = 0, cap = 0;
	*next_deadline = INT64_MAX;
	struct http_waiter *w = srv->armed;
	while (w) {
		struct http_waiter *next = w->next;
		if (everything || w->deadline_ms <= now) {
			w->fired = true;
			w->st->timed_out = true;
			disarm(srv, w);
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				conns = xrealloc(conns, cap * sizeof(*conns));
			}
			conns[n++] = w->st->conn;
		} else if (w->deadline_ms < *next_deadline) {
			*next_deadline = w->deadline_ms;
		}
		w = next;
	}
	*n_out = n;
	return conns;
}

static void resume_all(struct MHD_Connection **conns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
	free(conns);
}

/* The deadline thread: sleeps until the nearest deadline (or a new suspension) and resumes the
 * requests whose deadline passed with timed_out set. */
static void *timer_main(void *arg)
{
	struct http_server *srv = arg;
	pthread_mutex_lock(&http_suspend_lock);
	while (!srv->timer_stop) {
		int64_t next;
		size_t n;
		struct MHD_Connection **due = fire_due(srv, false, time_now_ms(), &n, &next);
		if (n > 0) {
			pthread_mutex_unlock(&http_suspend_lock);
			resume_all(due, n);
			pthread_mutex_lock(&http_suspend_lock);
			continue;
		}
		free(due);
		if (next == INT64_MAX) {
			pthread_cond_wait(&srv->timer_cond, &http_suspend_lock);
		} else {
			struct timespec ts;
			int64_t wait_ms = next - time_now_ms();
			if (wait_ms <= 0)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += wait_ms / 1000;
			ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&srv->timer_cond, &http_suspend_lock, &ts);
		}
	}
	pthread_mutex_unlock(&http_suspend_lock);
	return NULL;
}

/* --- start and stop --- */

static void monotonic_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

static void server_free(struct http_server *srv)
{
	http_metrics_release(&srv->metrics);
	pthread_cond_destroy(&srv->timer_cond);
	pthread_cond_destroy(&srv->idle_cond);
	free(srv->static_root);
	free(srv->csp);
	free(srv);
}

static void timer_stop(struct http_server *srv)
{
	if (!srv->timer_started)
		return;
	pthread_mutex_lock(&http_suspend_lock);
	srv->timer_stop = true;
	pthread_cond_signal(&srv->timer_cond);
	pthread_mutex_unlock(&http_suspend_lock);
	pthread_join(srv->timer, NULL);
	srv->timer_started = false;
}

enum cx_err http_server_start(const struct http_server_options *opts, struct http_server **out)
{
	enum cx_err err = CX_OK;
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	const struct sockaddr *addr = NULL;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_INTERNAL_POLLING_THREAD |
	                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const char *host = opts->host ? opts->host : "127.0.0.1";

	*out = NULL;
	if (opts->port < 0 || opts->port > 65535) {
		log_error("http server not started: bad port", "port=%d", opts->port);
		err = CX_EINVAL;
		goto out;
	}
	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, host, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		in4.sin_port = htons((uint16_t)opts->port);
		addr = (const struct sockaddr *)&in4;
	} else if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons((uint16_t)opts->port);
		addr = (const struct sockaddr *)&in6;
		flags |= MHD_USE_IPv6;
	} else {
		char quoted[300];
		log_error("http server not started: host is not an IP address", "host=%s",
		          log_quote(host, quoted, sizeof(quoted)));
		err = CX_EINVAL;
		goto out;
	}

	srv->routes = opts->routes;
	srv->n_routes = opts->n_routes;
	srv->max_body = opts->max_body ? opts->max_body : (size_t)1 << 20;
	srv->access_log = opts->access_log;
	srv->before = opts->before;
	srv->app = opts->app;
	srv->csp =
	    xstrdup(opts->content_security_policy ? opts->content_security_policy : default_csp);
	if (opts->static_root) {
		char resolved[PATH_MAX];
		if (!realpath(opts->static_root, resolved)) {
			log_warn("static root not found, serving no files", "errno=%d", errno);
		} else {
			srv->static_root = xstrdup(resolved);
		}
	}
	http_metrics_init(&srv->metrics);
	monotonic_cond_init(&srv->timer_cond);
	monotonic_cond_init(&srv->idle_cond);
	if (pthread_create(&srv->timer, NULL, timer_main, srv) != 0) {
		log_error("http server not started: no timer thread", "errno=%d", errno);
		err = CX_EIO;
		goto out;
	}
	srv->timer_started = true;

	unsigned int threads = opts->threads > 1 ? (unsigned int)opts->threads : 1;
	unsigned int max_conn =
	    opts->max_connections > 0 ? (unsigned int)opts->max_connections : 1024;
	unsigned int idle = opts->idle_timeout_s > 0 ? (unsigned int)opts->idle_timeout_s : 30;
	size_t header_mem = opts->max_header_memory ? opts->max_header_memory : (size_t)64 << 10;
	srv->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
	    MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_LIMIT, max_conn,
	    MHD_OPTION_CONNECTION_TIMEOUT, idle, MHD_OPTION_CONNECTION_MEMORY_LIMIT, header_mem,
	    threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, MHD_OPTION_END);
	if (!srv->daemon) {
		log_error("http server not started: cannot listen", "port=%d", opts->port);
		err = CX_EIO;
		goto out;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : opts->port;
	*out = srv;
out:
	if (err) {
		timer_stop(srv);
		server_free(srv);
	}
	return err;
}

int http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_metrics(struct http_server *srv, struct buf *out)
{
	http_metrics_render(&srv->metrics, out);
}

/* MHD must not be stopped with suspended connections (it would abort), so every suspension is
 * ended first: the resume functions see timed_out and answer, and new suspensions end at once. */
void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	MHD_socket listen_fd = MHD_quiesce_daemon(srv->daemon);
	pthread_mutex_lock(&http_suspend_lock);
	srv->stopping = true;
	int64_t next;
	size_t n;
	struct MHD_Connection **conns = fire_due(srv, true, 0, &n, &next);
	pthread_mutex_unlock(&http_suspend_lock);
	resume_all(conns, n);

	int64_t deadline = time_now_ms() + STOP_GRACE_MS;
	pthread_mutex_lock(&http_suspend_lock);
	while (srv->suspended_requests > 0 ||
	       (srv->live_requests > 0 && time_now_ms() < deadline)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->idle_cond, &http_suspend_lock, &ts);
	}
	pthread_mutex_unlock(&http_suspend_lock);

	MHD_stop_daemon(srv->daemon);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	timer_stop(srv);
	server_free(srv);
}
