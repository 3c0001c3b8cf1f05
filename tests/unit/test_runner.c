/* The job runner (jobs/runner.c) with real worker threads on a real SQLite file: outcomes, retries,
 * failure with on_failed, pending runs finished from another thread, watches, periodic kinds shared
 * by two runners, and many jobs across several workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MANY 200

/* What the kinds below saw; shared by worker threads, so under lock. */
struct observed {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int runs[MANY + 1];     /* "t.count" runs by payload index */
	int flaky_runs;
	int always_retry_runs;
	int on_failed_calls;
	bool on_failed_in_tx;
	int fail_runs;
	int ticks;
	int64_t watched_id;
	enum job_state watched_state;
	int watch_calls;
	int other_watch_calls;
	int steps;              /* steps of "t.steps" run with a store connection */
	int steps_in_worker_tx; /* of them, those that wrote to the store in their own transaction */
};

static struct observed obs;

struct fixture {
	char dir[64];
	char *url;
	struct store *st;
	struct store_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-runner-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url = xasprintf("sqlite:%s/t.db", f->dir);
	if (store_open(f->url, &f->st) != CX_OK || store_migrate(f->st) != CX_OK)
		return -1;
	f->c = store_conn(f->st);
	pthread_mutex_lock(&obs.lock);
	memset(obs.runs, 0, sizeof(obs.runs));
	obs.flaky_runs = obs.always_retry_runs = obs.on_failed_calls = obs.fail_runs = 0;
	obs.ticks = obs.watch_calls = obs.other_watch_calls = obs.steps = obs.steps_in_worker_tx = 0;
	obs.on_failed_in_tx = false;
	obs.watched_id = 0;
	pthread_mutex_unlock(&obs.lock);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_thread_done(f->st);
	store_close(f->st);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f->url);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* --- kinds --- */

static enum job_outcome run_ok(struct job_run *run)
{
	run->result = arena_printf(run->arena, "{\"echo\":%s}", run->job->payload);
	return JOB_OUTCOME_DONE;
}

static enum job_outcome run_flaky(struct job_run *run)
{
	pthread_mutex_lock(&obs.lock);
	int n = ++obs.flaky_runs;
	pthread_mutex_unlock(&obs.lock);
	if (n < 3) {
		snprintf(run->error, sizeof(run->error), "upstream 503 on try %d", n);
		run->retry_after_ms = 10;
		return JOB_OUTCOME_RETRY;
	}
	return JOB_OUTCOME_DONE;
}

static enum job_outcome run_always_retry(struct job_run *run)
{
	pthread_mutex_lock(&obs.lock);
	obs.always_retry_runs++;
	pthread_mutex_unlock(&obs.lock);
	snprintf(run->error, sizeof(run->error), "still down");
	return JOB_OUTCOME_RETRY;
}

static enum job_outcome run_fail(struct job_run *run)
{
	pthread_mutex_lock(&obs.lock);
	obs.fail_runs++;
	pthread_mutex_unlock(&obs.lock);
	snprintf(run->error, sizeof(run->error), "meeting topic rejected");
	return JOB_OUTCOME_FAIL;
}

static void note_failed(struct job_run *run, struct store_conn *c)
{
	pthread_mutex_lock(&obs.lock);
	obs.on_failed_calls++;
	obs.on_failed_in_tx = store_in_transaction(c);
	pthread_mutex_unlock(&obs.lock);
}

static void *finish_later(void *arg)
{
	struct job_run *run = arg;
	sleep_ms(50);
	run->result = arena_strdup(run->arena, "{\"pending\":\"finished\"}");
	job_run_finish(run, JOB_OUTCOME_DONE);
	return NULL;
}

/* Hands the work to another thread, as a run waiting on the egress thread does. */
static enum job_outcome run_pending(struct job_run *run)
{
	pthread_t t;
	if (pthread_create(&t, NULL, finish_later, run) != 0)
		return JOB_OUTCOME_RETRY;
	pthread_detach(t);
	return JOB_OUTCOME_PENDING;
}

/* Finishes before the run function even returns. */
static enum job_outcome run_pending_fast(struct job_run *run)
{
	job_run_finish(run, JOB_OUTCOME_DONE);
	return JOB_OUTCOME_PENDING;
}

/* A run of three steps: the first continued before the run function returns, the others from
 * another thread; each step writes to the store on the worker's connection. */
static enum job_outcome step_next(struct job_run *run, struct store_conn *c, void *arg);

static void *continue_later(void *arg)
{
	struct job_run *run = arg;
	sleep_ms(20);
	job_run_continue(run, step_next, run);
	return NULL;
}

static enum job_outcome step_next(struct job_run *run, struct store_conn *c, void *arg)
{
	assert_ptr_equal(arg, run);
	if (!c)
		return JOB_OUTCOME_RETRY;
	struct store_val p[] = {SV_INT(run->job->id)};
	bool wrote = store_begin(c) == CX_OK &&
		     store_exec(c, "UPDATE jobs SET last_error = 'step' WHERE id = $1", p, 1,
				NULL) == CX_OK &&
		     store_commit(c) == CX_OK;
	pthread_mutex_lock(&obs.lock);
	int n = ++obs.steps;
	obs.steps_in_worker_tx += wrote;
	pthread_mutex_unlock(&obs.lock);
	if (n >= 3) {
		run->result = arena_strdup(run->arena, "{\"steps\":3}");
		return JOB_OUTCOME_DONE;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, continue_later, run) != 0)
		return JOB_OUTCOME_RETRY;
	pthread_detach(t);
	return JOB_OUTCOME_PENDING;
}

static enum job_outcome run_steps(struct job_run *run)
{
	job_run_continue(run, step_next, run);
	return JOB_OUTCOME_PENDING;
}

static enum job_outcome run_count(struct job_run *run)
{
	long idx = strtol(run->job->payload, NULL, 10);
	pthread_mutex_lock(&obs.lock);
	if (idx >= 0 && idx <= MANY)
		obs.runs[idx]++;
	pthread_mutex_unlock(&obs.lock);
	return JOB_OUTCOME_DONE;
}

static enum job_outcome run_tick(struct job_run *run)
{
	pthread_mutex_lock(&obs.lock);
	obs.ticks++;
	pthread_mutex_unlock(&obs.lock);
	return JOB_OUTCOME_DONE;
}

static const struct job_kind kinds[] = {
	{.name = "t.ok", .run = run_ok},
	{.name = "t.flaky", .run = run_flaky, .max_attempts = 5},
	{.name = "t.always_retry", .run = run_always_retry, .on_failed = note_failed,
	 .max_attempts = 3, .base_backoff_ms = 10, .max_backoff_ms = 40},
	{.name = "t.fail", .run = run_fail, .on_failed = note_failed},
	{.name = "t.pending", .run = run_pending, .lease_ms = 30000},
	{.name = "t.pending_fast", .run = run_pending_fast},
	{.name = "t.count", .run = run_count},
	{.name = "t.steps", .run = run_steps},
	{.name = "t.tick", .run = run_tick},
};

static struct job_runner *start(struct store *st, int workers, const struct job_periodic *periodic,
				size_t n_periodic)
{
	struct job_runner_options o = {
		.store = st,
		.kinds = kinds,
		.n_kinds = N(kinds),
		.periodic = periodic,
		.n_periodic = n_periodic,
		.workers = workers,
		.poll_ms = 20,
	};
	struct job_runner *r = NULL;
	assert_int_equal(job_runner_start(&o, &r), CX_OK);
	assert_non_null(r);
	return r;
}

static int64_t enqueue(struct store_conn *c, const char *kind, const char *payload)
{
	int64_t id = 0;
	assert_int_equal(job_enqueue(c, kind, payload, NULL, 0, &id, NULL), CX_OK);
	return id;
}

/* Polls the store until the job is done or failed (at most 10 s). */
static enum job_state wait_final(struct store_conn *c, int64_t id)
{
	enum job_state s = JOB_QUEUED;
	int64_t deadline = time_now_ms() + 10000;
	while (time_now_ms() < deadline) {
		assert_int_equal(job_get_state(c, id, &s, NULL, NULL), CX_OK);
		if (s == JOB_DONE || s == JOB_FAILED)
			break;
		sleep_ms(5);
	}
	return s;
}

static int64_t attempts_of(struct store_conn *c, int64_t id)
{
	int64_t n = -1;
	struct store_val p[] = {SV_INT(id)};
	assert_int_equal(store_query_int(c, "SELECT attempts FROM jobs WHERE id = $1", p, 1, &n),
			 CX_OK);
	return n;
}

/* --- tests --- */

static void rejects_bad_options(void **state)
{
	struct fixture *f = *state;
	struct job_runner *r = NULL;
	struct job_runner_options o = {.store = f->st, .kinds = kinds, .n_kinds = N(kinds)};
	assert_int_equal(job_runner_start(&o, &r), CX_EINVAL);
	assert_null(r);
	o.workers = 1;
	o.store = NULL;
	assert_int_equal(job_runner_start(&o, &r), CX_EINVAL);
	struct job_periodic bad = {.kind = "t.tick", .interval_ms = 0};
	o.store = f->st;
	o.periodic = &bad;
	o.n_periodic = 1;
	assert_int_equal(job_runner_start(&o, &r), CX_EINVAL);
	/* Stopping nothing and kicking nothing are harmless. */
	job_runner_stop(NULL);
	job_runner_kick(NULL);
}

static void runs_a_job_to_done(void **state)
{
	struct fixture *f = *state;
	struct job_runner *r = start(f->st, 2, NULL, 0);
	int64_t id = enqueue(f->c, "t.ok", "{\"n\":5}");
	job_runner_kick(r);
	assert_int_equal(wait_final(f->c, id), JOB_DONE);
	enum job_state s;
	char *result = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, &result, NULL), CX_OK);
	assert_string_equal(result, "{\"echo\":{\"n\":5}}");
	free(result);
	assert_int_equal(attempts_of(f->c, id), 1);
	job_runner_stop(r);
}

static void retries_until_success(void **state)
{
	struct fixture *f = *state;
	struct job_runner *r = start(f->st, 1, NULL, 0);
	int64_t id = enqueue(f->c, "t.flaky", "{}");
	job_runner_kick(r);
	assert_int_equal(wait_final(f->c, id), JOB_DONE);
	job_runner_stop(r);
	assert_int_equal(obs.flaky_runs, 3);
	assert_int_equal(attempts_of(f->c, id), 3);
	/* The last retry's reason stays for the record. */
	enum job_state s;
	char *error = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, NULL, &error), CX_OK);
	assert_string_equal(error, "upstream 503 on try 2");
	free(error);
}

static void fails_after_max_attempts(void **state)
{
	struct fixture *f = *state;
	struct job_runner *r = start(f->st, 2, NULL, 0);
	int64_t id = enqueue(f->c, "t.always_retry", "{}");
	int64_t failing = enqueue(f->c, "t.fail", "{}");
	int64_t unknown = enqueue(f->c, "t.no_such_kind", "{}");
	job_runner_kick(r);
	assert_int_equal(wait_final(f->c, id), JOB_FAILED);
	assert_int_equal(wait_final(f->c, failing), JOB_FAILED);
	assert_int_equal(wait_final(f->c, unknown), JOB_FAILED);
	job_runner_stop(r);

	assert_int_equal(obs.always_retry_runs, 3);
	assert_int_equal(attempts_of(f->c, id), 3);
	assert_int_equal(obs.fail_runs, 1);
	assert_int_equal(attempts_of(f->c, failing), 1);
	/* Once for each job that failed for good, inside the marking transaction. */
	assert_int_equal(obs.on_failed_calls, 2);
	assert_true(obs.on_failed_in_tx);

	enum job_state s;
	char *error = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, NULL, &error), CX_OK);
	assert_non_null(strstr(error, "still down"));
	free(error);
	assert_int_equal(job_get_state(f->c, failing, &s, NULL, &error), CX_OK);
	assert_string_equal(error, "meeting topic rejected");
	free(error);
	assert_int_equal(job_get_state(f->c, unknown, &s, NULL, &error), CX_OK);
	assert_string_equal(error, "unknown job kind");
	free(error);
}

static void on_watch(int64_t job_id, enum job_state state, void *arg)
{
	int *which = arg;
	pthread_mutex_lock(&obs.lock);
	if (*which == 1) {
		obs.watched_id = job_id;
		obs.watched_state = state;
		obs.watch_calls++;
	} else {
		obs.other_watch_calls++;
	}
	pthread_cond_broadcast(&obs.changed);
	pthread_mutex_unlock(&obs.lock);
}

static void pending_job_finished_elsewhere_fires_watch(void **state)
{
	struct fixture *f = *state;
	static int main_watch = 1, removed_watch = 2;
	struct job_runner *r = start(f->st, 2, NULL, 0);

	/* As a handler does: enqueue in its transaction, watch, commit, kick. */
	assert_int_equal(store_begin(f->c), CX_OK);
	int64_t id = enqueue(f->c, "t.pending", "{}");
	uint64_t h = job_runner_watch(r, id, on_watch, &main_watch);
	uint64_t h2 = job_runner_watch(r, id, on_watch, &removed_watch);
	assert_true(h != 0 && h2 != 0 && h != h2);
	assert_true(job_runner_unwatch(r, h2));
	assert_false(job_runner_unwatch(r, h2));
	assert_int_equal(store_commit(f->c), CX_OK);
	job_runner_kick(r);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&obs.lock);
	while (obs.watch_calls == 0)
		if (pthread_cond_timedwait(&obs.changed, &obs.lock, &ts) != 0)
			break;
	int calls = obs.watch_calls;
	int64_t watched = obs.watched_id;
	enum job_state wstate = obs.watched_state;
	pthread_mutex_unlock(&obs.lock);
	assert_int_equal(calls, 1);
	assert_int_equal(watched, id);
	assert_int_equal(wstate, JOB_DONE);
	/* The watch fired after the outcome was stored, and it fires once. */
	enum job_state s;
	char *result = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, &result, NULL), CX_OK);
	assert_int_equal(s, JOB_DONE);
	assert_string_equal(result, "{\"pending\":\"finished\"}");
	free(result);
	assert_false(job_runner_unwatch(r, h));

	/* A run that finishes before returning PENDING is recorded too. */
	int64_t fast = enqueue(f->c, "t.pending_fast", "{}");
	job_runner_kick(r);
	assert_int_equal(wait_final(f->c, fast), JOB_DONE);

	/* A pending run still out at stop time is waited for. */
	int64_t late = enqueue(f->c, "t.pending", "{}");
	job_runner_kick(r);
	int64_t deadline = time_now_ms() + 5000;
	while (attempts_of(f->c, late) == 0 && time_now_ms() < deadline)
		sleep_ms(2);
	job_runner_stop(r);
	assert_int_equal(job_get_state(f->c, late, &s, NULL, NULL), CX_OK);
	assert_int_equal(s, JOB_DONE);
	assert_int_equal(obs.other_watch_calls, 0);
	assert_int_equal(obs.watch_calls, 1);
}

/* Steps continue one attempt on worker threads with a store connection, until the last one
 * finishes it. */
static void continued_steps_run_on_workers_in_one_attempt(void **state)
{
	struct fixture *f = *state;
	struct job_runner *r = start(f->st, 2, NULL, 0);
	int64_t id = enqueue(f->c, "t.steps", "{}");
	job_runner_kick(r);
	assert_int_equal(wait_final(f->c, id), JOB_DONE);
	job_runner_stop(r);
	assert_int_equal(obs.steps, 3);
	assert_int_equal(obs.steps_in_worker_tx, 3);
	assert_int_equal(attempts_of(f->c, id), 1);
	enum job_state s;
	char *result = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, &result, NULL), CX_OK);
	assert_string_equal(result, "{\"steps\":3}");
	free(result);
}

static void periodic_once_per_interval_across_instances(void **state)
{
	struct fixture *f = *state;
	static const struct job_periodic periodic[] = {{.kind = "t.tick", .interval_ms = 200}};
	/* A second store on the same file stands for a second instance. */
	struct store *st2 = NULL;
	assert_int_equal(store_open(f->url, &st2), CX_OK);
	int64_t first_slot = time_wall_ms() / 200;
	struct job_runner *a = start(f->st, 1, periodic, 1);
	struct job_runner *b = start(st2, 1, periodic, 1);
	sleep_ms(1100);
	job_runner_stop(a);
	job_runner_stop(b);
	int64_t last_slot = time_wall_ms() / 200;
	store_close(st2);

	int64_t jobs = 0, distinct = 0, done = 0;
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM jobs WHERE kind = 't.tick'",
					 NULL, 0, &jobs),
			 CX_OK);
	assert_int_equal(store_query_int(f->c,
					 "SELECT COUNT(DISTINCT idempotency_key) FROM jobs "
					 "WHERE kind = 't.tick' AND idempotency_key LIKE "
					 "'periodic:t.tick:%'",
					 NULL, 0, &distinct),
			 CX_OK);
	assert_int_equal(store_query_int(f->c,
					 "SELECT COUNT(*) FROM jobs WHERE kind = 't.tick' AND "
					 "state = 'done'",
					 NULL, 0, &done),
			 CX_OK);
	/* One job per interval slot the runners were alive in, never one per runner. */
	assert_true(jobs >= 4);
	assert_true(jobs <= last_slot - first_slot + 1);
	assert_int_equal(distinct, jobs);
	/* Each ran once (a tick enqueued just before the stop may still be queued). */
	assert_true(obs.ticks == done);
	assert_true(done >= jobs - 1);
}

static void many_jobs_each_run_once(void **state)
{
	struct fixture *f = *state;
	struct job_runner *r = start(f->st, 4, NULL, 0);
	for (int i = 1; i <= MANY; i++) {
		char payload[16];
		snprintf(payload, sizeof(payload), "%d", i);
		const char *text = payload;
		assert_int_equal(job_enqueue(f->c, "t.count", text, NULL, 0, NULL, NULL), CX_OK);
		if (i % 50 == 0)
			job_runner_kick(r);
	}
	job_runner_kick(r);
	int64_t counts[4] = {0};
	int64_t deadline = time_now_ms() + 30000;
	while (time_now_ms() < deadline) {
		assert_int_equal(job_count_by_state(f->c, counts), CX_OK);
		if (counts[JOB_DONE] == MANY)
			break;
		sleep_ms(10);
	}
	job_runner_stop(r);
	assert_int_equal(counts[JOB_DONE], MANY);
	for (int i = 1; i <= MANY; i++)
		assert_int_equal(obs.runs[i], 1);
	int64_t max_attempts = 0;
	assert_int_equal(store_query_int(f->c, "SELECT MAX(attempts) FROM jobs", NULL, 0,
					 &max_attempts),
			 CX_OK);
	assert_int_equal(max_attempts, 1);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	pthread_mutex_init(&obs.lock, NULL);
	pthread_cond_init(&obs.changed, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rejects_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(runs_a_job_to_done, setup, teardown),
		cmocka_unit_test_setup_teardown(retries_until_success, setup, teardown),
		cmocka_unit_test_setup_teardown(fails_after_max_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_job_finished_elsewhere_fires_watch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(periodic_once_per_interval_across_instances, setup,
						teardown),
		cmocka_unit_test_setup_teardown(many_jobs_each_run_once, setup, teardown),
		cmocka_unit_test_setup_teardown(continued_steps_run_on_workers_in_one_attempt, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
