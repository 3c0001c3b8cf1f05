/* push.h: the store's queries for push registrations (DESIGN §4 "Delete"; 0007_push.sql): a
 * calendar's Google push channels and Graph change-notification subscriptions, as the watch jobs
 * (jobs/push.c) create, renew and stop them and the webhooks (api/webhooks_calendar.c) look them
 * up. Only the SHA-256 (hex) of a channel token / clientState is kept; comparing what arrives is
 * the caller's work (constant time). Not keyed by a person: for jobs and webhooks. Times are Unix
 * seconds.
 *
 * Ownership: structs filled here own their strings; release them with store_push_release() or
 * store_pushes_free(). Threads: as store.h, each thread with its own connection. */
#ifndef CX_STORE_PUSH_H
#define CX_STORE_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define PUSH_PENDING "pending" /* the provider has not answered yet */
#define PUSH_ACTIVE "active"
#define PUSH_PER_CALENDAR_MAX 16 /* rows read per calendar at most (normally one or two) */
/* A registration that expires within this is renewed (Graph) or replaced (Google). */
#define PUSH_RENEW_MARGIN_S (24 * 3600)

struct store_push {
	int64_t id;
	int64_t calendar_id;
	int64_t account_id;
	int64_t user_id;
	char provider[16]; /* "google" or "microsoft" */
	int64_t slot;
	char *channel_id;  /* Google channel id / Graph subscription id */
	char *resource_id; /* Google resourceId; NULL for Graph and while pending */
	char secret_hash[65];
	char state[16]; /* PUSH_PENDING or PUSH_ACTIVE */
	int64_t job_id;
	int64_t expires_at; /* 0 while pending */
	int64_t created_at;
};
void store_push_release(struct store_push *p);
/* Releases every element and the array itself. */
void store_pushes_free(struct store_push *list, size_t n);

/* A new pending row (expires_at 0). CX_ECONFLICT when the calendar already has this slot (another
 * watch job got there first) or the channel id is taken; the caller's transaction stays usable.
 * *id (may be NULL) gets the row id. */
enum cx_err store_push_insert(struct store_conn *c, const struct store_push *p, int64_t *id);
/* The provider's answer: the channel or subscription id, Google's resourceId (may be NULL) and the
 * expiry granted; the row becomes active. CX_ENOTFOUND when the row is gone (calendar removed). */
enum cx_err store_push_activate(struct store_conn *c, int64_t id, const char *channel_id,
                                const char *resource_id, int64_t expires_at);
/* A Graph renewal: the new expiry. CX_ENOTFOUND when the row is gone. */
enum cx_err store_push_set_expiry(struct store_conn *c, int64_t id, int64_t expires_at);
/* Deleting a row that is already gone is not an error. */
enum cx_err store_push_delete(struct store_conn *c, int64_t id);

/* CX_ENOTFOUND when there is none. */
enum cx_err store_push_get(struct store_conn *c, int64_t id, struct store_push *out);
/* The registration a notification names. CX_ENOTFOUND when there is none. */
enum cx_err store_push_find(struct store_conn *c, const char *provider, const char *channel_id,
                            struct store_push *out);
/* A calendar's registrations, by slot (at most PUSH_PER_CALENDAR_MAX), or an account's (at most
 * max, by calendar and slot). Caller frees with store_pushes_free(). */
enum cx_err store_push_list_calendar(struct store_conn *c, int64_t calendar_id,
                                     struct store_push **out, size_t *n);
enum cx_err store_push_list_account(struct store_conn *c, int64_t account_id, size_t max,
                                    struct store_push **out, size_t *n);

/* Selected calendars of active accounts that need a watch: no active registration that expires
 * after expiring_before and no pending one created after pending_after. At most max calendar ids,
 * into out (caller frees with free()). */
enum cx_err store_push_calendars_due(struct store_conn *c, int64_t expiring_before,
                                     int64_t pending_after, size_t max, int64_t **out, size_t *n);
/* Registrations that must stop: their calendar is not selected any more or their account is not
 * active (suspended, needs_reconnect). At most max. Caller frees with store_pushes_free(). */
enum cx_err store_push_stale(struct store_conn *c, size_t max, struct store_push **out, size_t *n);
/* Deletes pending rows created at or before created_before (their watch job died between asking
 * the provider and recording the answer; such a channel simply expires). *n (may be NULL) counts.
 */
enum cx_err store_push_delete_pending(struct store_conn *c, int64_t created_before, int64_t *n);

#endif
