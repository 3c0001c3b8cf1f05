/* jobs.h: the durable job queue (DESIGN §1, §3). A job is written in the same transaction as the
 * data it acts on, claimed by a worker with a lease, retried with exponential backoff and jitter up to
 * its kind's maximum, and taken again by another worker when a lease expires (a worker died), so every
 * job step must be safe to run twice. Idempotency keys make a second enqueue of the same work return
 * the first job.
 *
 * Ownership and threads. The runner owns its worker threads; each worker uses its own store
 * connection. A kind's run function runs on a worker thread with a struct job_run it borrows. It
 * returns an outcome at once, or JOB_PENDING after handing work to another thread (the egress
 * thread), which later calls job_run_finish() exactly once; the runner then records the outcome on a
 * worker thread. Times are milliseconds of Unix time (time_wall_ms()) in the store. */
#ifndef CX_JOBS_JOBS_H
#define CX_JOBS_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "store/store.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };

enum job_outcome {
	JOB_OUTCOME_DONE,    /* finished; never runs again */
	JOB_OUTCOME_RETRY,   /* failed for now; runs again after a backoff, until max_attempts */
	JOB_OUTCOME_FAIL,    /* failed for good */
	JOB_OUTCOME_PENDING, /* job_run_finish() will be called later, from any thread */
};

struct job {
	int64_t id;
	char *kind;
	char *payload;         /* JSON text */
	char *idempotency_key; /* may be NULL */
	int attempts;          /* including the current one */
	int64_t run_at_ms;
	int64_t lease_until_ms;
	char *last_error;      /* may be NULL */
};

struct job_run {
	const struct job *job;
	struct arena *arena;   /* freed after the outcome is recorded */
	void *app;             /* job_runner_options.app */
	int64_t retry_after_ms;/* a run may set it with RETRY to ask for a specific delay (Retry-After) */
	char error[512];       /* a run sets it with RETRY or FAIL */
	char *result;          /* optional JSON text stored with DONE (arena memory) */
	struct job_runner *runner;
};

struct job_kind {
	const char *name;          /* "zoom.meeting.create" */
	enum job_outcome (*run)(struct job_run *run);
	/* Called once when the job fails for good (after the last attempt or FAIL), inside the
	 * transaction that marks it failed, to undo or report. May be NULL. */
	void (*on_failed)(struct job_run *run, struct store_conn *c);
	int max_attempts;          /* 0 = 8 */
	int64_t lease_ms;          /* 0 = 60,000 */
	int64_t base_backoff_ms;   /* 0 = 1,000; doubles per attempt, ±25 % jitter */
	int64_t max_backoff_ms;    /* 0 = 300,000 */
};

/* A kind the runner enqueues by itself every interval_ms (one per interval across instances). */
struct job_periodic {
	const char *kind;
	int64_t interval_ms;
};

struct job_runner_options {
	struct store *store;
	const struct job_kind *kinds;
	size_t n_kinds;
	const struct job_periodic *periodic;
	size_t n_periodic;
	int workers;           /* threads */
	int64_t lease_ms;      /* when > 0, every kind's lease (operators: CALENDOX_JOB_LEASE_S) */
	int64_t poll_ms;       /* how often idle workers look for due jobs; 0 = 500 */
	void *app;
};

/* The store notification channel (store_notify) of the queue: a new job is announced with an empty
 * payload, so idle workers of every instance wake at once instead of at their next poll; a job that
 * ended with "done <id>" or "failed <id>", so a handler of another instance waiting on it (a watch)
 * answers at once. job_runner_notified() takes both. */
#define JOB_NOTIFY_CHANNEL "calendox_jobs"

/* --- queue operations on a caller's connection (usually inside its transaction) --- */
/* Enqueues a job due at run_at_ms (0 = now). With an idempotency key already used, nothing is
 * inserted and *id gets the existing job (*created false). id and created may be NULL. A new job
 * due now is announced on JOB_NOTIFY_CHANNEL when the caller's transaction commits. */
enum cx_err job_enqueue(struct store_conn *c, const char *kind, const char *payload,
			const char *idempotency_key, int64_t run_at_ms, int64_t *id, bool *created);
/* Claims the oldest due job (queued and due, or running with an expired lease). CX_ENOTFOUND when
 * none. Caller frees *out with job_free(). */
enum cx_err job_claim(struct store_conn *c, const char *owner, int64_t lease_ms, struct job **out);
/* Each of these checks that owner still holds the lease (CX_ECONFLICT otherwise: another worker
 * took the job over and this result must be dropped). */
enum cx_err job_mark_done(struct store_conn *c, const struct job *job, const char *owner,
			  const char *result);
enum cx_err job_mark_retry(struct store_conn *c, const struct job *job, const char *owner,
			   int64_t run_at_ms, const char *error);
enum cx_err job_mark_failed(struct store_conn *c, const struct job *job, const char *owner,
			    const char *error);
enum cx_err job_extend_lease(struct store_conn *c, const struct job *job, const char *owner,
			     int64_t lease_ms);
/* State of a job (for handlers that wait on one); result/error may be NULL; caller frees them. */
enum cx_err job_get_state(struct store_conn *c, int64_t id, enum job_state *state, char **result,
			  char **error);
/* Counts by state for /metrics. */
enum cx_err job_count_by_state(struct store_conn *c, int64_t counts[4]);
const char *job_state_name(enum job_state s);
void job_free(struct job *job);

/* The delay before attempt n+1 (n >= 1): base * 2^(n-1), capped, with ±25 % jitter. */
int64_t job_backoff_ms(const struct job_kind *kind, int attempts);

/* --- the runner --- */
struct job_runner;
enum cx_err job_runner_start(const struct job_runner_options *opts, struct job_runner **out);
/* Stops claiming, waits for running jobs and, for a few seconds, for pending ones to be finished
 * and recorded (the rest keep their lease and are taken again when it expires; a job_run_finish()
 * that comes later is dropped and frees the runner's remains), joins, frees. Not from a worker. */
void job_runner_stop(struct job_runner *r);
/* Wakes idle workers at once (after a commit that enqueued work). */
void job_runner_kick(struct job_runner *r);
/* For JOB_OUTCOME_PENDING runs; any thread, exactly once. */
void job_run_finish(struct job_run *run, enum job_outcome outcome);

/* A later step of a multi-step run, on a worker thread with that worker's store connection, under
 * the same lease and attempt (the lease is extended to the kind's length first). It returns an
 * outcome like a kind's run function, JOB_OUTCOME_PENDING again after handing more work to another
 * thread. When the runner has stopped before the step could run, it is called once with c == NULL
 * so it can free arg; its outcome is then ignored. */
typedef enum job_outcome (*job_step_fn)(struct job_run *run, struct store_conn *c, void *arg);
/* For JOB_OUTCOME_PENDING runs, instead of job_run_finish(): any thread (typically an egress
 * completion, which must not touch the store), once per PENDING. Why: a job whose provider answer
 * must be stored before the next call (a Zoom meeting id before the calendar write) continues on a
 * worker at once, without spending an attempt or a backoff. */
void job_run_continue(struct job_run *run, job_step_fn step, void *arg);

/* Called on a worker thread after a job reached DONE or FAILED in this process. */
typedef void (*job_finished_fn)(int64_t job_id, enum job_state state, void *arg);
/* Registers a one-shot callback for job_id (an HTTP handler waking its suspended request). If the
 * job has already finished when registered, the callback is not called: the caller checks the state
 * after registering. Returns a handle for job_runner_unwatch (0 on failure). */
uint64_t job_runner_watch(struct job_runner *r, int64_t job_id, job_finished_fn fn, void *arg);
/* For the listener of JOB_NOTIFY_CHANNEL (any thread): a new job kicks the workers, a job that
 * ended in another process fires this process's watches on it; NULL (notifications may have been
 * missed) kicks the workers. */
void job_runner_notified(struct job_runner *r, const char *payload);
/* Removes a watch that has not fired; returns true when it was removed (false: it fired or is firing). */
bool job_runner_unwatch(struct job_runner *r, uint64_t handle);

#endif
