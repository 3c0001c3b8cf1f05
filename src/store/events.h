/* events.h: the store's queries for the events of a person's calendars as Google and Microsoft
 * report them (DESIGN §3, §4 "Delete" and sync), and for each calendar's sync cursor. The sync job
 * writes here page by page (an upsert by calendar and provider id, so a page stored twice leaves
 * one row); the API reads a person's events by time range. Every read for the API is keyed by the
 * owner's user id, so another person's event is CX_ENOTFOUND, never returned. Times are Unix
 * seconds; end_utc is exclusive.
 *
 * Ownership: structs filled here own their strings; release them with the matching _release() or
 * _free(); structs passed in are borrowed. Threads: as store.h, each thread with its own
 * connection. */
#ifndef CX_STORE_EVENTS_H
#define CX_STORE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define EVENTS_LIST_MAX 5000 /* events one range read returns at most (earliest first) */
#define EVENT_STATUS_CONFIRMED "confirmed"
#define EVENT_STATUS_TENTATIVE "tentative"
#define EVENT_STATUS_CANCELLED "cancelled"

struct store_meeting;

struct store_event {
	int64_t id;          /* ignored as input */
	int64_t calendar_id; /* ignored as input to the upsert (given separately) */
	int64_t user_id;     /* ignored as input */
	char provider[16];   /* output only: the account's provider, "google" or "microsoft" */
	char *external_id;   /* the provider's event id (an occurrence's instance id); required */
	char *title;         /* may be NULL */
	int64_t start_utc;
	int64_t end_utc;
	char *time_zone; /* IANA; may be NULL */
	bool all_day;
	char *description;             /* may be NULL */
	char *location;                /* may be NULL */
	char *etag;                    /* may be NULL */
	char *join_url;                /* a meeting link (Meet, Teams or Zoom); may be NULL */
	char *recurring_series_id;     /* occurrences: the series' provider id; may be NULL */
	char status[16];               /* EVENT_STATUS_* */
	bool deleted;                  /* output only */
	int64_t updated_at;            /* output only: when Calendox last wrote the row */
	char write_state[16];          /* output only: WRITE_* of store/meetings.h */
	char *write_error;             /* output only: why the last write failed; NULL */
	struct store_meeting *meeting; /* output only: its meeting record (meetings.h); NULL */
};
void store_event_release(struct store_event *e);
/* Releases every element and the array itself. */
void store_events_free(struct store_event *list, size_t n);

/* What a sync of one calendar needs: the calendar, its account and its cursor. */
struct store_sync_target {
	int64_t calendar_id;
	int64_t account_id;
	int64_t user_id;
	char provider[16];       /* "google" or "microsoft" */
	char account_status[24]; /* CALENDAR_ACCOUNT_* */
	bool selected;
	char *calendar_external_id;
	char *tokens;      /* sealed (kind "calendar_account", the account id); may be NULL */
	char *sync_token;  /* Google nextSyncToken / Graph deltaLink; NULL before the first round */
	int64_t synced_at; /* when the last round finished; 0 never */
	int64_t generation; /* rounds finished (or given up) so far */
};
void store_sync_target_release(struct store_sync_target *t);

/* CX_ENOTFOUND when the calendar does not exist (any more). Not keyed by a person: for jobs. */
enum cx_err store_sync_target_get(struct store_conn *c, int64_t calendar_id,
                                  struct store_sync_target *out);

/* Inserts the provider's event into the calendar, or updates the row with the same external id
 * (also bringing a deleted one back), unless Calendox has a write of that event pending (the
 * person's version wins until it is written; *id is then 0). generation marks the row as seen in
 * that sync round (see store_events_sweep). *id (may be NULL) gets the row id. */
enum cx_err store_event_upsert(struct store_conn *c, int64_t calendar_id, int64_t user_id,
                               const struct store_event *e, int64_t generation, int64_t now,
                               int64_t *id);
/* Marks deleted the calendar's event with this external id and, when it is a recurring series,
 * every occurrence of it. Nothing there is not an error. *changes (may be NULL) counts rows. */
enum cx_err store_event_mark_deleted(struct store_conn *c, int64_t calendar_id,
                                     const char *external_id, int64_t now, int64_t *changes);
/* After a full round: marks deleted the calendar's events that start in [window_start,
 * window_end) and were not seen in round generation (gone at the provider while no cursor told
 * us). */
enum cx_err store_events_sweep(struct store_conn *c, int64_t calendar_id, int64_t generation,
                               int64_t window_start, int64_t window_end, int64_t now,
                               int64_t *changes);

/* The person's events that overlap [start, end) and are not deleted (nor being deleted), in
 * selected calendars of active accounts, earliest first, at most EVENTS_LIST_MAX. Caller frees with
 * store_events_free().
 */
enum cx_err store_events_list(struct store_conn *c, int64_t user_id, int64_t start, int64_t end,
                              struct store_event **out, size_t *n);
/* One of the person's events (not deleted, or whose creation failed for good: its write_error
 * says why). CX_ENOTFOUND for another person's, a deleted one or one being deleted. */
enum cx_err store_event_get(struct store_conn *c, int64_t user_id, int64_t id,
                            struct store_event *out);

/* Records the end of a sync round: the new cursor (NULL clears it), synced_at = now and the next
 * generation. CX_ENOTFOUND when the calendar is gone. */
enum cx_err store_calendar_sync_finish(struct store_conn *c, int64_t calendar_id,
                                       const char *sync_token, int64_t now);
/* Drops the cursor (a 410: the next page starts a full round); keeps synced_at and generation. */
enum cx_err store_calendar_sync_reset(struct store_conn *c, int64_t calendar_id);
/* Gives up the current round (the job failed for good): the next generation, cursor kept. */
enum cx_err store_calendar_sync_abandon(struct store_conn *c, int64_t calendar_id);
/* Notes that a sync was asked for while a round was already queued or running. */
enum cx_err store_calendar_sync_request(struct store_conn *c, int64_t calendar_id);
/* Takes that note back when there was one: *requested, and the generation of the next round. */
enum cx_err store_calendar_sync_take_request(struct store_conn *c, int64_t calendar_id,
                                             bool *requested, int64_t *generation);

/* A calendar to sync and the generation its job's idempotency key names. */
struct store_sync_due {
	int64_t calendar_id;
	int64_t generation;
};
/* Selected calendars of active accounts; account_id > 0 limits them to that account, otherwise
 * only those never synced or last synced at or before synced_before. At most max, oldest sync
 * first. Caller frees *out with free(). */
enum cx_err store_calendars_sync_due(struct store_conn *c, int64_t account_id,
                                     int64_t synced_before, size_t max, struct store_sync_due **out,
                                     size_t *n);

/* --- for the store's own files (events.c, meetings.c) --- */
/* The columns store_event_read() reads (STORE_EVENT_NCOLS of them, the event's meeting record
 * last), from STORE_EVENT_FROM, which joins the calendar, its account and the event's meeting that
 * is not deleted. */
#define STORE_EVENT_COLUMNS                                                                        \
	"events.id, events.calendar_id, events.user_id, calendar_accounts.provider, "              \
	"events.external_id, events.title, events.start_utc, events.end_utc, events.time_zone, "   \
	"events.all_day, events.description, events.location, events.etag, events.join_url, "      \
	"events.recurring_series_id, events.status, events.deleted, events.updated_at, "           \
	"events.write_state, events.write_error, meetings.id, meetings.provider, "                 \
	"meetings.status, "                                                                        \
	"meetings.external_id, meetings.join_url, meetings.passcode, meetings.error_code, "        \
	"meetings.error_message, meetings.error_hint, meetings.connection_id"
#define STORE_EVENT_FROM                                                                           \
	" FROM events JOIN calendars ON calendars.id = events.calendar_id JOIN calendar_accounts " \
	"ON calendar_accounts.id = calendars.account_id LEFT JOIN meetings ON meetings.event_id "  \
	"= "                                                                                       \
	"events.id AND meetings.status <> 'deleted' "
#define STORE_EVENT_NCOLS 30
/* Reads the STORE_EVENT_COLUMNS of the current row into e (owned strings). */
void store_event_read(struct store_rows *rows, struct store_event *e);

#endif
