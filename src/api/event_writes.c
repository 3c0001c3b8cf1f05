/* event_writes.c: POST /api/events, PATCH /api/events/{id} and DELETE /api/events/{id} (DESIGN §4,
 * §5). A handler checks the request, then records the person's intent and the event.write job that
 * carries it out in one transaction (jobs/event_write.c), so nothing is lost when a provider is
 * slow or the process stops. POST and PATCH then wait, suspended, for that job up to
 * EVENT_WAIT_MS: the answer is the settled event (201/200, with the join link), or 202 with the
 * meeting still pending (the UI polls GET /api/events/{id}), or 502 when the provider refused the
 * write for good (and nothing was left behind). DELETE answers at once: the event is gone from
 * Calendox, the providers' copies follow.
 *
 * Threads: handlers and resume functions run on HTTP pool threads; job_settled runs on a job
 * worker and only wakes the suspended request (struct event_wait is shared under its lock). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "core/validate.h"
#include "jobs/kinds.h"
#include "providers/google.h"
#include "store/calendars.h"
#include "store/connections.h"
#include "store/meetings.h"

#include "base/banned.h"

#define EVENT_WAIT_MS 8000
#define TITLE_MAX 1024
#define DESCRIPTION_MAX (64 * 1024)
#define LOCATION_MAX 1024
#define IDEMPOTENCY_KEY_MAX 255
#define EVENT_SPAN_MAX_S (366 * 86400)

/* What the body asks for. Absent fields keep their value on PATCH. */
struct event_input {
	int64_t calendar_id;
	const char *title;
	bool has_description, has_location;
	const char *description; /* NULL with has_description: cleared */
	const char *location;
	bool has_time;
	int64_t start, end;
	bool all_day;
	const char *time_zone;
	bool has_meeting;
	const char *meeting; /* NULL with has_meeting: remove it */
};

static const struct json_field event_fields[] = {
    {"calendar_id", JK_STRING, false, 24},
    {"title", JK_STRING, false, TITLE_MAX * 4},
    {"start", JK_STRING, false, 64},
    {"end", JK_STRING, false, 64},
    {"time_zone", JK_STRING_OR_NULL, false, 64},
    {"all_day", JK_BOOL, false, 0},
    {"description", JK_STRING_OR_NULL, false, DESCRIPTION_MAX},
    {"location", JK_STRING_OR_NULL, false, LOCATION_MAX},
    {"meeting", JK_OBJECT_OR_NULL, false, 0},
    {NULL, 0, false, 0},
};

static const struct json_field meeting_fields[] = {
    {"provider", JK_STRING, true, 32},
    {NULL, 0, false, 0},
};

static bool bad(struct http_request *req, const char *message, const char *hint)
{
	http_reply_error(req, 400, "invalid_request", message, hint);
	return false;
}

/* A decimal row id; false for anything else. */
static bool parse_id(const char *s, int64_t *id)
{
	if (!s || !*s || strlen(s) > 18 || s[0] < '1' || s[0] > '9')
		return false;
	for (const char *q = s; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	*id = strtoll(s, NULL, 10);
	return true;
}

/* 00:00 UTC of the calendar day that t (with its offset) falls on; end days round up. */
static int64_t day_of(int64_t t, int offset_min, bool round_up)
{
	int64_t local = t + (int64_t)offset_min * 60;
	int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	if (round_up && local != day * 86400)
		day++;
	return day * 86400;
}

/* Reads the body into in. current (PATCH) fills the time fields the body leaves out. Replies 400
 * and returns false on anything wrong. */
static bool read_input(struct http_request *req, const json_t *body,
                       const struct store_event *current, struct event_input *in)
{
	memset(in, 0, sizeof(*in));
	const char *cal = json_get_str(body, "calendar_id");
	if (!current && !cal)
		return bad(req, "Choose the calendar the event goes in (calendar_id).", NULL);
	if (cal && (current || !parse_id(cal, &in->calendar_id))) {
		if (current)
			return bad(req, "An event cannot move to another calendar.",
			           "Delete it and create it in the other calendar.");
		http_reply_error(req, 404, "calendar_not_found", "There is no such calendar.",
		                 "Choose one of your calendars in Settings → Calendars.");
		return false;
	}
	in->title = json_get_str(body, "title");
	if ((!current && !in->title) || (in->title && !*in->title))
		return bad(req, "Give the event a title.", NULL);
	size_t chars = 0;
	if (in->title && (!validate_utf8_length(in->title, &chars) || chars > TITLE_MAX))
		return bad(req, "The title may have at most 1,024 characters.", NULL);
	in->has_description = json_object_get(body, "description") != NULL;
	in->description = json_get_str(body, "description");
	in->has_location = json_object_get(body, "location") != NULL;
	in->location = json_get_str(body, "location");

	const char *start = json_get_str(body, "start"), *end = json_get_str(body, "end");
	const json_t *zone = json_object_get(body, "time_zone");
	const json_t *all_day = json_object_get(body, "all_day");
	in->has_time = start || end || zone || all_day;
	if (!current && (!start || !end))
		return bad(req, "Give the event a start and an end.", NULL);
	if (in->has_time) {
		int start_off = 0, end_off = 0;
		in->start = current ? current->start_utc : 0;
		in->end = current ? current->end_utc : 0;
		if ((start && time_parse_rfc3339(start, &in->start, &start_off) != CX_OK) ||
		    (end && time_parse_rfc3339(end, &in->end, &end_off) != CX_OK))
			return bad(req, "Start and end must be RFC 3339 times with an offset.",
			           "For example 2026-05-01T09:00:00+02:00");
		in->all_day = all_day ? json_is_true(all_day) : (current && current->all_day);
		in->time_zone =
		    zone ? json_string_value(zone) : (current ? current->time_zone : NULL);
		if (in->time_zone && !time_zone_valid(in->time_zone))
			return bad(req, "The time zone is not a known IANA zone name.",
			           "For example Europe/Berlin or America/New_York");
		if (in->all_day) {
			in->start = day_of(in->start, start ? start_off : 0, false);
			in->end = day_of(in->end, end ? end_off : 0, true);
		}
		if (in->all_day && in->end <= in->start)
			in->end = in->start + 86400; /* a one-day event given as its day twice */
		if (in->end <= in->start)
			return bad(req, "The event must end after it starts.", NULL);
		if (in->end - in->start > EVENT_SPAN_MAX_S)
			return bad(req, "An event may last at most 366 days.", NULL);
	}
	const json_t *meeting = json_object_get(body, "meeting");
	in->has_meeting = meeting != NULL;
	if (meeting && json_is_object(meeting)) {
		char err[160];
		if (json_check_object(meeting, meeting_fields, err, sizeof(err)) != CX_OK)
			return bad(req, err, NULL);
		in->meeting = json_get_str(meeting, "provider");
		if (strcmp(in->meeting, "zoom") != 0 && strcmp(in->meeting, "google_meet") != 0 &&
		    strcmp(in->meeting, "teams") != 0)
			return bad(req, "The meeting provider must be zoom, google_meet or teams.",
			           NULL);
	}
	return true;
}

/* The calendar checks of DESIGN §5; replies and returns false when the event cannot go there. */
static bool check_calendar(struct http_request *req, struct store_conn *c, int64_t user_id,
                           int64_t calendar_id, struct store_write_calendar *cal)
{
	struct app *app = req->app;
	if (!api_calendars_allowed(app, user_id, time_wall_s())) {
		http_reply_error(req, 402, "plan_required",
		                 "Calendars need a trial or a paid plan.",
		                 "Subscribe under Settings → Billing.");
		return false;
	}
	enum cx_err e = store_write_calendar_get(c, user_id, calendar_id, cal);
	if (e == CX_ENOTFOUND) {
		http_reply_error(req, 404, "calendar_not_found", "There is no such calendar.",
		                 "Choose one of your calendars in Settings → Calendars.");
		return false;
	}
	if (e) {
		api_reply_failure(req, e, "reading the calendar");
		return false;
	}
	if (strcmp(cal->account_status, CALENDAR_ACCOUNT_SUSPENDED) == 0) {
		http_reply_error(
		    req, 402, "plan_required",
		    "This calendar's account is suspended: calendars need a trial or a "
		    "paid plan.",
		    "Subscribe under Settings → Billing.");
		return false;
	}
	if (strcmp(cal->account_status, CALENDAR_ACCOUNT_ACTIVE) != 0) {
		http_reply_error(req, 409, "calendar_needs_reconnect",
		                 "This calendar's account needs reconnecting.",
		                 "Reconnect it in Settings → Calendars.");
		return false;
	}
	if (!cal->writable) {
		http_reply_error(req, 403, "calendar_read_only",
		                 "You can only read this calendar, not add events to it.",
		                 "Choose a calendar you own.");
		return false;
	}
	return true;
}

/* The meeting provider checks; *connection_id gets the Zoom connection. */
static bool check_meeting(struct http_request *req, struct store_conn *c, int64_t user_id,
                          const struct store_write_calendar *cal, const char *provider,
                          int64_t *connection_id)
{
	*connection_id = 0;
	if (strcmp(provider, "zoom") == 0) {
		struct store_connection conn;
		enum cx_err e = store_connection_get(c, user_id, "zoom", &conn);
		if (e && e != CX_ENOTFOUND) {
			api_reply_failure(req, e, "reading the Zoom connection");
			return false;
		}
		const char *status = e ? "disconnected" : conn.status;
		bool ok = strcmp(status, "connected") == 0;
		bool reconnect = strcmp(status, "needs_reconnect") == 0;
		*connection_id = e ? 0 : conn.id;
		if (!e)
			store_connection_release(&conn);
		if (reconnect) {
			http_reply_error(req, 409, "provider_needs_reconnect",
			                 "Zoom needs reconnecting: Calendox can no longer use its "
			                 "access to Zoom.",
			                 "Zoom needs reconnecting — reconnect in Settings → App.");
			return false;
		}
		if (!ok) {
			http_reply_error(req, 409, "provider_not_connected",
			                 "Zoom is not connected.",
			                 "Connect Zoom in Settings → App.");
			return false;
		}
		return true;
	}
	bool meet = strcmp(provider, "google_meet") == 0;
	if (strcmp(cal->provider, meet ? "google" : "microsoft") != 0) {
		http_reply_error(
		    req, 409, "provider_not_connected",
		    meet ? "Google Meet links can be added to events in Google calendars "
		           "only."
		         : "Microsoft Teams links can be added to events in Outlook "
		           "calendars only.",
		    "Choose a calendar of that provider, or another meeting provider.");
		return false;
	}
	return true;
}

/* --- waiting for the write job --- */

struct event_wait {
	pthread_mutex_t lock;
	struct http_waiter *waiter; /* until someone wakes it */
	int refs;                   /* the request's, and the watch's while it is registered */
};

/* What the request waits for: it decides the answer's status. */
enum wait_for {
	WAIT_CREATE, /* 201, or 202 while the write or meeting is pending */
	WAIT_CHANGE, /* 200, or 202 likewise */
	WAIT_READ,   /* 200: a read shows the event as it is */
};

struct wait_ctx { /* the request's side, in its arena */
	struct event_wait *w;
	uint64_t watch;
	int64_t event_id;
	int64_t user_id;
	enum wait_for mode;
};

static void wait_unref(struct event_wait *w)
{
	pthread_mutex_lock(&w->lock);
	int refs = --w->refs;
	pthread_mutex_unlock(&w->lock);
	if (refs == 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
	}
}

static void wait_wake(struct event_wait *w)
{
	pthread_mutex_lock(&w->lock);
	struct http_waiter *waiter = w->waiter;
	w->waiter = NULL;
	pthread_mutex_unlock(&w->lock);
	if (waiter)
		http_waiter_wake(waiter);
}

/* On a job worker: the write job ended. */
static void job_settled(int64_t job_id, enum job_state state, void *arg)
{
	(void)job_id;
	(void)state;
	wait_wake(arg);
	wait_unref(arg);
}

static void wait_done(struct http_request *req, void *arg)
{
	struct app *app = req->app;
	struct wait_ctx *ctx = arg;
	if (ctx->watch && job_runner_unwatch(app->jobs, ctx->watch)) {
		wait_wake(ctx->w); /* frees a waiter whose deadline passed */
		wait_unref(ctx->w);
	}
	wait_unref(ctx->w);
}

/* Answers with the event as it stands now. */
static void reply_event(struct http_request *req, int64_t user_id, int64_t event_id,
                        enum wait_for mode)
{
	struct app *app = req->app;
	struct store_event ev;
	enum cx_err e = store_event_get(store_conn(app->store), user_id, event_id, &ev);
	if (e == CX_ENOTFOUND) {
		http_reply_error(req, 404, "not_found", "There is no such event.", NULL);
		return;
	}
	if (e) {
		api_reply_failure(req, e, "reading the event");
		return;
	}
	if (strcmp(ev.write_state, WRITE_FAILED) == 0) {
		char message[400];
		snprintf(message, sizeof(message), "The calendar refused the event: %s",
		         ev.write_error ? ev.write_error : "no reason given");
		http_reply_error(req, 502, "upstream_error", message,
		                 ev.deleted ? "Nothing was saved. Try again in a moment."
		                            : "Your change was not saved to the calendar.");
		store_event_release(&ev);
		return;
	}
	bool pending = strcmp(ev.write_state, WRITE_PENDING) == 0 ||
	               (ev.meeting && strcmp(ev.meeting->status, MEETING_PENDING) == 0);
	int status = mode == WAIT_READ ? 200 : pending ? 202 : mode == WAIT_CREATE ? 201 : 200;
	http_reply_json(req, status, api_event_json(&ev));
	store_event_release(&ev);
}

static void wait_resume(struct http_request *req, bool timed_out)
{
	struct wait_ctx *ctx = req->user;
	(void)timed_out;
	reply_event(req, ctx->user_id, ctx->event_id, ctx->mode);
}

/* Suspends req until the job ends or EVENT_WAIT_MS pass, then answers the event. */
static void wait_for_job(struct http_request *req, int64_t user_id, int64_t event_id,
                         int64_t job_id, enum wait_for mode)
{
	struct app *app = req->app;
	if (!app->jobs) {
		reply_event(req, user_id, event_id, mode);
		return;
	}
	job_runner_kick(app->jobs);
	struct wait_ctx *ctx = arena_alloc(req->arena, sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->event_id = event_id;
	ctx->user_id = user_id;
	ctx->mode = mode;
	ctx->w = xcalloc(1, sizeof(*ctx->w));
	pthread_mutex_init(&ctx->w->lock, NULL);
	ctx->w->refs = 2;
	req->user = ctx;
	http_on_complete(req, wait_done, ctx);
	struct http_waiter *waiter = http_suspend(req, time_now_ms() + EVENT_WAIT_MS, wait_resume);
	pthread_mutex_lock(&ctx->w->lock);
	ctx->w->waiter = waiter;
	pthread_mutex_unlock(&ctx->w->lock);
	ctx->watch = job_runner_watch(app->jobs, job_id, job_settled, ctx->w);
	if (!ctx->watch) {
		wait_unref(ctx->w);
		return; /* the deadline answers */
	}
	/* The job may have ended before the watch was in place. */
	enum job_state state = JOB_QUEUED;
	if (job_get_state(store_conn(app->store), job_id, &state, NULL, NULL) == CX_OK &&
	    (state == JOB_DONE || state == JOB_FAILED) &&
	    job_runner_unwatch(app->jobs, ctx->watch)) {
		ctx->watch = 0;
		job_settled(job_id, state, ctx->w);
	}
}

/* --- the handlers --- */

static char *request_hash(const json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	char *hex = xmalloc(65);
	sec_sha256_hex(text, strlen(text), hex);
	free(text);
	return hex;
}

/* A POST repeated with an Idempotency-Key: the first event, or 422 when the body differs. */
static void reply_repeat(struct http_request *req, int64_t user_id, const char *key,
                         const char *hash)
{
	struct app *app = req->app;
	int64_t id = 0;
	char *first = NULL;
	enum cx_err e =
	    store_event_by_idempotency(store_conn(app->store), user_id, key, &id, &first);
	if (e) {
		api_reply_failure(req, e, "reading the first request");
		return;
	}
	if (!first || strcmp(first, hash) != 0)
		http_reply_error(req, 422, "idempotency_key_reused",
		                 "This Idempotency-Key was used with another request.",
		                 "Use a new key for a new event.");
	else
		reply_event(req, user_id, id, WAIT_CREATE);
	free(first);
}

void api_event_create(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	struct event_input in;
	struct store_write_calendar cal;
	int64_t connection_id = 0, id = 0, job_id = 0;
	char *hash = NULL;
	if (!api_authenticate(req, true, &auth))
		return;
	const char *key = http_header(req, "Idempotency-Key");
	if (key && (!*key || strlen(key) > IDEMPOTENCY_KEY_MAX)) {
		bad(req, "The Idempotency-Key must have 1 to 255 characters.", NULL);
		return;
	}
	json_t *body = api_body(req, event_fields);
	if (!body)
		return;
	struct store_conn *c = store_conn(app->store);
	if (!read_input(req, body, NULL, &in) ||
	    !check_calendar(req, c, auth.id, in.calendar_id, &cal) ||
	    (in.meeting && !check_meeting(req, c, auth.id, &cal, in.meeting, &connection_id)))
		goto out;
	hash = request_hash(body);

	char seed[32];
	char external[64];
	sec_random_token(seed, sizeof(seed), 16);
	if (strcmp(cal.provider, "google") == 0) {
		char gid[GOOGLE_EVENT_ID_LEN + 1];
		google_event_id_for(seed, gid);
		snprintf(external, sizeof(external), "%s", gid);
	} else {
		snprintf(external, sizeof(external), "calendox-pending-%s", seed);
	}
	struct store_event ev = {
	    .external_id = external,
	    .title = (char *)in.title,
	    .start_utc = in.start,
	    .end_utc = in.end,
	    .time_zone = (char *)in.time_zone,
	    .all_day = in.all_day,
	    .description = (char *)in.description,
	    .location = (char *)in.location,
	};
	struct store_event_new n = {
	    .user_id = auth.id,
	    .calendar_id = in.calendar_id,
	    .event = &ev,
	    .write_seed = seed,
	    .idempotency_key = key,
	    .request_hash = hash,
	    .meeting_provider = in.meeting,
	    .connection_id = connection_id,
	};
	enum cx_err e = store_begin(c);
	if (!e)
		e = store_event_create(c, &n, time_wall_s(), &id);
	if (!e)
		e = job_event_write_enqueue(c, id, 0, &job_id);
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		if (e == CX_ECONFLICT && key)
			reply_repeat(req, auth.id, key, hash);
		else
			api_reply_failure(req, e, "saving the event");
		goto out;
	}
	log_info("event created", "user=%lld event=%lld meeting=%s", (long long)auth.id,
	         (long long)id, in.meeting ? in.meeting : "none");
	wait_for_job(req, auth.id, id, job_id, WAIT_CREATE);
out:
	free(hash);
	json_decref(body);
}

static bool route_event(struct http_request *req, int64_t *id)
{
	if (parse_id(http_param(req, "id"), id))
		return true;
	http_reply_error(req, 404, "not_found", "There is no such event.", NULL);
	return false;
}

void api_event_patch(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	struct event_input in;
	struct store_event cur;
	struct store_write_calendar cal;
	int64_t id = 0, generation = 0, job_id = 0, connection_id = 0;
	bool have_cur = false;
	json_t *body = NULL;
	if (!api_authenticate(req, true, &auth) || !route_event(req, &id))
		return;
	struct store_conn *c = store_conn(app->store);
	enum cx_err e = store_event_get(c, auth.id, id, &cur);
	if (e == CX_ENOTFOUND || (!e && cur.deleted)) {
		http_reply_error(req, 404, "not_found", "There is no such event.", NULL);
		goto out;
	}
	if (e) {
		api_reply_failure(req, e, "reading the event");
		goto out;
	}
	have_cur = true;
	body = api_body(req, event_fields);
	if (!body || !read_input(req, body, &cur, &in) ||
	    !check_calendar(req, c, auth.id, cur.calendar_id, &cal) ||
	    (in.meeting && !check_meeting(req, c, auth.id, &cal, in.meeting, &connection_id)))
		goto out;
	const struct store_meeting *m = cur.meeting;
	bool live = m && strcmp(m->status, MEETING_DELETED) != 0 &&
	            strcmp(m->status, MEETING_DELETING) != 0;
	if (in.meeting && live && strcmp(m->provider, in.meeting) != 0) {
		http_reply_error(req, 409, "meeting_exists", "The event already has a meeting.",
		                 "Remove it first (meeting: null), then add the other one.");
		goto out;
	}
	struct store_event_change ch = {
	    .title = in.title,
	    .description = in.has_description ? (in.description ? in.description : "") : NULL,
	    .location = in.has_location ? (in.location ? in.location : "") : NULL,
	    .set_time = in.has_time,
	    .start_utc = in.start,
	    .end_utc = in.end,
	    .all_day = in.all_day,
	    .time_zone = in.time_zone,
	};
	int64_t now = time_wall_s();
	e = store_begin(c);
	if (!e)
		e = store_event_change(c, auth.id, id, &ch, now, &generation);
	if (!e && in.has_meeting && !in.meeting && live)
		/* Removed: a Zoom meeting with an id is deleted by its own job (event_write.c). */
		e = store_meeting_set_status(c, id,
		                             m->external_id && strcmp(m->provider, "zoom") == 0
		                                 ? MEETING_DELETING
		                                 : MEETING_DELETED,
		                             NULL, NULL, NULL, now);
	if (!e && in.meeting && !live)
		e = store_meeting_add(c, auth.id, id, in.meeting, connection_id, now);
	if (!e)
		e = job_event_write_enqueue(c, id, generation, &job_id);
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		if (e == CX_ENOTFOUND)
			http_reply_error(req, 404, "not_found", "There is no such event.", NULL);
		else
			api_reply_failure(req, e, "saving the change");
		goto out;
	}
	wait_for_job(req, auth.id, id, job_id, WAIT_CHANGE);
out:
	if (have_cur)
		store_event_release(&cur);
	json_decref(body);
}

void api_event_refresh(struct http_request *req, int64_t user_id, int64_t event_id)
{
	struct app *app = req->app;
	struct store_conn *c = store_conn(app->store);
	char payload[64];
	int64_t job_id = 0;
	snprintf(payload, sizeof(payload), "{\"event_id\":%lld}", (long long)event_id);
	enum cx_err e = job_enqueue(c, "zoom.meeting.read", payload, NULL, 0, &job_id, NULL);
	if (e) {
		api_reply_failure(req, e, "reading the meeting");
		return;
	}
	wait_for_job(req, user_id, event_id, job_id, WAIT_READ);
}

void api_event_delete(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	int64_t id = 0, generation = 0;
	if (!api_authenticate(req, true, &auth) || !route_event(req, &id))
		return;
	struct store_conn *c = store_conn(app->store);
	enum cx_err e = store_begin(c);
	if (!e)
		e = store_event_request_delete(c, auth.id, id, time_wall_s(), &generation);
	if (!e)
		e = job_event_write_enqueue(c, id, generation, NULL);
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		if (e == CX_ENOTFOUND)
			http_reply_error(req, 404, "not_found", "There is no such event.", NULL);
		else
			api_reply_failure(req, e, "deleting the event");
		return;
	}
	if (app->jobs)
		job_runner_kick(app->jobs);
	log_info("event deleted", "user=%lld event=%lld", (long long)auth.id, (long long)id);
	http_reply_empty(req, 204);
}
