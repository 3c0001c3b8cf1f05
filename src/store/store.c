/* store.c: the backend-neutral front of the store. It picks a backend by the URL's scheme and
 * forwards every call through the backend's operation table (backend.h), so callers never see which
 * database they talk to. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "store/backend.h"
#include "store/store.h"

#include "base/banned.h"

static const struct store_ops *const backends[] = {
	&store_sqlite_ops,
	&store_postgres_ops,
	&store_postgres_short_ops,
};

enum cx_err store_open(const char *url, struct store **out)
{
	enum cx_err err = CX_EINVAL;
	*out = NULL;
	if (!url)
		goto out;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		const struct store_ops *ops = backends[i];
		size_t n = strlen(ops->scheme);
		if (strncmp(url, ops->scheme, n) != 0)
			continue;
		err = ops->open(url + n, out);
		goto out;
	}
	log_error("store url has an unknown scheme", NULL);
out:
	return err;
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
	return st->ops->name;
}

const char *store_conn_backend(const struct store_conn *c)
{
	return c->ops->name;
}

static bool channel_valid(const char *channel)
{
	size_t n = channel ? strlen(channel) : 0;
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((channel[i] >= 'a' && channel[i] <= 'z') || channel[i] == '_'))
			return false;
	return true;
}

enum cx_err store_notify(struct store_conn *c, const char *channel, const char *payload)
{
	if (!channel_valid(channel))
		return CX_EINVAL;
	size_t n = payload ? strlen(payload) : 0;
	if (n > STORE_NOTIFY_PAYLOAD_MAX)
		return CX_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (payload[i] < 0x20 || payload[i] > 0x7e)
			return CX_EINVAL;
	return c->ops->notify ? c->ops->notify(c, channel, payload ? payload : "") : CX_OK;
}

enum cx_err store_listen(struct store *st, const char *channel, store_notify_fn fn, void *arg,
                         struct store_listener **out)
{
	*out = NULL;
	if (!channel_valid(channel) || !fn)
		return CX_EINVAL;
	return st->ops->listen ? st->ops->listen(st, channel, fn, arg, out) : CX_OK;
}

void store_unlisten(struct store_listener *l)
{
	if (l)
		l->ops->unlisten(l);
}

struct store_conn *store_conn(struct store *st)
{
	return st->ops->conn(st);
}

void store_thread_done(struct store *st)
{
	st->ops->thread_done(st);
}

enum cx_err store_begin(struct store_conn *c)
{
	return c->ops->begin(c);
}

enum cx_err store_commit(struct store_conn *c)
{
	return c->ops->commit(c);
}

void store_rollback(struct store_conn *c)
{
	c->ops->rollback(c);
}

bool store_in_transaction(struct store_conn *c)
{
	return c->ops->in_transaction(c);
}

enum cx_err store_exec(struct store_conn *c, const char *sql, const struct store_val *params,
		       size_t n_params, int64_t *changes)
{
	return c->ops->exec(c, sql, params, n_params, changes);
}

enum cx_err store_query(struct store_conn *c, const char *sql, const struct store_val *params,
			size_t n_params, struct store_rows **rows)
{
	return c->ops->query(c, sql, params, n_params, rows);
}

bool store_rows_next(struct store_rows *rows)
{
	return rows->ops->rows_next(rows);
}

enum cx_err store_rows_error(const struct store_rows *rows)
{
	return rows->ops->rows_error(rows);
}

bool store_col_null(struct store_rows *rows, int col)
{
	return rows->ops->col_null(rows, col);
}

int64_t store_col_int(struct store_rows *rows, int col)
{
	return rows->ops->col_int(rows, col);
}

const char *store_col_text(struct store_rows *rows, int col)
{
	const char *s = rows->ops->col_text(rows, col);
	return s ? s : "";
}

char *store_col_text_dup(struct store_rows *rows, int col)
{
	const char *s = rows->ops->col_text(rows, col);
	return s ? xstrdup(s) : NULL;
}

const void *store_col_blob(struct store_rows *rows, int col, size_t *len)
{
	return rows->ops->col_blob(rows, col, len);
}

void store_rows_free(struct store_rows *rows)
{
	if (rows)
		rows->ops->rows_free(rows);
}

enum cx_err store_query_int(struct store_conn *c, const char *sql, const struct store_val *params,
			    size_t n_params, int64_t *out)
{
	struct store_rows *rows = NULL;
	enum cx_err err = store_query(c, sql, params, n_params, &rows);
	if (err)
		goto out;
	if (store_rows_next(rows)) {
		*out = store_col_int(rows, 0);
		goto out;
	}
	err = store_rows_error(rows);
	if (!err)
		err = CX_ENOTFOUND;
out:
	store_rows_free(rows);
	return err;
}
