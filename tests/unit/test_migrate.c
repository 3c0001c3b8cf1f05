/* Schema migrations (store/migrate.c, sql/0001_foundation.sql) on real SQLite files: applied once,
 * idempotent, safe with two migrators at once, and the foundation schema as the contract says. */
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
#include "store/migrations.h"
#include "store/store.h"

#include "base/banned.h"

struct fixture {
	char dir[64];
	char *url;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-migrate-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url = xasprintf("sqlite:%s/t.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f->url);
	free(f);
	return rc == 0 ? 0 : -1;
}

static int last_version(void)
{
	assert_true(store_migrations_count > 0);
	return store_migrations[store_migrations_count - 1].version;
}

static int64_t count(struct store_conn *c, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(store_query_int(c, sql, NULL, 0, &n), CX_OK);
	return n;
}

static const char insert_user_sql[] = "INSERT INTO users (email, name, password_hash, created_at) "
				      "VALUES ($1, 'Name', 'h', 1) RETURNING id";
static const char insert_session_sql[] = "INSERT INTO sessions (id_hash, user_id, csrf_token, "
					 "created_at, expires_at) VALUES ($1, $2, 'c', 1, 2)";

static void embedded_in_order(void **state)
{
	(void)state;
	assert_int_equal(store_migrations[0].version, 1);
	assert_string_equal(store_migrations[0].name, "0001_foundation");
	for (int i = 1; i < store_migrations_count; i++)
		assert_true(store_migrations[i].version > store_migrations[i - 1].version);
}

static void applies_once_and_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	int version = -1;
	assert_int_equal(store_open(f->url, &st), CX_OK);
	assert_int_equal(store_schema_version(st, &version), CX_OK);
	assert_int_equal(version, 0);

	assert_int_equal(store_migrate(st), CX_OK);
	assert_int_equal(store_schema_version(st, &version), CX_OK);
	assert_int_equal(version, last_version());
	struct store_conn *c = store_conn(st);
	const char *recorded = "SELECT COUNT(*) FROM schema_migrations";
	assert_int_equal(count(c, recorded), store_migrations_count);
	assert_int_equal(count(c, "SELECT COUNT(*) FROM schema_migrations WHERE version = 1 "
				  "AND name = '0001_foundation' AND applied_at > 0"),
			 1);

	/* Data survives a second run: nothing is re-created. */
	struct store_val email[] = {SV_TEXT("ada@example.com")};
	assert_int_equal(store_exec(c, insert_user_sql, email, 1, NULL), CX_OK);
	assert_int_equal(store_migrate(st), CX_OK);
	assert_int_equal(count(c, recorded), store_migrations_count);
	assert_int_equal(count(c, "SELECT COUNT(*) FROM users"), 1);
	store_thread_done(st);
	store_close(st);

	/* And after reopening the file. */
	assert_int_equal(store_open(f->url, &st), CX_OK);
	assert_int_equal(store_schema_version(st, &version), CX_OK);
	assert_int_equal(version, last_version());
	assert_int_equal(store_migrate(st), CX_OK);
	assert_int_equal(count(store_conn(st), "SELECT COUNT(*) FROM users"), 1);
	store_close(st);
}

static void foundation_schema(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	assert_int_equal(store_open(f->url, &st), CX_OK);
	assert_int_equal(store_migrate(st), CX_OK);
	struct store_conn *c = store_conn(st);

	static const char *const tables[] = {"users",	      "subscriptions",	  "sessions",
					     "login_attempts", "oauth_states",	  "activity",
					     "webhook_receipts", "idempotency_keys", "jobs"};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		struct store_val p[] = {SV_TEXT(tables[i])};
		int64_t n = 0;
		assert_int_equal(store_query_int(c,
						 "SELECT COUNT(*) FROM sqlite_master "
						 "WHERE type = 'table' AND name = $1",
						 p, 1, &n),
				 CX_OK);
		assert_int_equal(n, 1);
	}
	assert_int_equal(count(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
				  "name IN ('sessions_user', 'activity_user_at', 'jobs_due')"),
			 3);
	/* %%AUTOID%% became SQLite's identity column. */
	assert_int_equal(count(c, "SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%AUTOID%'"),
			 0);
	assert_int_equal(count(c, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
				  "name IN ('users', 'activity', 'jobs') AND "
				  "sql LIKE '%INTEGER PRIMARY KEY AUTOINCREMENT%'"),
			 3);

	int64_t a = 0, b = 0;
	struct store_val ua[] = {SV_TEXT("a@x")}, ub[] = {SV_TEXT("b@x")};
	assert_int_equal(store_query_int(c, insert_user_sql, ua, 1, &a), CX_OK);
	assert_int_equal(store_query_int(c, insert_user_sql, ub, 1, &b), CX_OK);
	assert_true(a > 0);
	assert_int_equal(b, a + 1);
	assert_int_equal(store_exec(c, insert_user_sql, ua, 1, NULL), CX_ECONFLICT);

	/* Foreign keys are enforced and cascade. */
	struct store_val s1[] = {SV_TEXT("s1"), SV_INT(a)};
	assert_int_equal(store_exec(c, insert_session_sql, s1, 2, NULL), CX_OK);
	struct store_val s2[] = {SV_TEXT("s2"), SV_INT(9999)};
	assert_int_equal(store_exec(c, insert_session_sql, s2, 2, NULL), CX_EDB);
	struct store_val del[] = {SV_INT(a)};
	assert_int_equal(store_exec(c, "DELETE FROM users WHERE id = $1", del, 1, NULL), CX_OK);
	assert_int_equal(count(c, "SELECT COUNT(*) FROM sessions"), 0);

	/* Job defaults. */
	const char *job = "INSERT INTO jobs (kind, payload, state, run_at_ms, created_at_ms, "
			  "updated_at_ms) VALUES ('k', '{}', 'queued', 1, 1, 1)";
	assert_int_equal(store_exec(c, job, NULL, 0, NULL), CX_OK);
	assert_int_equal(count(c, "SELECT COUNT(*) FROM jobs WHERE attempts = 0 AND "
				  "lease_until_ms = 0 AND lease_owner IS NULL AND "
				  "idempotency_key IS NULL"),
			 1);
	assert_int_equal(count(c, "SELECT COUNT(*) FROM oauth_states"), 0);
	store_close(st);
}

struct migrator {
	const char *url;
	enum cx_err err;
};

static void *migrate_thread(void *p)
{
	struct migrator *m = p;
	struct store *st = NULL;
	m->err = store_open(m->url, &st);
	if (!m->err)
		m->err = store_migrate(st);
	if (st) {
		store_thread_done(st);
		store_close(st);
	}
	return NULL;
}

/* Two stores on one file stand for two processes starting at once. */
static void concurrent_migrators(void **state)
{
	struct fixture *f = *state;
	struct migrator m[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		m[i] = (struct migrator){.url = f->url};
		assert_int_equal(pthread_create(&t[i], NULL, migrate_thread, &m[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(m[i].err, CX_OK);
	}
	struct store *st = NULL;
	int version = 0;
	assert_int_equal(store_open(f->url, &st), CX_OK);
	assert_int_equal(store_schema_version(st, &version), CX_OK);
	assert_int_equal(version, last_version());
	assert_int_equal(count(store_conn(st), "SELECT COUNT(*) FROM schema_migrations"),
			 store_migrations_count);
	store_close(st);
}

static void memory_database_migrates(void **state)
{
	(void)state;
	struct store *st = NULL;
	int version = -1;
	assert_int_equal(store_open("sqlite::memory:", &st), CX_OK);
	assert_int_equal(store_migrate(st), CX_OK);
	assert_int_equal(store_schema_version(st, &version), CX_OK);
	assert_int_equal(version, last_version());
	store_close(st);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	log_set_level(LOG_LEVEL_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(embedded_in_order),
		cmocka_unit_test_setup_teardown(applies_once_and_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(foundation_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_migrators, setup, teardown),
		cmocka_unit_test(memory_database_migrates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
