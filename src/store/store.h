/* store.h: the backend-neutral store (DESIGN §1, §3). SQLite (WAL) is the default backend;
 * PostgreSQL follows behind this same interface, so SQL written here stays portable: numbered
 * placeholders ($1, $2 …), RETURNING, INSERT … ON CONFLICT, no backend-specific functions (times are
 * Unix seconds in BIGINT columns, booleans are 0/1 integers).
 *
 * Ownership and threads. One struct store per process. Each thread gets its own connection with
 * store_conn(), created on first use and closed with store_thread_done() when the thread ends; a
 * connection is never shared. Rows from store_query() belong to the calling thread and stay valid
 * until store_rows_free(). */
#ifndef CX_STORE_STORE_H
#define CX_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct store;
struct store_conn;
struct store_rows;

enum store_type { STORE_NULL, STORE_INT, STORE_TEXT, STORE_BLOB };

/* A parameter: built with the SV_* macros, borrowed for the duration of the call. */
struct store_val {
	enum store_type type;
	int64_t i;
	const char *s; /* TEXT (NUL-terminated) or BLOB */
	size_t len;    /* BLOB length */
};

#define SV_NULL ((struct store_val){.type = STORE_NULL})
#define SV_INT(x) ((struct store_val){.type = STORE_INT, .i = (int64_t)(x)})
/* A NULL pointer binds SQL NULL. A function rather than a macro, so a char array argument does not
 * trip -Waddress. */
static inline struct store_val store_val_text(const char *s)
{
	return (struct store_val){.type = s ? STORE_TEXT : STORE_NULL, .s = s};
}
#define SV_TEXT(x) store_val_text(x)
#define SV_BLOB(p, n) ((struct store_val){.type = STORE_BLOB, .s = (const char *)(p), .len = (n)})

/* url: "sqlite:path/to/file.db" (or "sqlite::memory:" for tests), or a libpq URL
 * "postgresql://user:password@host:port/dbname?…" ("postgres://" too). CX_EINVAL for an unknown
 * scheme, CX_EDB when the database cannot be opened (the log line never carries the password).
 * Caller frees with store_close() after every thread released its connection. */
enum cx_err store_open(const char *url, struct store **out);
void store_close(struct store *st);
/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *st);
/* The same for the store a connection belongs to, for the few statements that differ. */
const char *store_conn_backend(const struct store_conn *c);

/* --- cross-instance wake-ups (PostgreSQL's LISTEN/NOTIFY; nothing on SQLite) --- */
/* Tells every listener of channel, when the caller's transaction commits (at once outside one),
 * in this and every other process on the same database. CX_OK and nothing on backends without
 * notifications (SQLite has one process). channel: [a-z_]{1,63}; payload: NULL or printable ASCII
 * of at most STORE_NOTIFY_PAYLOAD_MAX bytes (CX_EINVAL otherwise). */
#define STORE_NOTIFY_PAYLOAD_MAX 256
enum cx_err store_notify(struct store_conn *c, const char *channel, const char *payload);
struct store_listener;
/* Called on the listener's own thread for every notification with its payload ("" when none),
 * and once with NULL after its connection was lost and made again (notifications may have been
 * missed). Must be quick. */
typedef void (*store_notify_fn)(void *arg, const char *payload);
/* Starts a thread with its own connection that listens on channel. On a backend without
 * notifications *out is NULL and CX_OK is returned. CX_EDB when the first connection fails. */
enum cx_err store_listen(struct store *st, const char *channel, store_notify_fn fn, void *arg,
                         struct store_listener **out);
/* Stops and joins the thread (within about a second) and frees l; NULL is fine. */
void store_unlisten(struct store_listener *l);

/* Runs the numbered migrations in src/store/sql/ that have not run yet, each in a transaction,
 * recording them in schema_migrations. Safe to run concurrently from several processes. */
enum cx_err store_migrate(struct store *st);
/* The highest migration applied (0 for none). */
enum cx_err store_schema_version(struct store *st, int *version);

/* This thread's connection (opened on first use). */
struct store_conn *store_conn(struct store *st);
/* Closes this thread's connection, if any. */
void store_thread_done(struct store *st);

/* Transactions: BEGIN IMMEDIATE on SQLite (a writer from the start, so no upgrade deadlocks);
 * BEGIN (read committed) on PostgreSQL, where a failed statement aborts the whole transaction, so
 * a caller rolls back after any error. */
enum cx_err store_begin(struct store_conn *c);
enum cx_err store_commit(struct store_conn *c);
void store_rollback(struct store_conn *c);
/* True while a transaction is open on this connection. */
bool store_in_transaction(struct store_conn *c);

/* Executes a statement; *changes (may be NULL) gets the number of rows it changed.
 * CX_ECONFLICT on a unique or primary-key violation, CX_EBUSY when the database stayed locked past
 * the busy timeout, CX_EDB otherwise (logged with the SQL, never with the parameters). */
enum cx_err store_exec(struct store_conn *c, const char *sql, const struct store_val *params,
		       size_t n_params, int64_t *changes);
/* Runs a query; caller frees *rows with store_rows_free(). Errors as store_exec. */
enum cx_err store_query(struct store_conn *c, const char *sql, const struct store_val *params,
			size_t n_params, struct store_rows **rows);
/* Advances to the next row: true when there is one. A step error ends the rows and is returned by
 * store_rows_error(). */
bool store_rows_next(struct store_rows *rows);
enum cx_err store_rows_error(const struct store_rows *rows);
bool store_col_null(struct store_rows *rows, int col);
int64_t store_col_int(struct store_rows *rows, int col);
/* Valid until the next store_rows_next() or store_rows_free(); "" for NULL. */
const char *store_col_text(struct store_rows *rows, int col);
/* A copy (caller frees) or NULL for SQL NULL. */
char *store_col_text_dup(struct store_rows *rows, int col);
/* A BLOB (or TEXT) column's bytes, valid as store_col_text(); *len gets the length. NULL with
 * *len 0 for SQL NULL; an empty value gives a non-NULL pointer with *len 0. */
const void *store_col_blob(struct store_rows *rows, int col, size_t *len);
void store_rows_free(struct store_rows *rows);

/* Convenience: a query expected to give at most one row with one integer column.
 * CX_ENOTFOUND when it gives none. */
enum cx_err store_query_int(struct store_conn *c, const char *sql, const struct store_val *params,
			    size_t n_params, int64_t *out);

#endif
