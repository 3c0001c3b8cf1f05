/* graph.h: Microsoft Graph v1.0 calendars as Calendox uses them (DESIGN §4,
 * shared/providers/MICROSOFT.md): request builders for /me, the calendars, calendarView, delta
 * rounds, event create (with a transactionId, so a retry is not a duplicate), update, get, delete,
 * and change-notification subscriptions; defensive parsers into the neutral structs of calendar.h;
 * the error classifier; the change-notification body parser and the validation-handshake rule.
 * OAuth (token, refresh) is egress/oauth.h with OAUTH_AUTH_BODY; Microsoft has no revoke endpoint.
 *
 * Pure functions: no I/O, no threads, no MHD, no store. Builders return a struct egress_request the
 * caller owns (egress_submit or egress_request_free); parsers read a struct egress_response or raw
 * bytes the caller still owns. Thread-safe. api_url is the Graph base without a trailing slash
 * ("https://graph.microsoft.com/v1.0", the sandbox's ".../microsoft/v1.0"). Access tokens and
 * clientState secrets are never logged here. */
#ifndef CX_PROVIDERS_GRAPH_H
#define CX_PROVIDERS_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "egress/egress.h"
#include "providers/calendar.h"

#define GRAPH_TRANSACTION_ID_LEN 36         /* a GUID-shaped string */
#define GRAPH_SUBSCRIPTION_MAX_MINUTES 4230 /* Outlook events (MICROSOFT.md §8) */
#define GRAPH_CLIENT_STATE_MAX 128
#define GRAPH_VALIDATION_TOKEN_MAX 4096
#define GRAPH_NOTIFICATIONS_MAX 1000 /* per delivery; more is treated as garbage */
#define GRAPH_PAGE_SIZE 100          /* $top / odata.maxpagesize */

/* The transactionId Calendox sends for its event seed: SHA-256("calendox-graph-transaction:" +
 * seed) formatted as a lower-case GUID. The same seed always gives the same id. */
void graph_transaction_id_for(const char *seed, char out[GRAPH_TRANSACTION_ID_LEN + 1]);

/* The IANA name of a Windows time-zone name Graph uses ("W. Europe Standard Time" →
 * "Europe/Berlin"), or the name itself when it already is a valid IANA zone; NULL otherwise.
 * Static memory or zone itself. */
const char *graph_zone_iana(const char *zone);

/* GET {api}/me */
enum cx_err graph_me_request(const char *api_url, const char *access_token,
                             struct egress_request **out);
/* GET {api}/me/calendars, or next_link verbatim when set (an @odata.nextLink). */
enum cx_err graph_calendars_request(const char *api_url, const char *access_token,
                                    const char *next_link, struct egress_request **out);
/* GET {api}/me/calendarView (calendar_id NULL) or {api}/me/calendars/{id}/calendarView with
 * startDateTime/endDateTime (UTC) and $top, Prefer: outlook.timezone="UTC"; or next_link verbatim.
 * CX_EINVAL unless start < end (when next_link is NULL). */
enum cx_err graph_calendar_view_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, int64_t start_utc, int64_t end_utc,
                                        const char *next_link, struct egress_request **out);
/* A delta round: with link NULL the initial GET {api}/me[/calendars/{id}]/calendarView/delta with
 * the window; otherwise the stored @odata.nextLink or @odata.deltaLink exactly as given (the
 * tokens encode the window: MICROSOFT.md §4). Prefer: outlook.timezone="UTC",
 * odata.maxpagesize=GRAPH_PAGE_SIZE. */
enum cx_err graph_delta_request(const char *api_url, const char *access_token,
                                const char *calendar_id, int64_t start_utc, int64_t end_utc,
                                const char *link, struct egress_request **out);
/* GET {api}/me/events/{id} with Prefer: outlook.timezone="UTC". */
enum cx_err graph_event_get_request(const char *api_url, const char *access_token,
                                    const char *event_id, struct egress_request **out);
/* POST {api}/me/calendars/{id}/events (calendar_id NULL: /me/events) with subject, body (HTML),
 * location.displayName, start/end as dateTimeTimeZone (wall time in w->time_zone when it is a
 * known IANA zone, else UTC), isAllDay, transactionId = graph_transaction_id_for(w->calendox_id),
 * and with w->conference TEAMS isOnlineMeeting + onlineMeetingProvider teamsForBusiness. A Zoom
 * meeting (w->meeting) goes into location and an HTML block in the body, never into the Teams
 * fields. w->description is sent as the HTML body content as it is (Outlook keeps bodies as
 * HTML: an update passes the body read from the event with only our block changed).
 * CX_EINVAL without calendox_id or times, or with CAL_CONFERENCE_MEET. */
enum cx_err graph_event_create_request(const char *api_url, const char *access_token,
                                       const char *calendar_id, const struct cal_event_write *w,
                                       struct egress_request **out);
/* PATCH {api}/me/events/{id} with the fields w sets (no transactionId). */
enum cx_err graph_event_update_request(const char *api_url, const char *access_token,
                                       const char *event_id, const struct cal_event_write *w,
                                       struct egress_request **out);
/* DELETE {api}/me/events/{id} */
enum cx_err graph_event_delete_request(const char *api_url, const char *access_token,
                                       const char *event_id, struct egress_request **out);
/* The event JSON create (create = true) and update send; exposed for tests. Caller json_decref()s.
 */
struct json_t;
enum cx_err graph_event_body(const struct cal_event_write *w, bool create, struct json_t **out);

/* POST {api}/subscriptions {changeType "created,updated,deleted", notificationUrl,
 * lifecycleNotificationUrl (when set), resource "me/events", expirationDateTime, clientState}.
 * expiration_s is clamped to now_s + GRAPH_SUBSCRIPTION_MAX_MINUTES; CX_EINVAL when it is not after
 * now_s, or client_state is empty or longer than GRAPH_CLIENT_STATE_MAX. */
enum cx_err graph_subscription_create_request(const char *api_url, const char *access_token,
                                              const char *notification_url,
                                              const char *lifecycle_url, const char *client_state,
                                              int64_t expiration_s, int64_t now_s,
                                              struct egress_request **out);
/* PATCH {api}/subscriptions/{id} {expirationDateTime}, clamped as above. */
enum cx_err graph_subscription_renew_request(const char *api_url, const char *access_token,
                                             const char *subscription_id, int64_t expiration_s,
                                             int64_t now_s, struct egress_request **out);
/* DELETE {api}/subscriptions/{id} */
enum cx_err graph_subscription_delete_request(const char *api_url, const char *access_token,
                                              const char *subscription_id,
                                              struct egress_request **out);

/* Classifies any Graph answer (MICROSOFT.md §9) from {"error":{"code","message","innerError"}}:
 * 401 auth_invalid, 403 forbidden, 404 not_found, 409 conflict, 410 gone (also the codes
 * syncStateNotFound and resyncRequired at any status: the delta link is dead), 412 precondition, 429 rate_limited with Retry-After,
 * 5xx (503, 504) and transport failures retryable. Returns cal_error_code(). err may be NULL. */
enum cx_err graph_classify(const struct egress_response *resp, int64_t now_s,
                           struct cal_error *err);

struct graph_user {
	char *id;
	char *email;        /* mail, else userPrincipalName; may be NULL */
	char *display_name; /* may be NULL */
};
void graph_user_release(struct graph_user *u);

struct graph_subscription {
	char *id;
	int64_t expiration_s; /* expirationDateTime as granted; 0 when absent or unreadable */
	char *resource;       /* may be NULL */
};
void graph_subscription_release(struct graph_subscription *s);

/* Parsers of 2xx answers: a non-2xx answer is classified (err may be NULL) and its code returned;
 * a 2xx body that is not the expected JSON → CX_EUPSTREAM. On failure out is zeroed. Events come
 * out in UTC: a dateTimeTimeZone in another zone (Windows or IANA name) is converted. */
enum cx_err graph_parse_user(const struct egress_response *resp, int64_t now_s,
                             struct graph_user *out, struct cal_error *err);
/* @odata.nextLink → next_page_token. */
enum cx_err graph_parse_calendars(const struct egress_response *resp, int64_t now_s,
                                  struct cal_calendar_page *out, struct cal_error *err);
/* calendarView and delta pages: @odata.nextLink → next_page_token, @odata.deltaLink →
 * next_sync_token, "@removed" items → status cancelled with only the id. A 410 is an ordinary
 * outcome of a delta round: CX_OK with full_sync_required and no events. */
enum cx_err graph_parse_event_page(const struct egress_response *resp, int64_t now_s,
                                   const char *calendar_id, struct cal_event_page *out,
                                   struct cal_error *err);
enum cx_err graph_parse_event(const struct egress_response *resp, int64_t now_s,
                              const char *calendar_id, struct cal_event *out,
                              struct cal_error *err);
enum cx_err graph_parse_subscription(const struct egress_response *resp, int64_t now_s,
                                     struct graph_subscription *out, struct cal_error *err);
/* DELETE outcome: 2xx and 404 are CX_OK (*already_gone, may be NULL, says which). */
enum cx_err graph_delete_result(const struct egress_response *resp, int64_t now_s,
                                bool *already_gone, struct cal_error *err);

/* Raw-body forms, for the fuzzer. */
enum cx_err graph_parse_user_body(const char *body, size_t len, struct graph_user *out);
enum cx_err graph_parse_calendars_body(const char *body, size_t len, struct cal_calendar_page *out);
enum cx_err graph_parse_event_page_body(const char *body, size_t len, const char *calendar_id,
                                        struct cal_event_page *out);
enum cx_err graph_parse_event_body(const char *body, size_t len, const char *calendar_id,
                                   struct cal_event *out);

/* --- change notifications (webhooks) --- */

/* Graph's validation handshake: a POST to the notification URL with a validationToken query
 * parameter must be answered at once with 200, Content-Type text/plain, and the decoded token as
 * the body, never as HTML (MICROSOFT.md §8). Given the request method and the decoded
 * validationToken (NULL when absent), returns true when the request is such a handshake and the
 * token is usable (1..GRAPH_VALIDATION_TOKEN_MAX bytes, no control characters); the answer body is
 * then the token itself. A false return with a token present means: answer 400. */
bool graph_is_validation_request(const char *method, const char *validation_token);

enum graph_change {
	GRAPH_CHANGE_UNKNOWN = 0,
	GRAPH_CHANGE_CREATED,
	GRAPH_CHANGE_UPDATED,
	GRAPH_CHANGE_DELETED,
};

enum graph_lifecycle {
	GRAPH_LIFECYCLE_NONE = 0, /* an ordinary change notification */
	GRAPH_LIFECYCLE_REAUTHORIZATION_REQUIRED,
	GRAPH_LIFECYCLE_SUBSCRIPTION_REMOVED,
	GRAPH_LIFECYCLE_MISSED,
	GRAPH_LIFECYCLE_OTHER, /* a lifecycle event this version does not know */
};

struct graph_notification {
	char *subscription_id; /* never NULL */
	char *client_state;    /* compare with the stored secret (constant time); may be NULL */
	enum graph_change change;
	char *resource;    /* "Users/{id}/Events/{id}"; may be NULL */
	char *resource_id; /* resourceData.id: the event id; may be NULL */
	enum graph_lifecycle lifecycle;
};

struct graph_notifications {
	struct graph_notification *items;
	size_t n;
};
void graph_notifications_release(struct graph_notifications *n);

/* Parses a changeNotificationCollection body ({"value":[…]}), also the older Outlook lifecycle
 * form ({"SubscriptionId","ChangeType":"SubscriptionRemoved"}). Entries without a subscription id
 * are skipped. CX_EINVAL when the body is not such a JSON object or has more than
 * GRAPH_NOTIFICATIONS_MAX entries. On failure out is zeroed. */
enum cx_err graph_parse_notifications(const char *body, size_t len,
                                      struct graph_notifications *out);

#endif
