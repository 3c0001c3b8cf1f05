/* event.write and zoom.meeting.delete: carry the person's events and meetings to Google, Outlook
 * and Zoom (DESIGN §4 "Create an event with a meeting", "Edit", "Delete").
 *
 * event.write ({"event_id"}) brings one event's provider copies in line with what Calendox holds.
 * Each run is a loop of steps: read the event, its calendar and its meeting from the store, pick
 * the one provider call that is still missing, make it, store its answer, and read again. The
 * calls, in the order the loop picks them:
 *   - delete the provider event of an event deleted in Calendox (410/404: already gone);
 *   - create the Zoom meeting (POST /users/me/meetings, sent once: Zoom's create is not
 *     idempotent), its id and link stored as soon as the answer arrives; a create whose answer was
 *     lost is recorded before it is sent (create_inflight) so the next try tells the person in
 *     activity that Zoom may hold an extra meeting;
 *   - update the Zoom meeting when the event's time or title moved and meeting:update:meeting is
 *     granted;
 *   - insert the calendar event (Google: the id derived from the event's write seed, so a retry
 *     gets 409 and counts as done; Graph: the seed's transactionId) or patch it, with the join link
 *     in location and Calendox's block in the description, or a Meet/Teams conference;
 *   - read the event back while Google is still setting up a Meet conference.
 * When Zoom fails once, the event is written without the link first and the link follows with a
 * patch, so a Zoom outage never keeps the event out of the person's calendar. When nothing is left
 * to do, the write generation moves on in a statement that checks no change came in meanwhile; if
 * one did, the loop goes on. One write job per event runs at a time (its key names the
 * generation), and every step can run twice: a job taken over after a crash continues from what
 * the store says.
 *
 * zoom.meeting.delete ({"user_id","event_id","meeting_id"}) deletes one Zoom meeting (404 or code
 * 3001: already gone). When Zoom is disconnected the meeting stays in Zoom and activity says so.
 *
 * Threads: runs and steps on job workers (store I/O); token answers on the caller's or the
 * refresher's thread and provider answers on the egress thread touch only the step state and hand
 * back with job_run_continue(). Access tokens live only in the request; nothing here logs them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/kinds.h"
#include "jobs/tokens.h"
#include "providers/google.h"
#include "providers/graph.h"
#include "providers/zoom.h"
#include "store/accounts.h"
#include "store/connections.h"
#include "store/meetings.h"

#include "base/banned.h"

#define WRITE_STEPS_MAX 16           /* provider calls one run makes at most */
#define WRITE_TIMEOUT_MS 30000       /* calendar calls */
#define ZOOM_CREATE_TIMEOUT_MS 60000 /* long: a create that times out may still have happened */
#define ZOOM_TIMEOUT_MS 30000
#define ZOOM_CREATE_TRIES_MAX 8 /* failed creates before the meeting is given up */
#define CONFERENCE_READS_MAX 5  /* reads of an event whose Meet conference is being set up */
#define ZOOM_UPDATE_SCOPE "meeting:update:meeting"

enum write_action {
	ACT_NONE,
	ACT_CAL_DELETE,
	ACT_ZOOM_CREATE,
	ACT_ZOOM_UPDATE,
	ACT_CAL_INSERT,
	ACT_CAL_PATCH,
	ACT_CAL_GET,
	ACT_ZOOM_DELETE, /* zoom.meeting.delete */
	ACT_ZOOM_READ,   /* zoom.meeting.read */
};

/* One run's state across its steps; the answer fields are filled on the egress thread. */
struct write_step {
	struct job_run *run;
	int64_t event_id;
	int steps;
	bool forced;     /* a Zoom refresh was forced after a 401 in this run */
	bool forced_cal; /* the same for the calendar token: each provider has its own */
	enum write_action action;
	struct store_write_target t; /* as read for this action */
	int64_t version;             /* t.local_version when the action was chosen */
	bool google;
	/* zoom.meeting.delete */
	int64_t user_id;
	char *meeting_id;
	/* the answer */
	int64_t token_version;
	enum cx_err token_err;
	enum cx_err err;
	bool sent;
	struct zoom_error zerr;
	struct cal_error cerr;
	struct zoom_meeting zm;
	struct cal_event ce;
	bool have_zm, have_ce, already_gone;
};

static void step_free(struct write_step *ws)
{
	if (!ws)
		return;
	store_write_target_release(&ws->t);
	if (ws->have_zm)
		zoom_meeting_release(&ws->zm);
	if (ws->have_ce)
		cal_event_release(&ws->ce);
	free(ws->meeting_id);
	free(ws);
}

static void answer_reset(struct write_step *ws)
{
	if (ws->have_zm)
		zoom_meeting_release(&ws->zm);
	if (ws->have_ce)
		cal_event_release(&ws->ce);
	memset(&ws->zerr, 0, sizeof(ws->zerr));
	memset(&ws->cerr, 0, sizeof(ws->cerr));
	ws->have_zm = ws->have_ce = ws->already_gone = false;
	ws->err = ws->token_err = CX_OK;
	ws->sent = false;
}

static int64_t payload_int(const struct job *job, const char *key)
{
	json_t *payload = json_loads(job->payload, 0, NULL);
	int64_t v = payload ? (int64_t)json_get_int(payload, key, 0) : 0;
	json_decref(payload);
	return v;
}

static bool has_scope(const char *scopes, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = scopes; p && (p = strstr(p, want)) != NULL; p += n)
		if ((p == scopes || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

static int duration_min(const struct store_event *ev)
{
	int64_t s = ev->end_utc - ev->start_utc;
	return s <= 60 ? 1 : (int)((s + 59) / 60);
}

/* The person's description without Calendox's block (the agenda of the Zoom meeting). */
static char *agenda_of(const struct store_event *ev)
{
	char *out = NULL;
	if (!ev->description || cal_description_set_block(ev->description, NULL, false, &out))
		return ev->description ? xstrdup(ev->description) : NULL;
	return out;
}

static enum cx_err activity(struct store_conn *c, int64_t user_id, const char *kind,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum cx_err activity(struct store_conn *c, int64_t user_id, const char *kind,
                            const char *fmt, ...)
{
	char detail[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return store_activity_add(c, user_id, time_wall_s(), kind, detail);
}

/* A short, quoted title for activity lines. */
static const char *title_of(const struct store_event *ev, char *buf, size_t n)
{
	snprintf(buf, n, "%s", ev->title && *ev->title ? ev->title : "(no title)");
	return buf;
}

/* Enqueues the deletion of a Zoom meeting, keyed by the meeting, so asking twice deletes once. */
static enum cx_err enqueue_zoom_delete(struct store_conn *c, int64_t user_id, int64_t event_id,
                                       const char *meeting_id)
{
	char key[96];
	json_t *payload = json_pack("{s:I, s:I, s:s}", "user_id", (json_int_t)user_id, "event_id",
	                            (json_int_t)event_id, "meeting_id", meeting_id);
	char *text = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	snprintf(key, sizeof(key), "zoom.meeting.delete:%s", meeting_id);
	enum cx_err e = job_enqueue(c, "zoom.meeting.delete", text, key, 0, NULL, NULL);
	free(text);
	return e;
}

/* --- the provider calls --- */

static enum job_outcome step_record(struct job_run *run, struct store_conn *c, void *arg);
static enum job_outcome read_record(struct job_run *run, struct store_conn *c, void *arg);
static enum job_outcome delete_record(struct job_run *run, struct store_conn *c, void *arg);

/* Where an answer (or a token failure) goes back to on a worker: each kind records its own. */
static job_step_fn recorder(const struct write_step *ws)
{
	return ws->action == ACT_ZOOM_READ     ? read_record
	       : ws->action == ACT_ZOOM_DELETE ? delete_record
	                                       : step_record;
}

/* On the egress thread: parse, hand back to a worker. */
static void answered(struct egress_response *resp, void *arg)
{
	struct write_step *ws = arg;
	int64_t now = time_wall_s();
	const char *cal = ws->t.calendar_external_id;
	ws->sent = resp->sent;
	switch (ws->action) {
	case ACT_ZOOM_CREATE:
	case ACT_ZOOM_READ:
		ws->err = zoom_parse_meeting(resp, now, &ws->zm, &ws->zerr);
		ws->have_zm = ws->err == CX_OK;
		break;
	case ACT_ZOOM_UPDATE:
		ws->err = zoom_classify(resp, now, &ws->zerr);
		break;
	case ACT_ZOOM_DELETE:
		ws->err = zoom_delete_result(resp, now, &ws->already_gone, &ws->zerr);
		break;
	case ACT_CAL_DELETE:
		ws->err = ws->google ? google_delete_result(resp, now, &ws->already_gone, &ws->cerr)
		                     : graph_delete_result(resp, now, &ws->already_gone, &ws->cerr);
		break;
	default:
		ws->err = ws->google ? google_parse_event(resp, now, cal, &ws->ce, &ws->cerr)
		                     : graph_parse_event(resp, now, cal, &ws->ce, &ws->cerr);
		ws->have_ce = ws->err == CX_OK;
		break;
	}
	egress_response_free(resp);
	job_run_continue(ws->run, recorder(ws), ws);
}

/* The write spec of the event as Calendox holds it, with its meeting. block and strings it points
 * to live in the caller's frame and the target. *stripped (caller frees) holds a description whose
 * block was taken out. */
static void write_spec(const struct write_step *ws, struct cal_event_write *w,
                       struct cal_meeting_block *block, char **stripped)
{
	const struct store_write_target *t = &ws->t;
	const struct store_event *ev = &t->ev;
	const struct store_meeting *m = t->has_meeting ? &t->meeting : NULL;
	memset(w, 0, sizeof(*w));
	*stripped = NULL;
	w->title = ev->title ? ev->title : "";
	w->description = ev->description;
	w->location = ev->location;
	w->set_time = true;
	w->start_utc = ev->start_utc;
	w->end_utc = ev->end_utc;
	w->all_day = ev->all_day;
	w->time_zone = ev->time_zone;
	w->calendox_id = t->write_seed;
	bool live = m && strcmp(m->status, MEETING_DELETING) != 0 &&
	            strcmp(m->status, MEETING_DELETED) != 0 &&
	            strcmp(m->status, MEETING_FAILED) != 0;
	if (live && strcmp(m->provider, "zoom") == 0 && m->join_url) {
		memset(block, 0, sizeof(*block));
		block->provider_name = "Zoom";
		block->join_url = m->join_url;
		block->meeting_id = m->external_id;
		block->passcode = m->passcode;
		w->meeting = block;
		w->location = NULL; /* the builder puts the join link there */
	} else if (live && strcmp(m->provider, "google_meet") == 0 && !m->join_url) {
		w->conference = CAL_CONFERENCE_MEET;
	} else if (live && strcmp(m->provider, "teams") == 0 && !m->join_url) {
		w->conference = CAL_CONFERENCE_TEAMS;
	} else if (cal_description_has_block(ev->description)) {
		/* The Zoom meeting went: take its block and link out again. */
		if (cal_description_set_block(ev->description, NULL, !ws->google, stripped) ==
		    CX_OK)
			w->description = *stripped;
		if (ev->location &&
		    (strstr(ev->location, "zoom.us/") || strstr(ev->location, "/zoom/j/")))
			w->location = "";
	}
}

static enum cx_err build_request(struct write_step *ws, const char *access,
                                 struct egress_request **r)
{
	const struct job_env *env = ws->run->app;
	const struct config *cfg = env->cfg;
	const struct store_event *ev = &ws->t.ev;
	const char *cal = ws->t.calendar_external_id;
	struct cal_event_write w;
	struct cal_meeting_block block;
	char *stripped = NULL, *agenda = NULL;
	enum cx_err e = CX_EINVAL;
	switch (ws->action) {
	case ACT_ZOOM_CREATE:
	case ACT_ZOOM_UPDATE: {
		agenda = agenda_of(ev);
		struct zoom_meeting_spec spec = {
		    .topic = ev->title,
		    .agenda = agenda,
		    .start_utc = ev->start_utc,
		    .duration_min = duration_min(ev),
		    .time_zone = ev->time_zone,
		};
		int64_t id =
		    ws->t.meeting.external_id ? strtoll(ws->t.meeting.external_id, NULL, 10) : 0;
		e = ws->action == ACT_ZOOM_CREATE
		        ? zoom_meeting_create_request(cfg->zoom.api_url, access, &spec, r)
		        : zoom_meeting_update_request(cfg->zoom.api_url, access, id, &spec, r);
		if (!e)
			(*r)->timeout_ms = ws->action == ACT_ZOOM_CREATE ? ZOOM_CREATE_TIMEOUT_MS
			                                                 : ZOOM_TIMEOUT_MS;
		break;
	}
	case ACT_ZOOM_DELETE:
		e = zoom_meeting_delete_request(cfg->zoom.api_url, access,
		                                strtoll(ws->meeting_id, NULL, 10), r);
		if (!e)
			(*r)->timeout_ms = ZOOM_TIMEOUT_MS;
		break;
	case ACT_ZOOM_READ:
		e = zoom_meeting_get_request(cfg->zoom.api_url, access,
		                             strtoll(ws->t.meeting.external_id, NULL, 10), r);
		if (!e)
			(*r)->timeout_ms = ZOOM_TIMEOUT_MS;
		break;
	case ACT_CAL_DELETE:
		e = ws->google ? google_event_delete_request(cfg->google.api_url, access, cal,
		                                             ev->external_id, r)
		               : graph_event_delete_request(cfg->microsoft.api_url, access,
		                                            ev->external_id, r);
		break;
	case ACT_CAL_GET:
		e = ws->google ? google_event_get_request(cfg->google.api_url, access, cal,
		                                          ev->external_id, r)
		               : graph_event_get_request(cfg->microsoft.api_url, access,
		                                         ev->external_id, r);
		break;
	case ACT_CAL_INSERT:
		write_spec(ws, &w, &block, &stripped);
		e = ws->google
		        ? google_event_insert_request(cfg->google.api_url, access, cal, &w, r)
		        : graph_event_create_request(cfg->microsoft.api_url, access, cal, &w, r);
		break;
	case ACT_CAL_PATCH:
		write_spec(ws, &w, &block, &stripped);
		e = ws->google ? google_event_patch_request(cfg->google.api_url, access, cal,
		                                            ev->external_id, &w, NULL, r)
		               : graph_event_update_request(cfg->microsoft.api_url, access,
		                                            ev->external_id, &w, r);
		break;
	case ACT_NONE:
		break;
	}
	free(stripped);
	free(agenda);
	if (!e)
		(*r)->timeout_ms = job_call_timeout_ms(env, (*r)->timeout_ms ? (*r)->timeout_ms
		                                                             : WRITE_TIMEOUT_MS);
	if (!e)
		(*r)->max_response = CAL_BODY_MAX;
	return e;
}

/* token_get's answer: sends the action's request, or hands the token failure back. */
static void with_token(enum cx_err err, const char *access, int64_t version, void *arg)
{
	struct write_step *ws = arg;
	const struct job_env *env = ws->run->app;
	struct egress_request *r = NULL;
	ws->token_version = version;
	if (err) {
		ws->token_err = err;
		job_run_continue(ws->run, recorder(ws), ws);
		return;
	}
	enum cx_err e = build_request(ws, access, &r);
	if (e) {
		ws->token_err = CX_OK;
		ws->err = e;
		ws->sent = false;
		job_run_continue(ws->run, recorder(ws), ws);
		return;
	}
	r->done = answered;
	r->arg = ws;
	egress_submit(env->egress, r);
}

static bool zoom_action(enum write_action a)
{
	return a == ACT_ZOOM_CREATE || a == ACT_ZOOM_UPDATE || a == ACT_ZOOM_DELETE ||
	       a == ACT_ZOOM_READ;
}

/* Asks for the token the action needs; the rest happens in with_token and answered. */
static enum job_outcome call(struct write_step *ws, struct store_conn *c, bool force,
                             int64_t rejected)
{
	const struct job_env *env = ws->run->app;
	answer_reset(ws);
	if (zoom_action(ws->action)) {
		struct store_connection conn;
		int64_t user = ws->action == ACT_ZOOM_DELETE ? ws->user_id : ws->t.ev.user_id;
		enum cx_err e = store_connection_get(c, user, "zoom", &conn);
		int64_t id = e ? 0 : conn.id;
		if (!e)
			store_connection_release(&conn);
		token_get(env->tokens, TOKEN_ZOOM, id, user, force, rejected, with_token, ws);
	} else {
		token_get(env->tokens, TOKEN_CALENDAR, ws->t.account_id, ws->t.ev.user_id, force,
		          rejected, with_token, ws);
	}
	return JOB_OUTCOME_PENDING;
}

/* --- choosing the next action --- */

static bool meeting_is(const struct store_write_target *t, const char *provider, const char *status)
{
	return t->has_meeting && strcmp(t->meeting.provider, provider) == 0 &&
	       (!status || strcmp(t->meeting.status, status) == 0);
}

static bool zoom_meeting_moved(const struct store_write_target *t)
{
	const struct store_meeting *m = &t->meeting;
	const char *title = t->ev.title ? t->ev.title : "";
	return m->start_utc != t->ev.start_utc || m->end_utc != t->ev.end_utc ||
	       strcmp(m->topic ? m->topic : "", title) != 0;
}

/* The Zoom meeting of an event that is gone (deleted in Calendox or at the provider) or that the
 * person removed from the event: one with an id goes to a zoom.meeting.delete job (keyed by the
 * meeting, so asking again is harmless); one never created is simply dropped. */
static enum cx_err settle_zoom_meeting(struct store_conn *c, const struct store_write_target *t)
{
	const struct store_meeting *m = &t->meeting;
	bool gone = t->delete_requested || t->ev.deleted;
	int64_t now = time_wall_s();
	if (!meeting_is(t, "zoom", NULL))
		return CX_OK;
	if (m->external_id && (strcmp(m->status, MEETING_DELETING) == 0 ||
	                       (gone && (strcmp(m->status, MEETING_PENDING) == 0 ||
	                                 strcmp(m->status, MEETING_READY) == 0)))) {
		enum cx_err e = store_begin(c);
		if (!e)
			e = store_meeting_set_status(c, t->ev.id, MEETING_DELETING, NULL, NULL,
			                             NULL, now);
		if (!e)
			e = enqueue_zoom_delete(c, t->ev.user_id, t->ev.id, m->external_id);
		if (!e)
			e = store_commit(c);
		if (e)
			store_rollback(c);
		return e;
	}
	if (!m->external_id && gone && strcmp(m->status, MEETING_PENDING) == 0)
		return store_meeting_set_status(c, t->ev.id, MEETING_DELETED, NULL, NULL, NULL,
		                                now);
	return CX_OK;
}

/* Picks the next call for ws->t, doing the small store updates that need no call on the way.
 * ACT_NONE with *outcome DONE means nothing is left to call; any other outcome ends the run. */
static enum write_action choose(struct write_step *ws, struct store_conn *c,
                                enum job_outcome *outcome)
{
	struct store_write_target *t = &ws->t;
	struct store_meeting *m = &t->meeting;
	int64_t now_ms = time_wall_ms();
	*outcome = JOB_OUTCOME_DONE;
	enum cx_err e = settle_zoom_meeting(c, t);
	if (e) {
		snprintf(ws->run->error, sizeof(ws->run->error), "settling the meeting failed: %s",
		         cx_strerror(e));
		*outcome = JOB_OUTCOME_RETRY;
		return ACT_NONE;
	}
	if (t->delete_requested && !t->ev.deleted)
		/* A Google insert may have landed unseen (its id is known): delete it anyway. */
		return t->at_provider || (ws->google && t->write_seed) ? ACT_CAL_DELETE : ACT_NONE;
	if (t->ev.deleted)
		return ACT_NONE;
	if (strcmp(t->account_status, "active") != 0) {
		*outcome = JOB_OUTCOME_FAIL;
		snprintf(ws->run->error, sizeof(ws->run->error), "the calendar account is %s",
		         t->account_status);
		return ACT_NONE;
	}
	bool behind = t->local_version > t->written_version;
	if (meeting_is(t, "zoom", MEETING_PENDING) && !m->external_id) {
		if (!t->at_provider && (m->attempts > 0 || m->retry_at_ms > now_ms))
			return ACT_CAL_INSERT; /* the event goes in first; the link follows */
		if (m->retry_at_ms > now_ms) {
			if (behind)
				return ACT_CAL_PATCH;
			ws->run->retry_after_ms = m->retry_at_ms - now_ms;
			snprintf(ws->run->error, sizeof(ws->run->error),
			         "the Zoom meeting waits for Zoom's limit to reset");
			*outcome = JOB_OUTCOME_RETRY;
			return ACT_NONE;
		}
		return ACT_ZOOM_CREATE;
	}
	if (meeting_is(t, "zoom", NULL) && m->external_id &&
	    (strcmp(m->status, MEETING_READY) == 0 || strcmp(m->status, MEETING_PENDING) == 0) &&
	    zoom_meeting_moved(t)) {
		struct store_connection conn;
		bool update = false;
		if (store_connection_get(c, t->ev.user_id, "zoom", &conn) == CX_OK) {
			update = strcmp(conn.status, "connected") == 0 &&
			         has_scope(conn.scopes, ZOOM_UPDATE_SCOPE);
			store_connection_release(&conn);
		}
		if (update)
			return ACT_ZOOM_UPDATE;
		/* Without meeting:update:meeting the meeting keeps its time; note that it was seen.
		 */
		e = store_meeting_set_zoom(c, t->ev.id, m->external_id, m->join_url, m->passcode,
		                           t->ev.title, t->ev.start_utc, t->ev.end_utc,
		                           t->ev.time_zone, time_wall_s());
		if (e) {
			*outcome = JOB_OUTCOME_RETRY;
			return ACT_NONE;
		}
	}
	if (meeting_is(t, "zoom", MEETING_PENDING) && m->external_id)
		return t->at_provider ? ACT_CAL_PATCH : ACT_CAL_INSERT;
	if (t->has_meeting && strcmp(m->provider, "zoom") != 0 &&
	    strcmp(m->status, MEETING_PENDING) == 0) {
		if (!t->at_provider)
			return ACT_CAL_INSERT;
		if (behind)
			return ACT_CAL_PATCH;
		if (m->attempts < CONFERENCE_READS_MAX)
			return ACT_CAL_GET;
		e = store_meeting_set_status(c, t->ev.id, MEETING_FAILED, "upstream_error",
		                             "The calendar did not set up the conference.",
		                             "Remove the meeting from the event and add it again.",
		                             time_wall_s());
		if (e) {
			*outcome = JOB_OUTCOME_RETRY;
			return ACT_NONE;
		}
	}
	if (behind)
		return t->at_provider ? ACT_CAL_PATCH : ACT_CAL_INSERT;
	return ACT_NONE;
}

/* What a failed Zoom create or update leaves on the meeting, and whether the run retries. */
static enum cx_err zoom_failed(struct write_step *ws, struct store_conn *c, int64_t now,
                               enum job_outcome *outcome)
{
	const struct store_write_target *t = &ws->t;
	const struct zoom_error *ze = &ws->zerr;
	char title[160];
	int64_t now_ms = now * 1000;
	bool create = ws->action == ACT_ZOOM_CREATE;
	bool maybe_created = create && ws->token_err == CX_OK && ws->sent && ze->http_status == 0;
	const char *code = NULL, *hint = NULL;
	char message[400];
	bool give_up = false;
	int64_t retry_at = 0;
	message[0] = '\0';
	*outcome = JOB_OUTCOME_RETRY;
	if (ws->token_err == CX_ENOTFOUND) {
		code = "provider_not_connected";
		snprintf(message, sizeof(message),
		         "Zoom is not connected, so no meeting was made.");
		hint = "Connect Zoom in Settings → App, then add the meeting to the event again.";
		give_up = true;
	} else if (ws->token_err == CX_EAUTH || ze->kind == ZOOM_ERR_SCOPE) {
		code = "provider_needs_reconnect";
		snprintf(message, sizeof(message),
		         "Zoom needs reconnecting: Calendox can no longer use its access to Zoom.");
		hint = "Zoom needs reconnecting — reconnect in Settings → App (disconnect, then "
		       "connect again), then add the meeting again.";
		give_up = true;
	} else if (ze->kind == ZOOM_ERR_DAILY_LIMIT) {
		code = "zoom_daily_limit";
		snprintf(
		    message, sizeof(message),
		    "Zoom's daily limit for creating meetings was reached. Calendox creates this "
		    "meeting as soon as Zoom allows it again.");
		int64_t wait_s = ze->retry_after_s > 0 ? ze->retry_after_s : 86400 - now % 86400;
		retry_at = now_ms + wait_s * 1000;
	} else if (ze->kind == ZOOM_ERR_RATE) {
		retry_at = now_ms + (ze->retry_after_s > 0 ? ze->retry_after_s : 1) * 1000;
	} else if (ze->kind == ZOOM_ERR_REJECTED) {
		code = "upstream_error";
		snprintf(message, sizeof(message), "Zoom refused the meeting: %s",
		         ze->message[0] ? ze->message : "no reason given");
		hint = "Check the event's time and title and try again.";
		give_up = true;
	} else {
		int n = t->meeting.attempts + 1;
		retry_at = now_ms + (n < 6 ? (int64_t)1000 << (n - 1) : 60000);
	}
	if (create && !give_up && t->meeting.attempts + 1 >= ZOOM_CREATE_TRIES_MAX) {
		code = "upstream_error";
		snprintf(message, sizeof(message), "Zoom did not answer; no meeting was made.");
		hint = "Try adding the meeting again later.";
		give_up = true;
	}
	snprintf(ws->run->error, sizeof(ws->run->error), "zoom %s failed: status %ld code %d %s",
	         create ? "create" : "update", ze->http_status, ze->code,
	         ws->token_err ? cx_strerror(ws->token_err) : ze->message);
	enum cx_err e = CX_OK;
	if (!create) {
		/* The event keeps its link; record that the meeting now shows the old time. */
		if (give_up || ze->kind == ZOOM_ERR_GONE)
			e = store_meeting_set_zoom(c, t->ev.id, t->meeting.external_id,
			                           t->meeting.join_url, t->meeting.passcode,
			                           t->ev.title, t->ev.start_utc, t->ev.end_utc,
			                           t->ev.time_zone, now);
		if (!e && give_up)
			e = activity(c, t->ev.user_id, "zoom.meeting.update_failed",
			             "The Zoom meeting of “%s” could not be updated: %s",
			             title_of(&t->ev, title, sizeof(title)), message);
		*outcome =
		    give_up || ze->kind == ZOOM_ERR_GONE ? JOB_OUTCOME_DONE : JOB_OUTCOME_RETRY;
		if (*outcome == JOB_OUTCOME_RETRY && retry_at)
			ws->run->retry_after_ms = retry_at - now_ms;
		return e;
	}
	if (give_up) {
		e = store_meeting_create_failed(c, t->ev.id, 0, false, code, message, hint, now);
		if (!e)
			e = store_meeting_set_status(c, t->ev.id, MEETING_FAILED, code, message,
			                             hint, now);
		if (!e)
			e = activity(c, t->ev.user_id, "zoom.meeting.failed",
			             "No Zoom meeting was made for “%s”: %s",
			             title_of(&t->ev, title, sizeof(title)), message);
		*outcome = JOB_OUTCOME_DONE; /* the loop goes on: the event is written without it */
		return e;
	}
	e = store_meeting_create_failed(c, t->ev.id, retry_at, maybe_created, code,
	                                code ? message : NULL, hint, now);
	if (!e && ze->kind == ZOOM_ERR_DAILY_LIMIT && !t->meeting.error_code)
		e = activity(c, t->ev.user_id, "zoom.daily_limit",
		             "Zoom's daily limit for creating meetings was reached; the meeting of "
		             "“%s” is created when Zoom allows it again.",
		             title_of(&t->ev, title, sizeof(title)));
	*outcome = JOB_OUTCOME_DONE; /* the loop decides: write the event first, or wait */
	return e;
}

/* The calendar write failed for good: the event shows why; a new event that never reached the
 * provider is removed with its Zoom meeting (nothing is left behind). In the caller's transaction.
 */
static enum cx_err write_failed(struct store_conn *c, const struct store_write_target *t,
                                const char *reason)
{
	int64_t now = time_wall_s();
	char title[160];
	enum cx_err e = store_event_write_failed(c, t->ev.id, reason, now);
	if (!e && !t->at_provider && t->has_meeting) {
		if (strcmp(t->meeting.provider, "zoom") == 0 && t->meeting.external_id &&
		    strcmp(t->meeting.status, MEETING_DELETED) != 0) {
			e = store_meeting_set_status(c, t->ev.id, MEETING_DELETING, NULL, NULL,
			                             NULL, now);
			if (!e)
				e = enqueue_zoom_delete(c, t->ev.user_id, t->ev.id,
				                        t->meeting.external_id);
		} else {
			e = store_meeting_set_status(c, t->ev.id, MEETING_FAILED, "upstream_error",
			                             reason, NULL, now);
		}
	}
	if (!e)
		e = activity(c, t->ev.user_id,
		             t->at_provider ? "event.update_failed" : "event.create_failed",
		             "“%s” could not be %s: %s", title_of(&t->ev, title, sizeof(title)),
		             t->delete_requested ? "deleted"
		             : t->at_provider    ? "updated"
		                                 : "saved to your calendar",
		             reason);
	return e;
}

static enum cx_err calendar_failed(struct write_step *ws, struct store_conn *c,
                                   enum job_outcome *outcome)
{
	const struct cal_error *ce = &ws->cerr;
	char reason[400];
	*outcome = JOB_OUTCOME_RETRY;
	if (ws->token_err) {
		snprintf(
		    reason, sizeof(reason), "%s",
		    ws->token_err == CX_EAUTH
		        ? "the calendar account needs reconnecting (Settings → Calendars)"
		    : ws->token_err == CX_EFORBIDDEN
		        ? "the calendar account is suspended (subscribe under Settings → Billing)"
		    : ws->token_err == CX_ENOTFOUND ? "the calendar account was removed"
		                                    : cx_strerror(ws->token_err));
		snprintf(ws->run->error, sizeof(ws->run->error), "no calendar token: %s", reason);
		if (ws->token_err == CX_EBUSY || ws->token_err == CX_EUPSTREAM ||
		    ws->token_err == CX_EDB)
			return CX_OK;
	} else {
		snprintf(reason, sizeof(reason), "%s answered %ld%s%s",
		         ws->google ? "Google Calendar" : "Outlook", ce->http_status,
		         ce->message[0] ? ": " : "", ce->message);
		snprintf(ws->run->error, sizeof(ws->run->error), "calendar write failed: %s",
		         reason);
		if (ce->rate_limited || ce->retryable || ws->err == CX_ETIMEOUT) {
			if (ce->retry_after_s > 0)
				ws->run->retry_after_ms = ce->retry_after_s * 1000;
			return CX_OK;
		}
	}
	*outcome = JOB_OUTCOME_DONE;
	return write_failed(c, &ws->t, reason);
}

/* Stores the answer of ws->action. *outcome: DONE to choose the next action, else what the run
 * ends with. */
static enum cx_err record_answer(struct write_step *ws, struct store_conn *c,
                                 enum job_outcome *outcome)
{
	const struct store_write_target *t = &ws->t;
	int64_t now = time_wall_s();
	char title[160], id[32];
	enum cx_err e = CX_OK;
	*outcome = JOB_OUTCOME_DONE;
	switch (ws->action) {
	case ACT_ZOOM_CREATE:
		if (ws->err || ws->token_err)
			return zoom_failed(ws, c, now, outcome);
		snprintf(id, sizeof(id), "%lld", (long long)ws->zm.id);
		e = store_meeting_set_zoom(c, t->ev.id, id, ws->zm.join_url, ws->zm.password,
		                           t->ev.title, t->ev.start_utc, t->ev.end_utc,
		                           t->ev.time_zone, now);
		if (!e)
			e = activity(c, t->ev.user_id, "zoom.meeting.created",
			             "Zoom meeting %s was created for “%s”.", id,
			             title_of(&t->ev, title, sizeof(title)));
		return e;
	case ACT_ZOOM_UPDATE:
		if (ws->err || ws->token_err)
			return zoom_failed(ws, c, now, outcome);
		e = store_meeting_set_zoom(c, t->ev.id, t->meeting.external_id, t->meeting.join_url,
		                           t->meeting.passcode, t->ev.title, t->ev.start_utc,
		                           t->ev.end_utc, t->ev.time_zone, now);
		if (!e)
			e = store_meeting_set_status(c, t->ev.id, t->meeting.status, NULL, NULL,
			                             NULL, now);
		if (!e)
			e = activity(c, t->ev.user_id, "zoom.meeting.updated",
			             "Zoom meeting %s was moved with “%s”.", t->meeting.external_id,
			             title_of(&t->ev, title, sizeof(title)));
		return e;
	case ACT_CAL_DELETE:
		if (ws->err || ws->token_err) {
			e = calendar_failed(ws, c, outcome);
			return e;
		}
		return store_event_delete_done(c, t->ev.id, now);
	case ACT_CAL_INSERT:
	case ACT_CAL_PATCH:
	case ACT_CAL_GET: {
		if (ws->action == ACT_CAL_INSERT && ws->google && ws->cerr.conflict) {
			/* The id is ours: an earlier try inserted it. Read it back. */
			char gid[GOOGLE_EVENT_ID_LEN + 1];
			google_event_id_for(t->write_seed, gid);
			return store_event_written(c, t->ev.id, ws->version, gid, NULL, NULL, now);
		}
		if (ws->action != ACT_CAL_INSERT && !ws->token_err &&
		    (ws->cerr.not_found || ws->cerr.gone))
			/* Deleted at the provider meanwhile: so it is in Calendox too (the next
			 * choice deletes its Zoom meeting). */
			return store_event_delete_done(c, t->ev.id, now);
		if (ws->err || ws->token_err)
			return calendar_failed(ws, c, outcome);
		const struct cal_event *ce = &ws->ce;
		struct store_event_readback back = {
		    .description = ce->description,
		    .location = ce->location,
		    .join_url = ce->join_url                     ? ce->join_url
		                : cal_is_zoom_link(ce->location) ? ce->location
		                                                 : NULL,
		};
		if (ws->action != ACT_CAL_GET)
			e = store_event_written(c, t->ev.id, ws->version, ce->external_id, ce->etag,
			                        &back, now);
		if (e || !t->has_meeting)
			return e;
		const struct store_meeting *m = &t->meeting;
		if (strcmp(m->status, MEETING_PENDING) != 0)
			return e;
		if (strcmp(m->provider, "zoom") == 0) {
			if (m->external_id) {
				e = store_meeting_set_status(c, t->ev.id, MEETING_READY, NULL, NULL,
				                             NULL, now);
			}
		} else if (ce->join_url && *ce->join_url) {
			e = store_meeting_set_link(c, t->ev.id, ce->join_url, MEETING_READY, now);
			if (!e)
				e = activity(c, t->ev.user_id,
				             strcmp(m->provider, "teams") == 0
				                 ? "teams.meeting.created"
				                 : "meet.meeting.created",
				             "A %s link was added to “%s”.",
				             strcmp(m->provider, "teams") == 0 ? "Microsoft Teams"
				                                               : "Google Meet",
				             title_of(&t->ev, title, sizeof(title)));
		} else if (ce->conference_status == CAL_CONF_FAILURE) {
			e = store_meeting_set_status(
			    c, t->ev.id, MEETING_FAILED, "upstream_error",
			    "The calendar could not set up the conference.",
			    "Remove the meeting from the event and add it again.", now);
		} else if (ws->action == ACT_CAL_GET) {
			/* Google is still setting the conference up: read again in a moment
			 * (attempts counts the reads). */
			e = store_meeting_create_failed(c, t->ev.id, 0, false, NULL, NULL, NULL,
			                                now);
			ws->run->retry_after_ms = 1000;
			snprintf(ws->run->error, sizeof(ws->run->error),
			         "waiting for the conference to be set up");
			*outcome = JOB_OUTCOME_RETRY;
		}
		return e;
	}
	default:
		return CX_OK;
	}
}

/* Reads the event and makes the next call, or ends the run. On a worker. */
static enum job_outcome advance(struct write_step *ws, struct store_conn *c)
{
	struct job_run *run = ws->run;
	enum job_outcome outcome = JOB_OUTCOME_DONE;
	for (;;) {
		store_write_target_release(&ws->t);
		enum cx_err e = store_write_target_get(c, ws->event_id, &ws->t);
		if (e == CX_ENOTFOUND)
			break; /* the calendar (and its events) went meanwhile */
		if (e) {
			snprintf(run->error, sizeof(run->error), "reading the event failed: %s",
			         cx_strerror(e));
			outcome = JOB_OUTCOME_RETRY;
			break;
		}
		ws->google = strcmp(ws->t.ev.provider, "google") == 0;
		ws->version = ws->t.local_version;
		ws->action = choose(ws, c, &outcome);
		if (ws->action != ACT_NONE) {
			if (++ws->steps > WRITE_STEPS_MAX) {
				snprintf(run->error, sizeof(run->error),
				         "too many steps in one run");
				run->retry_after_ms = 1000;
				outcome = JOB_OUTCOME_RETRY;
				break;
			}
			if (ws->action == ACT_ZOOM_CREATE) {
				/* Recorded before it is sent: if the answer is lost, the next try
				 * knows Zoom may hold a meeting from this one. */
				char title[160];
				e = store_begin(c);
				if (!e && ws->t.meeting.create_inflight)
					e = activity(
					    c, ws->t.ev.user_id, "zoom.meeting.unconfirmed",
					    "A request to create the Zoom meeting for “%s” "
					    "got no answer. Zoom may hold an extra meeting "
					    "from it; Calendox made another one.",
					    title_of(&ws->t.ev, title, sizeof(title)));
				if (!e)
					e = store_meeting_create_started(c, ws->event_id,
					                                 time_wall_s());
				if (!e)
					e = store_commit(c);
				if (e) {
					store_rollback(c);
					snprintf(run->error, sizeof(run->error),
					         "recording the create failed: %s", cx_strerror(e));
					outcome = JOB_OUTCOME_RETRY;
					break;
				}
			}
			return call(ws, c, false, 0);
		}
		if (outcome != JOB_OUTCOME_DONE)
			break;
		/* Nothing left to call: settle the event and end, unless it changed meanwhile. */
		bool finished = false;
		e = store_begin(c);
		if (!e && ws->t.delete_requested && !ws->t.ev.deleted)
			e = store_event_delete_done(c, ws->event_id, time_wall_s());
		if (!e)
			e = store_event_write_finish(c, ws->event_id, ws->version, &finished);
		if (!e)
			e = store_commit(c);
		if (e) {
			store_rollback(c);
			snprintf(run->error, sizeof(run->error), "finishing the write failed: %s",
			         cx_strerror(e));
			outcome = JOB_OUTCOME_RETRY;
			break;
		}
		if (finished)
			break;
	}
	step_free(ws);
	return outcome;
}

static enum job_outcome step_record(struct job_run *run, struct store_conn *c, void *arg)
{
	struct write_step *ws = arg;
	(void)run;
	if (!c) {
		step_free(ws);
		return JOB_OUTCOME_RETRY;
	}
	/* A refused token: refresh it once (unless someone did already) and try again. */
	bool refused =
	    ws->token_err == CX_OK &&
	    (zoom_action(ws->action) ? ws->zerr.kind == ZOOM_ERR_TOKEN : ws->cerr.auth_invalid);
	bool *forced = zoom_action(ws->action) ? &ws->forced : &ws->forced_cal;
	if (refused && !*forced) {
		*forced = true;
		return call(ws, c, true, ws->token_version);
	}
	enum job_outcome outcome = JOB_OUTCOME_DONE;
	enum cx_err e = store_begin(c);
	if (!e)
		e = record_answer(ws, c, &outcome);
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		snprintf(run->error, sizeof(run->error), "storing the answer failed: %s",
		         cx_strerror(e));
		step_free(ws);
		return JOB_OUTCOME_RETRY;
	}
	if (outcome != JOB_OUTCOME_DONE) {
		step_free(ws);
		return outcome;
	}
	return advance(ws, c);
}

enum job_outcome job_event_write(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct write_step *ws = xcalloc(1, sizeof(*ws));
	ws->run = run;
	ws->event_id = payload_int(run->job, "event_id");
	if (ws->event_id <= 0) {
		step_free(ws);
		snprintf(run->error, sizeof(run->error), "the job names no event");
		return JOB_OUTCOME_FAIL;
	}
	return advance(ws, store_conn(env->store));
}

/* Given up: the event shows why, and a new one leaves nothing behind. In the runner's
 * transaction. */
void job_event_write_failed(struct job_run *run, struct store_conn *c)
{
	struct store_write_target t;
	int64_t event_id = payload_int(run->job, "event_id");
	if (event_id <= 0 || store_write_target_get(c, event_id, &t) != CX_OK)
		return;
	if (strcmp(t.write_state, WRITE_PENDING) == 0 &&
	    write_failed(c, &t, run->error[0] ? run->error : "the provider did not answer") !=
	        CX_OK)
		log_warn("event write failure not recorded", "event=%lld", (long long)event_id);
	store_write_target_release(&t);
}

enum cx_err job_event_write_enqueue(struct store_conn *c, int64_t event_id, int64_t generation,
                                    int64_t *job_id)
{
	char payload[64], key[96];
	snprintf(payload, sizeof(payload), "{\"event_id\":%lld}", (long long)event_id);
	snprintf(key, sizeof(key), "event.write:%lld:%lld", (long long)event_id,
	         (long long)generation);
	return job_enqueue(c, "event.write", payload, key, 0, job_id, NULL);
}

/* --- the single-call kinds: zoom.meeting.delete and zoom.meeting.read --- */

/* Stores the answer of a single-call kind inside the caller's transaction; *outcome says how the
 * run ends (and run->error why, when it does not end DONE). */
typedef enum cx_err (*answer_fn)(struct write_step *ws, struct store_conn *c,
                                 enum job_outcome *outcome);

/* The common end of a single-call kind, on a worker: a refused token is refreshed once and the
 * call made again; otherwise the answer is stored in one transaction. A store failure ends the
 * run with on_store_error. */
static enum job_outcome record_once(struct write_step *ws, struct store_conn *c, answer_fn answer,
                                    enum job_outcome on_store_error)
{
	struct job_run *run = ws->run;
	enum job_outcome outcome = JOB_OUTCOME_DONE;
	if (!c) {
		step_free(ws);
		return JOB_OUTCOME_RETRY;
	}
	if (!ws->token_err && ws->zerr.kind == ZOOM_ERR_TOKEN && !ws->forced) {
		ws->forced = true;
		return call(ws, c, true, ws->token_version);
	}
	enum cx_err e = store_begin(c);
	if (!e)
		e = answer(ws, c, &outcome);
	if (!e)
		e = store_commit(c);
	if (e) {
		store_rollback(c);
		snprintf(run->error, sizeof(run->error), "storing the answer failed: %s",
		         cx_strerror(e));
		outcome = on_store_error;
	}
	step_free(ws);
	return outcome;
}

/* A deleted meeting (or one already gone) is deleted in the store too; one Calendox can no longer
 * delete (Zoom disconnected or refusing) stays in Zoom, and activity says so; anything else is
 * tried again. */
static enum cx_err delete_answer(struct write_step *ws, struct store_conn *c,
                                 enum job_outcome *outcome)
{
	struct job_run *run = ws->run;
	bool deleted = !ws->token_err && !ws->err;
	bool left = ws->token_err == CX_ENOTFOUND || ws->token_err == CX_EAUTH ||
	            ws->zerr.kind == ZOOM_ERR_SCOPE || ws->zerr.kind == ZOOM_ERR_REJECTED;
	if (!deleted && !left) {
		snprintf(run->error, sizeof(run->error),
		         "zoom delete failed: status %ld code %d %s", ws->zerr.http_status,
		         ws->zerr.code,
		         ws->token_err ? cx_strerror(ws->token_err) : ws->zerr.message);
		if (ws->zerr.retry_after_s > 0)
			run->retry_after_ms = ws->zerr.retry_after_s * 1000;
		*outcome = JOB_OUTCOME_RETRY;
		return CX_OK;
	}
	struct store_val p[] = {SV_INT(ws->event_id), SV_TEXT(ws->meeting_id),
	                        SV_INT(time_wall_s())};
	enum cx_err e = store_exec(c,
	                           "UPDATE meetings SET status = 'deleted', updated_at = $3 WHERE "
	                           "event_id = $1 AND external_id = $2",
	                           p, 3, NULL);
	if (e)
		return e;
	if (deleted)
		return activity(c, ws->user_id, "zoom.meeting.deleted",
		                ws->already_gone ? "Zoom meeting %s was already gone from Zoom."
		                                 : "Zoom meeting %s was deleted with its event.",
		                ws->meeting_id);
	const char *why = ws->token_err == CX_ENOTFOUND ? "Zoom is disconnected"
	                  : ws->token_err == CX_EAUTH   ? "Zoom needs reconnecting"
	                                                : "Zoom refused to delete it";
	return activity(c, ws->user_id, "zoom.meeting.left",
	                "Zoom meeting %s stays in Zoom: %s. Delete it in Zoom if it is no longer "
	                "needed.",
	                ws->meeting_id, why);
}

static enum job_outcome delete_record(struct job_run *run, struct store_conn *c, void *arg)
{
	(void)run;
	return record_once(arg, c, delete_answer, JOB_OUTCOME_RETRY);
}

enum job_outcome job_zoom_meeting_delete(struct job_run *run)
{
	const struct job_env *env = run->app;
	json_t *payload = json_loads(run->job->payload, 0, NULL);
	const char *mid = payload ? json_get_str(payload, "meeting_id") : NULL;
	struct write_step *ws = xcalloc(1, sizeof(*ws));
	ws->run = run;
	ws->action = ACT_ZOOM_DELETE;
	ws->user_id = payload ? (int64_t)json_get_int(payload, "user_id", 0) : 0;
	ws->event_id = payload ? (int64_t)json_get_int(payload, "event_id", 0) : 0;
	ws->meeting_id = mid ? xstrdup(mid) : NULL;
	json_decref(payload);
	if (ws->user_id <= 0 || !ws->meeting_id || strtoll(ws->meeting_id, NULL, 10) <= 0) {
		step_free(ws);
		snprintf(run->error, sizeof(run->error), "the job names no meeting");
		return JOB_OUTCOME_FAIL;
	}
	return call(ws, store_conn(env->store), false, 0);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Stores what Zoom says of the meeting now: a changed link or passcode replaces the stored one and
 * goes to the calendar event too (an event.write); a meeting deleted in Zoom shows that. */
static enum cx_err read_answer(struct write_step *ws, struct store_conn *c,
                               enum job_outcome *outcome)
{
	const struct store_write_target *t = &ws->t;
	const struct store_meeting *m = &t->meeting;
	int64_t now = time_wall_s();
	char title[160];
	enum cx_err e = CX_OK;
	*outcome = JOB_OUTCOME_DONE;
	if (!ws->token_err && ws->err == CX_ENOTFOUND) {
		e = store_meeting_set_status(c, t->ev.id, MEETING_FAILED, "meeting_gone",
		                             "The Zoom meeting was deleted in Zoom.",
		                             "Remove the meeting from the event and add it again.",
		                             now);
		if (!e)
			e = activity(c, t->ev.user_id, "zoom.meeting.gone",
			             "Zoom meeting %s of “%s” was deleted in Zoom.", m->external_id,
			             title_of(&t->ev, title, sizeof(title)));
		return e;
	}
	if (ws->token_err || ws->err) {
		/* The stored link stays what the person sees; say why it could not be checked. */
		snprintf(ws->run->error, sizeof(ws->run->error), "reading the meeting failed: %s",
		         ws->token_err ? cx_strerror(ws->token_err) : ws->zerr.message);
		*outcome = JOB_OUTCOME_FAIL;
		return CX_OK;
	}
	if (!ws->zm.join_url || (same(ws->zm.join_url, m->join_url) &&
	                         (!ws->zm.password || same(ws->zm.password, m->passcode))))
		return CX_OK;
	e = store_meeting_set_zoom(c, t->ev.id, m->external_id, ws->zm.join_url,
	                           ws->zm.password ? ws->zm.password : m->passcode, m->topic,
	                           m->start_utc, m->end_utc, m->time_zone, now);
	if (!e && t->at_provider && !t->delete_requested) {
		/* The calendar event carries the old link: write the new one there too. */
		struct store_event_change none = {0};
		int64_t generation = 0;
		e = store_event_change(c, t->ev.user_id, t->ev.id, &none, now, &generation);
		if (!e)
			e = job_event_write_enqueue(c, t->ev.id, generation, NULL);
	}
	if (!e)
		e = activity(c, t->ev.user_id, "zoom.meeting.link_changed",
		             "The join link of “%s” changed in Zoom; Calendox shows the new one.",
		             title_of(&t->ev, title, sizeof(title)));
	return e;
}

static enum job_outcome read_record(struct job_run *run, struct store_conn *c, void *arg)
{
	(void)run;
	return record_once(arg, c, read_answer, JOB_OUTCOME_FAIL);
}

enum job_outcome job_zoom_meeting_read(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct store_conn *c = store_conn(env->store);
	struct write_step *ws = xcalloc(1, sizeof(*ws));
	ws->run = run;
	ws->action = ACT_ZOOM_READ;
	ws->event_id = payload_int(run->job, "event_id");
	enum cx_err e =
	    ws->event_id > 0 ? store_write_target_get(c, ws->event_id, &ws->t) : CX_ENOTFOUND;
	if (e || !meeting_is(&ws->t, "zoom", MEETING_READY) || !ws->t.meeting.external_id) {
		step_free(ws);
		return JOB_OUTCOME_DONE; /* nothing to read (any more) */
	}
	return call(ws, c, false, 0);
}
