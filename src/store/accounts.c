#include "store/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum cx_err store_user_lock(struct store_conn *c, int64_t user_id)
{
	struct store_val p[] = {SV_INT(user_id)};
	int64_t changed = 0;
	enum cx_err err = store_exec(c, "UPDATE users SET id = id WHERE id = $1", p, 1, &changed);
	if (!err && changed == 0)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_user_create(struct store_conn *c, const char *email, const char *name,
			      const char *password_hash, int64_t now, int64_t *id)
{
	struct store_val p[] = {SV_TEXT(email), SV_TEXT(name), SV_TEXT(password_hash), SV_INT(now)};
	return store_query_int(c,
			       "INSERT INTO users (email, name, password_hash, created_at) "
			       "VALUES ($1, $2, $3, $4) RETURNING id",
			       p, N(p), id);
}

static enum cx_err user_query(struct store_conn *c, const char *sql, const struct store_val *p,
			      struct store_user *out)
{
	struct store_rows *rows;
	enum cx_err err = store_query(c, sql, p, 1, &rows);
	if (err)
		return err;
	if (store_rows_next(rows)) {
		out->id = store_col_int(rows, 0);
		out->email = store_col_text_dup(rows, 1);
		out->name = store_col_text_dup(rows, 2);
		out->password_hash = store_col_text_dup(rows, 3);
		out->created_at = store_col_int(rows, 4);
	} else {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_user_by_email(struct store_conn *c, const char *email, struct store_user *out)
{
	struct store_val p[] = {SV_TEXT(email)};
	return user_query(c,
			  "SELECT id, email, name, password_hash, created_at FROM users WHERE email = $1",
			  p, out);
}

enum cx_err store_user_by_id(struct store_conn *c, int64_t id, struct store_user *out)
{
	struct store_val p[] = {SV_INT(id)};
	return user_query(c,
			  "SELECT id, email, name, password_hash, created_at FROM users WHERE id = $1",
			  p, out);
}

void store_user_release(struct store_user *u)
{
	free(u->email);
	free(u->name);
	free(u->password_hash);
	memset(u, 0, sizeof(*u));
}

enum cx_err store_subscription_get(struct store_conn *c, int64_t user_id,
				   struct store_subscription *out)
{
	struct store_val p[] = {SV_INT(user_id)};
	struct store_rows *rows;
	enum cx_err err = store_query(c,
				      "SELECT plan, status, trial_ends_at, current_period_end "
				      "FROM subscriptions WHERE user_id = $1",
				      p, N(p), &rows);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	if (store_rows_next(rows)) {
		snprintf(out->plan, sizeof(out->plan), "%s", store_col_text(rows, 0));
		snprintf(out->status, sizeof(out->status), "%s", store_col_text(rows, 1));
		out->trial_ends_at = store_col_int(rows, 2);
		out->current_period_end = store_col_int(rows, 3);
	} else {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_subscription_set(struct store_conn *c, int64_t user_id,
				   const struct store_subscription *s, int64_t now)
{
	struct store_val p[] = {
		SV_INT(user_id),
		SV_TEXT(s->plan),
		SV_TEXT(s->status),
		s->trial_ends_at ? SV_INT(s->trial_ends_at) : SV_NULL,
		s->current_period_end ? SV_INT(s->current_period_end) : SV_NULL,
		SV_INT(now),
	};
	return store_exec(c,
			  "INSERT INTO subscriptions (user_id, plan, status, trial_ends_at, "
			  "current_period_end, updated_at) VALUES ($1, $2, $3, $4, $5, $6) "
			  "ON CONFLICT (user_id) DO UPDATE SET plan = excluded.plan, "
			  "status = excluded.status, trial_ends_at = excluded.trial_ends_at, "
			  "current_period_end = excluded.current_period_end, "
			  "updated_at = excluded.updated_at",
			  p, N(p), NULL);
}

enum cx_err store_trials_expire(struct store_conn *c, int64_t now,
				void (*fn)(struct store_conn *c, int64_t user_id, void *arg), void *arg,
				int *moved)
{
	struct store_val p[] = {SV_INT(now)};
	struct store_rows *rows;
	int64_t ids[256];
	size_t n = 0;
	*moved = 0;
	/* In batches, so a large backlog never holds one huge result in memory. */
	for (;;) {
		enum cx_err err = store_query(c,
					      "UPDATE subscriptions SET plan = 'free', "
					      "status = 'trial_ended', updated_at = $1 "
					      "WHERE user_id IN (SELECT user_id FROM subscriptions "
					      "WHERE plan = 'trial' AND trial_ends_at <= $1 LIMIT 256) "
					      "RETURNING user_id",
					      p, N(p), &rows);
		if (err)
			return err;
		n = 0;
		while (n < N(ids) && store_rows_next(rows))
			ids[n++] = store_col_int(rows, 0);
		err = store_rows_error(rows);
		store_rows_free(rows);
		if (err)
			return err;
		for (size_t i = 0; i < n; i++) {
			if (fn)
				fn(c, ids[i], arg);
		}
		*moved += (int)n;
		if (n < N(ids))
			return CX_OK;
	}
}

enum cx_err store_session_create(struct store_conn *c, const char *id_hash, int64_t user_id,
				 const char *csrf_token, int64_t now, int64_t expires_at)
{
	struct store_val p[] = {SV_TEXT(id_hash), SV_INT(user_id), SV_TEXT(csrf_token), SV_INT(now),
				SV_INT(expires_at)};
	return store_exec(c,
			  "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) "
			  "VALUES ($1, $2, $3, $4, $5)",
			  p, N(p), NULL);
}

enum cx_err store_session_get(struct store_conn *c, const char *id_hash, int64_t now,
			      int64_t *user_id, char **csrf_token)
{
	struct store_val p[] = {SV_TEXT(id_hash)};
	struct store_rows *rows;
	enum cx_err err = store_query(
		c, "SELECT user_id, csrf_token, expires_at FROM sessions WHERE id_hash = $1", p,
		N(p), &rows);
	if (err)
		return err;
	int64_t expires_at = 0;
	if (store_rows_next(rows)) {
		*user_id = store_col_int(rows, 0);
		*csrf_token = store_col_text_dup(rows, 1);
		expires_at = store_col_int(rows, 2);
	} else {
		err = store_rows_error(rows);
		store_rows_free(rows);
		return err ? err : CX_ENOTFOUND;
	}
	store_rows_free(rows);
	if (expires_at <= now) {
		free(*csrf_token);
		*csrf_token = NULL;
		store_session_delete(c, id_hash);
		return CX_ENOTFOUND;
	}
	return CX_OK;
}

enum cx_err store_session_delete(struct store_conn *c, const char *id_hash)
{
	struct store_val p[] = {SV_TEXT(id_hash)};
	return store_exec(c, "DELETE FROM sessions WHERE id_hash = $1", p, N(p), NULL);
}

enum cx_err store_sessions_delete_expired(struct store_conn *c, int64_t now, int64_t *deleted)
{
	struct store_val p[] = {SV_INT(now)};
	return store_exec(c, "DELETE FROM sessions WHERE expires_at <= $1", p, N(p), deleted);
}

enum cx_err store_login_locked_until(struct store_conn *c, const char *key, int64_t *locked_until)
{
	struct store_val p[] = {SV_TEXT(key)};
	enum cx_err err = store_query_int(
		c, "SELECT locked_until FROM login_attempts WHERE key = $1", p, N(p), locked_until);
	if (err == CX_ENOTFOUND) {
		*locked_until = 0;
		return CX_OK;
	}
	return err;
}

enum cx_err store_login_failure(struct store_conn *c, const char *key, int64_t now, int max_failures,
				int64_t window_s, int64_t lock_s)
{
	/* A failure outside the current window starts a new one; the failure that reaches the maximum
	 * sets the lock and starts counting again, so a locked key stays locked for lock_s only. */
	struct store_val p[] = {SV_TEXT(key), SV_INT(now), SV_INT(now - window_s),
				SV_INT(max_failures), SV_INT(now + lock_s)};
	return store_exec(
		c,
		"INSERT INTO login_attempts (key, failures, window_start, locked_until) "
		"VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 ELSE 0 END) "
		"ON CONFLICT (key) DO UPDATE SET "
		"failures = CASE WHEN login_attempts.window_start < $3 THEN 1 "
		"  WHEN login_attempts.failures + 1 >= $4 THEN 0 "
		"  ELSE login_attempts.failures + 1 END, "
		"locked_until = CASE WHEN login_attempts.window_start >= $3 AND "
		"  login_attempts.failures + 1 >= $4 THEN $5 ELSE login_attempts.locked_until END, "
		"window_start = CASE WHEN login_attempts.window_start < $3 THEN $2 "
		"  ELSE login_attempts.window_start END",
		p, N(p), NULL);
}

enum cx_err store_login_reset(struct store_conn *c, const char *key)
{
	struct store_val p[] = {SV_TEXT(key)};
	return store_exec(c, "DELETE FROM login_attempts WHERE key = $1", p, N(p), NULL);
}

enum cx_err store_activity_add(struct store_conn *c, int64_t user_id, int64_t now, const char *kind,
			       const char *detail)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(now), SV_TEXT(kind), SV_TEXT(detail)};
	return store_exec(c,
			  "INSERT INTO activity (user_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
			  p, N(p), NULL);
}

enum cx_err store_activity_list(struct store_conn *c, int64_t user_id, int limit,
				void (*fn)(const struct store_activity *a, void *arg), void *arg)
{
	struct store_val p[] = {SV_INT(user_id), SV_INT(limit)};
	struct store_rows *rows;
	enum cx_err err = store_query(c,
				      "SELECT at, kind, detail FROM activity WHERE user_id = $1 "
				      "ORDER BY at DESC, id DESC LIMIT $2",
				      p, N(p), &rows);
	if (err)
		return err;
	while (store_rows_next(rows)) {
		struct store_activity a = {
			.at = store_col_int(rows, 0),
			.kind = store_col_text(rows, 1),
			.detail = store_col_text(rows, 2),
		};
		fn(&a, arg);
	}
	err = store_rows_error(rows);
	store_rows_free(rows);
	return err;
}
