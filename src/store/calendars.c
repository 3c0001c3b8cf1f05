/* calendars.c: calendar accounts and calendars (store/calendars.h), in portable SQL (store.h). */
#include "store/calendars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ACCOUNT_COLUMNS                                                                            \
	"id, user_id, provider, status, external_id, external_email, tokens, token_expires_at, "   \
	"token_version, scopes, last_error, created_at, updated_at"
#define CALENDAR_COLUMNS                                                                           \
	"calendars.id, calendars.account_id, calendars.external_id, calendars.name, "              \
	"calendars.is_primary, calendars.writable, calendars.color, calendars.selected"

void store_calendar_account_release(struct store_calendar_account *a)
{
	free(a->external_id);
	free(a->external_email);
	free(a->tokens);
	free(a->scopes);
	free(a->last_error);
	memset(a, 0, sizeof(*a));
}

void store_calendar_accounts_free(struct store_calendar_account *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_calendar_account_release(&list[i]);
	free(list);
}

void store_calendar_release(struct store_calendar *cal)
{
	free(cal->external_id);
	free(cal->name);
	free(cal->color);
	memset(cal, 0, sizeof(*cal));
}

void store_calendars_free(struct store_calendar *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_calendar_release(&list[i]);
	free(list);
}

static void read_account(struct store_rows *rows, struct store_calendar_account *a)
{
	a->id = store_col_int(rows, 0);
	a->user_id = store_col_int(rows, 1);
	snprintf(a->provider, sizeof(a->provider), "%s", store_col_text(rows, 2));
	snprintf(a->status, sizeof(a->status), "%s", store_col_text(rows, 3));
	a->external_id = store_col_text_dup(rows, 4);
	a->external_email = store_col_text_dup(rows, 5);
	a->tokens = store_col_text_dup(rows, 6);
	a->token_expires_at = store_col_int(rows, 7);
	a->token_version = store_col_int(rows, 8);
	a->scopes = store_col_text_dup(rows, 9);
	a->last_error = store_col_text_dup(rows, 10);
	a->created_at = store_col_int(rows, 11);
	a->updated_at = store_col_int(rows, 12);
}

static void read_calendar(struct store_rows *rows, struct store_calendar *cal)
{
	cal->id = store_col_int(rows, 0);
	cal->account_id = store_col_int(rows, 1);
	cal->external_id = store_col_text_dup(rows, 2);
	cal->name = store_col_text_dup(rows, 3);
	cal->primary = store_col_int(rows, 4) != 0;
	cal->writable = store_col_int(rows, 5) != 0;
	cal->color = store_col_text_dup(rows, 6);
	cal->selected = store_col_int(rows, 7) != 0;
}

enum cx_err store_calendar_accounts_count(struct store_conn *c, int64_t user_id,
					  const char *provider, int64_t *n)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(provider)};
	if (!provider)
		return store_query_int(
			c, "SELECT COUNT(*) FROM calendar_accounts WHERE user_id = $1", p, 1, n);
	return store_query_int(c,
			       "SELECT COUNT(*) FROM calendar_accounts WHERE user_id = $1 AND "
			       "provider = $2",
			       p, N(p), n);
}

enum cx_err store_calendar_account_find(struct store_conn *c, int64_t user_id,
					const char *provider, const char *external_id,
					int64_t *id)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(provider), SV_TEXT(external_id)};
	return store_query_int(c,
			       "SELECT id FROM calendar_accounts WHERE user_id = $1 AND "
			       "provider = $2 AND external_id = $3",
			       p, N(p), id);
}

enum cx_err store_calendar_account_reserve(struct store_conn *c, int64_t user_id,
					   const char *provider, const char *external_id,
					   int64_t now, int64_t *id, bool *created)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(provider), SV_TEXT(external_id),
				SV_TEXT(CALENDAR_ACCOUNT_NEEDS_RECONNECT), SV_INT(now)};
	int64_t inserted = 0;
	enum cx_err err = store_exec(c,
				     "INSERT INTO calendar_accounts (user_id, provider, "
				     "external_id, status, created_at, updated_at) "
				     "VALUES ($1, $2, $3, $4, $5, $5) "
				     "ON CONFLICT (user_id, provider, external_id) DO NOTHING",
				     p, N(p), &inserted);
	if (err)
		return err;
	if (created)
		*created = inserted > 0;
	return store_calendar_account_find(c, user_id, provider, external_id, id);
}

enum cx_err store_calendar_account_connect(struct store_conn *c, int64_t id, int64_t user_id,
					   const char *external_email, const char *sealed_tokens,
					   int64_t token_expires_at, const char *scopes,
					   const char *status, int64_t now)
{
	struct store_val p[] = {SV_INT(id),
				SV_INT(user_id),
				SV_TEXT(status),
				SV_TEXT(external_email),
				SV_TEXT(sealed_tokens),
				SV_INT(token_expires_at),
				SV_TEXT(scopes ? scopes : ""),
				SV_INT(now)};
	int64_t changed = 0;
	enum cx_err err = store_exec(
		c,
		"UPDATE calendar_accounts SET status = $3, external_email = $4, tokens = $5, "
		"token_expires_at = $6, token_version = token_version + 1, scopes = $7, "
		"updated_at = $8, last_error = NULL WHERE id = $1 AND user_id = $2",
		p, N(p), &changed);
	if (!err && changed != 1)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_calendar_account_get(struct store_conn *c, int64_t user_id, int64_t id,
				       struct store_calendar_account *out)
{
	struct store_val p[] = {SV_INT(id), SV_INT(user_id)};
	struct store_rows *rows;
	memset(out, 0, sizeof(*out));
	enum cx_err err = store_query(c,
				      "SELECT " ACCOUNT_COLUMNS " FROM calendar_accounts "
				      "WHERE id = $1 AND user_id = $2",
				      p, N(p), &rows);
	if (err)
		return err;
	if (store_rows_next(rows)) {
		read_account(rows, out);
	} else {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_calendar_accounts_list(struct store_conn *c, int64_t user_id,
					 struct store_calendar_account **out, size_t *n)
{
	struct store_val p[] = {SV_INT(user_id)};
	struct store_rows *rows;
	*out = NULL;
	*n = 0;
	enum cx_err err = store_query(c,
				      "SELECT " ACCOUNT_COLUMNS " FROM calendar_accounts "
				      "WHERE user_id = $1 ORDER BY id",
				      p, N(p), &rows);
	if (err)
		return err;
	size_t cap = 0;
	while (store_rows_next(rows)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		memset(&(*out)[*n], 0, sizeof(**out));
		read_account(rows, &(*out)[(*n)++]);
	}
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		store_calendar_accounts_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return err;
}

enum cx_err store_calendar_account_delete(struct store_conn *c, int64_t user_id, int64_t id)
{
	struct store_val p[] = {SV_INT(id), SV_INT(user_id)};
	int64_t changed = 0;
	enum cx_err err = store_exec(
		c, "DELETE FROM calendar_accounts WHERE id = $1 AND user_id = $2", p, N(p),
		&changed);
	if (!err && changed != 1)
		err = CX_ENOTFOUND;
	return err;
}

static bool listed(const struct store_calendar *cals, size_t n, const char *external_id)
{
	for (size_t i = 0; i < n; i++)
		if (cals[i].external_id && strcmp(cals[i].external_id, external_id) == 0)
			return true;
	return false;
}

/* Removes the account's calendars that are not in cals. Ids are gathered first and deleted one by
 * one, which keeps the SQL portable (no array parameters) and is cheap at these sizes. */
static enum cx_err remove_unlisted(struct store_conn *c, int64_t account_id,
				   const struct store_calendar *cals, size_t n)
{
	struct store_val p[] = {SV_INT(account_id)};
	struct store_rows *rows;
	int64_t *gone = NULL;
	size_t n_gone = 0, cap = 0;
	enum cx_err err = store_query(c,
				      "SELECT id, external_id FROM calendars WHERE account_id = $1",
				      p, N(p), &rows);
	if (err)
		return err;
	while (store_rows_next(rows)) {
		if (listed(cals, n, store_col_text(rows, 1)))
			continue;
		if (n_gone == cap) {
			cap = cap ? cap * 2 : 8;
			gone = xrealloc(gone, cap * sizeof(*gone));
		}
		gone[n_gone++] = store_col_int(rows, 0);
	}
	err = store_rows_error(rows);
	store_rows_free(rows);
	for (size_t i = 0; !err && i < n_gone; i++) {
		struct store_val d[] = {SV_INT(gone[i]), SV_INT(account_id)};
		err = store_exec(c, "DELETE FROM calendars WHERE id = $1 AND account_id = $2", d,
				 N(d), NULL);
	}
	free(gone);
	return err;
}

enum cx_err store_calendars_merge(struct store_conn *c, int64_t user_id, int64_t account_id,
				  const struct store_calendar *cals, size_t n)
{
	struct store_val own[] = {SV_INT(account_id), SV_INT(user_id)};
	int64_t found = 0;
	enum cx_err err = store_query_int(
		c, "SELECT id FROM calendar_accounts WHERE id = $1 AND user_id = $2", own, N(own),
		&found);
	if (err)
		return err;
	if (n > CALENDARS_PER_ACCOUNT_MAX)
		n = CALENDARS_PER_ACCOUNT_MAX;
	for (size_t i = 0; !err && i < n; i++) {
		const struct store_calendar *cal = &cals[i];
		if (!cal->external_id || !*cal->external_id)
			continue;
		struct store_val p[] = {SV_INT(account_id),
					SV_TEXT(cal->external_id),
					SV_TEXT(cal->name ? cal->name : ""),
					SV_INT(cal->primary ? 1 : 0),
					SV_INT(cal->writable ? 1 : 0),
					SV_TEXT(cal->color)};
		err = store_exec(c,
				 "INSERT INTO calendars (account_id, external_id, name, "
				 "is_primary, writable, color, selected) "
				 "VALUES ($1, $2, $3, $4, $5, $6, 1) "
				 "ON CONFLICT (account_id, external_id) DO UPDATE SET "
				 "name = excluded.name, is_primary = excluded.is_primary, "
				 "writable = excluded.writable, color = excluded.color",
				 p, N(p), NULL);
	}
	if (!err)
		err = remove_unlisted(c, account_id, cals, n);
	return err;
}

enum cx_err store_calendars_list(struct store_conn *c, int64_t user_id,
				 struct store_calendar **out, size_t *n)
{
	struct store_val p[] = {SV_INT(user_id)};
	struct store_rows *rows;
	*out = NULL;
	*n = 0;
	enum cx_err err = store_query(
		c,
		"SELECT " CALENDAR_COLUMNS " FROM calendars JOIN calendar_accounts ON "
		"calendar_accounts.id = calendars.account_id WHERE calendar_accounts.user_id = $1 "
		"ORDER BY calendars.account_id, calendars.is_primary DESC, calendars.name, "
		"calendars.id",
		p, N(p), &rows);
	if (err)
		return err;
	size_t cap = 0;
	while (store_rows_next(rows)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		memset(&(*out)[*n], 0, sizeof(**out));
		read_calendar(rows, &(*out)[(*n)++]);
	}
	err = store_rows_error(rows);
	store_rows_free(rows);
	if (err) {
		store_calendars_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return err;
}

enum cx_err store_calendar_set_selected(struct store_conn *c, int64_t user_id, int64_t calendar_id,
					bool selected)
{
	struct store_val p[] = {SV_INT(calendar_id), SV_INT(user_id), SV_INT(selected ? 1 : 0)};
	int64_t changed = 0;
	enum cx_err err = store_exec(c,
				     "UPDATE calendars SET selected = $3 WHERE id = $1 AND "
				     "account_id IN (SELECT id FROM calendar_accounts "
				     "WHERE user_id = $2)",
				     p, N(p), &changed);
	if (!err && changed != 1)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_calendar_accounts_suspend(struct store_conn *c, int64_t user_id, bool suspend,
					    int64_t now, int64_t *changed)
{
	struct store_val p[] = {
		SV_INT(user_id),
		SV_TEXT(suspend ? CALENDAR_ACCOUNT_ACTIVE : CALENDAR_ACCOUNT_SUSPENDED),
		SV_TEXT(suspend ? CALENDAR_ACCOUNT_SUSPENDED : CALENDAR_ACCOUNT_ACTIVE),
		SV_INT(now)};
	return store_exec(c,
			  "UPDATE calendar_accounts SET status = $3, updated_at = $4 "
			  "WHERE user_id = $1 AND status = $2",
			  p, N(p), changed);
}

enum cx_err store_calendar_accounts_fit(struct store_conn *c, int64_t user_id, int limit,
					int64_t now, int64_t *suspended, int64_t *reactivated)
{
	struct store_val p[] = {SV_INT(user_id)};
	struct store_rows *rows = NULL;
	int64_t *ids = NULL;
	bool *suspend = NULL;
	size_t n = 0, cap = 0;
	int64_t down = 0, up = 0;
	enum cx_err err = store_query(c,
				      "SELECT id, status FROM calendar_accounts WHERE user_id = $1 "
				      "ORDER BY created_at, id",
				      p, N(p), &rows);
	if (err)
		goto out;
	/* Collect first: the changes are made after the rows are read. */
	for (size_t rank = 0; store_rows_next(rows); rank++) {
		const char *status = store_col_text(rows, 1);
		bool fits = limit < 0 || rank < (size_t)limit;
		bool active = strcmp(status, CALENDAR_ACCOUNT_ACTIVE) == 0;
		bool resting = strcmp(status, CALENDAR_ACCOUNT_SUSPENDED) == 0;
		if ((fits && !resting) || (!fits && !active))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			ids = xrealloc(ids, cap * sizeof(*ids));
			suspend = xrealloc(suspend, cap * sizeof(*suspend));
		}
		ids[n] = store_col_int(rows, 0);
		suspend[n++] = !fits;
	}
	err = store_rows_error(rows);
	for (size_t i = 0; !err && i < n; i++) {
		struct store_val q[] = {
			SV_INT(ids[i]),
			SV_TEXT(suspend[i] ? CALENDAR_ACCOUNT_SUSPENDED : CALENDAR_ACCOUNT_ACTIVE),
			SV_INT(now)};
		err = store_exec(c, "UPDATE calendar_accounts SET status = $2, updated_at = $3 "
				    "WHERE id = $1", q, N(q), NULL);
		if (suspend[i])
			down++;
		else
			up++;
	}
out:
	store_rows_free(rows);
	free(ids);
	free(suspend);
	if (suspended)
		*suspended = err ? 0 : down;
	if (reactivated)
		*reactivated = err ? 0 : up;
	return err;
}

enum cx_err store_calendar_provider_ready(struct store_conn *c, int64_t user_id,
					  const char *provider, bool *ready)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(provider),
				SV_TEXT(CALENDAR_ACCOUNT_ACTIVE)};
	int64_t n = 0;
	enum cx_err err = store_query_int(
		c,
		"SELECT COUNT(*) FROM calendars JOIN calendar_accounts ON calendar_accounts.id = "
		"calendars.account_id WHERE calendar_accounts.user_id = $1 AND "
		"calendar_accounts.provider = $2 AND calendar_accounts.status = $3 AND "
		"calendars.writable = 1",
		p, N(p), &n);
	*ready = !err && n > 0;
	return err;
}
