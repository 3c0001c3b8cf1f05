/* egress.h: every outbound HTTP request Calendox makes goes through one thread that owns one
 * libcurl multi handle (DESIGN §1).
 *
 * Ownership and threads. A caller builds a struct egress_request, hands it over whole with
 * egress_submit() (the egress thread owns it from then on and frees it), and later gets a
 * struct egress_response through its callback, on the egress thread. The callback owns the response
 * (egress_response_free) and must be quick: hand the result to another thread, never block, never
 * call egress_call(). egress_call() is the blocking form for threads that may wait (the CLI,
 * tests); job workers and HTTP handlers use egress_submit(). Every request has a connect and a
 * total timeout and a bounded response size. The queue is bounded: a full queue fails the request
 * with CX_EBUSY at once (the callback still runs, on the submitting thread). */
#ifndef CX_EGRESS_EGRESS_H
#define CX_EGRESS_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define EGRESS_MAX_HEADERS 32

struct egress;
struct egress_response;

typedef void (*egress_done_fn)(struct egress_response *resp_take, void *arg);

struct egress_request {
	char *method;                      /* owned; "GET", "POST", … */
	char *url;                         /* owned */
	char *headers[EGRESS_MAX_HEADERS]; /* owned "Name: value" lines */
	size_t n_headers;
	char *body; /* owned, may be NULL */
	size_t body_len;
	long connect_timeout_ms; /* default 5,000 when 0 */
	long timeout_ms;         /* total; default 30,000 when 0 */
	size_t max_response;     /* body bytes; default 4 MiB when 0 */
	egress_done_fn done;
	void *arg;
	/* Set by egress_request_header/_body when a header was refused (CR/LF in it, more than
	 * EGRESS_MAX_HEADERS): the request then fails with CX_EINVAL and sent=false. */
	bool refused;
	/* A request that must never reach the server twice (Zoom's meeting create is not idempotent).
	 * libcurl silently resends a request when a reused keep-alive connection dies before any
	 * answer — even after the server acted on it — so such a request gets a fresh connection of
	 * its own and is never retried by libcurl. */
	bool single_attempt;
};

struct egress_response {
	enum cx_err err; /* CX_OK when an HTTP answer arrived (any status); CX_ETIMEOUT, CX_EIO
	                  * (connect failed, reset), CX_ETOOBIG (response too large), CX_EBUSY,
	                  * CX_EINVAL (refused header, bad method, malformed or non-http(s) URL:
	                  * nothing was sent) */
	bool sent;       /* false when it is certain the request never reached the server
	                  * (connection refused, DNS failure): safe to retry non-idempotent calls */
	long status;     /* HTTP status, 0 when err != CX_OK */
	char *body;      /* NUL-terminated, never NULL */
	size_t body_len;
	char *headers[EGRESS_MAX_HEADERS]; /* "name: value" with lower-cased names */
	size_t n_headers;
	char error[256]; /* curl's message when err != CX_OK */
	int64_t elapsed_ms;
};

/* Caller frees with egress_request_free() unless handed to egress_submit(). */
struct egress_request *egress_request_new(const char *method, const char *url);
/* Adds "name: value". A name or value with CR, LF or NUL, a name with ':' or beyond
 * EGRESS_MAX_HEADERS sets r->refused instead (the request then fails with CX_EINVAL). */
void egress_request_header(struct egress_request *r, const char *name, const char *value);
/* Copies body; adds Content-Type. */
void egress_request_body(struct egress_request *r, const char *content_type, const char *body,
                         size_t len);
void egress_request_free(struct egress_request *r);

/* Starts the thread. max_in_flight bounds concurrent transfers; queue_max bounds waiting ones. */
enum cx_err egress_start(int max_in_flight, size_t queue_max, struct egress **out);
/* Cancels what is queued or in flight (their callbacks run with CX_EIO), joins, frees. */
void egress_stop(struct egress *e);

void egress_submit(struct egress *e, struct egress_request *req_take);
/* Blocking: submits and waits for the response. Returns the response's err (CX_OK when an HTTP
 * answer arrived, whatever its status). *out is set in every case, also on error, so the caller can
 * read error[] and sent; caller frees it with egress_response_free. req_take->done and ->arg are
 * replaced. */
enum cx_err egress_call(struct egress *e, struct egress_request *req_take,
                        struct egress_response **out);

/* Counters of finished requests by outcome, and the current load; for /metrics and tests. */
struct egress_stats {
	uint64_t ok;        /* an HTTP answer arrived (any status) */
	uint64_t timeout;   /* CX_ETIMEOUT */
	uint64_t io;        /* CX_EIO from the transport (refused, reset, empty reply, …) */
	uint64_t too_big;   /* CX_ETOOBIG */
	uint64_t busy;      /* CX_EBUSY: the queue was full */
	uint64_t cancelled; /* CX_EIO because egress_stop() ran first */
	uint64_t invalid;   /* CX_EINVAL: a refused header, a bad method, a URL curl refuses */
	size_t queued;      /* waiting for a transfer slot now */
	size_t in_flight;   /* transfers running now */
};
/* Thread-safe snapshot. */
void egress_stats(struct egress *e, struct egress_stats *out);
/* Prometheus text: calendox_egress_requests_total{outcome} and the gauges
 * calendox_egress_queued and calendox_egress_in_flight. Appends to out; CX_ETOOBIG when out is
 * full (what fitted stays). */
enum cx_err egress_metrics(struct egress *e, struct buf *out);

/* Case-insensitive header lookup; NULL when absent. */
const char *egress_response_header(const struct egress_response *resp, const char *name);
void egress_response_free(struct egress_response *resp);

#endif
