/* postgres.c: the PostgreSQL backend of the store (libpq, one connection per thread).
 *
 * Selected by a "postgresql://…" or "postgres://…" URL, handed to libpq as it is. Each thread that
 * calls store_conn() gets its own connection; a pthread key closes it when the thread ends without
 * store_thread_done(), and a registry under the store's lock lets store_close() close the rest.
 *
 * Statements go out with PQexecParams: integers as int8 text parameters, text with its type left
 * for the server to infer from the statement (so "$1" compared with a BIGINT column is a BIGINT),
 * blobs as binary bytea. Results come back as text; store_col_blob() decodes bytea columns.
 *
 * A connection that was lost (the server restarted, an administrator ended the backend) is reset
 * and the statement sent once more, but only outside a transaction: inside one the transaction is
 * gone with the connection, so the statement fails and the caller's rollback resets it. Unlike
 * SQLite, PostgreSQL aborts the whole transaction after a failed statement; callers here already
 * roll back after any error.
 *
 * Notifications: store_notify() is pg_notify() on the caller's connection, so it goes out when the
 * caller's transaction commits; store_listen() runs a thread with a connection of its own that
 * LISTENs, waits on the socket (half a second at a time, to notice the stop), and calls back for
 * each notification with its payload; a lost listening connection is made again and the callback
 * told once (payload NULL), since notifications may have been missed meanwhile. */
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "store/backend.h"
#include "store/store.h"

#include "base/banned.h"

/* Prepared statements kept per connection (the least recently used one goes first). */
#define STMT_CACHE_MAX 128
/* A statement that runs longer is cancelled and fails as CX_EBUSY (usually a lock wait). */
#define STATEMENT_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_S "10"
#define MAX_PARAMS 999
/* Type OIDs from PostgreSQL's pg_type catalogue (stable across versions). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

struct pg_store;

/* A statement prepared on a connection's session, by SQL text and parameter types. */
struct pg_stmt {
	char *key; /* the SQL, a 0x1f, the parameter type oids; NULL for an empty slot */
	char name[24];
	uint64_t last_used;
};

struct pg_conn {
	struct store_conn base;
	struct pg_store *st;
	PGconn *db;   /* NULL or bad when connecting failed; the next call tries again */
	bool tx_open; /* between store_begin and store_commit / store_rollback */
	struct pg_stmt cache[STMT_CACHE_MAX]; /* prepared on db's current session */
	uint64_t use_clock;
	uint64_t names; /* statements named so far on this connection */
	struct pg_conn *prev, *next; /* the store's registry, under st->lock */
};

struct pg_rows {
	struct store_rows base;
	PGresult *res;
	int n_rows;
	int n_cols;
	int row;        /* the current row, -1 before the first */
	void **decoded; /* bytea columns of the current row decoded by store_col_blob, per column */
	size_t *decoded_len;
};

struct pg_store {
	struct store base;
	char *url;      /* the full URL given to libpq; never logged */
	char *safe_url; /* the URL with its password redacted, for logs */
	pthread_key_t key;
	pthread_mutex_t lock; /* guards the registry */
	struct pg_conn *conns;
};

const struct store_ops store_postgres_ops;

/* --- errors --- */

/* SQLSTATE classes the callers act on: a unique violation is an answer (a taken email), a
 * serialization failure, deadlock, lock timeout or statement timeout means "try again later", as
 * SQLite's busy does. */
static enum cx_err map_sqlstate(const char *state)
{
	if (!state)
		return CX_EDB;
	if (strcmp(state, "23505") == 0)
		return CX_ECONFLICT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		return CX_EBUSY;
	return CX_EDB;
}

/* The URL with the password of its user part and any password= parameter replaced. */
static char *redact_url(const char *url)
{
	char *copy = xstrdup(url);
	char *auth = strstr(copy, "//");
	if (auth) {
		auth += 2;
		size_t host_start = strcspn(auth, "/?#");
		char *at = memchr(auth, '@', host_start);
		char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			char *out = xasprintf("%.*sREDACTED%s", (int)(colon + 1 - copy), copy, at);
			free(copy);
			copy = out;
		}
	}
	size_t n = strlen(copy) + 64;
	char *safe = xmalloc(n);
	log_redact_url(copy, safe, n);
	free(copy);
	return safe;
}

/* Logs a failed statement with its SQL and the server's message, never with the parameters. Only
 * the primary message is kept: the DETAIL of a constraint error quotes the row's values (a session
 * hash, a PKCE verifier), and data errors (class 22) quote the offending value even there. */
static enum cx_err fail(struct pg_conn *c, const char *sql, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (state && strncmp(state, "22", 2) == 0)
		msg = "a parameter or column value is invalid for its type";
	if (!msg || !*msg)
		msg = c->db ? PQerrorMessage(c->db) : "no connection";
	enum cx_err err = map_sqlstate(state);
	char q_sql[320], q_msg[240];
	log_quote(sql ? sql : "", q_sql, sizeof(q_sql));
	log_quote(msg, q_msg, sizeof(q_msg));
	if (err == CX_ECONFLICT)
		log_debug("store constraint", "sql=%s error=%s", q_sql, q_msg);
	else if (err == CX_EBUSY)
		log_warn("store busy", "sql=%s error=%s sqlstate=%s", q_sql, q_msg, state);
	else
		log_error("store statement failed", "sql=%s error=%s sqlstate=%s", q_sql, q_msg,
		          state ? state : "none");
	return err;
}

/* Server notices (e.g. "relation already exists, skipping") are not errors. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	char q_msg[240];
	log_quote(message, q_msg, sizeof(q_msg));
	log_debug("store notice", "message=%s", q_msg);
}

/* --- connections --- */

static bool conn_good(const struct pg_conn *c)
{
	return c->db && PQstatus(c->db) == CONNECTION_OK;
}

/* Sets the session up after a connect or reset: statement_timeout bounds every statement. */
static bool conn_setup(struct pg_conn *c)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", STATEMENT_TIMEOUT_MS);
	PGresult *res = PQexec(c->db, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		fail(c, sql, res);
	PQclear(res);
	return ok;
}

static void conn_log_failure(struct pg_conn *c, const char *what)
{
	char q_url[320], q_msg[240];
	log_quote(c->st->safe_url, q_url, sizeof(q_url));
	log_quote(c->db ? PQerrorMessage(c->db) : "out of memory", q_msg, sizeof(q_msg));
	log_error(what, "url=%s error=%s", q_url, q_msg);
}

/* Forgets the prepared statements: the session they lived in is gone (or going). */
static void cache_clear(struct pg_conn *c)
{
	for (size_t i = 0; i < STMT_CACHE_MAX; i++)
		free(c->cache[i].key);
	memset(c->cache, 0, sizeof(c->cache));
}

static void conn_open_db(struct pg_conn *c)
{
	cache_clear(c);
	/* Later keywords override earlier ones, so settings in the URL win over these defaults. */
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const values[] = {CONNECT_TIMEOUT_S, "calendox", c->st->url, NULL};
	if (c->db)
		PQfinish(c->db);
	c->db = PQconnectdbParams(keys, values, 1);
	if (!conn_good(c)) {
		conn_log_failure(c, "store connection failed");
		return;
	}
	PQsetNoticeProcessor(c->db, on_notice, NULL);
	if (!conn_setup(c)) {
		PQfinish(c->db);
		c->db = NULL;
	}
}

/* A lost connection is reset in place; false when the server is still unreachable. */
static bool conn_reset(struct pg_conn *c)
{
	cache_clear(c);
	if (!c->db) {
		conn_open_db(c);
		return conn_good(c);
	}
	PQreset(c->db);
	if (!conn_good(c)) {
		conn_log_failure(c, "store reconnect failed");
		return false;
	}
	if (!conn_setup(c)) {
		/* Without its settings (statement_timeout) the connection is not used. */
		PQfinish(c->db);
		c->db = NULL;
		return false;
	}
	log_info("store reconnected", NULL);
	return true;
}

static void conn_close_db(struct pg_conn *c)
{
	cache_clear(c);
	if (c->db) {
		/* A transaction left open by a thread that ended is rolled back by the server. */
		PQfinish(c->db);
		c->db = NULL;
	}
	c->tx_open = false;
}

static void registry_unlink(struct pg_store *st, struct pg_conn *c)
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
	struct pg_conn *c = arg;
	struct pg_store *st = c->st;
	pthread_mutex_lock(&st->lock);
	registry_unlink(st, c);
	pthread_mutex_unlock(&st->lock);
	conn_close_db(c);
	free(c);
}

static struct store_conn *pg_conn_get(struct store *base)
{
	struct pg_store *st = (struct pg_store *)base;
	struct pg_conn *c = pthread_getspecific(st->key);
	if (c)
		return &c->base;
	c = xcalloc(1, sizeof(*c));
	c->base.ops = &store_postgres_ops;
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

static void pg_thread_done(struct store *base)
{
	struct pg_store *st = (struct pg_store *)base;
	struct pg_conn *c = pthread_getspecific(st->key);
	if (!c)
		return;
	pthread_setspecific(st->key, NULL);
	conn_thread_exit(c);
}

/* Every statement goes through here. Outside a transaction a missing or lost connection is opened
 * again; inside one it stays failed until the rollback, because the transaction's earlier
 * statements are gone with it. */
static enum cx_err conn_ready(struct pg_conn *c)
{
	if (conn_good(c))
		return CX_OK;
	if (c->tx_open)
		return CX_EDB;
	return conn_reset(c) ? CX_OK : CX_EDB;
}

/* --- the store --- */

static enum cx_err pg_open_url(const char *url, struct store **out)
{
	enum cx_err err = CX_OK;
	struct pg_store *st = xcalloc(1, sizeof(*st));
	st->base.ops = &store_postgres_ops;
	pthread_mutex_init(&st->lock, NULL);
	if (pthread_key_create(&st->key, conn_thread_exit) != 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		err = CX_EIO;
		goto out;
	}
	st->url = xstrdup(url);
	st->safe_url = redact_url(url);
	/* Open the caller's connection now so a bad URL fails here, not at first use. */
	struct pg_conn *c = (struct pg_conn *)pg_conn_get(&st->base);
	if (!conn_good(c)) {
		err = CX_EDB;
		pg_thread_done(&st->base);
		pthread_key_delete(st->key);
		pthread_mutex_destroy(&st->lock);
		free(st->url);
		free(st->safe_url);
		free(st);
		goto out;
	}
	*out = &st->base;
out:
	return err;
}

/* target is the URL after "postgresql:" or "postgres:"; libpq takes either scheme. */
static enum cx_err pg_open(const char *target, struct store **out)
{
	char *url = xasprintf("postgresql:%s", target);
	enum cx_err err = pg_open_url(url, out);
	free(url);
	return err;
}

static void pg_close(struct store *base)
{
	struct pg_store *st = (struct pg_store *)base;
	/* This thread's own value is cleared; other threads' values are dropped with the key, whose
	 * destructor does not run after pthread_key_delete. */
	pthread_setspecific(st->key, NULL);
	pthread_key_delete(st->key);
	pthread_mutex_lock(&st->lock);
	struct pg_conn *c = st->conns;
	st->conns = NULL;
	pthread_mutex_unlock(&st->lock);
	while (c) {
		struct pg_conn *next = c->next;
		conn_close_db(c);
		free(c);
		c = next;
	}
	pthread_mutex_destroy(&st->lock);
	free(st->url);
	free(st->safe_url);
	free(st);
}

/* --- statements --- */

/* Whether "$n" appears in sql (and not as the start of "$n0"). A parameter the statement does not
 * use gets an explicit type, because the server cannot infer one for it. */
static bool sql_uses_param(const char *sql, size_t n)
{
	char name[16];
	int len = snprintf(name, sizeof(name), "$%zu", n);
	for (const char *p = strstr(sql, name); p; p = strstr(p + 1, name)) {
		char next = p[len];
		if (next < '0' || next > '9')
			return true;
	}
	return false;
}

/* The highest $n placeholder outside quoted text: a statement that names more parameters than it
 * was given is the caller's mistake (CX_EINVAL, as on SQLite), not a database error. */
static unsigned long highest_placeholder(const char *sql)
{
	unsigned long max = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			continue;
		}
		if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			char *end = NULL;
			unsigned long n = strtoul(p + 1, &end, 10);
			if (n > max)
				max = n;
			p = end - 1;
		}
	}
	return max;
}

/* The wire form of the parameters: arrays the caller frees with params_release(). */
struct pg_params {
	Oid *types;
	const char **values;
	int *lengths;
	int *formats;
	char (*ints)[24];
};

static void params_release(struct pg_params *pp)
{
	free(pp->types);
	free(pp->values);
	free(pp->lengths);
	free(pp->formats);
	free(pp->ints);
}

static enum cx_err params_build(const char *sql, const struct store_val *params, size_t n,
                                struct pg_params *pp)
{
	memset(pp, 0, sizeof(*pp));
	if (n > MAX_PARAMS || highest_placeholder(sql) > n)
		return CX_EINVAL;
	if (n == 0)
		return CX_OK;
	pp->types = xcalloc(n, sizeof(*pp->types));
	pp->values = xcalloc(n, sizeof(*pp->values));
	pp->lengths = xcalloc(n, sizeof(*pp->lengths));
	pp->formats = xcalloc(n, sizeof(*pp->formats));
	pp->ints = xcalloc(n, sizeof(*pp->ints));
	for (size_t i = 0; i < n; i++) {
		const struct store_val *v = &params[i];
		switch (v->type) {
		case STORE_NULL:
			break;
		case STORE_INT:
			snprintf(pp->ints[i], sizeof(pp->ints[i]), "%lld", (long long)v->i);
			pp->values[i] = pp->ints[i];
			pp->types[i] = OID_INT8;
			break;
		case STORE_TEXT:
			pp->values[i] = v->s;
			break;
		case STORE_BLOB:
			if (v->len > (size_t)INT32_MAX)
				return CX_EINVAL;
			pp->values[i] = v->s ? v->s : "";
			pp->lengths[i] = (int)v->len;
			pp->formats[i] = 1;
			pp->types[i] = OID_BYTEA;
			break;
		default:
			return CX_EINVAL;
		}
		if (pp->types[i] == 0 && !sql_uses_param(sql, i + 1))
			pp->types[i] = OID_TEXT;
	}
	return CX_OK;
}

/* The name of sql prepared with these parameter types on c's session, preparing it now when it is
 * not yet (evicting the least recently used one). Why: PostgreSQL parses and plans a statement
 * sent with PQexecParams every time; the same few dozen statements run all day. On failure *res
 * gets the failing result (the caller reports it as the statement's own). */
static const char *prepared(struct pg_conn *c, const char *sql, size_t n, const Oid *types,
                            PGresult **res)
{
	struct buf key;
	buf_init(&key, SIZE_MAX - 1);
	buf_puts(&key, sql);
	buf_puts(&key, "\x1f");
	for (size_t i = 0; i < n; i++)
		buf_printf(&key, "%u,", (unsigned)types[i]);
	const char *k = key.data;
	struct pg_stmt *slot = NULL, *oldest = &c->cache[0];
	for (size_t i = 0; i < STMT_CACHE_MAX; i++) {
		struct pg_stmt *e = &c->cache[i];
		if (e->key && strcmp(e->key, k) == 0) {
			e->last_used = ++c->use_clock;
			buf_release(&key);
			return e->name;
		}
		if (!e->key && !slot)
			slot = e;
		if (e->last_used < oldest->last_used)
			oldest = e;
	}
	if (!slot) {
		char sql_free[48];
		snprintf(sql_free, sizeof(sql_free), "DEALLOCATE %s", oldest->name);
		PQclear(PQexec(c->db, sql_free)); /* best effort: a failure only leaves it unused */
		free(oldest->key);
		memset(oldest, 0, sizeof(*oldest));
		slot = oldest;
	}
	snprintf(slot->name, sizeof(slot->name), "cx_%llu", (unsigned long long)++c->names);
	*res = PQprepare(c->db, slot->name, sql, (int)n, types);
	if (PQresultStatus(*res) != PGRES_COMMAND_OK) {
		memset(slot, 0, sizeof(*slot));
		buf_release(&key);
		return NULL;
	}
	PQclear(*res);
	*res = NULL;
	slot->key = xstrdup(k);
	slot->last_used = ++c->use_clock;
	buf_release(&key);
	return slot->name;
}

/* Runs one statement; *out gets the successful result (caller clears it). A lost connection
 * outside a transaction is reset and the statement sent once more. */
static enum cx_err run(struct pg_conn *c, const char *sql, const struct store_val *params,
                       size_t n_params, PGresult **out)
{
	struct pg_params pp;
	PGresult *res = NULL;
	*out = NULL;
	enum cx_err err = params_build(sql, params, n_params, &pp);
	if (err) {
		char q_sql[320];
		log_quote(sql, q_sql, sizeof(q_sql));
		log_error("store statement has a placeholder without a value", "sql=%s", q_sql);
		goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		err = conn_ready(c);
		if (err)
			goto out;
		const char *name = prepared(c, sql, n_params, pp.types, &res);
		if (name)
			res = PQexecPrepared(c->db, name, (int)n_params, pp.values, pp.lengths,
			                     pp.formats, 0);
		ExecStatusType status = PQresultStatus(res);
		if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
			*out = res;
			res = NULL;
			goto out;
		}
		if (status == PGRES_EMPTY_QUERY) {
			log_error("store statement is empty", NULL);
			err = CX_EINVAL;
			goto out;
		}
		if (conn_good(c) || c->tx_open || attempt > 0)
			break;
		log_warn("store connection lost", NULL);
		PQclear(res);
		res = NULL;
	}
	err = fail(c, sql, res);
out:
	PQclear(res);
	params_release(&pp);
	return err;
}

/* Rows changed by a statement, as SQLite counts them: a SELECT changes none. */
static int64_t changed_rows(const PGresult *res)
{
	const char *status = PQcmdStatus((PGresult *)res);
	if (strncmp(status, "SELECT", 6) == 0)
		return 0;
	const char *n = PQcmdTuples((PGresult *)res);
	return *n ? strtoll(n, NULL, 10) : 0;
}

static enum cx_err pg_exec(struct store_conn *base, const char *sql, const struct store_val *params,
                           size_t n_params, int64_t *changes)
{
	struct pg_conn *c = (struct pg_conn *)base;
	PGresult *res = NULL;
	if (changes)
		*changes = 0;
	enum cx_err err = run(c, sql, params, n_params, &res);
	if (!err && changes)
		*changes = changed_rows(res);
	PQclear(res);
	return err;
}

static enum cx_err pg_exec_script(struct store_conn *base, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)base;
	enum cx_err err = conn_ready(c);
	if (err)
		return err;
	/* The simple protocol runs several statements in one call. */
	PGresult *res = PQexec(c->db, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		err = fail(c, sql, res);
	PQclear(res);
	return err;
}

static enum cx_err pg_table_exists(struct store_conn *c, const char *table, bool *exists)
{
	struct store_val p[] = {SV_TEXT(table)};
	int64_t n = 0;
	enum cx_err err = store_query_int(c,
	                                  "SELECT COUNT(*) FROM pg_catalog.pg_tables "
	                                  "WHERE schemaname = current_schema() AND tablename = $1",
	                                  p, 1, &n);
	*exists = !err && n > 0;
	return err;
}

/* Any number that no other part of Calendox uses as an advisory lock key. */
#define SCHEMA_LOCK_KEY 7436110

/* A transaction-scoped advisory lock: released by the migration's commit or rollback. */
static enum cx_err pg_lock_schema(struct store_conn *c)
{
	struct store_val p[] = {SV_INT(SCHEMA_LOCK_KEY)};
	return pg_exec(c, "SELECT pg_advisory_xact_lock($1)", p, 1, NULL);
}

/* --- transactions --- */

static bool pg_in_transaction(struct store_conn *base)
{
	return ((struct pg_conn *)base)->tx_open;
}

static enum cx_err pg_begin(struct store_conn *base)
{
	struct pg_conn *c = (struct pg_conn *)base;
	if (c->tx_open) {
		log_error("store transaction is already open", NULL);
		return CX_EINVAL;
	}
	enum cx_err err = pg_exec(base, "BEGIN", NULL, 0, NULL);
	if (!err)
		c->tx_open = true;
	return err;
}

static enum cx_err pg_commit(struct store_conn *base)
{
	struct pg_conn *c = (struct pg_conn *)base;
	PGresult *res = NULL;
	if (!c->tx_open) {
		log_error("store commit without a transaction", NULL);
		return CX_EINVAL;
	}
	enum cx_err err = run(c, "COMMIT", NULL, 0, &res);
	/* COMMIT of a transaction that had a failed statement "succeeds" as a rollback. */
	if (!err && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		log_error("store commit rolled back a failed transaction", NULL);
		err = CX_EDB;
	}
	PQclear(res);
	/* Whatever COMMIT answered, the transaction is over (on a lost connection, with it). */
	c->tx_open = false;
	return err;
}

static void pg_rollback(struct store_conn *base)
{
	struct pg_conn *c = (struct pg_conn *)base;
	if (!c->tx_open)
		return;
	c->tx_open = false;
	if (!conn_good(c))
		return; /* the server ended the transaction with the connection */
	PGresult *res = PQexec(c->db, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail(c, "ROLLBACK", res);
	PQclear(res);
}

/* --- rows --- */

static enum cx_err pg_query(struct store_conn *base, const char *sql,
                            const struct store_val *params, size_t n_params,
                            struct store_rows **out)
{
	struct pg_conn *c = (struct pg_conn *)base;
	PGresult *res = NULL;
	*out = NULL;
	enum cx_err err = run(c, sql, params, n_params, &res);
	if (err)
		return err;
	struct pg_rows *rows = xcalloc(1, sizeof(*rows));
	rows->base.ops = &store_postgres_ops;
	rows->res = res;
	rows->n_rows = PQntuples(res);
	rows->n_cols = PQnfields(res);
	rows->row = -1;
	if (rows->n_cols > 0) {
		rows->decoded = xcalloc((size_t)rows->n_cols, sizeof(*rows->decoded));
		rows->decoded_len = xcalloc((size_t)rows->n_cols, sizeof(*rows->decoded_len));
	}
	*out = &rows->base;
	return CX_OK;
}

static void decoded_clear(struct pg_rows *rows)
{
	for (int i = 0; i < rows->n_cols; i++) {
		if (rows->decoded[i])
			PQfreemem(rows->decoded[i]);
		rows->decoded[i] = NULL;
		rows->decoded_len[i] = 0;
	}
}

static bool pg_rows_next(struct store_rows *base)
{
	struct pg_rows *rows = (struct pg_rows *)base;
	decoded_clear(rows);
	if (rows->row >= rows->n_rows)
		return false;
	rows->row++;
	return rows->row < rows->n_rows;
}

static enum cx_err pg_rows_error(const struct store_rows *base)
{
	/* The whole result arrived with the query, so reading it cannot fail later. */
	(void)base;
	return CX_OK;
}

static bool col_ok(const struct pg_rows *rows, int col)
{
	return rows->row >= 0 && rows->row < rows->n_rows && col >= 0 && col < rows->n_cols;
}

static bool pg_col_null(struct store_rows *base, int col)
{
	struct pg_rows *rows = (struct pg_rows *)base;
	return !col_ok(rows, col) || PQgetisnull(rows->res, rows->row, col);
}

static int64_t pg_col_int(struct store_rows *base, int col)
{
	struct pg_rows *rows = (struct pg_rows *)base;
	if (pg_col_null(base, col))
		return 0;
	const char *v = PQgetvalue(rows->res, rows->row, col);
	/* A boolean expression reads as 1 or 0, as it does on SQLite. */
	if (strcmp(v, "t") == 0)
		return 1;
	if (strcmp(v, "f") == 0)
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct store_rows *base, int col)
{
	struct pg_rows *rows = (struct pg_rows *)base;
	if (pg_col_null(base, col))
		return NULL;
	return PQgetvalue(rows->res, rows->row, col);
}

static const void *pg_col_blob(struct store_rows *base, int col, size_t *len)
{
	struct pg_rows *rows = (struct pg_rows *)base;
	*len = 0;
	if (pg_col_null(base, col))
		return NULL;
	const char *v = PQgetvalue(rows->res, rows->row, col);
	if (PQftype(rows->res, col) != OID_BYTEA) {
		*len = (size_t)PQgetlength(rows->res, rows->row, col);
		return v;
	}
	if (!rows->decoded[col]) {
		size_t n = 0;
		unsigned char *bytes = PQunescapeBytea((const unsigned char *)v, &n);
		if (!bytes)
			abort(); /* libpq's only failure here is out of memory */
		rows->decoded[col] = bytes;
		rows->decoded_len[col] = n;
	}
	*len = rows->decoded_len[col];
	return rows->decoded[col];
}

static void pg_rows_free(struct store_rows *base)
{
	struct pg_rows *rows = (struct pg_rows *)base;
	if (rows->decoded)
		decoded_clear(rows);
	free(rows->decoded);
	free(rows->decoded_len);
	PQclear(rows->res);
	free(rows);
}

/* --- notifications --- */

static enum cx_err pg_notify(struct store_conn *c, const char *channel, const char *payload)
{
	struct store_val p[] = {SV_TEXT(channel), SV_TEXT(payload)};
	return pg_exec(c, "SELECT pg_notify($1, $2)", p, 2, NULL);
}

struct pg_listener {
	struct store_listener base;
	struct pg_store *st; /* outlives the listener */
	char channel[64];    /* checked by store_listen: [a-z_]{1,63} */
	store_notify_fn fn;
	void *arg;
	PGconn *db; /* the listener thread's own; NULL while reconnecting */
	pthread_t thread;
	pthread_mutex_t lock; /* guards stopping */
	bool stopping;
};

static bool listener_stopping(struct pg_listener *l)
{
	pthread_mutex_lock(&l->lock);
	bool stop = l->stopping;
	pthread_mutex_unlock(&l->lock);
	return stop;
}

/* A connection that LISTENs on the channel, or NULL (logged). */
static PGconn *listener_connect(struct pg_listener *l)
{
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const values[] = {CONNECT_TIMEOUT_S, "calendox-listener", l->st->url, NULL};
	PGconn *db = PQconnectdbParams(keys, values, 1);
	if (db)
		PQsetNoticeProcessor(db, on_notice, NULL);
	char sql[96];
	snprintf(sql, sizeof(sql), "LISTEN \"%s\"", l->channel);
	PGresult *res = db && PQstatus(db) == CONNECTION_OK ? PQexec(db, sql) : NULL;
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok) {
		char q_url[320], q_msg[240];
		log_quote(l->st->safe_url, q_url, sizeof(q_url));
		log_quote(db ? PQerrorMessage(db) : "out of memory", q_msg, sizeof(q_msg));
		log_warn("store listener connection failed", "url=%s error=%s", q_url, q_msg);
	}
	PQclear(res);
	if (!ok) {
		PQfinish(db);
		db = NULL;
	}
	return db;
}

static void *listener_main(void *arg)
{
	struct pg_listener *l = arg;
	bool missed = false;
	while (!listener_stopping(l)) {
		if (!l->db) {
			l->db = listener_connect(l);
			if (!l->db) {
				for (int i = 0; i < 4 && !listener_stopping(l); i++)
					poll(NULL, 0, 250); /* a second between tries */
				continue;
			}
			log_info("store listener reconnected", NULL);
			if (missed)
				l->fn(l->arg, NULL);
			missed = false;
		}
		struct pollfd pfd = {.fd = PQsocket(l->db), .events = POLLIN};
		int n = poll(&pfd, 1, 500);
		if (n <= 0)
			continue;
		if (!PQconsumeInput(l->db) || PQstatus(l->db) != CONNECTION_OK) {
			log_warn("store listener connection lost", NULL);
			PQfinish(l->db);
			l->db = NULL;
			missed = true;
			continue;
		}
		PGnotify *note;
		while ((note = PQnotifies(l->db)) != NULL) {
			l->fn(l->arg, note->extra ? note->extra : "");
			PQfreemem(note);
		}
	}
	return NULL;
}

static void pg_unlisten(struct store_listener *base)
{
	struct pg_listener *l = (struct pg_listener *)base;
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	PQfinish(l->db);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static enum cx_err pg_listen(struct store *base, const char *channel, store_notify_fn fn,
                             void *arg, struct store_listener **out)
{
	struct pg_listener *l = xcalloc(1, sizeof(*l));
	l->base.ops = &store_postgres_ops;
	l->st = (struct pg_store *)base;
	snprintf(l->channel, sizeof(l->channel), "%s", channel);
	l->fn = fn;
	l->arg = arg;
	pthread_mutex_init(&l->lock, NULL);
	l->db = listener_connect(l);
	if (!l->db || pthread_create(&l->thread, NULL, listener_main, l) != 0) {
		PQfinish(l->db);
		pthread_mutex_destroy(&l->lock);
		free(l);
		return CX_EDB;
	}
	*out = &l->base;
	return CX_OK;
}

#define PG_OPS_COMMON                                                                              \
	.name = "postgresql", .autoid = "BIGSERIAL PRIMARY KEY", .open = pg_open,                  \
	.close = pg_close, .conn = pg_conn_get, .thread_done = pg_thread_done, .begin = pg_begin,  \
	.commit = pg_commit, .rollback = pg_rollback, .in_transaction = pg_in_transaction,         \
	.exec = pg_exec, .exec_script = pg_exec_script, .table_exists = pg_table_exists,           \
	.lock_schema = pg_lock_schema, .notify = pg_notify, .listen = pg_listen,                   \
	.unlisten = pg_unlisten, .query = pg_query, .rows_next = pg_rows_next,                     \
	.rows_error = pg_rows_error, .col_null = pg_col_null, .col_int = pg_col_int,               \
	.col_text = pg_col_text, .col_blob = pg_col_blob, .rows_free = pg_rows_free

const struct store_ops store_postgres_ops = {
    .scheme = "postgresql:",
    PG_OPS_COMMON,
};

/* The short scheme libpq also accepts; handles opened through it use store_postgres_ops. */
const struct store_ops store_postgres_short_ops = {
    .scheme = "postgres:",
    PG_OPS_COMMON,
};
