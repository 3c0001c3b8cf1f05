/* accounts.h: the store's queries for people and their access: users, subscriptions, sessions,
 * login throttling, activity and Idempotency-Key replays. Every function works on the caller's
 * connection (and inside its transaction when one is open). Times are Unix seconds. Every query that
 * reads or changes a person's data is keyed by their user id: tenant isolation lives here. */
#ifndef CX_STORE_ACCOUNTS_H
#define CX_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

struct store_user {
	int64_t id;
	char *email;         /* lower-cased */
	char *name;
	char *password_hash; /* Argon2id string */
	int64_t created_at;
};

struct store_subscription {
	char plan[16];          /* plan_name() */
	char status[16];        /* PLAN_STATUS_* */
	int64_t trial_ends_at;  /* 0 when none */
	int64_t current_period_end; /* 0 when none */
};

/* Inside a transaction: holds the person's row until it ends, so transactions that check and then
 * change what the person's plan allows (connecting a calendar account, changing the plan) run one
 * after the other even on PostgreSQL, whose writers otherwise run side by side. CX_ENOTFOUND for
 * an unknown person. */
enum cx_err store_user_lock(struct store_conn *c, int64_t user_id);
/* CX_ECONFLICT when the email is taken. */
enum cx_err store_user_create(struct store_conn *c, const char *email, const char *name,
			      const char *password_hash, int64_t now, int64_t *id);
/* CX_ENOTFOUND when absent. Caller releases with store_user_release(). */
enum cx_err store_user_by_email(struct store_conn *c, const char *email, struct store_user *out);
enum cx_err store_user_by_id(struct store_conn *c, int64_t id, struct store_user *out);
void store_user_release(struct store_user *u);

enum cx_err store_subscription_get(struct store_conn *c, int64_t user_id,
				   struct store_subscription *out);
/* Inserts or replaces the user's subscription. */
enum cx_err store_subscription_set(struct store_conn *c, int64_t user_id,
				   const struct store_subscription *s, int64_t now);
/* Moves every trial that ended by now to Free (status trial_ended); calls fn for each user moved,
 * inside the caller's transaction. *moved gets the count. */
enum cx_err store_trials_expire(struct store_conn *c, int64_t now,
				void (*fn)(struct store_conn *c, int64_t user_id, void *arg), void *arg,
				int *moved);

enum cx_err store_session_create(struct store_conn *c, const char *id_hash, int64_t user_id,
				 const char *csrf_token, int64_t now, int64_t expires_at);
/* CX_ENOTFOUND when absent or expired (an expired one is deleted). csrf gets a copy (caller frees). */
enum cx_err store_session_get(struct store_conn *c, const char *id_hash, int64_t now,
			      int64_t *user_id, char **csrf_token);
enum cx_err store_session_delete(struct store_conn *c, const char *id_hash);
enum cx_err store_sessions_delete_expired(struct store_conn *c, int64_t now, int64_t *deleted);

/* Login throttling by key ("email:…", "ip:…"). *locked_until > now means refuse. */
enum cx_err store_login_locked_until(struct store_conn *c, const char *key, int64_t *locked_until);
/* Counts a failure within window_s; reaching max_failures locks the key for lock_s. */
enum cx_err store_login_failure(struct store_conn *c, const char *key, int64_t now, int max_failures,
				int64_t window_s, int64_t lock_s);
enum cx_err store_login_reset(struct store_conn *c, const char *key);

enum cx_err store_activity_add(struct store_conn *c, int64_t user_id, int64_t now, const char *kind,
			       const char *detail);
struct store_activity {
	int64_t at;
	const char *kind;   /* valid during the callback */
	const char *detail; /* valid during the callback */
};
/* Newest first, at most limit entries. */
enum cx_err store_activity_list(struct store_conn *c, int64_t user_id, int limit,
				void (*fn)(const struct store_activity *a, void *arg), void *arg);

#endif
