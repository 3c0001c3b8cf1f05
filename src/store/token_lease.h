/* token_lease.h: the token refresh lease (DESIGN §4 "Token refresh"; jobs/tokens.c drives it), the
 * same on the two tables that hold provider tokens: app_connections (Zoom) and calendar_accounts.
 * The lease is a pair of columns (refresh_lock_until_ms, refresh_lock_owner), taken with a
 * conditional UPDATE so that one refresher across threads and instances holds it, and released by
 * the statement that stores the new tokens. Times are Unix milliseconds for the lease and Unix
 * seconds for the rest. Every function works on the caller's connection. */
#ifndef CX_STORE_TOKEN_LEASE_H
#define CX_STORE_TOKEN_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

enum store_token_table {
	STORE_TOKENS_APP_CONNECTION,   /* app_connections: live while "connected" */
	STORE_TOKENS_CALENDAR_ACCOUNT, /* calendar_accounts: live while "active" */
};

/* Takes the lease until until_ms for owner when it is free or expired (at now_ms), the row still
 * has token_version and is live. *taken says whether it did. */
enum cx_err store_token_lease_take(struct store_conn *c, enum store_token_table table, int64_t id,
				   int64_t token_version, const char *owner, int64_t now_ms,
				   int64_t until_ms, bool *taken);
/* Stores refreshed sealed tokens and their expiry, bumps token_version and releases the lease, in
 * one statement, only while owner holds the lease. *stored false: the lease was lost. */
enum cx_err store_token_lease_store(struct store_conn *c, enum store_token_table table, int64_t id,
				    const char *owner, const char *sealed_tokens,
				    int64_t token_expires_at, int64_t now, bool *stored);
/* Releases owner's lease, if it still holds it, leaving the tokens as they are. */
enum cx_err store_token_lease_release(struct store_conn *c, enum store_token_table table,
				      int64_t id, const char *owner);
/* The grant is dead: marks the row needs_reconnect with last_error and releases owner's lease.
 * *marked false when owner no longer held the lease (nothing changed). */
enum cx_err store_token_lease_broken(struct store_conn *c, enum store_token_table table,
				     int64_t id, const char *owner, const char *last_error,
				     int64_t now, bool *marked);

#endif
