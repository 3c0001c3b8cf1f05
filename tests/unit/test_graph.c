/* The Microsoft Graph client (providers/graph.c): builders produce exactly the right requests;
 * parsers take good, missing, wrong-type, huge and non-JSON bodies and turn dateTimeTimeZone into
 * UTC; the classifier follows MICROSOFT.md §9; change notifications and the validation handshake;
 * and a round trip against the sandbox running in this process: /me, calendars, create with a
 * transactionId (a repeat answers the same event), calendarView, a delta round, an outside delete
 * seen as @removed, a Teams link, and a subscription whose validation handshake is answered by a
 * small receiver in this test that also collects the change notifications. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/config.h"
#include "base/time.h"
#include "egress/egress.h"
#include "egress/oauth.h"
#include "http/http.h"
#include "providers/graph.h"
#include "sb.h"
#include "base/banned.h"

#define API "https://graph.microsoft.com/v1.0"
#define TOKEN "eyJ0.test"
#define REDIRECT "http://localhost:7777/oauth/microsoft/callback"
#define SCOPES "offline_access User.Read Calendars.ReadWrite"

static const char *req_header(const struct egress_request *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->n_headers; i++)
		if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
			return r->headers[i] + n + 2;
	return NULL;
}

static json_t *req_body(const struct egress_request *r)
{
	assert_non_null(r->body);
	json_t *b = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(b);
	return b;
}

static struct egress_response resp(long status, const char *body)
{
	struct egress_response r = {0};
	r.status = status;
	r.body = (char *)body;
	r.body_len = strlen(body);
	return r;
}

static const struct cal_meeting_block zoom_block = {
    .provider_name = "Zoom",
    .join_url = "https://zoom.us/j/92674392836?pwd=a&b",
    .meeting_id = "92674392836",
};

static int64_t at(const char *s)
{
	int64_t t;
	assert_int_equal(time_parse_rfc3339(s, &t, NULL), CX_OK);
	return t;
}

/* --- unit tests --- */

static void transaction_ids_and_zones(void **st)
{
	(void)st;
	char a[GRAPH_TRANSACTION_ID_LEN + 1], b[GRAPH_TRANSACTION_ID_LEN + 1],
	    c[GRAPH_TRANSACTION_ID_LEN + 1];
	graph_transaction_id_for("evt_1", a);
	graph_transaction_id_for("evt_1", b);
	graph_transaction_id_for("evt_2", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 36);
	assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');

	assert_string_equal(graph_zone_iana("Pacific Standard Time"), "America/Los_Angeles");
	assert_string_equal(graph_zone_iana("W. Europe Standard Time"), "Europe/Berlin");
	assert_string_equal(graph_zone_iana("India Standard Time"), "Asia/Kolkata");
	assert_string_equal(graph_zone_iana("UTC"), "UTC");
	assert_string_equal(graph_zone_iana("tzone://Microsoft/Utc"), "UTC");
	assert_string_equal(graph_zone_iana("Europe/Paris"), "Europe/Paris");
	assert_null(graph_zone_iana("Mars Standard Time"));
	assert_null(graph_zone_iana("../etc/passwd"));
	assert_null(graph_zone_iana(NULL));
	assert_null(graph_zone_iana(""));
}

static void read_builders(void **st)
{
	(void)st;
	struct egress_request *r = NULL;
	assert_int_equal(graph_me_request(API, TOKEN, &r), CX_OK);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, API "/me");
	assert_string_equal(req_header(r, "Authorization"), "Bearer " TOKEN);
	egress_request_free(r);

	assert_int_equal(graph_calendars_request(API, TOKEN, NULL, &r), CX_OK);
	assert_string_equal(r->url, API "/me/calendars");
	egress_request_free(r);
	assert_int_equal(graph_calendars_request(API, TOKEN, API "/me/calendars?$skip=10", &r),
	                 CX_OK);
	assert_string_equal(r->url, API "/me/calendars?$skip=10");
	egress_request_free(r);
	/* A link elsewhere would carry our token away. */
	assert_int_equal(graph_calendars_request(API, TOKEN, "https://evil.example/v1.0/me", &r),
	                 CX_EINVAL);
	assert_null(r);
	assert_int_equal(graph_calendars_request(API, TOKEN, API "evil.example", &r), CX_EINVAL);

	int64_t s = at("2026-11-01T00:00:00Z"), e = at("2027-01-01T00:00:00Z");
	assert_int_equal(graph_calendar_view_request(API, TOKEN, NULL, s, e, NULL, &r), CX_OK);
	assert_string_equal(r->url, API "/me/calendarView?startDateTime=2026-11-01T00%3A00%3A00Z"
	                                "&endDateTime=2027-01-01T00%3A00%3A00Z&%24top=100");
	assert_string_equal(req_header(r, "Prefer"), "outlook.timezone=\"UTC\"");
	egress_request_free(r);
	assert_int_equal(graph_calendar_view_request(API, TOKEN, "AAMk=/x", s, e, NULL, &r), CX_OK);
	assert_int_equal(strncmp(r->url, API "/me/calendars/AAMk%3D%2Fx/calendarView?", 48), 0);
	egress_request_free(r);
	assert_int_equal(graph_calendar_view_request(API, TOKEN, NULL, e, s, NULL, &r), CX_EINVAL);

	assert_int_equal(graph_delta_request(API, TOKEN, NULL, s, e, NULL, &r), CX_OK);
	assert_string_equal(r->url,
	                    API "/me/calendarView/delta?startDateTime=2026-11-01T00%3A00%3A00Z"
	                        "&endDateTime=2027-01-01T00%3A00%3A00Z");
	assert_string_equal(req_header(r, "Prefer"),
	                    "outlook.timezone=\"UTC\", odata.maxpagesize=100");
	egress_request_free(r);
	/* Links are followed verbatim: no window added again. */
	const char *dl = API "/me/calendarView/delta?$deltatoken=R0usmcMDNGg0J1E";
	assert_int_equal(graph_delta_request(API, TOKEN, NULL, 0, 0, dl, &r), CX_OK);
	assert_string_equal(r->url, dl);
	egress_request_free(r);
	assert_int_equal(graph_delta_request(API, TOKEN, NULL, 0, 0,
	                                     "http://127.0.0.1:1/me/calendarView/delta", &r),
	                 CX_EINVAL);

	assert_int_equal(graph_event_get_request(API, TOKEN, "AAMk/1=", &r), CX_OK);
	assert_string_equal(r->url, API "/me/events/AAMk%2F1%3D");
	egress_request_free(r);
	assert_int_equal(graph_event_delete_request(API, TOKEN, "AAMk1", &r), CX_OK);
	assert_string_equal(r->method, "DELETE");
	assert_string_equal(r->url, API "/me/events/AAMk1");
	assert_null(r->body);
	egress_request_free(r);
	assert_int_equal(graph_event_delete_request(API, TOKEN, NULL, &r), CX_EINVAL);
	assert_int_equal(graph_me_request(API, "", &r), CX_EINVAL);
}

static void write_builders(void **st)
{
	(void)st;
	struct egress_request *r = NULL, *again = NULL;
	int64_t s = at("2026-12-01T09:30:00Z");
	struct cal_event_write w = {.title = "Review",
	                            .description = "<p>Agenda</p>",
	                            .set_time = true,
	                            .start_utc = s,
	                            .end_utc = s + 3600,
	                            .time_zone = "Europe/Berlin",
	                            .calendox_id = "evt_1",
	                            .meeting = &zoom_block};
	char tx[GRAPH_TRANSACTION_ID_LEN + 1];
	graph_transaction_id_for("evt_1", tx);
	assert_int_equal(graph_event_create_request(API, TOKEN, "AAMkCal", &w, &r), CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, API "/me/calendars/AAMkCal/events");
	json_t *b = req_body(r);
	assert_string_equal(json_string_value(json_object_get(b, "transactionId")), tx);
	assert_string_equal(json_string_value(json_object_get(b, "subject")), "Review");
	json_t *start = json_object_get(b, "start");
	assert_string_equal(json_string_value(json_object_get(start, "dateTime")),
	                    "2026-12-01T10:30:00");
	assert_string_equal(json_string_value(json_object_get(start, "timeZone")), "Europe/Berlin");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "end"), "dateTime")),
	    "2026-12-01T11:30:00");
	assert_true(json_is_false(json_object_get(b, "isAllDay")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "location"), "displayName")),
	    zoom_block.join_url);
	json_t *body = json_object_get(b, "body");
	assert_string_equal(json_string_value(json_object_get(body, "contentType")), "html");
	const char *html = json_string_value(json_object_get(body, "content"));
	assert_int_equal(strncmp(html, "<p>Agenda</p><div class=\"calendox-meeting\">", 43), 0);
	assert_non_null(strstr(html, "pwd=a&amp;b"));
	/* A Zoom meeting never sets the Teams fields. */
	assert_null(json_object_get(b, "isOnlineMeeting"));
	assert_null(json_object_get(b, "onlineMeetingProvider"));
	json_decref(b);

	assert_int_equal(graph_event_create_request(API, TOKEN, "AAMkCal", &w, &again), CX_OK);
	assert_int_equal(r->body_len, again->body_len);
	assert_memory_equal(r->body, again->body, r->body_len);
	egress_request_free(r);
	egress_request_free(again);

	/* Teams, all-day, no calendar (default), no zone (UTC). */
	struct cal_event_write t = {.title = "Teams",
	                            .set_time = true,
	                            .start_utc = s,
	                            .end_utc = s + 1800,
	                            .calendox_id = "evt_2",
	                            .conference = CAL_CONFERENCE_TEAMS};
	assert_int_equal(graph_event_create_request(API, TOKEN, NULL, &t, &r), CX_OK);
	assert_string_equal(r->url, API "/me/events");
	b = req_body(r);
	assert_true(json_is_true(json_object_get(b, "isOnlineMeeting")));
	assert_string_equal(json_string_value(json_object_get(b, "onlineMeetingProvider")),
	                    "teamsForBusiness");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "start"), "dateTime")),
	    "2026-12-01T09:30:00");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "start"), "timeZone")), "UTC");
	assert_null(json_object_get(b, "body"));
	json_decref(b);
	egress_request_free(r);

	struct cal_event_write ad = {.title = "Off",
	                             .set_time = true,
	                             .all_day = true,
	                             .start_utc = at("2026-12-24T00:00:00Z"),
	                             .end_utc = at("2026-12-26T00:00:00Z"),
	                             .calendox_id = "evt_3",
	                             .time_zone = "America/New_York"};
	assert_int_equal(graph_event_create_request(API, TOKEN, NULL, &ad, &r), CX_OK);
	b = req_body(r);
	assert_true(json_is_true(json_object_get(b, "isAllDay")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "start"), "dateTime")),
	    "2026-12-24T00:00:00");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "end"), "dateTime")),
	    "2026-12-26T00:00:00");
	json_decref(b);
	egress_request_free(r);

	/* Update: only what is set, no transactionId. */
	struct cal_event_write u = {.title = "Renamed", .location = ""};
	assert_int_equal(graph_event_update_request(API, TOKEN, "AAMk1", &u, &r), CX_OK);
	assert_string_equal(r->method, "PATCH");
	assert_string_equal(r->url, API "/me/events/AAMk1");
	b = req_body(r);
	assert_int_equal(json_object_size(b), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "location"), "displayName")), "");
	json_decref(b);
	egress_request_free(r);

	/* Refused: no id, no times, Meet, bad UTF-8. */
	struct cal_event_write bad = w;
	bad.calendox_id = NULL;
	assert_int_equal(graph_event_create_request(API, TOKEN, NULL, &bad, &r), CX_EINVAL);
	assert_null(r);
	bad = w;
	bad.set_time = false;
	assert_int_equal(graph_event_create_request(API, TOKEN, NULL, &bad, &r), CX_EINVAL);
	bad = w;
	bad.conference = CAL_CONFERENCE_MEET;
	assert_int_equal(graph_event_create_request(API, TOKEN, NULL, &bad, &r), CX_EINVAL);
	bad = w;
	bad.title = "\xc3";
	assert_int_equal(graph_event_create_request(API, TOKEN, NULL, &bad, &r), CX_EINVAL);
	assert_int_equal(graph_event_update_request(API, TOKEN, "", &u, &r), CX_EINVAL);
}

static void subscription_builders(void **st)
{
	(void)st;
	struct egress_request *r = NULL;
	int64_t now = at("2026-01-01T00:00:00Z");
	assert_int_equal(graph_subscription_create_request(
	                     API, TOKEN, "https://calendox.example/webhooks/microsoft",
	                     "https://calendox.example/webhooks/microsoft", "state-secret",
	                     now + 7 * 86400, now, &r),
	                 CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, API "/subscriptions");
	json_t *b = req_body(r);
	assert_string_equal(json_string_value(json_object_get(b, "changeType")),
	                    "created,updated,deleted");
	assert_string_equal(json_string_value(json_object_get(b, "resource")), "me/events");
	assert_string_equal(json_string_value(json_object_get(b, "clientState")), "state-secret");
	assert_string_equal(json_string_value(json_object_get(b, "notificationUrl")),
	                    "https://calendox.example/webhooks/microsoft");
	assert_non_null(json_object_get(b, "lifecycleNotificationUrl"));
	/* Clamped to 4,230 minutes. */
	int64_t exp = at(json_string_value(json_object_get(b, "expirationDateTime")));
	assert_true(exp == now + 4230 * 60);
	json_decref(b);
	egress_request_free(r);

	char long_state[130];
	memset(long_state, 's', 129);
	long_state[129] = '\0';
	assert_int_equal(graph_subscription_create_request(API, TOKEN, "https://x.example/h", NULL,
	                                                   long_state, now + 3600, now, &r),
	                 CX_EINVAL);
	assert_int_equal(graph_subscription_create_request(API, TOKEN, "https://x.example/h", NULL,
	                                                   "s", now, now, &r),
	                 CX_EINVAL);

	assert_int_equal(graph_subscription_renew_request(API, TOKEN, "sub-1", now + 3600, now, &r),
	                 CX_OK);
	assert_string_equal(r->method, "PATCH");
	assert_string_equal(r->url, API "/subscriptions/sub-1");
	b = req_body(r);
	assert_int_equal(json_object_size(b), 1);
	assert_true(at(json_string_value(json_object_get(b, "expirationDateTime"))) == now + 3600);
	json_decref(b);
	egress_request_free(r);

	assert_int_equal(graph_subscription_delete_request(API, TOKEN, "sub-1", &r), CX_OK);
	assert_string_equal(r->method, "DELETE");
	assert_string_equal(r->url, API "/subscriptions/sub-1");
	egress_request_free(r);
}

static void parse_events_and_pages(void **st)
{
	(void)st;
	struct cal_event e;
	const char *ev =
	    "{\"@odata.etag\":\"W/\\\"EZ9r\\\"\",\"id\":\"AAMk1\",\"changeKey\":\"EZ9r3c\","
	    "\"subject\":\"Review\",\"body\":{\"contentType\":\"html\",\"content\":\"<p>x</p>\"},"
	    "\"start\":{\"dateTime\":\"2026-12-01T10:30:00.0000000\",\"timeZone\":"
	    "\"W. Europe Standard Time\"},\"end\":{\"dateTime\":\"2026-12-01T11:30:00.0000000\","
	    "\"timeZone\":\"W. Europe Standard Time\"},\"location\":{\"displayName\":\"Room\"},"
	    "\"originalStartTimeZone\":\"Pacific Standard Time\",\"isOnlineMeeting\":true,"
	    "\"onlineMeeting\":{\"joinUrl\":\"https://teams.microsoft.com/l/meetup-join/1\"},"
	    "\"lastModifiedDateTime\":\"2026-11-20T10:00:00.1234567Z\",\"type\":\"occurrence\","
	    "\"seriesMasterId\":\"AAMkS\",\"originalStart\":\"2026-12-01T09:30:00Z\"}";
	assert_int_equal(graph_parse_event_body(ev, strlen(ev), "AAMkCal", &e), CX_OK);
	assert_string_equal(e.external_id, "AAMk1");
	assert_string_equal(e.calendar_external_id, "AAMkCal");
	assert_string_equal(e.title, "Review");
	assert_string_equal(e.description, "<p>x</p>");
	assert_string_equal(e.location, "Room");
	assert_true(e.start_utc == at("2026-12-01T09:30:00Z"));
	assert_true(e.end_utc == at("2026-12-01T10:30:00Z"));
	assert_string_equal(e.time_zone, "America/Los_Angeles");
	assert_string_equal(e.etag, "EZ9r3c");
	assert_string_equal(e.join_url, "https://teams.microsoft.com/l/meetup-join/1");
	assert_int_equal(e.conference_status, CAL_CONF_SUCCESS);
	assert_string_equal(e.recurring_series_id, "AAMkS");
	assert_true(e.original_start == at("2026-12-01T09:30:00Z"));
	assert_true(e.updated == at("2026-11-20T10:00:00Z"));
	assert_int_equal(e.status, CAL_STATUS_CONFIRMED);
	cal_event_release(&e);

	/* UTC (our Prefer), all-day, cancelled, tentative, unknown zone. */
	const char *allday = "{\"id\":\"A2\",\"isAllDay\":true,\"isCancelled\":true,\"start\":{"
	                     "\"dateTime\":\"2026-12-24T00:00:00.0000000\",\"timeZone\":\"UTC\"},"
	                     "\"end\":{\"dateTime\":\"2026-12-25T00:00:00.0000000\",\"timeZone\":"
	                     "\"UTC\"}}";
	assert_int_equal(graph_parse_event_body(allday, strlen(allday), NULL, &e), CX_OK);
	assert_true(e.all_day);
	assert_string_equal(e.start_date, "2026-12-24");
	assert_string_equal(e.end_date, "2026-12-25");
	assert_true(e.start_utc == at("2026-12-24T00:00:00Z"));
	assert_int_equal(e.status, CAL_STATUS_CANCELLED);
	assert_string_equal(e.time_zone, "UTC");
	cal_event_release(&e);
	const char *odd =
	    "{\"id\":\"A3\",\"showAs\":\"tentative\",\"start\":{\"dateTime\":"
	    "\"2026-12-24T10:00:00\",\"timeZone\":\"Mars Standard Time\"},\"end\":{"
	    "\"dateTime\":\"2026-12-24T11:00:00\",\"timeZone\":\"Mars Standard Time\"},"
	    "\"subject\":[],\"body\":\"x\",\"location\":{\"displayName\":\"\"}}";
	assert_int_equal(graph_parse_event_body(odd, strlen(odd), NULL, &e), CX_OK);
	assert_int_equal(e.status, CAL_STATUS_TENTATIVE);
	assert_true(e.start_utc == 0);
	assert_null(e.title);
	assert_null(e.description);
	assert_null(e.location);
	assert_null(e.time_zone);
	cal_event_release(&e);

	const char *bad[] = {"{\"subject\":\"x\"}",        "{\"id\":1}", "[]", "<html/>", "",
	                     "{\"id\":\"a\",\"id\":\"b\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(graph_parse_event_body(bad[i], strlen(bad[i]), NULL, &e),
		                 CX_EUPSTREAM);
		assert_null(e.external_id);
	}

	struct cal_event_page p;
	const char *delta =
	    "{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#Collection(event)\","
	    "\"@odata.deltaLink\":\"https://graph.microsoft.com/v1.0/me/calendarView/delta?"
	    "$deltatoken=R0us\",\"value\":[{\"@odata.type\":\"#microsoft.graph.event\",\"id\":"
	    "\"AAMkADk0\",\"@removed\":{\"reason\":\"deleted\"}},{\"subject\":\"Attend service\","
	    "\"start\":{\"dateTime\":\"2016-12-25T06:00:00.0000000\",\"timeZone\":\"UTC\"},\"end\":"
	    "{"
	    "\"dateTime\":\"2016-12-25T07:30:00.0000000\",\"timeZone\":\"UTC\"},\"id\":"
	    "\"AAMkADj1HvAAA=\"},\"junk\",{\"no\":\"id\"}]}";
	assert_int_equal(graph_parse_event_page_body(delta, strlen(delta), NULL, &p), CX_OK);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.events[0].external_id, "AAMkADk0");
	assert_int_equal(p.events[0].status, CAL_STATUS_CANCELLED);
	assert_int_equal(p.events[1].status, CAL_STATUS_CONFIRMED);
	assert_true(p.events[1].end_utc - p.events[1].start_utc == 5400);
	assert_null(p.next_page_token);
	assert_string_equal(
	    p.next_sync_token,
	    "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0us");
	cal_event_page_release(&p);
	const char *next = "{\"value\":[],\"@odata.nextLink\":\"https://g/x?$skiptoken=1\"}";
	assert_int_equal(graph_parse_event_page_body(next, strlen(next), NULL, &p), CX_OK);
	assert_string_equal(p.next_page_token, "https://g/x?$skiptoken=1");
	cal_event_page_release(&p);
	const char *pbad[] = {"{}", "{\"value\":{}}", "{\"value\":[],\"@odata.nextLink\":3}", "x"};
	for (size_t i = 0; i < sizeof(pbad) / sizeof(pbad[0]); i++)
		assert_int_equal(graph_parse_event_page_body(pbad[i], strlen(pbad[i]), NULL, &p),
		                 CX_EUPSTREAM);

	/* A huge subject is cut; over CAL_BODY_MAX is refused. */
	size_t big = CAL_TEXT_MAX + 10;
	char *text = xmalloc(big + 64);
	int n = snprintf(text, 64, "{\"id\":\"big\",\"subject\":\"");
	memset(text + n, 'y', big);
	memcpy(text + n + big, "\"}", 3);
	assert_int_equal(graph_parse_event_body(text, strlen(text), NULL, &e), CX_OK);
	assert_int_equal(strlen(e.title), CAL_TEXT_MAX);
	cal_event_release(&e);
	free(text);
	assert_int_equal(graph_parse_event_body("{}", CAL_BODY_MAX + 1, NULL, &e), CX_ETOOBIG);

	struct cal_calendar_page c;
	const char *cals =
	    "{\"value\":[{\"id\":\"C1\",\"name\":\"Calendar\",\"isDefaultCalendar\":"
	    "true,\"canEdit\":true,\"hexColor\":\"#e3008c\"},{\"id\":\"C2\",\"name\":"
	    "\"Birthdays\",\"canEdit\":false,\"hexColor\":\"\"},{\"name\":\"x\"}]}";
	assert_int_equal(graph_parse_calendars_body(cals, strlen(cals), &c), CX_OK);
	assert_int_equal(c.n, 2);
	assert_true(c.items[0].primary && c.items[0].writable);
	assert_string_equal(c.items[0].color, "#e3008c");
	assert_false(c.items[1].writable);
	assert_null(c.items[1].color);
	cal_calendar_page_release(&c);

	struct graph_user u;
	const char *me = "{\"id\":\"u1\",\"userPrincipalName\":\"alice@contoso.example\","
	                 "\"mail\":null,\"displayName\":\"Alice\"}";
	assert_int_equal(graph_parse_user_body(me, strlen(me), &u), CX_OK);
	assert_string_equal(u.email, "alice@contoso.example");
	graph_user_release(&u);
	assert_int_equal(graph_parse_user_body("{}", 2, &u), CX_EUPSTREAM);
}

static void classify_errors(void **st)
{
	(void)st;
	struct cal_error e;
	struct egress_response r =
	    resp(401, "{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"Access "
	              "token has expired.\",\"innerError\":{\"date\":\"2024-07-15T14:30:00\"}}}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_EAUTH);
	assert_true(e.auth_invalid);
	assert_string_equal(e.reason, "InvalidAuthenticationToken");

	r = resp(404, "{\"error\":{\"code\":\"ErrorItemNotFound\",\"message\":\"The specified "
	              "object was not found in the store.\"}}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_ENOTFOUND);
	assert_true(e.not_found);
	bool already = false;
	assert_int_equal(graph_delete_result(&r, 0, &already, NULL), CX_OK);
	assert_true(already);

	r = resp(410, "{\"error\":{\"code\":\"syncStateNotFound\",\"message\":\"gone\"}}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_ENOTFOUND);
	assert_true(e.gone);
	struct cal_event_page p;
	assert_int_equal(graph_parse_event_page(&r, 0, NULL, &p, &e), CX_OK);
	assert_true(p.full_sync_required);
	cal_event_page_release(&p);
	r = resp(400, "{\"error\":{\"code\":\"resyncRequired\",\"message\":\"x\"}}");
	assert_int_equal(graph_parse_event_page(&r, 0, NULL, &p, NULL), CX_OK);
	assert_true(p.full_sync_required);
	cal_event_page_release(&p);
	/* A 2xx that is not the expected JSON is garbage: retryable, never a success. */
	r = resp(200, "<html>Sign in</html>");
	memset(&e, 0, sizeof(e));
	assert_int_equal(graph_parse_event_page(&r, 0, NULL, &p, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_string_equal(e.message, "the answer is not the expected JSON");
	struct graph_user u;
	assert_int_equal(graph_parse_user(&r, 0, &u, NULL), CX_EUPSTREAM);
	r = resp(410, "{\"error\":{\"code\":\"syncStateNotFound\",\"message\":\"gone\"}}");
	/* 410 is not "already deleted" for an event delete. */
	assert_int_equal(graph_delete_result(&r, 0, &already, NULL), CX_ENOTFOUND);

	r = resp(429, "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"slow down\"}}");
	r.headers[0] = "retry-after: 30";
	r.n_headers = 1;
	assert_int_equal(graph_classify(&r, 0, &e), CX_EBUSY);
	assert_true(e.rate_limited && e.retryable);
	assert_int_equal(e.retry_after_s, 30);

	r = resp(503, "{\"error\":{\"code\":\"serviceNotAvailable\"}}");
	r.headers[0] = "retry-after: 4";
	r.n_headers = 1;
	assert_int_equal(graph_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_int_equal(e.retry_after_s, 4);
	r = resp(504, "<html>Gateway Timeout</html>");
	assert_int_equal(graph_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_true(e.retryable);

	r = resp(403, "{\"error\":{\"code\":\"ErrorAccessDenied\"}}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_EFORBIDDEN);
	r = resp(400, "{\"error\":{\"code\":\"ErrorOccurrenceCrossingBoundary\"}}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_false(e.retryable);
	r = resp(412, "{\"error\":{\"code\":\"ErrorIrresolvableConflict\"}}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_ECONFLICT);
	assert_true(e.precondition);
	r = resp(400, "{\"error\":\"not an object\"}");
	assert_int_equal(graph_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_string_equal(e.reason, "");

	struct graph_subscription s;
	r = resp(201, "{\"id\":\"sub1\",\"resource\":\"me/events\",\"expirationDateTime\":"
	              "\"2026-01-03T11:00:00.0000000Z\"}");
	assert_int_equal(graph_parse_subscription(&r, 0, &s, &e), CX_OK);
	assert_string_equal(s.id, "sub1");
	assert_true(s.expiration_s == at("2026-01-03T11:00:00Z"));
	graph_subscription_release(&s);
	r = resp(201, "{\"resource\":\"me/events\"}");
	assert_int_equal(graph_parse_subscription(&r, 0, &s, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
}

static void notifications_and_handshake(void **st)
{
	(void)st;
	assert_true(graph_is_validation_request("POST", "Validation: Token 123"));
	assert_false(graph_is_validation_request("GET", "t"));
	assert_false(graph_is_validation_request("POST", NULL));
	assert_false(graph_is_validation_request("POST", ""));
	assert_false(graph_is_validation_request("POST", "a\r\nb"));
	char *huge = xmalloc(GRAPH_VALIDATION_TOKEN_MAX + 2);
	memset(huge, 't', GRAPH_VALIDATION_TOKEN_MAX + 1);
	huge[GRAPH_VALIDATION_TOKEN_MAX + 1] = '\0';
	assert_false(graph_is_validation_request("POST", huge));
	free(huge);

	struct graph_notifications n;
	const char *body =
	    "{\"value\":[{\"id\":\"lsgTZMr9KwAAA\",\"subscriptionId\":\"sub-1\","
	    "\"subscriptionExpirationDateTime\":\"2026-01-03T11:00:00Z\",\"clientState\":\"cs\","
	    "\"changeType\":\"deleted\",\"resource\":\"Users/u/Events/AAMk1\",\"tenantId\":\"t\","
	    "\"resourceData\":{\"@odata.type\":\"#Microsoft.Graph.Event\",\"id\":\"AAMk1\"}},"
	    "{\"subscriptionId\":\"sub-2\",\"clientState\":\"cs2\",\"lifecycleEvent\":"
	    "\"reauthorizationRequired\"},{\"SubscriptionId\":\"sub-3\",\"ChangeType\":"
	    "\"SubscriptionRemoved\"},{\"changeType\":\"created\"},5]}";
	assert_int_equal(graph_parse_notifications(body, strlen(body), &n), CX_OK);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.items[0].subscription_id, "sub-1");
	assert_string_equal(n.items[0].client_state, "cs");
	assert_int_equal(n.items[0].change, GRAPH_CHANGE_DELETED);
	assert_string_equal(n.items[0].resource_id, "AAMk1");
	assert_int_equal(n.items[0].lifecycle, GRAPH_LIFECYCLE_NONE);
	assert_int_equal(n.items[1].lifecycle, GRAPH_LIFECYCLE_REAUTHORIZATION_REQUIRED);
	assert_int_equal(n.items[1].change, GRAPH_CHANGE_UNKNOWN);
	assert_int_equal(n.items[2].lifecycle, GRAPH_LIFECYCLE_SUBSCRIPTION_REMOVED);
	assert_null(n.items[2].client_state);
	graph_notifications_release(&n);

	const char *bad[] = {"", "{}", "{\"value\":{}}", "[]", "validationToken=abc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(graph_parse_notifications(bad[i], strlen(bad[i]), &n), CX_EINVAL);
		assert_null(n.items);
	}
}

/* --- against the sandbox --- */

static struct sb *sb;
static struct egress *eg;
static char *api;
static char *access_token;
static struct http_server *receiver;
static pthread_mutex_t recv_lock = PTHREAD_MUTEX_INITIALIZER;
static int validations;
static char last_client_state[64];
static char last_deleted[256];
static int deleted_notes;

/* The notification URL: answers the handshake as graph_is_validation_request says, and records
 * the change notifications it parses. */
static void hook(struct http_request *req)
{
	const char *token = http_query(req, "validationToken");
	if (graph_is_validation_request("POST", token)) {
		pthread_mutex_lock(&recv_lock);
		validations++;
		pthread_mutex_unlock(&recv_lock);
		http_reply(req, 200, "text/plain", token, strlen(token));
		return;
	}
	struct graph_notifications n;
	if (!req->body || graph_parse_notifications(req->body, strlen(req->body), &n) != CX_OK) {
		http_reply_empty(req, 400);
		return;
	}
	pthread_mutex_lock(&recv_lock);
	for (size_t i = 0; i < n.n; i++) {
		snprintf(last_client_state, sizeof(last_client_state), "%s",
		         n.items[i].client_state ? n.items[i].client_state : "");
		if (n.items[i].change == GRAPH_CHANGE_DELETED) {
			deleted_notes++;
			snprintf(last_deleted, sizeof(last_deleted), "%s",
			         n.items[i].resource_id ? n.items[i].resource_id : "");
		}
	}
	pthread_mutex_unlock(&recv_lock);
	graph_notifications_release(&n);
	http_reply_empty(req, 202);
}

static const struct http_route receiver_routes[] = {{"POST", "/hook", hook}};

static struct egress_response *send_req(struct egress_request *r)
{
	struct egress_response *out = NULL;
	egress_call(eg, r, &out);
	assert_non_null(out);
	assert_int_equal(out->err, CX_OK);
	return out;
}

static struct egress_response *control(const char *path, const char *body)
{
	char *url = xasprintf("%s%s", sb->base_url, path);
	struct egress_request *r = egress_request_new("POST", url);
	free(url);
	if (body)
		egress_request_body(r, "application/json", body, strlen(body));
	return send_req(r);
}

static char *decode_param(const char *url, const char *name)
{
	size_t n = strlen(name);
	const char *q = strchr(url, '?');
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			int outlen;
			char *d = curl_easy_unescape(NULL, p + n + 1, (int)(len - n - 1), &outlen);
			char *out = xstrdup(d);
			curl_free(d);
			return out;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static char *connect_microsoft(void)
{
	struct provider_config pc = {
	    .client_id = "sandbox-microsoft-client",
	    .client_secret = "sandbox-secret",
	    .scopes = SCOPES,
	    .auth_url = xasprintf("%s/microsoft/common/oauth2/v2.0/authorize", sb->base_url),
	    .token_url = xasprintf("%s/microsoft/common/oauth2/v2.0/token", sb->base_url),
	};
	struct oauth_pkce pk;
	struct oauth_param extras[] = {{"response_mode", "query"}, {NULL, NULL}};
	char *url = NULL;
	oauth_pkce_new(&pk);
	assert_int_equal(oauth_authorize_url(&pc, REDIRECT, "st1", pk.challenge, extras, &url),
	                 CX_OK);
	char *form =
	    xasprintf("%s&user=alice%%40contoso.example&decision=allow", strchr(url, '?') + 1);
	char *decision = xasprintf("%s/decision", pc.auth_url);
	struct egress_request *r = egress_request_new("POST", decision);
	egress_request_body(r, "application/x-www-form-urlencoded", form, strlen(form));
	struct egress_response *d = send_req(r);
	assert_int_equal(d->status, 302);
	char *code = decode_param(egress_response_header(d, "location"), "code");
	assert_non_null(code);
	struct egress_request *tr = NULL;
	assert_int_equal(
	    oauth_code_request(&pc, OAUTH_AUTH_BODY, code, REDIRECT, pk.verifier, NULL, &tr),
	    CX_OK);
	struct egress_response *t = send_req(tr);
	struct oauth_tokens tok;
	assert_int_equal(oauth_parse_tokens(t, time_wall_s(), NULL, &tok, NULL), CX_OK);
	assert_non_null(tok.refresh_token);
	char *access = xstrdup(tok.access_token);
	oauth_tokens_release(&tok);
	egress_response_free(t);
	egress_response_free(d);
	free(code);
	free(decision);
	free(form);
	free(url);
	free(pc.auth_url);
	free(pc.token_url);
	return access;
}

static int setup(void **st)
{
	(void)st;
	struct sandbox_options opts = {.port = 0, .seed = 13, .threads = 3};
	struct http_server_options ro = {
	    .host = "127.0.0.1",
	    .threads = 2,
	    .max_connections = 16,
	    .idle_timeout_s = 5,
	    .max_body = 65536,
	    .max_header_memory = 16384,
	    .routes = receiver_routes,
	    .n_routes = 1,
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (sandbox_start(&opts, &sb) != CX_OK || http_server_start(&ro, &receiver) != CX_OK ||
	    egress_start(4, 64, &eg) != CX_OK)
		return -1;
	api = xasprintf("%s/microsoft/v1.0", sb->base_url);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	egress_stop(eg);
	sandbox_stop(sb);
	http_server_stop(receiver);
	free(api);
	free(access_token);
	curl_global_cleanup();
	return 0;
}

static int reset_each(void **st)
{
	(void)st;
	egress_response_free(control("/_sandbox/reset", NULL));
	pthread_mutex_lock(&recv_lock);
	validations = 0;
	deleted_notes = 0;
	last_client_state[0] = last_deleted[0] = '\0';
	pthread_mutex_unlock(&recv_lock);
	free(access_token);
	access_token = connect_microsoft();
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static struct cal_event create_event(const char *calendar_id, const struct cal_event_write *w)
{
	struct egress_request *r = NULL;
	struct cal_event e;
	struct cal_error err;
	assert_int_equal(graph_event_create_request(api, access_token, calendar_id, w, &r), CX_OK);
	struct egress_response *a = send_req(r);
	if (a->status != 201)
		fprintf(stderr, "create: %ld %s\n", a->status, a->body);
	assert_int_equal(a->status, 201);
	assert_int_equal(graph_parse_event(a, time_wall_s(), calendar_id, &e, &err), CX_OK);
	egress_response_free(a);
	return e;
}

/* Runs one delta round from link (NULL: the initial window) to its deltaLink. */
static void delta_round(const char *link, int64_t s, int64_t t, struct cal_event_page *all,
                        char **delta_link)
{
	char *next = link ? xstrdup(link) : NULL;
	memset(all, 0, sizeof(*all));
	all->events = xcalloc(64, sizeof(*all->events));
	for (int pages = 0;; pages++) {
		struct egress_request *r = NULL;
		struct cal_event_page page;
		assert_true(pages < 20);
		assert_int_equal(graph_delta_request(api, access_token, NULL, s, t, next, &r),
		                 CX_OK);
		struct egress_response *a = send_req(r);
		if (a->status != 200)
			fprintf(stderr, "delta: %ld %s\n", a->status, a->body);
		assert_int_equal(graph_parse_event_page(a, time_wall_s(), NULL, &page, NULL),
		                 CX_OK);
		egress_response_free(a);
		for (size_t i = 0; i < page.n && all->n < 64; i++) {
			all->events[all->n++] = page.events[i];
			memset(&page.events[i], 0, sizeof(page.events[i]));
		}
		free(next);
		next = page.next_page_token ? xstrdup(page.next_page_token) : NULL;
		if (!next) {
			assert_non_null(page.next_sync_token);
			*delta_link = xstrdup(page.next_sync_token);
			cal_event_page_release(&page);
			break;
		}
		cal_event_page_release(&page);
	}
}

static const struct cal_event *find(const struct cal_event_page *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->events[i].external_id, id) == 0)
			return &p->events[i];
	return NULL;
}

static void sandbox_round_trip(void **st)
{
	(void)st;
	int64_t now = time_wall_s();
	struct egress_request *r = NULL;
	struct egress_response *a;
	struct cal_error err;

	struct graph_user me;
	assert_int_equal(graph_me_request(api, access_token, &r), CX_OK);
	a = send_req(r);
	assert_int_equal(graph_parse_user(a, now, &me, &err), CX_OK);
	egress_response_free(a);
	assert_string_equal(me.email, "alice@contoso.example");
	graph_user_release(&me);

	struct cal_calendar_page cals;
	assert_int_equal(graph_calendars_request(api, access_token, NULL, &r), CX_OK);
	a = send_req(r);
	assert_int_equal(graph_parse_calendars(a, now, &cals, &err), CX_OK);
	egress_response_free(a);
	assert_true(cals.n >= 1);
	assert_string_equal(cals.items[0].name, "Calendar");
	assert_true(cals.items[0].primary && cals.items[0].writable);
	char *cal_id = xstrdup(cals.items[0].external_id);
	cal_calendar_page_release(&cals);

	/* Create with a transactionId and the Zoom block; the repeat answers the same event. */
	int64_t start = (now / 3600 + 24) * 3600;
	struct cal_event_write w = {.title = "Planning",
	                            .description = "<p>Notes</p>",
	                            .set_time = true,
	                            .start_utc = start,
	                            .end_utc = start + 1800,
	                            .time_zone = "Europe/Berlin",
	                            .calendox_id = "cx-evt-1",
	                            .meeting = &zoom_block};
	struct cal_event e1 = create_event(cal_id, &w);
	assert_true(e1.start_utc == start && e1.end_utc == start + 1800);
	assert_string_equal(e1.location, zoom_block.join_url);
	assert_true(cal_description_has_block(e1.description));
	assert_string_equal(e1.time_zone, "Europe/Berlin");
	struct cal_event again = create_event(cal_id, &w);
	assert_string_equal(again.external_id, e1.external_id);
	cal_event_release(&again);

	struct cal_event_write w2 = {.title = "Second",
	                             .set_time = true,
	                             .start_utc = start + 7200,
	                             .end_utc = start + 9000,
	                             .calendox_id = "cx-evt-2"};
	struct cal_event e2 = create_event(NULL, &w2);
	assert_string_not_equal(e2.external_id, e1.external_id);

	/* calendarView over the window shows both, in UTC. */
	assert_int_equal(
	    graph_calendar_view_request(api, access_token, NULL, now, now + 7 * 86400, NULL, &r),
	    CX_OK);
	a = send_req(r);
	struct cal_event_page view;
	assert_int_equal(graph_parse_event_page(a, now, NULL, &view, &err), CX_OK);
	egress_response_free(a);
	const struct cal_event *v1 = find(&view, e1.external_id);
	assert_non_null(v1);
	assert_true(v1->start_utc == start);
	assert_non_null(find(&view, e2.external_id));
	cal_event_page_release(&view);

	/* Delta: initial round, an outside delete, the next round shows @removed. */
	struct cal_event_page all;
	char *link = NULL, *link2 = NULL;
	delta_round(NULL, now, now + 7 * 86400, &all, &link);
	assert_non_null(find(&all, e1.external_id));
	assert_non_null(find(&all, e2.external_id));
	cal_event_page_release(&all);
	char *path = xasprintf("/_sandbox/microsoft/events/%s/delete", e2.external_id);
	a = control(path, NULL);
	assert_true(a->status >= 200 && a->status < 300);
	egress_response_free(a);
	free(path);
	delta_round(link, 0, 0, &all, &link2);
	const struct cal_event *removed = find(&all, e2.external_id);
	assert_non_null(removed);
	assert_int_equal(removed->status, CAL_STATUS_CANCELLED);
	assert_null(find(&all, e1.external_id));
	cal_event_page_release(&all);

	/* Update, strip the block, then delete twice (404 = already gone). */
	char *plain = NULL;
	assert_int_equal(cal_description_set_block(e1.description, NULL, true, &plain), CX_OK);
	struct cal_event_write u = {
	    .title = "Planning (moved)", .description = plain, .location = ""};
	assert_int_equal(graph_event_update_request(api, access_token, e1.external_id, &u, &r),
	                 CX_OK);
	a = send_req(r);
	struct cal_event up;
	assert_int_equal(graph_parse_event(a, now, NULL, &up, &err), CX_OK);
	egress_response_free(a);
	assert_string_equal(up.title, "Planning (moved)");
	assert_false(cal_description_has_block(up.description));
	assert_null(up.location);
	assert_string_not_equal(up.etag, e1.etag);
	cal_event_release(&up);
	free(plain);
	bool already = true;
	assert_int_equal(graph_event_delete_request(api, access_token, e1.external_id, &r), CX_OK);
	a = send_req(r);
	assert_int_equal(a->status, 204);
	assert_int_equal(graph_delete_result(a, now, &already, &err), CX_OK);
	assert_false(already);
	egress_response_free(a);
	assert_int_equal(graph_event_delete_request(api, access_token, e1.external_id, &r), CX_OK);
	a = send_req(r);
	assert_int_equal(graph_delete_result(a, now, &already, &err), CX_OK);
	assert_true(already);
	assert_string_equal(err.reason, "ErrorItemNotFound");
	egress_response_free(a);

	/* A dead delta link: 410, full sync. */
	egress_response_free(control("/_sandbox/microsoft/invalidate_delta_tokens", NULL));
	assert_int_equal(graph_delta_request(api, access_token, NULL, 0, 0, link2, &r), CX_OK);
	a = send_req(r);
	struct cal_event_page dead;
	assert_int_equal(graph_parse_event_page(a, now, NULL, &dead, &err), CX_OK);
	assert_true(dead.full_sync_required);
	egress_response_free(a);
	cal_event_page_release(&dead);

	/* A bad token: 401 InvalidAuthenticationToken. */
	assert_int_equal(graph_me_request(api, "bad-token", &r), CX_OK);
	a = send_req(r);
	assert_int_equal(graph_classify(a, now, &err), CX_EAUTH);
	assert_string_equal(err.reason, "InvalidAuthenticationToken");
	egress_response_free(a);

	cal_event_release(&e1);
	cal_event_release(&e2);
	free(link);
	free(link2);
	free(cal_id);
}

static void sandbox_teams_link(void **st)
{
	(void)st;
	int64_t now = time_wall_s(), start = (now / 3600 + 30) * 3600;
	struct cal_event_write w = {.title = "Teams call",
	                            .set_time = true,
	                            .start_utc = start,
	                            .end_utc = start + 1800,
	                            .calendox_id = "cx-teams-1",
	                            .conference = CAL_CONFERENCE_TEAMS};
	struct cal_event e = create_event(NULL, &w);
	assert_non_null(e.join_url);
	assert_non_null(strstr(e.join_url, "/microsoft/teams/l/meetup-join/"));
	assert_int_equal(e.conference_status, CAL_CONF_SUCCESS);
	struct egress_request *r = NULL;
	assert_int_equal(graph_event_get_request(api, access_token, e.external_id, &r), CX_OK);
	struct egress_response *a = send_req(r);
	struct cal_event read;
	assert_int_equal(graph_parse_event(a, now, NULL, &read, NULL), CX_OK);
	egress_response_free(a);
	assert_string_equal(read.join_url, e.join_url);
	cal_event_release(&read);
	cal_event_release(&e);
}

static void sandbox_subscription(void **st)
{
	(void)st;
	int64_t now = time_wall_s();
	struct egress_request *r = NULL;
	struct egress_response *a;
	struct cal_error err;
	char *hook_url = xasprintf("http://127.0.0.1:%d/hook", http_server_port(receiver));
	assert_int_equal(graph_subscription_create_request(api, access_token, hook_url, NULL,
	                                                   "client-state-1", now + 86400, now, &r),
	                 CX_OK);
	a = send_req(r);
	if (a->status != 201)
		fprintf(stderr, "subscribe: %ld %s\n", a->status, a->body);
	struct graph_subscription s;
	assert_int_equal(graph_parse_subscription(a, now, &s, &err), CX_OK);
	egress_response_free(a);
	pthread_mutex_lock(&recv_lock);
	assert_int_equal(validations, 1);
	pthread_mutex_unlock(&recv_lock);
	assert_true(s.expiration_s > now + 86400 - 120 && s.expiration_s <= now + 86400 + 120);

	/* A change reaches the receiver with our clientState. */
	int64_t start = (now / 3600 + 26) * 3600;
	struct cal_event_write w = {.title = "Notify",
	                            .set_time = true,
	                            .start_utc = start,
	                            .end_utc = start + 600,
	                            .calendox_id = "cx-sub-1"};
	struct cal_event e = create_event(NULL, &w);
	char *path = xasprintf("/_sandbox/microsoft/events/%s/delete", e.external_id);
	egress_response_free(control(path, NULL));
	free(path);
	int seen = 0;
	for (int i = 0; i < 300 && !seen; i++) {
		pthread_mutex_lock(&recv_lock);
		seen = deleted_notes;
		pthread_mutex_unlock(&recv_lock);
		if (!seen)
			sleep_ms(10);
	}
	pthread_mutex_lock(&recv_lock);
	assert_true(deleted_notes >= 1);
	assert_string_equal(last_deleted, e.external_id);
	assert_string_equal(last_client_state, "client-state-1");
	pthread_mutex_unlock(&recv_lock);

	/* Renew, then delete. */
	assert_int_equal(
	    graph_subscription_renew_request(api, access_token, s.id, now + 2 * 86400, now, &r),
	    CX_OK);
	a = send_req(r);
	struct graph_subscription renewed;
	assert_int_equal(graph_parse_subscription(a, now, &renewed, &err), CX_OK);
	egress_response_free(a);
	assert_true(renewed.expiration_s > s.expiration_s);
	graph_subscription_release(&renewed);
	assert_int_equal(graph_subscription_delete_request(api, access_token, s.id, &r), CX_OK);
	a = send_req(r);
	assert_int_equal(a->status, 204);
	assert_int_equal(graph_classify(a, now, &err), CX_OK);
	egress_response_free(a);

	cal_event_release(&e);
	graph_subscription_release(&s);
	free(hook_url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(transaction_ids_and_zones),
	    cmocka_unit_test(read_builders),
	    cmocka_unit_test(write_builders),
	    cmocka_unit_test(subscription_builders),
	    cmocka_unit_test(parse_events_and_pages),
	    cmocka_unit_test(classify_errors),
	    cmocka_unit_test(notifications_and_handshake),
	    cmocka_unit_test_setup(sandbox_round_trip, reset_each),
	    cmocka_unit_test_setup(sandbox_teams_link, reset_each),
	    cmocka_unit_test_setup(sandbox_subscription, reset_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
