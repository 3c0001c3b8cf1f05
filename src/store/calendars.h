/* calendars.h: the store's queries for calendar accounts (a person's connected Google or Microsoft
 * account) and their calendars (DESIGN §3, §4 "Connect", "Plans"). Every query is keyed by the
 * owner's user id, so an account or calendar of another person is CX_ENOTFOUND, never touched.
 * Tokens arrive here already sealed (kind "calendar_account", the row id as associated data): the
 * store never sees them in the clear. Times are Unix seconds.
 *
 * Ownership: structs filled here own their strings; release them with the matching _release() or
 * _free(). Threads: as store.h, each thread with its own connection. */
#ifndef CX_STORE_CALENDARS_H
#define CX_STORE_CALENDARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define CALENDAR_ACCOUNT_ACTIVE "active"
#define CALENDAR_ACCOUNT_SUSPENDED "suspended" /* the plan allows no calendars */
#define CALENDAR_ACCOUNT_NEEDS_RECONNECT "needs_reconnect"

#define CALENDARS_PER_ACCOUNT_MAX 500 /* calendars kept per account; more are not imported */

struct store_calendar_account {
	int64_t id;
	int64_t user_id;
	char provider[16];    /* "google" or "microsoft" */
	char status[24];      /* CALENDAR_ACCOUNT_* */
	char *external_id;    /* the provider's stable id for the account */
	char *external_email; /* may be NULL */
	char *tokens;         /* sealed; may be NULL */
	int64_t token_expires_at;
	int64_t token_version;
	char *scopes; /* granted, space-separated ("" when unknown) */
	char *last_error; /* may be NULL */
	int64_t created_at;
	int64_t updated_at;
};
void store_calendar_account_release(struct store_calendar_account *a);
/* Releases every element and the array itself. */
void store_calendar_accounts_free(struct store_calendar_account *list, size_t n);

struct store_calendar {
	int64_t id;         /* 0 for input to store_calendars_merge() */
	int64_t account_id; /* ignored as input */
	char *external_id;
	char *name;
	bool primary;
	bool writable;
	char *color;   /* "#rrggbb" or NULL */
	bool selected; /* ignored as input: merging keeps the choice; new ones start selected */
};
void store_calendar_release(struct store_calendar *cal);
void store_calendars_free(struct store_calendar *list, size_t n);

/* How many calendar accounts the person has; provider NULL counts every provider. */
enum cx_err store_calendar_accounts_count(struct store_conn *c, int64_t user_id,
					  const char *provider, int64_t *n);
/* The id of the person's account with this provider id: CX_ENOTFOUND when there is none. */
enum cx_err store_calendar_account_find(struct store_conn *c, int64_t user_id,
					const char *provider, const char *external_id,
					int64_t *id);
/* Makes (or keeps) the row for user_id/provider/external_id and returns its id, so tokens can be
 * sealed with it before store_calendar_account_connect(). *created (may be NULL) says whether the
 * row is new. A new row starts needs_reconnect and without tokens until connect fills it. */
enum cx_err store_calendar_account_reserve(struct store_conn *c, int64_t user_id,
					   const char *provider, const char *external_id,
					   int64_t now, int64_t *id, bool *created);
/* Records a successful authorization on the row: email, sealed tokens, scopes, the status (active,
 * or suspended when the plan allows no calendars) and no last error. */
enum cx_err store_calendar_account_connect(struct store_conn *c, int64_t id, int64_t user_id,
					   const char *external_email, const char *sealed_tokens,
					   int64_t token_expires_at, const char *scopes,
					   const char *status, int64_t now);
/* CX_ENOTFOUND when the account does not exist or is not the person's. */
enum cx_err store_calendar_account_get(struct store_conn *c, int64_t user_id, int64_t id,
				       struct store_calendar_account *out);
/* The person's accounts, oldest first. Caller frees with store_calendar_accounts_free(). */
enum cx_err store_calendar_accounts_list(struct store_conn *c, int64_t user_id,
					 struct store_calendar_account **out, size_t *n);
/* Deletes the account and (by cascade) its calendars. CX_ENOTFOUND as for _get. */
enum cx_err store_calendar_account_delete(struct store_conn *c, int64_t user_id, int64_t id);

/* Merges the provider's calendar list into the account: calendars already known (by external id)
 * get the new name, primary, writable and colour but keep their selection; new ones are added,
 * selected; calendars the provider no longer lists are removed. At most CALENDARS_PER_ACCOUNT_MAX
 * of cals are kept. CX_ENOTFOUND when the account is not the person's. */
enum cx_err store_calendars_merge(struct store_conn *c, int64_t user_id, int64_t account_id,
				  const struct store_calendar *cals, size_t n);
/* Every calendar of the person's accounts, by account, primary first, then by name. Caller frees
 * with store_calendars_free(). */
enum cx_err store_calendars_list(struct store_conn *c, int64_t user_id,
				 struct store_calendar **out, size_t *n);
/* CX_ENOTFOUND when the calendar does not exist or is not the person's. */
enum cx_err store_calendar_set_selected(struct store_conn *c, int64_t user_id, int64_t calendar_id,
					bool selected);

/* Plan changes (DESIGN §4 "Plans"): suspends the person's active accounts (suspend = true) or
 * reactivates the suspended ones. Accounts that need reconnecting stay so. *changed (may be NULL)
 * gets the number of accounts moved. */
enum cx_err store_calendar_accounts_suspend(struct store_conn *c, int64_t user_id, bool suspend,
					    int64_t now, int64_t *changed);
/* Fits the person's accounts to a plan that allows limit of them (< 0: any number, 0: none): the
 * oldest limit accounts that are suspended become active again, and active ones beyond them are
 * suspended (newest last in, first out). Accounts that need reconnecting keep that status but hold
 * their place. *suspended and *reactivated (may be NULL) count the changes. */
enum cx_err store_calendar_accounts_fit(struct store_conn *c, int64_t user_id, int limit,
					int64_t now, int64_t *suspended, int64_t *reactivated);
/* Whether the person has an active account of provider with at least one writable calendar (what
 * Google Meet and Teams links need). */
enum cx_err store_calendar_provider_ready(struct store_conn *c, int64_t user_id,
					  const char *provider, bool *ready);

/* The token refresh lease of calendar accounts is in store/token_lease.h. */

#endif
