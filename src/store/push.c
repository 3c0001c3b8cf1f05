/* push.c: push registrations in the store (store/push.h, 0007_push.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/push.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define COLUMNS                                                                                    \
	"push_registrations.id, push_registrations.calendar_id, push_registrations.account_id, "   \
	"push_registrations.user_id, push_registrations.provider, push_registrations.slot, "       \
	"push_registrations.channel_id, push_registrations.resource_id, "                          \
	"push_registrations.secret_hash, push_registrations.state, push_registrations.job_id, "    \
	"push_registrations.expires_at, push_registrations.created_at"

void store_push_release(struct store_push *p)
{
	if (!p)
		return;
	free(p->channel_id);
	free(p->resource_id);
	memset(p, 0, sizeof(*p));
}

void store_pushes_free(struct store_push *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		store_push_release(&list[i]);
	free(list);
}

static void read_row(struct store_rows *rows, struct store_push *p)
{
	memset(p, 0, sizeof(*p));
	p->id = store_col_int(rows, 0);
	p->calendar_id = store_col_int(rows, 1);
	p->account_id = store_col_int(rows, 2);
	p->user_id = store_col_int(rows, 3);
	snprintf(p->provider, sizeof(p->provider), "%s", store_col_text(rows, 4));
	p->slot = store_col_int(rows, 5);
	p->channel_id = store_col_text_dup(rows, 6);
	p->resource_id = store_col_text_dup(rows, 7);
	snprintf(p->secret_hash, sizeof(p->secret_hash), "%s", store_col_text(rows, 8));
	snprintf(p->state, sizeof(p->state), "%s", store_col_text(rows, 9));
	p->job_id = store_col_int(rows, 10);
	p->expires_at = store_col_int(rows, 11);
	p->created_at = store_col_int(rows, 12);
}

/* Runs a query of COLUMNS rows into a list of at most max. */
static enum cx_err query_list(struct store_conn *c, const char *sql, const struct store_val *p,
                              size_t n_p, size_t max, struct store_push **out, size_t *n)
{
	struct store_rows *rows = NULL;
	struct store_push *list = NULL;
	size_t count = 0;
	*out = NULL;
	*n = 0;
	enum cx_err err = store_query(c, sql, p, n_p, &rows);
	if (err)
		return err;
	list = xcalloc(max ? max : 1, sizeof(*list));
	while (count < max && store_rows_next(rows))
		read_row(rows, &list[count++]);
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		store_pushes_free(list, count);
		return err;
	}
	*out = list;
	*n = count;
	return CX_OK;
}

static enum cx_err query_one(struct store_conn *c, const char *sql, const struct store_val *p,
                             size_t n_p, struct store_push *out)
{
	struct store_push *list = NULL;
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	enum cx_err err = query_list(c, sql, p, n_p, 1, &list, &n);
	if (err)
		return err;
	if (n == 0) {
		free(list);
		return CX_ENOTFOUND;
	}
	*out = list[0];
	free(list);
	return CX_OK;
}

enum cx_err store_push_insert(struct store_conn *c, const struct store_push *p, int64_t *id)
{
	if (!p->channel_id || !*p->channel_id || strlen(p->secret_hash) != 64)
		return CX_EINVAL;
	struct store_val v[] = {
	    SV_INT(p->calendar_id),  SV_INT(p->account_id), SV_INT(p->user_id),
	    SV_TEXT(p->provider),    SV_INT(p->slot),       SV_TEXT(p->channel_id),
	    SV_TEXT(p->secret_hash), SV_INT(p->job_id),     SV_INT(p->created_at),
	};
	struct store_rows *rows = NULL;
	enum cx_err err = store_query(
	    c,
	    "INSERT INTO push_registrations (calendar_id, account_id, user_id, provider, slot, "
	    "channel_id, secret_hash, state, job_id, expires_at, created_at) VALUES ($1, $2, $3, "
	    "$4, $5, $6, $7, 'pending', $8, 0, $9) ON CONFLICT DO NOTHING RETURNING id",
	    v, N(v), &rows);
	if (err)
		return err;
	if (store_rows_next(rows)) {
		if (id)
			*id = store_col_int(rows, 0);
	} else {
		/* Nothing inserted: a unique key was taken. Without an error, so a PostgreSQL
		 * transaction around it goes on. */
		err = store_rows_error(rows);
		if (!err)
			err = CX_ECONFLICT;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_push_activate(struct store_conn *c, int64_t id, const char *channel_id,
                                const char *resource_id, int64_t expires_at)
{
	if (!channel_id || !*channel_id)
		return CX_EINVAL;
	struct store_val v[] = {SV_INT(id), SV_TEXT(channel_id), SV_TEXT(resource_id),
	                        SV_INT(expires_at)};
	int64_t changes = 0;
	enum cx_err err = store_exec(c,
	                             "UPDATE push_registrations SET channel_id = $2, resource_id = "
	                             "$3, expires_at = $4, state = 'active' WHERE id = $1",
	                             v, N(v), &changes);
	if (!err && changes == 0)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_push_set_expiry(struct store_conn *c, int64_t id, int64_t expires_at)
{
	struct store_val v[] = {SV_INT(id), SV_INT(expires_at)};
	int64_t changes = 0;
	enum cx_err err = store_exec(
	    c, "UPDATE push_registrations SET expires_at = $2 WHERE id = $1", v, N(v), &changes);
	if (!err && changes == 0)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_push_delete(struct store_conn *c, int64_t id)
{
	struct store_val v[] = {SV_INT(id)};
	return store_exec(c, "DELETE FROM push_registrations WHERE id = $1", v, N(v), NULL);
}

enum cx_err store_push_get(struct store_conn *c, int64_t id, struct store_push *out)
{
	struct store_val v[] = {SV_INT(id)};
	return query_one(c, "SELECT " COLUMNS " FROM push_registrations WHERE id = $1", v, N(v),
	                 out);
}

enum cx_err store_push_find(struct store_conn *c, const char *provider, const char *channel_id,
                            struct store_push *out)
{
	memset(out, 0, sizeof(*out));
	if (!provider || !channel_id || !*channel_id)
		return CX_ENOTFOUND;
	struct store_val v[] = {SV_TEXT(provider), SV_TEXT(channel_id)};
	return query_one(c,
	                 "SELECT " COLUMNS " FROM push_registrations WHERE provider = $1 AND "
	                 "channel_id = $2",
	                 v, N(v), out);
}

enum cx_err store_push_list_calendar(struct store_conn *c, int64_t calendar_id,
                                     struct store_push **out, size_t *n)
{
	struct store_val v[] = {SV_INT(calendar_id), SV_INT(PUSH_PER_CALENDAR_MAX)};
	return query_list(c,
	                  "SELECT " COLUMNS " FROM push_registrations WHERE calendar_id = $1 "
	                  "ORDER BY slot LIMIT $2",
	                  v, N(v), PUSH_PER_CALENDAR_MAX, out, n);
}

enum cx_err store_push_list_account(struct store_conn *c, int64_t account_id, size_t max,
                                    struct store_push **out, size_t *n)
{
	struct store_val v[] = {SV_INT(account_id), SV_INT(max)};
	return query_list(c,
	                  "SELECT " COLUMNS " FROM push_registrations WHERE account_id = $1 "
	                  "ORDER BY calendar_id, slot LIMIT $2",
	                  v, N(v), max, out, n);
}

enum cx_err store_push_calendars_due(struct store_conn *c, int64_t expiring_before,
                                     int64_t pending_after, size_t max, int64_t **out, size_t *n)
{
	struct store_val v[] = {SV_INT(expiring_before), SV_INT(pending_after), SV_INT(max)};
	struct store_rows *rows = NULL;
	int64_t *list = NULL;
	size_t count = 0;
	*out = NULL;
	*n = 0;
	enum cx_err err = store_query(
	    c,
	    "SELECT calendars.id FROM calendars JOIN calendar_accounts ON calendar_accounts.id = "
	    "calendars.account_id WHERE calendars.selected = 1 AND calendar_accounts.status = "
	    "'active' AND NOT EXISTS (SELECT 1 FROM push_registrations WHERE "
	    "push_registrations.calendar_id = calendars.id AND ((push_registrations.state = "
	    "'active' AND push_registrations.expires_at > $1) OR (push_registrations.state = "
	    "'pending' AND push_registrations.created_at > $2))) ORDER BY calendars.id LIMIT $3",
	    v, N(v), &rows);
	if (err)
		return err;
	list = xcalloc(max ? max : 1, sizeof(*list));
	while (count < max && store_rows_next(rows))
		list[count++] = store_col_int(rows, 0);
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		free(list);
		return err;
	}
	*out = list;
	*n = count;
	return CX_OK;
}

enum cx_err store_push_stale(struct store_conn *c, size_t max, struct store_push **out, size_t *n)
{
	struct store_val v[] = {SV_INT(max)};
	return query_list(
	    c,
	    "SELECT " COLUMNS " FROM push_registrations JOIN calendars ON calendars.id = "
	    "push_registrations.calendar_id JOIN calendar_accounts ON calendar_accounts.id = "
	    "calendars.account_id WHERE calendars.selected = 0 OR calendar_accounts.status <> "
	    "'active' ORDER BY push_registrations.id LIMIT $1",
	    v, N(v), max, out, n);
}

enum cx_err store_push_delete_pending(struct store_conn *c, int64_t created_before, int64_t *n)
{
	struct store_val v[] = {SV_INT(created_before)};
	return store_exec(c,
	                  "DELETE FROM push_registrations WHERE state = 'pending' AND created_at "
	                  "<= $1",
	                  v, N(v), n);
}
