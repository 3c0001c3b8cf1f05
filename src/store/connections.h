/* connections.h: the store's queries for OAuth states and app connections (DESIGN §3, §4).
 * Every query on a connection is keyed by the owner's user id, except the lookups by the provider's
 * user id that the deauthorization webhook needs. Tokens arrive here already sealed: the store never
 * sees them in the clear. Times are Unix seconds. */
#ifndef CX_STORE_CONNECTIONS_H
#define CX_STORE_CONNECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define CONNECTION_CONNECTED "connected"
#define CONNECTION_NEEDS_RECONNECT "needs_reconnect"
#define CONNECTION_DISCONNECTED "disconnected"

/* --- OAuth states: single use, bound to the session that started them --- */
enum cx_err store_oauth_state_create(struct store_conn *c, const char *state_hash, int64_t user_id,
				     const char *session_hash, const char *provider,
				     const char *code_verifier, int64_t now, int64_t expires_at);
/* Takes the state for good: it must exist, belong to session_hash and provider, be unused and
 * unexpired. CX_ENOTFOUND otherwise (the caller cannot tell which, and need not: every case is
 * "Authorization failed"). *user_id and *code_verifier (caller frees) on success. */
enum cx_err store_oauth_state_take(struct store_conn *c, const char *state_hash,
				   const char *session_hash, const char *provider, int64_t now,
				   int64_t *user_id, char **code_verifier);
enum cx_err store_oauth_states_delete_expired(struct store_conn *c, int64_t now);

/* --- app connections --- */
struct store_connection {
	int64_t id;
	int64_t user_id;
	char app[16];
	char status[24];
	char *external_user_id;    /* may be NULL */
	char *external_account_id; /* may be NULL */
	char *external_email;      /* may be NULL */
	char *tokens;              /* sealed; NULL when disconnected */
	int64_t token_expires_at;
	int64_t token_version;
	char *scopes;              /* granted, space-separated */
	int64_t connected_at;      /* 0 when never */
	char *last_error;          /* may be NULL */
};
void store_connection_release(struct store_connection *conn);

/* CX_ENOTFOUND when the person never connected the app. */
enum cx_err store_connection_get(struct store_conn *c, int64_t user_id, const char *app,
				 struct store_connection *out);
/* Makes (or keeps) the row for user_id/app and returns its id, so tokens can be sealed with the id
 * as associated data before store_connection_connect(). */
enum cx_err store_connection_reserve(struct store_conn *c, int64_t user_id, const char *app,
				     int64_t now, int64_t *id);
/* Records a successful authorization: identity, sealed tokens, scopes, status connected. */
enum cx_err store_connection_connect(struct store_conn *c, int64_t id, int64_t user_id,
				     const char *external_user_id,
				     const char *external_account_id, const char *external_email,
				     const char *sealed_tokens, int64_t token_expires_at,
				     const char *scopes, int64_t now);
/* Forgets tokens and the provider's profile data and marks the row disconnected. *changed tells
 * whether it was connected (or needed reconnecting) before. */
enum cx_err store_connection_disconnect(struct store_conn *c, int64_t user_id, const char *app,
					int64_t now, bool *changed);
/* The owners of app connections with this provider user id (a deauthorization names the user). */
enum cx_err store_connection_users_by_external(struct store_conn *c, const char *app,
					       const char *external_user_id, int64_t *user_ids,
					       int max, int *n);

/* --- token refresh: the lease is in store/token_lease.h --- */
/* The connection by its row id, for the person user_id: CX_ENOTFOUND otherwise. */
enum cx_err store_connection_get_by_id(struct store_conn *c, int64_t user_id, int64_t id,
				       struct store_connection *out);

#endif
