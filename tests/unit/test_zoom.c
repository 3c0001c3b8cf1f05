/* Tests for providers/zoom: the exact requests (method, URL, headers, body), the request bodies
 * checked against the published OpenAPI schema of meetingCreate and meetingUpdate, the parsers over
 * good, missing, wrong-type, huge, XML and HTML answers, the error classifier on ZOOM.md's
 * catalogue, the webhook helpers, and a full round trip against the Zoom emulator started in this
 * process: consent → code → token (PKCE) → users/me → create → get → patch → delete → delete again
 * → refresh with rotation → revoke. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/time.h"
#include "egress/egress.h"
#include "egress/oauth.h"
#include "providers/zoom.h"
#include "sb.h"
#include "base/banned.h"

#define API "https://api.zoom.us/v2"

static struct egress_response resp_of(long status, const char *body)
{
	struct egress_response r;
	memset(&r, 0, sizeof(r));
	r.sent = true;
	r.status = status;
	r.body = (char *)body;
	r.body_len = strlen(body);
	return r;
}

static const char *header_of(const struct egress_request *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->n_headers; i++)
		if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
			return r->headers[i] + n + 2;
	return NULL;
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	assert_int_equal(time_parse_rfc3339(s, &t, NULL), CX_OK);
	return t;
}

/* ---- requests ---- */

static void test_simple_requests(void **state)
{
	(void)state;
	struct egress_request *r = NULL;
	assert_int_equal(zoom_user_request(API, "tok", &r), CX_OK);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, "https://api.zoom.us/v2/users/me");
	assert_string_equal(header_of(r, "Authorization"), "Bearer tok");
	assert_string_equal(header_of(r, "Accept"), "application/json");
	assert_null(r->body);
	egress_request_free(r);

	assert_int_equal(zoom_meeting_get_request(API, "tok", 92674392836LL, &r), CX_OK);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, "https://api.zoom.us/v2/meetings/92674392836");
	egress_request_free(r);

	assert_int_equal(zoom_meeting_delete_request(API, "tok", 92674392836LL, &r), CX_OK);
	assert_string_equal(r->method, "DELETE");
	assert_string_equal(
	    r->url, "https://api.zoom.us/v2/meetings/92674392836?cancel_meeting_reminder=false");
	assert_string_equal(header_of(r, "Authorization"), "Bearer tok");
	egress_request_free(r);

	r = (struct egress_request *)1;
	assert_int_equal(zoom_meeting_get_request(API, "tok", 0, &r), CX_EINVAL);
	assert_null(r);
	assert_int_equal(zoom_meeting_delete_request(API, "tok", -5, &r), CX_EINVAL);
	assert_int_equal(zoom_user_request(API, "", &r), CX_EINVAL);
	assert_int_equal(zoom_user_request(NULL, "t", &r), CX_EINVAL);
}

static void test_create_request(void **state)
{
	(void)state;
	struct egress_request *r = NULL;
	struct zoom_meeting_spec spec = {.topic = "Planning",
	                                 .agenda = "Quarterly planning",
	                                 .start_utc = at("2026-11-24T08:30:00Z"),
	                                 .duration_min = 45,
	                                 .time_zone = "Europe/Berlin",
	                                 .passcode = "abc123"};
	assert_int_equal(zoom_meeting_create_request(API, "tok", &spec, &r), CX_OK);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "https://api.zoom.us/v2/users/me/meetings");
	assert_string_equal(header_of(r, "Content-Type"), "application/json");
	assert_string_equal(header_of(r, "Authorization"), "Bearer tok");
	assert_true(r->timeout_ms >= 30000);
	assert_true(r->single_attempt);
	json_t *body = json_loads(r->body, 0, NULL);
	json_t *want = json_pack(
	    "{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:b,s:{s:b,s:b,s:i,s:s}}", "topic", "Planning", "type", 2,
	    "start_time", "2026-11-24T09:30:00", "timezone", "Europe/Berlin", "duration", 45,
	    "agenda", "Quarterly planning", "password", "abc123", "default_password", 0, "settings",
	    "waiting_room", 1, "join_before_host", 0, "approval_type", 2, "auto_recording", "none");
	assert_true(json_equal(body, want));
	json_decref(body);
	json_decref(want);
	egress_request_free(r);

	/* Unknown zone: UTC "Z" form without timezone; a generated passcode of 10 characters. */
	spec.time_zone = "Atlantis/Capital";
	spec.passcode = NULL;
	spec.agenda = NULL;
	assert_int_equal(zoom_meeting_create_request(API, "tok", &spec, &r), CX_OK);
	body = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(body, "start_time")),
	                    "2026-11-24T08:30:00Z");
	assert_null(json_object_get(body, "timezone"));
	assert_null(json_object_get(body, "agenda"));
	const char *pw = json_string_value(json_object_get(body, "password"));
	assert_non_null(pw);
	assert_int_equal(strlen(pw), 10);
	json_decref(body);
	egress_request_free(r);

	spec.duration_min = 0;
	r = (struct egress_request *)1;
	assert_int_equal(zoom_meeting_create_request(API, "tok", &spec, &r), CX_EINVAL);
	assert_null(r);
	spec.duration_min = 30;
	spec.topic = "bad \xff utf8";
	assert_int_equal(zoom_meeting_create_request(API, "tok", &spec, &r), CX_EINVAL);
	spec.topic = "ok";
	spec.passcode = "elevenchars";
	assert_int_equal(zoom_meeting_create_request(API, "tok", &spec, &r), CX_EINVAL);
}

static void test_update_request_and_truncation(void **state)
{
	(void)state;
	struct egress_request *r = NULL;
	/* 199 ASCII bytes then "é" (2 bytes): the cut at 200 must not split it. */
	char topic[260];
	memset(topic, 'a', 199);
	memcpy(topic + 199, "\xc3\xa9zzz", 6);
	char *agenda = xmalloc(5000);
	memset(agenda, 'b', 4999);
	agenda[4999] = '\0';
	struct zoom_meeting_spec spec = {.topic = topic,
	                                 .agenda = agenda,
	                                 .start_utc = at("2026-07-01T12:00:00Z"),
	                                 .duration_min = 30,
	                                 .time_zone = "America/New_York"};
	assert_int_equal(zoom_meeting_update_request(API, "tok", 92674392836LL, &spec, &r), CX_OK);
	assert_string_equal(r->method, "PATCH");
	assert_string_equal(r->url, "https://api.zoom.us/v2/meetings/92674392836");
	json_t *body = json_loads(r->body, 0, NULL);
	assert_non_null(body);
	assert_int_equal(strlen(json_string_value(json_object_get(body, "topic"))), 199);
	assert_int_equal(strlen(json_string_value(json_object_get(body, "agenda"))),
	                 ZOOM_AGENDA_MAX);
	assert_string_equal(json_string_value(json_object_get(body, "start_time")),
	                    "2026-07-01T08:00:00");
	assert_string_equal(json_string_value(json_object_get(body, "timezone")),
	                    "America/New_York");
	/* An update leaves type, passcode and settings as they are. */
	assert_null(json_object_get(body, "type"));
	assert_null(json_object_get(body, "password"));
	assert_null(json_object_get(body, "settings"));
	assert_null(json_object_get(body, "default_password"));
	json_decref(body);
	egress_request_free(r);
	free(agenda);
}

/* ---- request bodies against the OpenAPI spec ---- */

static json_t *spec_root;

static const char *shared_dir(void)
{
	const char *env = getenv("CALENDOX_SHARED");
	if (env && *env)
		return env;
	if (access("../shared/specs/zoom/ZoomMeetingAPISpec.json", R_OK) == 0)
		return "../shared";
	return "/work/shared";
}

/* Follows a local "#/a/b" reference. */
static json_t *resolve(json_t *schema)
{
	for (int i = 0; i < 16 && json_is_object(schema); i++) {
		const char *ref = json_string_value(json_object_get(schema, "$ref"));
		if (!ref)
			break;
		assert_true(strncmp(ref, "#/", 2) == 0);
		json_t *node = spec_root;
		char *path = xstrdup(ref + 2);
		char *save = NULL;
		for (char *part = strtok_r(path, "/", &save); part;
		     part = strtok_r(NULL, "/", &save))
			node = json_object_get(node, part);
		free(path);
		assert_non_null(node);
		schema = node;
	}
	return schema;
}

/* The property schema for key, looking through $ref and allOf. */
static json_t *property(json_t *schema, const char *key)
{
	schema = resolve(schema);
	json_t *p = json_object_get(json_object_get(schema, "properties"), key);
	if (p)
		return resolve(p);
	json_t *all = json_object_get(schema, "allOf");
	size_t i;
	json_t *sub;
	json_array_foreach(all, i, sub)
	{
		p = property(sub, key);
		if (p)
			return p;
	}
	return NULL;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void check_against(json_t *schema, json_t *value, const char *where)
{
	const char *key;
	json_t *v;
	json_object_foreach(value, key, v)
	{
		json_t *p = property(schema, key);
		if (!p)
			fail_msg("%s.%s is not in the spec", where, key);
		const char *type = json_string_value(json_object_get(p, "type"));
		assert_non_null(type);
		if (strcmp(type, "string") == 0) {
			assert_true(json_is_string(v));
			json_int_t max = json_integer_value(json_object_get(p, "maxLength"));
			if (max > 0 && utf8_chars(json_string_value(v)) > (size_t)max)
				fail_msg("%s.%s longer than %d", where, key, (int)max);
		} else if (strcmp(type, "integer") == 0) {
			assert_true(json_is_integer(v));
		} else if (strcmp(type, "boolean") == 0) {
			assert_true(json_is_boolean(v));
		} else if (strcmp(type, "object") == 0) {
			assert_true(json_is_object(v));
			check_against(p, v, key);
		} else {
			fail_msg("%s.%s has spec type %s", where, key, type);
		}
		json_t *en = json_object_get(p, "enum");
		if (en) {
			bool found = false;
			size_t i;
			json_t *e;
			json_array_foreach(en, i, e) found = found || json_equal(e, v);
			if (!found)
				fail_msg("%s.%s not in the spec's enum", where, key);
		}
	}
}

static json_t *request_schema(const char *path, const char *method, const char *op_id)
{
	json_t *op =
	    json_object_get(json_object_get(json_object_get(spec_root, "paths"), path), method);
	assert_non_null(op);
	assert_string_equal(json_string_value(json_object_get(op, "operationId")), op_id);
	json_t *body = resolve(json_object_get(op, "requestBody"));
	json_t *schema = json_object_get(
	    json_object_get(json_object_get(body, "content"), "application/json"), "schema");
	assert_non_null(schema);
	return schema;
}

static void test_bodies_match_spec(void **state)
{
	(void)state;
	char *path = xasprintf("%s/specs/zoom/ZoomMeetingAPISpec.json", shared_dir());
	json_error_t jerr;
	spec_root = json_load_file(path, 0, &jerr);
	if (!spec_root)
		fail_msg("cannot load %s: %s", path, jerr.text);
	free(path);
	json_t *create = request_schema("/users/{userId}/meetings", "post", "meetingCreate");
	json_t *update = request_schema("/meetings/{meetingId}", "patch", "meetingUpdate");

	char longest[3000];
	for (size_t i = 0; i < sizeof(longest) - 1; i += 2)
		memcpy(longest + i, "\xc3\xa9", 2); /* 1,499 two-byte characters */
	longest[sizeof(longest) - 1] = '\0';
	const char *zones[] = {"Europe/Berlin", "Asia/Kolkata", "Unknown/Zone", NULL};
	for (size_t z = 0; z < 4; z++) {
		struct zoom_meeting_spec spec = {.topic = longest,
		                                 .agenda = longest,
		                                 .start_utc = at("2026-03-29T01:30:00Z"),
		                                 .duration_min = 90,
		                                 .time_zone = zones[z]};
		for (int upd = 0; upd < 2; upd++) {
			json_t *body = NULL;
			assert_int_equal(zoom_meeting_body(&spec, upd, &body), CX_OK);
			check_against(upd ? update : create, body, upd ? "update" : "create");
			json_decref(body);
		}
	}
	json_decref(spec_root);
	spec_root = NULL;
}

/* ---- parsers ---- */

static const char MEETING[] =
    "{\"uuid\":\"aDYlohsHRtCd4ii1uC2+hA==\",\"id\":92674392836,\"host_id\":\"z9jk\","
    "\"host_email\":\"alice@example.com\",\"topic\":\"Planning\",\"type\":2,\"status\":\"waiting\","
    "\"start_time\":\"2026-11-24T08:30:00Z\",\"duration\":45,\"timezone\":\"Europe/Berlin\","
    "\"created_at\":\"2026-11-01T10:00:00Z\",\"start_url\":\"https://zoom.us/s/92674392836?zak=x\","
    "\"join_url\":\"https://zoom.us/j/92674392836?pwd=Abc.1\",\"password\":\"abc123\","
    "\"encrypted_password\":\"Abc.1\",\"pmi\":\"1234567890\",\"settings\":{\"waiting_room\":true}}";

static void test_parse_meeting(void **state)
{
	(void)state;
	struct zoom_meeting m;
	struct zoom_error e;
	struct egress_response r = resp_of(201, MEETING);
	assert_int_equal(zoom_parse_meeting(&r, 0, &m, &e), CX_OK);
	assert_int_equal(e.kind, ZOOM_ERR_NONE);
	assert_true(m.id == 92674392836LL);
	assert_string_equal(m.join_url, "https://zoom.us/j/92674392836?pwd=Abc.1");
	assert_string_equal(m.password, "abc123");
	assert_string_equal(m.start_time, "2026-11-24T08:30:00Z");
	assert_int_equal(m.duration, 45);
	assert_string_equal(m.timezone, "Europe/Berlin");
	assert_string_equal(m.topic, "Planning");
	zoom_meeting_release(&m);

	/* id as a string; password missing (some paid accounts); wrong-typed extras ignored. */
	const char *s = "{\"id\":\"9007199254740993\",\"join_url\":\"https://zoom.us/j/1\","
	                "\"duration\":\"45\",\"topic\":7,\"password\":null}";
	assert_int_equal(zoom_parse_meeting_body(s, strlen(s), &m), CX_OK);
	assert_true(m.id == 9007199254740993LL);
	assert_null(m.password);
	assert_null(m.topic);
	assert_int_equal(m.duration, 0);
	zoom_meeting_release(&m);

	const char *bad[] = {
	    "",
	    "{}",
	    "{\"id\":0}",
	    "{\"id\":-3}",
	    "{\"id\":1.5}",
	    "{\"id\":\"12a\"}",
	    "{\"id\":\"99999999999999999999\"}",
	    "{\"id\":\"\"}",
	    "{\"id\":true}",
	    "[{\"id\":1}]",
	    "{\"id\":1",
	    "{\"id\":1,\"id\":2}",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><meeting><id>1</id></meeting>",
	    "<html><body><h1>502 Bad Gateway</h1></body></html>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = resp_of(200, bad[i]);
		assert_int_equal(zoom_parse_meeting(&r, 0, &m, &e), CX_EUPSTREAM);
		assert_int_equal(e.kind, ZOOM_ERR_RETRY);
		assert_null(m.join_url);
		assert_int_equal(m.id, 0);
	}

	/* A huge field is dropped, not copied; a huge body is refused. */
	size_t n = 10000;
	char *big = xmalloc(n + 100);
	int len = snprintf(big, n + 100, "{\"id\":5,\"join_url\":\"");
	memset(big + len, 'x', n);
	snprintf(big + len + n, 100, "\"}");
	assert_int_equal(zoom_parse_meeting_body(big, strlen(big), &m), CX_OK);
	assert_null(m.join_url);
	zoom_meeting_release(&m);
	free(big);
	big = xcalloc(ZOOM_BODY_MAX + 2, 1);
	memset(big, ' ', ZOOM_BODY_MAX + 1);
	big[0] = '{';
	big[ZOOM_BODY_MAX] = '}';
	assert_int_equal(zoom_parse_meeting_body(big, ZOOM_BODY_MAX + 1, &m), CX_EUPSTREAM);
	free(big);
}

static void test_parse_user(void **state)
{
	(void)state;
	struct zoom_user u;
	struct zoom_error e;
	struct egress_response r = resp_of(
	    200,
	    "{\"id\":\"z9jkdsfsdfjhdkfjQ\",\"account_id\":\"EabCDEFghiLHMA\",\"email\":"
	    "\"alice@example.com\",\"type\":2,\"pmi\":1234567890,\"timezone\":\"Europe/Berlin\"}");
	assert_int_equal(zoom_parse_user(&r, 0, &u, &e), CX_OK);
	assert_string_equal(u.id, "z9jkdsfsdfjhdkfjQ");
	assert_string_equal(u.account_id, "EabCDEFghiLHMA");
	assert_string_equal(u.email, "alice@example.com");
	zoom_user_release(&u);
	assert_null(u.id);

	r = resp_of(200, "{\"id\":\"u1\",\"email\":5}");
	assert_int_equal(zoom_parse_user(&r, 0, &u, &e), CX_OK);
	assert_null(u.email);
	assert_null(u.account_id);
	zoom_user_release(&u);

	const char *bad[] = {"{\"id\":12}", "{\"email\":\"a@b\"}", "null", "<user/>", ""};
	for (size_t i = 0; i < 5; i++) {
		r = resp_of(200, bad[i]);
		assert_int_equal(zoom_parse_user(&r, 0, &u, &e), CX_EUPSTREAM);
		assert_null(u.id);
	}
	r = resp_of(401, "{\"code\":124,\"message\":\"Invalid access token.\"}");
	assert_int_equal(zoom_parse_user(&r, 0, &u, &e), CX_EAUTH);
	assert_int_equal(e.kind, ZOOM_ERR_TOKEN);
	assert_null(u.id);
}

/* ---- classifier ---- */

static enum zoom_error_kind kind_of(long status, const char *body, const char *h1, const char *h2,
                                    int64_t now, struct zoom_error *e)
{
	struct egress_response r = resp_of(status, body);
	char *a = h1 ? xstrdup(h1) : NULL, *b = h2 ? xstrdup(h2) : NULL;
	if (a)
		r.headers[r.n_headers++] = a;
	if (b)
		r.headers[r.n_headers++] = b;
	(void)zoom_classify(&r, now, e);
	free(a);
	free(b);
	return e->kind;
}

static void test_classify(void **state)
{
	(void)state;
	struct zoom_error e;
	struct egress_response r;
	assert_int_equal(kind_of(204, "", NULL, NULL, 0, &e), ZOOM_ERR_NONE);
	assert_int_equal(kind_of(401, "{\"code\":124,\"message\":\"Access token is expired.\"}",
	                         NULL, NULL, 0, &e),
	                 ZOOM_ERR_TOKEN);
	assert_int_equal(e.code, 124);
	assert_string_equal(e.message, "Access token is expired.");
	r = resp_of(401, "{\"code\":124,\"message\":\"Invalid access token.\"}");
	assert_int_equal(zoom_classify(&r, 0, NULL), CX_EAUTH);

	assert_int_equal(kind_of(400,
	                         "{\"code\":4711,\"message\":\"Invalid access token, does not "
	                         "contain scopes:[meeting:update:meeting].\"}",
	                         NULL, NULL, 0, &e),
	                 ZOOM_ERR_SCOPE);
	r = resp_of(400, "{\"code\":4711,\"message\":\"x\"}");
	assert_int_equal(zoom_classify(&r, 0, NULL), CX_EFORBIDDEN);
	assert_int_equal(kind_of(400,
	                         "{\"code\":4700,\"message\":\"Invalid access token, does not "
	                         "contain scopes:[meeting:write].\"}",
	                         NULL, NULL, 0, &e),
	                 ZOOM_ERR_SCOPE);

	assert_int_equal(kind_of(404,
	                         "{\"code\":3001,\"message\":\"Meeting 1 is not found or has "
	                         "expired.\"}",
	                         NULL, NULL, 0, &e),
	                 ZOOM_ERR_GONE);
	assert_int_equal(kind_of(400, "{\"code\":3001,\"message\":\"Meeting does not exist\"}",
	                         NULL, NULL, 0, &e),
	                 ZOOM_ERR_GONE);
	assert_int_equal(kind_of(404, "<html>Not Found</html>", NULL, NULL, 0, &e), ZOOM_ERR_GONE);

	assert_int_equal(kind_of(400,
	                         "{\"code\":3002,\"message\":\"Sorry, you cannot delete this "
	                         "meeting since it is in progress.\"}",
	                         NULL, NULL, 0, &e),
	                 ZOOM_ERR_REJECTED);
	r = resp_of(400, "{\"code\":3003,\"message\":\"You are not the meeting host.\"}");
	assert_int_equal(zoom_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_int_equal(e.kind, ZOOM_ERR_REJECTED);

	/* Per second, with QPS headers: Retry-After in seconds. */
	assert_int_equal(kind_of(429,
	                         "{\"code\":429,\"message\":\"You have reached the maximum "
	                         "per-second rate limit for this API. Try again later.\"}",
	                         "x-ratelimit-type: QPS", "retry-after: 2", 0, &e),
	                 ZOOM_ERR_RATE);
	assert_int_equal(e.retry_after_s, 2);
	assert_false(e.daily_limit);
	/* Per second with only an ISO X-RateLimit-Reset; and with no headers at all. */
	int64_t now = at("2026-05-30T12:00:00Z");
	assert_int_equal(kind_of(429, "{}", "x-ratelimit-type: QPS",
	                         "x-ratelimit-reset: 2026-05-30T12:00:03Z", now, &e),
	                 ZOOM_ERR_RATE);
	assert_int_equal(e.retry_after_s, 3);
	assert_int_equal(kind_of(429, "", NULL, NULL, now, &e), ZOOM_ERR_RATE);
	assert_int_equal(e.retry_after_s, 1);
	/* Daily cap: ISO Retry-After; or no headers and the message only (next 00:00 UTC). */
	assert_int_equal(kind_of(429,
	                         "{\"code\":429,\"message\":\"You have exceeded the daily rate "
	                         "limit (100) of Meeting Create/Update API requests\"}",
	                         "x-ratelimit-type: Daily-limit",
	                         "retry-after: 2026-05-31T00:00:00Z", now, &e),
	                 ZOOM_ERR_DAILY_LIMIT);
	assert_true(e.daily_limit);
	assert_int_equal(e.retry_after_s, 12 * 3600);
	assert_int_equal(kind_of(429,
	                         "{\"code\":429,\"message\":\"You have exceeded the daily rate "
	                         "limit (100) of Meeting Create/Update API requests\"}",
	                         NULL, NULL, now + 3600, &e),
	                 ZOOM_ERR_DAILY_LIMIT);
	assert_int_equal(e.retry_after_s, 11 * 3600);
	r = resp_of(429, "{}");
	assert_int_equal(zoom_classify(&r, 0, NULL), CX_EBUSY);

	assert_int_equal(kind_of(503, "<html>Service Unavailable</html>", NULL, NULL, 0, &e),
	                 ZOOM_ERR_RETRY);
	assert_int_equal(e.http_status, 503);
	assert_int_equal(kind_of(500, "<?xml version=\"1.0\"?><error/>", NULL, NULL, 0, &e),
	                 ZOOM_ERR_RETRY);
	r = resp_of(0, "");
	r.err = CX_EIO;
	r.sent = false;
	assert_int_equal(zoom_classify(&r, 0, &e), CX_EUPSTREAM);
	assert_int_equal(e.kind, ZOOM_ERR_RETRY);
	assert_false(e.sent);
	assert_int_equal(e.http_status, 0);

	/* Delete: 204 and "already gone" are both fine. */
	bool gone = true;
	r = resp_of(204, "");
	assert_int_equal(zoom_delete_result(&r, 0, &gone, &e), CX_OK);
	assert_false(gone);
	r = resp_of(404, "{\"code\":3001,\"message\":\"Meeting 5 is not found or has expired.\"}");
	assert_int_equal(zoom_delete_result(&r, 0, &gone, &e), CX_OK);
	assert_true(gone);
	r = resp_of(400, "{\"code\":3002,\"message\":\"in progress\"}");
	assert_int_equal(zoom_delete_result(&r, 0, &gone, NULL), CX_EUPSTREAM);
	assert_false(gone);
}

/* ---- webhooks ---- */

static void sign(const char *secret, const char *ts, const char *body, char out[70])
{
	char *msg = xasprintf("v0:%s:%s", ts, body);
	char hex[65];
	sec_hmac_sha256_hex(secret, strlen(secret), msg, strlen(msg), hex);
	snprintf(out, 70, "v0=%s", hex);
	free(msg);
}

static void test_webhook_verify(void **state)
{
	(void)state;
	const char *secret = "sandbox-webhook-secret";
	const char *body = "{\"event\":\"app_deauthorized\",\"event_ts\":1740439732278}";
	char sig[70];
	sign(secret, "1740439732", body, sig);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), sig, 1740439732), CX_OK);
	/* Within 300 s either way; not beyond. */
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), sig, 1740439732 + 300),
	    CX_OK);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), sig, 1740439732 - 300),
	    CX_OK);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), sig, 1740439732 + 301),
	    CX_EAUTH);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), sig, 1740439732 - 301),
	    CX_EAUTH);
	/* A changed byte, another secret, upper-case hex, no "v0=": all refused. */
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body) - 1, sig, 1740439732),
	    CX_EAUTH);
	assert_int_equal(
	    zoom_webhook_verify("other", "1740439732", body, strlen(body), sig, 1740439732),
	    CX_EAUTH);
	char upper[70];
	snprintf(upper, sizeof(upper), "%s", sig);
	for (char *p = upper + 3; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), upper, 1740439732),
	    CX_EAUTH);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), sig + 3, 1740439732),
	    CX_EAUTH);
	/* Milliseconds are recognised by magnitude. */
	sign(secret, "1740439732278", body, sig);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732278", body, strlen(body), sig, 1740439732),
	    CX_OK);
	assert_int_equal(
	    zoom_webhook_verify(secret, "17404x9732", body, strlen(body), sig, 1740439732),
	    CX_EAUTH);
	assert_int_equal(zoom_webhook_verify(secret, "", body, strlen(body), sig, 1740439732),
	                 CX_EAUTH);
	assert_int_equal(
	    zoom_webhook_verify(secret, "1740439732", body, strlen(body), NULL, 1740439732),
	    CX_EAUTH);
	assert_int_equal(zoom_webhook_verify("", "1740439732", body, strlen(body), sig, 1740439732),
	                 CX_EAUTH);
}

static void test_webhook_url_validation(void **state)
{
	(void)state;
	char *out = NULL;
	assert_int_equal(zoom_webhook_url_validation_response("sandbox-webhook-secret",
	                                                      "qgg8vlvZRS6UYooatFL8Aw", &out),
	                 CX_OK);
	char hex[65];
	sec_hmac_sha256_hex("sandbox-webhook-secret", 22, "qgg8vlvZRS6UYooatFL8Aw", 22, hex);
	json_t *o = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "plainToken")),
	                    "qgg8vlvZRS6UYooatFL8Aw");
	assert_string_equal(json_string_value(json_object_get(o, "encryptedToken")), hex);
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);
	free(out);
	assert_int_equal(zoom_webhook_url_validation_response("s", "", &out), CX_EINVAL);
	assert_null(out);

	const char *body = "{\"payload\":{\"plainToken\":\"qgg8vlvZRS6UYooatFL8Aw\"},"
	                   "\"event_ts\":1654503849680,\"event\":\"endpoint.url_validation\"}";
	assert_int_equal(zoom_webhook_plain_token(body, strlen(body), &out), CX_OK);
	assert_string_equal(out, "qgg8vlvZRS6UYooatFL8Aw");
	free(out);
	const char *other = "{\"payload\":{\"plainToken\":\"x\"},\"event\":\"meeting.deleted\"}";
	assert_int_equal(zoom_webhook_plain_token(other, strlen(other), &out), CX_EINVAL);
	assert_int_equal(zoom_webhook_plain_token("<x/>", 4, &out), CX_EINVAL);
}

static void test_deauthorization(void **state)
{
	(void)state;
	struct zoom_deauthorization d;
	const char *body =
	    "{\"event\":\"app_deauthorized\",\"event_ts\":1740439732278,\"payload\":{\"account_"
	    "id\":"
	    "\"EabCDEFghiLHMA\",\"user_id\":\"z9jkdsfsdfjhdkfjQ\",\"signature\":\"827edc34\","
	    "\"deauthorization_time\":\"2019-06-17T13:52:28.632Z\",\"client_id\":"
	    "\"ADZ9k9bTWmGUoUbECUKU_a\"}}";
	assert_int_equal(zoom_parse_deauthorization(body, strlen(body), &d), CX_OK);
	assert_string_equal(d.event, "app_deauthorized");
	assert_string_equal(d.user_id, "z9jkdsfsdfjhdkfjQ");
	assert_string_equal(d.account_id, "EabCDEFghiLHMA");
	assert_string_equal(d.client_id, "ADZ9k9bTWmGUoUbECUKU_a");
	assert_string_equal(d.deauthorization_time, "2019-06-17T13:52:28.632Z");
	assert_true(d.event_ts == 1740439732278LL);
	zoom_deauthorization_release(&d);

	const char *bad[] = {
	    "{\"event\":\"meeting.deleted\",\"payload\":{\"account_id\":\"a\",\"user_id\":\"u\"}}",
	    "{\"event\":\"app_deauthorized\",\"payload\":{\"account_id\":\"a\"}}",
	    "{\"event\":\"app_deauthorized\",\"payload\":{\"account_id\":\"a\",\"user_id\":3}}",
	    "{\"event\":\"app_deauthorized\",\"payload\":[]}",
	    "{\"event\":\"app_deauthorized\"}",
	    "<event>app_deauthorized</event>",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(zoom_parse_deauthorization(bad[i], strlen(bad[i]), &d), CX_EINVAL);
		assert_null(d.user_id);
		assert_null(d.event);
	}
}

/* ---- round trip against the emulator ---- */

#define REDIRECT "http://127.0.0.1:8080/oauth/zoom/callback"

static struct egress_response *call(struct egress *eg, struct egress_request *r)
{
	struct egress_response *resp = NULL;
	assert_non_null(r);
	assert_int_equal(egress_call(eg, r, &resp), CX_OK);
	return resp;
}

/* The value of name in a URL's query (no decoding needed for the emulator's codes and states). */
static char *query_value(const char *url, const char *name)
{
	char *key = xasprintf("%s=", name);
	const char *p = strstr(url, key);
	char *v = NULL;
	if (p && (p[-1] == '?' || p[-1] == '&')) {
		p += strlen(key);
		v = xstrndup(p, strcspn(p, "&#"));
	}
	free(key);
	return v;
}

static void test_sandbox_round_trip(void **state)
{
	(void)state;
	struct sandbox_options opts = {.port = 0, .seed = 7, .threads = 2};
	struct sb *sb = NULL;
	struct egress *eg = NULL;
	struct egress_response *resp;
	struct oauth_error oe;
	struct zoom_error ze;
	assert_int_equal(sandbox_start(&opts, &sb), CX_OK);
	assert_int_equal(egress_start(4, 16, &eg), CX_OK);

	char *auth_url = xasprintf("%s/zoom/oauth/authorize", sb->base_url);
	char *token_url = xasprintf("%s/zoom/oauth/token", sb->base_url);
	char *revoke_url = xasprintf("%s/zoom/oauth/revoke", sb->base_url);
	char *api = xasprintf("%s/zoom/v2", sb->base_url);
	struct provider_config pc = {
	    .client_id = "sandbox-zoom-client",
	    .client_secret = "sandbox-secret",
	    .scopes = "meeting:write:meeting meeting:read:meeting meeting:update:meeting "
	              "meeting:delete:meeting user:read:user",
	    .auth_url = auth_url,
	    .token_url = token_url,
	    .revoke_url = revoke_url,
	    .api_url = api,
	};

	/* Consent: post the decision form with the authorize URL's own parameters. */
	struct oauth_pkce pkce;
	oauth_pkce_new(&pkce);
	char *url = NULL;
	assert_int_equal(oauth_authorize_url(&pc, REDIRECT, "st-123", pkce.challenge, NULL, &url),
	                 CX_OK);
	char *form = xasprintf("%s&user=alice%%40example.com&decision=allow", strchr(url, '?') + 1);
	char *decision_url = xasprintf("%s/decision", auth_url);
	struct egress_request *r = egress_request_new("POST", decision_url);
	egress_request_body(r, "application/x-www-form-urlencoded", form, strlen(form));
	resp = call(eg, r);
	assert_int_equal(resp->status, 302);
	const char *location = egress_response_header(resp, "location");
	assert_non_null(location);
	assert_true(strncmp(location, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
	char *code = query_value(location, "code");
	char *st = query_value(location, "state");
	assert_non_null(code);
	assert_string_equal(st, "st-123");
	egress_response_free(resp);

	/* A wrong verifier is a dead code for good (invalid_grant), the right one works once. */
	struct oauth_tokens tok;
	assert_int_equal(
	    oauth_code_request(&pc, OAUTH_AUTH_BASIC, code, REDIRECT, pkce.verifier, NULL, &r),
	    CX_OK);
	resp = call(eg, r);
	assert_int_equal(oauth_parse_tokens(resp, time_wall_s(), NULL, &tok, &oe), CX_OK);
	egress_response_free(resp);
	assert_non_null(tok.access_token);
	assert_non_null(tok.refresh_token);
	assert_true(tok.refresh_rotated);
	assert_non_null(strstr(tok.scope, "meeting:write:meeting"));
	assert_true(tok.expires_at > time_wall_s() + 3000);
	assert_int_equal(
	    oauth_code_request(&pc, OAUTH_AUTH_BASIC, code, REDIRECT, pkce.verifier, NULL, &r),
	    CX_OK);
	resp = call(eg, r);
	struct oauth_tokens again;
	assert_int_equal(oauth_parse_tokens(resp, 0, NULL, &again, &oe), CX_EAUTH);
	assert_true(oe.invalid_grant);
	egress_response_free(resp);

	/* users/me */
	struct zoom_user user;
	assert_int_equal(zoom_user_request(api, tok.access_token, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(zoom_parse_user(resp, time_wall_s(), &user, &ze), CX_OK);
	assert_string_equal(user.email, "alice@example.com");
	assert_non_null(user.id);
	assert_non_null(user.account_id);
	zoom_user_release(&user);
	egress_response_free(resp);

	/* create → get */
	int64_t start = (time_wall_s() / 3600 + 48) * 3600;
	struct zoom_meeting_spec spec = {.topic = "Planning",
	                                 .agenda = "Quarterly planning",
	                                 .start_utc = start,
	                                 .duration_min = 45,
	                                 .time_zone = "Europe/Berlin"};
	struct zoom_meeting m;
	assert_int_equal(zoom_meeting_create_request(api, tok.access_token, &spec, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(resp->status, 201);
	assert_int_equal(zoom_parse_meeting(resp, time_wall_s(), &m, &ze), CX_OK);
	egress_response_free(resp);
	int64_t id = m.id;
	assert_true(id > 0xFFFFFFFFLL);
	assert_non_null(strstr(m.join_url, "pwd="));
	assert_non_null(m.password);
	assert_int_equal(m.duration, 45);
	int64_t got_start = 0;
	assert_int_equal(time_parse_rfc3339(m.start_time, &got_start, NULL), CX_OK);
	assert_true(got_start == start); /* the local time + zone named the same instant */
	zoom_meeting_release(&m);

	assert_int_equal(zoom_meeting_get_request(api, tok.access_token, id, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(zoom_parse_meeting(resp, time_wall_s(), &m, &ze), CX_OK);
	assert_true(m.id == id);
	assert_string_equal(m.topic, "Planning");
	zoom_meeting_release(&m);
	egress_response_free(resp);

	/* patch → 204, visible on the next get */
	spec.topic = "Planning (moved)";
	spec.start_utc = start + 3600;
	spec.duration_min = 30;
	assert_int_equal(zoom_meeting_update_request(api, tok.access_token, id, &spec, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(resp->status, 204);
	assert_int_equal(zoom_classify(resp, time_wall_s(), &ze), CX_OK);
	egress_response_free(resp);
	assert_int_equal(zoom_meeting_get_request(api, tok.access_token, id, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(zoom_parse_meeting(resp, time_wall_s(), &m, &ze), CX_OK);
	assert_string_equal(m.topic, "Planning (moved)");
	assert_int_equal(m.duration, 30);
	assert_int_equal(time_parse_rfc3339(m.start_time, &got_start, NULL), CX_OK);
	assert_true(got_start == start + 3600);
	zoom_meeting_release(&m);
	egress_response_free(resp);

	/* delete, then delete again: already gone */
	bool gone = true;
	assert_int_equal(zoom_meeting_delete_request(api, tok.access_token, id, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(zoom_delete_result(resp, time_wall_s(), &gone, &ze), CX_OK);
	assert_false(gone);
	egress_response_free(resp);
	assert_int_equal(zoom_meeting_delete_request(api, tok.access_token, id, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(zoom_delete_result(resp, time_wall_s(), &gone, &ze), CX_OK);
	assert_true(gone);
	assert_int_equal(ze.code, 3001);
	egress_response_free(resp);

	/* refresh rotates: the old refresh token is dead at once */
	struct oauth_tokens fresh;
	assert_int_equal(oauth_refresh_request(&pc, OAUTH_AUTH_BASIC, tok.refresh_token, NULL, &r),
	                 CX_OK);
	resp = call(eg, r);
	assert_int_equal(oauth_parse_tokens(resp, time_wall_s(), tok.refresh_token, &fresh, &oe),
	                 CX_OK);
	egress_response_free(resp);
	assert_true(fresh.refresh_rotated);
	assert_string_not_equal(fresh.refresh_token, tok.refresh_token);
	assert_string_not_equal(fresh.access_token, tok.access_token);
	assert_int_equal(oauth_refresh_request(&pc, OAUTH_AUTH_BASIC, tok.refresh_token, NULL, &r),
	                 CX_OK);
	resp = call(eg, r);
	assert_int_equal(oauth_parse_tokens(resp, time_wall_s(), tok.refresh_token, &again, &oe),
	                 CX_EAUTH);
	assert_true(oe.invalid_grant);
	assert_false(oe.invalid_client);
	assert_null(again.access_token);
	egress_response_free(resp);

	/* bad client credentials are told apart from a dead grant */
	struct provider_config wrong = pc;
	wrong.client_secret = "not-the-secret";
	assert_int_equal(
	    oauth_refresh_request(&wrong, OAUTH_AUTH_BASIC, fresh.refresh_token, NULL, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(oauth_classify(resp, &oe), CX_EAUTH);
	assert_true(oe.invalid_client);
	assert_false(oe.invalid_grant);
	egress_response_free(resp);

	/* revoke; afterwards the API refuses the token (401 → refresh-and-retry class) */
	assert_int_equal(oauth_revoke_request(&pc, OAUTH_AUTH_BASIC, fresh.access_token, NULL, &r),
	                 CX_OK);
	resp = call(eg, r);
	assert_int_equal(oauth_revoke_result(resp, &oe), CX_OK);
	egress_response_free(resp);
	assert_int_equal(zoom_user_request(api, fresh.access_token, &r), CX_OK);
	resp = call(eg, r);
	assert_int_equal(zoom_parse_user(resp, time_wall_s(), &user, &ze), CX_EAUTH);
	assert_int_equal(ze.kind, ZOOM_ERR_TOKEN);
	assert_int_equal(ze.code, 124);
	egress_response_free(resp);

	oauth_tokens_release(&tok);
	oauth_tokens_release(&fresh);
	free(code);
	free(st);
	free(form);
	free(decision_url);
	free(url);
	free(auth_url);
	free(token_url);
	free(revoke_url);
	free(api);
	egress_stop(eg);
	sandbox_stop(sb);
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_requests),
	    cmocka_unit_test(test_create_request),
	    cmocka_unit_test(test_update_request_and_truncation),
	    cmocka_unit_test(test_bodies_match_spec),
	    cmocka_unit_test(test_parse_meeting),
	    cmocka_unit_test(test_parse_user),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_webhook_verify),
	    cmocka_unit_test(test_webhook_url_validation),
	    cmocka_unit_test(test_deauthorization),
	    cmocka_unit_test(test_sandbox_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
