/* sqlite.c: the SQLite backend of the store (WAL, one connection per thread).
 *
 * Each thread that calls store_conn() gets its own connection, opened without SQLite's own mutexes
 * (a connection is never shared). A pthread key closes a thread's connection when the thread ends
 * without store_thread_done(), and a registry under the store's lock lets store_close() close the
 * rest. Each connection keeps a bounded cache of prepared statements keyed by SQL text.
 *
 * "sqlite::memory:" is a shared-cache in-memory database with a random name, kept alive by one
 * connection the store holds open for its lifetime, so every thread sees the same data.
 * Shared-cache tables are locked with SQLITE_LOCKED, which SQLite's busy timeout does not cover,
 * so statements retry that case themselves for as long as the busy timeout. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/time.h"
#include "store/backend.h"
#include "store/store.h"

#include "base/banned.h"

#define BUSY_TIMEOUT_MS 5000
#define STMT_CACHE_MAX 128
#define MAX_PARAMS 999

struct sqlite_store;

struct cached_stmt {
	char *sql;          /* key; NULL for an empty slot */
	sqlite3_stmt *stmt;
	uint64_t last_used; /* for eviction: the least recently used slot goes first */
	bool in_use;        /* a struct store_rows is reading it */
};

struct sqlite_conn {
	struct store_conn base;
	struct sqlite_store *st;
	sqlite3 *db; /* NULL when opening failed; every call then tries again */
	struct cached_stmt cache[STMT_CACHE_MAX];
	uint64_t use_clock;
	struct sqlite_conn *prev, *next; /* the store's registry, under st->lock */
};

struct sqlite_rows {
	struct store_rows base;
	struct sqlite_conn *conn;
	sqlite3_stmt *stmt;
	struct cached_stmt *slot; /* NULL when the statement is not cached (finalised on free) */
	const char *sql;          /* for error logs; borrowed from the caller for the call only */
	char sql_head[160];       /* the start of the SQL, kept for errors in later steps */
	enum cx_err err;
	bool first_row; /* the first step (run by store_query) found a row not yet handed out */
	bool on_row;    /* the columns of the current row may be read */
	bool done;
};

struct sqlite_store {
	struct store base;
	char *filename;  /* as given to sqlite3_open_v2 */
	bool memory;
	sqlite3 *keeper; /* holds a shared in-memory database open; NULL for files */
	pthread_key_t key;
	pthread_mutex_t lock; /* guards the registry */
	struct sqlite_conn *conns;
};


/* --- errors --- */

static enum cx_err map_rc(int ext_rc)
{
	switch (ext_rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return CX_ECONFLICT;
	default:
		break;
	}
	switch (ext_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return CX_EBUSY;
	default:
		return CX_EDB;
	}
}

/* Logs a failed statement with its SQL and SQLite's message, never with the parameters. A unique
 * violation is an expected answer (a taken email, a replayed key), so it is not an error line. */
static enum cx_err fail(struct sqlite_conn *c, const char *sql, int rc)
{
	int ext = c->db ? sqlite3_extended_errcode(c->db) : rc;
	if ((ext & 0xff) != (rc & 0xff))
		ext = rc;
	enum cx_err err = map_rc(ext);
	char q_sql[320], q_msg[200];
	log_quote(sql ? sql : "", q_sql, sizeof(q_sql));
	log_quote(c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc), q_msg, sizeof(q_msg));
	if (err == CX_ECONFLICT)
		log_debug("store constraint", "sql=%s error=%s", q_sql, q_msg);
	else if (err == CX_EBUSY)
		log_warn("store busy", "sql=%s error=%s", q_sql, q_msg);
	else
		log_error("store statement failed", "sql=%s error=%s code=%d", q_sql, q_msg, ext);
	return err;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* One step. SQLITE_LOCKED (shared-cache table locks) is retried until the busy timeout, but only
 * before the first row: a statement that already returned rows cannot be started over. */
static int step(sqlite3_stmt *stmt, bool first)
{
	int rc = sqlite3_step(stmt);
	if (!first)
		return rc;
	int64_t deadline = 0;
	int64_t pause = 1;
	while ((rc & 0xff) == SQLITE_LOCKED || (rc & 0xff) == SQLITE_BUSY) {
		int64_t now = time_now_ms();
		if (!deadline)
			deadline = now + BUSY_TIMEOUT_MS;
		/* SQLITE_BUSY already waited out the busy handler; shared-cache locks retry. */
		if ((rc & 0xff) == SQLITE_BUSY || now >= deadline)
			break;
		sqlite3_reset(stmt);
		sleep_ms(pause);
		if (pause < 16)
			pause *= 2;
		rc = sqlite3_step(stmt);
	}
	return rc;
}

/* --- connections --- */

static void conn_open_db(struct sqlite_conn *c)
{
	static const char pragmas[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
				      "PRAGMA foreign_keys=ON;";
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
		    SQLITE_OPEN_URI;
	int rc = sqlite3_open_v2(c->st->filename, &db, flags, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	int64_t deadline = time_now_ms() + BUSY_TIMEOUT_MS;
	do {
		/* Switching to WAL takes a short exclusive lock; another thread may hold the
		 * database at that moment even after the busy handler gave up. */
		rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		sleep_ms(5);
	} while (time_now_ms() < deadline);
	if (rc != SQLITE_OK)
		goto fail;
	c->db = db;
	return;
fail: {
	char q_msg[200];
	log_quote(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), q_msg, sizeof(q_msg));
	log_error("store connection failed", "error=%s", q_msg);
	sqlite3_close_v2(db);
}
}

static void conn_close_db(struct sqlite_conn *c)
{
	for (size_t i = 0; i < STMT_CACHE_MAX; i++) {
		sqlite3_finalize(c->cache[i].stmt);
		free(c->cache[i].sql);
		memset(&c->cache[i], 0, sizeof(c->cache[i]));
	}
	if (c->db) {
		/* A transaction left open by a thread that ended is rolled back by closing. */
		sqlite3_close_v2(c->db);
		c->db = NULL;
	}
}

static void registry_unlink(struct sqlite_store *st, struct sqlite_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* The pthread key's destructor: a thread ended without store_thread_done(). */
static void conn_thread_exit(void *arg)
{
	struct sqlite_conn *c = arg;
	struct sqlite_store *st = c->st;
	pthread_mutex_lock(&st->lock);
	registry_unlink(st, c);
	pthread_mutex_unlock(&st->lock);
	conn_close_db(c);
	free(c);
}

static struct store_conn *sqlite_conn_get(struct store *base)
{
	struct sqlite_store *st = (struct sqlite_store *)base;
	struct sqlite_conn *c = pthread_getspecific(st->key);
	if (c)
		return &c->base;
	c = xcalloc(1, sizeof(*c));
	c->base.ops = &store_sqlite_ops;
	c->st = st;
	conn_open_db(c);
	pthread_mutex_lock(&st->lock);
	c->next = st->conns;
	if (st->conns)
		st->conns->prev = c;
	st->conns = c;
	pthread_mutex_unlock(&st->lock);
	pthread_setspecific(st->key, c);
	return &c->base;
}

static void sqlite_thread_done(struct store *base)
{
	struct sqlite_store *st = (struct sqlite_store *)base;
	struct sqlite_conn *c = pthread_getspecific(st->key);
	if (!c)
		return;
	pthread_setspecific(st->key, NULL);
	conn_thread_exit(c);
}

/* Every call goes through here: a connection that failed to open tries again. */
static enum cx_err conn_ready(struct sqlite_conn *c)
{
	if (!c->db)
		conn_open_db(c);
	return c->db ? CX_OK : CX_EDB;
}

/* --- the store --- */

static enum cx_err sqlite_open(const char *target, struct store **out)
{
	enum cx_err err = CX_OK;
	struct sqlite_store *st = xcalloc(1, sizeof(*st));
	st->base.ops = &store_sqlite_ops;
	pthread_mutex_init(&st->lock, NULL);
	if (pthread_key_create(&st->key, conn_thread_exit) != 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		err = CX_EIO;
		goto out;
	}
	if (*target == '\0') {
		err = CX_EINVAL;
		log_error("store sqlite url has no path", NULL);
		goto fail;
	}
	if (strcmp(target, ":memory:") == 0) {
		uint8_t rnd[8];
		sec_random_bytes(rnd, sizeof(rnd));
		st->filename = xasprintf("file:calendox-mem-%02x%02x%02x%02x%02x%02x%02x%02x"
					 "?mode=memory&cache=shared",
					 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
					 rnd[7]);
		st->memory = true;
		int rc = sqlite3_open_v2(st->filename, &st->keeper,
					 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						 SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
					 NULL);
		if (rc != SQLITE_OK) {
			log_error("store in-memory database failed", "code=%d", rc);
			err = CX_EDB;
			goto fail;
		}
	} else {
		st->filename = xstrdup(target);
	}
	/* Open the caller's connection now so a bad path fails here, not at first use. */
	struct sqlite_conn *c = (struct sqlite_conn *)sqlite_conn_get(&st->base);
	if (!c->db) {
		err = CX_EDB;
		sqlite_thread_done(&st->base);
		goto fail;
	}
	*out = &st->base;
	goto out;
fail:
	sqlite3_close_v2(st->keeper);
	pthread_key_delete(st->key);
	pthread_mutex_destroy(&st->lock);
	free(st->filename);
	free(st);
out:
	return err;
}

static void sqlite_close(struct store *base)
{
	struct sqlite_store *st = (struct sqlite_store *)base;
	/* This thread's own value is cleared; other threads' values are dropped with the key, whose
	 * destructor does not run after pthread_key_delete. */
	pthread_setspecific(st->key, NULL);
	pthread_key_delete(st->key);
	pthread_mutex_lock(&st->lock);
	struct sqlite_conn *c = st->conns;
	st->conns = NULL;
	pthread_mutex_unlock(&st->lock);
	while (c) {
		struct sqlite_conn *next = c->next;
		conn_close_db(c);
		free(c);
		c = next;
	}
	sqlite3_close_v2(st->keeper);
	pthread_mutex_destroy(&st->lock);
	free(st->filename);
	free(st);
}

/* --- statements --- */

static void slot_clear(struct cached_stmt *slot)
{
	sqlite3_finalize(slot->stmt);
	free(slot->sql);
	memset(slot, 0, sizeof(*slot));
}

/* A prepared statement for sql, from the cache when there is a free one. *slot_out is NULL when the
 * statement is not cached (the caller finalises it). */
static enum cx_err prepare(struct sqlite_conn *c, const char *sql, sqlite3_stmt **out,
			   struct cached_stmt **slot_out)
{
	struct cached_stmt *victim = NULL;
	bool busy_copy = false;
	*out = NULL;
	*slot_out = NULL;
	for (size_t i = 0; i < STMT_CACHE_MAX; i++) {
		struct cached_stmt *s = &c->cache[i];
		if (!s->sql) {
			if (!victim || victim->sql)
				victim = s;
			continue;
		}
		if (strcmp(s->sql, sql) == 0) {
			if (s->in_use) {
				/* The same query nested inside its own rows: use a fresh one. */
				busy_copy = true;
				continue;
			}
			s->in_use = true;
			s->last_used = ++c->use_clock;
			*out = s->stmt;
			*slot_out = s;
			return CX_OK;
		}
		if (!s->in_use && (!victim || (victim->sql && s->last_used < victim->last_used)))
			victim = s;
	}
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, busy_copy ? 0 : SQLITE_PREPARE_PERSISTENT,
				    &stmt, NULL);
	if (rc != SQLITE_OK)
		return fail(c, sql, rc);
	if (!stmt) {
		log_error("store statement is empty", NULL);
		return CX_EINVAL;
	}
	*out = stmt;
	if (busy_copy || !victim)
		return CX_OK;
	if (victim->sql)
		slot_clear(victim);
	victim->sql = xstrdup(sql);
	victim->stmt = stmt;
	victim->in_use = true;
	victim->last_used = ++c->use_clock;
	*slot_out = victim;
	return CX_OK;
}

static void release(sqlite3_stmt *stmt, struct cached_stmt *slot)
{
	if (!slot) {
		sqlite3_finalize(stmt);
		return;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	slot->in_use = false;
}

/* Binds $1..$n by name ("$1" is a named parameter to SQLite), then checks that every placeholder in
 * the statement got a value: a "$3" with two parameters, or a "?", is the caller's mistake. */
static enum cx_err bind(struct sqlite_conn *c, sqlite3_stmt *stmt, const char *sql,
			const struct store_val *params, size_t n_params)
{
	char name[16];
	int rc = SQLITE_OK;
	if (n_params > MAX_PARAMS)
		goto invalid;
	for (size_t n = 1; n <= n_params; n++) {
		snprintf(name, sizeof(name), "$%zu", n);
		int idx = sqlite3_bind_parameter_index(stmt, name);
		if (idx == 0)
			continue;
		const struct store_val *v = &params[n - 1];
		switch (v->type) {
		case STORE_NULL:
			rc = sqlite3_bind_null(stmt, idx);
			break;
		case STORE_INT:
			rc = sqlite3_bind_int64(stmt, idx, v->i);
			break;
		case STORE_TEXT:
			rc = v->s ? sqlite3_bind_text(stmt, idx, v->s, -1, SQLITE_TRANSIENT)
				  : sqlite3_bind_null(stmt, idx);
			break;
		case STORE_BLOB:
			if (v->len > (size_t)INT32_MAX)
				goto invalid;
			rc = v->len ? sqlite3_bind_blob(stmt, idx, v->s, (int)v->len,
							SQLITE_TRANSIENT)
				    : sqlite3_bind_zeroblob(stmt, idx, 0);
			break;
		default:
			goto invalid;
		}
		if (rc != SQLITE_OK)
			return fail(c, sql, rc);
	}
	int count = sqlite3_bind_parameter_count(stmt);
	for (int i = 1; i <= count; i++) {
		const char *pname = sqlite3_bind_parameter_name(stmt, i);
		if (!pname || pname[0] != '$')
			goto invalid;
		char *end = NULL;
		unsigned long n = strtoul(pname + 1, &end, 10);
		if (end == pname + 1 || *end != '\0' || n < 1 || n > n_params)
			goto invalid;
	}
	return CX_OK;
invalid: {
	char q_sql[320];
	log_quote(sql, q_sql, sizeof(q_sql));
	log_error("store statement has a placeholder without a value", "sql=%s", q_sql);
	return CX_EINVAL;
}
}

static enum cx_err sqlite_exec(struct store_conn *base, const char *sql,
			       const struct store_val *params, size_t n_params, int64_t *changes)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	sqlite3_stmt *stmt = NULL;
	struct cached_stmt *slot = NULL;
	enum cx_err err = conn_ready(c);
	if (changes)
		*changes = 0;
	if (err)
		goto out;
	err = prepare(c, sql, &stmt, &slot);
	if (err)
		goto out;
	err = bind(c, stmt, sql, params, n_params);
	if (err)
		goto out;
	int rc = step(stmt, true);
	while (rc == SQLITE_ROW)
		rc = step(stmt, false);
	if (rc != SQLITE_DONE) {
		err = fail(c, sql, rc);
		goto out;
	}
	if (changes)
		*changes = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes64(c->db);
out:
	if (stmt)
		release(stmt, slot);
	return err;
}

static enum cx_err sqlite_exec_script(struct store_conn *base, const char *sql)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	enum cx_err err = conn_ready(c);
	if (err)
		return err;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		err = fail(c, sql, rc);
	return err;
}

static enum cx_err sqlite_table_exists(struct store_conn *c, const char *table, bool *exists)
{
	struct store_val p[] = {SV_TEXT(table)};
	int64_t n = 0;
	enum cx_err err = store_query_int(c,
					  "SELECT COUNT(*) FROM sqlite_master "
					  "WHERE type = 'table' AND name = $1",
					  p, 1, &n);
	*exists = !err && n > 0;
	return err;
}

/* --- transactions --- */

static bool sqlite_in_transaction(struct store_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	return c->db && !sqlite3_get_autocommit(c->db);
}

static enum cx_err sqlite_begin(struct store_conn *base)
{
	if (sqlite_in_transaction(base)) {
		log_error("store transaction is already open", NULL);
		return CX_EINVAL;
	}
	return sqlite_exec(base, "BEGIN IMMEDIATE", NULL, 0, NULL);
}

static enum cx_err sqlite_commit(struct store_conn *base)
{
	if (!sqlite_in_transaction(base)) {
		log_error("store commit without a transaction", NULL);
		return CX_EINVAL;
	}
	return sqlite_exec(base, "COMMIT", NULL, 0, NULL);
}

static void sqlite_rollback(struct store_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	if (!sqlite_in_transaction(base))
		return;
	int rc = sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fail(c, "ROLLBACK", rc);
}

/* --- rows --- */

static enum cx_err sqlite_query(struct store_conn *base, const char *sql,
				const struct store_val *params, size_t n_params,
				struct store_rows **out)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	sqlite3_stmt *stmt = NULL;
	struct cached_stmt *slot = NULL;
	*out = NULL;
	enum cx_err err = conn_ready(c);
	if (err)
		goto out;
	err = prepare(c, sql, &stmt, &slot);
	if (err)
		goto out;
	err = bind(c, stmt, sql, params, n_params);
	if (err) {
		release(stmt, slot);
		goto out;
	}
	struct sqlite_rows *rows = xcalloc(1, sizeof(*rows));
	rows->base.ops = &store_sqlite_ops;
	rows->conn = c;
	rows->stmt = stmt;
	rows->slot = slot;
	snprintf(rows->sql_head, sizeof(rows->sql_head), "%s", sql);
	/* The first step runs now so that errors (a constraint in INSERT … RETURNING, a lock)
	 * come back from store_query itself; its row waits for the first store_rows_next. */
	int rc = step(stmt, true);
	if (rc == SQLITE_ROW) {
		rows->first_row = true;
	} else if (rc == SQLITE_DONE) {
		rows->done = true;
	} else if (rc != SQLITE_ROW) {
		err = fail(c, sql, rc);
		release(stmt, slot);
		free(rows);
		goto out;
	}
	*out = &rows->base;
out:
	return err;
}

static bool sqlite_rows_next(struct store_rows *base)
{
	struct sqlite_rows *rows = (struct sqlite_rows *)base;
	rows->on_row = false;
	if (rows->done)
		return false;
	if (rows->first_row) {
		rows->first_row = false;
		rows->on_row = true;
		return true;
	}
	int rc = step(rows->stmt, false);
	if (rc == SQLITE_ROW) {
		rows->on_row = true;
		return true;
	}
	rows->done = true;
	if (rc != SQLITE_DONE)
		rows->err = fail(rows->conn, rows->sql_head, rc);
	return false;
}

static enum cx_err sqlite_rows_error(const struct store_rows *base)
{
	return ((const struct sqlite_rows *)base)->err;
}

static bool col_ok(struct sqlite_rows *rows, int col)
{
	return rows->on_row && col >= 0 && col < sqlite3_column_count(rows->stmt);
}

static bool sqlite_col_null(struct store_rows *base, int col)
{
	struct sqlite_rows *rows = (struct sqlite_rows *)base;
	return !col_ok(rows, col) || sqlite3_column_type(rows->stmt, col) == SQLITE_NULL;
}

static int64_t sqlite_col_int(struct store_rows *base, int col)
{
	struct sqlite_rows *rows = (struct sqlite_rows *)base;
	return col_ok(rows, col) ? sqlite3_column_int64(rows->stmt, col) : 0;
}

static const char *sqlite_col_text(struct store_rows *base, int col)
{
	struct sqlite_rows *rows = (struct sqlite_rows *)base;
	if (!col_ok(rows, col))
		return NULL;
	return (const char *)sqlite3_column_text(rows->stmt, col);
}

static const void *sqlite_col_blob(struct store_rows *base, int col, size_t *len)
{
	struct sqlite_rows *rows = (struct sqlite_rows *)base;
	*len = 0;
	if (!col_ok(rows, col) || sqlite3_column_type(rows->stmt, col) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(rows->stmt, col);
	*len = (size_t)sqlite3_column_bytes(rows->stmt, col);
	return p ? p : "";
}

static void sqlite_rows_free(struct store_rows *base)
{
	struct sqlite_rows *rows = (struct sqlite_rows *)base;
	release(rows->stmt, rows->slot);
	free(rows);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.scheme = "sqlite:",
	.autoid = "INTEGER PRIMARY KEY AUTOINCREMENT",
	.open = sqlite_open,
	.close = sqlite_close,
	.conn = sqlite_conn_get,
	.thread_done = sqlite_thread_done,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.in_transaction = sqlite_in_transaction,
	.exec = sqlite_exec,
	.exec_script = sqlite_exec_script,
	.table_exists = sqlite_table_exists,
	.query = sqlite_query,
	.rows_next = sqlite_rows_next,
	.rows_error = sqlite_rows_error,
	.col_null = sqlite_col_null,
	.col_int = sqlite_col_int,
	.col_text = sqlite_col_text,
	.col_blob = sqlite_col_blob,
	.rows_free = sqlite_rows_free,
};
