/* zoom.h: the Zoom Meetings API v2 as Calendox uses it (DESIGN §4, shared/providers/ZOOM.md):
 * request builders for the current user and for creating, reading, updating and deleting a
 * scheduled meeting; defensive parsers of Zoom's answers into plain structs; the API error
 * classifier; and the webhook helpers (signature check, URL validation answer, app_deauthorized).
 * OAuth itself (token, refresh, revoke with HTTP Basic) is egress/oauth.h with OAUTH_AUTH_BASIC.
 *
 * Pure functions: no I/O, no threads, no MHD, no store. Builders return a struct egress_request the
 * caller submits through egress; parsers read a struct egress_response (or raw webhook bytes) the
 * caller still owns. Everything is thread-safe. Strings in result structs are owned by the struct
 * and freed by its _release(). Access tokens and the webhook secret are never logged here. */
#ifndef CX_PROVIDERS_ZOOM_H
#define CX_PROVIDERS_ZOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "egress/egress.h"

#define ZOOM_TOPIC_MAX 200   /* bytes; longer topics are cut on a UTF-8 boundary */
#define ZOOM_AGENDA_MAX 2000 /* bytes; likewise */
#define ZOOM_WEBHOOK_TOLERANCE_S 300
#define ZOOM_BODY_MAX (1024 * 1024) /* answers larger than this are not parsed */

/* What Calendox asks Zoom for when an event gets a meeting (or is edited). Borrowed strings. */
struct zoom_meeting_spec {
	const char *topic;  /* the event title; NULL or "" sends no topic */
	const char *agenda; /* the event description; may be NULL */
	int64_t start_utc;  /* Unix seconds */
	int duration_min;   /* > 0; Zoom rounds nothing, we send what the event lasts */
	const char
	    *time_zone; /* the event's IANA zone; NULL/unknown → start_time in UTC "Z" form */
	const char *passcode; /* create only: NULL → 10 random [A-Za-z0-9]; ignored by update */
};

/* GET {api_url}/users/me */
enum cx_err zoom_user_request(const char *api_url, const char *access_token,
                              struct egress_request **out);
/* POST {api_url}/users/me/meetings with a type-2 meeting: topic, agenda, start_time
 * (organizer-local "yyyy-MM-ddTHH:mm:ss" + timezone, or UTC "...Z" when the zone is unknown),
 * duration, an explicit passcode (so the join link always carries one, ZOOM.md §7) and settings
 * that keep Zoom's security defaults: waiting_room true, join_before_host false, approval_type 2
 * (no registration), auto_recording none. CX_EINVAL for a missing spec, duration <= 0 or text that
 * is not UTF-8. */
enum cx_err zoom_meeting_create_request(const char *api_url, const char *access_token,
                                        const struct zoom_meeting_spec *spec,
                                        struct egress_request **out);
/* GET {api_url}/meetings/{id} */
enum cx_err zoom_meeting_get_request(const char *api_url, const char *access_token,
                                     int64_t meeting_id, struct egress_request **out);
/* PATCH {api_url}/meetings/{id} with topic, agenda, start_time, timezone and duration only (the
 * settings chosen at creation stay as they are). 204 on success: GET afterwards for join_url. */
enum cx_err zoom_meeting_update_request(const char *api_url, const char *access_token,
                                        int64_t meeting_id, const struct zoom_meeting_spec *spec,
                                        struct egress_request **out);
/* DELETE {api_url}/meetings/{id} (no reminder e-mails). */
enum cx_err zoom_meeting_delete_request(const char *api_url, const char *access_token,
                                        int64_t meeting_id, struct egress_request **out);

/* The JSON body zoom_meeting_create_request (update = false) or _update_request (update = true)
 * sends; exposed so tests can check it against the published schema. Caller json_decref()s. */
struct json_t;
enum cx_err zoom_meeting_body(const struct zoom_meeting_spec *spec, bool update,
                              struct json_t **out);

struct zoom_user {
	char *id;         /* Zoom user id, e.g. "z9jkdsfsdfjhdkfjQ" */
	char *account_id; /* may be NULL */
	char *email;      /* may be NULL */
};
void zoom_user_release(struct zoom_user *u);

struct zoom_meeting {
	int64_t id;       /* meeting number, > 0, often above 2^32 */
	char *join_url;   /* "https://…/j/{id}?pwd=…"; NULL when absent */
	char *password;   /* the passcode; NULL on accounts that return none */
	char *start_time; /* as Zoom sent it (UTC "…Z"); NULL when absent */
	int duration;     /* minutes, 0 when absent */
	char *timezone;   /* NULL when absent */
	char *topic;      /* NULL when absent */
};
void zoom_meeting_release(struct zoom_meeting *m);

/* Zoom API error, classified (ZOOM.md §8, §9). */
enum zoom_error_kind {
	ZOOM_ERR_NONE = 0,    /* 2xx */
	ZOOM_ERR_TOKEN,       /* 401 (code 124): refresh once and retry once */
	ZOOM_ERR_SCOPE,       /* code 4711 or 4700 "does not contain scopes": reconnect needed */
	ZOOM_ERR_GONE,        /* 404 or code 3001: the meeting is already gone */
	ZOOM_ERR_RATE,        /* 429 per second: retry after retry_after_s */
	ZOOM_ERR_DAILY_LIMIT, /* 429 daily cap: retry after retry_after_s (next 00:00 UTC) */
	ZOOM_ERR_RETRY,       /* 5xx, transport failure or an unreadable answer: retry later */
	ZOOM_ERR_REJECTED,    /* other 4xx (3002 in progress, 3003 not host, …): do not retry */
};

struct zoom_error {
	enum zoom_error_kind kind;
	long http_status;   /* 0 when no answer arrived */
	int code;           /* Zoom's "code", 0 when absent */
	char message[256];  /* Zoom's "message" (no secrets in it), "" when absent */
	long retry_after_s; /* seconds to wait for RATE / DAILY_LIMIT (0 = unknown) */
	bool daily_limit;   /* the 429 was the per-user daily create/update cap */
	bool sent;          /* from the response: false = certainly never reached Zoom */
};

/* Classifies any Zoom API answer. Returns CX_OK for 2xx; CX_EAUTH (TOKEN), CX_EFORBIDDEN (SCOPE),
 * CX_ENOTFOUND (GONE), CX_EBUSY (RATE, DAILY_LIMIT), CX_EUPSTREAM (RETRY, REJECTED). now_s turns
 * an ISO Retry-After date into seconds. err may be NULL. */
enum cx_err zoom_classify(const struct egress_response *resp, int64_t now_s,
                          struct zoom_error *err);

/* Parse 2xx answers; non-2xx are classified with zoom_classify (err may be NULL). A 2xx body that
 * is not the expected object (missing id, wrong types, XML) → CX_EUPSTREAM with kind RETRY. On
 * failure out is left zeroed. */
enum cx_err zoom_parse_user(const struct egress_response *resp, int64_t now_s,
                            struct zoom_user *out, struct zoom_error *err);
enum cx_err zoom_parse_meeting(const struct egress_response *resp, int64_t now_s,
                               struct zoom_meeting *out, struct zoom_error *err);
/* The outcome of a DELETE: 2xx and GONE are both CX_OK (*already_gone tells which; may be NULL). */
enum cx_err zoom_delete_result(const struct egress_response *resp, int64_t now_s,
                               bool *already_gone, struct zoom_error *err);

/* The raw-body forms, for the fuzzer and for callers that hold only bytes. */
enum cx_err zoom_parse_user_body(const char *body, size_t len, struct zoom_user *out);
enum cx_err zoom_parse_meeting_body(const char *body, size_t len, struct zoom_meeting *out);

/* Checks a webhook: signature must equal "v0=" + lower-hex HMAC-SHA256(secret, "v0:" + timestamp +
 * ":" + body) (constant-time) and timestamp (seconds, or milliseconds when it is that large) be
 * within ZOOM_WEBHOOK_TOLERANCE_S of now_s either way. CX_OK or CX_EAUTH (also for any NULL or
 * empty argument except an empty body). */
enum cx_err zoom_webhook_verify(const char *secret, const char *timestamp, const char *body,
                                size_t body_len, const char *signature, int64_t now_s);
/* The answer to endpoint.url_validation: {"plainToken":…,"encryptedToken":hex HMAC-SHA256(secret,
 * plainToken)}. CX_EINVAL when plain_token is empty or longer than 256 bytes. Caller frees *out. */
enum cx_err zoom_webhook_url_validation_response(const char *secret, const char *plain_token,
                                                 char **out);
/* Reads the plainToken of an endpoint.url_validation body. Caller frees *out. CX_EINVAL otherwise.
 */
enum cx_err zoom_webhook_plain_token(const char *body, size_t len, char **out);

struct zoom_deauthorization {
	char *event; /* "app_deauthorized" */
	char *user_id;
	char *account_id;
	char *client_id;            /* may be NULL */
	char *deauthorization_time; /* as sent, "2019-06-17T13:52:28.632Z"; may be NULL */
	int64_t event_ts;           /* milliseconds, 0 when absent */
};
void zoom_deauthorization_release(struct zoom_deauthorization *d);
/* Parses an app_deauthorized webhook body (after zoom_webhook_verify). CX_EINVAL when it is not
 * JSON, event is not "app_deauthorized" or user_id/account_id are missing. */
enum cx_err zoom_parse_deauthorization(const char *body, size_t len,
                                       struct zoom_deauthorization *out);

#endif
