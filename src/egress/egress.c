/* egress.c: the egress thread. One libcurl multi handle performs every outbound request; other
 * threads hand requests over through a bounded, mutex-protected queue and wake the thread with
 * curl_multi_wakeup(). The multi handle keeps the connection cache, so keep-alive works across
 * requests to the same host. */
#include "egress/egress.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/time.h"
#include "base/banned.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_RESPONSE ((size_t)4 << 20)
/* The longest the thread sleeps in curl_multi_poll(); curl shortens it for its own timers and a
 * submission or egress_stop() interrupts it with curl_multi_wakeup(). */
#define POLL_MS 1000
/* A response header line longer than this is not kept (the ones Calendox reads are short). */
#define MAX_HEADER_LINE (16 * 1024)

/* One request from submission to its callback. While queued it is on egress.queue (guarded by
 * egress.lock); once taken by the thread it is on the in-flight list, which only that thread
 * touches. */
struct transfer {
	struct egress_request *req;   /* owned */
	struct egress_response *resp; /* owned until handed to req->done */
	struct transfer *next;
	struct transfer *prev; /* in-flight list only */
	CURL *easy;
	struct curl_slist *header_list;
	struct buf body; /* max = the request's max_response */
	bool too_big;    /* the write callback refused data */
	bool holds_slot; /* taken from the queue: counted in egress.in_flight */
	int64_t submitted_ms;
};

enum outcome {
	OUTCOME_OK,
	OUTCOME_TIMEOUT,
	OUTCOME_IO,
	OUTCOME_TOO_BIG,
	OUTCOME_BUSY,
	OUTCOME_CANCELLED,
	OUTCOME_INVALID,
};

struct egress {
	pthread_t thread;
	/* Used by the egress thread only, except curl_multi_wakeup() from any thread under lock. */
	CURLM *multi;
	int max_in_flight; /* read-only after start */
	size_t queue_max;  /* read-only after start */

	pthread_mutex_t lock; /* guards everything below it */
	struct transfer *queue_head;
	struct transfer *queue_tail;
	size_t queued;
	size_t in_flight;
	bool stopping; /* set once by egress_stop(); submissions fail from then on */
	struct egress_stats stats;

	struct transfer *running; /* in-flight list: egress thread only */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- requests and responses --- */

struct egress_request *egress_request_new(const char *method, const char *url)
{
	struct egress_request *r = xcalloc(1, sizeof(*r));
	r->method = xstrdup(method);
	r->url = xstrdup(url);
	return r;
}

static bool has_line_break(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

void egress_request_header(struct egress_request *r, const char *name, const char *value)
{
	if (r->n_headers >= EGRESS_MAX_HEADERS || name[0] == '\0' || has_line_break(name) ||
	    strchr(name, ':') || has_line_break(value)) {
		r->refused = true;
		return;
	}
	/* curl drops a header given as "Name:" and sends an empty one for "Name;". */
	if (value[0] == '\0')
		r->headers[r->n_headers++] = xasprintf("%s;", name);
	else
		r->headers[r->n_headers++] = xasprintf("%s: %s", name, value);
}

void egress_request_body(struct egress_request *r, const char *content_type, const char *body,
                         size_t len)
{
	free(r->body);
	r->body = xmalloc(len + 1);
	if (len)
		memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	if (content_type)
		egress_request_header(r, "Content-Type", content_type);
}

void egress_request_free(struct egress_request *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	for (size_t i = 0; i < r->n_headers; i++)
		free(r->headers[i]);
	free(r->body);
	free(r);
}

static void clear_headers(struct egress_response *resp)
{
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i]);
		resp->headers[i] = NULL;
	}
	resp->n_headers = 0;
}

const char *egress_response_header(const struct egress_response *resp, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < resp->n_headers; i++) {
		const char *h = resp->headers[i];
		if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
			const char *v = h + len + 1;
			while (*v == ' ')
				v++;
			return v;
		}
	}
	return NULL;
}

void egress_response_free(struct egress_response *resp)
{
	if (!resp)
		return;
	clear_headers(resp);
	free(resp->body);
	free(resp);
}

/* --- the transfer's curl callbacks (egress thread) --- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	if (buf_append(&t->body, data, len) != CX_OK) {
		t->too_big = true;
		return 0; /* anything but len makes curl abort with CURLE_WRITE_ERROR */
	}
	return len;
}

/* curl hands over every header line of every response it reads, including the status lines of a
 * 100 Continue or of an earlier response on the way; a status line therefore starts the collection
 * afresh, so what is left at the end belongs to the final response. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	struct egress_response *resp = t->resp;
	size_t total = size * n;
	size_t len = total;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		clear_headers(resp);
		return total;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	const char *colon = len ? memchr(data, ':', len) : NULL;
	if (!colon || colon == data || len > MAX_HEADER_LINE ||
	    resp->n_headers >= EGRESS_MAX_HEADERS)
		return total;
	size_t name_len = (size_t)(colon - data);
	const char *value = colon + 1;
	const char *end = data + len;
	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	char *line = xasprintf("%.*s: %.*s", (int)name_len, data, (int)(end - value), value);
	for (size_t i = 0; i < name_len; i++) {
		if (line[i] >= 'A' && line[i] <= 'Z')
			line[i] = (char)(line[i] - 'A' + 'a');
	}
	resp->headers[resp->n_headers++] = line;
	return total;
}

/* --- bookkeeping --- */

static void count_outcome(struct egress_stats *s, enum outcome o)
{
	switch (o) {
	case OUTCOME_OK:
		s->ok++;
		break;
	case OUTCOME_TIMEOUT:
		s->timeout++;
		break;
	case OUTCOME_IO:
		s->io++;
		break;
	case OUTCOME_TOO_BIG:
		s->too_big++;
		break;
	case OUTCOME_BUSY:
		s->busy++;
		break;
	case OUTCOME_CANCELLED:
		s->cancelled++;
		break;
	case OUTCOME_INVALID:
		s->invalid++;
		break;
	}
}

static struct transfer *transfer_new(struct egress_request *req)
{
	struct transfer *t = xcalloc(1, sizeof(*t));
	t->req = req;
	t->resp = xcalloc(1, sizeof(*t->resp));
	t->submitted_ms = time_now_ms();
	buf_init(&t->body, req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE);
	return t;
}

static void log_result(const struct transfer *t, const char *curl_msg)
{
	char url[512], quoted_url[600], quoted_msg[300];
	const struct egress_response *resp = t->resp;

	log_redact_url(t->req->url ? t->req->url : "", url, sizeof(url));
	log_quote(url, quoted_url, sizeof(quoted_url));
	if (resp->err == CX_OK) {
		log_debug("egress request done", "method=%s url=%s status=%ld ms=%lld",
		          t->req->method, quoted_url, resp->status, (long long)resp->elapsed_ms);
		return;
	}
	log_quote(curl_msg, quoted_msg, sizeof(quoted_msg));
	log_info("egress request failed", "method=%s url=%s err=%s sent=%s ms=%lld error=%s",
	         t->req->method, quoted_url, cx_strerror(resp->err), resp->sent ? "true" : "false",
	         (long long)resp->elapsed_ms, quoted_msg);
}

/* Fills in the response, runs the request's callback and frees everything but the response, which
 * the callback owns. A transfer that was running must be off the multi handle already. */
static void finish(struct egress *e, struct transfer *t, enum cx_err err, bool sent, long status,
                   enum outcome outcome, const char *message)
{
	struct egress_response *resp = t->resp;
	struct egress_request *req = t->req;

	resp->err = err;
	resp->sent = sent;
	resp->elapsed_ms = time_now_ms() - t->submitted_ms;
	if (err == CX_OK) {
		resp->status = status;
		resp->body = buf_detach(&t->body, &resp->body_len);
	} else {
		resp->status = 0;
		clear_headers(resp);
		buf_release(&t->body);
		resp->body = xstrdup("");
		resp->body_len = 0;
		/* curl's message when it wrote one, else ours. */
		if (message && resp->error[0] == '\0')
			snprintf(resp->error, sizeof(resp->error), "%s", message);
	}
	log_result(t, resp->error);

	pthread_mutex_lock(&e->lock);
	count_outcome(&e->stats, outcome);
	if (t->holds_slot) {
		assert(e->in_flight > 0);
		e->in_flight--;
	}
	pthread_mutex_unlock(&e->lock);

	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->header_list);
	t->resp = NULL;
	if (req->done)
		req->done(resp, req->arg);
	else
		egress_response_free(resp);
	egress_request_free(req);
	free(t);
}

static bool method_valid(const char *m)
{
	if (m[0] == '\0' || strlen(m) > 16)
		return false;
	for (const char *p = m; *p; p++) {
		if (*p < 'A' || *p > 'Z')
			return false;
	}
	return true;
}

static bool has_header(const struct egress_request *req, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *h = req->headers[i];
		if (strncasecmp(h, name, len) == 0 && (h[len] == ':' || h[len] == ';'))
			return true;
	}
	return false;
}

static enum cx_err setup_easy(struct transfer *t)
{
	struct egress_request *req = t->req;
	const char *m = req->method;
	bool is_get = strcmp(m, "GET") == 0;
	bool is_head = strcmp(m, "HEAD") == 0;
	bool is_post = strcmp(m, "POST") == 0;
	bool with_body =
	    req->body != NULL || is_post || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	CURL *c;

	c = t->easy = curl_easy_init();
	if (!c)
		return CX_EIO;
	curl_easy_setopt(c, CURLOPT_PRIVATE, t);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 req->connect_timeout_ms > 0 ? req->connect_timeout_ms
	                                             : DEFAULT_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	                 req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (req->single_attempt) {
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->resp->error);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	/* Refuses at once a response whose Content-Length is already too large. */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->body.max);

	if (with_body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	} else if (is_head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (!is_get && !is_post && !is_head)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);

	for (size_t i = 0; i < req->n_headers; i++)
		t->header_list = curl_slist_append(t->header_list, req->headers[i]);
	/* No "Expect: 100-continue" round trip, and no form Content-Type curl would invent. */
	if (!has_header(req, "Expect"))
		t->header_list = curl_slist_append(t->header_list, "Expect:");
	if (with_body && !has_header(req, "Content-Type"))
		t->header_list = curl_slist_append(t->header_list, "Content-Type:");
	if (!t->header_list)
		return CX_EIO;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->header_list);
	return CX_OK;
}

static void running_add(struct egress *e, struct transfer *t)
{
	t->prev = NULL;
	t->next = e->running;
	if (e->running)
		e->running->prev = t;
	e->running = t;
}

static void running_remove(struct egress *e, struct transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		e->running = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

/* Starts a transfer the thread took from the queue (already counted in in_flight). */
static void start(struct egress *e, struct transfer *t)
{
	enum cx_err err;

	if (t->req->refused || !method_valid(t->req->method) || !t->req->url) {
		finish(e, t, CX_EINVAL, false, 0, OUTCOME_INVALID,
		       t->req->refused ? "request header refused" : "bad method or url");
		return;
	}
	err = setup_easy(t);
	if (err == CX_OK && curl_multi_add_handle(e->multi, t->easy) != CURLM_OK)
		err = CX_EIO;
	if (err != CX_OK) {
		finish(e, t, err, false, 0, OUTCOME_IO, "cannot start the transfer");
		return;
	}
	running_add(e, t);
}

/* Maps curl's result to ours. "sent" must be false only when the request certainly never reached
 * the server, because callers retry non-idempotent calls (Zoom's meeting create) on it. */
static void complete(struct egress *e, struct transfer *t, CURLcode rc)
{
	enum cx_err err = CX_EIO;
	enum outcome outcome = OUTCOME_IO;
	bool sent = true;
	long status = 0;
	curl_off_t connect_us = 0;
	long request_size = 0;

	curl_multi_remove_handle(e->multi, t->easy);
	running_remove(e, t);

	switch (rc) {
	case CURLE_OK:
		err = CX_OK;
		outcome = OUTCOME_OK;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err = CX_ETIMEOUT;
		outcome = OUTCOME_TIMEOUT;
		/* A connect timeout leaves both at zero: nothing went out. */
		curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
		curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &request_size);
		sent = connect_us > 0 || request_size > 0;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		sent = false;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		err = CX_EINVAL;
		outcome = OUTCOME_INVALID;
		sent = false;
		break;
	case CURLE_FILESIZE_EXCEEDED:
		err = CX_ETOOBIG;
		outcome = OUTCOME_TOO_BIG;
		break;
	case CURLE_WRITE_ERROR:
		if (t->too_big) {
			err = CX_ETOOBIG;
			outcome = OUTCOME_TOO_BIG;
		}
		break;
	default:
		break;
	}
	if (err == CX_ETOOBIG)
		snprintf(t->resp->error, sizeof(t->resp->error), "response larger than %zu bytes",
		         t->body.max);
	finish(e, t, err, sent, status, outcome, curl_easy_strerror(rc));
}

static void read_completions(struct egress *e)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(e->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with curl_multi_remove_handle(): copy what is needed first. */
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		struct transfer *t = (struct transfer *)(void *)priv;
		assert(t && t->easy == easy);
		complete(e, t, rc);
	}
}

/* Runs on the egress thread after egress_stop(): every callback still owed runs with CX_EIO. */
static void cancel_all(struct egress *e)
{
	while (e->running) {
		struct transfer *t = e->running;
		curl_multi_remove_handle(e->multi, t->easy);
		running_remove(e, t);
		finish(e, t, CX_EIO, true, 0, OUTCOME_CANCELLED, "egress stopped");
	}
	pthread_mutex_lock(&e->lock);
	struct transfer *q = e->queue_head;
	e->queue_head = e->queue_tail = NULL;
	e->queued = 0;
	pthread_mutex_unlock(&e->lock);
	while (q) {
		struct transfer *next = q->next;
		finish(e, q, CX_EIO, false, 0, OUTCOME_CANCELLED, "egress stopped");
		q = next;
	}
}

static void *egress_main(void *arg)
{
	struct egress *e = arg;

	for (;;) {
		struct transfer *batch = NULL, **tail = &batch;
		bool stopping, more;
		int running;

		pthread_mutex_lock(&e->lock);
		stopping = e->stopping;
		while (!stopping && e->queue_head && e->in_flight < (size_t)e->max_in_flight) {
			struct transfer *t = e->queue_head;
			e->queue_head = t->next;
			if (!e->queue_head)
				e->queue_tail = NULL;
			e->queued--;
			e->in_flight++;
			t->holds_slot = true;
			t->next = NULL;
			*tail = t;
			tail = &t->next;
		}
		pthread_mutex_unlock(&e->lock);
		if (stopping)
			break;

		while (batch) {
			struct transfer *t = batch;
			batch = t->next;
			t->next = NULL;
			start(e, t);
		}
		curl_multi_perform(e->multi, &running);
		read_completions(e);

		/* A completion may have freed a slot for a queued request: no sleeping then. */
		pthread_mutex_lock(&e->lock);
		more = e->stopping || (e->queue_head && e->in_flight < (size_t)e->max_in_flight);
		pthread_mutex_unlock(&e->lock);
		if (!more)
			curl_multi_poll(e->multi, NULL, 0, POLL_MS, NULL);
	}
	cancel_all(e);
	return NULL;
}

/* --- public --- */

enum cx_err egress_start(int max_in_flight, size_t queue_max, struct egress **out)
{
	struct egress *e;

	*out = NULL;
	if (max_in_flight <= 0 || queue_max == 0)
		return CX_EINVAL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return CX_EIO;

	e = xcalloc(1, sizeof(*e));
	e->max_in_flight = max_in_flight;
	e->queue_max = queue_max;
	e->multi = curl_multi_init();
	if (!e->multi) {
		free(e);
		return CX_EIO;
	}
	/* Bounds the sockets curl keeps for reuse; idle ones beyond it are closed. */
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)max_in_flight);
	pthread_mutex_init(&e->lock, NULL);
	if (pthread_create(&e->thread, NULL, egress_main, e) != 0) {
		pthread_mutex_destroy(&e->lock);
		curl_multi_cleanup(e->multi);
		free(e);
		return CX_EIO;
	}
	*out = e;
	return CX_OK;
}

void egress_stop(struct egress *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	curl_multi_wakeup(e->multi);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	assert(!e->running && !e->queue_head);
	curl_multi_cleanup(e->multi);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void egress_submit(struct egress *e, struct egress_request *req_take)
{
	struct transfer *t = transfer_new(req_take);
	enum cx_err err = CX_OK;

	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		err = CX_EIO;
	} else if (e->queued >= e->queue_max) {
		err = CX_EBUSY;
	} else {
		if (e->queue_tail)
			e->queue_tail->next = t;
		else
			e->queue_head = t;
		e->queue_tail = t;
		e->queued++;
		/* Under the lock, so egress_stop() cannot free the multi handle meanwhile. */
		curl_multi_wakeup(e->multi);
	}
	pthread_mutex_unlock(&e->lock);

	if (err == CX_EBUSY)
		finish(e, t, CX_EBUSY, false, 0, OUTCOME_BUSY, "egress queue full");
	else if (err != CX_OK)
		finish(e, t, err, false, 0, OUTCOME_CANCELLED, "egress stopped");
}

struct call_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct egress_response *resp; /* set once by call_done, under lock */
};

static void call_done(struct egress_response *resp_take, void *arg)
{
	struct call_wait *w = arg;

	/* Signal under the lock: the waiter may destroy w as soon as it can take the lock. */
	pthread_mutex_lock(&w->lock);
	w->resp = resp_take;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* The request's own connect and total timeouts bound the wait, and egress_stop() answers it too,
 * so waiting without a deadline of its own cannot hang. */
enum cx_err egress_call(struct egress *e, struct egress_request *req_take,
                        struct egress_response **out)
{
	/* On the heap, not the stack: the callback keeps a pointer to it on another thread. */
	struct call_wait *w = xcalloc(1, sizeof(*w));
	enum cx_err err;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	req_take->done = call_done;
	req_take->arg = w;
	egress_submit(e, req_take);

	pthread_mutex_lock(&w->lock);
	while (!w->resp)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	*out = w->resp;
	err = w->resp->err;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return err;
}

void egress_stats(struct egress *e, struct egress_stats *out)
{
	pthread_mutex_lock(&e->lock);
	*out = e->stats;
	out->queued = e->queued;
	out->in_flight = e->in_flight;
	pthread_mutex_unlock(&e->lock);
}

enum cx_err egress_metrics(struct egress *e, struct buf *out)
{
	struct egress_stats s;
	enum cx_err err;

	egress_stats(e, &s);
	err = buf_printf(
	    out,
	    "# HELP calendox_egress_requests_total Outbound HTTP requests by outcome.\n"
	    "# TYPE calendox_egress_requests_total counter\n"
	    "calendox_egress_requests_total{outcome=\"ok\"} %llu\n"
	    "calendox_egress_requests_total{outcome=\"timeout\"} %llu\n"
	    "calendox_egress_requests_total{outcome=\"io\"} %llu\n"
	    "calendox_egress_requests_total{outcome=\"too_big\"} %llu\n"
	    "calendox_egress_requests_total{outcome=\"busy\"} %llu\n"
	    "calendox_egress_requests_total{outcome=\"cancelled\"} %llu\n"
	    "calendox_egress_requests_total{outcome=\"invalid\"} %llu\n",
	    (unsigned long long)s.ok, (unsigned long long)s.timeout, (unsigned long long)s.io,
	    (unsigned long long)s.too_big, (unsigned long long)s.busy,
	    (unsigned long long)s.cancelled, (unsigned long long)s.invalid);
	if (err != CX_OK)
		goto out;
	err = buf_printf(out,
	                 "# HELP calendox_egress_queued Outbound requests waiting for a slot.\n"
	                 "# TYPE calendox_egress_queued gauge\n"
	                 "calendox_egress_queued %zu\n"
	                 "# HELP calendox_egress_in_flight Outbound requests in progress.\n"
	                 "# TYPE calendox_egress_in_flight gauge\n"
	                 "calendox_egress_in_flight %zu\n",
	                 s.queued, s.in_flight);
out:
	return err;
}
