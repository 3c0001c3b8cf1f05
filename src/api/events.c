/* events.c: the Unified Calendar's events (DESIGN §5): GET /api/events?start=&end= lists the
 * person's events of selected calendars in a range, GET /api/events/{id} reads one. The events
 * come into the store by sync (jobs/sync.c); these handlers only read it, keyed by the signed-in
 * person, so another person's event is 404 like a missing one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/time.h"
#include "providers/calendar.h"
#include "store/events.h"
#include "store/meetings.h"

#include "base/banned.h"

#define EVENTS_RANGE_MAX_S (366 * 86400)

static json_t *id_json(int64_t id)
{
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)id);
	return json_string(text);
}

/* Which meeting service a join link belongs to. Zoom links come from Calendox or the person (in
 * the location); Meet and Teams links from the providers' own conferences, so a link that names
 * neither belongs to the calendar's provider. Sandbox links use the providers' path prefixes. */
static const char *meeting_provider(const char *join_url, const char *calendar_provider)
{
	if (strstr(join_url, "zoom.us/") || strstr(join_url, "/zoom/j/"))
		return "zoom";
	if (strstr(join_url, "meet.google.com/") || strstr(join_url, "/google/meet/"))
		return "google_meet";
	if (strstr(join_url, "teams.microsoft.com/") || strstr(join_url, "/microsoft/teams/"))
		return "teams";
	return strcmp(calendar_provider, "microsoft") == 0 ? "teams" : "google_meet";
}

static json_t *meeting_record_json(const struct store_meeting *m)
{
	json_t *error = json_null();
	if (m->error_code)
		error = json_pack("{s:s, s:s, s:s?}", "code", m->error_code, "message",
		                  m->error_message ? m->error_message : "", "hint", m->error_hint);
	const char *status = m->status;
	if (strcmp(status, MEETING_DELETING) == 0)
		status = MEETING_DELETED;
	return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:o}", "provider", m->provider, "status",
	                 status, "join_url", m->join_url, "meeting_id", m->external_id, "passcode",
	                 m->passcode, "error", error);
}

static json_t *meeting_json(const struct store_event *e)
{
	if (e->meeting && strcmp(e->meeting->status, MEETING_DELETING) != 0)
		return meeting_record_json(e->meeting);
	if (!e->join_url || !*e->join_url)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:n, s:n, s:n}", "provider",
	                 meeting_provider(e->join_url, e->provider), "status", "ready", "join_url",
	                 e->join_url, "meeting_id", "passcode", "error");
}

/* The person's own text: Calendox's meeting block is shown as the meeting, not in it. */
static json_t *description_json(const char *description)
{
	char *text = NULL;
	if (!description)
		return json_null();
	if (!cal_description_has_block(description) ||
	    cal_description_set_block(description, NULL, false, &text) != CX_OK)
		return json_string(description);
	json_t *out = json_string(text);
	free(text);
	return out ? out : json_null();
}

json_t *api_event_json(const struct store_event *e)
{
	return json_pack("{s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:s?, s:b, s:o, s:s?, s:o, s:o}",
	                 "id", id_json(e->id), "calendar_id", id_json(e->calendar_id), "provider",
	                 e->provider, "external_id", e->external_id ? e->external_id : "", "title",
	                 e->title ? e->title : "", "start", api_time_json(e->start_utc), "end",
	                 api_time_json(e->end_utc), "time_zone", e->time_zone, "all_day",
	                 e->all_day, "description", description_json(e->description), "location", e->location,
	                 "meeting", meeting_json(e), "updated_at", api_time_json(e->updated_at));
}

/* A required RFC 3339 query parameter; false (after replying 400) when missing or malformed. */
static bool query_time(struct http_request *req, const char *name, int64_t *out)
{
	const char *s = http_query(req, name);
	if (!s || time_parse_rfc3339(s, out, NULL) != CX_OK) {
		http_reply_error(
		    req, 400, "invalid_request",
		    s ? "The range's start and end must be RFC 3339 times with an offset."
		      : "Give the range as start and end query parameters.",
		    "For example ?start=2026-05-01T00:00:00Z&end=2026-06-01T00:00:00Z");
		return false;
	}
	return true;
}

void api_events_list(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	struct store_event *events = NULL;
	size_t n = 0;
	int64_t start = 0, end = 0;
	if (!api_authenticate(req, false, &auth))
		return;
	if (!query_time(req, "start", &start) || !query_time(req, "end", &end))
		return;
	if (end <= start) {
		http_reply_error(req, 400, "invalid_request",
		                 "The range's end must be after its start.", NULL);
		return;
	}
	if (end - start > EVENTS_RANGE_MAX_S) {
		http_reply_error(req, 400, "invalid_request",
		                 "The range may span at most 366 days.", NULL);
		return;
	}
	enum cx_err e = store_events_list(store_conn(app->store), auth.id, start, end, &events, &n);
	if (e) {
		api_reply_failure(req, e, "reading events");
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, api_event_json(&events[i]));
	store_events_free(events, n);
	http_reply_json(req, 200, json_pack("{s:o}", "events", list));
}

/* The {id} of the route as a row id; false for anything that is not a positive decimal. */
static bool route_id(struct http_request *req, int64_t *id)
{
	const char *s = http_param(req, "id");
	if (!s || !*s || strlen(s) > 19 || s[0] < '1' || s[0] > '9')
		return false;
	for (const char *q = s; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno)
		return false;
	*id = v;
	return true;
}

void api_event_get(struct http_request *req)
{
	struct app *app = req->app;
	struct api_user auth;
	struct store_event ev;
	int64_t id = 0;
	if (!api_authenticate(req, false, &auth))
		return;
	enum cx_err e = route_id(req, &id)
	                    ? store_event_get(store_conn(app->store), auth.id, id, &ev)
	                    : CX_ENOTFOUND;
	if (e == CX_ENOTFOUND) {
		http_reply_error(req, 404, "not_found", "There is no such event.", NULL);
		return;
	}
	if (e) {
		api_reply_failure(req, e, "reading the event");
		return;
	}
	const char *refresh = http_query(req, "refresh");
	if (refresh && strcmp(refresh, "1") == 0 && ev.meeting &&
	    strcmp(ev.meeting->provider, "zoom") == 0 &&
	    strcmp(ev.meeting->status, MEETING_READY) == 0) {
		store_event_release(&ev);
		api_event_refresh(req, auth.id, id);
		return;
	}
	http_reply_json(req, 200, api_event_json(&ev));
	store_event_release(&ev);
}
