/* meetings.h: the store's side of events Calendox writes to Google or Outlook and of their
 * meetings (DESIGN §3, §4 "Create an event with a meeting", "Edit", "Delete"; migration
 * 0008_event_writes). The API records what the person asked for (a new event, a change, a deletion,
 * a meeting added or removed) in one transaction with the job that carries it out; the event.write
 * job reads the whole picture back with store_write_target_get() and records each provider answer
 * as soon as it arrives, so a job taken over after a crash continues from the store alone.
 *
 * Ownership: structs filled here own their strings (release with the matching _release()); structs
 * and strings passed in are borrowed. Threads: as store.h, each thread with its own connection. */
#ifndef CX_STORE_MEETINGS_H
#define CX_STORE_MEETINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/events.h"
#include "store/store.h"

#define MEETING_PENDING "pending"
#define MEETING_READY "ready"
#define MEETING_FAILED "failed"
#define MEETING_DELETING "deleting"
#define MEETING_DELETED "deleted"

#define WRITE_NONE "none"
#define WRITE_PENDING "pending"
#define WRITE_FAILED "failed"

struct store_meeting {
	int64_t id;
	int64_t event_id;
	int64_t user_id;
	char provider[16]; /* "zoom", "google_meet", "teams" */
	char status[16];   /* MEETING_* */
	char *external_id; /* the Zoom meeting id (decimal); NULL before it is created */
	char *join_url;
	char *passcode;
	int64_t connection_id; /* Zoom: the app connection that creates/created it; 0 otherwise */
	bool create_inflight;
	int attempts;
	int64_t retry_at_ms;
	char *topic; /* what the Zoom meeting was last set to */
	int64_t start_utc;
	int64_t end_utc;
	char *time_zone;
	char *error_code; /* NULL unless the meeting failed or waits on a limit */
	char *error_message;
	char *error_hint;
};
void store_meeting_release(struct store_meeting *m);

/* Everything event.write needs about one event: the event as Calendox has it, where it lives,
 * how far its write got, and its meeting. */
struct store_write_target {
	struct store_event ev; /* any state, also deleted */
	int64_t account_id;
	char account_status[24];
	char *calendar_external_id;
	char *write_seed; /* NULL for events Calendox did not create */
	char write_state[16];
	int64_t local_version;
	int64_t written_version;
	int64_t write_generation;
	bool at_provider; /* the provider has the event (it came by sync, or the insert landed) */
	bool delete_requested; /* deleted in Calendox; the provider's copy still to delete */
	bool has_meeting;
	struct store_meeting meeting;
};
void store_write_target_release(struct store_write_target *t);

/* A calendar the person may write an event to, as the API checks it. */
struct store_write_calendar {
	char provider[16];       /* "google" or "microsoft" */
	char account_status[24]; /* CALENDAR_ACCOUNT_* */
	bool writable;
};
/* CX_ENOTFOUND for another person's calendar or none. */
enum cx_err store_write_calendar_get(struct store_conn *c, int64_t user_id, int64_t calendar_id,
                                     struct store_write_calendar *out);

/* CX_ENOTFOUND when the event row is gone. Not keyed by a person: for jobs. */
enum cx_err store_write_target_get(struct store_conn *c, int64_t event_id,
                                   struct store_write_target *out);

/* The meeting of the person's event, when there is one that is not deleted. */
enum cx_err store_meeting_get(struct store_conn *c, int64_t user_id, int64_t event_id,
                              struct store_meeting *out);

/* A new event the person created: inserted with write_state pending, local_version 1 and
 * at_provider 0, with e->external_id as given (Google: the id derived from seed; Microsoft: a
 * placeholder until the provider names it). With meeting_provider set, a pending meeting too
 * (connection_id for Zoom). idempotency_key (may be NULL) and request_hash are kept for repeats:
 * CX_ECONFLICT when the person already used the key (nothing inserted). *id gets the event id. */
struct store_event_new {
	int64_t user_id;
	int64_t calendar_id;
	const struct store_event *event; /* external_id, title, times, zone, all_day, text */
	const char *write_seed;
	const char *idempotency_key;
	const char *request_hash;
	const char *meeting_provider; /* NULL: no meeting */
	int64_t connection_id;
};
enum cx_err store_event_create(struct store_conn *c, const struct store_event_new *n, int64_t now,
                               int64_t *id);
/* The person's event created with this Idempotency-Key: its id and request hash (caller frees). */
enum cx_err store_event_by_idempotency(struct store_conn *c, int64_t user_id, const char *key,
                                       int64_t *id, char **request_hash);

/* The person's change to an event (fields NULL / set_* false are kept): bumps local_version and
 * marks the write pending. *generation gets the write generation for the job's key. */
struct store_event_change {
	const char *title;
	const char *description;
	const char *location;
	bool set_time;
	int64_t start_utc;
	int64_t end_utc;
	bool all_day;
	const char *time_zone;
};
enum cx_err store_event_change(struct store_conn *c, int64_t user_id, int64_t event_id,
                               const struct store_event_change *ch, int64_t now,
                               int64_t *generation);
/* The person deleted the event: hidden at once, the provider's copy deleted by the write job.
 * *generation as above. */
enum cx_err store_event_request_delete(struct store_conn *c, int64_t user_id, int64_t event_id,
                                       int64_t now, int64_t *generation);

/* A meeting asked for on an existing event (status pending). CX_ECONFLICT when the event has one
 * that is not deleted. */
enum cx_err store_meeting_add(struct store_conn *c, int64_t user_id, int64_t event_id,
                              const char *provider, int64_t connection_id, int64_t now);
/* Removes the event's meeting record (after its Zoom meeting went to a zoom.meeting.delete job, or
 * when there was none to delete). */
enum cx_err store_meeting_remove(struct store_conn *c, int64_t event_id);
/* Sets the meeting's status, and its error (all three may be NULL to clear it). */
enum cx_err store_meeting_set_status(struct store_conn *c, int64_t event_id, const char *status,
                                     const char *error_code, const char *error_message,
                                     const char *error_hint, int64_t now);
/* Before a Zoom create is sent: create_inflight = 1. */
enum cx_err store_meeting_create_started(struct store_conn *c, int64_t event_id, int64_t now);
/* A Zoom create that failed for now: attempts + 1, the next try not before retry_at_ms, the error
 * recorded (may be NULL). create_inflight stays 1 when maybe_created (the request may have reached
 * Zoom and its answer was lost), else 0. */
enum cx_err store_meeting_create_failed(struct store_conn *c, int64_t event_id, int64_t retry_at_ms,
                                        bool maybe_created, const char *error_code,
                                        const char *error_message, const char *error_hint,
                                        int64_t now);
/* The created (or re-read) Zoom meeting: id, link, passcode and what it was set to. The status
 * stays as it is (pending until the calendar event carries the link), except that a meeting
 * removed while it was being created becomes 'deleting': it exists in Zoom now. */
enum cx_err store_meeting_set_zoom(struct store_conn *c, int64_t event_id, const char *meeting_id,
                                   const char *join_url, const char *passcode, const char *topic,
                                   int64_t start_utc, int64_t end_utc, const char *time_zone,
                                   int64_t now);
/* A provider conference (Meet, Teams) read back from the calendar event. */
enum cx_err store_meeting_set_link(struct store_conn *c, int64_t event_id, const char *join_url,
                                   const char *status, int64_t now);

/* The provider has the event as of version: its id and etag are stored, and, when the provider
 * answered with the event (written), its description, location and meeting link as it now holds
 * them; at_provider set, written_version = version, and the write state settled when nothing newer
 * is waiting. Replaces a row sync stored under the same provider id meanwhile (Graph names the
 * event only now). written may be NULL (a Google insert that found its event already there). */
struct store_event_readback {
	const char *description;
	const char *location;
	const char *join_url;
};
enum cx_err store_event_written(struct store_conn *c, int64_t event_id, int64_t version,
                                const char *external_id, const char *etag,
                                const struct store_event_readback *written, int64_t now);
/* The provider's copy was deleted (or was never made): the row is marked deleted, nothing left
 * pending. */
enum cx_err store_event_delete_done(struct store_conn *c, int64_t event_id, int64_t now);
/* The write failed for good: write_state failed with the reason; a never-written event is also
 * marked deleted (nothing is left behind). */
enum cx_err store_event_write_failed(struct store_conn *c, int64_t event_id, const char *reason,
                                     int64_t now);
/* Ends a write job: moves the generation on when nothing changed since version was read
 * (*finished true); otherwise the person changed the event meanwhile and the job goes on. */
enum cx_err store_event_write_finish(struct store_conn *c, int64_t event_id, int64_t version,
                                     bool *finished);

/* Events of calendar_id whose meeting needs the write job after a sync round (at most max): a
 * live meeting whose event was deleted outside Calendox (its Zoom meeting is to be deleted), or a
 * ready Zoom meeting whose event's time or title changed since the meeting was set. */
enum cx_err store_meetings_attention(struct store_conn *c, int64_t calendar_id, size_t max,
                                     int64_t **event_ids, size_t *n);
/* The generation of the event's write job key. */
enum cx_err store_event_write_generation(struct store_conn *c, int64_t event_id,
                                         int64_t *generation);

#endif
