/* google.h: the Google Calendar API v3 as Calendox uses it (DESIGN §4, shared/providers/GOOGLE.md):
 * request builders for the calendar list, event listing and incremental sync, get, insert with a
 * client-chosen id (idempotent create), patch, delete, push channels (events/watch, channels/stop);
 * defensive parsers of Google's answers into the neutral structs of calendar.h; and the error
 * classifier. OAuth (token, refresh, revoke) is egress/oauth.h with OAUTH_AUTH_BODY.
 *
 * Pure functions: no I/O, no threads, no MHD, no store. Builders return a struct egress_request the
 * caller owns (egress_submit or egress_request_free); parsers read a struct egress_response the
 * caller still owns. Thread-safe. api_url is the API base without a trailing slash
 * ("https://www.googleapis.com/calendar/v3", the sandbox's ".../google/calendar/v3"). Access tokens
 * and channel tokens are secrets: nothing here logs them. */
#ifndef CX_PROVIDERS_GOOGLE_H
#define CX_PROVIDERS_GOOGLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "egress/egress.h"
#include "providers/calendar.h"

#define GOOGLE_EVENT_ID_LEN 52 /* base32hex of a SHA-256: 256 bits / 5, rounded up */
#define GOOGLE_LIST_MAX_RESULTS 2500
#define GOOGLE_CALENDAR_LIST_MAX_RESULTS 250
#define GOOGLE_CHANNEL_ID_MAX 64
#define GOOGLE_CHANNEL_TOKEN_MAX 256
#define GOOGLE_PROPERTY_CALENDOX_ID "calendoxEventId" /* extendedProperties.private key */

/* The event id Calendox gives Google for its event seed (the Calendox event id): base32hex
 * ([0-9a-v]) of SHA-256("calendox-google-event:" + seed), GOOGLE_EVENT_ID_LEN characters. The same
 * seed always gives the same id, so a retried insert hits 409 instead of creating a duplicate. */
void google_event_id_for(const char *seed, char out[GOOGLE_EVENT_ID_LEN + 1]);
/* Whether id is a valid client-chosen event id (base32hex, 5-1024 characters). */
bool google_event_id_valid(const char *id);

/* GET {api}/users/me/calendarList?maxResults=250[&pageToken=…] */
enum cx_err google_calendar_list_request(const char *api_url, const char *access_token,
                                         const char *page_token, struct egress_request **out);

/* What one events.list call asks for. A full sync sets the window (time_min < time_max, both
 * non-zero) and no sync token; an incremental one sets sync_token and no window (GOOGLE.md §4: the
 * two cannot be combined, CX_EINVAL). Both send singleEvents=true so occurrences arrive expanded;
 * incremental also sends showDeleted=true. page_token continues either. max_results 0 means 250;
 * above GOOGLE_LIST_MAX_RESULTS is CX_EINVAL. */
struct google_list_params {
	const char *calendar_id; /* required; "primary" or an id (percent-encoded in the path) */
	int64_t time_min;        /* Unix seconds; exclusive bound on an event's end */
	int64_t time_max;        /* Unix seconds; exclusive bound on its start */
	const char *sync_token;
	const char *page_token;
	int max_results;
};
/* GET {api}/calendars/{calendarId}/events?… */
enum cx_err google_events_list_request(const char *api_url, const char *access_token,
                                       const struct google_list_params *p,
                                       struct egress_request **out);
/* GET {api}/calendars/{calendarId}/events/{eventId} */
enum cx_err google_event_get_request(const char *api_url, const char *access_token,
                                     const char *calendar_id, const char *event_id,
                                     struct egress_request **out);
/* POST {api}/calendars/{calendarId}/events with id = google_event_id_for(w->calendox_id),
 * extendedProperties.private.calendoxEventId, summary, description, location, start/end (dateTime
 * in UTC + timeZone, or date for all-day events); with w->conference MEET also
 * conferenceDataVersion=1 and conferenceData.createRequest {requestId, conferenceSolutionKey
 * {type: hangoutsMeet}}. CX_EINVAL without calendox_id or times (end must be after start). */
enum cx_err google_event_insert_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, const struct cal_event_write *w,
                                        struct egress_request **out);
/* PATCH {api}/calendars/{calendarId}/events/{eventId} with the fields w sets; If-Match: etag when
 * etag is not NULL (a stale one answers 412). conferenceDataVersion=1 only when Meet is asked. */
enum cx_err google_event_patch_request(const char *api_url, const char *access_token,
                                       const char *calendar_id, const char *event_id,
                                       const struct cal_event_write *w, const char *etag,
                                       struct egress_request **out);
/* DELETE {api}/calendars/{calendarId}/events/{eventId}?sendUpdates=none */
enum cx_err google_event_delete_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, const char *event_id,
                                        struct egress_request **out);
/* The Event JSON the insert (insert = true) and patch builders send; exposed so tests can check it
 * against the discovery document. Caller json_decref()s *out. */
struct json_t;
enum cx_err google_event_body(const struct cal_event_write *w, bool insert, struct json_t **out);

/* POST {api}/calendars/{calendarId}/events/watch with {id, type: "web_hook", address, token,
 * expiration (ms since epoch, as a string; 0 = let Google choose)}. channel_id 1-64 characters,
 * token at most 256; address must be https (or http on loopback for the sandbox). */
enum cx_err google_events_watch_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, const char *channel_id,
                                        const char *address, const char *channel_token,
                                        int64_t expiration_ms, struct egress_request **out);
/* POST {api}/channels/stop with {id, resourceId}. */
enum cx_err google_channel_stop_request(const char *api_url, const char *access_token,
                                        const char *channel_id, const char *resource_id,
                                        struct egress_request **out);

struct google_channel {
	char *id;
	char *resource_id;
	char *resource_uri;    /* may be NULL */
	int64_t expiration_ms; /* 0 when absent */
};
void google_channel_release(struct google_channel *c);

/* Classifies any Google answer (GOOGLE.md §9): reason from error.errors[0].reason (else
 * error.status), message from error.message. 401 → auth_invalid; 403 and 429 with
 * rateLimitExceeded, userRateLimitExceeded or quotaExceeded (and any 429) → rate_limited; other
 * 403 → forbidden; 404 not_found; 409 conflict; 410 gone; 412 precondition; 5xx and transport
 * failures retryable. Returns cal_error_code(). err may be NULL. */
enum cx_err google_classify(const struct egress_response *resp, int64_t now_s,
                            struct cal_error *err);

/* Parsers of 2xx answers; a non-2xx answer is classified (err may be NULL) and its code returned.
 * A 2xx body that is not the expected JSON → CX_EUPSTREAM (retryable). On failure out is zeroed.
 * Items that are not objects or lack an id are skipped. */
enum cx_err google_parse_calendar_list(const struct egress_response *resp, int64_t now_s,
                                       struct cal_calendar_page *out, struct cal_error *err);
/* A 410 is an ordinary outcome of sync: CX_OK with out->full_sync_required set and no events. */
enum cx_err google_parse_event_page(const struct egress_response *resp, int64_t now_s,
                                    const char *calendar_id, struct cal_event_page *out,
                                    struct cal_error *err);
enum cx_err google_parse_event(const struct egress_response *resp, int64_t now_s,
                               const char *calendar_id, struct cal_event *out,
                               struct cal_error *err);
enum cx_err google_parse_channel(const struct egress_response *resp, int64_t now_s,
                                 struct google_channel *out, struct cal_error *err);
/* The outcome of a DELETE: 2xx, 404 and 410 are all CX_OK (*already_gone, may be NULL, tells
 * whether it was gone before). */
enum cx_err google_delete_result(const struct egress_response *resp, int64_t now_s,
                                 bool *already_gone, struct cal_error *err);

/* The raw-body forms, for the fuzzer and for callers that hold only bytes. */
enum cx_err google_parse_calendar_list_body(const char *body, size_t len,
                                            struct cal_calendar_page *out);
enum cx_err google_parse_event_page_body(const char *body, size_t len, const char *calendar_id,
                                         struct cal_event_page *out);
enum cx_err google_parse_event_body(const char *body, size_t len, const char *calendar_id,
                                    struct cal_event *out);

#endif
