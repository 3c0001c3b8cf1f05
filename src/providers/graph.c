/* graph.c: Microsoft Graph v1.0 calendar request builders, parsers, error classifier and
 * change-notification helpers (graph.h). */
#include "providers/graph.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/crypto.h"
#include "base/form.h"
#include "base/json.h"
#include "base/time.h"
#include "base/tz.h"
#include "base/banned.h"

#define URL_MAX (16 * 1024)
#define PREFER_UTC "outlook.timezone=\"UTC\""

void graph_transaction_id_for(const char *seed, char out[GRAPH_TRANSACTION_ID_LEN + 1])
{
	uint8_t d[32];
	char *msg = xasprintf("calendox-graph-transaction:%s", seed ? seed : "");
	sec_sha256(msg, strlen(msg), d);
	free(msg);
	snprintf(out, GRAPH_TRANSACTION_ID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1],
	         d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14],
	         d[15]);
}

/* Windows zone names Graph sends → IANA, after CLDR's windowsZones.xml (territory 001), for the
 * zones people commonly use. Names not listed here that are IANA names already pass through. */
static const struct {
	const char *windows;
	const char *iana;
} zones[] = {
    {"UTC", "UTC"},
    {"tzone://Microsoft/Utc", "UTC"},
    {"Coordinated Universal Time", "UTC"},
    {"Dateline Standard Time", "Etc/GMT+12"},
    {"UTC-11", "Etc/GMT+11"},
    {"Hawaiian Standard Time", "Pacific/Honolulu"},
    {"Alaskan Standard Time", "America/Anchorage"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"Pacific Standard Time (Mexico)", "America/Tijuana"},
    {"US Mountain Standard Time", "America/Phoenix"},
    {"Mountain Standard Time", "America/Denver"},
    {"Mountain Standard Time (Mexico)", "America/Mazatlan"},
    {"Central America Standard Time", "America/Guatemala"},
    {"Central Standard Time", "America/Chicago"},
    {"Central Standard Time (Mexico)", "America/Mexico_City"},
    {"Canada Central Standard Time", "America/Regina"},
    {"SA Pacific Standard Time", "America/Bogota"},
    {"Eastern Standard Time", "America/New_York"},
    {"US Eastern Standard Time", "America/Indiana/Indianapolis"},
    {"Venezuela Standard Time", "America/Caracas"},
    {"Atlantic Standard Time", "America/Halifax"},
    {"SA Western Standard Time", "America/La_Paz"},
    {"Pacific SA Standard Time", "America/Santiago"},
    {"Newfoundland Standard Time", "America/St_Johns"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"Argentina Standard Time", "America/Argentina/Buenos_Aires"},
    {"SA Eastern Standard Time", "America/Cayenne"},
    {"Greenland Standard Time", "America/Nuuk"},
    {"Azores Standard Time", "Atlantic/Azores"},
    {"Cape Verde Standard Time", "Atlantic/Cape_Verde"},
    {"GMT Standard Time", "Europe/London"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"Morocco Standard Time", "Africa/Casablanca"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Romance Standard Time", "Europe/Paris"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"W. Central Africa Standard Time", "Africa/Lagos"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"FLE Standard Time", "Europe/Kiev"},
    {"Israel Standard Time", "Asia/Jerusalem"},
    {"Egypt Standard Time", "Africa/Cairo"},
    {"South Africa Standard Time", "Africa/Johannesburg"},
    {"Turkey Standard Time", "Europe/Istanbul"},
    {"Arabic Standard Time", "Asia/Baghdad"},
    {"Arab Standard Time", "Asia/Riyadh"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"E. Africa Standard Time", "Africa/Nairobi"},
    {"Iran Standard Time", "Asia/Tehran"},
    {"Arabian Standard Time", "Asia/Dubai"},
    {"Afghanistan Standard Time", "Asia/Kabul"},
    {"Pakistan Standard Time", "Asia/Karachi"},
    {"West Asia Standard Time", "Asia/Tashkent"},
    {"India Standard Time", "Asia/Kolkata"},
    {"Sri Lanka Standard Time", "Asia/Colombo"},
    {"Nepal Standard Time", "Asia/Kathmandu"},
    {"Bangladesh Standard Time", "Asia/Dhaka"},
    {"Myanmar Standard Time", "Asia/Yangon"},
    {"SE Asia Standard Time", "Asia/Bangkok"},
    {"China Standard Time", "Asia/Shanghai"},
    {"Singapore Standard Time", "Asia/Singapore"},
    {"Taipei Standard Time", "Asia/Taipei"},
    {"W. Australia Standard Time", "Australia/Perth"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"Korea Standard Time", "Asia/Seoul"},
    {"Cen. Australia Standard Time", "Australia/Adelaide"},
    {"AUS Central Standard Time", "Australia/Darwin"},
    {"E. Australia Standard Time", "Australia/Brisbane"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
    {"Tasmania Standard Time", "Australia/Hobart"},
    {"West Pacific Standard Time", "Pacific/Port_Moresby"},
    {"New Zealand Standard Time", "Pacific/Auckland"},
    {"Tonga Standard Time", "Pacific/Tongatapu"},
};

const char *graph_zone_iana(const char *zone)
{
	if (!zone || !*zone)
		return NULL;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(zones[i].windows, zone) == 0)
			return zones[i].iana;
	if (strcmp(zone, "Etc/UTC") == 0 || time_zone_valid(zone))
		return zone;
	return NULL;
}

/* --- building requests --- */

static bool present(const char *s)
{
	return s && *s;
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

/* A link Graph gave us is followed verbatim, but only below the API base we talk to: a tampered
 * nextLink must not send our bearer token elsewhere. */
static bool link_ok(const char *api_url, const char *link)
{
	size_t n = strlen(api_url);
	return strncmp(link, api_url, n) == 0 && (link[n] == '/' || link[n] == '?');
}

static enum cx_err simple_request(const char *method, const char *api_url, const char *token,
                                  const char *path, const char *id, struct egress_request **out)
{
	enum cx_err err = CX_OK;
	struct buf u;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(token) || (id && !present(id))) {
		err = CX_EINVAL;
		goto out;
	}
	err = buf_printf(&u, "%s%s", api_url, path);
	if (!err && id) {
		err = buf_puts(&u, "/");
		if (!err)
			err = form_encode(&u, id);
	}
	if (err)
		goto out;
	*out = new_request(method, u.data, token);
out:
	buf_release(&u);
	return err;
}

enum cx_err graph_me_request(const char *api_url, const char *access_token,
                             struct egress_request **out)
{
	return simple_request("GET", api_url, access_token, "/me", NULL, out);
}

enum cx_err graph_calendars_request(const char *api_url, const char *access_token,
                                    const char *next_link, struct egress_request **out)
{
	*out = NULL;
	if (!present(next_link))
		return simple_request("GET", api_url, access_token, "/me/calendars", NULL, out);
	if (!present(api_url) || !present(access_token) || !link_ok(api_url, next_link))
		return CX_EINVAL;
	*out = new_request("GET", next_link, access_token);
	return CX_OK;
}

static enum cx_err add_time(struct buf *u, const char *name, int64_t t)
{
	char s[32];
	if (time_format_rfc3339(t, 0, s, sizeof(s)) == 0)
		return CX_EINVAL;
	return form_add(u, name, s);
}

/* calendarView and its delta share the shape: a window, or a link from an earlier page. */
static enum cx_err view_request(const char *api_url, const char *token, const char *calendar_id,
                                int64_t start_utc, int64_t end_utc, const char *link, bool delta,
                                struct egress_request **out)
{
	enum cx_err err = CX_OK;
	struct buf u;
	char prefer[64];
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(token) || (calendar_id && !*calendar_id)) {
		err = CX_EINVAL;
		goto out;
	}
	if (present(link)) {
		if (!link_ok(api_url, link)) {
			err = CX_EINVAL;
			goto out;
		}
		err = buf_puts(&u, link);
	} else {
		if (start_utc >= end_utc) {
			err = CX_EINVAL;
			goto out;
		}
		err = buf_printf(&u, "%s/me", api_url);
		if (!err && calendar_id) {
			err = buf_puts(&u, "/calendars/");
			if (!err)
				err = form_encode(&u, calendar_id);
		}
		if (!err)
			err = buf_puts(&u, delta ? "/calendarView/delta?" : "/calendarView?");
		if (!err)
			err = add_time(&u, "startDateTime", start_utc);
		if (!err)
			err = add_time(&u, "endDateTime", end_utc);
		if (!err && !delta)
			err = buf_printf(&u, "&%%24top=%d", GRAPH_PAGE_SIZE);
	}
	if (err)
		goto out;
	*out = new_request("GET", u.data, token);
	if (delta)
		snprintf(prefer, sizeof(prefer), "%s, odata.maxpagesize=%d", PREFER_UTC,
		         GRAPH_PAGE_SIZE);
	else
		snprintf(prefer, sizeof(prefer), "%s", PREFER_UTC);
	egress_request_header(*out, "Prefer", prefer);
out:
	buf_release(&u);
	return err;
}

enum cx_err graph_calendar_view_request(const char *api_url, const char *access_token,
                                        const char *calendar_id, int64_t start_utc, int64_t end_utc,
                                        const char *next_link, struct egress_request **out)
{
	return view_request(api_url, access_token, calendar_id, start_utc, end_utc, next_link,
	                    false, out);
}

enum cx_err graph_delta_request(const char *api_url, const char *access_token,
                                const char *calendar_id, int64_t start_utc, int64_t end_utc,
                                const char *link, struct egress_request **out)
{
	return view_request(api_url, access_token, calendar_id, start_utc, end_utc, link, true,
	                    out);
}

enum cx_err graph_event_get_request(const char *api_url, const char *access_token,
                                    const char *event_id, struct egress_request **out)
{
	enum cx_err err = simple_request("GET", api_url, access_token, "/me/events",
	                                 event_id ? event_id : "", out);
	if (!err)
		egress_request_header(*out, "Prefer", PREFER_UTC);
	return err;
}

enum cx_err graph_event_delete_request(const char *api_url, const char *access_token,
                                       const char *event_id, struct egress_request **out)
{
	return simple_request("DELETE", api_url, access_token, "/me/events",
	                      event_id ? event_id : "", out);
}

/* A dateTimeTimeZone: the wall time in the event's zone when we know it, so Outlook shows the
 * event in the zone the person chose; UTC otherwise. All-day events are midnight of the date. */
static json_t *date_time_zone(const struct cal_event_write *w, int64_t t)
{
	char local[TZ_LOCAL_MAX + 8], date[16];
	const char *zone =
	    present(w->time_zone) && time_zone_valid(w->time_zone) ? w->time_zone : "UTC";
	if (w->all_day) {
		time_format_date(t, date, sizeof(date));
		snprintf(local, sizeof(local), "%sT00:00:00", date);
	} else if (tz_local_time(zone, t, local, sizeof(local), NULL) != CX_OK) {
		char utc[32];
		time_format_rfc3339(t, 0, utc, sizeof(utc));
		snprintf(local, sizeof(local), "%.19s", utc);
		zone = "UTC";
	}
	return json_pack("{s:s,s:s}", "dateTime", local, "timeZone", zone);
}

enum cx_err graph_event_body(const struct cal_event_write *w, bool create, json_t **out)
{
	enum cx_err err = CX_OK;
	json_t *body = json_object();
	char *content = NULL;
	*out = NULL;
	if (!w || (create && (!present(w->calendox_id) || !w->set_time)) ||
	    (w->set_time && w->end_utc <= w->start_utc) || w->conference == CAL_CONFERENCE_MEET) {
		err = CX_EINVAL;
		goto out;
	}
	if (create) {
		char tx[GRAPH_TRANSACTION_ID_LEN + 1];
		graph_transaction_id_for(w->calendox_id, tx);
		json_object_set_new(body, "transactionId", json_string(tx));
	}
	if (w->title && json_object_set_new(body, "subject", json_string(w->title)) != 0) {
		err = CX_EINVAL;
		goto out;
	}
	const char *location = w->location;
	if (w->meeting) {
		err = cal_description_set_block(w->description, w->meeting, true, &content);
		if (err)
			goto out;
		if (!location)
			location = w->meeting->join_url;
	} else if (w->description) {
		content = xstrdup(w->description);
	}
	if (content) {
		json_t *b = json_pack("{s:s,s:s}", "contentType", "html", "content", content);
		if (!b) {
			err = CX_EINVAL;
			goto out;
		}
		json_object_set_new(body, "body", b);
	}
	if (location) {
		json_t *l = json_pack("{s:s}", "displayName", location);
		if (!l) {
			err = CX_EINVAL;
			goto out;
		}
		json_object_set_new(body, "location", l);
	}
	if (w->set_time) {
		json_object_set_new(body, "start", date_time_zone(w, w->start_utc));
		json_object_set_new(body, "end", date_time_zone(w, w->end_utc));
		json_object_set_new(body, "isAllDay", json_boolean(w->all_day));
	}
	if (w->conference == CAL_CONFERENCE_TEAMS) {
		json_object_set_new(body, "isOnlineMeeting", json_true());
		json_object_set_new(body, "onlineMeetingProvider", json_string("teamsForBusiness"));
	}
	*out = body;
	body = NULL;
out:
	json_decref(body);
	free(content);
	return err;
}

enum cx_err graph_event_create_request(const char *api_url, const char *access_token,
                                       const char *calendar_id, const struct cal_event_write *w,
                                       struct egress_request **out)
{
	enum cx_err err = CX_OK;
	json_t *body = NULL;
	struct buf u;
	buf_init(&u, URL_MAX);
	*out = NULL;
	if (!present(api_url) || !present(access_token) || (calendar_id && !*calendar_id)) {
		err = CX_EINVAL;
		goto out;
	}
	err = graph_event_body(w, true, &body);
	if (err)
		goto out;
	if (calendar_id) {
		err = buf_printf(&u, "%s/me/calendars/", api_url);
		if (!err)
			err = form_encode(&u, calendar_id);
		if (!err)
			err = buf_puts(&u, "/events");
	} else {
		err = buf_printf(&u, "%s/me/events", api_url);
	}
	if (err)
		goto out;
	*out = new_request("POST", u.data, access_token);
	egress_request_header(*out, "Prefer", PREFER_UTC);
	set_json_body(*out, body);
out:
	json_decref(body);
	buf_release(&u);
	return err;
}

enum cx_err graph_event_update_request(const char *api_url, const char *access_token,
                                       const char *event_id, const struct cal_event_write *w,
                                       struct egress_request **out)
{
	json_t *body = NULL;
	enum cx_err err = graph_event_body(w, false, &body);
	*out = NULL;
	if (!err)
		err = simple_request("PATCH", api_url, access_token, "/me/events",
		                     event_id ? event_id : "", out);
	if (!err) {
		egress_request_header(*out, "Prefer", PREFER_UTC);
		set_json_body(*out, body);
	}
	json_decref(body);
	return err;
}

static int64_t clamp_expiration(int64_t expiration_s, int64_t now_s)
{
	int64_t max = now_s + (int64_t)GRAPH_SUBSCRIPTION_MAX_MINUTES * 60;
	return expiration_s > max ? max : expiration_s;
}

enum cx_err graph_subscription_create_request(const char *api_url, const char *access_token,
                                              const char *notification_url,
                                              const char *lifecycle_url, const char *client_state,
                                              int64_t expiration_s, int64_t now_s,
                                              struct egress_request **out)
{
	enum cx_err err = CX_OK;
	json_t *body = NULL;
	char exp[32];
	*out = NULL;
	if (!present(notification_url) || !present(client_state) ||
	    strlen(client_state) > GRAPH_CLIENT_STATE_MAX || expiration_s <= now_s ||
	    (lifecycle_url && !*lifecycle_url)) {
		err = CX_EINVAL;
		goto out;
	}
	time_format_rfc3339(clamp_expiration(expiration_s, now_s), 0, exp, sizeof(exp));
	body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "changeType", "created,updated,deleted",
	                 "notificationUrl", notification_url, "resource", "me/events",
	                 "expirationDateTime", exp, "clientState", client_state);
	if (!body) {
		err = CX_EINVAL;
		goto out;
	}
	if (lifecycle_url)
		json_object_set_new(body, "lifecycleNotificationUrl", json_string(lifecycle_url));
	err = simple_request("POST", api_url, access_token, "/subscriptions", NULL, out);
	if (!err)
		set_json_body(*out, body);
out:
	json_decref(body);
	return err;
}

enum cx_err graph_subscription_renew_request(const char *api_url, const char *access_token,
                                             const char *subscription_id, int64_t expiration_s,
                                             int64_t now_s, struct egress_request **out)
{
	char exp[32];
	*out = NULL;
	if (expiration_s <= now_s)
		return CX_EINVAL;
	time_format_rfc3339(clamp_expiration(expiration_s, now_s), 0, exp, sizeof(exp));
	enum cx_err err = simple_request("PATCH", api_url, access_token, "/subscriptions",
	                                 subscription_id ? subscription_id : "", out);
	if (!err) {
		json_t *body = json_pack("{s:s}", "expirationDateTime", exp);
		set_json_body(*out, body);
		json_decref(body);
	}
	return err;
}

enum cx_err graph_subscription_delete_request(const char *api_url, const char *access_token,
                                              const char *subscription_id,
                                              struct egress_request **out)
{
	return simple_request("DELETE", api_url, access_token, "/subscriptions",
	                      subscription_id ? subscription_id : "", out);
}

/* --- classifying --- */

enum cx_err graph_classify(const struct egress_response *resp, int64_t now_s, struct cal_error *err)
{
	struct cal_error local;
	json_t *doc = NULL;
	const char *code = NULL, *message = NULL;
	if (!err)
		err = &local;
	if (resp->err == CX_OK && (resp->status < 200 || resp->status >= 300) &&
	    cal_parse_object(resp->body, resp->body_len, &doc) == CX_OK) {
		json_t *e = json_object_get(doc, "error");
		code = cal_json_str(e, "code", 63);
		message = cal_json_str(e, "message", 4096);
	}
	cal_classify_status(resp, now_s, code, message, err);
	/* A dead delta token is told by its code too, whatever status carries it. */
	if (code && (strcasecmp(code, "syncStateNotFound") == 0 ||
	             strcasecmp(code, "resyncRequired") == 0 ||
	             strcasecmp(code, "syncStateInvalid") == 0)) {
		err->gone = true;
		err->retryable = false;
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

static char *dup_text(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return cal_strdup_cut(json_string_value(v), CAL_TEXT_MAX);
}

/* A dateTimeTimeZone → UTC. Graph sends wall time without an offset and the zone beside it (UTC
 * with our Prefer header, but a Windows or IANA name is handled too). */
static bool date_time_tz(const json_t *o, int64_t *t, char date[11])
{
	const char *dt = cal_json_str(o, "dateTime", 64);
	const char *zone = graph_zone_iana(cal_json_str(o, "timeZone", 128));
	int64_t wall;
	if (!dt)
		return false;
	if (time_parse_rfc3339(dt, t, NULL) == CX_OK) {
		time_format_date(*t, date, 11);
		return true;
	}
	if (cal_parse_wall_time(dt, &wall) != CX_OK)
		return false;
	snprintf(date, 11, "%.10s", dt);
	if (!zone)
		return false;
	return cal_wall_to_utc(zone, wall, t) == CX_OK;
}

static enum cx_err parse_event_json(const json_t *o, const char *calendar_id, struct cal_event *e)
{
	memset(e, 0, sizeof(*e));
	const char *id = cal_json_str(o, "id", CAL_ID_MAX);
	if (!id || !*id)
		return CX_EUPSTREAM;
	e->external_id = xstrdup(id);
	e->calendar_external_id = calendar_id ? xstrdup(calendar_id) : NULL;
	if (json_object_get(o, "@removed")) {
		e->status = CAL_STATUS_CANCELLED;
		return CX_OK;
	}
	if (json_is_true(json_object_get(o, "isCancelled")))
		e->status = CAL_STATUS_CANCELLED;
	else if (strcmp(cal_json_str(o, "showAs", 32) ? cal_json_str(o, "showAs", 32) : "",
	                "tentative") == 0)
		e->status = CAL_STATUS_TENTATIVE;
	e->title = dup_text(o, "subject");
	e->description = dup_text(json_object_get(o, "body"), "content");
	e->location = dup_text(json_object_get(o, "location"), "displayName");
	if (e->location && !*e->location) {
		free(e->location);
		e->location = NULL;
	}
	const json_t *start = json_object_get(o, "start"), *end = json_object_get(o, "end");
	char sd[11] = "", ed[11] = "";
	int64_t s, t;
	bool all_day = json_is_true(json_object_get(o, "isAllDay"));
	if (json_is_object(start) && json_is_object(end) && date_time_tz(start, &s, sd) &&
	    date_time_tz(end, &t, ed) && t >= s) {
		e->all_day = all_day;
		if (all_day && time_parse_date(sd, &s) == CX_OK &&
		    time_parse_date(ed, &t) == CX_OK) {
			/* All-day events float: the date counts, not the instant. */
			memcpy(e->start_date, sd, 11);
			memcpy(e->end_date, ed, 11);
		}
		e->start_utc = s;
		e->end_utc = t;
	}
	const char *zone = graph_zone_iana(cal_json_str(o, "originalStartTimeZone", 128));
	if (!zone)
		zone = graph_zone_iana(cal_json_str(start, "timeZone", 128));
	if (zone)
		e->time_zone = xstrdup(zone);
	e->recurring_series_id = dup_field(o, "seriesMasterId", CAL_ID_MAX);
	const char *os = cal_json_str(o, "originalStart", 64);
	int64_t v;
	if (e->recurring_series_id && os && time_parse_rfc3339(os, &v, NULL) == CX_OK)
		e->original_start = v;
	e->etag = dup_field(o, "changeKey", 256);
	if (!e->etag)
		e->etag = dup_field(o, "@odata.etag", 256);
	const char *mod = cal_json_str(o, "lastModifiedDateTime", 64);
	if (mod && time_parse_rfc3339(mod, &v, NULL) == CX_OK)
		e->updated = v;
	e->join_url = dup_field(json_object_get(o, "onlineMeeting"), "joinUrl", CAL_LINK_MAX);
	if (!e->join_url)
		e->join_url = dup_field(o, "onlineMeetingUrl", CAL_LINK_MAX);
	if (e->join_url && json_is_true(json_object_get(o, "isOnlineMeeting")))
		e->conference_status = CAL_CONF_SUCCESS;
	return CX_OK;
}

enum cx_err graph_parse_event_body(const char *body, size_t len, const char *calendar_id,
                                   struct cal_event *out)
{
	return cal_parse_event_with(body, len, calendar_id, parse_event_json, out);
}


static const json_t *value_array(const json_t *doc)
{
	const json_t *v = json_object_get(doc, "value");
	return json_is_array(v) && json_array_size(v) <= CAL_PAGE_MAX ? v : NULL;
}

enum cx_err graph_parse_event_page_body(const char *body, size_t len, const char *calendar_id,
                                        struct cal_event_page *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc);
	const json_t *items = err ? NULL : value_array(doc);
	if (!err && !items)
		err = CX_EUPSTREAM;
	if (!err)
		err = cal_page_links(doc, "@odata.nextLink", "@odata.deltaLink", &out->next_page_token,
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

enum cx_err graph_parse_calendars_body(const char *body, size_t len, struct cal_calendar_page *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc);
	const json_t *items = err ? NULL : value_array(doc);
	if (!err && !items)
		err = CX_EUPSTREAM;
	if (!err)
		err = cal_page_links(doc, "@odata.nextLink", "@odata.deltaLink", &out->next_page_token,
	                     NULL);
	if (err)
		goto out;
	out->items = xcalloc(json_array_size(items) + 1, sizeof(*out->items));
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		const char *id = cal_json_str(it, "id", CAL_ID_MAX);
		if (!id || !*id)
			continue;
		struct cal_calendar *c = &out->items[out->n++];
		const char *name = cal_json_str(it, "name", CAL_TEXT_MAX);
		const char *color = cal_json_str(it, "hexColor", 16);
		c->external_id = xstrdup(id);
		c->name = xstrdup(name ? name : "");
		c->primary = json_is_true(json_object_get(it, "isDefaultCalendar"));
		c->writable = json_is_true(json_object_get(it, "canEdit"));
		c->color = color && strlen(color) == 7 && color[0] == '#' &&
		                   strspn(color + 1, "0123456789abcdefABCDEF") == 6
		               ? xstrdup(color)
		               : NULL;
	}
out:
	if (err)
		cal_calendar_page_release(out);
	json_decref(doc);
	return err;
}

void graph_user_release(struct graph_user *u)
{
	free(u->id);
	free(u->email);
	free(u->display_name);
	memset(u, 0, sizeof(*u));
}

enum cx_err graph_parse_user_body(const char *body, size_t len, struct graph_user *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc);
	const char *id = err ? NULL : cal_json_str(doc, "id", CAL_ID_MAX);
	if (!id || !*id) {
		err = CX_EUPSTREAM;
		goto out;
	}
	out->id = xstrdup(id);
	out->email = dup_field(doc, "mail", 320);
	if (!out->email)
		out->email = dup_field(doc, "userPrincipalName", 320);
	out->display_name = dup_field(doc, "displayName", 1024);
out:
	json_decref(doc);
	return err;
}

void graph_subscription_release(struct graph_subscription *s)
{
	free(s->id);
	free(s->resource);
	memset(s, 0, sizeof(*s));
}

enum cx_err graph_parse_user(const struct egress_response *resp, int64_t now_s,
                             struct graph_user *out, struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	enum cx_err rc = graph_classify(resp, now_s, err);
	if (rc)
		return rc;
	if (graph_parse_user_body(resp->body, resp->body_len, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err graph_parse_calendars(const struct egress_response *resp, int64_t now_s,
                                  struct cal_calendar_page *out, struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	enum cx_err rc = graph_classify(resp, now_s, err);
	if (rc)
		return rc;
	if (graph_parse_calendars_body(resp->body, resp->body_len, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err graph_parse_event_page(const struct egress_response *resp, int64_t now_s,
                                   const char *calendar_id, struct cal_event_page *out,
                                   struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	struct cal_error local;
	if (!err)
		err = &local;
	enum cx_err rc = graph_classify(resp, now_s, err);
	if (err->gone) {
		out->full_sync_required = true;
		return CX_OK;
	}
	if (rc)
		return rc;
	if (graph_parse_event_page_body(resp->body, resp->body_len, calendar_id, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err graph_parse_event(const struct egress_response *resp, int64_t now_s,
                              const char *calendar_id, struct cal_event *out, struct cal_error *err)
{
	memset(out, 0, sizeof(*out));
	enum cx_err rc = graph_classify(resp, now_s, err);
	if (rc)
		return rc;
	if (graph_parse_event_body(resp->body, resp->body_len, calendar_id, out) != CX_OK) {
		cal_mark_garbage(err);
		return CX_EUPSTREAM;
	}
	return CX_OK;
}

enum cx_err graph_parse_subscription(const struct egress_response *resp, int64_t now_s,
                                     struct graph_subscription *out, struct cal_error *err)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err rc = graph_classify(resp, now_s, err);
	if (rc)
		return rc;
	rc = cal_parse_object(resp->body, resp->body_len, &doc);
	const char *id = rc ? NULL : cal_json_str(doc, "id", CAL_ID_MAX);
	if (!id || !*id) {
		cal_mark_garbage(err);
		rc = CX_EUPSTREAM;
		goto out;
	}
	out->id = xstrdup(id);
	out->resource = dup_field(doc, "resource", CAL_LINK_MAX);
	const char *exp = cal_json_str(doc, "expirationDateTime", 64);
	int64_t v;
	if (exp && time_parse_rfc3339(exp, &v, NULL) == CX_OK)
		out->expiration_s = v;
out:
	json_decref(doc);
	return rc;
}

enum cx_err graph_delete_result(const struct egress_response *resp, int64_t now_s,
                                bool *already_gone, struct cal_error *err)
{
	struct cal_error local;
	if (!err)
		err = &local;
	enum cx_err rc = graph_classify(resp, now_s, err);
	if (already_gone)
		*already_gone = false;
	if (rc == CX_ENOTFOUND && err->not_found) {
		if (already_gone)
			*already_gone = true;
		rc = CX_OK;
	}
	return rc;
}

/* --- change notifications --- */

bool graph_is_validation_request(const char *method, const char *validation_token)
{
	if (!method || strcmp(method, "POST") != 0 || !validation_token)
		return false;
	size_t n = strlen(validation_token);
	if (n == 0 || n > GRAPH_VALIDATION_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)validation_token[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

void graph_notifications_release(struct graph_notifications *n)
{
	for (size_t i = 0; i < n->n; i++) {
		free(n->items[i].subscription_id);
		free(n->items[i].client_state);
		free(n->items[i].resource);
		free(n->items[i].resource_id);
	}
	free(n->items);
	memset(n, 0, sizeof(*n));
}

static enum graph_change change_of(const char *s)
{
	if (!s)
		return GRAPH_CHANGE_UNKNOWN;
	if (strcmp(s, "created") == 0)
		return GRAPH_CHANGE_CREATED;
	if (strcmp(s, "updated") == 0)
		return GRAPH_CHANGE_UPDATED;
	if (strcmp(s, "deleted") == 0)
		return GRAPH_CHANGE_DELETED;
	return GRAPH_CHANGE_UNKNOWN;
}

static enum graph_lifecycle lifecycle_of(const char *s)
{
	if (!s)
		return GRAPH_LIFECYCLE_NONE;
	if (strcmp(s, "reauthorizationRequired") == 0)
		return GRAPH_LIFECYCLE_REAUTHORIZATION_REQUIRED;
	if (strcmp(s, "subscriptionRemoved") == 0 || strcmp(s, "SubscriptionRemoved") == 0)
		return GRAPH_LIFECYCLE_SUBSCRIPTION_REMOVED;
	if (strcmp(s, "missed") == 0)
		return GRAPH_LIFECYCLE_MISSED;
	return GRAPH_LIFECYCLE_OTHER;
}

enum cx_err graph_parse_notifications(const char *body, size_t len, struct graph_notifications *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc) == CX_OK ? CX_OK : CX_EINVAL;
	const json_t *value = err ? NULL : json_object_get(doc, "value");
	if (!err && (!json_is_array(value) || json_array_size(value) > GRAPH_NOTIFICATIONS_MAX))
		err = CX_EINVAL;
	if (err)
		goto out;
	out->items = xcalloc(json_array_size(value) + 1, sizeof(*out->items));
	size_t i;
	const json_t *it;
	json_array_foreach(value, i, it)
	{
		/* The older Outlook lifecycle form capitalises its keys. */
		const char *sid = cal_json_str(it, "subscriptionId", CAL_ID_MAX);
		if (!sid)
			sid = cal_json_str(it, "SubscriptionId", CAL_ID_MAX);
		if (!sid || !*sid)
			continue;
		struct graph_notification *n = &out->items[out->n++];
		n->subscription_id = xstrdup(sid);
		n->client_state = dup_field(it, "clientState", GRAPH_CLIENT_STATE_MAX);
		n->change = change_of(cal_json_str(it, "changeType", 32));
		n->resource = dup_field(it, "resource", CAL_LINK_MAX);
		n->resource_id = dup_field(json_object_get(it, "resourceData"), "id", CAL_ID_MAX);
		n->lifecycle = lifecycle_of(cal_json_str(it, "lifecycleEvent", 64));
		const char *old = cal_json_str(it, "ChangeType", 64);
		if (n->lifecycle == GRAPH_LIFECYCLE_NONE && old &&
		    strcmp(old, "SubscriptionRemoved") == 0)
			n->lifecycle = GRAPH_LIFECYCLE_SUBSCRIPTION_REMOVED;
	}
out:
	if (err)
		graph_notifications_release(out);
	json_decref(doc);
	return err;
}
