/* google.c: Google Calendar API v3 request builders, parsers and error classifier (google.h). */
#include "providers/google.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/form.h"
#include "base/json.h"
#include "base/time.h"
#include "base/banned.h"

#define URL_MAX (16 * 1024)

void google_event_id_for(const char *seed, char out[GOOGLE_EVENT_ID_LEN + 1])
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
	uint8_t digest[32];
	char *msg = xasprintf("calendox-google-event:%s", seed ? seed : "");
	sec_sha256(msg, strlen(msg), digest);
	free(msg);
	/* Five bits at a time, most significant first; the last character takes the 1 bit left. */
	for (size_t i = 0; i < GOOGLE_EVENT_ID_LEN; i++) {
		size_t bit = i * 5;
		unsigned v = 0;
		for (size_t k = 0; k < 5; k++) {
			size_t b = bit + k;
			unsigned set = b < 256 ? (digest[b / 8] >> (7 - b % 8)) & 1u : 0u;
			v = (v << 1) | set;
		}
		out[i] = alphabet[v];
	}
	out[GOOGLE_EVENT_ID_LEN] = '\0';
}

bool google_event_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 5 || n > 1024)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'v')))
			return false;
	}
	return true;
}

/* --- building requests --- */

static bool present(const char *s)
{
	return s && *s;
}

/* {api}/calendars/{calendarId}/events[/{eventId}] with both ids percent-encoded ('@' → %40). */
static enum cx_err events_url(struct buf *u, const char *api_url, const char *calendar_id,
                              const char *event_id)
{
	enum cx_err err = buf_printf(u, "%s/calendars/", api_url);
	if (!err)
		err = form_encode(u, calendar_id);
	if (!err)
		err = buf_puts(u, "/events");
	if (!err && event_id) {
		err = buf_puts(u, "/");
		if (!err)
			err = form_encode(u, event_id);
	}
	return err;
}

static struct egress_request *new_request(const char *method, const char *url, const char *token)
{
	struct egress_request *r = egress_request_new(method, url);
	char *auth = xasprintf("Bearer %s", token);
	egress_request_header(r, "Authorization", auth);
	sec_wipe(auth, strlen(auth));
	free(auth);
	egress_request_header(r, "Accept", "application/json");
	return r;
}

static void set_json_body(struct egress_request *r, const json_t *body)
{
	char *text = json_dump_compact(body);
	egress_request_body(r, "application/json", text, strlen(text));
	free(text);
}

enum cx_err google_calendar_list_request(const char *api_url, const char *access_token,
                                         const char *page_token, struct egress_request **out)
{
	enum cx_err err = CX_OK;
	struct buf u;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(access_token)) {
		err = CX_EINVAL;
		goto out;
	}
	err = buf_printf(&u, "%s/users/me/calendarList?maxResults=%d", api_url,
	                 GOOGLE_CALENDAR_LIST_MAX_RESULTS);
	if (!err && present(page_token))
		err = form_add(&u, "pageToken", page_token);
	if (err)
		goto out;
	*out = new_request("GET", u.data, access_token);
out:
	buf_release(&u);
	return err;
}

static enum cx_err add_time(struct buf *u, const char *name, int64_t t)
{
	char s[32];
	if (time_format_rfc3339(t, 0, s, sizeof(s)) == 0)
		return CX_EINVAL;
	return form_add(u, name, s);
}

enum cx_err google_events_list_request(const char *api_url, const char *access_token,
                                       const struct google_list_params *p,
                                       struct egress_request **out)
{
	enum cx_err err = CX_OK;
	struct buf u;
	char num[24];
	buf_init(&u, URL_MAX);
	*out = NULL;
	bool window = p && (p->time_min != 0 || p->time_max != 0);
	if (!present(api_url) || !present(access_token) || !p || !present(p->calendar_id) ||
	    p->max_results < 0 || p->max_results > GOOGLE_LIST_MAX_RESULTS ||
	    (window && present(p->sync_token)) ||
	    (window && (p->time_min == 0 || p->time_max == 0 || p->time_max <= p->time_min))) {
		err = CX_EINVAL;
		goto out;
	}
	snprintf(num, sizeof(num), "%d", p->max_results ? p->max_results : 250);
	err = events_url(&u, api_url, p->calendar_id, NULL);
	if (!err)
		err = buf_puts(&u, "?");
	if (!err)
		err = form_add(&u, "singleEvents", "true");
	if (!err)
		err = form_add(&u, "maxResults", num);
	if (!err && present(p->sync_token)) {
		err = form_add(&u, "showDeleted", "true");
		if (!err)
			err = form_add(&u, "syncToken", p->sync_token);
	}
	if (!err && window) {
		err = add_time(&u, "timeMin", p->time_min);
		if (!err)
			err = add_time(&u, "timeMax", p->time_max);
	}
	if (!err && present(p->page_token))
		err = form_add(&u, "pageToken", p->page_token);
	if (err)
		goto out;
	*out = new_request("GET", u.data, access_token);
out:
	buf_release(&u);
	return err;
}

enum cx_err google_event_get_request(const char *api_url, const char *access_token,
                                     const char *calendar_id, const char *event_id,
                                     struct egress_request **out)
{
	enum cx_err err = CX_OK;
	struct buf u;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(access_token) || !present(calendar_id) ||
	    !present(event_id)) {
		err = CX_EINVAL;
		goto out;
	}
	err = events_url(&u, api_url, calendar_id, event_id);
	if (err)
		goto out;
	*out = new_request("GET", u.data, access_token);
out:
	buf_release(&u);
	return err;
}

static json_t *event_time(const struct cal_event_write *w, int64_t t)
{
	char s[32];
	if (w->all_day) {
		time_format_date(t, s, sizeof(s));
		return json_pack("{s:s}", "date", s);
	}
	time_format_rfc3339(t, 0, s, sizeof(s));
	json_t *o = json_pack("{s:s}", "dateTime", s);
	if (present(w->time_zone) && time_zone_valid(w->time_zone))
		json_object_set_new(o, "timeZone", json_string(w->time_zone));
	return o;
}

/* The Meet request id: derived from the Calendox id so a retried write repeats it and Google
 * ignores the repeat instead of making a second conference. */
static void meet_request_id(const char *calendox_id, char out[GOOGLE_EVENT_ID_LEN + 1])
{
	char *seed = xasprintf("meet:%s", calendox_id);
	google_event_id_for(seed, out);
	free(seed);
}

enum cx_err google_event_body(const struct cal_event_write *w, bool insert, json_t **out)
{
	enum cx_err err = CX_OK;
	json_t *body = json_object();
	char *description = NULL;
	*out = NULL;
	if (!w || (insert && (!present(w->calendox_id) || !w->set_time)) ||
	    (w->set_time && w->end_utc <= w->start_utc) ||
	    (w->conference == CAL_CONFERENCE_MEET && !present(w->calendox_id)) ||
	    w->conference == CAL_CONFERENCE_TEAMS) {
		err = CX_EINVAL;
		goto out;
	}
	if (insert) {
		char id[GOOGLE_EVENT_ID_LEN + 1];
		google_event_id_for(w->calendox_id, id);
		json_object_set_new(body, "id", json_string(id));
	}
	if (present(w->calendox_id))
		json_object_set_new(
		    body, "extendedProperties",
		    json_pack("{s:{s:s}}", "private", GOOGLE_PROPERTY_CALENDOX_ID, w->calendox_id));
	if (w->title)
		json_object_set_new(body, "summary", json_string(w->title));
	if (w->meeting) {
		err = cal_description_set_block(w->description, w->meeting, false, &description);
		if (err)
			goto out;
		json_object_set_new(body, "description", json_string(description));
		json_object_set_new(body, "location",
		                    json_string(w->location ? w->location : w->meeting->join_url));
	} else {
		if (w->description)
			json_object_set_new(body, "description", json_string(w->description));
		if (w->location)
			json_object_set_new(body, "location", json_string(w->location));
	}
	if (w->set_time) {
		json_object_set_new(body, "start", event_time(w, w->start_utc));
		json_object_set_new(body, "end", event_time(w, w->end_utc));
	}
	if (w->conference == CAL_CONFERENCE_MEET) {
		char rid[GOOGLE_EVENT_ID_LEN + 1];
		meet_request_id(w->calendox_id, rid);
		json_object_set_new(body, "conferenceData",
		                    json_pack("{s:{s:s,s:{s:s}}}", "createRequest", "requestId",
		                              rid, "conferenceSolutionKey", "type",
		                              "hangoutsMeet"));
	}
	/* json_string() refuses invalid UTF-8 by returning NULL, which json_object_set_new drops:
	 * a value we meant to send but could not is an error, not a silent omission. */
	if ((w->title && !json_object_get(body, "summary")) ||
	    ((w->description || w->meeting) && !json_object_get(body, "description")) ||
	    ((w->location || w->meeting) && !json_object_get(body, "location"))) {
		err = CX_EINVAL;
		goto out;
	}
	*out = body;
	body = NULL;
out:
	json_decref(body);
	free(description);
	return err;
}

static enum cx_err write_request(const char *method, const char *api_url, const char *access_token,
                                 const char *calendar_id, const char *event_id,
                                 const struct cal_event_write *w, const char *etag,
                                 struct egress_request **out)
{
	enum cx_err err = CX_OK;
	json_t *body = NULL;
	struct buf u;
	bool insert = event_id == NULL;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(access_token) || !present(calendar_id)) {
		err = CX_EINVAL;
		goto out;
	}
	err = google_event_body(w, insert, &body);
	if (err)
		goto out;
	err = events_url(&u, api_url, calendar_id, event_id);
	if (!err && w->conference == CAL_CONFERENCE_MEET)
		err = buf_puts(&u, "?conferenceDataVersion=1");
	if (err)
		goto out;
	*out = new_request(method, u.data, access_token);
	if (present(etag))
		egress_request_header(*out, "If-Match", etag);
	set_json_body(*out, body);
out:
	json_decref(body);
	buf_release(&u);
	return err;
}

enum cx_err google_event_insert_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, const struct cal_event_write *w,
                                        struct egress_request **out)
{
	return write_request("POST", api_url, access_token, calendar_id, NULL, w, NULL, out);
}

enum cx_err google_event_patch_request(const char *api_url, const char *access_token,
                                       const char *calendar_id, const char *event_id,
                                       const struct cal_event_write *w, const char *etag,
                                       struct egress_request **out)
{
	if (!present(event_id)) {
		*out = NULL;
		return CX_EINVAL;
	}
	return write_request("PATCH", api_url, access_token, calendar_id, event_id, w, etag, out);
}

enum cx_err google_event_delete_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, const char *event_id,
                                        struct egress_request **out)
{
	enum cx_err err = CX_OK;
	struct buf u;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(access_token) || !present(calendar_id) ||
	    !present(event_id)) {
		err = CX_EINVAL;
		goto out;
	}
	err = events_url(&u, api_url, calendar_id, event_id);
	if (!err)
		err = buf_puts(&u, "?sendUpdates=none");
	if (err)
		goto out;
	*out = new_request("DELETE", u.data, access_token);
out:
	buf_release(&u);
	return err;
}

/* Google accepts only https addresses; plain http is allowed for loopback so the sandbox works. */
static bool address_ok(const char *a)
{
	if (!present(a))
		return false;
	if (strncmp(a, "https://", 8) == 0)
		return a[8] != '\0';
	return strncmp(a, "http://127.0.0.1", 16) == 0 || strncmp(a, "http://localhost", 16) == 0 ||
	       strncmp(a, "http://[::1]", 12) == 0;
}

enum cx_err google_events_watch_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, const char *channel_id,
                                        const char *address, const char *channel_token,
                                        int64_t expiration_ms, struct egress_request **out)
{
	enum cx_err err = CX_OK;
	json_t *body = NULL;
	struct buf u;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(access_token) || !present(calendar_id) ||
	    !present(channel_id) || strlen(channel_id) > GOOGLE_CHANNEL_ID_MAX ||
	    !address_ok(address) || !present(channel_token) ||
	    strlen(channel_token) > GOOGLE_CHANNEL_TOKEN_MAX || expiration_ms < 0) {
		err = CX_EINVAL;
		goto out;
	}
	body = json_pack("{s:s,s:s,s:s,s:s}", "id", channel_id, "type", "web_hook", "address",
	                 address, "token", channel_token);
	if (!body) {
		err = CX_EINVAL;
		goto out;
	}
	if (expiration_ms > 0) {
		char ms[24];
		snprintf(ms, sizeof(ms), "%lld", (long long)expiration_ms);
		json_object_set_new(body, "expiration", json_string(ms));
	}
	err = events_url(&u, api_url, calendar_id, NULL);
	if (!err)
		err = buf_puts(&u, "/watch");
	if (err)
		goto out;
	*out = new_request("POST", u.data, access_token);
	set_json_body(*out, body);
out:
	json_decref(body);
	buf_release(&u);
	return err;
}

enum cx_err google_channel_stop_request(const char *api_url, const char *access_token,
                                        const char *channel_id, const char *resource_id,
                                        struct egress_request **out)
{
	enum cx_err err = CX_OK;
	json_t *body = NULL;
	char *url = NULL;
	*out = NULL;
	if (!present(api_url) || !present(access_token) || !present(channel_id) ||
	    !present(resource_id)) {
		err = CX_EINVAL;
		goto out;
	}
	body = json_pack("{s:s,s:s}", "id", channel_id, "resourceId", resource_id);
	if (!body) {
		err = CX_EINVAL;
		goto out;
	}
	url = xasprintf("%s/channels/stop", api_url);
	*out = new_request("POST", url, access_token);
	set_json_body(*out, body);
out:
	json_decref(body);
	free(url);
	return err;
}

void google_channel_release(struct google_channel *c)
{
	free(c->id);
	free(c->resource_id);
	free(c->resource_uri);
	memset(c, 0, sizeof(*c));
}

/* --- classifying --- */

static bool rate_reason(const char *r)
{
	return r && (strcmp(r, "rateLimitExceeded") == 0 ||
	             strcmp(r, "userRateLimitExceeded") == 0 || strcmp(r, "quotaExceeded") == 0);
}

enum cx_err google_classify(const struct egress_response *resp, int64_t now_s,
                            struct cal_error *err)
{
	struct cal_error local;
	json_t *doc = NULL;
	const char *reason = NULL, *message = NULL;
	if (!err)
		err = &local;
	if (resp->err == CX_OK && (resp->status < 200 || resp->status >= 300) &&
	    cal_parse_object(resp->body, resp->body_len, &doc) == CX_OK) {
		json_t *e = json_object_get(doc, "error");
		json_t *first = json_array_get(json_object_get(e, "errors"), 0);
		reason = cal_json_str(first, "reason", 63);
		if (!reason)
			reason = cal_json_str(e, "status", 63);
		message = cal_json_str(e, "message", 4096);
		if (!message)
			message = cal_json_str(doc, "error_description", 4096);
	}
	cal_classify_status(resp, now_s, reason, message, err);
	if ((resp->status == 403 || resp->status == 429) &&
	    (rate_reason(reason) || resp->status == 429)) {
		err->forbidden = false;
		err->rate_limited = true;
		err->retryable = true;
	}
	json_decref(doc);
	return cal_error_code(err);
}

/* --- parsing --- */

static char *dup_field(const json_t *o, const char *key, size_t max)
{
	const char *s = cal_json_str(o, key, max);
	return s ? xstrdup(s) : NULL;
}

/* Long free text is cut rather than refused: a huge description must not hide the event. */
static char *dup_text(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return cal_strdup_cut(json_string_value(v), CAL_TEXT_MAX);
}

static bool color_ok(const char *c)
{
	if (!c || strlen(c) != 7 || c[0] != '#')
		return false;
	for (int i = 1; i < 7; i++) {
		char x = c[i];
		if (!((x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') || (x >= 'A' && x <= 'F')))
			return false;
	}
	return true;
}

/* An EventDateTime: date (all-day) or dateTime with an offset; a dateTime without one is read in
 * its timeZone. Returns false when neither is usable. */
static bool event_date_time(const json_t *o, int64_t *t, bool *all_day, char date[11])
{
	const char *date_s = cal_json_str(o, "date", 10);
	const char *dt = cal_json_str(o, "dateTime", 64);
	int64_t wall;
	if (date_s && time_parse_date(date_s, t) == CX_OK) {
		*all_day = true;
		snprintf(date, 11, "%s", date_s);
		return true;
	}
	if (dt && time_parse_rfc3339(dt, t, NULL) == CX_OK)
		return true;
	const char *tz = cal_json_str(o, "timeZone", 64);
	return dt && tz && cal_parse_wall_time(dt, &wall) == CX_OK &&
	       cal_wall_to_utc(tz, wall, t) == CX_OK;
}

static enum cx_err parse_event_json(const json_t *o, const char *calendar_id, struct cal_event *e)
{
	memset(e, 0, sizeof(*e));
	const char *id = cal_json_str(o, "id", CAL_ID_MAX);
	if (!id || !*id)
		return CX_EUPSTREAM;
	e->external_id = xstrdup(id);
	e->calendar_external_id = calendar_id ? xstrdup(calendar_id) : NULL;
	const char *status = cal_json_str(o, "status", 32);
	if (status && strcmp(status, "cancelled") == 0)
		e->status = CAL_STATUS_CANCELLED;
	else if (status && strcmp(status, "tentative") == 0)
		e->status = CAL_STATUS_TENTATIVE;
	e->title = dup_text(o, "summary");
	e->description = dup_text(o, "description");
	e->location = dup_text(o, "location");
	const json_t *start = json_object_get(o, "start"), *end = json_object_get(o, "end");
	bool start_all_day = false, end_all_day = false;
	int64_t s = 0, t = 0;
	if (json_is_object(start) && json_is_object(end) &&
	    event_date_time(start, &s, &start_all_day, e->start_date) &&
	    event_date_time(end, &t, &end_all_day, e->end_date) && start_all_day == end_all_day &&
	    t >= s) {
		e->start_utc = s;
		e->end_utc = t;
		e->all_day = start_all_day;
	} else {
		e->start_date[0] = e->end_date[0] = '\0';
	}
	const char *tz = cal_json_str(start, "timeZone", 64);
	if (tz && time_zone_valid(tz))
		e->time_zone = xstrdup(tz);
	e->recurring_series_id = dup_field(o, "recurringEventId", CAL_ID_MAX);
	const json_t *orig = json_object_get(o, "originalStartTime");
	if (json_is_object(orig)) {
		bool ad = false;
		char d[11];
		int64_t os;
		if (event_date_time(orig, &os, &ad, d))
			e->original_start = os;
	}
	e->etag = dup_field(o, "etag", 256);
	const char *updated = cal_json_str(o, "updated", 64);
	int64_t u;
	if (updated && time_parse_rfc3339(updated, &u, NULL) == CX_OK)
		e->updated = u;

	const json_t *cd = json_object_get(o, "conferenceData");
	const json_t *eps = json_object_get(cd, "entryPoints");
	size_t i;
	const json_t *ep;
	json_array_foreach(eps, i, ep)
	{
		const char *type = cal_json_str(ep, "entryPointType", 16);
		const char *uri = cal_json_str(ep, "uri", CAL_LINK_MAX);
		if (type && uri && strcmp(type, "video") == 0 && !e->join_url)
			e->join_url = xstrdup(uri);
	}
	if (!e->join_url)
		e->join_url = dup_field(o, "hangoutLink", CAL_LINK_MAX);
	const json_t *cr = json_object_get(cd, "createRequest");
	const char *code = cal_json_str(json_object_get(cr, "status"), "statusCode", 16);
	if (code && strcmp(code, "pending") == 0)
		e->conference_status = CAL_CONF_PENDING;
	else if (code && strcmp(code, "success") == 0)
		e->conference_status = CAL_CONF_SUCCESS;
	else if (code && strcmp(code, "failure") == 0)
		e->conference_status = CAL_CONF_FAILURE;
	else if (e->join_url && json_is_object(cd))
		e->conference_status = CAL_CONF_SUCCESS;
	return CX_OK;
}

enum cx_err google_parse_event_body(const char *body, size_t len, const char *calendar_id,
                                    struct cal_event *out)
{
	return cal_parse_event_with(body, len, calendar_id, parse_event_json, out);
}


enum cx_err google_parse_event_page_body(const char *body, size_t len, const char *calendar_id,
                                         struct cal_event_page *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc);
	if (err)
		goto out;
	const json_t *items = json_object_get(doc, "items");
	if ((items && !json_is_array(items)) || json_array_size(items) > CAL_PAGE_MAX) {
		err = CX_EUPSTREAM;
		goto out;
	}
	err = cal_page_links(doc, "nextPageToken", "nextSyncToken", &out->next_page_token,
	                     &out->next_sync_token);
	if (err)
		goto out;
	cal_collect_events(items, calendar_id, parse_event_json, out);
out:
	if (err)
		cal_event_page_release(out);
	json_decref(doc);
	return err;
}

enum cx_err google_parse_calendar_list_body(const char *body, size_t len,
                                            struct cal_calendar_page *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc);
	if (err)
		goto out;
	const json_t *items = json_object_get(doc, "items");
	if ((items && !json_is_array(items)) || json_array_size(items) > CAL_PAGE_MAX) {
		err = CX_EUPSTREAM;
		goto out;
	}
	err = cal_page_links(doc, "nextPageToken", "nextSyncToken", &out->next_page_token,
	                     &out->next_sync_token);
	if (err)
		goto out;
	out->items = xcalloc(json_array_size(items) + 1, sizeof(*out->items));
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		const char *id = cal_json_str(it, "id", CAL_ID_MAX);
		if (!id || !*id || json_is_true(json_object_get(it, "deleted")))
			continue;
		struct cal_calendar *c = &out->items[out->n++];
		const char *name = cal_json_str(it, "summaryOverride", CAL_TEXT_MAX);
		if (!name)
			name = cal_json_str(it, "summary", CAL_TEXT_MAX);
		const char *role = cal_json_str(it, "accessRole", 32);
		const char *color = cal_json_str(it, "backgroundColor", 16);
		c->external_id = xstrdup(id);
		c->name = xstrdup(name ? name : "");
		c->primary = json_is_true(json_object_get(it, "primary"));
		c->writable = role && (strcmp(role, "owner") == 0 || strcmp(role, "writer") == 0);
		c->color = color_ok(color) ? xstrdup(color) : NULL;
	}
out:
	if (err)
		cal_calendar_page_release(out);
	json_decref(doc);
	return err;
}

/* Shared shape of the response-level parsers: classify, then parse a 2xx body. */
enum cx_err google_parse_calendar_list(const struct egress_response *resp, int64_t now_s,
                                       struct cal_calendar_page *out, struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	enum cx_err rc = google_classify(resp, now_s, err);
	if (rc)
		return rc;
	if (google_parse_calendar_list_body(resp->body, resp->body_len, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err google_parse_event_page(const struct egress_response *resp, int64_t now_s,
                                    const char *calendar_id, struct cal_event_page *out,
                                    struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	enum cx_err rc = google_classify(resp, now_s, err);
	if (resp->err == CX_OK && resp->status == 410) {
		out->full_sync_required = true;
		return CX_OK;
	}
	if (rc)
		return rc;
	if (google_parse_event_page_body(resp->body, resp->body_len, calendar_id, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err google_parse_event(const struct egress_response *resp, int64_t now_s,
                               const char *calendar_id, struct cal_event *out,
                               struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	enum cx_err rc = google_classify(resp, now_s, err);
	if (rc)
		return rc;
	if (google_parse_event_body(resp->body, resp->body_len, calendar_id, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err google_parse_channel(const struct egress_response *resp, int64_t now_s,
                                 struct google_channel *out, struct cal_error *err)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err rc = google_classify(resp, now_s, err);
	if (rc)
		return rc;
	rc = cal_parse_object(resp->body, resp->body_len, &doc);
	const char *id = rc ? NULL : cal_json_str(doc, "id", GOOGLE_CHANNEL_ID_MAX);
	const char *rid = rc ? NULL : cal_json_str(doc, "resourceId", CAL_ID_MAX);
	if (!id || !rid) {
		cal_mark_garbage(err);
		rc = CX_EUPSTREAM;
		goto out;
	}
	out->id = xstrdup(id);
	out->resource_id = xstrdup(rid);
	out->resource_uri = dup_field(doc, "resourceUri", CAL_LINK_MAX);
	/* int64 fields travel as strings in Google's JSON; accept a number too. */
	const json_t *exp = json_object_get(doc, "expiration");
	if (json_is_integer(exp)) {
		out->expiration_ms = json_integer_value(exp);
	} else if (json_is_string(exp)) {
		char *end;
		long long v = strtoll(json_string_value(exp), &end, 10);
		if (*end == '\0' && v > 0)
			out->expiration_ms = v;
	}
out:
	json_decref(doc);
	return rc;
}

enum cx_err google_delete_result(const struct egress_response *resp, int64_t now_s,
                                 bool *already_gone, struct cal_error *err)
{
	struct cal_error local;
	if (!err)
		err = &local;
	enum cx_err rc = google_classify(resp, now_s, err);
	if (already_gone)
		*already_gone = false;
	if (rc == CX_ENOTFOUND) {
		if (already_gone)
			*already_gone = true;
		rc = CX_OK;
	}
	return rc;
}
