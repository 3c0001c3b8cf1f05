/* internal.h: what the files of http/ share with each other and with their unit tests; nothing
 * outside src/http and tests/unit/test_*.c for http includes it.
 *
 * Ownership and threads. A struct http_request_state lives from the moment MHD parsed a request
 * line (the URI log callback) until MHD reports the request completed; it and its arena are
 * touched only by the pool thread that owns the connection, except the suspension fields, which
 * are guarded by http_suspend_lock. struct http_server is immutable after start except the fields
 * commented as guarded. */
#ifndef CX_HTTP_INTERNAL_H
#define CX_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

/* Histogram bounds of calendox_http_request_duration_seconds (the +Inf bucket is implicit). */
#define HTTP_METRICS_BUCKETS 11
/* Label sets are bounded: routes are patterns, methods a fixed set, so these are never reached
 * by a sane route table; past them new label sets are not recorded. */
#define HTTP_METRICS_MAX_SERIES 1024
#define HTTP_METRICS_MAX_ROUTES 256

struct http_metrics_series {
	char *route;
	const char *method; /* a static string from the known set, or "OTHER" */
	int status;
	uint64_t count;
};

struct http_metrics_histogram {
	char *route;
	uint64_t buckets[HTTP_METRICS_BUCKETS]; /* non-cumulative counts per bound */
	uint64_t count;
	double sum;
};

struct http_metrics {
	pthread_mutex_t lock; /* guards everything below */
	struct http_metrics_series *series;
	size_t n_series;
	struct http_metrics_histogram *histograms;
	size_t n_histograms;
};

void http_metrics_init(struct http_metrics *m);
void http_metrics_release(struct http_metrics *m);
void http_metrics_observe(struct http_metrics *m, const char *route, const char *method, int status,
                          double seconds);
void http_metrics_render(struct http_metrics *m, struct buf *out);

/* One response header a handler added before replying (arena list, in order). */
struct http_header_line {
	const char *name;
	const char *value;
	struct http_header_line *next;
};

/* The route matcher's answer. */
enum http_match {
	HTTP_MATCH_FOUND,  /* route and params are set */
	HTTP_MATCH_METHOD, /* the path matches, the method does not: allow lists the methods */
	HTTP_MATCH_NONE,   /* no pattern matches the path */
	HTTP_MATCH_BAD,    /* the path is not a valid percent-encoded absolute path */
};

struct http_route_match {
	const struct http_route *route; /* FOUND: the route; METHOD: the first route of the path */
	const char **names;             /* FOUND: {name} of each parameter (arena) */
	const char **values;            /* FOUND: the decoded segments (arena) */
	size_t n_params;
	const char *allow; /* METHOD: "GET, HEAD, POST" (arena) */
};

/* Matches raw_path (still percent-encoded, without the query) against routes. Each segment is
 * decoded separately, so "%2F" stays inside its segment. HEAD matches GET routes. */
enum http_match http_router_match(struct arena *a, const struct http_route *routes, size_t n,
                                  const char *method, const char *raw_path,
                                  struct http_route_match *out);

struct http_waiter {
	/* All fields guarded by http_suspend_lock. */
	struct http_request_state *st; /* NULL once the request resumed or completed */
	int64_t deadline_ms;
	int refs;   /* the waking side's and the request's */
	bool fired; /* the wake or the deadline already resumed the connection */
	struct http_waiter *prev, *next; /* the server's list of armed waiters */
};

struct http_request_state {
	struct http_request req;
	struct http_server *srv;
	struct MHD_Connection *conn;
	const char *raw_path;  /* as sent, percent-encoded (arena) */
	const char *raw_query; /* after '?', or NULL (arena) */
	bool began;            /* the first access-handler call happened */
	bool ran;              /* the handler (or an early error reply) ran */
	struct buf body;
	bool body_too_big;
	size_t body_discarded; /* bytes thrown away after body_too_big */
	struct http_route_match match;
	enum http_match match_kind;
	/* The reply. */
	struct http_header_line *headers, *headers_tail;
	bool replied;
	bool dropped;   /* http_drop_response: discard the reply, close the connection */
	bool close_now; /* return MHD_NO: close without (further) answer */
	bool static_file;
	int status;
	size_t response_bytes;
	/* Suspension: waiter, suspended and timed_out are guarded by http_suspend_lock. */
	struct http_waiter *waiter;
	http_resume_fn resume_fn;
	bool suspended;
	bool timed_out;
	int stop_resumes; /* resumes forced by http_server_stop, bounded */
	http_complete_fn on_complete; /* http_on_complete, run by on_completed */
	void *on_complete_arg;
};

struct http_server {
	struct MHD_Daemon *daemon;
	const struct http_route *routes;
	size_t n_routes;
	char *static_root; /* realpath of opts->static_root, or NULL */
	char *csp;         /* the Content-Security-Policy for every response */
	size_t max_body;
	bool access_log;
	http_handler_fn before;
	void *app;
	int port;
	struct http_metrics metrics;
	/* Guarded by http_suspend_lock. */
	struct http_waiter *armed; /* waiters whose deadline the timer watches */
	bool stopping;             /* http_server_stop began: suspensions end at once */
	bool timer_stop;
	size_t live_requests;      /* request states alive */
	size_t suspended_requests; /* suspended and not yet run again */
	pthread_cond_t timer_cond; /* the timer sleeps on it until the nearest deadline */
	pthread_cond_t idle_cond;  /* signalled when live or suspended requests drop */
	pthread_t timer;
	bool timer_started;
};

/* The one lock of the suspension machinery, shared by every server of the process so that a
 * waiter can be woken (as a no-op) even after its server is gone. */
extern pthread_mutex_t http_suspend_lock;

/* response.c: adds the standard headers to r, queues it with status and takes r. bytes is the
 * body size for the access log. cache_control NULL means "no-store" unless the handler set one. */
void http_queue_response(struct http_request_state *st, int status, struct MHD_Response *r,
                         size_t bytes, const char *cache_control);
/* An error reply that also closes the connection (framing guard, 413 before the body). */
void http_reply_error_close(struct http_request *req, int status, const char *code,
                            const char *message);
bool http_has_header(const struct http_request_state *st, const char *name);

/* static.c: serves req->path from srv->static_root. false if there is no such file (nothing
 * replied). */
bool http_static_serve(struct http_request_state *st);

/* url.c: the decoded value of name in a k=v&k=v string ('+' is a space); NULL if absent. */
const char *http_form_lookup(struct arena *a, const char *s, size_t len, const char *name);

#endif
