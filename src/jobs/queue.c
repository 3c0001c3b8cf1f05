/* queue.c: the durable job queue on the store: enqueue, claim with a lease, record outcomes.
 *
 * Every state change after a claim is conditional on the claimer still holding the lease (same
 * owner, same attempt, still running), so a worker that was presumed dead and comes back cannot
 * overwrite the outcome of the worker that took its job over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_BASE_BACKOFF_MS 1000
#define DEFAULT_MAX_BACKOFF_MS 300000

static const char *const state_names[] = {"queued", "running", "done", "failed"};

const char *job_state_name(enum job_state s)
{
	if ((size_t)s < N(state_names))
		return state_names[s];
	return "unknown";
}

static bool state_parse(const char *name, enum job_state *out)
{
	for (size_t i = 0; i < N(state_names); i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum job_state)i;
			return true;
		}
	}
	return false;
}

enum cx_err job_enqueue(struct store_conn *c, const char *kind, const char *payload,
			const char *idempotency_key, int64_t run_at_ms, int64_t *id, bool *created)
{
	int64_t now = time_wall_ms();
	struct store_val p[] = {
		SV_TEXT(kind),
		SV_TEXT(payload ? payload : "{}"),
		SV_TEXT(idempotency_key),
		SV_INT(run_at_ms > 0 ? run_at_ms : now),
		SV_INT(now),
	};
	bool made = false;
	int64_t job_id = 0;
	enum cx_err err = CX_EINVAL;
	if (!kind || !*kind)
		goto out;
	err = store_query_int(c,
			      "INSERT INTO jobs (kind, payload, idempotency_key, state, attempts, "
			      "run_at_ms, lease_until_ms, created_at_ms, updated_at_ms) "
			      "VALUES ($1, $2, $3, 'queued', 0, $4, 0, $5, $5) "
			      "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
			      p, N(p), &job_id);
	if (!err) {
		made = true;
		/* Other instances' idle workers wake at the commit (PostgreSQL; nothing on SQLite). */
		if (run_at_ms <= now)
			err = store_notify(c, JOB_NOTIFY_CHANNEL, NULL);
		goto out;
	}
	if (err != CX_ENOTFOUND || !idempotency_key)
		goto out;
	/* The key was used: the job it names is the answer. */
	struct store_val k[] = {SV_TEXT(idempotency_key)};
	err = store_query_int(c, "SELECT id FROM jobs WHERE idempotency_key = $1", k, N(k),
			      &job_id);
out:
	if (id)
		*id = err ? 0 : job_id;
	if (created)
		*created = made;
	return err;
}

void job_free(struct job *job)
{
	if (!job)
		return;
	free(job->kind);
	free(job->payload);
	free(job->idempotency_key);
	free(job->last_error);
	free(job);
}

#define CLAIM_SET                                                                                  \
	"UPDATE jobs SET state = 'running', lease_owner = $1, "                                    \
	"lease_until_ms = $3, attempts = attempts + 1, updated_at_ms = $2 "                       \
	"WHERE id = (SELECT id FROM jobs WHERE "                                                   \
	"(state = 'queued' AND run_at_ms <= $2) OR "                                               \
	"(state = 'running' AND lease_until_ms <= $2) "                                            \
	"ORDER BY run_at_ms, id LIMIT 1"
#define CLAIM_RETURNING                                                                            \
	") RETURNING id, kind, payload, idempotency_key, attempts, run_at_ms, "                   \
	"lease_until_ms, last_error"

/* Why one statement: the pick and the update happen under the same write lock, so two workers can
 * never claim the same job. SQLite's BEGIN IMMEDIATE gives that lock to one writer at a time;
 * PostgreSQL lets writers run side by side, so there the pick locks its row and skips rows other
 * claimers hold (FOR UPDATE SKIP LOCKED): without it two workers could pick the same id and both
 * update it. */
enum cx_err job_claim(struct store_conn *c, const char *owner, int64_t lease_ms, struct job **out)
{
	int64_t now = time_wall_ms();
	struct store_val p[] = {SV_TEXT(owner), SV_INT(now), SV_INT(now + lease_ms)};
	struct store_rows *rows = NULL;
	bool began = false;
	*out = NULL;
	enum cx_err err = store_begin(c);
	if (err)
		goto out;
	began = true;
	bool pg = strcmp(store_conn_backend(c), "postgresql") == 0;
	err = store_query(c,
			  pg ? CLAIM_SET " FOR UPDATE SKIP LOCKED" CLAIM_RETURNING
			     : CLAIM_SET CLAIM_RETURNING,
			  p, N(p), &rows);
	if (err)
		goto out;
	if (!store_rows_next(rows)) {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
		goto out;
	}
	struct job *job = xcalloc(1, sizeof(*job));
	job->id = store_col_int(rows, 0);
	job->kind = store_col_text_dup(rows, 1);
	job->payload = store_col_text_dup(rows, 2);
	job->idempotency_key = store_col_text_dup(rows, 3);
	job->attempts = (int)store_col_int(rows, 4);
	job->run_at_ms = store_col_int(rows, 5);
	job->lease_until_ms = store_col_int(rows, 6);
	job->last_error = store_col_text_dup(rows, 7);
	if (!job->kind)
		job->kind = xstrdup("");
	if (!job->payload)
		job->payload = xstrdup("{}");
	store_rows_free(rows);
	rows = NULL;
	err = store_commit(c);
	if (err)
		job_free(job);
	else
		*out = job;
out:
	store_rows_free(rows);
	if (err && began)
		store_rollback(c);
	return err;
}

/* Runs one lease-guarded UPDATE: p[0] job id, p[1] owner, p[2] attempt, further parameters as the
 * SQL uses them. No row changed means the lease was lost. */
static enum cx_err guarded_update(struct store_conn *c, const char *sql, const struct store_val *p,
				  size_t n)
{
	int64_t changes = 0;
	enum cx_err err = store_exec(c, sql, p, n, &changes);
	if (!err && changes == 0)
		err = CX_ECONFLICT;
	return err;
}

#define LEASE_GUARD " WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'running'"

enum cx_err job_mark_done(struct store_conn *c, const struct job *job, const char *owner,
			  const char *result)
{
	struct store_val p[] = {SV_INT(job->id), SV_TEXT(owner), SV_INT(job->attempts),
				SV_TEXT(result), SV_INT(time_wall_ms())};
	return guarded_update(c,
			      "UPDATE jobs SET state = 'done', result = $4, lease_until_ms = 0, "
			      "updated_at_ms = $5" LEASE_GUARD,
			      p, N(p));
}

enum cx_err job_mark_retry(struct store_conn *c, const struct job *job, const char *owner,
			   int64_t run_at_ms, const char *error)
{
	struct store_val p[] = {SV_INT(job->id), SV_TEXT(owner), SV_INT(job->attempts),
				SV_INT(run_at_ms), SV_TEXT(error), SV_INT(time_wall_ms())};
	return guarded_update(c,
			      "UPDATE jobs SET state = 'queued', run_at_ms = $4, last_error = $5, "
			      "lease_owner = NULL, lease_until_ms = 0, "
			      "updated_at_ms = $6" LEASE_GUARD,
			      p, N(p));
}

enum cx_err job_mark_failed(struct store_conn *c, const struct job *job, const char *owner,
			    const char *error)
{
	struct store_val p[] = {SV_INT(job->id), SV_TEXT(owner), SV_INT(job->attempts),
				SV_TEXT(error), SV_INT(time_wall_ms())};
	return guarded_update(c,
			      "UPDATE jobs SET state = 'failed', last_error = $4, "
			      "lease_until_ms = 0, updated_at_ms = $5" LEASE_GUARD,
			      p, N(p));
}

enum cx_err job_extend_lease(struct store_conn *c, const struct job *job, const char *owner,
			     int64_t lease_ms)
{
	int64_t now = time_wall_ms();
	struct store_val p[] = {SV_INT(job->id), SV_TEXT(owner), SV_INT(job->attempts),
				SV_INT(now + lease_ms), SV_INT(now)};
	return guarded_update(c,
			      "UPDATE jobs SET lease_until_ms = $4, "
			      "updated_at_ms = $5" LEASE_GUARD,
			      p, N(p));
}

enum cx_err job_get_state(struct store_conn *c, int64_t id, enum job_state *state, char **result,
			  char **error)
{
	struct store_val p[] = {SV_INT(id)};
	struct store_rows *rows = NULL;
	if (result)
		*result = NULL;
	if (error)
		*error = NULL;
	enum cx_err err = store_query(c, "SELECT state, result, last_error FROM jobs WHERE id = $1",
				      p, N(p), &rows);
	if (err)
		goto out;
	if (!store_rows_next(rows)) {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
		goto out;
	}
	if (!state_parse(store_col_text(rows, 0), state)) {
		log_error("job has an unknown state", "job=%lld", (long long)id);
		err = CX_EDB;
		goto out;
	}
	if (result)
		*result = store_col_text_dup(rows, 1);
	if (error)
		*error = store_col_text_dup(rows, 2);
out:
	store_rows_free(rows);
	return err;
}

enum cx_err job_count_by_state(struct store_conn *c, int64_t counts[4])
{
	struct store_rows *rows = NULL;
	for (int i = 0; i < 4; i++)
		counts[i] = 0;
	enum cx_err err =
		store_query(c, "SELECT state, COUNT(*) FROM jobs GROUP BY state", NULL, 0, &rows);
	if (err)
		goto out;
	while (store_rows_next(rows)) {
		enum job_state s;
		if (state_parse(store_col_text(rows, 0), &s))
			counts[s] = store_col_int(rows, 1);
	}
	err = store_rows_error(rows);
out:
	store_rows_free(rows);
	return err;
}

int64_t job_backoff_ms(const struct job_kind *kind, int attempts)
{
	int64_t base = kind && kind->base_backoff_ms > 0 ? kind->base_backoff_ms
							 : DEFAULT_BASE_BACKOFF_MS;
	int64_t cap = kind && kind->max_backoff_ms > 0 ? kind->max_backoff_ms
						       : DEFAULT_MAX_BACKOFF_MS;
	int64_t delay = base;
	for (int n = 1; n < attempts && delay < cap; n++)
		delay *= 2;
	if (delay > cap)
		delay = cap;
	/* ±25 %: uniform in [delay - delay/4, delay + delay/4]. */
	int64_t spread = delay / 4;
	if (spread > 0 && spread < (int64_t)(UINT32_MAX / 2))
		delay += (int64_t)sec_random_uniform((uint32_t)(2 * spread + 1)) - spread;
	return delay;
}
