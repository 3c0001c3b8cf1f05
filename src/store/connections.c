#include "store/connections.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/banned.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum cx_err store_oauth_state_create(struct store_conn *c, const char *state_hash, int64_t user_id,
				     const char *session_hash, const char *provider,
				     const char *code_verifier, int64_t now, int64_t expires_at)
{
	struct store_val p[] = {SV_TEXT(state_hash), SV_INT(user_id),   SV_TEXT(session_hash),
				SV_TEXT(provider),   SV_TEXT(code_verifier), SV_INT(now),
				SV_INT(expires_at)};
	return store_exec(c,
			  "INSERT INTO oauth_states (state_hash, user_id, session_hash, provider, "
			  "code_verifier, created_at, expires_at, used) "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
			  p, N(p), NULL);
}

enum cx_err store_oauth_state_take(struct store_conn *c, const char *state_hash,
				   const char *session_hash, const char *provider, int64_t now,
				   int64_t *user_id, char **code_verifier)
{
	/* One statement marks it used and returns it, so two callbacks racing with the same state
	 * cannot both succeed. */
	struct store_val p[] = {SV_TEXT(state_hash), SV_TEXT(session_hash), SV_TEXT(provider),
				SV_INT(now)};
	struct store_rows *rows;
	enum cx_err err = store_query(c,
				      "UPDATE oauth_states SET used = 1 WHERE state_hash = $1 "
				      "AND session_hash = $2 AND provider = $3 AND used = 0 "
				      "AND expires_at > $4 RETURNING user_id, code_verifier",
				      p, N(p), &rows);
	if (err)
		return err;
	if (store_rows_next(rows)) {
		*user_id = store_col_int(rows, 0);
		*code_verifier = store_col_text_dup(rows, 1);
	} else {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_oauth_states_delete_expired(struct store_conn *c, int64_t now)
{
	struct store_val p[] = {SV_INT(now)};
	return store_exec(c, "DELETE FROM oauth_states WHERE expires_at <= $1 OR used = 1", p, N(p),
			  NULL);
}

void store_connection_release(struct store_connection *conn)
{
	free(conn->external_user_id);
	free(conn->external_account_id);
	free(conn->external_email);
	free(conn->tokens);
	free(conn->scopes);
	free(conn->last_error);
	memset(conn, 0, sizeof(*conn));
}

/* The columns every lookup reads, in struct store_connection's order. */
#define CONNECTION_COLUMNS                                                                         \
	"SELECT id, user_id, app, status, external_user_id, external_account_id, external_email, " \
	"tokens, token_expires_at, token_version, scopes, connected_at, last_error "              \
	"FROM app_connections "

/* Runs a lookup expected to give at most one row; CX_ENOTFOUND when it gives none. */
static enum cx_err connection_query(struct store_conn *c, const char *sql,
				    const struct store_val *p, size_t n,
				    struct store_connection *out)
{
	struct store_rows *rows;
	enum cx_err err = store_query(c, sql, p, n, &rows);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	if (store_rows_next(rows)) {
		out->id = store_col_int(rows, 0);
		out->user_id = store_col_int(rows, 1);
		snprintf(out->app, sizeof(out->app), "%s", store_col_text(rows, 2));
		snprintf(out->status, sizeof(out->status), "%s", store_col_text(rows, 3));
		out->external_user_id = store_col_text_dup(rows, 4);
		out->external_account_id = store_col_text_dup(rows, 5);
		out->external_email = store_col_text_dup(rows, 6);
		out->tokens = store_col_text_dup(rows, 7);
		out->token_expires_at = store_col_int(rows, 8);
		out->token_version = store_col_int(rows, 9);
		out->scopes = store_col_text_dup(rows, 10);
		out->connected_at = store_col_int(rows, 11);
		out->last_error = store_col_text_dup(rows, 12);
	} else {
		err = store_rows_error(rows);
		if (!err)
			err = CX_ENOTFOUND;
	}
	store_rows_free(rows);
	return err;
}

enum cx_err store_connection_get(struct store_conn *c, int64_t user_id, const char *app,
				 struct store_connection *out)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(app)};
	return connection_query(c, CONNECTION_COLUMNS "WHERE user_id = $1 AND app = $2", p, N(p),
				out);
}

enum cx_err store_connection_reserve(struct store_conn *c, int64_t user_id, const char *app,
				     int64_t now, int64_t *id)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(app), SV_TEXT(CONNECTION_DISCONNECTED),
				SV_INT(now)};
	enum cx_err err = store_exec(c,
				     "INSERT INTO app_connections (user_id, app, status, updated_at) "
				     "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, app) DO NOTHING",
				     p, N(p), NULL);
	if (err)
		return err;
	return store_query_int(c, "SELECT id FROM app_connections WHERE user_id = $1 AND app = $2",
			       p, 2, id);
}

enum cx_err store_connection_connect(struct store_conn *c, int64_t id, int64_t user_id,
				     const char *external_user_id,
				     const char *external_account_id, const char *external_email,
				     const char *sealed_tokens, int64_t token_expires_at,
				     const char *scopes, int64_t now)
{
	struct store_val p[] = {
		SV_INT(id),
		SV_INT(user_id),
		SV_TEXT(CONNECTION_CONNECTED),
		SV_TEXT(external_user_id),
		SV_TEXT(external_account_id),
		SV_TEXT(external_email),
		SV_TEXT(sealed_tokens),
		SV_INT(token_expires_at),
		SV_TEXT(scopes ? scopes : ""),
		SV_INT(now),
	};
	int64_t changed = 0;
	enum cx_err err = store_exec(
		c,
		"UPDATE app_connections SET status = $3, external_user_id = $4, "
		"external_account_id = $5, external_email = $6, tokens = $7, token_expires_at = $8, "
		"token_version = token_version + 1, scopes = $9, connected_at = $10, "
		"updated_at = $10, last_error = NULL WHERE id = $1 AND user_id = $2",
		p, N(p), &changed);
	if (!err && changed != 1)
		err = CX_ENOTFOUND;
	return err;
}

enum cx_err store_connection_disconnect(struct store_conn *c, int64_t user_id, const char *app,
					int64_t now, bool *changed)
{
	struct store_val p[] = {SV_INT(user_id), SV_TEXT(app), SV_TEXT(CONNECTION_DISCONNECTED),
				SV_INT(now)};
	int64_t n = 0;
	enum cx_err err = store_exec(c,
				     "UPDATE app_connections SET status = $3, tokens = NULL, "
				     "token_expires_at = 0, token_version = token_version + 1, "
				     "external_user_id = NULL, external_account_id = NULL, "
				     "external_email = NULL, scopes = '', last_error = NULL, "
				     "updated_at = $4 WHERE user_id = $1 AND app = $2 AND status <> $3",
				     p, N(p), &n);
	if (changed)
		*changed = !err && n > 0;
	return err;
}

enum cx_err store_connection_users_by_external(struct store_conn *c, const char *app,
					       const char *external_user_id, int64_t *user_ids,
					       int max, int *n)
{
	struct store_val p[] = {SV_TEXT(app), SV_TEXT(external_user_id),
				SV_TEXT(CONNECTION_DISCONNECTED)};
	struct store_rows *rows;
	*n = 0;
	enum cx_err err = store_query(c,
				      "SELECT user_id FROM app_connections WHERE app = $1 AND "
				      "external_user_id = $2 AND status <> $3 ORDER BY user_id",
				      p, N(p), &rows);
	if (err)
		return err;
	while (*n < max && store_rows_next(rows))
		user_ids[(*n)++] = store_col_int(rows, 0);
	err = store_rows_error(rows);
	store_rows_free(rows);
	return err;
}

enum cx_err store_connection_get_by_id(struct store_conn *c, int64_t user_id, int64_t id,
				       struct store_connection *out)
{
	struct store_val p[] = {SV_INT(id), SV_INT(user_id)};
	return connection_query(c, CONNECTION_COLUMNS "WHERE id = $1 AND user_id = $2", p, N(p),
				out);
}
