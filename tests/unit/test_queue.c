/* The durable job queue (jobs/queue.c) on a real SQLite file: enqueue inside transactions,
 * idempotency keys, claiming with leases, lease takeover and backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "base/banned.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-queue-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char *url = xasprintf("sqlite:%s/t.db", f->dir);
	enum cx_err err = store_open(url, &f->st);
	free(url);
	if (err || store_migrate(f->st) != CX_OK)
		return -1;
	f->c = store_conn(f->st);
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
	free(f);
	return rc == 0 ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int64_t jobs_count(struct store_conn *c)
{
	int64_t n = -1;
	assert_int_equal(store_query_int(c, "SELECT COUNT(*) FROM jobs", NULL, 0, &n), CX_OK);
	return n;
}

static void enqueue_follows_the_transaction(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0;
	bool created = false;
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(job_enqueue(f->c, "k.one", "{\"a\":1}", NULL, 0, &id, &created), CX_OK);
	assert_true(created);
	assert_true(id > 0);
	/* enqueue never ends the caller's transaction. */
	assert_true(store_in_transaction(f->c));
	store_rollback(f->c);
	assert_int_equal(jobs_count(f->c), 0);
	enum job_state s;
	assert_int_equal(job_get_state(f->c, id, &s, NULL, NULL), CX_ENOTFOUND);

	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(job_enqueue(f->c, "k.one", "{\"a\":1}", NULL, 0, &id, &created), CX_OK);
	assert_int_equal(store_commit(f->c), CX_OK);
	assert_int_equal(jobs_count(f->c), 1);
	assert_int_equal(job_get_state(f->c, id, &s, NULL, NULL), CX_OK);
	assert_int_equal(s, JOB_QUEUED);

	assert_int_equal(job_enqueue(f->c, "", "{}", NULL, 0, &id, &created), CX_EINVAL);
	assert_int_equal(job_enqueue(f->c, NULL, "{}", NULL, 0, &id, &created), CX_EINVAL);
}

static void idempotency_key_returns_the_first_job(void **state)
{
	struct fixture *f = *state;
	int64_t first = 0, second = 0, other = 0, nokey1 = 0, nokey2 = 0;
	bool created = false;
	assert_int_equal(job_enqueue(f->c, "k", "{}", "meeting:7:create", 0, &first, &created),
			 CX_OK);
	assert_true(created);
	assert_int_equal(job_enqueue(f->c, "k", "{\"x\":2}", "meeting:7:create", 0, &second,
				     &created),
			 CX_OK);
	assert_false(created);
	assert_int_equal(second, first);
	assert_int_equal(job_enqueue(f->c, "k", "{}", "meeting:8:create", 0, &other, &created),
			 CX_OK);
	assert_true(created);
	assert_true(other != first);
	/* Without a key every enqueue is a new job. */
	assert_int_equal(job_enqueue(f->c, "k", "{}", NULL, 0, &nokey1, &created), CX_OK);
	assert_int_equal(job_enqueue(f->c, "k", "{}", NULL, 0, &nokey2, NULL), CX_OK);
	assert_true(nokey1 != nokey2);
	assert_int_equal(jobs_count(f->c), 4);

	/* The duplicate did not overwrite the payload. */
	struct job *job = NULL;
	assert_int_equal(job_claim(f->c, "w", 60000, &job), CX_OK);
	assert_int_equal(job->id, first);
	assert_string_equal(job->payload, "{}");
	assert_string_equal(job->idempotency_key, "meeting:7:create");
	job_free(job);
}

static void claim_takes_oldest_due_job(void **state)
{
	struct fixture *f = *state;
	int64_t now = time_wall_ms();
	int64_t newer = 0, older = 0, future = 0;
	assert_int_equal(job_enqueue(f->c, "k", "{}", NULL, now + 60000, &future, NULL), CX_OK);
	assert_int_equal(job_enqueue(f->c, "k", "{\"n\":1}", NULL, now - 1000, &newer, NULL),
			 CX_OK);
	assert_int_equal(job_enqueue(f->c, "k", "{\"n\":2}", NULL, now - 2000, &older, NULL),
			 CX_OK);

	struct job *job = NULL;
	assert_int_equal(job_claim(f->c, "w1", 30000, &job), CX_OK);
	assert_int_equal(job->id, older);
	assert_string_equal(job->kind, "k");
	assert_string_equal(job->payload, "{\"n\":2}");
	assert_null(job->idempotency_key);
	assert_null(job->last_error);
	assert_int_equal(job->attempts, 1);
	assert_true(job->lease_until_ms >= now + 30000);
	enum job_state s;
	assert_int_equal(job_get_state(f->c, older, &s, NULL, NULL), CX_OK);
	assert_int_equal(s, JOB_RUNNING);
	job_free(job);

	assert_int_equal(job_claim(f->c, "w1", 30000, &job), CX_OK);
	assert_int_equal(job->id, newer);
	job_free(job);

	/* The future job and the leased ones are not due. */
	job = (struct job *)1;
	assert_int_equal(job_claim(f->c, "w1", 30000, &job), CX_ENOTFOUND);
	assert_null(job);
	assert_false(store_in_transaction(f->c));

	/* claim needs its own transaction and leaves the caller's alone. */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(job_claim(f->c, "w1", 30000, &job), CX_EINVAL);
	assert_true(store_in_transaction(f->c));
	store_rollback(f->c);
}

static void expired_lease_is_taken_over(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(job_enqueue(f->c, "k", "{}", NULL, 0, &id, NULL), CX_OK);
	struct job *dead = NULL, *alive = NULL, *none = NULL;
	assert_int_equal(job_claim(f->c, "worker-a", 20, &dead), CX_OK);
	assert_int_equal(dead->id, id);
	/* Still leased: nobody else gets it. */
	assert_int_equal(job_claim(f->c, "worker-b", 60000, &none), CX_ENOTFOUND);
	sleep_ms(40);
	assert_int_equal(job_claim(f->c, "worker-b", 60000, &alive), CX_OK);
	assert_int_equal(alive->id, id);
	assert_int_equal(alive->attempts, 2);

	/* The first worker comes back: every result it reports is dropped. */
	assert_int_equal(job_mark_done(f->c, dead, "worker-a", "{\"late\":true}"), CX_ECONFLICT);
	assert_int_equal(job_mark_retry(f->c, dead, "worker-a", 0, "late"), CX_ECONFLICT);
	assert_int_equal(job_mark_failed(f->c, dead, "worker-a", "late"), CX_ECONFLICT);
	assert_int_equal(job_extend_lease(f->c, dead, "worker-a", 1000), CX_ECONFLICT);
	/* Even under the same owner name, the old attempt is not the current one. */
	assert_int_equal(job_mark_done(f->c, dead, "worker-b", "{}"), CX_ECONFLICT);

	assert_int_equal(job_extend_lease(f->c, alive, "worker-b", 120000), CX_OK);
	assert_int_equal(job_mark_done(f->c, alive, "worker-b", "{\"ok\":true}"), CX_OK);
	enum job_state s;
	char *result = NULL, *error = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, &result, &error), CX_OK);
	assert_int_equal(s, JOB_DONE);
	assert_string_equal(result, "{\"ok\":true}");
	assert_null(error);
	free(result);
	/* Done is final: a second mark is a conflict and claim finds nothing. */
	assert_int_equal(job_mark_done(f->c, alive, "worker-b", "{}"), CX_ECONFLICT);
	assert_int_equal(job_claim(f->c, "worker-c", 1, &none), CX_ENOTFOUND);
	job_free(dead);
	job_free(alive);
}

static void retry_and_fail_states(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(job_enqueue(f->c, "k", "{}", NULL, 0, &id, NULL), CX_OK);
	struct job *job = NULL;
	assert_int_equal(job_claim(f->c, "w", 60000, &job), CX_OK);
	assert_int_equal(job_mark_retry(f->c, job, "w", time_wall_ms() + 60000, "zoom said 503"),
			 CX_OK);
	job_free(job);
	enum job_state s;
	char *error = NULL;
	assert_int_equal(job_get_state(f->c, id, &s, NULL, &error), CX_OK);
	assert_int_equal(s, JOB_QUEUED);
	assert_string_equal(error, "zoom said 503");
	free(error);
	/* Not due until its retry time. */
	assert_int_equal(job_claim(f->c, "w", 60000, &job), CX_ENOTFOUND);
	assert_int_equal(store_exec(f->c, "UPDATE jobs SET run_at_ms = 0", NULL, 0, NULL), CX_OK);
	assert_int_equal(job_claim(f->c, "w", 60000, &job), CX_OK);
	assert_int_equal(job->attempts, 2);
	assert_string_equal(job->last_error, "zoom said 503");

	/* The mark runs inside the caller's transaction when one is open. */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(job_mark_failed(f->c, job, "w", "gone for good"), CX_OK);
	store_rollback(f->c);
	assert_int_equal(job_get_state(f->c, id, &s, NULL, NULL), CX_OK);
	assert_int_equal(s, JOB_RUNNING);
	assert_int_equal(job_mark_failed(f->c, job, "w", "gone for good"), CX_OK);
	assert_int_equal(job_get_state(f->c, id, &s, NULL, &error), CX_OK);
	assert_int_equal(s, JOB_FAILED);
	assert_string_equal(error, "gone for good");
	free(error);
	job_free(job);
}

static void counts_by_state(void **state)
{
	struct fixture *f = *state;
	int64_t counts[4] = {-1, -1, -1, -1};
	assert_int_equal(job_count_by_state(f->c, counts), CX_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(counts[i], 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(job_enqueue(f->c, "k", "{}", NULL, 0, NULL, NULL), CX_OK);
	struct job *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(job_claim(f->c, "w", 60000, &a), CX_OK);
	assert_int_equal(job_claim(f->c, "w", 60000, &b), CX_OK);
	assert_int_equal(job_claim(f->c, "w", 60000, &c), CX_OK);
	assert_int_equal(job_mark_done(f->c, a, "w", NULL), CX_OK);
	assert_int_equal(job_mark_failed(f->c, b, "w", "x"), CX_OK);
	assert_int_equal(job_count_by_state(f->c, counts), CX_OK);
	assert_int_equal(counts[JOB_QUEUED], 2);
	assert_int_equal(counts[JOB_RUNNING], 1);
	assert_int_equal(counts[JOB_DONE], 1);
	assert_int_equal(counts[JOB_FAILED], 1);
	job_free(a);
	job_free(b);
	job_free(c);
	assert_string_equal(job_state_name(JOB_QUEUED), "queued");
	assert_string_equal(job_state_name(JOB_RUNNING), "running");
	assert_string_equal(job_state_name(JOB_DONE), "done");
	assert_string_equal(job_state_name(JOB_FAILED), "failed");
}

static void backoff_grows_caps_and_jitters(void **state)
{
	(void)state;
	const struct job_kind kind = {
		.name = "k", .base_backoff_ms = 1000, .max_backoff_ms = 10000};
	/* base * 2^(n-1) within ±25 %. */
	static const int64_t expect[] = {1000, 2000, 4000, 8000, 10000, 10000};
	for (int n = 1; n <= 6; n++) {
		int64_t lo = INT64_MAX, hi = 0;
		for (int i = 0; i < 200; i++) {
			int64_t d = job_backoff_ms(&kind, n);
			assert_true(d >= expect[n - 1] - expect[n - 1] / 4);
			assert_true(d <= expect[n - 1] + expect[n - 1] / 4);
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
		}
		/* Jitter really spreads the delays. */
		assert_true(hi - lo > expect[n - 1] / 10);
	}
	/* Huge attempt counts stay at the cap, without overflow. */
	for (int n = 40; n < 2000; n += 97) {
		int64_t d = job_backoff_ms(&kind, n);
		assert_true(d >= 7500 && d <= 12500);
	}
	/* Defaults: 1 s base, 300 s cap. */
	const struct job_kind plain = {.name = "p"};
	int64_t d = job_backoff_ms(&plain, 1);
	assert_true(d >= 750 && d <= 1250);
	d = job_backoff_ms(&plain, 30);
	assert_true(d >= 225000 && d <= 375000);
	d = job_backoff_ms(NULL, 2);
	assert_true(d >= 1500 && d <= 2500);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(enqueue_follows_the_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(idempotency_key_returns_the_first_job, setup,
						teardown),
		cmocka_unit_test_setup_teardown(claim_takes_oldest_due_job, setup, teardown),
		cmocka_unit_test_setup_teardown(expired_lease_is_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(retry_and_fail_states, setup, teardown),
		cmocka_unit_test_setup_teardown(counts_by_state, setup, teardown),
		cmocka_unit_test(backoff_grows_caps_and_jitters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
