/* migrate.c: applies the embedded schema migrations (migrations.h) in version order.
 *
 * Each missing version runs in its own write transaction that first checks schema_migrations again,
 * so two processes migrating the same database at once apply every version exactly once: the second
 * waits for the first one's lock and then finds the version recorded. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/time.h"
#include "store/backend.h"
#include "store/migrations.h"
#include "store/store.h"

#include "base/banned.h"

#define AUTOID_TOKEN "%%AUTOID%%"
#define MIGRATION_MAX_BYTES (4u << 20)

/* The migration's SQL with every %%AUTOID%% replaced by the backend's identity column type.
 * Caller frees *out with free(). */
static enum cx_err expand_autoid(const char *sql, const char *autoid, char **out)
{
	struct buf b;
	enum cx_err err = CX_OK;
	size_t token_len = strlen(AUTOID_TOKEN);
	buf_init(&b, MIGRATION_MAX_BYTES);
	const char *p = sql;
	const char *hit;
	while ((hit = strstr(p, AUTOID_TOKEN)) != NULL) {
		err = buf_append(&b, p, (size_t)(hit - p));
		if (!err)
			err = buf_puts(&b, autoid);
		if (err)
			goto out;
		p = hit + token_len;
	}
	err = buf_puts(&b, p);
	if (err)
		goto out;
	*out = buf_detach(&b, NULL);
out:
	buf_release(&b);
	return err;
}

/* Opens a transaction that no other migrating process shares: SQLite's BEGIN IMMEDIATE already
 * takes the write lock; PostgreSQL lets writers run side by side, so it takes a lock of its own. */
static enum cx_err begin_exclusive(struct store_conn *c)
{
	enum cx_err err = store_begin(c);
	if (!err && c->ops->lock_schema) {
		err = c->ops->lock_schema(c);
		if (err)
			store_rollback(c);
	}
	return err;
}

static enum cx_err apply_one(struct store_conn *c, const struct store_migration *m)
{
	struct store_val version[] = {SV_INT(m->version)};
	char *sql = NULL;
	int64_t seen = 0;
	enum cx_err err = begin_exclusive(c);
	if (err)
		goto out;
	err = store_query_int(c, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
			      version, 1, &seen);
	if (err || seen > 0)
		goto out;
	err = expand_autoid(m->sql, c->ops->autoid, &sql);
	if (err)
		goto out;
	err = c->ops->exec_script(c, sql);
	if (err)
		goto out;
	struct store_val rec[] = {SV_INT(m->version), SV_TEXT(m->name), SV_INT(time_wall_s())};
	err = store_exec(c,
			 "INSERT INTO schema_migrations (version, name, applied_at) "
			 "VALUES ($1, $2, $3)",
			 rec, 3, NULL);
	if (err)
		goto out;
	err = store_commit(c);
	if (!err)
		log_info("store migration applied", "version=%d name=%s", m->version, m->name);
out:
	if (store_in_transaction(c)) {
		if (!err && seen > 0)
			err = store_commit(c);
		else
			store_rollback(c);
	}
	if (err)
		log_error("store migration failed", "version=%d name=%s error=%s", m->version,
			  m->name, cx_strerror(err));
	free(sql);
	return err;
}

enum cx_err store_migrate(struct store *st)
{
	struct store_conn *c = store_conn(st);
	/* Two processes creating the table at once would collide on PostgreSQL, hence the lock. */
	enum cx_err err = begin_exclusive(c);
	if (!err)
		err = store_exec(c,
				 "CREATE TABLE IF NOT EXISTS schema_migrations ("
				 "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
				 "applied_at BIGINT NOT NULL)",
				 NULL, 0, NULL);
	if (!err)
		err = store_commit(c);
	else if (store_in_transaction(c))
		store_rollback(c);
	for (int i = 0; !err && i < store_migrations_count; i++)
		err = apply_one(c, &store_migrations[i]);
	return err;
}

enum cx_err store_schema_version(struct store *st, int *version)
{
	struct store_conn *c = store_conn(st);
	bool exists = false;
	int64_t v = 0;
	*version = 0;
	enum cx_err err = c->ops->table_exists(c, "schema_migrations", &exists);
	if (err || !exists)
		goto out;
	err = store_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
			      &v);
	if (!err)
		*version = (int)v;
out:
	return err;
}
