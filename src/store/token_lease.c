#include "store/token_lease.h"

#include <stdio.h>

#include "store/calendars.h"
#include "store/connections.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SQL_MAX 512

/* The table and the status its rows have while their tokens are in use. Table names come from
 * this list only, never from input, so they may be formatted into the SQL. */
static const char *table_name(enum store_token_table t)
{
	return t == STORE_TOKENS_APP_CONNECTION ? "app_connections" : "calendar_accounts";
}

static const char *live_status(enum store_token_table t)
{
	return t == STORE_TOKENS_APP_CONNECTION ? CONNECTION_CONNECTED : CALENDAR_ACCOUNT_ACTIVE;
}

/* Runs "UPDATE <table> <set_where>" and tells whether it changed exactly one row. */
static enum cx_err exec_one(struct store_conn *c, enum store_token_table t, const char *set_where,
			    const struct store_val *p, size_t n, bool *one)
{
	char sql[SQL_MAX];
	snprintf(sql, sizeof(sql), "UPDATE %s %s", table_name(t), set_where);
	int64_t changed = 0;
	enum cx_err err = store_exec(c, sql, p, n, &changed);
	if (one)
		*one = !err && changed == 1;
	return err;
}

enum cx_err store_token_lease_take(struct store_conn *c, enum store_token_table table, int64_t id,
				   int64_t token_version, const char *owner, int64_t now_ms,
				   int64_t until_ms, bool *taken)
{
	struct store_val p[] = {SV_INT(id),	SV_INT(token_version), SV_TEXT(owner),
				SV_INT(now_ms), SV_INT(until_ms),      SV_TEXT(live_status(table))};
	return exec_one(c, table,
			"SET refresh_lock_until_ms = $5, refresh_lock_owner = $3 "
			"WHERE id = $1 AND token_version = $2 AND status = $6 "
			"AND refresh_lock_until_ms <= $4",
			p, N(p), taken);
}

enum cx_err store_token_lease_store(struct store_conn *c, enum store_token_table table, int64_t id,
				    const char *owner, const char *sealed_tokens,
				    int64_t token_expires_at, int64_t now, bool *stored)
{
	struct store_val p[] = {SV_INT(id), SV_TEXT(owner), SV_TEXT(sealed_tokens),
				SV_INT(token_expires_at), SV_INT(now)};
	return exec_one(c, table,
			"SET tokens = $3, token_expires_at = $4, "
			"token_version = token_version + 1, refresh_lock_until_ms = 0, "
			"refresh_lock_owner = NULL, last_error = NULL, updated_at = $5 "
			"WHERE id = $1 AND refresh_lock_owner = $2",
			p, N(p), stored);
}

enum cx_err store_token_lease_release(struct store_conn *c, enum store_token_table table,
				      int64_t id, const char *owner)
{
	struct store_val p[] = {SV_INT(id), SV_TEXT(owner)};
	return exec_one(c, table,
			"SET refresh_lock_until_ms = 0, refresh_lock_owner = NULL "
			"WHERE id = $1 AND refresh_lock_owner = $2",
			p, N(p), NULL);
}

enum cx_err store_token_lease_broken(struct store_conn *c, enum store_token_table table,
				     int64_t id, const char *owner, const char *last_error,
				     int64_t now, bool *marked)
{
	/* Both tables spell the status "needs_reconnect". */
	struct store_val p[] = {SV_INT(id), SV_TEXT(owner), SV_TEXT(CONNECTION_NEEDS_RECONNECT),
				SV_TEXT(last_error), SV_INT(now)};
	return exec_one(c, table,
			"SET status = $3, last_error = $4, refresh_lock_until_ms = 0, "
			"refresh_lock_owner = NULL, updated_at = $5 "
			"WHERE id = $1 AND refresh_lock_owner = $2",
			p, N(p), marked);
}
