/* tokens.c: single-flight token refresh for Zoom connections and calendar accounts (jobs/tokens.h).
 *
 * One thread owns a timed queue of waits (struct token_wait). A wait is either due for a check
 * (re-read the row, take the lease or wait for whoever has it) or carries the token endpoint's
 * answer back from the egress thread, to be stored. The lock guards only the queue and counters;
 * store calls, egress submits and done callbacks run outside it. */
#include "jobs/tokens.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "core/tokens.h"
#include "egress/oauth.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/connections.h"
#include "store/token_lease.h"

#include "base/banned.h"

#define DEFAULT_TIMEOUT_MS 20000L
#define IDLE_WAIT_MS 1000

/* One caller waiting for a token. Owned by whichever side holds it: the refresher's queue, the
 * refresher thread while it works on it, or the egress thread while the refresh is in flight. */
struct token_wait {
	struct token_wait *next;
	struct token_refresher *refresher;
	enum token_owner kind;
	int64_t row_id;
	int64_t user_id;
	bool force;
	int64_t rejected_version;
	token_done_fn done;
	void *arg;
	int64_t first_ms;             /* monotonic: when it began waiting (bounds the wait) */
	int64_t due_ms;               /* monotonic: when to look again */
	int64_t version;              /* the token_version being refreshed under the lease */
	char owner[48];               /* the lease holder's name while it holds the lease */
	char *old_refresh;            /* secret: the refresh token sent, kept if none comes back */
	struct egress_response *resp; /* the refresh answer, set by the egress completion */
};

struct token_refresher {
	struct token_refresher_options opts;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;      /* CLOCK_MONOTONIC: new waits, answers, the stop */
	struct token_wait *queue; /* under lock */
	size_t waiting;           /* under lock: every wait not yet answered */
	size_t in_flight;         /* under lock: refreshes at the egress thread */
	bool stopping;            /* under lock */
	uint64_t refreshes;       /* under lock */
	uint64_t seq;             /* under lock: numbers lease owners */
	char instance[24];        /* random: names this process's leases */
};

/* What a row needs for a refresh, the same for both tables. */
struct token_row {
	char provider[16]; /* "zoom", "google", "microsoft" */
	char status[24];
	char *tokens; /* sealed; NULL when none */
	char *email;  /* may be NULL */
	int64_t expires_at;
	int64_t version;
};

static void row_release(struct token_row *row)
{
	free(row->tokens);
	free(row->email);
	memset(row, 0, sizeof(*row));
}

static void free_secret(char *s)
{
	if (s) {
		sec_wipe(s, strlen(s));
		free(s);
	}
}

/* Reads the row and checks that it can have a token: needs_reconnect is CX_EAUTH, a suspended
 * calendar account CX_EFORBIDDEN, a disconnected one or one without tokens CX_ENOTFOUND. */
static enum cx_err row_read(struct store_conn *c, enum token_owner kind, int64_t id,
                            int64_t user_id, struct token_row *out)
{
	enum cx_err err;
	memset(out, 0, sizeof(*out));
	if (kind == TOKEN_ZOOM) {
		struct store_connection conn;
		err = store_connection_get_by_id(c, user_id, id, &conn);
		if (err)
			return err;
		snprintf(out->provider, sizeof(out->provider), "%s", conn.app);
		snprintf(out->status, sizeof(out->status), "%s", conn.status);
		out->tokens = conn.tokens;
		out->email = conn.external_email;
		conn.tokens = NULL;
		conn.external_email = NULL;
		out->expires_at = conn.token_expires_at;
		out->version = conn.token_version;
		store_connection_release(&conn);
		if (strcmp(out->status, CONNECTION_NEEDS_RECONNECT) == 0)
			err = CX_EAUTH;
		else if (strcmp(out->status, CONNECTION_CONNECTED) != 0)
			err = CX_ENOTFOUND;
	} else {
		struct store_calendar_account a;
		err = store_calendar_account_get(c, user_id, id, &a);
		if (err)
			return err;
		snprintf(out->provider, sizeof(out->provider), "%s", a.provider);
		snprintf(out->status, sizeof(out->status), "%s", a.status);
		out->tokens = a.tokens;
		out->email = a.external_email;
		a.tokens = NULL;
		a.external_email = NULL;
		out->expires_at = a.token_expires_at;
		out->version = a.token_version;
		store_calendar_account_release(&a);
		if (strcmp(out->status, CALENDAR_ACCOUNT_NEEDS_RECONNECT) == 0)
			err = CX_EAUTH;
		else if (strcmp(out->status, CALENDAR_ACCOUNT_SUSPENDED) == 0)
			err = CX_EFORBIDDEN;
		else if (strcmp(out->status, CALENDAR_ACCOUNT_ACTIVE) != 0)
			err = CX_ENOTFOUND;
	}
	if (!err && !out->tokens)
		err = CX_ENOTFOUND;
	if (err)
		row_release(out);
	return err;
}

/* What differs between the providers' token endpoints and how a broken grant is reported. */
struct token_provider {
	const char *title;     /* for people */
	const char *seal_kind; /* core/tokens.h associated data kind */
	const char *where;     /* where the person disconnects and connects again */
	enum oauth_client_auth auth;
	const struct provider_config *pc;
	bool scope_extra; /* Microsoft wants the scopes with a refresh */
};

static enum cx_err provider_of(const struct token_refresher *t, enum token_owner kind,
                               const char *provider, struct token_provider *out)
{
	const struct config *cfg = t->opts.cfg;
	memset(out, 0, sizeof(*out));
	if (kind == TOKEN_ZOOM && strcmp(provider, "zoom") == 0) {
		*out = (struct token_provider){"Zoom",           "app_connection", "Settings → App",
		                               OAUTH_AUTH_BASIC, &cfg->zoom,       false};
	} else if (kind == TOKEN_CALENDAR && strcmp(provider, "google") == 0) {
		*out = (struct token_provider){
		    "Google",        "calendar_account", "Settings → Calendars",
		    OAUTH_AUTH_BODY, &cfg->google,       false};
	} else if (kind == TOKEN_CALENDAR && strcmp(provider, "microsoft") == 0) {
		*out = (struct token_provider){
		    "Microsoft",     "calendar_account", "Settings → Calendars",
		    OAUTH_AUTH_BODY, &cfg->microsoft,    true};
	} else {
		return CX_EINVAL;
	}
	return CX_OK;
}

static bool needs_refresh(const struct token_row *row, int64_t now_s, bool force,
                          int64_t rejected_version)
{
	if (force && row->version == rejected_version)
		return true;
	return row->expires_at <= now_s + TOKEN_REFRESH_MARGIN_S;
}

static enum cx_err open_tokens(const struct token_refresher *t, enum token_owner kind, int64_t id,
                               const struct token_row *row, char **access, char **refresh)
{
	struct token_provider p;
	enum cx_err err = provider_of(t, kind, row->provider, &p);
	if (err)
		return err;
	return tokens_open(t->opts.cfg->secret_key, p.seal_kind, id, row->tokens, access, refresh);
}

/* --- the store steps, per table --- */

static enum store_token_table table_of(const struct token_wait *w)
{
	return w->kind == TOKEN_ZOOM ? STORE_TOKENS_APP_CONNECTION : STORE_TOKENS_CALENDAR_ACCOUNT;
}

static enum cx_err lease_take(struct store_conn *c, const struct token_wait *w, int64_t version,
                              int64_t now_ms, int64_t until_ms, bool *taken)
{
	return store_token_lease_take(c, table_of(w), w->row_id, version, w->owner, now_ms,
	                              until_ms, taken);
}

static void lease_release(struct store_conn *c, struct token_wait *w)
{
	if (!w->owner[0])
		return;
	enum cx_err err = store_token_lease_release(c, table_of(w), w->row_id, w->owner);
	if (err)
		log_warn("token refresh lease not released, it expires by itself",
		         "row=%lld error=%s", (long long)w->row_id, cx_strerror(err));
	w->owner[0] = '\0';
}

static enum cx_err lease_store(struct store_conn *c, const struct token_wait *w, const char *sealed,
                               int64_t expires_at, bool *stored)
{
	return store_token_lease_store(c, table_of(w), w->row_id, w->owner, sealed, expires_at,
	                               time_wall_s(), stored);
}

/* --- the queue --- */

static void push_locked(struct token_refresher *t, struct token_wait *w)
{
	w->next = t->queue;
	t->queue = w;
	pthread_cond_signal(&t->wake);
}

static void requeue(struct token_refresher *t, struct token_wait *w, int64_t delay_ms)
{
	w->due_ms = time_now_ms() + delay_ms;
	pthread_mutex_lock(&t->lock);
	push_locked(t, w);
	pthread_mutex_unlock(&t->lock);
}

/* Calls done once and forgets the wait. */
static void answer(struct token_refresher *t, struct token_wait *w, enum cx_err err,
                   const char *access_token, int64_t version)
{
	w->done(err, err ? NULL : access_token, err ? 0 : version, w->arg);
	free_secret(w->old_refresh);
	if (w->resp)
		egress_response_free(w->resp);
	free(w);
	pthread_mutex_lock(&t->lock);
	t->waiting--;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

/* The egress thread's completion: no store work here, only the hand-back. */
static void refreshed(struct egress_response *resp, void *arg)
{
	struct token_wait *w = arg;
	struct token_refresher *t = w->refresher;
	w->resp = resp;
	w->due_ms = 0;
	pthread_mutex_lock(&t->lock);
	t->in_flight--;
	push_locked(t, w);
	pthread_mutex_unlock(&t->lock);
}

/* The grant is dead and nobody refreshed meanwhile: needs_reconnect, last_error and the activity
 * entry in one transaction, then CX_EAUTH to the caller. */
static void mark_broken(struct token_refresher *t, struct store_conn *c, struct token_wait *w,
                        const struct token_row *row, const char *why)
{
	struct token_provider p;
	char kind[48], detail[512], last_error[256];
	bool marked = false;
	int64_t now = time_wall_s();
	enum cx_err err = provider_of(t, w->kind, row->provider, &p);
	if (err)
		goto out;
	snprintf(kind, sizeof(kind), "%s.needs_reconnect", row->provider);
	snprintf(last_error, sizeof(last_error),
	         "The %s authorization can no longer be renewed (%s): disconnect %s and connect it "
	         "again.",
	         p.title, why, p.title);
	if (w->kind == TOKEN_ZOOM)
		snprintf(detail, sizeof(detail),
		         "Calendox can no longer renew its access to your Zoom account (%s), so it "
		         "cannot create Zoom meetings. Disconnect Zoom in %s and connect it again.",
		         why, p.where);
	else
		snprintf(detail, sizeof(detail),
		         "Calendox can no longer renew its access to your %s account%s%s (%s), so "
		         "it cannot sync it or write events to it. Disconnect it in %s and connect "
		         "it again.",
		         p.title, row->email ? " " : "", row->email ? row->email : "", why,
		         p.where);
	err = store_begin(c);
	if (err)
		goto out;
	err = store_token_lease_broken(c, table_of(w), w->row_id, w->owner, last_error, now,
	                               &marked);
	if (!err && marked)
		err = store_activity_add(c, w->user_id, now, kind, detail);
	if (!err)
		err = store_commit(c);
out:
	if (store_in_transaction(c))
		store_rollback(c);
	if (err) {
		log_error("marking a connection needs_reconnect failed",
		          "provider=%s row=%lld error=%s", row->provider, (long long)w->row_id,
		          cx_strerror(err));
		lease_release(c, w);
		answer(t, w, err, NULL, 0);
		return;
	}
	if (!marked) {
		/* The lease was lost (it expired and another refresher took it): look again. */
		w->owner[0] = '\0';
		requeue(t, w, 0);
		return;
	}
	w->owner[0] = '\0';
	log_warn("connection needs reconnecting", "provider=%s row=%lld reason=%s", row->provider,
	         (long long)w->row_id, why);
	answer(t, w, CX_EAUTH, NULL, 0);
}

/* Re-reads the row: hands out a usable token, or takes the lease and sends the refresh, or waits
 * for whoever holds the lease. */
static void check(struct token_refresher *t, struct store_conn *c, struct token_wait *w)
{
	struct token_row row;
	struct token_provider p;
	char *access = NULL, *refresh = NULL;
	struct egress_request *r = NULL;
	enum cx_err err = row_read(c, w->kind, w->row_id, w->user_id, &row);
	if (err) {
		answer(t, w, err, NULL, 0);
		return;
	}
	if (!needs_refresh(&row, time_wall_s(), w->force, w->rejected_version)) {
		err = open_tokens(t, w->kind, w->row_id, &row, &access, NULL);
		answer(t, w, err, access, row.version);
		goto out;
	}
	int64_t now = time_now_ms();
	if (now - w->first_ms > t->opts.lease_ms) {
		log_warn("token refresh wait gave up", "provider=%s row=%lld", row.provider,
		         (long long)w->row_id);
		answer(t, w, CX_EBUSY, NULL, 0);
		goto out;
	}
	pthread_mutex_lock(&t->lock);
	uint64_t seq = ++t->seq;
	pthread_mutex_unlock(&t->lock);
	snprintf(w->owner, sizeof(w->owner), "%s-%llu", t->instance, (unsigned long long)seq);
	bool taken = false;
	int64_t wall = time_wall_ms();
	err = lease_take(c, w, row.version, wall, wall + t->opts.lease_ms, &taken);
	if (err || !taken) {
		w->owner[0] = '\0';
		if (err)
			log_warn("token refresh lease not taken", "row=%lld error=%s",
			         (long long)w->row_id, cx_strerror(err));
		requeue(t, w, t->opts.wait_step_ms);
		goto out;
	}
	err = open_tokens(t, w->kind, w->row_id, &row, &access, &refresh);
	if (err) {
		lease_release(c, w);
		answer(t, w, err, NULL, 0);
		goto out;
	}
	if (!refresh || !refresh[0]) {
		mark_broken(t, c, w, &row, "no refresh token was granted");
		goto out;
	}
	err = provider_of(t, w->kind, row.provider, &p);
	struct oauth_param extras[] = {{"scope", p.pc ? p.pc->scopes : NULL}, {NULL, NULL}};
	if (!err)
		err = oauth_refresh_request(p.pc, p.auth, refresh,
		                            p.scope_extra && p.pc->scopes ? extras : NULL, &r);
	if (err) {
		log_error("token refresh request not built", "provider=%s error=%s", row.provider,
		          cx_strerror(err));
		lease_release(c, w);
		answer(t, w, err, NULL, 0);
		goto out;
	}
	w->version = row.version;
	w->old_refresh = refresh;
	refresh = NULL;
	r->done = refreshed;
	r->arg = w;
	r->timeout_ms = t->opts.timeout_ms;
	pthread_mutex_lock(&t->lock);
	t->in_flight++;
	t->refreshes++;
	pthread_mutex_unlock(&t->lock);
	egress_submit(t->opts.egress, r);
out:
	free_secret(access);
	free_secret(refresh);
	row_release(&row);
}

/* Stores the token endpoint's answer under the lease, or decides what its failure means. */
static void store_answer(struct token_refresher *t, struct store_conn *c, struct token_wait *w)
{
	struct egress_response *resp = w->resp;
	struct oauth_tokens tok;
	struct oauth_error oe;
	struct token_row row;
	char *sealed = NULL;
	bool stored = false;
	memset(&row, 0, sizeof(row));
	memset(&tok, 0, sizeof(tok));
	w->resp = NULL;
	enum cx_err err = oauth_parse_tokens(resp, time_wall_s(), w->old_refresh, &tok, &oe);
	egress_response_free(resp);
	if (!err) {
		/* The row's provider cannot change under the lease; reading it again costs a query,
		 * so the seal kind comes from the owner kind directly. */
		const char *seal_kind =
		    w->kind == TOKEN_ZOOM ? "app_connection" : "calendar_account";
		err = tokens_seal(t->opts.cfg->secret_key, seal_kind, w->row_id, tok.access_token,
		                  tok.refresh_token, &sealed);
		if (!err)
			err = lease_store(c, w, sealed, tok.expires_at, &stored);
		if (err) {
			log_error("refreshed tokens not stored", "row=%lld error=%s",
			          (long long)w->row_id, cx_strerror(err));
			lease_release(c, w);
			answer(t, w, err, NULL, 0);
		} else if (!stored) {
			log_warn("refreshed tokens dropped, the refresh lease was lost", "row=%lld",
			         (long long)w->row_id);
			w->owner[0] = '\0';
			requeue(t, w, 0);
		} else {
			w->owner[0] = '\0';
			answer(t, w, CX_OK, tok.access_token, w->version + 1);
		}
		goto out;
	}
	if (oe.invalid_grant) {
		/* Believe a dead grant only after re-reading: another refresher or a reconnect may
		 * have replaced the tokens meanwhile (DESIGN §4). */
		enum cx_err rerr = row_read(c, w->kind, w->row_id, w->user_id, &row);
		if (rerr || row.version != w->version) {
			lease_release(c, w);
			requeue(t, w, 0);
			goto out;
		}
		mark_broken(t, c, w, &row, "the authorization was revoked or has expired");
		goto out;
	}
	lease_release(c, w);
	const char *provider = w->kind == TOKEN_ZOOM ? "zoom" : "calendar";
	if (err == CX_EAUTH && oe.invalid_client) {
		log_error("token refresh refused our client credentials", "provider=%s status=%ld",
		          provider, oe.http_status);
		err = CX_EUPSTREAM;
	} else {
		log_warn("token refresh failed", "provider=%s status=%ld error=%s transport=%s",
		         provider, oe.http_status, oe.error[0] ? oe.error : "-",
		         cx_strerror(oe.transport));
		if (err != CX_EBUSY)
			err = CX_EUPSTREAM;
	}
	answer(t, w, err, NULL, 0);
out:
	free(sealed);
	oauth_tokens_release(&tok);
	row_release(&row);
}

/* --- the thread --- */

static void wait_until(struct token_refresher *t, int64_t due_ms)
{
	int64_t now = time_now_ms();
	int64_t ms = due_ms - now;
	if (ms > IDLE_WAIT_MS)
		ms = IDLE_WAIT_MS;
	if (ms <= 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&t->wake, &t->lock, &ts);
}

static void *refresher_main(void *arg)
{
	struct token_refresher *t = arg;
	struct store_conn *c = store_conn(t->opts.store);
	pthread_mutex_lock(&t->lock);
	for (;;) {
		if (t->stopping && t->waiting == 0)
			break;
		int64_t now = time_now_ms();
		int64_t next = now + IDLE_WAIT_MS;
		struct token_wait *due = NULL, **pp = &t->queue;
		while (*pp) {
			struct token_wait *w = *pp;
			if (w->due_ms <= now || t->stopping) {
				*pp = w->next;
				w->next = due;
				due = w;
			} else {
				if (w->due_ms < next)
					next = w->due_ms;
				pp = &w->next;
			}
		}
		bool stopping = t->stopping;
		if (!due) {
			wait_until(t, next);
			continue;
		}
		pthread_mutex_unlock(&t->lock);
		while (due) {
			struct token_wait *w = due;
			due = w->next;
			w->next = NULL;
			if (w->resp)
				store_answer(t, c, w);
			else if (stopping)
				answer(t, w, CX_EBUSY, NULL, 0);
			else
				check(t, c, w);
		}
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	store_thread_done(t->opts.store);
	return NULL;
}

enum cx_err token_refresher_start(const struct token_refresher_options *opts,
                                  struct token_refresher **out)
{
	struct token_refresher *t = xcalloc(1, sizeof(*t));
	pthread_condattr_t ca;
	t->opts = *opts;
	if (t->opts.lease_ms <= 0)
		t->opts.lease_ms = TOKEN_LEASE_MS;
	if (t->opts.wait_step_ms <= 0)
		t->opts.wait_step_ms = TOKEN_WAIT_STEP_MS;
	if (t->opts.timeout_ms <= 0)
		t->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
	sec_random_token(t->instance, sizeof(t->instance), 9);
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t->thread, NULL, refresher_main, t) != 0) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return CX_EIO;
	}
	*out = t;
	return CX_OK;
}

void token_refresher_stop(struct token_refresher *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

uint64_t token_refresher_refreshes(struct token_refresher *t)
{
	pthread_mutex_lock(&t->lock);
	uint64_t n = t->refreshes;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void token_get(struct token_refresher *t, enum token_owner kind, int64_t row_id, int64_t user_id,
               bool force, int64_t rejected_version, token_done_fn done, void *arg)
{
	struct token_row row;
	char *access = NULL;
	enum cx_err err = row_read(store_conn(t->opts.store), kind, row_id, user_id, &row);
	if (err) {
		done(err, NULL, 0, arg);
		return;
	}
	if (!needs_refresh(&row, time_wall_s(), force, rejected_version)) {
		err = open_tokens(t, kind, row_id, &row, &access, NULL);
		done(err, err ? NULL : access, err ? 0 : row.version, arg);
		free_secret(access);
		row_release(&row);
		return;
	}
	row_release(&row);
	struct token_wait *w = xcalloc(1, sizeof(*w));
	w->refresher = t;
	w->kind = kind;
	w->row_id = row_id;
	w->user_id = user_id;
	w->force = force;
	w->rejected_version = rejected_version;
	w->done = done;
	w->arg = arg;
	w->first_ms = w->due_ms = time_now_ms();
	pthread_mutex_lock(&t->lock);
	bool refused = t->stopping || t->waiting >= TOKEN_QUEUE_MAX;
	if (!refused) {
		t->waiting++;
		push_locked(t, w);
	}
	pthread_mutex_unlock(&t->lock);
	if (refused) {
		free(w);
		done(CX_EBUSY, NULL, 0, arg);
	}
}
