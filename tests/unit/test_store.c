/* The store front and its SQLite backend (store/store.c, store/sqlite.c) on real database files in
 * a temporary directory: parameters, types, errors, transactions and per-thread connections. */
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
#include "store/store.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char dir[64];
	char *url;
	struct store *st;
	struct store_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url = xasprintf("sqlite:%s/t.db", f->dir);
	if (store_open(f->url, &f->st) != CX_OK)
		return -1;
	f->c = store_conn(f->st);
	if (store_exec(f->c,
		       "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE, n BIGINT, "
		       "s TEXT, b BLOB)",
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
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f->url);
	free(f);
	return rc == 0 ? 0 : -1;
}

static int64_t count_rows(struct store_conn *c)
{
	int64_t n = -1;
	assert_int_equal(store_query_int(c, "SELECT COUNT(*) FROM t", NULL, 0, &n), CX_OK);
	return n;
}

static void open_rejects_bad_urls(void **state)
{
	(void)state;
	struct store *st = (struct store *)1;
	assert_int_equal(store_open("mysql://localhost/x", &st), CX_EINVAL);
	assert_null(st);
	assert_int_equal(store_open("sqlite:", &st), CX_EINVAL);
	assert_int_equal(store_open(NULL, &st), CX_EINVAL);
	/* A directory that does not exist cannot hold the database. */
	assert_int_equal(store_open("sqlite:/nonexistent-calendox-dir/x/y.db", &st), CX_EDB);
}

static void backend_name(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(store_backend(f->st), "sqlite");
	assert_ptr_equal(store_conn(f->st), f->c);
}

static void unique_violation_is_conflict(void **state)
{
	struct fixture *f = *state;
	struct store_val p[] = {SV_TEXT("ada@example.com")};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL),
			 CX_ECONFLICT);
	struct store_val id[] = {SV_INT(1)};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (id) VALUES ($1)", id, 1, NULL),
			 CX_ECONFLICT);
	/* Other constraint failures are database errors, not conflicts. */
	assert_int_equal(store_exec(f->c, "CREATE TABLE nn (x TEXT NOT NULL)", NULL, 0, NULL),
			 CX_OK);
	struct store_val null[] = {SV_NULL};
	assert_int_equal(store_exec(f->c, "INSERT INTO nn (x) VALUES ($1)", null, 1, NULL), CX_EDB);
	assert_int_equal(count_rows(f->c), 1);
}

static void parameters_bound_by_number(void **state)
{
	struct fixture *f = *state;
	/* $2 comes before $1 in the SQL, and $1 is used twice. */
	struct store_val p[] = {SV_TEXT("first"), SV_INT(2)};
	int64_t changes = 0;
	assert_int_equal(store_exec(f->c, "INSERT INTO t (n, s, email) VALUES ($2, $1, $1 || '@x')",
				    p, N(p), &changes),
			 CX_OK);
	assert_int_equal(changes, 1);
	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c, "SELECT n, s, email FROM t", NULL, 0, &rows), CX_OK);
	assert_true(store_rows_next(rows));
	assert_int_equal(store_col_int(rows, 0), 2);
	assert_string_equal(store_col_text(rows, 1), "first");
	assert_string_equal(store_col_text(rows, 2), "first@x");
	assert_false(store_rows_next(rows));
	assert_int_equal(store_rows_error(rows), CX_OK);
	store_rows_free(rows);

	/* Extra parameters the SQL does not use are fine. */
	struct store_val extra[] = {SV_INT(2), SV_TEXT("unused")};
	int64_t n = 0;
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM t WHERE n = $1", extra,
					 N(extra), &n),
			 CX_OK);
	assert_int_equal(n, 1);

	/* A placeholder without a value, or one that is not $N, is the caller's mistake. */
	assert_int_equal(store_exec(f->c, "UPDATE t SET n = $3 WHERE id = $1", p, N(p), NULL),
			 CX_EINVAL);
	assert_int_equal(store_exec(f->c, "UPDATE t SET n = ? WHERE id = $1", p, 1, NULL),
			 CX_EINVAL);
	assert_int_equal(store_exec(f->c, "UPDATE t SET n = :n", NULL, 0, NULL), CX_EINVAL);
	assert_int_equal(store_query(f->c, "SELECT $1", NULL, 0, &rows), CX_EINVAL);
	assert_null(rows);
	assert_int_equal(store_query_int(f->c, "SELECT n FROM t", NULL, 0, &n), CX_OK);
	assert_int_equal(n, 2);
}

static void types_round_trip(void **state)
{
	struct fixture *f = *state;
	static const uint8_t blob[] = {0x00, 0xff, 0x10, 0x00, 0x7f};
	struct store_val p[] = {SV_INT(INT64_MIN), SV_TEXT("zoë \"quoted\" 'x'"),
				SV_BLOB(blob, sizeof(blob)), SV_TEXT(NULL)};
	int64_t id = 0;
	assert_int_equal(store_query_int(f->c,
					 "INSERT INTO t (n, s, b, email) VALUES ($1, $2, $3, $4) "
					 "RETURNING id",
					 p, N(p), &id),
			 CX_OK);
	assert_true(id > 0);
	struct store_val q[] = {SV_INT(INT64_MAX), SV_NULL, SV_BLOB("", 0)};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (n, s, b) VALUES ($1, $2, $3)", q, N(q),
				    NULL),
			 CX_OK);

	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c, "SELECT n, s, b, email FROM t ORDER BY id", NULL, 0,
				     &rows),
			 CX_OK);
	assert_true(store_rows_next(rows));
	assert_int_equal(store_col_int(rows, 0), INT64_MIN);
	assert_string_equal(store_col_text(rows, 1), "zoë \"quoted\" 'x'");
	size_t len = 0;
	const void *got = store_col_blob(rows, 2, &len);
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(got, blob, sizeof(blob));
	assert_true(store_col_null(rows, 3));
	assert_false(store_col_null(rows, 0));
	assert_string_equal(store_col_text(rows, 3), "");
	assert_null(store_col_text_dup(rows, 3));
	char *dup = store_col_text_dup(rows, 1);
	assert_string_equal(dup, "zoë \"quoted\" 'x'");
	free(dup);

	assert_true(store_rows_next(rows));
	assert_int_equal(store_col_int(rows, 0), INT64_MAX);
	assert_true(store_col_null(rows, 1));
	got = store_col_blob(rows, 2, &len);
	assert_non_null(got);
	assert_int_equal(len, 0);
	assert_false(store_col_null(rows, 2));
	/* Out-of-range columns read as NULL rather than crashing. */
	assert_true(store_col_null(rows, 9));
	assert_int_equal(store_col_int(rows, -1), 0);
	assert_false(store_rows_next(rows));
	assert_false(store_rows_next(rows));
	store_rows_free(rows);

	int64_t n = 0;
	struct store_val missing[] = {SV_INT(-5)};
	assert_int_equal(store_query_int(f->c, "SELECT n FROM t WHERE id = $1", missing, 1, &n),
			 CX_ENOTFOUND);
}

static void errors_are_edb(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_exec(f->c, "SELEC nonsense", NULL, 0, NULL), CX_EDB);
	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c, "SELECT * FROM no_such_table", NULL, 0, &rows), CX_EDB);
	assert_null(rows);
	assert_int_equal(store_exec(f->c, "", NULL, 0, NULL), CX_EINVAL);
	/* The connection still works afterwards. */
	assert_int_equal(count_rows(f->c), 0);
}

static void rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	assert_false(store_in_transaction(f->c));
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_true(store_in_transaction(f->c));
	assert_int_equal(store_begin(f->c), CX_EINVAL);
	struct store_val p[] = {SV_TEXT("a@x")};
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL), CX_OK);
	assert_int_equal(count_rows(f->c), 1);
	store_rollback(f->c);
	assert_false(store_in_transaction(f->c));
	assert_int_equal(count_rows(f->c), 0);
	/* Rolling back or committing with nothing open is harmless / refused. */
	store_rollback(f->c);
	assert_int_equal(store_commit(f->c), CX_EINVAL);

	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL), CX_OK);
	assert_int_equal(store_commit(f->c), CX_OK);
	assert_int_equal(count_rows(f->c), 1);
}

struct thread_arg {
	struct store *st;
	struct store_conn *conn;
	const char *email;
	int64_t seen;
	enum cx_err err;
	bool done_explicitly;
};

static void *reader_thread(void *p)
{
	struct thread_arg *a = p;
	a->conn = store_conn(a->st);
	a->err = store_query_int(a->conn, "SELECT COUNT(*) FROM t", NULL, 0, &a->seen);
	if (!a->err) {
		struct store_val v[] = {SV_TEXT(a->email)};
		a->err = store_exec(a->conn, "INSERT INTO t (email) VALUES ($1)", v, 1, NULL);
	}
	if (a->done_explicitly)
		store_thread_done(a->st);
	return NULL;
}

static void threads_have_own_connections(void **state)
{
	struct fixture *f = *state;
	struct store_val p[] = {SV_TEXT("main@x")};
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(store_exec(f->c, "INSERT INTO t (email) VALUES ($1)", p, 1, NULL), CX_OK);
	assert_int_equal(store_commit(f->c), CX_OK);

	struct thread_arg a = {.st = f->st, .email = "a@x", .done_explicitly = true};
	struct thread_arg b = {.st = f->st, .email = "b@x", .done_explicitly = false};
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, reader_thread, &a), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_create(&tb, NULL, reader_thread, &b), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(a.err, CX_OK);
	assert_int_equal(b.err, CX_OK);
	assert_ptr_not_equal(a.conn, f->c);
	assert_ptr_not_equal(b.conn, f->c);
	assert_int_equal(a.seen, 1);
	/* b started after a committed its insert. */
	assert_int_equal(b.seen, 2);
	/* The main connection sees what both threads committed. */
	assert_int_equal(count_rows(f->c), 3);
}

struct parallel_arg {
	struct store *st;
	int id;
	enum cx_err err;
};

static void *writer_thread(void *p)
{
	struct parallel_arg *a = p;
	struct store_conn *c = store_conn(a->st);
	for (int i = 0; i < 25 && !a->err; i++) {
		char email[64];
		snprintf(email, sizeof(email), "w%d-%d@x", a->id, i);
		const char *address = email;
		struct store_val v[] = {SV_TEXT(address), SV_INT(a->id)};
		a->err = store_begin(c);
		if (!a->err)
			a->err = store_exec(c, "INSERT INTO t (email, n) VALUES ($1, $2)", v, 2,
					    NULL);
		if (!a->err)
			a->err = store_commit(c);
		if (a->err)
			store_rollback(c);
	}
	store_thread_done(a->st);
	return NULL;
}

static void concurrent_writers(void **state)
{
	struct fixture *f = *state;
	struct parallel_arg args[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct parallel_arg){.st = f->st, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].err, CX_OK);
	}
	assert_int_equal(count_rows(f->c), 100);
}

static void memory_database_is_shared(void **state)
{
	(void)state;
	struct store *st = NULL;
	assert_int_equal(store_open("sqlite::memory:", &st), CX_OK);
	struct store_conn *c = store_conn(st);
	const char *create = "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT)";
	assert_int_equal(store_exec(c, create, NULL, 0, NULL), CX_OK);
	struct thread_arg a = {.st = st, .email = "a@x", .done_explicitly = true};
	pthread_t ta;
	assert_int_equal(pthread_create(&ta, NULL, reader_thread, &a), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(a.err, CX_OK);
	assert_int_equal(a.seen, 0);
	assert_int_equal(count_rows(c), 1);
	/* A second in-memory store is a different database. */
	struct store *other = NULL;
	assert_int_equal(store_open("sqlite::memory:", &other), CX_OK);
	struct store_rows *rows = NULL;
	assert_int_equal(store_query(store_conn(other), "SELECT * FROM t", NULL, 0, &rows), CX_EDB);
	store_close(other);
	store_close(st);
}

static void statement_cache_stays_correct(void **state)
{
	struct fixture *f = *state;
	/* More distinct statements than the cache holds, twice over, then the first ones again. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 300; i++) {
			char sql[96];
			snprintf(sql, sizeof(sql), "SELECT %d + $1", i);
			int64_t v = 0;
			struct store_val p[] = {SV_INT(round)};
			assert_int_equal(store_query_int(f->c, sql, p, 1, &v), CX_OK);
			assert_int_equal(v, i + round);
		}
	}
	/* The same query nested inside its own open rows. */
	static const char *const emails[] = {"a@x", "b@x", "c@x"};
	for (int i = 0; i < 3; i++) {
		struct store_val p[] = {SV_TEXT(emails[i]), SV_INT(i)};
		assert_int_equal(store_exec(f->c, "INSERT INTO t (email, n) VALUES ($1, $2)", p, 2,
					    NULL),
				 CX_OK);
	}
	const char *sql = "SELECT n FROM t WHERE n >= $1 ORDER BY n";
	struct store_rows *outer = NULL;
	assert_int_equal(store_query(f->c, sql, (struct store_val[]){SV_INT(0)}, 1, &outer), CX_OK);
	int64_t sum = 0;
	while (store_rows_next(outer)) {
		int64_t n = store_col_int(outer, 0);
		struct store_rows *inner = NULL;
		assert_int_equal(store_query(f->c, sql, (struct store_val[]){SV_INT(n)}, 1, &inner),
				 CX_OK);
		int inner_count = 0;
		while (store_rows_next(inner))
			inner_count++;
		store_rows_free(inner);
		assert_int_equal(inner_count, 3 - n);
		sum += n;
	}
	assert_int_equal(store_rows_error(outer), CX_OK);
	store_rows_free(outer);
	assert_int_equal(sum, 3);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	log_set_stream(stderr);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_rejects_bad_urls),
		cmocka_unit_test_setup_teardown(backend_name, setup, teardown),
		cmocka_unit_test_setup_teardown(unique_violation_is_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(parameters_bound_by_number, setup, teardown),
		cmocka_unit_test_setup_teardown(types_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_are_edb, setup, teardown),
		cmocka_unit_test_setup_teardown(rollback_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(threads_have_own_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_writers, setup, teardown),
		cmocka_unit_test(memory_database_is_shared),
		cmocka_unit_test_setup_teardown(statement_cache_stays_correct, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
