/* runner.c: the job runner: worker threads that claim due jobs, run them and record the outcome, a
 * thread that enqueues periodic kinds, and one-shot watches for handlers waiting on a job.
 *
 * One lock (struct job_runner.lock) guards everything shared between threads: the stop flag, the
 * completion queue of runs finished by other threads, the count of runs still out, and the watch
 * list. One condition variable wakes idle workers for a kick, a completion or the stop. Callbacks
 * (watches) and store calls never run under the lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "base/banned.h"

#define DEFAULT_POLL_MS 500
#define DEFAULT_LEASE_MS 60000
#define DEFAULT_MAX_ATTEMPTS 8
#define STOP_WAIT_MS 5000
#define MAX_WORKERS 256
#define OWNER_MAX 192
#define PERIODIC_RETRY_MS 1000

struct job_runner;

/* One claimed job from claim to recorded outcome. Handed to the kind's run function as its
 * struct job_run, and through job_run_finish() back to a worker. */
struct run_ctx {
	struct job_run run;          /* first member: job_run_finish() finds the context from it */
	struct job *job;             /* owned */
	const struct job_kind *kind; /* NULL for a kind this process does not know */
	char owner[OWNER_MAX];       /* the lease holder: the worker that claimed it */
	enum job_outcome outcome;    /* set by job_run_finish() (under lock) */
	bool finished;               /* job_run_finish() or _continue() was called (under lock) */
	job_step_fn step;            /* set by job_run_continue(): what runs next (under lock) */
	void *step_arg;
	bool parked;                 /* run returned PENDING, waits for finish (under lock) */
	struct run_ctx *next;        /* completion queue link (under lock) */
};

struct watch {
	uint64_t handle;
	int64_t job_id;
	job_finished_fn fn;
	void *arg;
	struct watch *next;
};

struct worker {
	struct job_runner *runner;
	pthread_t thread;
	int index;
	char owner[OWNER_MAX]; /* "<hostname>:<pid>:<n>:<random>", unique across restarts */
};

struct job_runner {
	struct job_runner_options opts; /* read-only after start */
	int64_t poll_ms;
	int64_t claim_lease_ms; /* the longest lease of any kind; set to the kind's after claim */

	pthread_mutex_t lock;
	pthread_cond_t wake; /* kicks, completions, the stop (CLOCK_MONOTONIC) */
	bool stopping;
	int64_t stop_deadline_ms; /* monotonic; pending runs are waited for until then */
	uint64_t kicks;           /* bumped by job_runner_kick; a worker compares before sleeping */
	struct run_ctx *done_head, *done_tail; /* runs finished elsewhere, to record */
	int outstanding; /* runs parked or in the completion queue */
	bool detached;   /* stopped with runs still out: the last job_run_finish frees the runner */
	struct watch *watches;
	uint64_t next_handle;

	struct worker *workers;
	int n_workers;
	int n_started;
	pthread_t periodic_thread;
	bool periodic_started;
};

/* --- small helpers --- */

static struct timespec mono_deadline(int64_t ms_from_now)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ms_from_now < 0)
		ms_from_now = 0;
	ts.tv_sec += ms_from_now / 1000;
	ts.tv_nsec += (ms_from_now % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Waits on r->wake for at most ms; the caller holds r->lock. */
static void wait_ms(struct job_runner *r, int64_t ms)
{
	struct timespec ts = mono_deadline(ms);
	pthread_cond_timedwait(&r->wake, &r->lock, &ts);
}

static const struct job_kind *find_kind(const struct job_runner *r, const char *name)
{
	for (size_t i = 0; i < r->opts.n_kinds; i++)
		if (strcmp(r->opts.kinds[i].name, name) == 0)
			return &r->opts.kinds[i];
	return NULL;
}

static int max_attempts(const struct job_kind *kind)
{
	return kind && kind->max_attempts > 0 ? kind->max_attempts : DEFAULT_MAX_ATTEMPTS;
}

static int64_t lease_of(const struct job_runner *r, const struct job_kind *kind)
{
	if (r->opts.lease_ms > 0)
		return r->opts.lease_ms;
	return kind && kind->lease_ms > 0 ? kind->lease_ms : DEFAULT_LEASE_MS;
}

static void ctx_free(struct run_ctx *ctx)
{
	if (ctx->step) /* a step that never ran: let it free what it holds */
		ctx->step(&ctx->run, NULL, ctx->step_arg);
	arena_free(ctx->run.arena);
	job_free(ctx->job);
	free(ctx);
}

static void runner_free(struct job_runner *r)
{
	while (r->watches) {
		struct watch *w = r->watches;
		r->watches = w->next;
		free(w);
	}
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->workers);
	free(r);
}

/* Calls and removes every watch on job_id; on the calling worker thread, outside the lock. */
static void fire_watches(struct job_runner *r, int64_t job_id, enum job_state state)
{
	struct watch *fired = NULL;
	pthread_mutex_lock(&r->lock);
	struct watch **pp = &r->watches;
	while (*pp) {
		struct watch *w = *pp;
		if (w->job_id == job_id) {
			*pp = w->next;
			w->next = fired;
			fired = w;
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&r->lock);
	while (fired) {
		struct watch *w = fired;
		fired = w->next;
		w->fn(job_id, state, w->arg);
		free(w);
	}
}

/* --- recording outcomes --- */

/* Marks the job failed and lets its kind undo or report inside the same transaction, so the undo
 * happens exactly when the failure is recorded. */
static enum cx_err record_failed(struct store_conn *c, struct run_ctx *ctx, const char *error)
{
	enum cx_err err = store_begin(c);
	if (err)
		goto out;
	err = job_mark_failed(c, ctx->job, ctx->owner, error);
	if (err)
		goto out;
	if (ctx->kind && ctx->kind->on_failed)
		ctx->kind->on_failed(&ctx->run, c);
	err = store_commit(c);
out:
	if (err)
		store_rollback(c);
	return err;
}

static void record(struct job_runner *r, struct store_conn *c, struct run_ctx *ctx,
		   enum job_outcome outcome)
{
	struct job *job = ctx->job;
	struct job_run *run = &ctx->run;
	char error[sizeof(run->error) + 64];
	enum job_state final = JOB_RUNNING;
	enum cx_err err = CX_OK;

	log_context_set(NULL, job->id);
	if (store_in_transaction(c)) {
		log_error("job run left a transaction open", "kind=%s", job->kind);
		store_rollback(c);
	}
	run->error[sizeof(run->error) - 1] = '\0';
	if (outcome == JOB_OUTCOME_PENDING) {
		log_error("job finished as pending", "kind=%s", job->kind);
		outcome = JOB_OUTCOME_RETRY;
	}
	switch (outcome) {
	case JOB_OUTCOME_DONE:
		err = job_mark_done(c, job, ctx->owner, run->result);
		final = JOB_DONE;
		break;
	case JOB_OUTCOME_RETRY:
		if (job->attempts < max_attempts(ctx->kind)) {
			int64_t delay = run->retry_after_ms > 0
						? run->retry_after_ms
						: job_backoff_ms(ctx->kind, job->attempts);
			err = job_mark_retry(c, job, ctx->owner, time_wall_ms() + delay,
					     run->error[0] ? run->error : "retry");
			break;
		}
		snprintf(error, sizeof(error), "gave up after %d attempts: %s", job->attempts,
			 run->error[0] ? run->error : "retry");
		err = record_failed(c, ctx, error);
		final = JOB_FAILED;
		break;
	case JOB_OUTCOME_FAIL:
	default:
		err = record_failed(c, ctx, run->error[0] ? run->error : "failed");
		final = JOB_FAILED;
		break;
	}
	if (err == CX_ECONFLICT) {
		/* Another worker took the job over after the lease ran out: its run counts. */
		log_warn("job outcome dropped, lease lost", "kind=%s attempt=%d", job->kind,
			 job->attempts);
	} else if (err) {
		log_error("job outcome not recorded", "kind=%s error=%s", job->kind,
			  cx_strerror(err));
	} else if (final == JOB_DONE || final == JOB_FAILED) {
		char q_err[300], note[48];
		/* Handlers of other instances may wait on it (PostgreSQL; nothing on SQLite). */
		snprintf(note, sizeof(note), "%s %lld", final == JOB_DONE ? "done" : "failed",
			 (long long)job->id);
		if (store_notify(c, JOB_NOTIFY_CHANNEL, note) != CX_OK)
			log_warn("job end not announced", "kind=%s", job->kind);
		if (final == JOB_FAILED)
			log_warn("job failed", "kind=%s attempt=%d error=%s", job->kind,
				 job->attempts,
				 log_quote(run->error[0] ? run->error : "failed", q_err,
					   sizeof(q_err)));
		fire_watches(r, job->id, final);
	}
	log_context_set(NULL, 0);
}

/* --- workers --- */

/* Runs one step of a continued run under the job's lease. */
static enum job_outcome run_step(struct store_conn *c, struct run_ctx *ctx, job_step_fn step,
				 void *arg)
{
	enum cx_err err =
	    job_extend_lease(c, ctx->job, ctx->owner, lease_of(ctx->run.runner, ctx->kind));
	if (err == CX_ECONFLICT) {
		/* Another worker took the job over: this run must not act any more. Recording
		 * anything for it fails on the lease too, so its outcome is dropped. */
		log_warn("job step dropped, lease lost", "kind=%s", ctx->job->kind);
		step(&ctx->run, NULL, arg);
		return JOB_OUTCOME_RETRY;
	}
	if (err)
		log_warn("job lease not extended", "kind=%s error=%s", ctx->job->kind,
			 cx_strerror(err));
	log_context_set(NULL, ctx->job->id);
	enum job_outcome outcome = step(&ctx->run, c, arg);
	log_context_set(NULL, 0);
	return outcome;
}

/* Takes a run from its run function's outcome to the end: while it is PENDING it either waits
 * (parked, counted as outstanding: false is returned and a worker goes on after the wake) or runs
 * the step it continues with; then the outcome is recorded and true returned (ctx may be freed). */
static bool settle(struct job_runner *r, struct store_conn *c, struct run_ctx *ctx,
		   enum job_outcome outcome)
{
	while (outcome == JOB_OUTCOME_PENDING) {
		pthread_mutex_lock(&r->lock);
		if (!ctx->finished) {
			ctx->parked = true;
			r->outstanding++;
			pthread_mutex_unlock(&r->lock);
			return false;
		}
		job_step_fn step = ctx->step;
		void *arg = ctx->step_arg;
		ctx->step = NULL;
		ctx->step_arg = NULL;
		ctx->finished = false;
		ctx->parked = false;
		outcome = ctx->outcome;
		pthread_mutex_unlock(&r->lock);
		if (!step)
			break;
		outcome = run_step(c, ctx, step, arg);
	}
	record(r, c, ctx, outcome);
	return true;
}

static void run_claimed(struct worker *w, struct store_conn *c, struct job *job)
{
	struct job_runner *r = w->runner;
	struct run_ctx *ctx = xcalloc(1, sizeof(*ctx));
	ctx->job = job;
	ctx->kind = find_kind(r, job->kind);
	snprintf(ctx->owner, sizeof(ctx->owner), "%s", w->owner);
	ctx->run.job = job;
	ctx->run.arena = arena_new();
	ctx->run.app = r->opts.app;
	ctx->run.runner = r;

	if (!ctx->kind) {
		snprintf(ctx->run.error, sizeof(ctx->run.error), "unknown job kind");
		record(r, c, ctx, JOB_OUTCOME_FAIL);
		goto out;
	}
	if (lease_of(r, ctx->kind) != r->claim_lease_ms) {
		enum cx_err err = job_extend_lease(c, job, ctx->owner, lease_of(r, ctx->kind));
		if (err) {
			log_warn("job lease not set", "job=%lld error=%s", (long long)job->id,
				 cx_strerror(err));
			if (err == CX_ECONFLICT)
				goto out;
		}
	}
	log_context_set(NULL, job->id);
	enum job_outcome outcome = ctx->kind->run(&ctx->run);
	log_context_set(NULL, 0);
	if (!settle(r, c, ctx, outcome))
		return; /* parked: a worker goes on after job_run_finish() or _continue() */
out:
	ctx_free(ctx);
}

/* Records every run finished elsewhere; returns how many. */
static int drain_completions(struct job_runner *r, struct store_conn *c)
{
	pthread_mutex_lock(&r->lock);
	struct run_ctx *list = r->done_head;
	r->done_head = r->done_tail = NULL;
	pthread_mutex_unlock(&r->lock);
	int n = 0;
	while (list) {
		struct run_ctx *ctx = list;
		list = ctx->next;
		/* finished is set: settle runs the step it continues with, or records it. */
		if (settle(r, c, ctx, JOB_OUTCOME_PENDING))
			ctx_free(ctx);
		n++;
	}
	if (n > 0) {
		pthread_mutex_lock(&r->lock);
		r->outstanding -= n;
		pthread_cond_broadcast(&r->wake);
		pthread_mutex_unlock(&r->lock);
	}
	return n;
}

/* After the stop: record what finishes before the deadline; true when the worker may exit. */
static bool stop_wait(struct job_runner *r)
{
	pthread_mutex_lock(&r->lock);
	while (!r->done_head && r->outstanding > 0 && time_now_ms() < r->stop_deadline_ms)
		wait_ms(r, r->stop_deadline_ms - time_now_ms());
	bool exit_now = !r->done_head;
	pthread_mutex_unlock(&r->lock);
	return exit_now;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job_runner *r = w->runner;
	struct store_conn *c = store_conn(r->opts.store);
	for (;;) {
		pthread_mutex_lock(&r->lock);
		uint64_t kicks = r->kicks;
		bool stopping = r->stopping;
		pthread_mutex_unlock(&r->lock);

		drain_completions(r, c);
		if (stopping) {
			if (stop_wait(r))
				break;
			continue;
		}
		struct job *job = NULL;
		enum cx_err err = job_claim(c, w->owner, r->claim_lease_ms, &job);
		if (!err) {
			run_claimed(w, c, job);
			continue;
		}
		if (err != CX_ENOTFOUND)
			log_warn("job claim failed", "error=%s", cx_strerror(err));
		pthread_mutex_lock(&r->lock);
		if (r->kicks == kicks && !r->stopping && !r->done_head)
			wait_ms(r, r->poll_ms);
		pthread_mutex_unlock(&r->lock);
	}
	store_thread_done(r->opts.store);
	return NULL;
}

/* --- periodic jobs --- */

/* Every interval, each periodic kind gets one job per slot floor(now / interval): the idempotency
 * key names the slot, so several instances enqueueing at once still make one job. */
static void *periodic_main(void *arg)
{
	struct job_runner *r = arg;
	struct store_conn *c = store_conn(r->opts.store);
	int64_t *next_due = xcalloc(r->opts.n_periodic, sizeof(*next_due));
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		pthread_mutex_unlock(&r->lock);
		int64_t now = time_wall_ms();
		int64_t wake_at = INT64_MAX;
		bool created_any = false;
		for (size_t i = 0; i < r->opts.n_periodic; i++) {
			const struct job_periodic *p = &r->opts.periodic[i];
			if (now >= next_due[i]) {
				int64_t slot = now / p->interval_ms;
				char key[256];
				int64_t id = 0;
				bool created = false;
				snprintf(key, sizeof(key), "periodic:%s:%lld", p->kind,
					 (long long)slot);
				enum cx_err err =
					job_enqueue(c, p->kind, "{}", key, 0, &id, &created);
				if (err) {
					log_warn("periodic job not enqueued", "kind=%s error=%s",
						 p->kind, cx_strerror(err));
					next_due[i] = now + (p->interval_ms < PERIODIC_RETRY_MS
								     ? p->interval_ms
								     : PERIODIC_RETRY_MS);
				} else {
					next_due[i] = (slot + 1) * p->interval_ms;
					created_any |= created;
				}
			}
			if (next_due[i] < wake_at)
				wake_at = next_due[i];
		}
		if (created_any)
			job_runner_kick(r);
		pthread_mutex_lock(&r->lock);
		if (!r->stopping && wake_at != INT64_MAX)
			wait_ms(r, wake_at - time_wall_ms());
	}
	pthread_mutex_unlock(&r->lock);
	free(next_due);
	store_thread_done(r->opts.store);
	return NULL;
}

/* --- lifecycle --- */

static void make_owner(char *out, size_t n, int index)
{
	char host[128];
	char rnd[16];
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	sec_random_token(rnd, sizeof(rnd), 6);
	snprintf(out, n, "%s:%ld:%d:%s", host, (long)getpid(), index, rnd);
}

static void join_all(struct job_runner *r)
{
	for (int i = 0; i < r->n_started; i++)
		pthread_join(r->workers[i].thread, NULL);
	if (r->periodic_started)
		pthread_join(r->periodic_thread, NULL);
}

enum cx_err job_runner_start(const struct job_runner_options *opts, struct job_runner **out)
{
	enum cx_err err = CX_EINVAL;
	struct job_runner *r = NULL;
	*out = NULL;
	if (!opts->store || opts->workers < 1 || opts->workers > MAX_WORKERS ||
	    (opts->n_kinds && !opts->kinds) || (opts->n_periodic && !opts->periodic))
		goto out;
	for (size_t i = 0; i < opts->n_periodic; i++)
		if (opts->periodic[i].interval_ms <= 0 || !opts->periodic[i].kind)
			goto out;
	for (size_t i = 0; i < opts->n_kinds; i++)
		if (!opts->kinds[i].name || !opts->kinds[i].run)
			goto out;

	r = xcalloc(1, sizeof(*r));
	r->opts = *opts;
	r->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : DEFAULT_POLL_MS;
	r->claim_lease_ms = opts->lease_ms > 0 ? opts->lease_ms : DEFAULT_LEASE_MS;
	for (size_t i = 0; i < opts->n_kinds; i++)
		if (lease_of(r, &opts->kinds[i]) > r->claim_lease_ms)
			r->claim_lease_ms = lease_of(r, &opts->kinds[i]);
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	r->n_workers = opts->workers;
	r->workers = xcalloc((size_t)r->n_workers, sizeof(*r->workers));

	err = CX_OK;
	for (int i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];
		w->runner = r;
		w->index = i;
		make_owner(w->owner, sizeof(w->owner), i);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			err = CX_EIO;
			break;
		}
		r->n_started++;
	}
	if (!err && opts->n_periodic > 0) {
		if (pthread_create(&r->periodic_thread, NULL, periodic_main, r) != 0)
			err = CX_EIO;
		else
			r->periodic_started = true;
	}
	if (err) {
		log_error("job runner threads failed to start", NULL);
		pthread_mutex_lock(&r->lock);
		r->stopping = true;
		r->stop_deadline_ms = time_now_ms();
		pthread_cond_broadcast(&r->wake);
		pthread_mutex_unlock(&r->lock);
		join_all(r);
		runner_free(r);
		goto out;
	}
	*out = r;
out:
	return err;
}

void job_runner_stop(struct job_runner *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	r->stop_deadline_ms = time_now_ms() + STOP_WAIT_MS;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
	join_all(r);

	/* Runs finished after the deadline are not recorded: their leases run out and another
	 * worker takes them again. Runs still out keep the runner alive until they finish. */
	pthread_mutex_lock(&r->lock);
	struct run_ctx *late = r->done_head;
	r->done_head = r->done_tail = NULL;
	for (struct run_ctx *ctx = late; ctx; ctx = ctx->next)
		r->outstanding--;
	bool keep = r->outstanding > 0;
	if (keep) {
		r->detached = true;
		log_warn("job runner stopped with pending runs", "count=%d", r->outstanding);
	}
	pthread_mutex_unlock(&r->lock);
	while (late) { /* outside the lock: a step that never ran frees its state here */
		struct run_ctx *ctx = late;
		late = ctx->next;
		ctx_free(ctx);
	}
	if (!keep)
		runner_free(r);
}

void job_runner_kick(struct job_runner *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->kicks++;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

/* Hands a parked run back to the workers (or frees it when the runner is gone). */
static void complete(struct job_run *run, enum job_outcome outcome, job_step_fn step, void *arg)
{
	struct run_ctx *ctx = (struct run_ctx *)run;
	struct job_runner *r = run->runner;
	bool free_ctx = false, free_runner = false;
	pthread_mutex_lock(&r->lock);
	ctx->outcome = outcome;
	ctx->step = step;
	ctx->step_arg = arg;
	ctx->finished = true;
	if (ctx->parked) {
		if (r->detached) {
			r->outstanding--;
			free_ctx = true;
			free_runner = r->outstanding == 0;
		} else {
			ctx->next = NULL;
			if (r->done_tail)
				r->done_tail->next = ctx;
			else
				r->done_head = ctx;
			r->done_tail = ctx;
			pthread_cond_broadcast(&r->wake);
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (free_ctx)
		ctx_free(ctx);
	if (free_runner)
		runner_free(r);
}

void job_run_finish(struct job_run *run, enum job_outcome outcome)
{
	complete(run, outcome, NULL, NULL);
}

void job_run_continue(struct job_run *run, job_step_fn step, void *arg)
{
	complete(run, JOB_OUTCOME_PENDING, step, arg);
}

void job_runner_notified(struct job_runner *r, const char *payload)
{
	if (!r)
		return;
	long long id = 0;
	char state[8] = "";
	if (payload && sscanf(payload, "%7s %lld", state, &id) == 2 && id > 0 &&
	    (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0)) {
		fire_watches(r, id, strcmp(state, "done") == 0 ? JOB_DONE : JOB_FAILED);
		return;
	}
	job_runner_kick(r);
}

uint64_t job_runner_watch(struct job_runner *r, int64_t job_id, job_finished_fn fn, void *arg)
{
	if (!r || !fn)
		return 0;
	struct watch *w = xcalloc(1, sizeof(*w));
	w->job_id = job_id;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_lock(&r->lock);
	w->handle = ++r->next_handle;
	w->next = r->watches;
	r->watches = w;
	uint64_t handle = w->handle;
	pthread_mutex_unlock(&r->lock);
	return handle;
}

bool job_runner_unwatch(struct job_runner *r, uint64_t handle)
{
	struct watch *found = NULL;
	if (!r || !handle)
		return false;
	pthread_mutex_lock(&r->lock);
	for (struct watch **pp = &r->watches; *pp; pp = &(*pp)->next) {
		if ((*pp)->handle == handle) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	free(found);
	return found != NULL;
}
