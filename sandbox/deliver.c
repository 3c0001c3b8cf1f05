/* deliver.c: the sandbox's outbound requests (Zoom webhooks, Google and Microsoft push
 * notifications).
 *
 * A delivery is copied into a pending list under sb->lock. A small delivery thread looks at the
 * list every 50 ms and submits what is due to egress; the egress callback records the attempt in
 * the "deliveries" state and, after a failure, schedules the next attempt on the sandbox clock, so
 * that POST /_sandbox/clock can make an hour of retry schedule pass at once. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "sb.h"
#include "base/banned.h"

#define DELIVERY_RETRIES_MAX 8
#define DELIVERY_PENDING_MAX 1000
#define DELIVERY_RECORD_MAX 1000
#define DELIVERY_BATCH_MAX 64
#define DELIVERY_TICK_MS 50

struct delivery {
	uint64_t id;
	char *method;
	char *url;
	char *body;  /* may be NULL */
	char *event; /* the body's "event" field, may be NULL */
	char *headers[EGRESS_MAX_HEADERS];
	size_t n_headers;
	int retry_delays_s[DELIVERY_RETRIES_MAX];
	int n_retries;
	struct sb_delivery_options opts; /* retry_delays_s points at our own copy */
	int attempts;                    /* made so far */
	int64_t due_ms;                  /* sandbox clock */
	bool in_flight;
	struct delivery *next;
};

struct sb_deliveries {
	struct delivery *pending; /* in submission order */
	size_t n_pending;
	json_t *record; /* array of attempts, oldest first */
	uint64_t next_id;
	uint64_t generation; /* bumped by a reset: answers to older deliveries are ignored */
	pthread_cond_t wake; /* used with sb->lock */
	pthread_t thread;
	bool stopping;
};

/* What an egress callback needs; owned by the callback. */
struct attempt {
	struct sb *sb;
	uint64_t id;
	uint64_t generation;
	enum sb_delivery_verdict (*verdict)(long status, const char *request_body,
	                                    const char *response_body);
	char *body;
};

static void delivery_free(struct delivery *d)
{
	free(d->method);
	free(d->url);
	free(d->body);
	free(d->event);
	for (size_t i = 0; i < d->n_headers; i++)
		free(d->headers[i]);
	free(d);
}

static void unlink_delivery(struct sb_deliveries *ds, struct delivery *d)
{
	for (struct delivery **p = &ds->pending; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			ds->n_pending--;
			return;
		}
	}
}

static struct delivery *find_delivery(struct sb_deliveries *ds, uint64_t id)
{
	for (struct delivery *d = ds->pending; d; d = d->next)
		if (d->id == id)
			return d;
	return NULL;
}

/* Caller holds the lock. */
static void record_attempt(struct sb *sb, const char *url, const char *event, int attempt,
                           long status, const char *error, bool delivered)
{
	struct sb_deliveries *ds = sb->deliveries;
	char at[32];

	time_format_rfc3339_ms(sb_now_ms(sb), at, sizeof(at));
	json_t *entry = json_pack("{s:s, s:o, s:i, s:I, s:b, s:s}", "url", url, "event",
	                          event ? json_string(event) : json_null(), "attempt", attempt,
	                          "status", (json_int_t)status, "delivered", delivered, "at", at);
	if (error)
		json_object_set_new(entry, "error", json_string(error));
	if (json_array_size(ds->record) >= DELIVERY_RECORD_MAX)
		json_array_remove(ds->record, 0);
	json_array_append_new(ds->record, entry);
}

static void attempt_done(struct egress_response *resp, void *arg)
{
	struct attempt *at = arg;
	struct sb *sb = at->sb;
	long status = resp->err == CX_OK ? resp->status : 0;
	enum sb_delivery_verdict verdict = status >= 200 && status < 300 ? SB_DELIVERED : SB_RETRY;

	if (at->verdict)
		verdict = at->verdict(status, at->body, resp->err == CX_OK ? resp->body : "");
	bool delivered = verdict == SB_DELIVERED;

	sb_lock(sb);
	struct sb_deliveries *ds = sb->deliveries;
	struct delivery *d = NULL;
	if (ds && ds->generation == at->generation)
		d = find_delivery(ds, at->id);
	if (!d)
		goto unlock;
	d->attempts++;
	record_attempt(sb, d->url, d->event, d->attempts, resp->err == CX_OK ? resp->status : 0,
	               resp->err == CX_OK ? NULL : cx_strerror(resp->err), delivered);
	if (verdict != SB_RETRY || d->attempts > d->n_retries) {
		if (!delivered)
			log_info("sandbox delivery dropped", "event=%s attempts=%d",
			         d->event ? d->event : "-", d->attempts);
		if (d->opts.finished)
			d->opts.finished(sb, d->url, delivered);
		unlink_delivery(ds, d);
		delivery_free(d);
		goto unlock;
	}
	d->due_ms = sb_now_ms(sb) + (int64_t)d->retry_delays_s[d->attempts - 1] * 1000;
	d->in_flight = false;
unlock:
	sb_unlock(sb);
	free(at->body);
	free(at);
	egress_response_free(resp);
}

/* Caller holds the lock: copies a due delivery into an egress request and its callback context. */
static struct egress_request *build_request(struct sb *sb, struct delivery *d)
{
	struct egress_request *r = egress_request_new(d->method, d->url);
	struct attempt *at = xcalloc(1, sizeof(*at));

	for (size_t i = 0; i < d->n_headers && r->n_headers < EGRESS_MAX_HEADERS; i++)
		r->headers[r->n_headers++] = xstrdup(d->headers[i]);
	if (d->body) {
		r->body = xstrdup(d->body);
		r->body_len = strlen(d->body);
	}
	long timeout = d->opts.timeout_ms > 0 ? d->opts.timeout_ms : 5000;
	r->connect_timeout_ms = timeout;
	r->timeout_ms = timeout;
	r->max_response = 64 * 1024;
	at->sb = sb;
	at->id = d->id;
	at->generation = sb->deliveries->generation;
	at->verdict = d->opts.verdict;
	at->body = d->body ? xstrdup(d->body) : NULL;
	r->done = attempt_done;
	r->arg = at;
	return r;
}

static void *delivery_thread(void *arg)
{
	struct sb *sb = arg;
	struct egress_request *batch[DELIVERY_BATCH_MAX];
	void (*sign[DELIVERY_BATCH_MAX])(struct egress_request * r, const char *body);

	sb_lock(sb);
	while (!sb->deliveries->stopping) {
		size_t n = 0;
		int64_t now = sb_now_ms(sb);
		for (struct delivery *d = sb->deliveries->pending; d && n < DELIVERY_BATCH_MAX;
		     d = d->next) {
			if (d->in_flight || d->due_ms > now)
				continue;
			d->in_flight = true;
			sign[n] = d->opts.sign;
			batch[n++] = build_request(sb, d);
		}
		sb_unlock(sb);
		for (size_t i = 0; i < n; i++) {
			if (sign[i])
				sign[i](batch[i], batch[i]->body ? batch[i]->body : "");
			egress_submit(sb->egress, batch[i]);
		}
		sb_lock(sb);
		if (sb->deliveries->stopping)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += DELIVERY_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		int rc = pthread_cond_timedwait(&sb->deliveries->wake, &sb->lock, &until);
		(void)rc;
	}
	sb_unlock(sb);
	return NULL;
}

void sb_deliveries_start(struct sb *sb)
{
	struct sb_deliveries *ds = xcalloc(1, sizeof(*ds));

	ds->record = json_array();
	ds->next_id = 1;
	pthread_cond_init(&ds->wake, NULL);
	sb_lock(sb);
	sb->deliveries = ds;
	sb_unlock(sb);
	if (pthread_create(&ds->thread, NULL, delivery_thread, sb) != 0) {
		log_error("sandbox delivery thread failed to start", "errno=%d", errno);
		abort();
	}
}

void sb_deliveries_stop(struct sb *sb)
{
	struct sb_deliveries *ds = sb->deliveries;

	if (!ds)
		return;
	sb_lock(sb);
	ds->stopping = true;
	pthread_cond_signal(&ds->wake);
	sb_unlock(sb);
	pthread_join(ds->thread, NULL);

	sb_lock(sb);
	sb->deliveries = NULL;
	sb_unlock(sb);
	while (ds->pending) {
		struct delivery *d = ds->pending;
		ds->pending = d->next;
		delivery_free(d);
	}
	json_decref(ds->record);
	pthread_cond_destroy(&ds->wake);
	free(ds);
}

void sb_deliveries_reset(struct sb *sb)
{
	struct sb_deliveries *ds = sb->deliveries;

	if (!ds)
		return;
	ds->generation++;
	while (ds->pending) {
		struct delivery *d = ds->pending;
		ds->pending = d->next;
		delivery_free(d);
	}
	ds->n_pending = 0;
	json_array_clear(ds->record);
}

json_t *sb_deliveries_state(struct sb *sb)
{
	if (!sb->deliveries)
		return json_array();
	return json_deep_copy(sb->deliveries->record);
}

static char *event_of(const char *body)
{
	json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
	const char *ev = json_is_object(doc) ? json_get_str(doc, "event") : NULL;
	char *out = ev ? xstrdup(ev) : NULL;

	json_decref(doc);
	return out;
}

void sb_deliver_with(struct sb *sb, const char *method, const char *url, const char *const *headers,
                     const char *body, const struct sb_delivery_options *opts)
{
	struct delivery *d = xcalloc(1, sizeof(*d));

	d->method = xstrdup(method);
	d->url = xstrdup(url);
	d->body = body ? xstrdup(body) : NULL;
	d->event = event_of(body);
	for (size_t i = 0; headers && headers[i] && d->n_headers < EGRESS_MAX_HEADERS; i++)
		d->headers[d->n_headers++] = xstrdup(headers[i]);
	if (opts)
		d->opts = *opts;
	d->n_retries = d->opts.n_retries < 0 ? 0 : d->opts.n_retries;
	if (d->n_retries > DELIVERY_RETRIES_MAX)
		d->n_retries = DELIVERY_RETRIES_MAX;
	if (!d->opts.retry_delays_s)
		d->n_retries = 0;
	for (int i = 0; i < d->n_retries; i++)
		d->retry_delays_s[i] = d->opts.retry_delays_s[i];
	d->opts.retry_delays_s = d->retry_delays_s;
	d->opts.n_retries = d->n_retries;

	sb_lock(sb);
	struct sb_deliveries *ds = sb->deliveries;
	if (!ds || ds->n_pending >= DELIVERY_PENDING_MAX) {
		if (ds)
			record_attempt(sb, d->url, d->event, 0, 0, "too many pending deliveries",
			               false);
		sb_unlock(sb);
		delivery_free(d);
		return;
	}
	d->id = ds->next_id++;
	d->due_ms = sb_now_ms(sb);
	struct delivery **tail = &ds->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = d;
	ds->n_pending++;
	pthread_cond_signal(&ds->wake);
	sb_unlock(sb);
}

void sb_deliver(struct sb *sb, const char *method, const char *url, const char *const *headers,
                const char *body, const int *retry_delays_s, int n_retries)
{
	struct sb_delivery_options opts = {
	    .retry_delays_s = retry_delays_s,
	    .n_retries = n_retries,
	};

	sb_deliver_with(sb, method, url, headers, body, &opts);
}
