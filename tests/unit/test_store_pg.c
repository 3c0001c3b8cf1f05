/* The PostgreSQL backend (store/postgres.c) through store.h, on a real server: parameters and
 * types, unique violations, transactions and rollback, blobs, per-thread connections, the job
 * claim with FOR UPDATE SKIP LOCKED, and the reconnect after the server ends a connection.
 *
 * CALENDOX_TEST_DATABASE_URL names a server (postgresql://…/postgres, as scripts/pg.sh prints); the
 * tests run in a fresh database created there and dropped at the end. Without it the tests cannot
 * run: the program says so and exits 77 (reported by ctest as skipped), or fails when
 * CALENDOX_REQUIRE_PG=1 says a server was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "jobs/jobs.h"
#include "store/accounts.h"
#include "store/store.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SKIPPED 77

static const char *server_url; /* CALENDOX_TEST_DATABASE_URL */
static char *db_name;          /* the database these tests create and drop */
static char *db_url;           /* server_url pointing at db_name */

struct fixture {
	struct store *st;
	struct store_conn *c;
};

/* url with its database (the path after host[:port]) replaced by name. */
static char *url_with_database(const char *url, const char *name)
{
	const char *auth = strstr(url, "://");
	const char *host = auth ? auth + 3 : url;
	size_t host_len = strcspn(host, "/?");
	const char *rest = host + host_len;
	if (*rest == '/')
		rest += strcspn(rest, "?");
	return xasprintf("%.*s/%s%s", (int)(host + host_len - url), url, name, rest);
}

static int create_database(void **state)
{
	(void)state;
	uint8_t rnd[6];
	sec_random_bytes(rnd, sizeof(rnd));
	db_name = xasprintf("cx_unit_%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
	                    rnd[4], rnd[5]);
	db_url = url_with_database(server_url, db_name);
	struct store *st = NULL;
	if (store_open(server_url, &st) != CX_OK)
		return -1;
	char *sql = xasprintf("CREATE DATABASE %s", db_name);
	enum cx_err err = store_exec(store_conn(st), sql, NULL, 0, NULL);
	free(sql);
	store_close(st);
	return err == CX_OK ? 0 : -1;
}

static int drop_database(void **state)
{
	(void)state;
	struct store *st = NULL;
	enum cx_err err = store_open(server_url, &st);
	if (!err) {
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", db_name);
		err = store_exec(store_conn(st), sql, NULL, 0, NULL);
		free(sql);
		store_close(st);
	}
	free(db_name);
	free(db_url);
	return err == CX_OK ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	if (store_open(db_url, &f->st) != CX_OK)
		return -1;
	f->c = store_conn(f->st);
	if (store_exec(f->c, "DROP TABLE IF EXISTS t", NULL, 0, NULL) != CX_OK ||
	    store_exec(f->c,
	               "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, email TEXT UNIQUE, n BIGINT, "
	               "s TEXT, b BYTEA, flag INTEGER NOT NULL DEFAULT 0)",
	               NULL, 0, NULL) != CX_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_thread_done(f->st);
	store_close(f->st);
	free(f);
	return 0;
}

static int64_t count_rows(struct store_conn *c)
{
	int64_t n = -1;
	assert_int_equal(store_query_int(c, "SELECT COUNT(*) FROM t", NULL, 0, &n), CX_OK);
	return n;
}

static int64_t backend_pid(struct store_conn *c)
{
	int64_t pid = 0;
	assert_int_equal(store_query_int(c, "SELECT pg_backend_pid()", NULL, 0, &pid), CX_OK);
	return pid;
}

/* Ends a server process from another store, as an administrator or a server restart would. */
static void terminate_backend(int64_t pid)
{
	struct store *admin = NULL;
	assert_int_equal(store_open(db_url, &admin), CX_OK);
	struct store_val p[] = {SV_INT(pid)};
	int64_t ok = 0;
	assert_int_equal(
	    store_query_int(store_conn(admin), "SELECT pg_terminate_backend($1::int)", p, 1, &ok),
	    CX_OK);
	assert_int_equal(ok, 1);
	/* pg_terminate_backend only signals; wait until the process is gone. */
	for (int i = 0; i < 200; i++) {
		int64_t left = 0;
		assert_int_equal(store_query_int(store_conn(admin),
		                                 "SELECT COUNT(*) FROM pg_stat_activity "
		                                 "WHERE pid = $1",
		                                 p, 1, &left),
		                 CX_OK);
		if (left == 0)
			break;
		usleep(10000);
	}
	store_close(admin);
}

static void backend_and_schemes(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(store_backend(f->st), "postgresql");
	assert_string_equal(store_conn_backend(f->c), "postgresql");
	assert_ptr_equal(store_conn(f->st), f->c);
	/* libpq's short scheme opens the same backend. */
	const char *rest = strchr(db_url, ':');
	char *short_url = xasprintf("postgres%s", rest);
	struct store *st = NULL;
	assert_int_equal(store_open(short_url, &st), CX_OK);
	assert_string_equal(store_backend(st), "postgresql");
	int64_t one = 0;
	assert_int_equal(store_query_int(store_conn(st), "SELECT 1", NULL, 0, &one), CX_OK);
	assert_int_equal(one, 1);
	store_close(st);
	free(short_url);
}

static void statement_timeout_is_set(void **state)
{
	struct fixture *f = *state;
	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c, "SHOW statement_timeout", NULL, 0, &rows), CX_OK);
	assert_true(store_rows_next(rows));
	assert_string_equal(store_col_text(rows, 0), "30s");
	store_rows_free(rows);
}

/* A refused connection is CX_EDB, and its log line names the server without the password. */
static void connection_failure_hides_the_password(void **state)
{
	(void)state;
	FILE *log = tmpfile();
	assert_non_null(log);
	log_set_stream(log);
	struct store *st = (struct store *)1;
	enum cx_err err = store_open("postgresql://calendox:s3cret-pass-word@127.0.0.1:1/cx"
	                             "?password=other-s3cret",
	                             &st);
	log_set_stream(stderr);
	assert_int_equal(err, CX_EDB);
	char text[4096] = "";
	rewind(log);
	size_t n = fread(text, 1, sizeof(text) - 1, log);
	text[n] = '\0';
	fclose(log);
	assert_non_null(strstr(text, "store connection failed"));
	assert_non_null(strstr(text, "127.0.0.1:1"));
	assert_non_null(strstr(text, "REDACTED"));
	assert_null(strstr(text, "s3cret"));
}

/* Failed statements are logged without the values they carried: PostgreSQL's DETAIL quotes the
 * conflicting key, and a bad integer is quoted in the message itself. */
static void failed_statements_log_no_values(void **state)
{
	struct fixture *f = *state;
	FILE *log = tmpfile();
	assert_non_null(log);
	log_set_level(LOG_LEVEL_DEBUG);
	log_set_stream(log);
	struct store_val p[] = {SV_TEXT("verifier-s3cret")};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL),
	                 CX_ECONFLICT);
	int64_t n = 0;
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM t WHERE n = $1", p, 1, &n),
	                 CX_EDB);
	log_set_stream(stderr);
	log_set_level(LOG_LEVEL_ERROR);
	char text[4096] = "";
	rewind(log);
	size_t len = fread(text, 1, sizeof(text) - 1, log);
	text[len] = '\0';
	fclose(log);
	assert_non_null(strstr(text, "t_email_key"));
	assert_non_null(strstr(text, "sqlstate=22P02"));
	assert_null(strstr(text, "s3cret"));
}

static void unique_violation_is_conflict(void **state)
{
	struct fixture *f = *state;
	struct store_val p[] = {SV_TEXT("ada@example.com")};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL),
	                 CX_ECONFLICT);
	int64_t id = 0;
	assert_int_equal(store_query_int(f->c, "SELECT id FROM t", NULL, 0, &id), CX_OK);
	struct store_val dup[] = {SV_INT(id)};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (id) VALUES ($1)", dup, 1, NULL),
	                 CX_ECONFLICT);
	/* INSERT … ON CONFLICT DO NOTHING RETURNING gives no row instead. */
	int64_t none = 0;
	assert_int_equal(store_query_int(f->c,
	                                 "INSERT INTO t (email) VALUES ($1) ON CONFLICT (email) "
	                                 "DO NOTHING RETURNING id",
	                                 p, 1, &none),
	                 CX_ENOTFOUND);
	/* Other constraint failures are database errors, not conflicts. */
	struct store_val null[] = {SV_INT(1), SV_NULL};
	assert_int_equal(store_exec(f->c, "UPDATE t SET flag = $2 WHERE id >= $1", null, 2, NULL),
	                 CX_EDB);
	assert_int_equal(count_rows(f->c), 1);
}

static void parameters_and_types(void **state)
{
	struct fixture *f = *state;
	static const uint8_t blob[] = {0x00, 0xff, 0x10, 0x00, 0x5c, 0x27, 0x7f};
	/* $2 before $1, $1 twice, an integer into an INTEGER column, text compared with BIGINT. */
	struct store_val p[] = {SV_TEXT("zoë \"quoted\" 'x' \\"), SV_INT(INT64_MIN),
	                        SV_BLOB(blob, sizeof(blob)), SV_INT(1)};
	int64_t id = 0;
	assert_int_equal(store_query_int(f->c,
	                                 "INSERT INTO t (n, s, email, b, flag) "
	                                 "VALUES ($2, $1, $1 || '@x', $3, $4) RETURNING id",
	                                 p, N(p), &id),
	                 CX_OK);
	assert_true(id > 0);
	struct store_val q[] = {SV_INT(INT64_MAX), SV_NULL, SV_BLOB("", 0), SV_TEXT(NULL)};
	int64_t changes = 0;
	assert_int_equal(store_exec(f->c, "INSERT INTO t (n, s, b, email) VALUES ($1, $2, $3, $4)",
	                            q, N(q), &changes),
	                 CX_OK);
	assert_int_equal(changes, 1);

	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c,
	                             "SELECT n, s, b, email, flag, flag = 1 FROM t ORDER BY id",
	                             NULL, 0, &rows),
	                 CX_OK);
	assert_true(store_rows_next(rows));
	assert_int_equal(store_col_int(rows, 0), INT64_MIN);
	assert_string_equal(store_col_text(rows, 1), "zoë \"quoted\" 'x' \\");
	size_t len = 0;
	const void *got = store_col_blob(rows, 2, &len);
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(got, blob, sizeof(blob));
	/* Read twice, the decoded bytes stay the same. */
	assert_ptr_equal(store_col_blob(rows, 2, &len), got);
	assert_string_equal(store_col_text(rows, 3), "zoë \"quoted\" 'x' \\@x");
	assert_int_equal(store_col_int(rows, 4), 1);
	/* A boolean expression reads as an integer, as on SQLite. */
	assert_int_equal(store_col_int(rows, 5), 1);

	assert_true(store_rows_next(rows));
	assert_int_equal(store_col_int(rows, 0), INT64_MAX);
	assert_true(store_col_null(rows, 1));
	assert_string_equal(store_col_text(rows, 1), "");
	assert_null(store_col_text_dup(rows, 1));
	got = store_col_blob(rows, 2, &len);
	assert_non_null(got);
	assert_int_equal(len, 0);
	assert_true(store_col_null(rows, 3));
	assert_null(store_col_blob(rows, 3, &len));
	assert_int_equal(store_col_int(rows, 5), 0);
	/* Out-of-range columns read as NULL rather than crashing. */
	assert_true(store_col_null(rows, 9));
	assert_int_equal(store_col_int(rows, -1), 0);
	assert_false(store_rows_next(rows));
	assert_false(store_rows_next(rows));
	assert_int_equal(store_rows_error(rows), CX_OK);
	store_rows_free(rows);

	/* Text given for a BIGINT comparison, LIMIT from an integer, an unused extra parameter. */
	struct store_val lim[] = {SV_TEXT("0"), SV_INT(1), SV_TEXT("unused")};
	assert_int_equal(
	    store_query(f->c, "SELECT id FROM t WHERE n > $1 LIMIT $2", lim, N(lim), &rows), CX_OK);
	assert_true(store_rows_next(rows));
	assert_false(store_rows_next(rows));
	store_rows_free(rows);

	/* Rows changed, as SQLite counts them: none for a SELECT. */
	assert_int_equal(store_exec(f->c, "UPDATE t SET flag = 2", NULL, 0, &changes), CX_OK);
	assert_int_equal(changes, 2);
	assert_int_equal(store_exec(f->c, "SELECT * FROM t", NULL, 0, &changes), CX_OK);
	assert_int_equal(changes, 0);

	/* A placeholder without a value, or an empty statement, is the caller's mistake. */
	assert_int_equal(store_exec(f->c, "UPDATE t SET n = $3 WHERE id = $1", p, 2, NULL),
	                 CX_EINVAL);
	assert_int_equal(store_query(f->c, "SELECT $1", NULL, 0, &rows), CX_EINVAL);
	assert_null(rows);
	assert_int_equal(store_exec(f->c, "", NULL, 0, NULL), CX_EINVAL);
	/* "$1" inside quoted text is not a placeholder. */
	assert_int_equal(store_query(f->c, "SELECT '$1'", NULL, 0, &rows), CX_OK);
	assert_true(store_rows_next(rows));
	assert_string_equal(store_col_text(rows, 0), "$1");
	store_rows_free(rows);
	assert_int_equal(store_exec(f->c, "SELEC nonsense", NULL, 0, NULL), CX_EDB);
	assert_int_equal(count_rows(f->c), 2);
}

static void transactions_commit_and_roll_back(void **state)
{
	struct fixture *f = *state;
	struct store_val a[] = {SV_TEXT("a@x")};
	struct store_val b[] = {SV_TEXT("b@x")};
	assert_false(store_in_transaction(f->c));
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_true(store_in_transaction(f->c));
	assert_int_equal(store_begin(f->c), CX_EINVAL);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", a, 1, NULL), CX_OK);
	assert_int_equal(count_rows(f->c), 1);
	store_rollback(f->c);
	assert_false(store_in_transaction(f->c));
	assert_int_equal(count_rows(f->c), 0);
	store_rollback(f->c);
	assert_int_equal(store_commit(f->c), CX_EINVAL);

	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", a, 1, NULL), CX_OK);
	assert_int_equal(store_commit(f->c), CX_OK);
	assert_int_equal(count_rows(f->c), 1);

	/* A failed statement aborts a PostgreSQL transaction: its commit fails and nothing of it
	 * stays. */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", b, 1, NULL), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", a, 1, NULL),
	                 CX_ECONFLICT);
	assert_int_equal(store_commit(f->c), CX_EDB);
	assert_false(store_in_transaction(f->c));
	assert_int_equal(count_rows(f->c), 1);

	/* Another connection does not see uncommitted rows. */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", b, 1, NULL), CX_OK);
	struct store *other = NULL;
	assert_int_equal(store_open(db_url, &other), CX_OK);
	assert_int_equal(count_rows(store_conn(other)), 1);
	assert_int_equal(store_commit(f->c), CX_OK);
	assert_int_equal(count_rows(store_conn(other)), 2);
	store_close(other);
}

static void reconnects_after_the_server_ends_the_connection(void **state)
{
	struct fixture *f = *state;
	struct store_val a[] = {SV_TEXT("a@x")};
	struct store_val b[] = {SV_TEXT("b@x")};
	int64_t pid = backend_pid(f->c);
	terminate_backend(pid);
	/* Outside a transaction the statement is sent again on a new connection. */
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", a, 1, NULL), CX_OK);
	int64_t pid2 = backend_pid(f->c);
	assert_true(pid2 != pid);
	assert_int_equal(count_rows(f->c), 1);
	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c, "SHOW statement_timeout", NULL, 0, &rows), CX_OK);
	assert_true(store_rows_next(rows));
	assert_string_equal(store_col_text(rows, 0), "30s");
	store_rows_free(rows);

	/* Inside a transaction the lost statements cannot be replayed: the statement fails, the
	 * transaction stays open for the caller's rollback, and the next one works again. */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", b, 1, NULL), CX_OK);
	terminate_backend(pid2);
	assert_int_equal(store_exec(f->c, "UPDATE t SET n = 1", NULL, 0, NULL), CX_EDB);
	assert_true(store_in_transaction(f->c));
	assert_int_equal(store_exec(f->c, "UPDATE t SET n = 2", NULL, 0, NULL), CX_EDB);
	store_rollback(f->c);
	assert_false(store_in_transaction(f->c));
	assert_int_equal(count_rows(f->c), 1);

	/* A commit whose connection was lost fails and leaves nothing. */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", b, 1, NULL), CX_OK);
	terminate_backend(backend_pid(f->c));
	assert_int_equal(store_commit(f->c), CX_EDB);
	assert_false(store_in_transaction(f->c));
	assert_int_equal(count_rows(f->c), 1);
}

struct writer_arg {
	struct store *st;
	int id;
	enum cx_err err;
	struct store_conn *conn;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	struct store_conn *c = store_conn(a->st);
	a->conn = c;
	for (int i = 0; i < 20 && !a->err; i++) {
		char email[64];
		snprintf(email, sizeof(email), "w%d-%d@x", a->id, i);
		const char *address = email;
		struct store_val v[] = {SV_TEXT(address), SV_INT(a->id)};
		a->err = store_begin(c);
		if (!a->err)
			a->err =
			    store_exec(c, "INSERT INTO t (email, n) VALUES ($1, $2)", v, 2, NULL);
		if (!a->err)
			a->err = store_commit(c);
		if (a->err)
			store_rollback(c);
	}
	store_thread_done(a->st);
	return NULL;
}

static void threads_have_own_connections(void **state)
{
	struct fixture *f = *state;
	struct writer_arg args[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct writer_arg){.st = f->st, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].err, CX_OK);
		assert_ptr_not_equal(args[i].conn, f->c);
	}
	assert_int_equal(count_rows(f->c), 80);
}

/* The jobs table of the real migrations, claimed from several threads at once: every job exactly
 * once (FOR UPDATE SKIP LOCKED; without it two claimers can pick the same row). */
#define CLAIM_JOBS 60

struct claimer_arg {
	struct store *st;
	char owner[16];
	int64_t ids[CLAIM_JOBS];
	int n;
	enum cx_err err;
};

static void *claimer_thread(void *p)
{
	struct claimer_arg *a = p;
	struct store_conn *c = store_conn(a->st);
	for (;;) {
		struct job *job = NULL;
		enum cx_err err = job_claim(c, a->owner, 60000, &job);
		if (err == CX_ENOTFOUND)
			break;
		if (err) {
			a->err = err;
			break;
		}
		if (a->n < CLAIM_JOBS)
			a->ids[a->n++] = job->id;
		job_free(job);
	}
	store_thread_done(a->st);
	return NULL;
}

static void migrations_and_job_claims(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_migrate(f->st), CX_OK);
	int version = 0;
	assert_int_equal(store_schema_version(f->st, &version), CX_OK);
	assert_true(version >= 1);
	/* Running them again changes nothing. */
	assert_int_equal(store_migrate(f->st), CX_OK);
	int again = 0;
	assert_int_equal(store_schema_version(f->st, &again), CX_OK);
	assert_int_equal(again, version);

	assert_int_equal(store_exec(f->c, "DELETE FROM jobs", NULL, 0, NULL), CX_OK);
	for (int i = 0; i < CLAIM_JOBS; i++) {
		char key[32];
		snprintf(key, sizeof(key), "claim-test-%d", i);
		int64_t id = 0;
		bool created = false;
		assert_int_equal(job_enqueue(f->c, "test.noop", "{}", key, 0, &id, &created),
		                 CX_OK);
		assert_true(created);
	}
	/* The same idempotency key names the same job. */
	int64_t first = 0, same = 0;
	bool created = true;
	assert_int_equal(job_enqueue(f->c, "test.noop", "{}", "claim-test-0", 0, &same, &created),
	                 CX_OK);
	assert_false(created);
	assert_int_equal(
	    store_query_int(f->c, "SELECT id FROM jobs WHERE idempotency_key = 'claim-test-0'",
	                    NULL, 0, &first),
	    CX_OK);
	assert_int_equal(same, first);

	struct claimer_arg *args = xcalloc(4, sizeof(*args));
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		args[i].st = f->st;
		snprintf(args[i].owner, sizeof(args[i].owner), "worker-%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, claimer_thread, &args[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].err, CX_OK);
		total += args[i].n;
	}
	assert_int_equal(total, CLAIM_JOBS);
	int64_t claimed = 0;
	assert_int_equal(store_query_int(f->c,
	                                 "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND "
	                                 "attempts = 1",
	                                 NULL, 0, &claimed),
	                 CX_OK);
	assert_int_equal(claimed, CLAIM_JOBS);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < args[i].n; k++)
			for (int j = i; j < 4; j++)
				for (int m = (j == i ? k + 1 : 0); m < args[j].n; m++)
					assert_true(args[i].ids[k] != args[j].ids[m]);
	free(args);
}

/* More distinct statements than a connection keeps prepared: the oldest are deallocated on the
 * server (the session never holds more than the cache) and run again when asked for. */
static void prepared_statements_are_bounded_and_reused(void **state)
{
	struct fixture *f = *state;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 150; i++) {
			char sql[64];
			snprintf(sql, sizeof(sql), "SELECT $1::bigint + %d", i);
			struct store_val p[] = {SV_INT(round)};
			int64_t v = -1;
			assert_int_equal(store_query_int(f->c, sql, p, 1, &v), CX_OK);
			assert_int_equal(v, round + i);
		}
	}
	int64_t held = -1;
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM pg_prepared_statements", NULL,
	                                 0, &held),
	                 CX_OK);
	assert_true(held > 0);
	assert_true(held <= 128);
	/* The same SQL with a NULL where an integer was is a statement of its own, and works. */
	struct store_val p[] = {SV_NULL};
	int64_t v = -1;
	assert_int_equal(store_query_int(f->c, "SELECT COALESCE($1::bigint + 0, 7)", p, 1, &v),
	                 CX_OK);
	assert_int_equal(v, 7);
}

/* --- the person's lock --- */

struct locker_arg {
	struct store *st;
	int64_t user_id;
	enum cx_err err;
	int64_t locked_at_ms; /* when its lock was granted */
};

static void *locker_thread(void *p)
{
	struct locker_arg *a = p;
	struct store_conn *c = store_conn(a->st);
	a->err = store_begin(c);
	if (!a->err)
		a->err = store_user_lock(c, a->user_id);
	a->locked_at_ms = time_now_ms();
	store_rollback(c);
	store_thread_done(a->st);
	return NULL;
}

/* Two transactions that lock the same person run one after the other: the second gets the lock
 * only when the first ends (the plan check of two connects on two instances). */
static void a_persons_lock_serializes_transactions(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_migrate(f->st), CX_OK);
	int64_t user = 0;
	assert_int_equal(store_user_create(f->c, "lock@example.com", "Lock", "h", 1, &user), CX_OK);
	assert_int_equal(store_user_lock(f->c, user + 1000), CX_ENOTFOUND);
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_user_lock(f->c, user), CX_OK);
	struct locker_arg a = {.st = f->st, .user_id = user};
	pthread_t t;
	int64_t start = time_now_ms();
	assert_int_equal(pthread_create(&t, NULL, locker_thread, &a), 0);
	usleep(400000);
	int64_t released = time_now_ms();
	assert_int_equal(store_commit(f->c), CX_OK);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(a.err, CX_OK);
	assert_true(a.locked_at_ms >= released);
	assert_true(a.locked_at_ms - start >= 350);
}

/* --- notifications --- */

struct heard {
	pthread_mutex_t lock;
	int calls;
};

static void on_notify(void *arg, const char *payload)
{
	struct heard *h = arg;
	assert_true(payload == NULL || strcmp(payload, "ping") == 0);
	pthread_mutex_lock(&h->lock);
	h->calls++;
	pthread_mutex_unlock(&h->lock);
}

static int calls_of(struct heard *h)
{
	pthread_mutex_lock(&h->lock);
	int n = h->calls;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Polls for up to ms until h has at least want calls. */
static int wait_calls(struct heard *h, int want, int ms)
{
	for (int waited = 0; calls_of(h) < want && waited < ms; waited += 10)
		usleep(10000);
	return calls_of(h);
}

/* A notification reaches a listener of another store handle (another instance) when the
 * sender's transaction commits, never for a rolled-back one; a listener whose connection the
 * server ended reconnects and says so once. */
static void notifications_cross_instances_at_commit(void **state)
{
	struct fixture *f = *state;
	struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct store *other = NULL;
	struct store_listener *l = NULL;
	assert_int_equal(store_open(db_url, &other), CX_OK);
	assert_int_equal(store_listen(other, "calendox_test", on_notify, &h, &l), CX_OK);
	assert_non_null(l);
	assert_int_equal(store_notify(f->c, "Bad-Name", NULL), CX_EINVAL);

	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_notify(f->c, "calendox_test", "ping"), CX_OK);
	usleep(300000);
	assert_int_equal(calls_of(&h), 0); /* not before the commit */
	assert_int_equal(store_commit(f->c), CX_OK);
	assert_int_equal(wait_calls(&h, 1, 3000), 1);

	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_notify(f->c, "calendox_test", "ping"), CX_OK);
	store_rollback(f->c);
	usleep(600000);
	assert_int_equal(calls_of(&h), 1);

	/* The listener's connection ended by the server: it comes back and reports the gap. */
	int64_t pid = 0;
	assert_int_equal(store_query_int(f->c,
	                                 "SELECT pid FROM pg_stat_activity WHERE application_name "
	                                 "= 'calendox-listener' AND datname = current_database()",
	                                 NULL, 0, &pid),
	                 CX_OK);
	terminate_backend(pid);
	assert_true(wait_calls(&h, 2, 5000) >= 2);
	int before = calls_of(&h);
	assert_int_equal(store_notify(f->c, "calendox_test", "ping"), CX_OK); /* outside a transaction */
	assert_true(wait_calls(&h, before + 1, 3000) > before);
	store_unlisten(l);
	store_close(other);
}

static enum job_outcome run_noop(struct job_run *run)
{
	(void)run;
	return JOB_OUTCOME_DONE;
}

static void wake_runner(void *arg, const char *payload)
{
	job_runner_notified(arg, payload);
}

/* Only the ends of jobs, for a runner that must not be woken to claim (it would claim the job
 * the test wants the other runner to run). */
static void ends_only(void *arg, const char *payload)
{
	if (payload && (strncmp(payload, "done ", 5) == 0 || strncmp(payload, "failed ", 7) == 0))
		job_runner_notified(arg, payload);
}

struct watched {
	pthread_mutex_t lock;
	enum job_state state;
	int calls;
};

static void on_watch(int64_t job_id, enum job_state state, void *arg)
{
	struct watched *w = arg;
	(void)job_id;
	pthread_mutex_lock(&w->lock);
	w->state = state;
	w->calls++;
	pthread_mutex_unlock(&w->lock);
}

/* A runner that polls only every 30 s still runs a job another instance enqueued at once: the
 * enqueue is announced and the listener wakes the workers. And a watch in this instance fires
 * when that other instance finishes the job (a handler waiting here answers at once). */
static void a_job_enqueued_elsewhere_wakes_idle_workers(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_migrate(f->st), CX_OK);
	static const struct job_kind kinds[] = {{.name = "test.noop", .run = run_noop}};
	struct store *other = NULL;
	assert_int_equal(store_open(db_url, &other), CX_OK);
	struct job_runner_options o = {
	    .store = other, .kinds = kinds, .n_kinds = 1, .workers = 1, .poll_ms = 30000};
	struct job_runner *r = NULL;
	assert_int_equal(job_runner_start(&o, &r), CX_OK);
	struct store_listener *l = NULL;
	assert_int_equal(store_listen(other, JOB_NOTIFY_CHANNEL, wake_runner, r, &l), CX_OK);
	struct job_runner_options here_o = {
	    .store = f->st, .kinds = kinds, .n_kinds = 1, .workers = 1, .poll_ms = 30000};
	struct job_runner *here = NULL;
	assert_int_equal(job_runner_start(&here_o, &here), CX_OK);
	struct store_listener *here_l = NULL;
	assert_int_equal(store_listen(f->st, JOB_NOTIFY_CHANNEL, ends_only, here, &here_l), CX_OK);
	usleep(300000); /* both workers have found nothing and sleep */

	int64_t id = 0;
	struct watched w = {.lock = PTHREAD_MUTEX_INITIALIZER};
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(job_enqueue(f->c, "test.noop", "{}", NULL, 0, &id, NULL), CX_OK);
	assert_true(job_runner_watch(here, id, on_watch, &w) != 0);
	assert_int_equal(store_commit(f->c), CX_OK);
	enum job_state st = JOB_QUEUED;
	for (int waited = 0; waited < 5000 && st != JOB_DONE; waited += 20) {
		usleep(20000);
		assert_int_equal(job_get_state(f->c, id, &st, NULL, NULL), CX_OK);
	}
	assert_int_equal(st, JOB_DONE);
	int calls = 0;
	for (int waited = 0; waited < 3000 && !calls; waited += 20) {
		usleep(20000);
		pthread_mutex_lock(&w.lock);
		calls = w.calls;
		pthread_mutex_unlock(&w.lock);
	}
	assert_int_equal(calls, 1);
	assert_int_equal(w.state, JOB_DONE);
	int64_t attempts = 0;
	struct store_val p[] = {SV_INT(id)};
	assert_int_equal(
	    store_query_int(f->c, "SELECT attempts FROM jobs WHERE id = $1", p, 1, &attempts), CX_OK);
	assert_int_equal(attempts, 1); /* run once, by the other instance */
	store_unlisten(here_l);
	job_runner_stop(here);
	store_unlisten(l);
	job_runner_stop(r);
	store_close(other);
}

/* Several processes starting at once on an empty database: each applies or waits, none fails, and
 * every migration is recorded once. */
struct migrator_arg {
	const char *url;
	enum cx_err err;
	int version;
};

static void *migrator_thread(void *p)
{
	struct migrator_arg *a = p;
	struct store *st = NULL;
	a->err = store_open(a->url, &st);
	if (!a->err)
		a->err = store_migrate(st);
	if (!a->err)
		a->err = store_schema_version(st, &a->version);
	if (st)
		store_close(st);
	return NULL;
}

static void concurrent_migrations_apply_once(void **state)
{
	struct fixture *f = *state;
	char *name = xasprintf("%s_m", db_name);
	char *sql = xasprintf("CREATE DATABASE %s", name);
	assert_int_equal(store_exec(f->c, sql, NULL, 0, NULL), CX_OK);
	free(sql);
	char *url = url_with_database(db_url, name);
	struct migrator_arg args[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct migrator_arg){.url = url};
		assert_int_equal(pthread_create(&t[i], NULL, migrator_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(args[i].err, CX_OK);
		assert_int_equal(args[i].version, args[0].version);
	}
	assert_true(args[0].version >= 1);
	struct store *st = NULL;
	assert_int_equal(store_open(url, &st), CX_OK);
	int64_t rows = 0, distinct = 0;
	assert_int_equal(store_query_int(store_conn(st), "SELECT COUNT(*) FROM schema_migrations",
	                                 NULL, 0, &rows),
	                 CX_OK);
	assert_int_equal(store_query_int(store_conn(st),
	                                 "SELECT COUNT(DISTINCT version) FROM schema_migrations",
	                                 NULL, 0, &distinct),
	                 CX_OK);
	assert_int_equal(rows, distinct);
	assert_int_equal(rows, args[0].version);
	store_close(st);
	sql = xasprintf("DROP DATABASE %s WITH (FORCE)", name);
	assert_int_equal(store_exec(f->c, sql, NULL, 0, NULL), CX_OK);
	free(sql);
	free(url);
	free(name);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	log_set_stream(stderr);
	server_url = getenv("CALENDOX_TEST_DATABASE_URL");
	if (!server_url || !*server_url) {
		const char *require = getenv("CALENDOX_REQUIRE_PG");
		bool required = require && strcmp(require, "1") == 0;
		fprintf(stderr,
		        "test_store_pg: CALENDOX_TEST_DATABASE_URL is not set, so the PostgreSQL "
		        "backend was NOT tested%s (scripts/pg.sh start DIR prints a server URL)\n",
		        required ? " and CALENDOX_REQUIRE_PG=1 makes that a failure" : "");
		return required ? 1 : SKIPPED;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(connection_failure_hides_the_password),
	    cmocka_unit_test_setup_teardown(backend_and_schemes, setup, teardown),
	    cmocka_unit_test_setup_teardown(statement_timeout_is_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(unique_violation_is_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(failed_statements_log_no_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(parameters_and_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(transactions_commit_and_roll_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(reconnects_after_the_server_ends_the_connection, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(threads_have_own_connections, setup, teardown),
	    cmocka_unit_test_setup_teardown(migrations_and_job_claims, setup, teardown),
	    cmocka_unit_test_setup_teardown(concurrent_migrations_apply_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(prepared_statements_are_bounded_and_reused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(a_persons_lock_serializes_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(notifications_cross_instances_at_commit, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(a_job_enqueued_elsewhere_wakes_idle_workers, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, create_database, drop_database);
}
