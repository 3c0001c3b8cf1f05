/* The Google Calendar client (providers/google.c): builders produce exactly the right requests,
 * and every request is checked against the discovery document (shared/specs/google/
 * calendar.v3.json: each query parameter is declared for the method with its type, each body field
 * exists in the request schema with its type); parsers take good, missing, wrong-type, huge and
 * non-JSON bodies; the classifier follows GOOGLE.md §9; and a round trip against the sandbox
 * running in this process: calendarList, insert with a client id (a retry answers 409 and reads
 * back), initial listing in pages, an outside delete seen by incremental sync, patch, delete and a
 * second delete (410), a Meet link, a push channel and its stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/config.h"
#include "base/form.h"
#include "base/time.h"
#include "egress/egress.h"
#include "egress/oauth.h"
#include "providers/google.h"
#include "sb.h"
#include "base/banned.h"

#define API "https://www.googleapis.com/calendar/v3"
#define TOKEN "ya29.test-token"
#define REDIRECT "http://127.0.0.1:5555/oauth/google/callback"
#define SCOPES                                                                                     \
	"https://www.googleapis.com/auth/calendar.events "                                         \
	"https://www.googleapis.com/auth/calendar.calendarlist.readonly"

static json_t *discovery;

/* --- request inspection --- */

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

static char *decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len) {
			char hex[3] = {s[i + 1], s[i + 2], 0};
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* The decoded value of a query parameter of url, NULL when absent. */
static char *url_param(const char *url, const char *name)
{
	size_t n = strlen(name);
	const char *q = strchr(url, '?');
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
			return decode(p + n + 1, len - n - 1);
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* --- the discovery document --- */

static json_t *load_discovery(void)
{
	const char *env = getenv("CALENDOX_SHARED");
	char *paths[3] = {
	    env ? xasprintf("%s/specs/google/calendar.v3.json", env) : NULL,
	    xstrdup("../shared/specs/google/calendar.v3.json"),
	    xstrdup("/work/shared/specs/google/calendar.v3.json"),
	};
	json_t *doc = NULL;
	for (int i = 0; i < 3 && !doc; i++)
		if (paths[i])
			doc = json_load_file(paths[i], 0, NULL);
	for (int i = 0; i < 3; i++)
		free(paths[i]);
	return doc;
}

static const json_t *resolve(const json_t *schema)
{
	const char *ref;
	while ((ref = json_string_value(json_object_get(schema, "$ref")))) {
		schema = json_object_get(json_object_get(discovery, "schemas"), ref);
		if (!schema)
			fail_msg("unknown schema %s", ref);
	}
	return schema;
}

static void check_value(const json_t *schema, const json_t *v, const char *path)
{
	schema = resolve(schema);
	const char *type = json_string_value(json_object_get(schema, "type"));
	const char *format = json_string_value(json_object_get(schema, "format"));
	if (!type)
		fail_msg("%s: schema without type", path);
	if (strcmp(type, "string") == 0) {
		if (!json_is_string(v))
			fail_msg("%s must be a string", path);
		if (format && strcmp(format, "int64") == 0)
			assert_int_equal(strspn(json_string_value(v), "0123456789"),
			                 strlen(json_string_value(v)));
		int64_t t;
		if (format && strcmp(format, "date-time") == 0 &&
		    time_parse_rfc3339(json_string_value(v), &t, NULL) != CX_OK)
			fail_msg("%s must be RFC 3339", path);
	} else if (strcmp(type, "integer") == 0) {
		if (!json_is_integer(v))
			fail_msg("%s must be an integer", path);
	} else if (strcmp(type, "boolean") == 0) {
		if (!json_is_boolean(v))
			fail_msg("%s must be a boolean", path);
	} else if (strcmp(type, "array") == 0) {
		if (!json_is_array(v))
			fail_msg("%s must be an array", path);
		size_t i;
		const json_t *it;
		json_array_foreach(v, i, it)
		    check_value(json_object_get(schema, "items"), it, path);
	} else if (strcmp(type, "object") == 0) {
		if (!json_is_object(v))
			fail_msg("%s must be an object", path);
		const json_t *props = json_object_get(schema, "properties");
		const json_t *extra = json_object_get(schema, "additionalProperties");
		const char *k;
		const json_t *fv;
		json_object_foreach((json_t *)v, k, fv)
		{
			char *sub = xasprintf("%s.%s", path, k);
			const json_t *ps = json_object_get(props, k);
			if (ps)
				check_value(ps, fv, sub);
			else if (extra)
				check_value(extra, fv, sub);
			else
				fail_msg("%s is not a field of the schema", sub);
			free(sub);
		}
	} else if (strcmp(type, "any") != 0) {
		fail_msg("%s: unhandled schema type %s", path, type);
	}
}

static bool path_matches(const char *tmpl, const char *path)
{
	while (*tmpl && *path) {
		if (*tmpl == '{') {
			const char *te = strchr(tmpl, '}');
			const char *pe = strchr(path, '/');
			size_t plen = pe ? (size_t)(pe - path) : strlen(path);
			if (!te || plen == 0)
				return false;
			tmpl = te + 1;
			path += plen;
			continue;
		}
		if (*tmpl++ != *path++)
			return false;
	}
	return *tmpl == '\0' && *path == '\0';
}

/* The request r (to base api) is resource.method of the discovery document: method and path match,
 * each query parameter is a declared query parameter with the declared type, and the body matches
 * the request schema. */
static void check_request(const struct egress_request *r, const char *api, const char *resource,
                          const char *method)
{
	const json_t *m = json_object_get(
	    json_object_get(json_object_get(json_object_get(discovery, "resources"), resource),
	                    "methods"),
	    method);
	assert_non_null(m);
	assert_string_equal(r->method, json_string_value(json_object_get(m, "httpMethod")));
	size_t n = strlen(api);
	assert_int_equal(strncmp(r->url, api, n), 0);
	assert_int_equal(r->url[n], '/');
	const char *rest = r->url + n + 1;
	const char *q = strchr(rest, '?');
	char *path = xstrndup(rest, q ? (size_t)(q - rest) : strlen(rest));
	if (!path_matches(json_string_value(json_object_get(m, "path")), path))
		fail_msg("path %s does not match %s", path,
		         json_string_value(json_object_get(m, "path")));
	free(path);
	const json_t *params = json_object_get(m, "parameters");
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		assert_non_null(eq);
		char *name = xstrndup(p, (size_t)(eq - p));
		char *value = decode(eq + 1, len - (size_t)(eq - p) - 1);
		const json_t *decl = json_object_get(params, name);
		if (!decl)
			fail_msg("%s.%s has no parameter %s", resource, method, name);
		assert_string_equal(json_string_value(json_object_get(decl, "location")), "query");
		const char *type = json_string_value(json_object_get(decl, "type"));
		const char *format = json_string_value(json_object_get(decl, "format"));
		if (strcmp(type, "integer") == 0) {
			char *end;
			(void)strtol(value, &end, 10);
			assert_true(*value && *end == '\0');
		} else if (strcmp(type, "boolean") == 0) {
			assert_true(strcmp(value, "true") == 0 || strcmp(value, "false") == 0);
		} else {
			assert_string_equal(type, "string");
			int64_t t;
			if (format && strcmp(format, "date-time") == 0)
				assert_int_equal(time_parse_rfc3339(value, &t, NULL), CX_OK);
			const json_t *en = json_object_get(decl, "enum");
			if (en) {
				bool found = false;
				size_t i;
				const json_t *ev;
				json_array_foreach(en, i, ev) found |=
				    strcmp(json_string_value(ev), value) == 0;
				assert_true(found);
			}
		}
		free(name);
		free(value);
		p = amp ? amp + 1 : NULL;
	}
	const json_t *request = json_object_get(m, "request");
	if (r->body) {
		assert_non_null(request);
		json_t *b = req_body(r);
		check_value(request, b, "body");
		json_decref(b);
	}
}

/* --- fake responses --- */

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
    .join_url = "https://zoom.us/j/92674392836?pwd=abc",
    .meeting_id = "92674392836",
    .passcode = "123456",
};

static struct cal_event_write sample_write(const char *id)
{
	int64_t s;
	assert_int_equal(time_parse_rfc3339("2026-12-01T09:30:00Z", &s, NULL), CX_OK);
	return (struct cal_event_write){
	    .title = "Quarterly review",
	    .description = "Agenda: numbers",
	    .set_time = true,
	    .start_utc = s,
	    .end_utc = s + 3600,
	    .time_zone = "Europe/Berlin",
	    .calendox_id = id,
	};
}

/* --- unit tests --- */

static void event_ids(void **st)
{
	(void)st;
	char a[GOOGLE_EVENT_ID_LEN + 1], b[GOOGLE_EVENT_ID_LEN + 1], c[GOOGLE_EVENT_ID_LEN + 1];
	google_event_id_for("evt_123", a);
	google_event_id_for("evt_123", b);
	google_event_id_for("evt_124", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), GOOGLE_EVENT_ID_LEN);
	assert_true(google_event_id_valid(a));
	assert_int_equal(strspn(a, "0123456789abcdefghijklmnopqrstuv"), GOOGLE_EVENT_ID_LEN);
	assert_true(google_event_id_valid("abcde"));
	assert_false(google_event_id_valid("abcd"));
	assert_false(google_event_id_valid("abcdw"));
	assert_false(google_event_id_valid("ABCDE"));
	assert_false(google_event_id_valid(NULL));
	char *long_id = xmalloc(1026);
	memset(long_id, 'a', 1025);
	long_id[1025] = '\0';
	assert_false(google_event_id_valid(long_id));
	long_id[1024] = '\0';
	assert_true(google_event_id_valid(long_id));
	free(long_id);
}

static void calendar_list_builder(void **st)
{
	(void)st;
	struct egress_request *r = NULL;
	assert_int_equal(google_calendar_list_request(API, TOKEN, NULL, &r), CX_OK);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, API "/users/me/calendarList?maxResults=250");
	assert_string_equal(req_header(r, "Authorization"), "Bearer " TOKEN);
	assert_string_equal(req_header(r, "Accept"), "application/json");
	assert_null(r->body);
	check_request(r, API, "calendarList", "list");
	egress_request_free(r);

	assert_int_equal(google_calendar_list_request(API, TOKEN, "p+1/=", &r), CX_OK);
	assert_string_equal(r->url,
	                    API "/users/me/calendarList?maxResults=250&pageToken=p%2B1%2F%3D");
	check_request(r, API, "calendarList", "list");
	egress_request_free(r);

	assert_int_equal(google_calendar_list_request(API, "", NULL, &r), CX_EINVAL);
	assert_null(r);
	assert_int_equal(google_calendar_list_request(NULL, TOKEN, NULL, &r), CX_EINVAL);
}

static void events_list_builder(void **st)
{
	(void)st;
	struct egress_request *r = NULL;
	int64_t a, b;
	assert_int_equal(time_parse_rfc3339("2026-11-01T00:00:00Z", &a, NULL), CX_OK);
	assert_int_equal(time_parse_rfc3339("2027-02-01T00:00:00Z", &b, NULL), CX_OK);
	struct google_list_params p = {
	    .calendar_id = "alice@example.com", .time_min = a, .time_max = b, .max_results = 100};
	assert_int_equal(google_events_list_request(API, TOKEN, &p, &r), CX_OK);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, API "/calendars/alice%40example.com/events?singleEvents=true"
	                                "&maxResults=100&timeMin=2026-11-01T00%3A00%3A00Z"
	                                "&timeMax=2027-02-01T00%3A00%3A00Z");
	check_request(r, API, "events", "list");
	egress_request_free(r);

	/* Next page of the same listing. */
	p.page_token = "tok 2";
	p.max_results = 0;
	assert_int_equal(google_events_list_request(API, TOKEN, &p, &r), CX_OK);
	char *pt = url_param(r->url, "pageToken");
	assert_string_equal(pt, "tok 2");
	free(pt);
	char *mr = url_param(r->url, "maxResults");
	assert_string_equal(mr, "250");
	free(mr);
	check_request(r, API, "events", "list");
	egress_request_free(r);

	/* Incremental: the sync token and no window (GOOGLE.md §4). */
	struct google_list_params inc = {.calendar_id = "primary",
	                                 .sync_token = "CPDAlvWDx70CEPDAlvWDx70CGAU="};
	assert_int_equal(google_events_list_request(API, TOKEN, &inc, &r), CX_OK);
	assert_string_equal(r->url,
	                    API "/calendars/primary/events?singleEvents=true&maxResults=250"
	                        "&showDeleted=true&syncToken=CPDAlvWDx70CEPDAlvWDx70CGAU%3D");
	assert_null(strstr(r->url, "timeMin"));
	check_request(r, API, "events", "list");
	egress_request_free(r);

	/* The forbidden combinations and bad bounds. */
	inc.time_min = a;
	inc.time_max = b;
	assert_int_equal(google_events_list_request(API, TOKEN, &inc, &r), CX_EINVAL);
	assert_null(r);
	struct google_list_params bad = {.calendar_id = "primary", .time_min = b, .time_max = a};
	assert_int_equal(google_events_list_request(API, TOKEN, &bad, &r), CX_EINVAL);
	bad = (struct google_list_params){.calendar_id = "primary", .time_min = a};
	assert_int_equal(google_events_list_request(API, TOKEN, &bad, &r), CX_EINVAL);
	bad = (struct google_list_params){.calendar_id = "primary", .max_results = 2501};
	assert_int_equal(google_events_list_request(API, TOKEN, &bad, &r), CX_EINVAL);
	bad = (struct google_list_params){.calendar_id = ""};
	assert_int_equal(google_events_list_request(API, TOKEN, &bad, &r), CX_EINVAL);
	assert_int_equal(google_events_list_request(API, TOKEN, NULL, &r), CX_EINVAL);
}

static void insert_builder(void **st)
{
	(void)st;
	struct cal_event_write w = sample_write("evt_1");
	w.meeting = &zoom_block;
	struct egress_request *r = NULL, *again = NULL;
	char id[GOOGLE_EVENT_ID_LEN + 1];
	google_event_id_for("evt_1", id);
	assert_int_equal(google_event_insert_request(API, TOKEN, "alice@example.com", &w, &r),
	                 CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, API "/calendars/alice%40example.com/events");
	assert_string_equal(req_header(r, "Authorization"), "Bearer " TOKEN);
	json_t *b = req_body(r);
	assert_string_equal(json_string_value(json_object_get(b, "id")), id);
	assert_string_equal(json_string_value(json_object_get(b, "summary")), "Quarterly review");
	assert_string_equal(json_string_value(json_object_get(b, "location")), zoom_block.join_url);
	const char *desc = json_string_value(json_object_get(b, "description"));
	assert_int_equal(strncmp(desc, "Agenda: numbers\n\n" CAL_BLOCK_BEGIN, 17 + 22), 0);
	assert_non_null(strstr(desc, "Passcode: 123456"));
	json_t *start = json_object_get(b, "start");
	assert_string_equal(json_string_value(json_object_get(start, "dateTime")),
	                    "2026-12-01T09:30:00Z");
	assert_string_equal(json_string_value(json_object_get(start, "timeZone")), "Europe/Berlin");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "end"), "dateTime")),
	    "2026-12-01T10:30:00Z");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(b, "extendedProperties"), "private"),
	        GOOGLE_PROPERTY_CALENDOX_ID)),
	    "evt_1");
	assert_null(json_object_get(b, "conferenceData"));
	check_request(r, API, "events", "insert");

	/* A retry sends the very same request. */
	assert_int_equal(google_event_insert_request(API, TOKEN, "alice@example.com", &w, &again),
	                 CX_OK);
	assert_string_equal(r->url, again->url);
	assert_int_equal(r->body_len, again->body_len);
	assert_memory_equal(r->body, again->body, r->body_len);
	json_decref(b);
	egress_request_free(r);
	egress_request_free(again);

	/* Meet: conferenceDataVersion=1 and a createRequest. */
	w.meeting = NULL;
	w.conference = CAL_CONFERENCE_MEET;
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &w, &r), CX_OK);
	assert_string_equal(r->url, API "/calendars/primary/events?conferenceDataVersion=1");
	b = req_body(r);
	json_t *cr = json_object_get(json_object_get(b, "conferenceData"), "createRequest");
	assert_true(google_event_id_valid(json_string_value(json_object_get(cr, "requestId"))));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(cr, "conferenceSolutionKey"), "type")),
	                    "hangoutsMeet");
	assert_string_equal(json_string_value(json_object_get(b, "description")),
	                    "Agenda: numbers");
	assert_null(json_object_get(b, "location"));
	check_request(r, API, "events", "insert");
	json_decref(b);
	egress_request_free(r);

	/* All-day events send dates. */
	struct cal_event_write ad = sample_write("evt_2");
	assert_int_equal(time_parse_date("2026-12-24", &ad.start_utc), CX_OK);
	ad.end_utc = ad.start_utc + 2 * 86400;
	ad.all_day = true;
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &ad, &r), CX_OK);
	b = req_body(r);
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "start"), "date")),
	                    "2026-12-24");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "end"), "date")),
	                    "2026-12-26");
	assert_null(json_object_get(json_object_get(b, "start"), "dateTime"));
	check_request(r, API, "events", "insert");
	json_decref(b);
	egress_request_free(r);

	/* Refused: no Calendox id, no times, end before start, Teams, bad UTF-8. */
	struct cal_event_write bad = sample_write(NULL);
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &bad, &r), CX_EINVAL);
	assert_null(r);
	bad = sample_write("x");
	bad.set_time = false;
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &bad, &r), CX_EINVAL);
	bad = sample_write("x");
	bad.end_utc = bad.start_utc;
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &bad, &r), CX_EINVAL);
	bad = sample_write("x");
	bad.conference = CAL_CONFERENCE_TEAMS;
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &bad, &r), CX_EINVAL);
	bad = sample_write("x");
	bad.title = "bad \xff utf-8";
	assert_int_equal(google_event_insert_request(API, TOKEN, "primary", &bad, &r), CX_EINVAL);
	assert_int_equal(google_event_insert_request(API, TOKEN, "", &w, &r), CX_EINVAL);
}

static void patch_get_delete_builders(void **st)
{
	(void)st;
	struct egress_request *r = NULL;
	struct cal_event_write w = {.title = "New title", .location = ""};
	assert_int_equal(google_event_patch_request(API, TOKEN, "primary", "abc123", &w,
	                                            "\"3181161784712000\"", &r),
	                 CX_OK);
	assert_string_equal(r->method, "PATCH");
	assert_string_equal(r->url, API "/calendars/primary/events/abc123");
	assert_string_equal(req_header(r, "If-Match"), "\"3181161784712000\"");
	json_t *b = req_body(r);
	assert_int_equal(json_object_size(b), 2);
	assert_string_equal(json_string_value(json_object_get(b, "summary")), "New title");
	assert_string_equal(json_string_value(json_object_get(b, "location")), "");
	check_request(r, API, "events", "patch");
	json_decref(b);
	egress_request_free(r);

	/* Without etag no If-Match; Meet added later needs the Calendox id. */
	w.conference = CAL_CONFERENCE_MEET;
	assert_int_equal(google_event_patch_request(API, TOKEN, "primary", "abc123", &w, NULL, &r),
	                 CX_EINVAL);
	w.calendox_id = "evt_9";
	assert_int_equal(google_event_patch_request(API, TOKEN, "primary", "abc123", &w, NULL, &r),
	                 CX_OK);
	assert_null(req_header(r, "If-Match"));
	assert_string_equal(r->url, API "/calendars/primary/events/abc123?conferenceDataVersion=1");
	check_request(r, API, "events", "patch");
	egress_request_free(r);
	assert_int_equal(google_event_patch_request(API, TOKEN, "primary", NULL, &w, NULL, &r),
	                 CX_EINVAL);

	assert_int_equal(google_event_get_request(API, TOKEN, "a b@x", "e/1", &r), CX_OK);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, API "/calendars/a%20b%40x/events/e%2F1");
	check_request(r, API, "events", "get");
	egress_request_free(r);

	assert_int_equal(google_event_delete_request(API, TOKEN, "primary", "abc123", &r), CX_OK);
	assert_string_equal(r->method, "DELETE");
	assert_string_equal(r->url, API "/calendars/primary/events/abc123?sendUpdates=none");
	assert_null(r->body);
	check_request(r, API, "events", "delete");
	egress_request_free(r);
	assert_int_equal(google_event_delete_request(API, TOKEN, "primary", "", &r), CX_EINVAL);
}

static void watch_and_stop_builders(void **st)
{
	(void)st;
	struct egress_request *r = NULL;
	assert_int_equal(google_events_watch_request(API, TOKEN, "primary", "chan-1",
	                                             "https://calendox.example/webhooks/google",
	                                             "secret-token", 1426325213000LL, &r),
	                 CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, API "/calendars/primary/events/watch");
	json_t *b = req_body(r);
	assert_string_equal(json_string_value(json_object_get(b, "id")), "chan-1");
	assert_string_equal(json_string_value(json_object_get(b, "type")), "web_hook");
	assert_string_equal(json_string_value(json_object_get(b, "address")),
	                    "https://calendox.example/webhooks/google");
	assert_string_equal(json_string_value(json_object_get(b, "token")), "secret-token");
	assert_string_equal(json_string_value(json_object_get(b, "expiration")), "1426325213000");
	check_request(r, API, "events", "watch");
	json_decref(b);
	egress_request_free(r);

	char long_id[66];
	memset(long_id, 'c', 65);
	long_id[65] = '\0';
	assert_int_equal(google_events_watch_request(API, TOKEN, "primary", long_id,
	                                             "https://x.example/h", "t", 0, &r),
	                 CX_EINVAL);
	assert_int_equal(google_events_watch_request(API, TOKEN, "primary", "c",
	                                             "http://evil.example/h", "t", 0, &r),
	                 CX_EINVAL);
	assert_int_equal(google_events_watch_request(API, TOKEN, "primary", "c",
	                                             "https://x.example/h", "", 0, &r),
	                 CX_EINVAL);

	assert_int_equal(google_channel_stop_request(API, TOKEN, "chan-1", "res-9", &r), CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, API "/channels/stop");
	b = req_body(r);
	assert_int_equal(json_object_size(b), 2);
	assert_string_equal(json_string_value(json_object_get(b, "resourceId")), "res-9");
	check_request(r, API, "channels", "stop");
	json_decref(b);
	egress_request_free(r);
}

static void parse_events(void **st)
{
	(void)st;
	struct cal_event e;
	const char *timed =
	    "{\"kind\":\"calendar#event\",\"id\":\"ev1\",\"etag\":\"\\\"31\\\"\",\"status\":"
	    "\"confirmed\",\"summary\":\"Review\",\"description\":\"d\",\"location\":\"Room 1\","
	    "\"updated\":\"2026-11-20T10:00:00.123Z\",\"start\":{\"dateTime\":"
	    "\"2026-12-01T10:30:00+01:00\",\"timeZone\":\"Europe/Berlin\"},\"end\":{\"dateTime\":"
	    "\"2026-12-01T11:30:00+01:00\"},\"hangoutLink\":\"https://meet.google.com/"
	    "abc-defg-hij\","
	    "\"conferenceData\":{\"createRequest\":{\"requestId\":\"r\",\"conferenceSolutionKey\":"
	    "{\"type\":\"hangoutsMeet\"},\"status\":{\"statusCode\":\"success\"}},\"entryPoints\":["
	    "{\"entryPointType\":\"phone\",\"uri\":\"tel:+1\"},{\"entryPointType\":\"video\","
	    "\"uri\":"
	    "\"https://meet.google.com/abc-defg-hij?x=1\"}]}}";
	assert_int_equal(google_parse_event_body(timed, strlen(timed), "primary", &e), CX_OK);
	assert_string_equal(e.external_id, "ev1");
	assert_string_equal(e.calendar_external_id, "primary");
	assert_int_equal(e.status, CAL_STATUS_CONFIRMED);
	assert_string_equal(e.title, "Review");
	assert_string_equal(e.location, "Room 1");
	int64_t s;
	assert_int_equal(time_parse_rfc3339("2026-12-01T09:30:00Z", &s, NULL), CX_OK);
	assert_true(e.start_utc == s);
	assert_true(e.end_utc == s + 3600);
	assert_false(e.all_day);
	assert_string_equal(e.start_date, "");
	assert_string_equal(e.time_zone, "Europe/Berlin");
	assert_string_equal(e.etag, "\"31\"");
	assert_string_equal(e.join_url, "https://meet.google.com/abc-defg-hij?x=1");
	assert_int_equal(e.conference_status, CAL_CONF_SUCCESS);
	assert_true(e.updated > 0);
	cal_event_release(&e);

	const char *allday =
	    "{\"id\":\"ev2\",\"status\":\"tentative\",\"start\":{\"date\":"
	    "\"2026-12-24\"},\"end\":{\"date\":\"2026-12-26\"},\"recurringEventId\":"
	    "\"series1\",\"originalStartTime\":{\"date\":\"2026-12-24\"},"
	    "\"conferenceData\":{\"createRequest\":{\"status\":{\"statusCode\":"
	    "\"pending\"}}}}";
	assert_int_equal(google_parse_event_body(allday, strlen(allday), NULL, &e), CX_OK);
	assert_true(e.all_day);
	assert_string_equal(e.start_date, "2026-12-24");
	assert_string_equal(e.end_date, "2026-12-26");
	assert_int_equal(e.end_utc - e.start_utc, 2 * 86400);
	assert_int_equal(e.status, CAL_STATUS_TENTATIVE);
	assert_string_equal(e.recurring_series_id, "series1");
	assert_true(e.original_start == e.start_utc);
	assert_int_equal(e.conference_status, CAL_CONF_PENDING);
	assert_null(e.join_url);
	assert_null(e.calendar_external_id);
	cal_event_release(&e);

	/* A deletion in a sync carries only the id. */
	const char *gone = "{\"kind\":\"calendar#event\",\"id\":\"ev3\",\"status\":\"cancelled\"}";
	assert_int_equal(google_parse_event_body(gone, strlen(gone), "primary", &e), CX_OK);
	assert_int_equal(e.status, CAL_STATUS_CANCELLED);
	assert_null(e.title);
	assert_true(e.start_utc == 0);
	cal_event_release(&e);

	/* Wrong types are ignored field by field; a missing or wrong-typed id is refused. */
	const char *wrong = "{\"id\":\"ev4\",\"summary\":7,\"start\":\"x\",\"end\":{\"date\":1},"
	                    "\"updated\":\"yesterday\",\"hangoutLink\":[],\"etag\":{}}";
	assert_int_equal(google_parse_event_body(wrong, strlen(wrong), NULL, &e), CX_OK);
	assert_null(e.title);
	assert_true(e.start_utc == 0 && e.updated == 0);
	assert_null(e.join_url);
	assert_null(e.etag);
	cal_event_release(&e);
	const char *noid = "{\"summary\":\"x\"}";
	assert_int_equal(google_parse_event_body(noid, strlen(noid), NULL, &e), CX_EUPSTREAM);
	assert_null(e.external_id);
	const char *numid = "{\"id\":5}";
	assert_int_equal(google_parse_event_body(numid, strlen(numid), NULL, &e), CX_EUPSTREAM);
	/* End before start: the times are dropped, not trusted. */
	const char *rev = "{\"id\":\"e\",\"start\":{\"dateTime\":\"2026-01-02T00:00:00Z\"},"
	                  "\"end\":{\"dateTime\":\"2026-01-01T00:00:00Z\"}}";
	assert_int_equal(google_parse_event_body(rev, strlen(rev), NULL, &e), CX_OK);
	assert_true(e.start_utc == 0 && e.end_utc == 0);
	cal_event_release(&e);

	/* Not JSON, not an object, duplicate keys, empty. */
	const char *bad[] = {"<html>Bad Gateway</html>",    "[{\"id\":\"x\"}]", "",
	                     "{\"id\":\"a\",\"id\":\"b\"}", "{\"id\":\"a\"",    "null"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(google_parse_event_body(bad[i], strlen(bad[i]), NULL, &e),
		                 CX_EUPSTREAM);
		assert_null(e.external_id);
	}

	/* A huge description is cut to CAL_TEXT_MAX; a body over CAL_BODY_MAX is refused. */
	size_t big = CAL_TEXT_MAX + 1000;
	char *text = xmalloc(big + 64);
	int n = snprintf(text, 64, "{\"id\":\"big\",\"description\":\"");
	memset(text + n, 'x', big);
	memcpy(text + n + big, "\"}", 3);
	assert_int_equal(google_parse_event_body(text, strlen(text), NULL, &e), CX_OK);
	assert_int_equal(strlen(e.description), CAL_TEXT_MAX);
	cal_event_release(&e);
	free(text);
	assert_int_equal(google_parse_event_body("{}", CAL_BODY_MAX + 1, NULL, &e), CX_ETOOBIG);
}

static void parse_pages(void **st)
{
	(void)st;
	struct cal_event_page p;
	const char *page = "{\"kind\":\"calendar#events\",\"items\":[{\"id\":\"a\",\"start\":{"
	                   "\"dateTime\":\"2026-12-01T10:00:00Z\"},\"end\":{\"dateTime\":"
	                   "\"2026-12-01T11:00:00Z\"}},7,{\"summary\":\"no id\"},{\"id\":\"b\","
	                   "\"status\":\"cancelled\"}],\"nextPageToken\":\"np\"}";
	assert_int_equal(google_parse_event_page_body(page, strlen(page), "primary", &p), CX_OK);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.events[0].external_id, "a");
	assert_string_equal(p.events[1].external_id, "b");
	assert_int_equal(p.events[1].status, CAL_STATUS_CANCELLED);
	assert_string_equal(p.next_page_token, "np");
	assert_null(p.next_sync_token);
	assert_false(p.full_sync_required);
	cal_event_page_release(&p);

	const char *last = "{\"items\":[],\"nextSyncToken\":\"sync1\"}";
	assert_int_equal(google_parse_event_page_body(last, strlen(last), NULL, &p), CX_OK);
	assert_int_equal(p.n, 0);
	assert_string_equal(p.next_sync_token, "sync1");
	cal_event_page_release(&p);

	const char *bads[] = {"{\"items\":{}}", "{\"items\":[],\"nextPageToken\":5}",
	                      "{\"items\":[],\"nextSyncToken\":null}", "garbage"};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		assert_int_equal(google_parse_event_page_body(bads[i], strlen(bads[i]), NULL, &p),
		                 CX_EUPSTREAM);
		assert_int_equal(p.n, 0);
		assert_null(p.events);
	}

	struct cal_calendar_page c;
	const char *cals =
	    "{\"items\":[{\"id\":\"alice@example.com\",\"summary\":\"alice@example.com\","
	    "\"primary\":true,\"accessRole\":\"owner\",\"backgroundColor\":\"#9fe1e7\"},"
	    "{\"id\":\"work\",\"summary\":\"Work\",\"summaryOverride\":\"My work\","
	    "\"accessRole\":\"reader\",\"backgroundColor\":\"red\"},{\"id\":\"w2\","
	    "\"accessRole\":\"writer\",\"primary\":\"yes\"},{\"id\":\"old\",\"deleted\":"
	    "true},{\"summary\":\"no id\"}],\"nextSyncToken\":\"cs\"}";
	assert_int_equal(google_parse_calendar_list_body(cals, strlen(cals), &c), CX_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.items[0].external_id, "alice@example.com");
	assert_true(c.items[0].primary && c.items[0].writable);
	assert_string_equal(c.items[0].color, "#9fe1e7");
	assert_string_equal(c.items[1].name, "My work");
	assert_false(c.items[1].writable);
	assert_null(c.items[1].color);
	assert_string_equal(c.items[2].name, "");
	assert_true(c.items[2].writable);
	assert_false(c.items[2].primary);
	assert_string_equal(c.next_sync_token, "cs");
	cal_calendar_page_release(&c);
	assert_int_equal(google_parse_calendar_list_body("{\"items\":3}", 11, &c), CX_EUPSTREAM);
}

static void classify_errors(void **st)
{
	(void)st;
	struct cal_error e;
	struct egress_response r =
	    resp(401, "{\"error\":{\"errors\":[{\"domain\":\"global\","
	              "\"reason\":\"authError\",\"message\":\"Invalid "
	              "Credentials\",\"locationType\":\"header\",\"location\":"
	              "\"Authorization\"}],\"code\":401,\"message\":\"Invalid "
	              "Credentials\"}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_EAUTH);
	assert_true(e.auth_invalid);
	assert_string_equal(e.reason, "authError");
	assert_string_equal(e.message, "Invalid Credentials");
	assert_false(e.retryable);

	r = resp(403,
	         "{\"error\":{\"errors\":[{\"domain\":\"usageLimits\",\"reason\":"
	         "\"userRateLimitExceeded\",\"message\":\"User Rate Limit Exceeded\"}],\"code\":"
	         "403,\"message\":\"User Rate Limit Exceeded\"}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_EBUSY);
	assert_true(e.rate_limited && e.retryable);
	assert_false(e.forbidden);

	r = resp(403, "{\"error\":{\"errors\":[{\"domain\":\"calendar\",\"reason\":"
	              "\"forbiddenForNonOrganizer\"}],\"code\":403}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_EFORBIDDEN);
	assert_false(e.rate_limited);

	r = resp(429, "{\"error\":{\"errors\":[{\"reason\":\"rateLimitExceeded\"}]}}");
	r.headers[0] = "retry-after: 12";
	r.n_headers = 1;
	assert_int_equal(google_classify(&r, 0, &e), CX_EBUSY);
	assert_int_equal(e.retry_after_s, 12);

	r = resp(404, "{\"error\":{\"errors\":[{\"reason\":\"notFound\"}],\"code\":404,"
	              "\"message\":\"Not Found\"}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_ENOTFOUND);
	assert_true(e.not_found);

	r = resp(409, "{\"error\":{\"errors\":[{\"reason\":\"duplicate\",\"message\":\"The "
	              "requested identifier already exists.\"}],\"code\":409}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_ECONFLICT);
	assert_true(e.conflict);
	assert_string_equal(e.reason, "duplicate");

	r = resp(410, "{\"error\":{\"errors\":[{\"reason\":\"fullSyncRequired\"}],\"code\":410,"
	              "\"message\":\"Sync token is no longer valid, a full sync is required.\"}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_ENOTFOUND);
	assert_true(e.gone);
	struct cal_event_page p;
	assert_int_equal(google_parse_event_page(&r, 0, "primary", &p, &e), CX_OK);
	assert_true(p.full_sync_required);
	assert_int_equal(p.n, 0);
	cal_event_page_release(&p);

	bool already = false;
	r = resp(410, "{\"error\":{\"errors\":[{\"reason\":\"deleted\"}],\"code\":410,\"message\":"
	              "\"Resource has been deleted\"}}");
	assert_int_equal(google_delete_result(&r, 0, &already, &e), CX_OK);
	assert_true(already);
	r = resp(204, "");
	assert_int_equal(google_delete_result(&r, 0, &already, NULL), CX_OK);
	assert_false(already);
	r = resp(401, "{}");
	assert_int_equal(google_delete_result(&r, 0, &already, NULL), CX_EAUTH);

	r = resp(412, "{\"error\":{\"errors\":[{\"reason\":\"conditionNotMet\"}]}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_ECONFLICT);
	assert_true(e.precondition && !e.conflict);

	r = resp(500, "<html>Backend Error</html>");
	assert_int_equal(google_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_string_equal(e.reason, "");

	r = resp(400,
	         "{\"error\":{\"code\":400,\"message\":\"Bad\",\"status\":\"INVALID_ARGUMENT\"}}");
	assert_int_equal(google_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_false(e.retryable);
	assert_string_equal(e.reason, "INVALID_ARGUMENT");

	r = resp(0, "");
	r.err = CX_EIO;
	r.sent = false;
	assert_int_equal(google_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_false(e.sent);
	assert_int_equal(google_classify(&r, 0, NULL), CX_EUPSTREAM);

	/* A 2xx that is not an event is garbage, retryable. */
	struct cal_event ev;
	r = resp(200, "<html>ok</html>");
	assert_int_equal(google_parse_event(&r, 0, NULL, &ev, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_null(ev.external_id);
	struct google_channel ch;
	r = resp(200, "{\"kind\":\"api#channel\",\"id\":\"c1\",\"resourceId\":\"r1\","
	              "\"resourceUri\":\"u\",\"expiration\":\"1426325213000\"}");
	assert_int_equal(google_parse_channel(&r, 0, &ch, &e), CX_OK);
	assert_string_equal(ch.id, "c1");
	assert_string_equal(ch.resource_id, "r1");
	assert_true(ch.expiration_ms == 1426325213000LL);
	google_channel_release(&ch);
	r = resp(200, "{\"id\":\"c1\"}");
	assert_int_equal(google_parse_channel(&r, 0, &ch, &e), CX_EUPSTREAM);
}

/* --- against the sandbox --- */

static struct sb *sb;
static struct egress *eg;
static char *api;
static char *access_token;

static struct egress_response *send_req(struct egress_request *r)
{
	struct egress_response *out = NULL;
	egress_call(eg, r, &out);
	assert_non_null(out);
	assert_int_equal(out->err, CX_OK);
	return out;
}

static struct egress_response *control(const char *method, const char *path, const char *body)
{
	char *url = xasprintf("%s%s", sb->base_url, path);
	struct egress_request *r = egress_request_new(method, url);
	free(url);
	if (body)
		egress_request_body(r, "application/json", body, strlen(body));
	return send_req(r);
}

static char *connect_google(void)
{
	struct provider_config pc = {
	    .client_id = "sandbox-google-client",
	    .client_secret = "sandbox-secret",
	    .scopes = SCOPES,
	    .auth_url = xasprintf("%s/google/o/oauth2/v2/auth", sb->base_url),
	    .token_url = xasprintf("%s/google/token", sb->base_url),
	};
	struct oauth_pkce pk;
	struct oauth_param extras[] = {{"access_type", "offline"}, {NULL, NULL}};
	char *url = NULL;
	oauth_pkce_new(&pk);
	assert_int_equal(oauth_authorize_url(&pc, REDIRECT, "st1", pk.challenge, extras, &url),
	                 CX_OK);
	char *form = xasprintf("%s&user=alice%%40example.com&decision=allow", strchr(url, '?') + 1);
	char *decision = xasprintf("%s/decision", pc.auth_url);
	struct egress_request *r = egress_request_new("POST", decision);
	egress_request_body(r, "application/x-www-form-urlencoded", form, strlen(form));
	struct egress_response *d = send_req(r);
	assert_int_equal(d->status, 302);
	const char *loc = egress_response_header(d, "location");
	assert_non_null(loc);
	char *code = url_param(loc, "code");
	assert_non_null(code);
	struct egress_request *tr = NULL;
	assert_int_equal(
	    oauth_code_request(&pc, OAUTH_AUTH_BODY, code, REDIRECT, pk.verifier, NULL, &tr),
	    CX_OK);
	struct egress_response *t = send_req(tr);
	struct oauth_tokens tok;
	assert_int_equal(oauth_parse_tokens(t, time_wall_s(), NULL, &tok, NULL), CX_OK);
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
	discovery = load_discovery();
	if (!discovery) {
		fprintf(stderr, "calendar.v3.json not found (set CALENDOX_SHARED)\n");
		return -1;
	}
	/* The real base the unit tests use is the discovery document's own. */
	char *base = xasprintf("%s%s", json_string_value(json_object_get(discovery, "rootUrl")),
	                       json_string_value(json_object_get(discovery, "servicePath")));
	base[strlen(base) - 1] = '\0';
	int same = strcmp(base, API);
	free(base);
	if (same != 0)
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct sandbox_options opts = {.port = 0, .seed = 11, .threads = 3};
	if (sandbox_start(&opts, &sb) != CX_OK || egress_start(4, 64, &eg) != CX_OK)
		return -1;
	api = xasprintf("%s/google/calendar/v3", sb->base_url);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	egress_stop(eg);
	sandbox_stop(sb);
	free(api);
	free(access_token);
	json_decref(discovery);
	curl_global_cleanup();
	return 0;
}

static int reset_each(void **st)
{
	(void)st;
	egress_response_free(control("POST", "/_sandbox/reset", NULL));
	free(access_token);
	access_token = connect_google();
	return 0;
}

/* Sends a request built by a google_ builder after checking it against the discovery document. */
static struct egress_response *send_checked(struct egress_request *r, const char *resource,
                                            const char *method)
{
	check_request(r, api, resource, method);
	return send_req(r);
}

static struct cal_event insert_event(const char *calendar, struct cal_event_write *w)
{
	struct egress_request *r = NULL;
	struct cal_event e;
	struct cal_error err;
	assert_int_equal(google_event_insert_request(api, access_token, calendar, w, &r), CX_OK);
	struct egress_response *resp_ = send_checked(r, "events", "insert");
	if (resp_->status != 200)
		fprintf(stderr, "insert: %ld %s\n", resp_->status, resp_->body);
	assert_int_equal(google_parse_event(resp_, time_wall_s(), calendar, &e, &err), CX_OK);
	egress_response_free(resp_);
	return e;
}

static size_t list_all(const struct google_list_params *base, struct cal_event_page *all,
                       char **sync_token)
{
	struct google_list_params p = *base;
	char *page_token = NULL;
	size_t pages = 0;
	memset(all, 0, sizeof(*all));
	all->events = xcalloc(64, sizeof(*all->events));
	for (;;) {
		struct egress_request *r = NULL;
		struct cal_event_page page;
		p.page_token = page_token;
		assert_int_equal(google_events_list_request(api, access_token, &p, &r), CX_OK);
		struct egress_response *resp_ = send_checked(r, "events", "list");
		if (resp_->status != 200)
			fprintf(stderr, "list: %ld %s\n", resp_->status, resp_->body);
		assert_int_equal(
		    google_parse_event_page(resp_, time_wall_s(), p.calendar_id, &page, NULL),
		    CX_OK);
		egress_response_free(resp_);
		pages++;
		for (size_t i = 0; i < page.n && all->n < 64; i++) {
			all->events[all->n++] = page.events[i];
			memset(&page.events[i], 0, sizeof(page.events[i]));
		}
		free(page_token);
		page_token = page.next_page_token ? xstrdup(page.next_page_token) : NULL;
		if (!page_token) {
			assert_non_null(page.next_sync_token);
			*sync_token = xstrdup(page.next_sync_token);
			cal_event_page_release(&page);
			break;
		}
		assert_null(page.next_sync_token);
		cal_event_page_release(&page);
		assert_true(pages < 20);
	}
	return pages;
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
	const char *cal = "alice@example.com";
	struct egress_request *r = NULL;
	struct egress_response *a;
	struct cal_error err;
	int64_t now = time_wall_s();

	/* calendarList: the primary calendar and Work, both writable. */
	struct cal_calendar_page cals;
	assert_int_equal(google_calendar_list_request(api, access_token, NULL, &r), CX_OK);
	a = send_checked(r, "calendarList", "list");
	assert_int_equal(google_parse_calendar_list(a, now, &cals, &err), CX_OK);
	egress_response_free(a);
	assert_true(cals.n >= 2);
	bool primary = false, work = false;
	for (size_t i = 0; i < cals.n; i++) {
		if (cals.items[i].primary) {
			primary = true;
			assert_string_equal(cals.items[i].external_id, cal);
			assert_true(cals.items[i].writable);
		}
		work |= strcmp(cals.items[i].name, "Work") == 0;
	}
	assert_true(primary && work);
	cal_calendar_page_release(&cals);

	/* Insert with the client-chosen id and the Zoom block. */
	int64_t start = (now / 3600 + 24) * 3600;
	struct cal_event_write w = {.title = "Planning",
	                            .description = "Bring notes",
	                            .set_time = true,
	                            .start_utc = start,
	                            .end_utc = start + 1800,
	                            .time_zone = "Europe/Berlin",
	                            .calendox_id = "cx-evt-1",
	                            .meeting = &zoom_block};
	char id1[GOOGLE_EVENT_ID_LEN + 1];
	google_event_id_for("cx-evt-1", id1);
	struct cal_event e1 = insert_event(cal, &w);
	assert_string_equal(e1.external_id, id1);
	assert_string_equal(e1.location, zoom_block.join_url);
	assert_true(cal_description_has_block(e1.description));
	assert_int_equal(strncmp(e1.description, "Bring notes\n\n", 13), 0);
	assert_true(e1.start_utc == start && e1.end_utc == start + 1800);
	assert_string_equal(e1.time_zone, "Europe/Berlin");

	/* The retry: 409 duplicate, then read back the one event. */
	assert_int_equal(google_event_insert_request(api, access_token, cal, &w, &r), CX_OK);
	a = send_checked(r, "events", "insert");
	assert_int_equal(google_classify(a, now, &err), CX_ECONFLICT);
	assert_true(err.conflict);
	egress_response_free(a);
	assert_int_equal(google_event_get_request(api, access_token, cal, id1, &r), CX_OK);
	a = send_checked(r, "events", "get");
	struct cal_event back;
	assert_int_equal(google_parse_event(a, now, cal, &back, &err), CX_OK);
	egress_response_free(a);
	assert_string_equal(back.external_id, id1);
	assert_string_equal(back.title, "Planning");
	cal_event_release(&back);

	/* Two more, for paging. */
	struct cal_event_write w2 = {.title = "Second",
	                             .set_time = true,
	                             .start_utc = start + 7200,
	                             .end_utc = start + 9000,
	                             .calendox_id = "cx-evt-2"};
	struct cal_event e2 = insert_event(cal, &w2);
	struct cal_event_write w3 = w2;
	w3.title = "Third";
	w3.calendox_id = "cx-evt-3";
	w3.all_day = true;
	w3.start_utc = (start / 86400 + 2) * 86400;
	w3.end_utc = w3.start_utc + 86400;
	struct cal_event e3 = insert_event(cal, &w3);
	assert_true(e3.all_day);

	/* Initial listing in a window, two per page: every page but the last has a page token. */
	struct google_list_params lp = {.calendar_id = cal,
	                                .time_min = now - 86400,
	                                .time_max = now + 30 * 86400,
	                                .max_results = 2};
	struct cal_event_page all;
	char *sync = NULL;
	size_t pages = list_all(&lp, &all, &sync);
	assert_true(pages >= 2);
	assert_non_null(find(&all, e1.external_id));
	assert_non_null(find(&all, e2.external_id));
	assert_non_null(find(&all, e3.external_id));
	cal_event_page_release(&all);

	/* Deleted outside Calendox: the incremental sync shows it cancelled. */
	char *path = xasprintf("/_sandbox/google/calendars/alice%%40example.com/events/%s/delete",
	                       e2.external_id);
	a = control("POST", path, NULL);
	assert_int_equal(a->status, 200);
	egress_response_free(a);
	free(path);
	struct google_list_params ip = {.calendar_id = cal, .sync_token = sync};
	char *sync2 = NULL;
	list_all(&ip, &all, &sync2);
	const struct cal_event *gone = find(&all, e2.external_id);
	assert_non_null(gone);
	assert_int_equal(gone->status, CAL_STATUS_CANCELLED);
	assert_null(find(&all, e1.external_id));
	cal_event_page_release(&all);

	/* Patch: new title; a stale etag answers 412. */
	struct cal_event_write pw = {.title = "Planning (moved)"};
	assert_int_equal(
	    google_event_patch_request(api, access_token, cal, e1.external_id, &pw, e1.etag, &r),
	    CX_OK);
	a = send_checked(r, "events", "patch");
	struct cal_event patched;
	assert_int_equal(google_parse_event(a, now, cal, &patched, &err), CX_OK);
	egress_response_free(a);
	assert_string_equal(patched.title, "Planning (moved)");
	assert_string_equal(patched.location, zoom_block.join_url);
	assert_string_not_equal(patched.etag, e1.etag);
	assert_int_equal(
	    google_event_patch_request(api, access_token, cal, e1.external_id, &pw, e1.etag, &r),
	    CX_OK);
	a = send_checked(r, "events", "patch");
	assert_int_equal(google_classify(a, now, &err), CX_ECONFLICT);
	assert_true(err.precondition);
	egress_response_free(a);

	/* Strip the Zoom block again: description back to the person's text. */
	char *plain = NULL;
	assert_int_equal(cal_description_set_block(patched.description, NULL, false, &plain),
	                 CX_OK);
	struct cal_event_write sw = {.description = plain, .location = ""};
	assert_int_equal(
	    google_event_patch_request(api, access_token, cal, e1.external_id, &sw, NULL, &r),
	    CX_OK);
	a = send_checked(r, "events", "patch");
	struct cal_event stripped;
	assert_int_equal(google_parse_event(a, now, cal, &stripped, &err), CX_OK);
	egress_response_free(a);
	assert_string_equal(stripped.description, "Bring notes");
	assert_true(stripped.location == NULL || *stripped.location == '\0');
	cal_event_release(&stripped);
	cal_event_release(&patched);
	free(plain);

	/* Delete, then delete again: 410, which counts as already gone. */
	bool already = true;
	assert_int_equal(google_event_delete_request(api, access_token, cal, e1.external_id, &r),
	                 CX_OK);
	a = send_checked(r, "events", "delete");
	assert_int_equal(google_delete_result(a, now, &already, &err), CX_OK);
	assert_false(already);
	egress_response_free(a);
	assert_int_equal(google_event_delete_request(api, access_token, cal, e1.external_id, &r),
	                 CX_OK);
	a = send_checked(r, "events", "delete");
	assert_int_equal(a->status, 410);
	assert_int_equal(google_classify(a, now, &err), CX_ENOTFOUND);
	assert_true(err.gone);
	assert_int_equal(google_delete_result(a, now, &already, &err), CX_OK);
	assert_true(already);
	egress_response_free(a);

	/* A dead sync token: 410, a full sync is required. */
	a = control("POST", "/_sandbox/google/invalidate_sync_tokens", NULL);
	egress_response_free(a);
	struct google_list_params dead = {.calendar_id = cal, .sync_token = sync2};
	assert_int_equal(google_events_list_request(api, access_token, &dead, &r), CX_OK);
	a = send_checked(r, "events", "list");
	struct cal_event_page fp;
	assert_int_equal(google_parse_event_page(a, now, cal, &fp, &err), CX_OK);
	assert_true(fp.full_sync_required);
	assert_true(err.gone);
	egress_response_free(a);
	cal_event_page_release(&fp);

	cal_event_release(&e1);
	cal_event_release(&e2);
	cal_event_release(&e3);
	free(sync);
	free(sync2);
}

static void sandbox_meet_link(void **st)
{
	(void)st;
	int64_t now = time_wall_s(), start = (now / 3600 + 48) * 3600;
	struct cal_event_write w = {.title = "Meet me",
	                            .set_time = true,
	                            .start_utc = start,
	                            .end_utc = start + 1800,
	                            .calendox_id = "cx-meet-1",
	                            .conference = CAL_CONFERENCE_MEET};
	struct cal_event e = insert_event("primary", &w);
	assert_true(e.conference_status == CAL_CONF_PENDING ||
	            e.conference_status == CAL_CONF_SUCCESS);
	struct egress_request *r = NULL;
	assert_int_equal(google_event_get_request(api, access_token, "primary", e.external_id, &r),
	                 CX_OK);
	struct egress_response *a = send_checked(r, "events", "get");
	struct cal_event read;
	assert_int_equal(google_parse_event(a, now, "primary", &read, NULL), CX_OK);
	egress_response_free(a);
	assert_int_equal(read.conference_status, CAL_CONF_SUCCESS);
	assert_non_null(read.join_url);
	assert_non_null(strstr(read.join_url, "/google/meet/"));
	cal_event_release(&read);
	cal_event_release(&e);
}

static void sandbox_watch_stop_and_errors(void **st)
{
	(void)st;
	int64_t now = time_wall_s();
	struct egress_request *r = NULL;
	struct egress_response *a;
	struct cal_error err;
	char *address = xasprintf("%s/nowhere/hook", sb->base_url);
	assert_int_equal(google_events_watch_request(api, access_token, "primary", "chan-1",
	                                             address, "channel-secret", (now + 3600) * 1000,
	                                             &r),
	                 CX_OK);
	a = send_checked(r, "events", "watch");
	struct google_channel ch;
	assert_int_equal(google_parse_channel(a, now, &ch, &err), CX_OK);
	egress_response_free(a);
	assert_string_equal(ch.id, "chan-1");
	assert_true(strlen(ch.resource_id) > 0);
	assert_true(ch.expiration_ms > now * 1000);

	assert_int_equal(google_channel_stop_request(api, access_token, ch.id, ch.resource_id, &r),
	                 CX_OK);
	a = send_checked(r, "channels", "stop");
	assert_int_equal(google_classify(a, now, &err), CX_OK);
	assert_true(a->status >= 200 && a->status < 300);
	egress_response_free(a);
	google_channel_release(&ch);
	free(address);

	/* A bad token: 401 authError. */
	assert_int_equal(google_calendar_list_request(api, "not-a-token", NULL, &r), CX_OK);
	a = send_req(r);
	assert_int_equal(google_classify(a, now, &err), CX_EAUTH);
	assert_true(err.auth_invalid);
	assert_string_equal(err.reason, "authError");
	egress_response_free(a);

	/* Rate limits as 403 userRateLimitExceeded. */
	a = control("POST", "/_sandbox/google/rate_limit", "{\"limit\":1,\"status\":403}");
	egress_response_free(a);
	enum cx_err last = CX_OK;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(google_calendar_list_request(api, access_token, NULL, &r), CX_OK);
		a = send_req(r);
		last = google_classify(a, now, &err);
		egress_response_free(a);
	}
	assert_int_equal(last, CX_EBUSY);
	assert_true(err.rate_limited);
	assert_int_equal(err.http_status, 403);
	a = control("POST", "/_sandbox/google/rate_limit", "{\"limit\":0}");
	egress_response_free(a);

	/* Unknown event: 404 notFound, which a delete treats as already gone. */
	bool already = false;
	assert_int_equal(
	    google_event_delete_request(api, access_token, "primary", "nosuchevent0", &r), CX_OK);
	a = send_req(r);
	assert_int_equal(a->status, 404);
	assert_int_equal(google_delete_result(a, now, &already, &err), CX_OK);
	assert_true(already && err.not_found);
	egress_response_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(event_ids),
	    cmocka_unit_test(calendar_list_builder),
	    cmocka_unit_test(events_list_builder),
	    cmocka_unit_test(insert_builder),
	    cmocka_unit_test(patch_get_delete_builders),
	    cmocka_unit_test(watch_and_stop_builders),
	    cmocka_unit_test(parse_events),
	    cmocka_unit_test(parse_pages),
	    cmocka_unit_test(classify_errors),
	    cmocka_unit_test_setup(sandbox_round_trip, reset_each),
	    cmocka_unit_test_setup(sandbox_meet_link, reset_each),
	    cmocka_unit_test_setup(sandbox_watch_stop_and_errors, reset_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
