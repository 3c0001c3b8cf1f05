/* core.c: `calendox sandbox`: the process, the one struct sb, the HTTP listener shared by the three
 * emulators, and what every request passes through before an emulator sees it (the request log,
 * fault rules and injected latency), plus the /_sandbox/ control endpoints (DESIGN §7). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"

#include "sandbox.h"
#include "sb.h"
#include "base/banned.h"

#define LOG_MAX 10000
#define LOG_BODY_MAX (64 * 1024)
#define FAULT_RULES_MAX 100
#define DELAY_MAX_MS 600000
#define CONTROL_PREFIX "/_sandbox"

struct fault_rule {
	char *method;      /* NULL matches any */
	char *path_prefix; /* NULL matches any provider path */
	int count;         /* hits left; -1 is unlimited */
	double probability;
	int status; /* 0: no replacement answer */
	char *body; /* replacement body (may be NULL) */
	char *content_type;
	json_t *headers; /* object of strings, may be NULL */
	int delay_ms;
	bool reset;
	bool drop_response;
};

struct sb_faults {
	struct fault_rule rules[FAULT_RULES_MAX];
	size_t n;
};

struct logged_request {
	char *method;
	char *path;
	char *query;
	char *body;
};

/* A ring of the last LOG_MAX requests. */
struct sb_request_log {
	struct logged_request *entries;
	size_t first; /* index of the oldest */
	size_t n;
};

/* What the before hook decided for one request; lives in the request's arena. */
struct plan {
	int delay_ms;
	bool reset;
	bool drop_response;
	int status;
	const char *body;
	const char *content_type;
	const char **header_names;
	const char **header_values;
	size_t n_headers;
};

/* A delayed request's waiter: the waking side must wake it once, which we do after its deadline. */
struct pending_wake {
	struct http_waiter *waiter;
	int64_t due_ms;
	struct pending_wake *next;
};

static const struct sb_provider *const providers[] = {
    &sb_zoom_provider,
    &sb_google_provider,
    &sb_microsoft_provider,
};
#define N_PROVIDERS (sizeof(providers) / sizeof(providers[0]))

/* The sandbox of this process; set once before its server starts, cleared after it stopped. */
static struct sb *the_sb;
static struct http_server *the_server;
static struct http_route *the_routes;
static int sandbox_ready; /* atomic: providers are initialised */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending_wake *pending_wakes; /* guarded by wake_lock */

struct sb *sb_get(void)
{
	return the_sb;
}

void sb_lock(struct sb *sb)
{
	pthread_mutex_lock(&sb->lock);
}

void sb_unlock(struct sb *sb)
{
	pthread_mutex_unlock(&sb->lock);
}

int64_t sb_now_ms(struct sb *sb)
{
	return time_wall_ms() + __atomic_load_n(&sb->clock_offset_s, __ATOMIC_SEQ_CST) * 1000;
}

int64_t sb_now_s(struct sb *sb)
{
	return sb_now_ms(sb) / 1000;
}

/* xorshift64*: small, fast and reproducible under --seed (never for secrets of the product). */
uint64_t sb_random(struct sb *sb)
{
	uint64_t x = sb->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sb->rng = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

char *sb_random_string(struct sb *sb, struct arena *a, const char *alphabet, size_t n)
{
	size_t k = strlen(alphabet);
	char *s = arena_alloc(a, n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[sb_random(sb) % k];
	s[n] = '\0';
	return s;
}

static uint64_t seed_state(uint64_t seed)
{
	/* xorshift must not start at zero; mix the seed so nearby seeds diverge at once. */
	uint64_t x = seed * UINT64_C(0x9E3779B97F4A7C15) + UINT64_C(0x632BE59BD9B4E019);

	return x ? x : 1;
}

const char *sb_request_query(struct http_request *req)
{
	return http_query_string(req);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool control_path(const char *path)
{
	return strcmp(path, CONTROL_PREFIX) == 0 || starts_with(path, CONTROL_PREFIX "/");
}

/* --- request log --- */

static void logged_free(struct logged_request *e)
{
	free(e->method);
	free(e->path);
	free(e->query);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

/* Caller holds the lock. Headers are never recorded, so Authorization never is. */
static void log_request(struct sb *sb, struct http_request *req)
{
	struct sb_request_log *log = sb->log;
	struct logged_request *e;

	if (log->n == LOG_MAX) {
		e = &log->entries[log->first];
		logged_free(e);
		log->first = (log->first + 1) % LOG_MAX;
		log->n--;
	}
	e = &log->entries[(log->first + log->n) % LOG_MAX];
	log->n++;
	e->method = xstrdup(req->method);
	e->path = xstrdup(req->path);
	e->query = xstrdup(sb_request_query(req));
	if (req->body)
		e->body = xstrndup(req->body,
		                   req->body_len < LOG_BODY_MAX ? req->body_len : LOG_BODY_MAX);
}

static void log_clear(struct sb_request_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		logged_free(&log->entries[(log->first + i) % LOG_MAX]);
	log->first = 0;
	log->n = 0;
}

/* --- faults --- */

static void rule_release(struct fault_rule *r)
{
	free(r->method);
	free(r->path_prefix);
	free(r->body);
	free(r->content_type);
	json_decref(r->headers);
	memset(r, 0, sizeof(*r));
}

static void faults_clear(struct sb_faults *f)
{
	for (size_t i = 0; i < f->n; i++)
		rule_release(&f->rules[i]);
	f->n = 0;
}

static bool rule_matches(const struct fault_rule *r, struct http_request *req)
{
	if (r->count == 0)
		return false;
	if (r->method && strcasecmp(r->method, req->method) != 0)
		return false;
	if (r->path_prefix && !starts_with(req->path, r->path_prefix))
		return false;
	return true;
}

static double random_unit(struct sb *sb)
{
	return (double)(sb_random(sb) >> 11) * 0x1.0p-53;
}

/* Caller holds the lock: the first rule that matches and wins its draw shapes the answer. */
static void apply_faults(struct sb *sb, struct http_request *req, struct plan *p)
{
	struct sb_faults *f = sb->faults;

	for (size_t i = 0; i < f->n; i++) {
		struct fault_rule *r = &f->rules[i];
		if (!rule_matches(r, req))
			continue;
		if (r->probability < 1.0 && random_unit(sb) >= r->probability)
			continue;
		if (r->count > 0)
			r->count--;
		p->delay_ms = r->delay_ms;
		p->reset = r->reset;
		p->drop_response = r->drop_response;
		p->status = r->status;
		p->body = r->body ? arena_strdup(req->arena, r->body) : NULL;
		p->content_type =
		    r->content_type ? arena_strdup(req->arena, r->content_type) : NULL;
		size_t n = r->headers ? json_object_size(r->headers) : 0;
		p->header_names = arena_alloc(req->arena, (n + 1) * sizeof(char *));
		p->header_values = arena_alloc(req->arena, (n + 1) * sizeof(char *));
		const char *name;
		json_t *value;
		if (r->headers) {
			json_object_foreach(r->headers, name, value)
			{
				p->header_names[p->n_headers] = arena_strdup(req->arena, name);
				p->header_values[p->n_headers] =
				    arena_strdup(req->arena, json_string_value(value));
				p->n_headers++;
			}
		}
		return;
	}
}

/* Carries out a plan once any delay is over. dispatch: whether the route must be run explicitly
 * (after a suspension) or will run by itself when the before hook returns. */
static void carry_out(struct http_request *req, const struct plan *p, bool dispatch)
{
	if (p->reset) {
		http_abort(req);
		return;
	}
	if (p->status) {
		for (size_t i = 0; i < p->n_headers; i++)
			http_add_header(req, p->header_names[i], p->header_values[i]);
		const char *body = p->body ? p->body : "";
		http_reply(req, p->status, p->content_type ? p->content_type : "application/json",
		           body, strlen(body));
		return;
	}
	if (p->drop_response)
		http_drop_response(req);
	if (dispatch)
		http_dispatch(req);
}

static void resume_delayed(struct http_request *req, bool timed_out)
{
	carry_out(req, req->user, true);
}

static void wake_due(bool all)
{
	int64_t now = time_now_ms();
	struct pending_wake *done = NULL;

	pthread_mutex_lock(&wake_lock);
	for (struct pending_wake **p = &pending_wakes; *p;) {
		struct pending_wake *w = *p;
		if (all || w->due_ms + 1000 < now) {
			*p = w->next;
			w->next = done;
			done = w;
		} else {
			p = &w->next;
		}
	}
	pthread_mutex_unlock(&wake_lock);
	while (done) {
		struct pending_wake *w = done;
		done = w->next;
		http_waiter_wake(w->waiter);
		free(w);
	}
}

/* Every request passes here before routing: it is recorded, then fault rules and latency decide
 * whether it is answered at once, later, never, or normally. Control paths skip all of it. */
static void before_request(struct http_request *req)
{
	struct sb *sb = req->app;
	struct plan *p;

	if (!__atomic_load_n(&sandbox_ready, __ATOMIC_SEQ_CST)) {
		http_reply_error(req, 503, "starting", "the sandbox is starting", NULL);
		return;
	}
	wake_due(false);
	if (control_path(req->path))
		return;

	p = arena_alloc(req->arena, sizeof(*p));
	sb_lock(sb);
	log_request(sb, req);
	apply_faults(sb, req, p);
	p->delay_ms += sb->latency_ms;
	sb_unlock(sb);

	if (p->delay_ms <= 0) {
		carry_out(req, p, false);
		return;
	}
	int64_t due = time_now_ms() + p->delay_ms;
	struct pending_wake *w = xcalloc(1, sizeof(*w));
	req->user = p;
	w->due_ms = due;
	w->waiter = http_suspend(req, due, resume_delayed);
	pthread_mutex_lock(&wake_lock);
	w->next = pending_wakes;
	pending_wakes = w;
	pthread_mutex_unlock(&wake_lock);
}

/* --- control endpoints --- */

static void reply_bad(struct http_request *req, const char *message)
{
	http_reply_error(req, 400, "invalid_request", message, NULL);
}

static json_t *clock_state(struct sb *sb)
{
	char now[32];

	time_format_rfc3339(sb_now_s(sb), 0, now, sizeof(now));
	return json_pack("{s:I, s:s, s:I}", "offset_s", (json_int_t)sb->clock_offset_s, "now", now,
	                 "now_s", (json_int_t)sb_now_s(sb));
}

static json_t *faults_state(struct sb_faults *f)
{
	json_t *rules = json_array();

	for (size_t i = 0; i < f->n; i++) {
		struct fault_rule *r = &f->rules[i];
		json_t *o =
		    json_pack("{s:o, s:o, s:i, s:f, s:i, s:b, s:b}", "method",
		              r->method ? json_string(r->method) : json_null(), "path_prefix",
		              r->path_prefix ? json_string(r->path_prefix) : json_null(), "count",
		              r->count, "probability", r->probability, "delay_ms", r->delay_ms,
		              "reset", r->reset, "drop_response", r->drop_response);
		if (r->status)
			json_object_set_new(o, "status", json_integer(r->status));
		json_array_append_new(rules, o);
	}
	return rules;
}

static void get_state(struct http_request *req)
{
	struct sb *sb = req->app;
	json_t *state = json_object();

	sb_lock(sb);
	for (size_t i = 0; i < N_PROVIDERS; i++)
		json_object_set_new(state, providers[i]->name, providers[i]->state(sb));
	json_object_set_new(state, "deliveries", sb_deliveries_state(sb));
	json_object_set_new(state, "clock", clock_state(sb));
	json_object_set_new(state, "faults", faults_state(sb->faults));
	json_object_set_new(state, "latency_ms", json_integer(sb->latency_ms));
	sb_unlock(sb);
	http_reply_json(req, 200, state);
}

static void get_requests(struct http_request *req)
{
	struct sb *sb = req->app;
	json_t *list = json_array();

	sb_lock(sb);
	for (size_t i = 0; i < sb->log->n; i++) {
		struct logged_request *e = &sb->log->entries[(sb->log->first + i) % LOG_MAX];
		json_array_append_new(list,
		                      json_pack("{s:s, s:s, s:s, s:o}", "method", e->method, "path",
		                                e->path, "query", e->query, "body",
		                                e->body ? json_string(e->body) : json_null()));
	}
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:o}", "requests", list));
}

/* Validates one rule of POST /_sandbox/faults into r; on failure err says why. */
static enum cx_err parse_rule(json_t *o, struct fault_rule *r, char *err, size_t err_len)
{
	static const struct json_field fields[] = {
	    {"method", JK_STRING, false, 16},
	    {"path_prefix", JK_STRING, false, 1024},
	    {"status", JK_INT, false, 0},
	    {"body", JK_ANY, false, 0},
	    {"content_type", JK_STRING, false, 200},
	    {"headers", JK_OBJECT, false, 0},
	    {"delay_ms", JK_INT, false, 0},
	    {"reset", JK_BOOL, false, 0},
	    {"drop_response", JK_BOOL, false, 0},
	    {"probability", JK_ANY, false, 0},
	    {"count", JK_INT, false, 0},
	    {NULL, 0, false, 0},
	};
	enum cx_err rc = json_check_object(o, fields, err, err_len);

	memset(r, 0, sizeof(*r));
	if (rc != CX_OK)
		return rc;
	rc = CX_EINVAL;
	const char *method = json_get_str(o, "method");
	const char *prefix = json_get_str(o, "path_prefix");
	r->method = method && *method ? xstrdup(method) : NULL;
	r->path_prefix = prefix && *prefix ? xstrdup(prefix) : NULL;
	long long count = json_get_int(o, "count", 1);
	if (count != -1 && (count < 1 || count > 1000000)) {
		snprintf(err, err_len, "field 'count' must be -1 (unlimited) or at least 1");
		goto out;
	}
	r->count = (int)count;
	json_t *prob = json_object_get(o, "probability");
	r->probability = 1.0;
	if (prob) {
		if (!json_is_number(prob) || json_number_value(prob) < 0.0 ||
		    json_number_value(prob) > 1.0) {
			snprintf(err, err_len, "field 'probability' must be a number from 0 to 1");
			goto out;
		}
		r->probability = json_number_value(prob);
	}
	long long status = json_get_int(o, "status", 0);
	if (status != 0 && (status < 100 || status > 599)) {
		snprintf(err, err_len, "field 'status' must be an HTTP status from 100 to 599");
		goto out;
	}
	r->status = (int)status;
	long long delay = json_get_int(o, "delay_ms", 0);
	if (delay < 0 || delay > DELAY_MAX_MS) {
		snprintf(err, err_len, "field 'delay_ms' must be from 0 to %d", DELAY_MAX_MS);
		goto out;
	}
	r->delay_ms = (int)delay;
	r->reset = json_get_bool(o, "reset", false);
	r->drop_response = json_get_bool(o, "drop_response", false);
	if (r->reset + r->drop_response + (r->status != 0) > 1) {
		snprintf(err, err_len,
		         "a rule has at most one of 'status', 'reset', 'drop_response'");
		goto out;
	}
	if (!r->reset && !r->drop_response && !r->status && !r->delay_ms) {
		snprintf(err, err_len,
		         "a rule needs 'status', 'delay_ms', 'reset' or 'drop_response'");
		goto out;
	}
	json_t *body = json_object_get(o, "body");
	if (body && json_is_string(body)) {
		r->body = xstrdup(json_string_value(body));
	} else if (body && !json_is_null(body)) {
		r->body = json_dump_compact(body);
		if (!r->content_type)
			r->content_type = xstrdup("application/json");
	}
	const char *ctype = json_get_str(o, "content_type");
	if (ctype) {
		free(r->content_type);
		r->content_type = xstrdup(ctype);
	} else if (!r->content_type && r->body) {
		r->content_type = xstrdup(r->body[0] == '<' ? (starts_with(r->body, "<?xml")
		                                                   ? "application/xml"
		                                                   : "text/html; charset=utf-8")
		                                            : "text/plain; charset=utf-8");
	}
	json_t *headers = json_object_get(o, "headers");
	if (headers) {
		const char *name;
		json_t *value;
		json_object_foreach(headers, name, value)
		{
			if (!json_is_string(value) || strpbrk(name, "\r\n:") ||
			    strpbrk(json_string_value(value), "\r\n")) {
				snprintf(err, err_len,
				         "field 'headers' must map header names to strings");
				goto out;
			}
		}
		r->headers = json_incref(headers);
	}
	rc = CX_OK;
out:
	if (rc != CX_OK)
		rule_release(r);
	return rc;
}

static void post_faults(struct http_request *req)
{
	struct sb *sb = req->app;
	json_t *doc = http_body_json(req);
	struct fault_rule parsed[FAULT_RULES_MAX];
	size_t n = 0;
	char err[256];

	if (!doc)
		return;
	json_t *rules = json_object_get(doc, "rules");
	if (!json_is_object(doc) || !json_is_array(rules) || json_object_size(doc) != 1) {
		reply_bad(req, "expected {\"rules\":[…]}");
		goto out;
	}
	if (json_array_size(rules) > FAULT_RULES_MAX) {
		reply_bad(req, "too many rules");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(rules); i++) {
		if (!json_is_object(json_array_get(rules, i))) {
			reply_bad(req, "each rule must be an object");
			goto out;
		}
		if (parse_rule(json_array_get(rules, i), &parsed[n], err, sizeof(err)) != CX_OK) {
			reply_bad(req, arena_printf(req->arena, "rule %zu: %s", i, err));
			goto out;
		}
		n++;
	}
	sb_lock(sb);
	if (sb->faults->n + n > FAULT_RULES_MAX) {
		sb_unlock(sb);
		reply_bad(req, "too many rules");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sb->faults->rules[sb->faults->n++] = parsed[i];
	n = 0;
	json_t *state = faults_state(sb->faults);
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:o}", "rules", state));
out:
	for (size_t i = 0; i < n; i++)
		rule_release(&parsed[i]);
	json_decref(doc);
}

static void delete_faults(struct http_request *req)
{
	struct sb *sb = req->app;

	sb_lock(sb);
	faults_clear(sb->faults);
	sb_unlock(sb);
	http_reply_empty(req, 204);
}

static void get_faults(struct http_request *req)
{
	struct sb *sb = req->app;

	sb_lock(sb);
	json_t *rules = faults_state(sb->faults);
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:o}", "rules", rules));
}

static void post_latency(struct http_request *req)
{
	struct sb *sb = req->app;
	json_t *doc = http_body_json(req);
	json_t *ms;

	if (!doc)
		return;
	ms = json_object_get(doc, "ms");
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_integer(ms) ||
	    json_integer_value(ms) < 0 || json_integer_value(ms) > DELAY_MAX_MS) {
		reply_bad(req, "expected {\"ms\":N} with N from 0 to 600000");
		goto out;
	}
	sb_lock(sb);
	sb->latency_ms = (int)json_integer_value(ms);
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:I}", "ms", json_integer_value(ms)));
out:
	json_decref(doc);
}

static void post_clock(struct http_request *req)
{
	struct sb *sb = req->app;
	json_t *doc = http_body_json(req);
	json_t *adv;
	const json_int_t ten_years = 10LL * 366 * 86400;

	if (!doc)
		return;
	adv = json_object_get(doc, "advance_seconds");
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_integer(adv) ||
	    json_integer_value(adv) < -ten_years || json_integer_value(adv) > ten_years) {
		reply_bad(req, "expected {\"advance_seconds\":N} with |N| at most ten years");
		goto out;
	}
	sb_lock(sb);
	__atomic_store_n(&sb->clock_offset_s, sb->clock_offset_s + json_integer_value(adv),
	                 __ATOMIC_SEQ_CST);
	json_t *state = clock_state(sb);
	sb_unlock(sb);
	http_reply_json(req, 200, state);
out:
	json_decref(doc);
}

static void post_reset(struct http_request *req)
{
	struct sb *sb = req->app;

	sb_lock(sb);
	faults_clear(sb->faults);
	log_clear(sb->log);
	sb->latency_ms = 0;
	__atomic_store_n(&sb->clock_offset_s, 0, __ATOMIC_SEQ_CST);
	sb->rng = seed_state(sb->seed);
	sb_deliveries_reset(sb);
	for (size_t i = 0; i < N_PROVIDERS; i++)
		providers[i]->reset(sb);
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:b}", "reset", true));
}

static const struct http_route control_routes[] = {
    {"GET", CONTROL_PREFIX "/state", get_state},
    {"GET", CONTROL_PREFIX "/requests", get_requests},
    {"GET", CONTROL_PREFIX "/faults", get_faults},
    {"POST", CONTROL_PREFIX "/faults", post_faults},
    {"DELETE", CONTROL_PREFIX "/faults", delete_faults},
    {"POST", CONTROL_PREFIX "/latency", post_latency},
    {"POST", CONTROL_PREFIX "/clock", post_clock},
    {"POST", CONTROL_PREFIX "/reset", post_reset},
};

/* --- starting and stopping --- */

static void sb_free(struct sb *sb)
{
	if (sb->faults)
		faults_clear(sb->faults);
	free(sb->faults);
	if (sb->log) {
		log_clear(sb->log);
		free(sb->log->entries);
	}
	free(sb->log);
	free(sb->base_url);
	free(sb->zoom_webhook_url);
	pthread_mutex_destroy(&sb->lock);
	free(sb);
}

enum cx_err sandbox_start(const struct sandbox_options *opts, struct sb **out)
{
	struct sb *sb;
	struct http_server_options hopts = {0};
	size_t n_routes = sizeof(control_routes) / sizeof(control_routes[0]);
	enum cx_err rc;

	if (the_sb)
		return CX_ECONFLICT;
	rc = sec_init();
	if (rc != CX_OK)
		return rc;
	sb = xcalloc(1, sizeof(*sb));
	pthread_mutex_init(&sb->lock, NULL);
	sb->seed = opts->seed;
	sb->rng = seed_state(opts->seed);
	sb->zoom_webhook_url = opts->zoom_webhook_url && *opts->zoom_webhook_url
	                           ? xstrdup(opts->zoom_webhook_url)
	                           : NULL;
	sb->faults = xcalloc(1, sizeof(*sb->faults));
	sb->log = xcalloc(1, sizeof(*sb->log));
	sb->log->entries = xcalloc(LOG_MAX, sizeof(struct logged_request));
	rc = egress_start(8, 1000, &sb->egress);
	if (rc != CX_OK) {
		sb_free(sb);
		return rc;
	}
	sb_deliveries_start(sb);

	for (size_t i = 0; i < N_PROVIDERS; i++)
		n_routes += providers[i]->n_routes;
	the_routes = xcalloc(n_routes, sizeof(*the_routes));
	n_routes = 0;
	for (size_t i = 0; i < sizeof(control_routes) / sizeof(control_routes[0]); i++)
		the_routes[n_routes++] = control_routes[i];
	for (size_t i = 0; i < N_PROVIDERS; i++)
		for (size_t j = 0; j < providers[i]->n_routes; j++)
			the_routes[n_routes++] = providers[i]->routes[j];

	hopts.host = opts->host ? opts->host : "127.0.0.1";
	hopts.port = opts->port;
	hopts.threads = opts->threads > 0 ? opts->threads : 4;
	hopts.max_connections = 512;
	hopts.idle_timeout_s = 30;
	hopts.max_body = 1024 * 1024;
	hopts.max_header_memory = 64 * 1024;
	hopts.routes = the_routes;
	hopts.n_routes = n_routes;
	hopts.before = before_request;
	hopts.app = sb;
	the_sb = sb;
	rc = http_server_start(&hopts, &the_server);
	if (rc != CX_OK) {
		the_sb = NULL;
		sb_deliveries_stop(sb);
		egress_stop(sb->egress);
		free(the_routes);
		the_routes = NULL;
		sb_free(sb);
		return rc;
	}
	sb->base_url = strchr(hopts.host, ':')
	                   ? xasprintf("http://[%s]:%d", hopts.host, http_server_port(the_server))
	                   : xasprintf("http://%s:%d", hopts.host, http_server_port(the_server));
	for (size_t i = 0; i < N_PROVIDERS; i++)
		providers[i]->init(sb);
	__atomic_store_n(&sandbox_ready, 1, __ATOMIC_SEQ_CST);
	*out = sb;
	return CX_OK;
}

void sandbox_stop(struct sb *sb)
{
	if (!sb || sb != the_sb)
		return;
	__atomic_store_n(&sandbox_ready, 0, __ATOMIC_SEQ_CST);
	http_server_stop(the_server);
	the_server = NULL;
	wake_due(true);
	sb_deliveries_stop(sb);
	egress_stop(sb->egress);
	/* Every other thread has ended: the providers free their state without the lock. */
	for (size_t i = 0; i < N_PROVIDERS; i++)
		providers[i]->free(sb);
	free(the_routes);
	the_routes = NULL;
	the_sb = NULL;
	sb_free(sb);
}

static void usage(FILE *f)
{
	fputs(
	    "usage: calendox sandbox [--host H] [--port N] [--seed N] [--zoom-webhook-url URL]\n"
	    "\n"
	    "Serves emulated Zoom, Google Calendar and Microsoft Graph APIs on loopback.\n"
	    "  --host H               address to listen on (default 127.0.0.1)\n"
	    "  --port N               port (default 9100; 0 picks a free one and prints\n"
	    "                         {\"port\":N} as the first line of standard output)\n"
	    "  --seed N               seed of the random ids, tokens and fault draws (default 1)\n"
	    "  --zoom-webhook-url URL where Zoom webhooks (app_deauthorized…) are sent\n"
	    "  --help                 this text\n",
	    f);
}

static bool parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

int sandbox_main(int argc, char **argv)
{
	struct sandbox_options opts = {.host = "127.0.0.1", .port = 9100, .seed = 1};
	unsigned long long v;
	struct sb *sb;
	sigset_t set;
	int sig = 0;

	for (int i = 1; i < argc; i += 2) { /* every option but --help takes a value */
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--host") == 0 && val) {
			opts.host = val;
		} else if (strcmp(a, "--port") == 0 && parse_number(val, 65535, &v)) {
			opts.port = (int)v;
		} else if (strcmp(a, "--seed") == 0 && parse_number(val, UINT64_MAX, &v)) {
			opts.seed = v;
		} else if (strcmp(a, "--zoom-webhook-url") == 0 && val) {
			opts.zoom_webhook_url = val;
		} else {
			fprintf(stderr, "sandbox: bad option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}

	/* Every thread inherits the blocked set, so only sigwait below sees SIGINT/SIGTERM. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	enum cx_err rc = sandbox_start(&opts, &sb);
	if (rc != CX_OK) {
		fprintf(stderr, "sandbox: cannot listen on %s:%d (%s)\n", opts.host, opts.port,
		        cx_strerror(rc));
		return 1;
	}
	printf("{\"port\":%d}\n", http_server_port(the_server));
	fflush(stdout);
	log_info("sandbox listening", "url=%s seed=%" PRIu64, sb->base_url, sb->seed);
	while (sigwait(&set, &sig) != 0)
		;
	log_info("sandbox stopping", "signal=%d", sig);
	sandbox_stop(sb);
	return 0;
}
