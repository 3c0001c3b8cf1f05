/* sb.h: what the sandbox's emulators share: the one state lock, the sandbox clock, the seeded random
 * source, the request log, fault rules, injected latency, outbound deliveries (webhooks, push
 * notifications) and the sign-in/consent page common to the three authorize endpoints.
 *
 * Threads. Requests run on the HTTP server's pool threads. All emulator state (struct sb and each
 * provider's state) is guarded by sb->lock: a handler takes it with sb_lock(), reads and changes what
 * it needs, builds its answer, and releases it before replying. Never reply, deliver or sleep while
 * holding it. Deliveries go through sb_deliver(), which copies everything it is given. */
#ifndef CX_SANDBOX_SB_H
#define CX_SANDBOX_SB_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "egress/egress.h"
#include "http/http.h"

struct sb_zoom;
struct sb_google;
struct sb_microsoft;

struct sb {
	pthread_mutex_t lock;        /* guards every field below and the provider states */
	int64_t clock_offset_s;      /* added to the wall clock by POST /_sandbox/clock */
	uint64_t rng;                /* xorshift state, seeded by --seed */
	char *base_url;              /* "http://127.0.0.1:PORT", no trailing slash */
	char *zoom_webhook_url;      /* --zoom-webhook-url, may be NULL */
	struct egress *egress;       /* outbound deliveries */
	struct sb_faults *faults;    /* private to core.c */
	struct sb_request_log *log;  /* private to core.c */
	int latency_ms;              /* POST /_sandbox/latency: added before every provider answer */
	struct sb_zoom *zoom;
	struct sb_google *google;
	struct sb_microsoft *microsoft;
	/* Added by the sandbox core (compatible extension): */
	uint64_t seed;                     /* --seed, to re-seed rng on POST /_sandbox/reset */
	struct sb_deliveries *deliveries;  /* private to deliver.c */
};

/* The sandbox of this process (one per process; set before the server starts). */
struct sb *sb_get(void);
void sb_lock(struct sb *sb);
void sb_unlock(struct sb *sb);

/* Sandbox time: wall clock plus the offset. Callers hold the lock or not; it is read atomically. */
int64_t sb_now_s(struct sb *sb);
int64_t sb_now_ms(struct sb *sb);
/* Seeded random (caller holds the lock). */
uint64_t sb_random(struct sb *sb);
/* A random string of n characters from alphabet (caller holds the lock); arena memory. */
char *sb_random_string(struct sb *sb, struct arena *a, const char *alphabet, size_t n);

/* Sends an HTTP request from the sandbox (a webhook or push notification) in the background;
 * every argument is copied. headers: NULL-terminated "Name: value" lines. Delivery results are
 * recorded in the state under "deliveries". retry_delays_s: Zoom-style retries after a failure
 * (measured on the sandbox clock, so /_sandbox/clock can compress them); NULL for none. */
void sb_deliver(struct sb *sb, const char *method, const char *url, const char *const *headers,
		const char *body, const int *retry_delays_s, int n_retries);

/* What an answer to a delivery attempt means (see sb_delivery_options.verdict). */
enum sb_delivery_verdict {
	SB_DELIVERED, /* done */
	SB_RETRY,     /* failed: try again per retry_delays_s, if any are left */
	SB_REJECTED,  /* failed for good: no more attempts */
};

/* Like sb_deliver with more control, for Zoom's signed webhooks and URL validation. */
struct sb_delivery_options {
	const int *retry_delays_s;  /* delays after each failed attempt, sandbox clock; may be NULL */
	int n_retries;
	long timeout_ms;            /* connect and total; 0 means 5,000 */
	/* Runs on the delivery thread before every attempt, without the lock, to add headers that
	 * depend on the moment of sending (a timestamp and a signature over body). May be NULL. */
	void (*sign)(struct egress_request *r, const char *body);
	/* Judges an answer (NULL: 2xx delivered, anything else retried); runs on the egress thread
	 * without the lock. status is 0 when no answer came (connection failed, timeout). */
	enum sb_delivery_verdict (*verdict)(long status, const char *request_body,
					    const char *response_body);
	/* Runs once with the final outcome, with the lock held, on the egress or delivery thread;
	 * may be NULL. url is the delivery's target. */
	void (*finished)(struct sb *sb, const char *url, bool delivered);
};
void sb_deliver_with(struct sb *sb, const char *method, const char *url,
		     const char *const *headers, const char *body,
		     const struct sb_delivery_options *opts);

/* --- provider emulators: each file provides these --- */
struct sb_provider {
	const char *name;            /* "zoom", "google", "microsoft" */
	const struct http_route *routes;
	size_t n_routes;
	/* Creates the state with its seeded accounts (caller holds no lock). */
	void (*init)(struct sb *sb);
	/* Drops every grant, meeting, event… and re-seeds (caller holds the lock). */
	void (*reset)(struct sb *sb);
	/* The provider's part of GET /_sandbox/state (caller holds the lock); new reference. */
	json_t *(*state)(struct sb *sb);
	/* Frees the state at shutdown, when no other sandbox thread runs (caller holds no lock). */
	void (*free)(struct sb *sb);
};

extern const struct sb_provider sb_zoom_provider;
extern const struct sb_provider sb_google_provider;
extern const struct sb_provider sb_microsoft_provider;

/* --- the sign-in and consent page shared by the three authorize endpoints (DESIGN §7) --- */
struct sb_scope_text {
	const char *scope;
	const char *description;
};

/* Answers the authorize GET: a page to choose one of the seeded accounts (emails), the requested
 * scopes with their descriptions (unknown scopes are listed with their raw name), Allow and Deny
 * buttons posting to decision_path with every original query parameter as hidden fields plus
 * user=EMAIL and decision=allow|deny. Title says which provider asks. */
void sb_authorize_page(struct http_request *req, const char *provider_title,
		       const char *const *emails, size_t n_emails, const char *requested_scopes,
		       const struct sb_scope_text *texts, size_t n_texts, const char *decision_path);

/* A redirect URI is registered when it is http on a loopback host (127.0.0.1, localhost, [::1], any
 * port) with exactly the path /oauth/{provider}/callback. */
bool sb_redirect_uri_ok(const char *redirect_uri, const char *provider);

/* PKCE: verifier matches challenge under method "S256" or "plain" (NULL/empty method = plain). */
bool sb_pkce_ok(const char *challenge, const char *method, const char *verifier);

/* HTTP Basic credentials of the request; arena strings; false when absent or malformed. */
bool sb_basic_auth(struct http_request *req, const char **user, const char **password);
/* "Bearer X" → X (arena string) or NULL. */
const char *sb_bearer(struct http_request *req);

/* --- the raw query string of a request (for the request log and the authorize page) --- */
/* The undecoded query string after '?' (arena memory), "" when there is none. */
const char *sb_request_query(struct http_request *req);

/* --- running a sandbox inside another program (tests) --- */
struct sandbox_options {
	const char *host;             /* NULL: "127.0.0.1" */
	int port;                     /* 0 picks a free port */
	uint64_t seed;
	const char *zoom_webhook_url; /* may be NULL */
	int threads;                  /* HTTP pool threads; 0 means 4 */
};

/* Starts the sandbox of this process (the one sb_get() returns) and its threads; its base URL is
 * sb->base_url. Only one may run at a time. Caller stops with sandbox_stop(). */
enum cx_err sandbox_start(const struct sandbox_options *opts, struct sb **out);
/* Stops serving, ends every thread, frees every state; sb_get() is NULL afterwards. */
void sandbox_stop(struct sb *sb);

/* Delivery bookkeeping used by core.c (caller holds the lock unless said otherwise). */
void sb_deliveries_start(struct sb *sb);     /* no lock; starts the delivery thread */
void sb_deliveries_stop(struct sb *sb);      /* no lock; joins it and frees everything */
void sb_deliveries_reset(struct sb *sb);     /* drops pending retries and the record */
json_t *sb_deliveries_state(struct sb *sb);  /* the "deliveries" array; new reference */

/* --- helpers shared by the Google and Microsoft emulators (sb_util.c; compatible addition) --- */
/* Lower-case hex of s (arena memory); what page, sync and delta tokens are made of. */
char *sb_hex_encode(struct arena *a, const char *s);
/* The inverse of sb_hex_encode (arena memory); NULL on anything that is not lower-case hex of at
 * most 2,048 printable bytes. */
char *sb_hex_decode(struct arena *a, const char *s);
/* s percent-encoded for a URL (arena memory); "" when it does not fit in 16 KiB. */
char *sb_url_encode(struct arena *a, const char *s);
/* uri with the pairs of kv (NULL-terminated name, value, name, value…; a NULL value is skipped)
 * appended as encoded query parameters (arena memory). */
char *sb_redirect_with(struct arena *a, const char *uri, const char *const *kv);
/* The JSON object body of a /_sandbox control request: an empty object when there is no body;
 * NULL with *error set to the 400 answer's body (new reference) when it is not an object. Caller
 * decrefs the result. */
json_t *sb_control_body(struct http_request *req, json_t **error);

#endif
