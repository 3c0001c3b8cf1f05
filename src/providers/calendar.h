/* calendar.h: the provider-neutral view of calendars and events that the Google Calendar client
 * (google.h) and the Microsoft Graph client (graph.h) both produce and consume (DESIGN §3-§4):
 * plain structs for calendars, events, pages of a listing or sync round and classified provider
 * errors; the write spec a job hands to either builder; and the helpers that place a meeting link
 * block in an event's description (plain text for Google, HTML for Outlook) and take it out again.
 *
 * Pure functions: no I/O, no threads, no MHD, no store. Thread-safe. Strings in the result structs
 * are owned by the struct and freed by its _release(); structs passed in are borrowed. Join links,
 * passcodes and provider messages are not secrets, but nothing here logs anything. */
#ifndef CX_PROVIDERS_CALENDAR_H
#define CX_PROVIDERS_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "egress/egress.h"

#define CAL_BODY_MAX (8 * 1024 * 1024) /* provider answers larger than this are not parsed */
#define CAL_PAGE_MAX 2500              /* events (or calendars) per page; Google's maximum */
#define CAL_ID_MAX 2048                /* longer ids are treated as garbage and the item skipped */
#define CAL_TEXT_MAX (256 * 1024)      /* longer titles/descriptions are cut on a UTF-8 boundary */
#define CAL_LINK_MAX 8192              /* page tokens, sync tokens, nextLink/deltaLink URLs */

/* The start and end markers of the block Calendox owns in a description. Text between them is
 * rewritten or removed by cal_description_set_block; everything else belongs to the person. */
#define CAL_BLOCK_BEGIN "-- Calendox meeting --"
#define CAL_BLOCK_END "-- End of Calendox meeting --"

struct cal_calendar {
	char *external_id; /* Google calendar id ("alice@example.com") or Graph calendar id */
	char *name;        /* summaryOverride/summary or Graph name; "" when absent */
	bool primary;      /* Google primary / Graph isDefaultCalendar */
	bool writable;     /* Google accessRole owner|writer / Graph canEdit */
	char *color; /* "#rrggbb" (Google backgroundColor, Graph hexColor); NULL when absent */
};

struct cal_calendar_page {
	struct cal_calendar *items;
	size_t n;
	char
	    *next_page_token; /* Google nextPageToken or Graph @odata.nextLink (a full URL); NULL */
	char *next_sync_token; /* Google nextSyncToken; NULL */
};
void cal_calendar_page_release(struct cal_calendar_page *p);

enum cal_event_status {
	CAL_STATUS_CONFIRMED = 0,
	CAL_STATUS_TENTATIVE,
	CAL_STATUS_CANCELLED, /* Google status "cancelled", Graph isCancelled or "@removed" */
};

enum cal_conference_status {
	CAL_CONF_NONE = 0, /* no provider-made conference (or not asked) */
	CAL_CONF_PENDING,  /* Google createRequest still being processed: read the event again */
	CAL_CONF_SUCCESS,
	CAL_CONF_FAILURE,
};

struct cal_event {
	char *external_id;          /* never NULL in a parsed event */
	char *calendar_external_id; /* the calendar the request named; NULL when unknown */
	enum cal_event_status status;
	char *title; /* NULL when absent (deleted items carry only an id) */
	char *
	    description; /* Google: text (may hold HTML); Graph: body content as sent (HTML/text) */
	char *location;  /* NULL when absent */
	int64_t start_utc; /* Unix seconds; 0 when absent (cancelled items) */
	int64_t end_utc;   /* exclusive */
	bool all_day;
	char start_date[11];       /* "yyyy-mm-dd" for all-day events, else "" */
	char end_date[11];         /* exclusive, as the provider says; "" unless all_day */
	char *time_zone;           /* IANA name (Graph's Windows names mapped); NULL when unknown */
	char *recurring_series_id; /* Google recurringEventId / Graph seriesMasterId; NULL */
	int64_t original_start;    /* occurrences: the instance's original start, else 0 */
	char *etag;                /* Google etag / Graph changeKey (or @odata.etag); NULL */
	char *join_url; /* Meet video entry point / hangoutLink, Graph onlineMeeting.joinUrl */
	enum cal_conference_status conference_status;
	int64_t updated; /* Google updated / Graph lastModifiedDateTime; 0 when absent */
};
void cal_event_release(struct cal_event *e);

/* One page of a listing or of a sync round. Exactly one of the two tokens is set on a good page,
 * except when the page is the last of a plain listing without sync. */
struct cal_event_page {
	struct cal_event *events;
	size_t n;
	char *next_page_token;   /* Google nextPageToken / Graph @odata.nextLink: fetch more */
	char *next_sync_token;   /* Google nextSyncToken / Graph @odata.deltaLink: store for next
	                            round */
	bool full_sync_required; /* 410: drop the token and local copies, start a full sync */
};
void cal_event_page_release(struct cal_event_page *p);

/* A provider error, classified the same way for both providers. */
struct cal_error {
	enum cx_err transport; /* the egress error when no HTTP answer arrived, else CX_OK */
	bool sent;             /* from the response: false = certainly never reached the provider */
	long http_status;      /* 0 without an answer */
	char reason[64];       /* Google errors[0].reason / Graph error.code; "" when absent */
	char message[256];     /* the provider's message (no secrets in it); "" when absent */
	long retry_after_s;    /* from Retry-After (seconds or HTTP date); 0 = use own backoff */
	bool rate_limited;     /* 429, or Google 403 rate/quota reasons: back off and retry */
	bool auth_invalid;     /* 401: refresh the token once, then ask to reconnect */
	bool forbidden;        /* 403 that is not a rate limit: missing scope or policy */
	bool not_found;        /* 404 */
	bool gone;             /* 410: deleted before, or the sync token/delta link is dead */
	bool conflict;         /* 409: Google duplicate id (insert retry: read the event back) */
	bool precondition;     /* 412: stale etag */
	bool retryable;        /* rate limits, 5xx, transport failures, unreadable 2xx answers */
};

/* Maps a classified error to the enum every caller returns: CX_OK for 2xx, CX_EAUTH (auth_invalid),
 * CX_EBUSY (rate_limited), CX_EFORBIDDEN, CX_ENOTFOUND (not_found and gone), CX_ECONFLICT (conflict
 * and precondition), CX_EUPSTREAM (everything else). */
enum cx_err cal_error_code(const struct cal_error *e);

/* Retry-After of resp in seconds: delta-seconds, or an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00
 * GMT") minus now_s. 0 when absent, unreadable or in the past; at most one day. */
long cal_retry_after(const struct egress_response *resp, int64_t now_s);

/* What Calendox writes into a provider event. Borrowed strings. */
enum cal_conference_kind {
	CAL_CONFERENCE_NONE = 0,
	CAL_CONFERENCE_MEET,  /* Google: conferenceData.createRequest hangoutsMeet */
	CAL_CONFERENCE_TEAMS, /* Graph: isOnlineMeeting + teamsForBusiness */
};

/* The link block Calendox keeps in a description (a Zoom meeting). Borrowed strings. */
struct cal_meeting_block {
	const char *provider_name; /* "Zoom" */
	const char *join_url;      /* required */
	const char *meeting_id;    /* may be NULL */
	const char *passcode;      /* may be NULL */
};

struct cal_event_write {
	const char *title; /* NULL: not sent (patch keeps it) */
	const char
	    *description;     /* NULL: not sent, unless meeting is set (then NULL counts as "") */
	const char *location; /* NULL: not sent; "" clears it */
	bool set_time;        /* send start/end (insert always needs them) */
	int64_t start_utc;    /* all-day: 00:00 UTC of the first day */
	int64_t end_utc;      /* exclusive; all-day: 00:00 UTC of the day after the last */
	bool all_day;
	const char *time_zone;   /* IANA; NULL or unknown: UTC */
	const char *calendox_id; /* the Calendox event id: Google event id / Graph transactionId
	                          * seed and a private extended property; required for inserts */
	enum cal_conference_kind conference;
	/* When set, location becomes the join link (unless location is set too) and description
	 * gets the block (added or replaced). To strip the block on a patch, compute the
	 * description with cal_description_set_block(current, NULL, …) and set location to "". */
	const struct cal_meeting_block *meeting;
};

/* Returns description with Calendox's block added, replaced (when one is there) or removed
 * (block == NULL). The block goes at the end after a blank line; on removal the blank line that
 * separated it goes too, so removing restores the original text. Idempotent: applying the same
 * block twice gives the same text, and a description never ends up with two blocks (extra ones are
 * removed). A start marker without an end marker counts as a block to the end of the text.
 * html = true writes an HTML block (values escaped) and puts it before </body> when there is one;
 * markers are found as text in both modes. Caller frees *out with free(). CX_EINVAL when
 * block->join_url is missing; CX_ETOOBIG when the result would exceed CAL_TEXT_MAX. */
enum cx_err cal_description_set_block(const char *description,
                                      const struct cal_meeting_block *block, bool html, char **out);
/* Whether text contains a Calendox block. */
bool cal_description_has_block(const char *description);
/* Whether s is a Zoom join link (zoom.us/j/, zoom.us/w/, or the sandbox's /zoom/j/): a Zoom link in
 * an event's location counts as its meeting when the provider has no conference of its own. */
bool cal_is_zoom_link(const char *s);

/* --- shared by google.c and graph.c (not for other modules) --- */
struct json_t;

/* Classifies any answer by transport outcome and HTTP status; reason and message (may be NULL)
 * are the provider's error code and text. Returns cal_error_code(err). err must not be NULL. */
enum cx_err cal_classify_status(const struct egress_response *resp, int64_t now_s,
                                const char *reason, const char *message, struct cal_error *err);
/* Parses an answer body as a JSON object: CX_ETOOBIG beyond CAL_BODY_MAX, CX_EUPSTREAM when it is
 * not strict JSON or not an object. Caller json_decref()s *out. */
enum cx_err cal_parse_object(const char *body, size_t len, struct json_t **out);
/* A copy of s cut to at most max bytes on a UTF-8 boundary; NULL for NULL. Caller frees. */
char *cal_strdup_cut(const char *s, size_t max);
/* A string member of obj, or NULL when absent, not a string or longer than max bytes. */
const char *cal_json_str(const struct json_t *obj, const char *key, size_t max);
/* The continuation members of a page (Google nextPageToken/nextSyncToken, Graph
 * @odata.nextLink/@odata.deltaLink): each optional, a string of at most CAL_LINK_MAX bytes.
 * Anything else makes the page unusable (CX_EUPSTREAM): following a mangled token or link would
 * silently skip events. final may be NULL when the caller does not want it. Caller frees. */
enum cx_err cal_page_links(const struct json_t *doc, const char *next_key, const char *final_key,
                           char **next, char **final);
/* A 2xx answer whose body is not what the endpoint returns: retryable, with a message saying so.
 * err may be NULL. */
void cal_mark_garbage(struct cal_error *err);
/* A provider's parser of one event object. */
typedef enum cx_err (*cal_event_parser)(const struct json_t *o, const char *calendar_id,
                                        struct cal_event *e);
/* One event answer body through parse; on failure out is released and zeroed. */
enum cx_err cal_parse_event_with(const char *body, size_t len, const char *calendar_id,
                                 cal_event_parser parse, struct cal_event *out);
/* Every object in items through parse into out->events (allocated here); items that fail to
 * parse are skipped. */
void cal_collect_events(const struct json_t *items, const char *calendar_id,
                        cal_event_parser parse, struct cal_event_page *out);
/* "yyyy-mm-ddThh:mm:ss[.fffffff]" without an offset, read as UTC. CX_EINVAL otherwise. */
enum cx_err cal_parse_wall_time(const char *s, int64_t *unix_s);
/* The UTC instant of a wall-clock time (from cal_parse_wall_time) in an IANA zone; a wall time in
 * a gap moves forward, in an overlap the earlier instant wins. CX_ENOTFOUND for unknown zones. */
enum cx_err cal_wall_to_utc(const char *iana_zone, int64_t wall_s, int64_t *utc_s);

#endif
