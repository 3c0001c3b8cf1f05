/* http.h: the HTTP server Calendox and the sandbox stand on, on libmicrohttpd (epoll, a thread pool,
 * suspend/resume). Nothing above http/ includes microhttpd.h.
 *
 * Ownership and threads. A request is handled on an MHD pool thread. Its struct http_request and
 * everything in req->arena live until the response has been sent (or the client went away), then
 * are freed at once. A handler either replies (http_reply*) exactly once, or suspends with
 * http_suspend() and returns; the suspension is resumed by another thread through the waiter, or by
 * its deadline, and its resume function then runs on a pool thread and must reply or suspend again.
 * The server adds security headers, X-Request-Id, the access log line and the metrics for every
 * request, and enforces the framing guard and the limits of DESIGN §5. */
#ifndef CX_HTTP_HTTP_H
#define CX_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"

struct http_server;
struct http_request_state; /* private to http/ */

struct http_request {
	struct arena *arena;   /* freed when the request completes */
	const char *method;    /* "GET" … */
	const char *path;      /* decoded path without the query string */
	const char *route;     /* matched route pattern ("/api/events/{id}"), "static" or "none" */
	const char *request_id;/* the client's X-Request-Id when sane, else a random one */
	const char *body;      /* NUL-terminated copy of the body (NULL when empty) */
	size_t body_len;
	int64_t started_ms;    /* time_now_ms() at arrival */
	void *app;             /* http_server_options.app */
	void *user;            /* free for the handler; survives a suspension */
	struct http_request_state *state;
};

typedef void (*http_handler_fn)(struct http_request *req);

struct http_route {
	const char *method;  /* "GET", "POST", "PATCH", "DELETE", "PUT" */
	const char *pattern; /* "/api/events/{id}": {name} matches one non-empty segment */
	http_handler_fn handler;
};

struct http_server_options {
	const char *host;           /* "127.0.0.1" */
	int port;                   /* 0 picks a free port: see http_server_port() */
	int threads;                /* MHD pool size */
	int max_connections;
	int idle_timeout_s;         /* 30 */
	size_t max_body;            /* 1 MiB; larger bodies get 413 */
	size_t max_header_memory;   /* 64 KiB */
	const struct http_route *routes;
	size_t n_routes;
	/* Directory served for GET/HEAD requests that match no route (NULL: none). A path without a
	 * file extension that is not found serves index.html (the web app's client-side routes).
	 * Paths under /api/ never fall through to static files. */
	const char *static_root;
	/* Extra Content-Security-Policy for HTML (NULL: the strict default). */
	const char *content_security_policy;
	bool access_log;
	/* Called for every request before routing (may be NULL). If it replies, suspends or aborts, the
	 * route is not run; a resume function it set may continue with http_dispatch(). */
	http_handler_fn before;
	void *app;
};

/* Starts listening and serving. Caller stops with http_server_stop(). */
enum cx_err http_server_start(const struct http_server_options *opts, struct http_server **out);
int http_server_port(const struct http_server *srv);
/* Stops accepting, waits for in-flight handlers, resumes and fails suspended requests, frees srv. */
void http_server_stop(struct http_server *srv);

/* Prometheus text: calendox_http_requests_total{route,method,status} and
 * calendox_http_request_duration_seconds histogram by route. Appends to out. */
void http_server_metrics(struct http_server *srv, struct buf *out);

/* --- reading the request (all results live in req->arena or the request; NULL when absent) --- */
const char *http_header(struct http_request *req, const char *name); /* case-insensitive */
const char *http_query(struct http_request *req, const char *name);  /* decoded */
/* The raw query string after '?' (still percent-encoded), "" when there is none. */
const char *http_query_string(struct http_request *req);
const char *http_cookie(struct http_request *req, const char *name);
const char *http_param(struct http_request *req, const char *name);  /* route {name} */
const char *http_client_ip(struct http_request *req);
/* Decodes the body as strict JSON (base/json.h); on failure replies 400 invalid_request itself
 * (or 415 when Content-Type is not application/json) and returns NULL. Caller json_decref()s. */
json_t *http_body_json(struct http_request *req);
/* Parses an application/x-www-form-urlencoded body (or any k=v&… string) field; NULL if absent. */
const char *http_form(struct http_request *req, const char *name);

/* --- replying: exactly one of these per request (or a suspension) --- */
/* Adds a response header to the reply that follows (any number, before the reply). */
void http_add_header(struct http_request *req, const char *name, const char *value);
/* Set-Cookie with Path=/, HttpOnly, SameSite=Lax, Secure when secure; max_age_s < 0 deletes. */
void http_set_cookie(struct http_request *req, const char *name, const char *value,
		     long max_age_s, bool secure);
/* body is copied. */
void http_reply(struct http_request *req, int status, const char *content_type, const void *body,
		size_t len);
void http_reply_json(struct http_request *req, int status, json_t *body_take);
/* {"error":{"code","message","hint"?}} (DESIGN §5). hint may be NULL. */
void http_reply_error(struct http_request *req, int status, const char *code, const char *message,
		      const char *hint);
void http_reply_empty(struct http_request *req, int status); /* 204 and friends */
void http_reply_redirect(struct http_request *req, int status, const char *location);
bool http_replied(const struct http_request *req);
/* Runs the route (or static file, or 404/405) for req; for a before hook's resume function. */
void http_dispatch(struct http_request *req);
/* Closes the connection without any answer (the sandbox's "reset" fault). */
void http_abort(struct http_request *req);
/* Marks the request so that the reply its handler makes is discarded and the connection closed
 * instead (the sandbox's "do the work, drop the response" fault). Call before the reply. */
void http_drop_response(struct http_request *req);

/* The status for an error a handler got from below: EINVAL 400, ENOTFOUND 404, ECONFLICT 409,
 * EAUTH 401, EFORBIDDEN 403, ETOOBIG 413, ETIMEOUT 504, EUPSTREAM 502, EBUSY 503, others 500. */
int http_status_for(enum cx_err err);

/* --- suspension (DESIGN §1): a handler waits for another thread without blocking its own --- */
struct http_waiter;
/* Runs on a pool thread after a wake or the deadline; timed_out says which. Must reply or suspend. */
typedef void (*http_resume_fn)(struct http_request *req, bool timed_out);
/* Suspends the request until http_waiter_wake() or deadline_ms (time_now_ms() clock). Returns a
 * waiter for the waking side, which must call http_waiter_wake() exactly once (it is safe after the
 * deadline passed or the client left: the wake is then a no-op that frees the waiter). */
struct http_waiter *http_suspend(struct http_request *req, int64_t deadline_ms, http_resume_fn fn);
void http_waiter_wake(struct http_waiter *w);
/* Runs fn(req, arg) once when the request ends for any reason — answered, aborted, or the client
 * gone while suspended (when no resume function will run) — just before req and its arena are freed.
 * Handlers that share state with another thread (req->user) release their part here. One per
 * request; a second call replaces the first. */
typedef void (*http_complete_fn)(struct http_request *req, void *arg);
void http_on_complete(struct http_request *req, http_complete_fn fn, void *arg);

/* Percent-decoding and form/query helpers shared with the sandbox and egress. */
/* Decodes %XX and, when plus_is_space, '+' into a new arena string; NULL on a bad escape. */
char *http_url_decode(struct arena *a, const char *s, size_t len, bool plus_is_space);
/* Encodes for a query value (RFC 3986 unreserved kept). Appends to out. */
enum cx_err http_url_encode(struct buf *out, const char *s);

/* Cookie header parsing, exposed for tests and the fuzzer: finds name in a Cookie header value.
 * Returns an arena copy of the value or NULL. Malformed pairs are skipped. */
const char *http_cookie_parse(struct arena *a, const char *header, const char *name);

#endif
