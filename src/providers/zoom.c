/* zoom.c: Zoom Meetings API v2 requests and answers (shared/providers/ZOOM.md). Answers are read
 * defensively: any field may be missing, of another type or absurdly long, and Zoom or a proxy in
 * front of it sometimes answers XML or HTML; none of that may crash, and none of it may be taken as
 * "the meeting is gone" or "the token is dead" unless the status says so. */
#include "providers/zoom.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/time.h"
#include "base/tz.h"
#include "base/banned.h"

#define FIELD_MAX 4096 /* longest string field copied out of an answer */
#define PLAIN_TOKEN_MAX 256
#define CREATE_TIMEOUT_MS 60000 /* DESIGN §4: a long timeout keeps the lost-create window small */
#define PASSCODE_LEN 10         /* Zoom's maximum */
#define DURATION_MAX_MIN (24 * 60 * 366)

static const char PASSCODE_CHARS[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"; /* no look-alikes */

static bool present(const char *s)
{
	return s && *s;
}

/* ---- requests ---- */

static struct egress_request *api_request(const char *method, const char *url, const char *token)
{
	struct egress_request *r = egress_request_new(method, url);
	char *auth = xasprintf("Bearer %s", token);
	egress_request_header(r, "Authorization", auth);
	sec_wipe(auth, strlen(auth));
	free(auth);
	egress_request_header(r, "Accept", "application/json");
	return r;
}

enum cx_err zoom_user_request(const char *api_url, const char *access_token,
                              struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	*out = NULL;
	if (!present(api_url) || !present(access_token))
		goto out;
	char *url = xasprintf("%s/users/me", api_url);
	*out = api_request("GET", url, access_token);
	free(url);
	err = CX_OK;
out:
	return err;
}

/* Length of the longest prefix of s, at most max bytes, that does not split a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Sets key to the first max bytes of s (cut on a character boundary); false when s is not UTF-8. */
static bool set_text(json_t *obj, const char *key, const char *s, size_t max)
{
	size_t len = strlen(s);
	json_t *v = json_stringn(s, utf8_prefix(s, len, max));
	if (!v)
		return false;
	json_object_set_new(obj, key, v);
	return true;
}

enum cx_err zoom_meeting_body(const struct zoom_meeting_spec *spec, bool update, json_t **out)
{
	enum cx_err err = CX_EINVAL;
	json_t *o = json_object();
	char start[32];
	*out = NULL;
	if (!spec || spec->duration_min <= 0 || spec->duration_min > DURATION_MAX_MIN)
		goto out;
	if (present(spec->topic) && !set_text(o, "topic", spec->topic, ZOOM_TOPIC_MAX))
		goto out;
	if (!update)
		json_object_set_new(o, "type", json_integer(2));
	/* Organizer-local time with the zone keeps the meeting's wall-clock time right in Zoom's UI
	 * and invitations; without a known zone, UTC is still the right instant. */
	if (present(spec->time_zone) &&
	    tz_local_time(spec->time_zone, spec->start_utc, start, sizeof(start), NULL) == CX_OK) {
		json_object_set_new(o, "start_time", json_string(start));
		json_object_set_new(o, "timezone", json_string(spec->time_zone));
	} else {
		if (time_format_rfc3339(spec->start_utc, 0, start, sizeof(start)) == 0)
			goto out;
		json_object_set_new(o, "start_time", json_string(start));
	}
	json_object_set_new(o, "duration", json_integer(spec->duration_min));
	if (present(spec->agenda) && !set_text(o, "agenda", spec->agenda, ZOOM_AGENDA_MAX))
		goto out;
	if (!update) {
		char pass[PASSCODE_LEN + 1];
		if (present(spec->passcode)) {
			if (strlen(spec->passcode) > PASSCODE_LEN)
				goto out;
			snprintf(pass, sizeof(pass), "%s", spec->passcode);
		} else {
			for (size_t i = 0; i < PASSCODE_LEN; i++)
				pass[i] = PASSCODE_CHARS[sec_random_uniform(
				    (uint32_t)(sizeof(PASSCODE_CHARS) - 1))];
			pass[PASSCODE_LEN] = '\0';
		}
		json_object_set_new(o, "password", json_string(pass));
		json_object_set_new(o, "default_password", json_false());
		json_t *s = json_object();
		json_object_set_new(s, "waiting_room", json_true());
		json_object_set_new(s, "join_before_host", json_false());
		json_object_set_new(s, "approval_type", json_integer(2));
		json_object_set_new(s, "auto_recording", json_string("none"));
		json_object_set_new(o, "settings", s);
	}
	*out = o;
	o = NULL;
	err = CX_OK;
out:
	json_decref(o);
	return err;
}

static enum cx_err json_request(const char *method, const char *url, const char *token,
                                const struct zoom_meeting_spec *spec, bool update,
                                struct egress_request **out)
{
	json_t *body = NULL;
	enum cx_err err = zoom_meeting_body(spec, update, &body);
	if (err)
		goto out;
	char *text = json_dump_compact(body);
	*out = api_request(method, url, token);
	egress_request_body(*out, "application/json", text, strlen(text));
	free(text);
out:
	json_decref(body);
	return err;
}

enum cx_err zoom_meeting_create_request(const char *api_url, const char *access_token,
                                        const struct zoom_meeting_spec *spec,
                                        struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	char *url = NULL;
	*out = NULL;
	if (!present(api_url) || !present(access_token))
		goto out;
	url = xasprintf("%s/users/me/meetings", api_url);
	err = json_request("POST", url, access_token, spec, false, out);
	if (!err) {
		(*out)->timeout_ms = CREATE_TIMEOUT_MS;
		/* Zoom's create is not idempotent: never let libcurl resend it on its own. */
		(*out)->single_attempt = true;
	}
out:
	free(url);
	return err;
}

static char *meeting_url(const char *api_url, int64_t id)
{
	return xasprintf("%s/meetings/%" PRId64, api_url, id);
}

enum cx_err zoom_meeting_get_request(const char *api_url, const char *access_token,
                                     int64_t meeting_id, struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	*out = NULL;
	if (!present(api_url) || !present(access_token) || meeting_id <= 0)
		goto out;
	char *url = meeting_url(api_url, meeting_id);
	*out = api_request("GET", url, access_token);
	free(url);
	err = CX_OK;
out:
	return err;
}

enum cx_err zoom_meeting_update_request(const char *api_url, const char *access_token,
                                        int64_t meeting_id, const struct zoom_meeting_spec *spec,
                                        struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	char *url = NULL;
	*out = NULL;
	if (!present(api_url) || !present(access_token) || meeting_id <= 0)
		goto out;
	url = meeting_url(api_url, meeting_id);
	err = json_request("PATCH", url, access_token, spec, true, out);
out:
	free(url);
	return err;
}

enum cx_err zoom_meeting_delete_request(const char *api_url, const char *access_token,
                                        int64_t meeting_id, struct egress_request **out)
{
	enum cx_err err = CX_EINVAL;
	*out = NULL;
	if (!present(api_url) || !present(access_token) || meeting_id <= 0)
		goto out;
	char *url =
	    xasprintf("%s/meetings/%" PRId64 "?cancel_meeting_reminder=false", api_url, meeting_id);
	*out = api_request("DELETE", url, access_token);
	free(url);
	err = CX_OK;
out:
	return err;
}

/* ---- answers ---- */

void zoom_user_release(struct zoom_user *u)
{
	if (!u)
		return;
	free(u->id);
	free(u->account_id);
	free(u->email);
	memset(u, 0, sizeof(*u));
}

void zoom_meeting_release(struct zoom_meeting *m)
{
	if (!m)
		return;
	free(m->join_url);
	if (m->password)
		sec_wipe(m->password, strlen(m->password));
	free(m->password);
	free(m->start_time);
	free(m->timezone);
	free(m->topic);
	memset(m, 0, sizeof(*m));
}

void zoom_deauthorization_release(struct zoom_deauthorization *d)
{
	if (!d)
		return;
	free(d->event);
	free(d->user_id);
	free(d->account_id);
	free(d->client_id);
	free(d->deauthorization_time);
	memset(d, 0, sizeof(*d));
}

static json_t *parse_object(const char *body, size_t len)
{
	json_t *v = NULL;
	if (!body || len == 0 || len > ZOOM_BODY_MAX)
		return NULL;
	if (json_parse_strict(body, len, &v, NULL, 0) != CX_OK)
		return NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* A copy of a non-empty string field within FIELD_MAX bytes; NULL otherwise. */
static char *dup_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > FIELD_MAX)
		return NULL;
	return xstrndup(json_string_value(v), json_string_length(v));
}

/* A positive int64 from a JSON integer or a string of at most 19 digits. */
static bool int64_of(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n <= 0)
			return false;
		*out = (int64_t)n;
		return true;
	}
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len > 19 || strspn(s, "0123456789") != len)
		return false;
	uint64_t n = 0;
	for (size_t i = 0; i < len; i++)
		n = n * 10 + (uint64_t)(s[i] - '0');
	if (n == 0 || n > INT64_MAX)
		return false;
	*out = (int64_t)n;
	return true;
}

enum cx_err zoom_parse_user_body(const char *body, size_t len, struct zoom_user *out)
{
	enum cx_err err = CX_EUPSTREAM;
	json_t *o = parse_object(body, len);
	memset(out, 0, sizeof(*out));
	if (!o)
		goto out;
	out->id = dup_str(o, "id");
	if (!out->id)
		goto out;
	out->account_id = dup_str(o, "account_id");
	out->email = dup_str(o, "email");
	err = CX_OK;
out:
	if (err)
		zoom_user_release(out);
	json_decref(o);
	return err;
}

enum cx_err zoom_parse_meeting_body(const char *body, size_t len, struct zoom_meeting *out)
{
	enum cx_err err = CX_EUPSTREAM;
	json_t *o = parse_object(body, len);
	memset(out, 0, sizeof(*out));
	if (!o || !int64_of(json_object_get(o, "id"), &out->id))
		goto out;
	out->join_url = dup_str(o, "join_url");
	out->password = dup_str(o, "password");
	out->start_time = dup_str(o, "start_time");
	out->timezone = dup_str(o, "timezone");
	out->topic = dup_str(o, "topic");
	long long d = json_get_int(o, "duration", 0);
	out->duration = d > 0 && d <= DURATION_MAX_MIN ? (int)d : 0;
	err = CX_OK;
out:
	if (err)
		zoom_meeting_release(out);
	json_decref(o);
	return err;
}

static void copy_printable(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* Seconds until the moment a rate-limit header names: plain seconds or an ISO date-time (Zoom's
 * daily cap sends "2020-05-31T00:00:00Z"). 0 when absent or unreadable. */
static long wait_from_header(const struct egress_response *resp, const char *name, int64_t now_s)
{
	const char *v = egress_response_header(resp, name);
	if (!v)
		return 0;
	while (*v == ' ')
		v++;
	size_t len = strlen(v);
	if (len > 0 && len <= 9 && strspn(v, "0123456789") == len)
		return strtol(v, NULL, 10);
	int64_t t;
	if (time_parse_rfc3339(v, &t, NULL) != CX_OK)
		return 0;
	if (t <= now_s)
		return 1;
	return t - now_s > 2 * 86400 ? 2 * 86400 : (long)(t - now_s);
}

enum cx_err zoom_classify(const struct egress_response *resp, int64_t now_s, struct zoom_error *err)
{
	struct zoom_error local;
	enum cx_err rc = CX_EUPSTREAM;
	json_t *o = NULL;
	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	err->sent = resp->sent;
	err->kind = ZOOM_ERR_RETRY;
	if (resp->err != CX_OK)
		goto out;
	err->http_status = resp->status;
	if (resp->status >= 200 && resp->status < 300) {
		err->kind = ZOOM_ERR_NONE;
		rc = CX_OK;
		goto out;
	}
	o = parse_object(resp->body, resp->body_len);
	if (o) {
		long long code = json_get_int(o, "code", 0);
		err->code = code > 0 && code < 1000000 ? (int)code : 0;
		copy_printable(err->message, sizeof(err->message), json_get_str(o, "message"));
	}
	if (resp->status == 401) {
		err->kind = ZOOM_ERR_TOKEN;
		rc = CX_EAUTH;
	} else if (err->code == 4711 || (err->code == 4700 && strstr(err->message, "scope"))) {
		err->kind = ZOOM_ERR_SCOPE;
		rc = CX_EFORBIDDEN;
	} else if (resp->status == 404 || err->code == 3001) {
		err->kind = ZOOM_ERR_GONE;
		rc = CX_ENOTFOUND;
	} else if (resp->status == 429) {
		const char *type = egress_response_header(resp, "x-ratelimit-type");
		err->daily_limit = (type && strcasecmp(type, "Daily-limit") == 0) ||
		                   (!type && strstr(err->message, "daily"));
		err->retry_after_s = wait_from_header(resp, "retry-after", now_s);
		if (err->retry_after_s == 0)
			err->retry_after_s = wait_from_header(resp, "x-ratelimit-reset", now_s);
		if (err->daily_limit) {
			err->kind = ZOOM_ERR_DAILY_LIMIT;
			/* The cap resets at 00:00 UTC (ZOOM.md §9). */
			if (err->retry_after_s == 0)
				err->retry_after_s =
				    86400 - (long)(((now_s % 86400) + 86400) % 86400);
		} else {
			err->kind = ZOOM_ERR_RATE;
			if (err->retry_after_s == 0)
				err->retry_after_s = 1;
		}
		rc = CX_EBUSY;
	} else if (resp->status >= 500) {
		err->kind = ZOOM_ERR_RETRY;
		err->retry_after_s = wait_from_header(resp, "retry-after", now_s);
	} else {
		err->kind = ZOOM_ERR_REJECTED;
	}
out:
	json_decref(o);
	return rc;
}

enum cx_err zoom_parse_user(const struct egress_response *resp, int64_t now_s,
                            struct zoom_user *out, struct zoom_error *err)
{
	struct zoom_error local;
	if (!err)
		err = &local;
	memset(out, 0, sizeof(*out));
	enum cx_err rc = zoom_classify(resp, now_s, err);
	if (rc)
		goto out;
	rc = zoom_parse_user_body(resp->body, resp->body_len, out);
	if (rc)
		err->kind = ZOOM_ERR_RETRY;
out:
	return rc;
}

enum cx_err zoom_parse_meeting(const struct egress_response *resp, int64_t now_s,
                               struct zoom_meeting *out, struct zoom_error *err)
{
	struct zoom_error local;
	if (!err)
		err = &local;
	memset(out, 0, sizeof(*out));
	enum cx_err rc = zoom_classify(resp, now_s, err);
	if (rc)
		goto out;
	rc = zoom_parse_meeting_body(resp->body, resp->body_len, out);
	if (rc)
		err->kind = ZOOM_ERR_RETRY;
out:
	return rc;
}

enum cx_err zoom_delete_result(const struct egress_response *resp, int64_t now_s,
                               bool *already_gone, struct zoom_error *err)
{
	struct zoom_error local;
	if (!err)
		err = &local;
	enum cx_err rc = zoom_classify(resp, now_s, err);
	bool gone = rc == CX_ENOTFOUND;
	if (gone)
		rc = CX_OK;
	if (already_gone)
		*already_gone = gone;
	return rc;
}

/* ---- webhooks ---- */

/* The timestamp header as seconds; Zoom's unit is not documented (ZOOM.md §10), so values too
 * large to be seconds before the year 5000 are taken as milliseconds. */
static bool timestamp_seconds(const char *ts, int64_t *out)
{
	size_t len = strlen(ts);
	if (len == 0 || len > 16 || strspn(ts, "0123456789") != len)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (ts[i] - '0');
	*out = v > 100000000000LL ? v / 1000 : v;
	return true;
}

enum cx_err zoom_webhook_verify(const char *secret, const char *timestamp, const char *body,
                                size_t body_len, const char *signature, int64_t now_s)
{
	enum cx_err err = CX_EAUTH;
	struct buf msg;
	int64_t ts;
	char hex[65];
	char expected[3 + 65];
	buf_init(&msg, (size_t)ZOOM_BODY_MAX + 64);
	if (!present(secret) || !present(timestamp) || !present(signature) || (!body && body_len))
		goto out;
	if (!timestamp_seconds(timestamp, &ts))
		goto out;
	if (ts > now_s + ZOOM_WEBHOOK_TOLERANCE_S || ts < now_s - ZOOM_WEBHOOK_TOLERANCE_S)
		goto out;
	if (buf_printf(&msg, "v0:%s:", timestamp) || buf_append(&msg, body ? body : "", body_len))
		goto out;
	sec_hmac_sha256_hex(secret, strlen(secret), msg.data, msg.len, hex);
	snprintf(expected, sizeof(expected), "v0=%s", hex);
	if (sec_str_equal(expected, signature))
		err = CX_OK;
out:
	buf_release(&msg);
	return err;
}

enum cx_err zoom_webhook_url_validation_response(const char *secret, const char *plain_token,
                                                 char **out)
{
	enum cx_err err = CX_EINVAL;
	char hex[65];
	json_t *o = NULL;
	*out = NULL;
	if (!present(secret) || !present(plain_token) ||
	    strnlen(plain_token, PLAIN_TOKEN_MAX + 1) > PLAIN_TOKEN_MAX)
		goto out;
	json_t *plain = json_string(plain_token);
	if (!plain)
		goto out;
	sec_hmac_sha256_hex(secret, strlen(secret), plain_token, strlen(plain_token), hex);
	o = json_object();
	json_object_set_new(o, "plainToken", plain);
	json_object_set_new(o, "encryptedToken", json_string(hex));
	*out = json_dump_compact(o);
	err = CX_OK;
out:
	json_decref(o);
	return err;
}

enum cx_err zoom_webhook_plain_token(const char *body, size_t len, char **out)
{
	enum cx_err err = CX_EINVAL;
	json_t *o = parse_object(body, len);
	*out = NULL;
	if (!o)
		goto out;
	const char *event = json_get_str(o, "event");
	const char *plain = json_get_str(json_object_get(o, "payload"), "plainToken");
	if (!event || strcmp(event, "endpoint.url_validation") != 0 || !present(plain) ||
	    strnlen(plain, PLAIN_TOKEN_MAX + 1) > PLAIN_TOKEN_MAX)
		goto out;
	*out = xstrdup(plain);
	err = CX_OK;
out:
	json_decref(o);
	return err;
}

enum cx_err zoom_parse_deauthorization(const char *body, size_t len,
                                       struct zoom_deauthorization *out)
{
	enum cx_err err = CX_EINVAL;
	json_t *o = parse_object(body, len);
	memset(out, 0, sizeof(*out));
	if (!o)
		goto out;
	const json_t *payload = json_object_get(o, "payload");
	out->event = dup_str(o, "event");
	if (!out->event || strcmp(out->event, "app_deauthorized") != 0 || !json_is_object(payload))
		goto out;
	out->user_id = dup_str(payload, "user_id");
	out->account_id = dup_str(payload, "account_id");
	if (!out->user_id || !out->account_id)
		goto out;
	out->client_id = dup_str(payload, "client_id");
	out->deauthorization_time = dup_str(payload, "deauthorization_time");
	long long ts = json_get_int(o, "event_ts", 0);
	out->event_ts = ts > 0 ? (int64_t)ts : 0;
	err = CX_OK;
out:
	if (err)
		zoom_deauthorization_release(out);
	json_decref(o);
	return err;
}
