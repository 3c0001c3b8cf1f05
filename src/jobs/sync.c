/* calendar.sync and calendar.poll: bring a calendar's events from Google or Microsoft into the
 * store (DESIGN §4 "Delete": sync finds what changed outside Calendox; GOOGLE.md and MICROSOFT.md
 * on sync).
 *
 * A round of calendar.sync ({"calendar_id"}) is either full — Google events.list with singleEvents
 * over the window (30 days back, 365 ahead), or Graph calendarView/delta over it, so recurrences
 * arrive as occurrences — or incremental from the stored cursor (Google's nextSyncToken, Graph's
 * deltaLink). The cursor is written only in the transaction that stores the round's last page, so a
 * round that dies half-way starts again from its first page; the upsert by calendar and provider
 * id keeps that free of duplicates. A 410 (a dead cursor) drops it and starts a full round, at the
 * end of which events of the window that the round did not report are marked deleted.
 *
 * A run goes through the round page by page. The egress completion runs on the egress thread,
 * which must never do store I/O, so it only parses the page and hands it back with
 * job_run_continue(): a worker stores it in one transaction and fetches the next page, within the
 * same attempt. A fetch that fails ends the run as RETRY and parks its position in memory (keyed
 * by the job id and the attempt, with a failure count), so the run after the backoff fetches the
 * same page again; a position that is not found (the process restarted, another instance took the
 * job, or too many rounds failed at once) starts the round again from its first page, which the
 * upsert keeps free of duplicates.
 *
 * One round at a time per calendar: the idempotency key is "calendar.sync:<calendar>:<generation>"
 * and the generation moves on only when a round ends (finished, nothing to do, or given up), so
 * every enqueue during a round returns the running job.
 *
 * calendar.poll is the fallback for missed notifications: it enqueues a round for every calendar
 * not synced within CALENDOX_SYNC_POLL_S. The runner enqueues it every 60 s; with a shorter poll
 * setting each poll also enqueues the next one (one per slot of that length, by key).
 *
 * Threads: runs on job workers; fetched() on the egress thread touches only the run and the parked
 * pages, which sit behind handoff_lock. Access tokens come from the token refresher (jobs/tokens.h)
 * just for the request; nothing here logs them. A 401 retries the page at once with a forced
 * refresh of the token version the provider refused. */
#include <pthread.h>
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
#include "store/calendars.h"
#include "store/events.h"
#include "store/meetings.h"

#include "base/banned.h"

#define SYNC_BACK_S (30 * 86400)
#define SYNC_AHEAD_S (365 * 86400)
#define SYNC_PAGE_SIZE 250
#define SYNC_FETCH_TIMEOUT_MS 30000
#define SYNC_FAILURES_MAX 8 /* failed fetches of one page in a row before giving up */
#define SYNC_BACKOFF_MAX_MS 60000
#define SYNC_HANDOFF_MAX 1024 /* parked failed positions kept at most (the oldest go) */
#define SYNC_HANDOFF_TTL_MS (10 * 60 * 1000)
#define SYNC_POLL_BATCH 500     /* calendars one poll enqueues at most */
#define SYNC_POLL_PERIODIC_S 60 /* the runner's interval for calendar.poll (kinds.c) */

/* Where a round stands. */
struct sync_position {
	bool incremental;     /* following the stored cursor; else a full round over the window */
	char *next;           /* page token or nextLink to fetch; NULL for the round's first page */
	int64_t window_start; /* full rounds: the window, fixed when the round starts */
	int64_t window_end;
	int failures; /* fetches of this page that failed in a row */
	int64_t rejected_version; /* token version the provider refused (401); 0 when none */
};

/* The position of a failed fetch, waiting for the job's next attempt. */
struct sync_handoff {
	int64_t job_id;
	int attempt;              /* the attempt that failed; only attempt + 1 takes it */
	int64_t parked_ms;        /* time_now_ms() when parked */
	struct sync_position pos; /* the position to fetch again */
	struct sync_handoff *next;
};

/* The one mutable global of this file: failed positions parked between attempts. */
static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sync_handoff *handoffs; /* newest first; under handoff_lock */
static size_t handoffs_n;             /* under handoff_lock */

static void handoff_free(struct sync_handoff *h)
{
	if (!h)
		return;
	free(h->pos.next);
	free(h);
}

static void handoff_put(struct sync_handoff *h)
{
	struct sync_handoff *drop = NULL;
	h->parked_ms = time_now_ms();
	pthread_mutex_lock(&handoff_lock);
	h->next = handoffs;
	handoffs = h;
	handoffs_n++;
	/* Unlink the expired ones and everything beyond the maximum (the list is newest first). */
	size_t kept = 0;
	for (struct sync_handoff **p = &handoffs; *p;) {
		struct sync_handoff *cur = *p;
		if (kept >= SYNC_HANDOFF_MAX ||
		    h->parked_ms - cur->parked_ms > SYNC_HANDOFF_TTL_MS) {
			*p = cur->next;
			cur->next = drop;
			drop = cur;
			handoffs_n--;
			continue;
		}
		kept++;
		p = &cur->next;
	}
	pthread_mutex_unlock(&handoff_lock);
	while (drop) {
		struct sync_handoff *next = drop->next;
		handoff_free(drop);
		drop = next;
	}
}

/* The parked entry of this job, when it was parked by the attempt just before this one; any
 * other entry of the job is stale and dropped. Caller frees with handoff_free(). */
static struct sync_handoff *handoff_take(int64_t job_id, int attempt)
{
	struct sync_handoff *found = NULL;
	pthread_mutex_lock(&handoff_lock);
	for (struct sync_handoff **p = &handoffs; *p; p = &(*p)->next) {
		if ((*p)->job_id == job_id) {
			found = *p;
			*p = found->next;
			handoffs_n--;
			break;
		}
	}
	pthread_mutex_unlock(&handoff_lock);
	if (found && found->attempt != attempt - 1) {
		handoff_free(found);
		found = NULL;
	}
	return found;
}

static void position_fresh(const struct store_sync_target *t, int64_t now,
                           struct sync_position *pos)
{
	memset(pos, 0, sizeof(*pos));
	pos->incremental = t->sync_token && *t->sync_token;
	pos->window_start = now - SYNC_BACK_S;
	pos->window_end = now + SYNC_AHEAD_S;
}

/* A sync asked for while this round was queued or running was folded into it, but the round may
 * have read past the change: now that the round has ended, start one more. */
static enum cx_err follow_up(struct store_conn *c, int64_t calendar_id)
{
	bool requested = false;
	int64_t generation = 0;
	enum cx_err e = store_calendar_sync_take_request(c, calendar_id, &requested, &generation);
	if (!e && requested)
		e = job_calendar_sync_enqueue(c, calendar_id, generation, NULL);
	return e;
}

static const char *status_name(enum cal_event_status s)
{
	return s == CAL_STATUS_TENTATIVE ? EVENT_STATUS_TENTATIVE : EVENT_STATUS_CONFIRMED;
}

/* Writes one provider event: cancelled ones are marked deleted (with their occurrences when
 * they are a series), the rest upserted. Events without times cannot be shown and are skipped. */
static enum cx_err store_one(struct store_conn *c, const struct store_sync_target *t,
                             const struct cal_event *ev, int64_t now)
{
	if (ev->status == CAL_STATUS_CANCELLED)
		return store_event_mark_deleted(c, t->calendar_id, ev->external_id, now, NULL);
	if (ev->start_utc == 0 && ev->end_utc == 0)
		return CX_OK;
	struct store_event row = {
	    .external_id = ev->external_id,
	    .title = ev->title,
	    .start_utc = ev->start_utc,
	    .end_utc = ev->end_utc > ev->start_utc ? ev->end_utc : ev->start_utc,
	    .time_zone = ev->time_zone,
	    .all_day = ev->all_day,
	    .description = ev->description,
	    .location = ev->location,
	    .etag = ev->etag,
	    /* A Zoom link Calendox (or the person) put in the location counts as the meeting
	     * when the provider has no conference of its own. */
	    .join_url =
	        ev->join_url ? ev->join_url : (cal_is_zoom_link(ev->location) ? ev->location : NULL),
	    .recurring_series_id = ev->recurring_series_id,
	};
	snprintf(row.status, sizeof(row.status), "%s", status_name(ev->status));
	return store_event_upsert(c, t->calendar_id, t->user_id, &row, t->generation, now, NULL);
}

/* Meetings the page made work for: a Zoom meeting whose event was deleted in Google or Outlook is
 * deleted too, one whose event moved is moved (event_write.c decides). In the page's
 * transaction. */
static enum cx_err meetings_follow(struct store_conn *c, int64_t calendar_id)
{
	int64_t *ids = NULL;
	size_t n = 0;
	enum cx_err e = store_meetings_attention(c, calendar_id, SYNC_PAGE_SIZE, &ids, &n);
	for (size_t i = 0; !e && i < n; i++) {
		int64_t generation = 0;
		e = store_event_write_generation(c, ids[i], &generation);
		if (!e)
			e = job_event_write_enqueue(c, ids[i], generation, NULL);
	}
	free(ids);
	return e;
}

/* Stores a fetched page (fetched at *pos) in one transaction and moves *pos on to the next page,
 * or to a full round's first page after a 410. *finished tells that the page ended the round
 * (cursor stored, generation moved on). */
static enum cx_err store_page(struct store_conn *c, const struct store_sync_target *t,
                              const struct cal_event_page *page, struct sync_position *pos,
                              bool *finished)
{
	int64_t now = time_wall_s();
	*finished = false;
	enum cx_err err = store_begin(c);
	if (err)
		return err;
	for (size_t i = 0; !err && i < page->n; i++)
		err = store_one(c, t, &page->events[i], now);
	if (!err && page->n > 0)
		err = meetings_follow(c, t->calendar_id);
	if (err)
		goto out;
	if (page->full_sync_required) {
		err = store_calendar_sync_reset(c, t->calendar_id);
	} else if (!page->next_page_token) {
		if (!pos->incremental)
			err = store_events_sweep(c, t->calendar_id, t->generation, pos->window_start,
			                         pos->window_end, now, NULL);
		if (!err && !pos->incremental)
			err = meetings_follow(c, t->calendar_id);
		if (!err)
			err = store_calendar_sync_finish(c, t->calendar_id, page->next_sync_token,
			                                 now);
		if (!err)
			err = follow_up(c, t->calendar_id);
	}
	if (!err)
		err = store_commit(c);
out:
	if (err) {
		store_rollback(c);
		return err;
	}
	if (page->full_sync_required) {
		free(pos->next);
		memset(pos, 0, sizeof(*pos));
		pos->window_start = now - SYNC_BACK_S;
		pos->window_end = now + SYNC_AHEAD_S;
	} else if (page->next_page_token) {
		free(pos->next);
		pos->next = xstrdup(page->next_page_token);
		pos->failures = 0;
	} else {
		*finished = true;
	}
	return CX_OK;
}

/* One run's fetch state across its pages; the answer fields are filled off the worker. */
struct sync_fetch {
	struct job_run *run;
	bool google;
	char *calendar_external_id;
	char *sync_token;         /* the stored cursor for incremental rounds; may be NULL */
	struct sync_position pos; /* owned: what is being fetched */
	int64_t token_version;    /* of the access token the request carried */
	bool forced;              /* a refresh was forced after a 401 in this run */
	size_t pages;             /* pages stored by this run */
	/* the answer */
	enum cx_err token_err;
	enum cx_err err;
	struct cal_event_page page;
	struct cal_error ce;
};

static void answer_reset(struct sync_fetch *f)
{
	cal_event_page_release(&f->page);
	memset(&f->page, 0, sizeof(f->page));
	memset(&f->ce, 0, sizeof(f->ce));
	f->err = f->token_err = CX_OK;
}

static void sync_fetch_free(struct sync_fetch *f)
{
	if (!f)
		return;
	answer_reset(f);
	free(f->pos.next);
	free(f->calendar_external_id);
	free(f->sync_token);
	free(f);
}

static int64_t backoff_ms(int failures)
{
	int64_t ms = 1000;
	for (int i = 1; i < failures && ms < SYNC_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > SYNC_BACKOFF_MAX_MS)
		ms = SYNC_BACKOFF_MAX_MS;
	return ms + (int64_t)sec_random_uniform((uint32_t)(ms / 4 + 1));
}

static enum job_outcome page_step(struct job_run *run, struct store_conn *c, void *arg);

/* On the egress thread: no store I/O. Parses the page and hands it back to a worker. */
static void fetched(struct egress_response *resp, void *arg)
{
	struct sync_fetch *f = arg;
	int64_t now = time_wall_s();
	f->err = f->google ? google_parse_event_page(resp, now, f->calendar_external_id, &f->page,
	                                             &f->ce)
	                   : graph_parse_event_page(resp, now, f->calendar_external_id, &f->page,
	                                            &f->ce);
	egress_response_free(resp);
	job_run_continue(f->run, page_step, f);
}

/* token_get's answer: builds and submits the page request with the token. */
static void with_token(enum cx_err err, const char *access, int64_t version, void *arg)
{
	struct sync_fetch *f = arg;
	struct job_run *run = f->run;
	const struct job_env *env = run->app;
	struct egress_request *r = NULL;
	if (err) {
		f->token_err = err;
		job_run_continue(run, page_step, f);
		return;
	}
	f->token_version = version;
	struct sync_position *pos = &f->pos;
	enum cx_err e;
	if (f->google) {
		struct google_list_params lp = {
		    .calendar_id = f->calendar_external_id,
		    .page_token = pos->next,
		    .max_results = SYNC_PAGE_SIZE,
		};
		if (pos->incremental) {
			lp.sync_token = f->sync_token;
		} else {
			lp.time_min = pos->window_start;
			lp.time_max = pos->window_end;
		}
		e = google_events_list_request(env->cfg->google.api_url, access, &lp, &r);
	} else {
		const char *link =
		    pos->next ? pos->next : (pos->incremental ? f->sync_token : NULL);
		e = graph_delta_request(env->cfg->microsoft.api_url, access,
		                        f->calendar_external_id, pos->window_start, pos->window_end,
		                        link, &r);
	}
	if (e) {
		/* Cannot happen with a stored position; fail the fetch as unreadable. */
		f->err = e;
		f->ce.retryable = false;
		job_run_continue(run, page_step, f);
		return;
	}
	r->done = fetched;
	r->arg = f;
	r->timeout_ms = job_call_timeout_ms(env, SYNC_FETCH_TIMEOUT_MS);
	r->max_response = CAL_BODY_MAX;
	egress_submit(env->egress, r);
}

/* Asks for a usable token (refreshed first when it is about to expire, or forced when the
 * provider refused the version rejected) and fetches f->pos with it. */
static enum job_outcome fetch(struct sync_fetch *f, int64_t account_id, int64_t user_id,
                              int64_t rejected)
{
	const struct job_env *env = f->run->app;
	answer_reset(f);
	token_get(env->tokens, TOKEN_CALENDAR, account_id, user_id, rejected > 0, rejected,
	          with_token, f);
	return JOB_OUTCOME_PENDING;
}

/* A fetch failed (or storing its page did: why says so): park the position for the run after
 * the backoff (same page again), or give up. The run ends here. */
static enum job_outcome fetch_failed(struct sync_fetch *f, const char *why)
{
	struct job_run *run = f->run;
	const struct cal_error *ce = &f->ce;
	enum job_outcome outcome = JOB_OUTCOME_FAIL;
	f->pos.failures++;
	if (why) {
		snprintf(run->error, sizeof(run->error), "%s", why);
		run->retry_after_ms = backoff_ms(f->pos.failures);
		outcome = JOB_OUTCOME_RETRY;
	} else if (f->token_err) {
		snprintf(run->error, sizeof(run->error), "no usable access token: %s",
		         cx_strerror(f->token_err));
		if (f->token_err == CX_EBUSY || f->token_err == CX_EUPSTREAM ||
		    f->token_err == CX_EDB) {
			run->retry_after_ms = backoff_ms(f->pos.failures);
			outcome = JOB_OUTCOME_RETRY;
		}
	} else {
		snprintf(run->error, sizeof(run->error), "fetching events failed: status %ld %s %s",
		         ce->http_status, ce->reason[0] ? ce->reason : cx_strerror(f->err),
		         ce->message);
		if (ce->rate_limited && ce->retry_after_s > 0) {
			run->retry_after_ms = ce->retry_after_s * 1000;
			outcome = JOB_OUTCOME_RETRY;
		} else if (ce->rate_limited || ce->retryable || ce->auth_invalid) {
			run->retry_after_ms = backoff_ms(f->pos.failures);
			outcome = JOB_OUTCOME_RETRY;
		}
	}
	if (f->pos.failures >= SYNC_FAILURES_MAX)
		outcome = JOB_OUTCOME_FAIL;
	if (outcome == JOB_OUTCOME_RETRY) {
		struct sync_handoff *h = xcalloc(1, sizeof(*h));
		h->job_id = run->job->id;
		h->attempt = run->job->attempts;
		h->pos = f->pos;
		f->pos.next = NULL; /* handed to h */
		handoff_put(h);
	}
	sync_fetch_free(f);
	return outcome;
}

static int64_t payload_calendar(const struct job *job)
{
	json_t *payload = json_loads(job->payload, 0, NULL);
	int64_t id = payload ? (int64_t)json_get_int(payload, "calendar_id", 0) : 0;
	json_decref(payload);
	return id;
}

/* Ends a round that has nothing to do, so the next enqueue gets a fresh key. */
static enum job_outcome done_idle(struct job_run *run, struct store_conn *c, int64_t calendar_id,
                                  const char *why)
{
	enum cx_err e = store_calendar_sync_abandon(c, calendar_id);
	if (!e)
		e = follow_up(c, calendar_id);
	if (e) {
		snprintf(run->error, sizeof(run->error), "ending the sync failed: %s",
		         cx_strerror(e));
		return JOB_OUTCOME_RETRY;
	}
	log_info("calendar sync skipped", "calendar=%lld reason=%s", (long long)calendar_id, why);
	return JOB_OUTCOME_DONE;
}

/* On a worker: the answer of a fetch. Stores the page and fetches the next one, or ends the
 * run (finished, nothing to do, or failed for now). */
static enum job_outcome page_step(struct job_run *run, struct store_conn *c, void *arg)
{
	struct sync_fetch *f = arg;
	struct store_sync_target t;
	enum job_outcome outcome = JOB_OUTCOME_DONE;
	if (!c) {
		sync_fetch_free(f);
		return JOB_OUTCOME_RETRY;
	}
	int64_t calendar_id = payload_calendar(run->job);
	enum cx_err e = store_sync_target_get(c, calendar_id, &t);
	if (e == CX_ENOTFOUND) {
		sync_fetch_free(f);
		return JOB_OUTCOME_DONE; /* removed meanwhile */
	}
	if (e)
		return fetch_failed(f, "reading the calendar failed");
	if (strcmp(t.account_status, CALENDAR_ACCOUNT_ACTIVE) != 0 || !t.selected) {
		outcome = done_idle(run, c, calendar_id,
		                    t.selected ? "account not active" : "calendar not selected");
		sync_fetch_free(f);
		goto out;
	}
	if (!f->token_err && f->err && f->ce.auth_invalid && !f->forced) {
		/* The token was refused (expired early, revoked): fetch the same page again at
		 * once with a refresh forced for exactly this version. */
		f->forced = true;
		outcome = fetch(f, t.account_id, t.user_id, f->token_version);
		goto out;
	}
	if (f->token_err || f->err) {
		outcome = fetch_failed(f, NULL);
		goto out;
	}
	bool finished = false;
	bool was_incremental = f->pos.incremental;
	e = store_page(c, &t, &f->page, &f->pos, &finished);
	if (e) {
		char why[128];
		snprintf(why, sizeof(why), "storing events failed: %s", cx_strerror(e));
		outcome = fetch_failed(f, why);
		goto out;
	}
	f->pages++;
	if (finished) {
		log_info("calendar synced", "calendar=%lld provider=%s mode=%s events=%zu pages=%zu",
		         (long long)calendar_id, t.provider,
		         was_incremental ? "incremental" : "full", f->page.n, f->pages);
		sync_fetch_free(f);
		goto out;
	}
	if (f->page.full_sync_required) {
		log_info("calendar sync cursor expired, full resync", "calendar=%lld",
		         (long long)calendar_id);
		free(f->sync_token);
		f->sync_token = NULL;
	}
	outcome = fetch(f, t.account_id, t.user_id, 0);
out:
	store_sync_target_release(&t);
	return outcome;
}

enum job_outcome job_calendar_sync(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct store_conn *c = store_conn(env->store);
	struct store_sync_target t;
	int64_t calendar_id = payload_calendar(run->job);
	if (calendar_id <= 0) {
		snprintf(run->error, sizeof(run->error), "the sync job names no calendar");
		return JOB_OUTCOME_FAIL;
	}
	enum cx_err e = store_sync_target_get(c, calendar_id, &t);
	if (e == CX_ENOTFOUND)
		return JOB_OUTCOME_DONE; /* removed meanwhile: nothing to sync */
	if (e) {
		snprintf(run->error, sizeof(run->error), "reading the calendar failed: %s",
		         cx_strerror(e));
		return JOB_OUTCOME_RETRY;
	}
	struct sync_handoff *h = handoff_take(run->job->id, run->job->attempts);
	enum job_outcome outcome;
	if (strcmp(t.account_status, CALENDAR_ACCOUNT_ACTIVE) != 0 || !t.selected) {
		outcome = done_idle(run, c, calendar_id,
		                    t.selected ? "account not active" : "calendar not selected");
		handoff_free(h);
		store_sync_target_release(&t);
		return outcome;
	}
	struct sync_fetch *f = xcalloc(1, sizeof(*f));
	f->run = run;
	f->google = strcmp(t.provider, "google") == 0;
	f->calendar_external_id = xstrdup(t.calendar_external_id);
	f->sync_token = t.sync_token ? xstrdup(t.sync_token) : NULL;
	if (h) {
		/* The page that failed last time, unless the cursor it followed is gone. */
		f->pos = h->pos;
		h->pos.next = NULL;
		if (f->pos.incremental && !f->sync_token) {
			free(f->pos.next);
			position_fresh(&t, time_wall_s(), &f->pos);
		}
	} else {
		position_fresh(&t, time_wall_s(), &f->pos);
	}
	handoff_free(h);
	outcome = fetch(f, t.account_id, t.user_id, 0);
	store_sync_target_release(&t);
	return outcome;
}

/* The round was given up (too many failures): move the generation on so a later enqueue (the
 * poll) starts a new round. Inside the runner's transaction. */
void job_calendar_sync_failed(struct job_run *run, struct store_conn *c)
{
	int64_t calendar_id = payload_calendar(run->job);
	if (calendar_id > 0 && (store_calendar_sync_abandon(c, calendar_id) != CX_OK ||
	                        follow_up(c, calendar_id) != CX_OK))
		log_warn("sync generation not moved on", "calendar=%lld", (long long)calendar_id);
}

enum cx_err job_calendar_sync_enqueue(struct store_conn *c, int64_t calendar_id, int64_t generation,
                                      bool *created)
{
	char payload[64], key[96];
	snprintf(payload, sizeof(payload), "{\"calendar_id\":%lld}", (long long)calendar_id);
	snprintf(key, sizeof(key), "calendar.sync:%lld:%lld", (long long)calendar_id,
	         (long long)generation);
	bool fresh = false;
	enum cx_err e = job_enqueue(c, "calendar.sync", payload, key, 0, NULL, &fresh);
	/* Folded into a round already queued or running: make sure another follows it. */
	if (!e && !fresh)
		e = store_calendar_sync_request(c, calendar_id);
	if (created)
		*created = fresh;
	return e;
}

enum cx_err job_calendar_sync_enqueue_account(struct store_conn *c, int64_t account_id, size_t *n)
{
	struct store_sync_due *due = NULL;
	size_t count = 0, queued = 0;
	enum cx_err e =
	    store_calendars_sync_due(c, account_id, 0, CALENDARS_PER_ACCOUNT_MAX, &due, &count);
	for (size_t i = 0; !e && i < count; i++) {
		bool created = false;
		e = job_calendar_sync_enqueue(c, due[i].calendar_id, due[i].generation, &created);
		queued += created;
	}
	free(due);
	if (n)
		*n = e ? 0 : queued;
	return e;
}

enum job_outcome job_calendar_poll(struct job_run *run)
{
	const struct job_env *env = run->app;
	struct store_conn *c = store_conn(env->store);
	struct store_sync_due *due = NULL;
	size_t count = 0, queued = 0;
	int64_t poll_s = env->cfg->sync_poll_s > 0 ? env->cfg->sync_poll_s : SYNC_POLL_PERIODIC_S;
	enum cx_err e = store_begin(c);
	if (e)
		goto out;
	e = store_calendars_sync_due(c, 0, time_wall_s() - poll_s, SYNC_POLL_BATCH, &due, &count);
	for (size_t i = 0; !e && i < count; i++) {
		bool created = false;
		e = job_calendar_sync_enqueue(c, due[i].calendar_id, due[i].generation, &created);
		queued += created;
	}
	if (!e && poll_s < SYNC_POLL_PERIODIC_S) {
		/* A poll setting shorter than the runner's interval: chain the next poll, one per
		 * slot across instances. */
		int64_t slot_ms = poll_s * 1000;
		int64_t slot = time_wall_ms() / slot_ms + 1;
		char key[64];
		snprintf(key, sizeof(key), "calendar.poll:%lld:%lld", (long long)poll_s,
		         (long long)slot);
		e = job_enqueue(c, "calendar.poll", "{}", key, slot * slot_ms, NULL, NULL);
	}
	if (!e)
		e = store_commit(c);
out:
	free(due);
	if (e) {
		store_rollback(c);
		snprintf(run->error, sizeof(run->error), "enqueueing syncs failed: %s",
		         cx_strerror(e));
		return JOB_OUTCOME_RETRY;
	}
	if (queued > 0) {
		log_info("calendar poll", "queued=%zu", queued);
		job_runner_kick(run->runner);
	}
	return JOB_OUTCOME_DONE;
}
