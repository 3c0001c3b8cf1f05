/* backend.h: the table of operations a store backend (sqlite.c, postgres.c) provides to the
 * backend-neutral front in store.c and migrate.c. Private to src/store: nothing outside this folder
 * includes it.
 *
 * Ownership and threads are those of store.h. Every backend struct embeds the matching struct below
 * as its first member, so the front reaches the operations from any handle it is given. */
#ifndef CX_STORE_BACKEND_H
#define CX_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

struct store_ops;

struct store {
	const struct store_ops *ops;
};

struct store_conn {
	const struct store_ops *ops;
};

struct store_rows {
	const struct store_ops *ops;
};

struct store_listener {
	const struct store_ops *ops;
};

struct store_ops {
	const char *name;   /* "sqlite" */
	const char *scheme; /* URL prefix it serves, "sqlite:" */
	/* What %%AUTOID%% in a migration becomes. */
	const char *autoid;
	/* target: the URL after the scheme. */
	enum cx_err (*open)(const char *target, struct store **out);
	void (*close)(struct store *st);
	struct store_conn *(*conn)(struct store *st);
	void (*thread_done)(struct store *st);

	enum cx_err (*begin)(struct store_conn *c);
	enum cx_err (*commit)(struct store_conn *c);
	void (*rollback)(struct store_conn *c);
	bool (*in_transaction)(struct store_conn *c);

	enum cx_err (*exec)(struct store_conn *c, const char *sql, const struct store_val *params,
			    size_t n_params, int64_t *changes);
	/* Several statements separated by ';' without parameters (migrations). */
	enum cx_err (*exec_script)(struct store_conn *c, const char *sql);
	enum cx_err (*table_exists)(struct store_conn *c, const char *table, bool *exists);
	/* Inside a transaction: waits until no other process migrates the same database, until the
	 * transaction ends. NULL when the transaction itself already excludes other writers
	 * (SQLite's BEGIN IMMEDIATE). */
	enum cx_err (*lock_schema)(struct store_conn *c);
	/* Cross-instance notifications (store.h store_notify/store_listen); NULL when the backend
	 * has none. */
	enum cx_err (*notify)(struct store_conn *c, const char *channel, const char *payload);
	enum cx_err (*listen)(struct store *st, const char *channel, store_notify_fn fn, void *arg,
			      struct store_listener **out);
	void (*unlisten)(struct store_listener *l);

	enum cx_err (*query)(struct store_conn *c, const char *sql, const struct store_val *params,
			     size_t n_params, struct store_rows **rows);
	bool (*rows_next)(struct store_rows *rows);
	enum cx_err (*rows_error)(const struct store_rows *rows);
	bool (*col_null)(struct store_rows *rows, int col);
	int64_t (*col_int)(struct store_rows *rows, int col);
	/* NULL for SQL NULL. */
	const char *(*col_text)(struct store_rows *rows, int col);
	const void *(*col_blob)(struct store_rows *rows, int col, size_t *len);
	void (*rows_free)(struct store_rows *rows);
};

extern const struct store_ops store_sqlite_ops;
/* "postgresql:" URLs, and the same backend under libpq's short scheme "postgres:". */
extern const struct store_ops store_postgres_ops;
extern const struct store_ops store_postgres_short_ops;

#endif
