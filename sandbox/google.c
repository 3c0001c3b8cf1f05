/* google.c: the Google OAuth 2.0 and Calendar API v3 emulator of `calendox sandbox` (DESIGN §7,
 * shared/providers/GOOGLE.md, checklist GE-nn).
 *
 * State lives in struct sb_google, guarded by sb->lock like everything else in the sandbox. Every
 * handler builds its answer into a struct g_reply while holding the lock and sends it (and any push
 * notifications it caused) after releasing it. Events are never purged: a deleted event becomes
 * status "cancelled" and keeps a change sequence number, which is what sync tokens count. */
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/time.h"
#include "google_recur.h"
#include "microsoft_zone.h"
#include "sb.h"
#include "base/banned.h"

#define G_CLIENT_ID "sandbox-google-client"
#define G_CLIENT_SECRET "sandbox-secret"
#define G_SCOPE_PREFIX "https://www.googleapis.com/auth/"
#define G_ACCESS_TTL_S 3599
#define G_CODE_TTL_S 600
#define G_CHANNEL_MAX_TTL_S (7 * 86400)
#define G_MAX_EVENTS 20000
#define G_MAX_CHANNELS 1000
#define G_MAX_GRANTS 10000
#define G_MAX_CODES 1000
#define G_MAX_INSTANCES 730
#define G_LIST_DEFAULT 250
#define G_LIST_MAX 2500
#define G_CALLIST_MAX 250
#define G_BASE32HEX "0123456789abcdefghijklmnopqrstuv"
#define G_ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

struct g_calendar {
	const char *id;
	const char *summary;
	const char *owner;
	const char *color_id;
	const char *background;
	bool primary;
};

/* The seeded calendars: alice's primary one and "Work". */
static const struct g_calendar g_calendars[] = {
    {"alice@example.com", "alice@example.com", "alice@example.com", "14", "#039be5", true},
    {"c_alicework@group.calendar.google.com", "Work", "alice@example.com", "9", "#7986cb", false},
};
static const char *const g_emails[] = {"alice@example.com"};

static const struct sb_scope_text g_scope_texts[] = {
    {G_SCOPE_PREFIX "calendar", "See, edit, share, and permanently delete all the calendars you "
                                "can access using Google Calendar"},
    {G_SCOPE_PREFIX "calendar.events", "View and edit events on all your calendars"},
    {G_SCOPE_PREFIX "calendar.events.readonly", "View events on all your calendars"},
    {G_SCOPE_PREFIX "calendar.readonly", "See and download any calendar you can access using "
                                         "your Google Calendar"},
    {G_SCOPE_PREFIX "calendar.calendarlist.readonly", "See the list of Google calendars you're "
                                                      "subscribed to"},
    {"openid", "Associate you with your personal info on Google"},
    {"email", "See your primary Google Account email address"},
    {"profile", "See your personal info, including any personal info you've made publicly "
                "available"},
};

struct g_code {
	char *code;
	char *redirect_uri;
	char *scope;
	char *account;
	char *challenge;
	char *challenge_method;
	bool offline; /* a refresh token comes with the exchange */
	bool used;
	int64_t expires_s;
	struct g_code *next;
};

struct g_grant {
	int id;
	char *account;
	char *scope;
	char *refresh_token; /* NULL without access_type=offline */
	bool revoked;
	int64_t created_s;
	struct g_grant *next;
};

struct g_access {
	char *token;
	struct g_grant *grant;
	int64_t expires_s;
	struct g_access *next;
};

enum g_conf { G_CONF_NONE, G_CONF_PENDING, G_CONF_SUCCESS, G_CONF_FAILURE, G_CONF_VERBATIM };

struct g_event {
	const char *calendar_id; /* one of g_calendars */
	char *id;
	json_t *fields;         /* the client-writable fields as last written */
	int64_t start_s, end_s; /* UTC; end exclusive */
	int offset_min;         /* the offset start was written with (recurrence expansion) */
	bool all_day;
	bool cancelled;
	uint64_t create_seq, change_seq;
	int64_t created_ms, updated_ms;
	unsigned etag_n;
	enum g_conf conf;
	char *conf_request_id;
	char *conf_type;
	char *meet_code;
	json_t *conf_verbatim;
	/* An exception to a recurring event (one changed or cancelled occurrence): the series' id,
	 * the occurrence's original start and its rendered originalStartTime. NULL otherwise. */
	char *recurring_id;
	int64_t original_start_s;
	json_t *original_start;
	unsigned n_exceptions; /* on a series: how many exceptions it has */
	struct g_event *next;
};

struct g_channel {
	char *id;
	char *resource_id;
	const char *calendar_id;
	char *address;
	char *token;
	char *account;
	int64_t expiration_ms;
	uint64_t message_number;
	bool stopped;
	struct g_channel *next;
};

struct sb_google {
	struct g_code *codes;
	struct g_grant *grants;
	struct g_access *access;
	struct g_event *events; /* newest first */
	struct g_channel *channels;
	size_t n_events, n_channels, n_grants, n_codes;
	bool offline_consented; /* alice has given offline consent to the sandbox client */
	int next_grant_id;
	uint64_t seq;        /* change sequence: every event write takes the next value */
	unsigned sync_gen;   /* bumped by invalidate_sync_tokens */
	bool meet_immediate; /* createRequest succeeds in the insert answer already */
	bool short_pages;    /* events.list pages hold half of maxResults and end empty (GE-15) */
	/* rate limit (POST /_sandbox/google/rate_limit); limit 0 = off */
	int rl_limit, rl_window_s, rl_status, rl_count;
	int64_t rl_window_start;
	struct {
		uint64_t authorizations, denials, code_exchanges, token_refreshes, revocations;
		uint64_t inserts, patches, updates, deletes, outside_edits, lists, gets;
		uint64_t channels, pushes, sync_invalidations, rate_limited, meet_created;
	} n;
};

/* One push notification waiting for the lock to be released. */
struct g_push {
	char *url;
	const char *headers[10];
	struct g_push *next;
};

/* What a handler answers, built under the lock and sent after it. */
struct g_reply {
	int status;
	json_t *json;
	const char *content_type;
	const char *text;
	const char *location;
	const char *www_authenticate;
	const char *cache_control;
	struct g_push *pushes;
};

/* ------------------------------------------------------------------ small helpers */

static struct sb_google *gstate(struct sb *sb)
{
	return sb->google;
}

static void fmt_ms(int64_t ms, char out[32])
{
	if (time_format_rfc3339_ms(ms, out, 32) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
}

/* RFC 1123 date for X-Goog-Channel-Expiration ("Tue, 01 Dec 2026 08:00:00 GMT"). */
static char *http_date(struct arena *a, int64_t unix_s)
{
	static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t days = unix_s / 86400, rem = unix_s % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	int w = (int)(((days % 7) + 7) % 7);
	return arena_printf(a, "%s, %02u %s %04d %02d:%02d:%02d GMT", wd[w], d, mon[m - 1], (int)y,
	                    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static bool has_scope(const char *granted, const char *full)
{
	size_t n = strlen(full);
	const char *p = granted;
	while (p && *p) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, full, n) == 0)
			return true;
		p = e;
	}
	return false;
}

static bool has_any_scope(const char *granted, const char *const *names)
{
	char full[128];
	for (size_t i = 0; names[i]; i++) {
		snprintf(full, sizeof(full), G_SCOPE_PREFIX "%s", names[i]);
		if (has_scope(granted, full))
			return true;
	}
	return false;
}

static const char *const g_scopes_calendar_list[] = {"calendar", "calendar.calendarlist",
                                                     "calendar.calendarlist.readonly",
                                                     "calendar.readonly", NULL};
static const char *const g_scopes_write[] = {"calendar", "calendar.app.created", "calendar.events",
                                             "calendar.events.owned", NULL};
static const char *const g_scopes_read[] = {"calendar",
                                            "calendar.app.created",
                                            "calendar.events",
                                            "calendar.events.owned",
                                            "calendar.readonly",
                                            "calendar.events.readonly",
                                            "calendar.events.owned.readonly",
                                            "calendar.events.public.readonly",
                                            "calendar.events.freebusy",
                                            NULL};

/* ------------------------------------------------------------------ replies */

static void reply_json(struct g_reply *r, int status, json_t *body)
{
	json_decref(r->json);
	r->status = status;
	r->json = body;
}

/* The Calendar API error body (GOOGLE.md §9). location may be NULL. */
static void api_error(struct g_reply *r, int status, const char *domain, const char *reason,
                      const char *message, const char *location_type, const char *location)
{
	json_t *e =
	    json_pack("{s:s,s:s,s:s}", "domain", domain, "reason", reason, "message", message);
	if (location_type)
		json_object_set_new(e, "locationType", json_string(location_type));
	if (location)
		json_object_set_new(e, "location", json_string(location));
	reply_json(r, status,
	           json_pack("{s:{s:[o],s:i,s:s}}", "error", "errors", e, "code", status, "message",
	                     message));
}

static void oauth_error(struct g_reply *r, int status, const char *error, const char *description)
{
	reply_json(r, status,
	           json_pack("{s:s,s:s}", "error", error, "error_description", description));
	r->cache_control = "no-store";
}

static void reply_html(struct g_reply *r, int status, const char *html)
{
	r->status = status;
	r->content_type = "text/html; charset=utf-8";
	r->text = html;
}

static void add_push(struct g_reply *r, struct g_push *p)
{
	p->next = r->pushes;
	r->pushes = p;
}

/* Sends the reply and the pushes; runs without the lock. */
static void finish(struct http_request *req, struct sb *sb, struct g_reply *r)
{
	/* A push that is not acknowledged with 2xx is retried with exponential backoff. */
	static const int retries[] = {30, 60, 120, 240, 480};
	for (struct g_push *p = r->pushes; p; p = p->next)
		sb_deliver(sb, "POST", p->url, p->headers, "", retries,
		           (int)(sizeof(retries) / sizeof(retries[0])));
	if (r->www_authenticate)
		http_add_header(req, "WWW-Authenticate", r->www_authenticate);
	if (r->cache_control)
		http_add_header(req, "Cache-Control", r->cache_control);
	if (r->location) {
		http_reply_redirect(req, r->status ? r->status : 302, r->location);
	} else if (r->json) {
		json_t *j = r->json;
		r->json = NULL;
		http_reply_json(req, r->status, j);
	} else if (r->text) {
		http_reply(req, r->status, r->content_type, r->text, strlen(r->text));
	} else {
		http_reply_empty(req, r->status ? r->status : 204);
	}
}

/* Parses the request body as a JSON object the way Google does (400 parseError otherwise). */
static json_t *body_object(struct http_request *req, struct g_reply *r)
{
	if (!req->body || req->body_len == 0) {
		api_error(r, 400, "global", "required", "Required", NULL, NULL);
		return NULL;
	}
	json_error_t jerr;
	json_t *v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v || !json_is_object(v)) {
		json_decref(v);
		api_error(r, 400, "global", "parseError", "Parse Error", NULL, NULL);
		return NULL;
	}
	return v;
}

/* ------------------------------------------------------------------ state management */

static void free_event(struct g_event *e)
{
	free(e->id);
	json_decref(e->fields);
	free(e->conf_request_id);
	free(e->conf_type);
	free(e->meet_code);
	json_decref(e->conf_verbatim);
	free(e->recurring_id);
	json_decref(e->original_start);
	free(e);
}

static void free_code(struct g_code *c)
{
	free(c->code);
	free(c->redirect_uri);
	free(c->scope);
	free(c->account);
	free(c->challenge);
	free(c->challenge_method);
	free(c);
}

static void clear_state(struct sb_google *g)
{
	for (struct g_code *c = g->codes, *n; c; c = n) {
		n = c->next;
		free_code(c);
	}
	for (struct g_grant *c = g->grants, *n; c; c = n) {
		n = c->next;
		free(c->account);
		free(c->scope);
		free(c->refresh_token);
		free(c);
	}
	for (struct g_access *c = g->access, *n; c; c = n) {
		n = c->next;
		free(c->token);
		free(c);
	}
	for (struct g_event *c = g->events, *n; c; c = n) {
		n = c->next;
		free_event(c);
	}
	for (struct g_channel *c = g->channels, *n; c; c = n) {
		n = c->next;
		free(c->id);
		free(c->resource_id);
		free(c->address);
		free(c->token);
		free(c->account);
		free(c);
	}
	memset(g, 0, sizeof(*g));
	g->next_grant_id = 1;
}

static void google_init(struct sb *sb)
{
	sb->google = xcalloc(1, sizeof(struct sb_google));
	clear_state(sb->google);
}

static void google_reset(struct sb *sb)
{
	clear_state(sb->google);
}

static void google_free(struct sb *sb)
{
	if (!sb->google)
		return;
	clear_state(sb->google);
	free(sb->google);
	sb->google = NULL;
}

static const struct g_calendar *find_calendar(const char *id, const char *account)
{
	for (size_t i = 0; i < sizeof(g_calendars) / sizeof(g_calendars[0]); i++) {
		const struct g_calendar *c = &g_calendars[i];
		if (account && strcmp(c->owner, account) != 0)
			continue;
		if (strcmp(c->id, id) == 0 || (c->primary && strcmp(id, "primary") == 0))
			return c;
	}
	return NULL;
}

static struct g_event *find_event(struct sb_google *g, const char *cal_id, const char *id)
{
	for (struct g_event *e = g->events; e; e = e->next)
		if (strcmp(e->calendar_id, cal_id) == 0 && strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* ------------------------------------------------------------------ event times and recurrence */

/* Reads an EventDateTime. The zone offset of a dateTime without an offset is taken as UTC: the
 * sandbox carries no zone database (the zone name is checked and echoed). */
static bool parse_edt(const json_t *edt, int64_t *t, int *off, bool *all_day, const char **why)
{
	if (!json_is_object(edt)) {
		*why = "Missing time.";
		return false;
	}
	const json_t *date = json_object_get(edt, "date");
	const json_t *dt = json_object_get(edt, "dateTime");
	const json_t *tz = json_object_get(edt, "timeZone");
	if (tz && !json_is_null(tz) &&
	    (!json_is_string(tz) || !time_zone_valid(json_string_value(tz)))) {
		*why = "Invalid time zone definition for start time.";
		return false;
	}
	if (date && !json_is_null(date) && dt && !json_is_null(dt)) {
		*why = "Invalid start time.";
		return false;
	}
	if (date && json_is_string(date)) {
		if (time_parse_date(json_string_value(date), t) != CX_OK) {
			*why = "Invalid start time.";
			return false;
		}
		*off = 0;
		*all_day = true;
		return true;
	}
	if (dt && json_is_string(dt)) {
		const char *s = json_string_value(dt);
		if (time_parse_rfc3339(s, t, off) == CX_OK) {
			*all_day = false;
			return true;
		}
		char z[64];
		int64_t local;
		if (strlen(s) < 40 && tz && json_is_string(tz)) {
			snprintf(z, sizeof(z), "%sZ", s);
			int off_s = 0;
			if (time_parse_rfc3339(z, &local, NULL) == CX_OK &&
			    microsoft_zone_to_utc(json_string_value(tz), local, t) &&
			    microsoft_zone_offset(json_string_value(tz), *t, &off_s)) {
				*off = off_s / 60;
				*all_day = false;
				return true;
			}
		}
		*why = tz && json_is_string(tz) ? "Invalid start time."
		                                : "Missing time zone definition for start time.";
		return false;
	}
	*why = "Missing time.";
	return false;
}

/* The start's timeZone, or NULL. */
static const char *event_zone(const struct g_event *e)
{
	return json_string_value(json_object_get(json_object_get(e->fields, "start"), "timeZone"));
}

/* The offset (minutes) a timed instance is written with: its zone's at that instant. */
static int instance_offset(const struct g_event *e, int64_t t)
{
	int off_s;
	if (!e->all_day && event_zone(e) && microsoft_zone_offset(event_zone(e), t, &off_s))
		return off_s / 60;
	return e->offset_min;
}

/* Instance start times (UTC) of a recurring event, in order, at most max, stopping at the first
 * start at or after limit_s. */
static size_t expand(const struct g_event *e, const struct google_recur *rr, int64_t limit_s,
                     int64_t *out, size_t max)
{
	return google_recur_expand(rr, e->start_s, e->offset_min, event_zone(e), e->all_day,
	                           limit_s, out, max);
}

/* ------------------------------------------------------------------ event rendering */

static char *etag_of(struct arena *a, const struct g_event *e)
{
	return arena_printf(a, "\"%" PRId64 "%03u\"", e->updated_ms, e->etag_n % 1000);
}

static json_t *conference_json(struct sb *sb, const struct g_event *e)
{
	if (e->conf == G_CONF_VERBATIM)
		return json_deep_copy(e->conf_verbatim);
	json_t *cr = json_pack("{s:s,s:{s:s}}", "requestId", e->conf_request_id,
	                       "conferenceSolutionKey", "type", e->conf_type);
	const char *status = e->conf == G_CONF_PENDING   ? "pending"
	                     : e->conf == G_CONF_SUCCESS ? "success"
	                                                 : "failure";
	json_object_set_new(cr, "status", json_pack("{s:s}", "statusCode", status));
	json_t *c = json_pack("{s:o}", "createRequest", cr);
	if (e->conf == G_CONF_SUCCESS) {
		char *uri = xasprintf("%s/google/meet/%s", sb->base_url, e->meet_code);
		char *label = xasprintf("%s/google/meet/%s", sb->base_url + 7, e->meet_code);
		json_object_set_new(c, "entryPoints",
		                    json_pack("[{s:s,s:s,s:s}]", "entryPointType", "video", "uri",
		                              uri, "label", label));
		json_object_set_new(
		    c, "conferenceSolution",
		    json_pack("{s:{s:s},s:s,s:s}", "key", "type", "hangoutsMeet", "name",
		              "Google Meet", "iconUri",
		              "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/"
		              "v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png"));
		json_object_set_new(c, "conferenceId", json_string(e->meet_code));
		free(uri);
		free(label);
	}
	return c;
}

static json_t *edt_json(int64_t t, int off, bool all_day, const json_t *tmpl)
{
	char buf[40];
	json_t *o = json_object();
	if (all_day) {
		time_format_date(t, buf, sizeof(buf));
		json_object_set_new(o, "date", json_string(buf));
	} else {
		time_format_rfc3339(t, off, buf, sizeof(buf));
		json_object_set_new(o, "dateTime", json_string(buf));
	}
	const json_t *tz = tmpl ? json_object_get(tmpl, "timeZone") : NULL;
	if (json_is_string(tz))
		json_object_set(o, "timeZone", (json_t *)tz);
	return o;
}

/* An event and its exceptions share the series' iCalUID. */
static char *ical_uid(struct arena *a, const struct g_event *e)
{
	return arena_printf(a, "%s@google.com", e->recurring_id ? e->recurring_id : e->id);
}

/* The Event resource. minimal: a deletion as incremental sync shows it (GE-17). */
static json_t *event_json(struct sb *sb, struct arena *a, struct g_event *e, bool minimal)
{
	char created[32], updated[32];
	fmt_ms(e->created_ms, created);
	fmt_ms(e->updated_ms, updated);
	json_t *o;
	if (minimal && e->cancelled) {
		o = json_pack("{s:s,s:s,s:s,s:s}", "kind", "calendar#event", "etag", etag_of(a, e),
		              "id", e->id, "status", "cancelled");
		goto exception;
	}
	o = json_deep_copy(e->fields);
	json_object_set_new(o, "kind", json_string("calendar#event"));
	json_object_set_new(o, "etag", json_string(etag_of(a, e)));
	json_object_set_new(o, "id", json_string(e->id));
	const json_t *st = json_object_get(e->fields, "status");
	json_object_set_new(o, "status",
	                    json_string(e->cancelled         ? "cancelled"
	                                : json_is_string(st) ? json_string_value(st)
	                                                     : "confirmed"));
	json_object_set_new(o, "htmlLink",
	                    json_string(arena_printf(a, "%s/google/calendar/event?eid=%s",
	                                             sb->base_url, sb_hex_encode(a, e->id))));
	json_object_set_new(o, "created", json_string(created));
	json_object_set_new(o, "updated", json_string(updated));
	json_object_set_new(o, "creator",
	                    json_pack("{s:s,s:b}", "email", "alice@example.com", "self", 1));
	const struct g_calendar *cal = find_calendar(e->calendar_id, NULL);
	json_object_set_new(o, "organizer",
	                    cal && cal->primary
	                        ? json_pack("{s:s,s:b}", "email", cal->id, "self", 1)
	                        : json_pack("{s:s,s:s,s:b}", "email", e->calendar_id, "displayName",
	                                    cal ? cal->summary : "", "self", 1));
	json_object_set_new(o, "iCalUID", json_string(ical_uid(a, e)));
	if (!json_object_get(o, "sequence"))
		json_object_set_new(o, "sequence", json_integer(0));
	if (!json_object_get(o, "reminders"))
		json_object_set_new(o, "reminders", json_pack("{s:b}", "useDefault", 1));
	if (!json_object_get(o, "eventType"))
		json_object_set_new(o, "eventType", json_string("default"));
	if (e->conf != G_CONF_NONE)
		json_object_set_new(o, "conferenceData", conference_json(sb, e));
	if (e->conf == G_CONF_SUCCESS)
		json_object_set_new(
		    o, "hangoutLink",
		    json_string(arena_printf(a, "%s/google/meet/%s", sb->base_url, e->meet_code)));
exception:
	if (e->recurring_id) {
		json_object_set_new(o, "recurringEventId", json_string(e->recurring_id));
		json_object_set(o, "originalStartTime", e->original_start);
	}
	return o;
}

/* The suffix of an instance id: the original start in basic format, in UTC for timed events
 * ("20261124T090000Z") and as the local date for all-day ones ("20261124"). */
static void instance_key(const struct g_event *e, int64_t start, char key[24])
{
	int64_t t = e->all_day ? start + (int64_t)instance_offset(e, start) * 60 : start;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t rem = t - days * 86400;
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	if (e->all_day)
		snprintf(key, 24, "%04d%02u%02u", (int)y, m, d);
	else
		snprintf(key, 24, "%04d%02u%02uT%02d%02d%02dZ", (int)y, m, d, (int)(rem / 3600),
		         (int)(rem / 60 % 60), (int)(rem % 60));
}

/* "{recurringEventId}_{key}": the id of one occurrence of a recurring event (arena memory). */
static char *instance_id(struct arena *a, const struct g_event *e, int64_t start)
{
	char key[24];
	instance_key(e, start, key);
	return arena_printf(a, "%s_%s", e->id, key);
}

/* originalStartTime of the occurrence of e starting at start. */
static json_t *original_start_json(const struct g_event *e, int64_t start)
{
	return edt_json(start, instance_offset(e, start), e->all_day,
	                json_object_get(e->fields, "start"));
}

static json_t *instance_json(struct sb *sb, struct arena *a, struct g_event *e, int64_t start)
{
	json_t *o = event_json(sb, a, e, false);
	int64_t dur = e->end_s - e->start_s;
	int so = instance_offset(e, start), eo = instance_offset(e, start + dur);
	json_object_set_new(o, "id", json_string(instance_id(a, e, start)));
	json_object_set_new(o, "recurringEventId", json_string(e->id));
	json_object_del(o, "recurrence");
	json_object_set_new(o, "start",
	                    edt_json(start, so, e->all_day, json_object_get(e->fields, "start")));
	json_object_set_new(
	    o, "end", edt_json(start + dur, eo, e->all_day, json_object_get(e->fields, "end")));
	json_object_set_new(o, "originalStartTime", original_start_json(e, start));
	return o;
}

/* A createRequest still pending is done by the time anyone reads the event again (GE-26). */
static void settle_conference(struct sb_google *g, struct g_event *e)
{
	if (e->conf == G_CONF_PENDING) {
		e->conf = G_CONF_SUCCESS;
		g->n.meet_created++;
	}
}

/* ------------------------------------------------------------------ push channels */

static struct g_push *make_push(struct sb *sb, struct arena *a, struct g_channel *c,
                                const char *state)
{
	struct g_push *p = arena_alloc(a, sizeof(*p));
	p->url = arena_strdup(a, c->address);
	int i = 0;
	c->message_number++;
	p->headers[i++] = arena_printf(a, "X-Goog-Channel-ID: %s", c->id);
	if (c->token)
		p->headers[i++] = arena_printf(a, "X-Goog-Channel-Token: %s", c->token);
	p->headers[i++] =
	    arena_printf(a, "X-Goog-Channel-Expiration: %s", http_date(a, c->expiration_ms / 1000));
	p->headers[i++] = arena_printf(a, "X-Goog-Resource-ID: %s", c->resource_id);
	p->headers[i++] = arena_printf(a,
	                               "X-Goog-Resource-URI: %s/google/calendar/v3/calendars/"
	                               "%s/events?alt=json",
	                               sb->base_url, sb_url_encode(a, c->calendar_id));
	p->headers[i++] = arena_printf(a, "X-Goog-Resource-State: %s", state);
	p->headers[i++] = arena_printf(a, "X-Goog-Message-Number: %" PRIu64, c->message_number);
	p->headers[i] = NULL;
	return p;
}

/* Every live channel on the calendar gets an "exists" message (GE-28, GE-29). */
static void notify_change(struct sb *sb, struct arena *a, const char *cal_id, struct g_reply *r)
{
	struct sb_google *g = gstate(sb);
	int64_t now_ms = sb_now_ms(sb);
	for (struct g_channel *c = g->channels; c; c = c->next) {
		if (c->stopped || c->expiration_ms <= now_ms || strcmp(c->calendar_id, cal_id) != 0)
			continue;
		add_push(r, make_push(sb, a, c, "exists"));
		g->n.pushes++;
	}
}

/* ------------------------------------------------------------------ authentication */

/* The grant behind the request's bearer token, or NULL with a 401 (GE-10), 403 scope (GE-11) or
 * rate-limit answer (GE-31) already in r. scopes NULL: any calendar scope. */
static struct g_grant *api_auth(struct sb *sb, struct http_request *req, const char *const *scopes,
                                struct g_reply *r)
{
	struct sb_google *g = gstate(sb);
	const char *tok = sb_bearer(req);
	struct g_access *acc = NULL;
	int64_t now = sb_now_s(sb);
	if (tok)
		for (struct g_access *x = g->access; x; x = x->next)
			if (strcmp(x->token, tok) == 0) {
				acc = x;
				break;
			}
	if (!acc || acc->expires_s <= now || acc->grant->revoked) {
		api_error(r, 401, "global", "authError", "Invalid Credentials", "header",
		          "Authorization");
		r->www_authenticate = "Bearer realm=\"https://accounts.google.com/\", "
		                      "error=\"invalid_token\"";
		return NULL;
	}
	if (scopes ? !has_any_scope(acc->grant->scope, scopes)
	           : strstr(acc->grant->scope, G_SCOPE_PREFIX "calendar") == NULL) {
		json_t *e =
		    json_pack("{s:s,s:s,s:s}", "domain", "global", "reason",
		              "insufficientPermissions", "message", "Insufficient Permission");
		reply_json(r, 403,
		           json_pack("{s:{s:[o],s:i,s:s}}", "error", "errors", e, "code", 403,
		                     "message", "Request had insufficient authentication scopes."));
		r->www_authenticate = "Bearer realm=\"https://accounts.google.com/\", "
		                      "error=\"insufficient_scope\"";
		return NULL;
	}
	if (g->rl_limit > 0) {
		if (now >= g->rl_window_start + g->rl_window_s) {
			g->rl_window_start = now;
			g->rl_count = 0;
		}
		if (++g->rl_count > g->rl_limit) {
			g->n.rate_limited++;
			api_error(r, g->rl_status, "usageLimits", "rateLimitExceeded",
			          "Rate Limit Exceeded", NULL, NULL);
			return NULL;
		}
	}
	return acc->grant;
}

static bool client_ok(struct http_request *req)
{
	const char *id = http_form(req, "client_id");
	const char *secret = http_form(req, "client_secret");
	const char *bu, *bp;
	if (!id && sb_basic_auth(req, &bu, &bp)) {
		id = bu;
		secret = bp;
	}
	return id && secret && strcmp(id, G_CLIENT_ID) == 0 && strcmp(secret, G_CLIENT_SECRET) == 0;
}

static struct g_access *issue_access(struct sb *sb, struct arena *a, struct g_grant *grant)
{
	struct sb_google *g = gstate(sb);
	int64_t now = sb_now_s(sb);
	/* Drop expired tokens so the list stays bounded by live grants. */
	for (struct g_access **pp = &g->access; *pp;) {
		struct g_access *x = *pp;
		if (x->expires_s <= now || x->grant->revoked) {
			*pp = x->next;
			free(x->token);
			free(x);
		} else {
			pp = &x->next;
		}
	}
	struct g_access *acc = xcalloc(1, sizeof(*acc));
	acc->token = xasprintf("ya29.sandbox-%s", sb_random_string(sb, a, G_ALNUM "-_", 64));
	acc->grant = grant;
	acc->expires_s = now + G_ACCESS_TTL_S;
	acc->next = g->access;
	g->access = acc;
	return acc;
}

/* ------------------------------------------------------------------ OAuth endpoints */

static const char *authorize_problem(struct http_request *req, bool form)
{
	const char *(*get)(struct http_request *, const char *) = form ? http_form : http_query;
	const char *client = get(req, "client_id");
	const char *redirect = get(req, "redirect_uri");
	if (!client || strcmp(client, G_CLIENT_ID) != 0)
		return "<!doctype html><title>Error 401: invalid_client</title><h1>Access blocked: "
		       "authorization error</h1><p>The OAuth client was not found.</p><p>Error "
		       "401: "
		       "invalid_client</p>";
	if (!redirect || !sb_redirect_uri_ok(redirect, "google"))
		return "<!doctype html><title>Error 400: redirect_uri_mismatch</title><h1>Access "
		       "blocked: This app's request is invalid</h1><p>You can't sign in because "
		       "this "
		       "app sent an invalid request.</p><p>Error 400: redirect_uri_mismatch</p>";
	return NULL;
}

static void h_authorize(struct http_request *req)
{
	const char *problem = authorize_problem(req, false);
	if (problem) {
		http_reply(req, 400, "text/html; charset=utf-8", problem, strlen(problem));
		return;
	}
	const char *rt = http_query(req, "response_type");
	const char *scope = http_query(req, "scope");
	const char *redirect = http_query(req, "redirect_uri");
	const char *state = http_query(req, "state");
	if (!rt || strcmp(rt, "code") != 0 || !scope || !*scope) {
		const char *kv[] = {"error",
		                    !rt || strcmp(rt, "code") != 0 ? "unsupported_response_type"
		                                                   : "invalid_request",
		                    "state", state, NULL};
		http_reply_redirect(req, 302, sb_redirect_with(req->arena, redirect, kv));
		return;
	}
	sb_authorize_page(req, "Google", g_emails, 1, scope, g_scope_texts,
	                  sizeof(g_scope_texts) / sizeof(g_scope_texts[0]),
	                  "/google/o/oauth2/v2/auth/decision");
}

static void h_authorize_decision(struct http_request *req)
{
	struct sb *sb = sb_get();
	const char *problem = authorize_problem(req, true);
	if (problem) {
		http_reply(req, 400, "text/html; charset=utf-8", problem, strlen(problem));
		return;
	}
	const char *redirect = http_form(req, "redirect_uri");
	const char *state = http_form(req, "state");
	const char *decision = http_form(req, "decision");
	const char *user = http_form(req, "user");
	const char *scope = http_form(req, "scope");
	const char *method = http_form(req, "code_challenge_method");
	const char *challenge = http_form(req, "code_challenge");
	struct g_reply r = {0};
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	if (!decision || strcmp(decision, "allow") != 0) {
		g->n.denials++;
		const char *kv[] = {"error", "access_denied", "state", state, NULL};
		r.location = sb_redirect_with(req->arena, redirect, kv);
	} else if (!user || strcmp(user, g_emails[0]) != 0 || !scope || !*scope) {
		reply_html(&r, 400,
		           "<!doctype html><title>Sign in</title><p>Couldn't find your "
		           "Google Account.</p>");
	} else if (method && *method && strcmp(method, "S256") != 0 &&
	           strcmp(method, "plain") != 0) {
		const char *kv[] = {"error",
		                    "invalid_request",
		                    "error_description",
		                    "Invalid code_challenge_method",
		                    "state",
		                    state,
		                    NULL};
		r.location = sb_redirect_with(req->arena, redirect, kv);
	} else {
		/* Bound the pending codes: drop used and expired ones first. */
		int64_t now = sb_now_s(sb);
		for (struct g_code **pp = &g->codes; *pp;) {
			struct g_code *c = *pp;
			if (c->used || c->expires_s <= now || g->n_codes >= G_MAX_CODES) {
				*pp = c->next;
				free_code(c);
				g->n_codes--;
			} else {
				pp = &c->next;
			}
		}
		const char *access_type = http_form(req, "access_type");
		const char *prompt = http_form(req, "prompt");
		bool offline = access_type && strcmp(access_type, "offline") == 0;
		struct g_code *c = xcalloc(1, sizeof(*c));
		c->code = xasprintf("4/0sandbox-%s", sb_random_string(sb, req->arena, G_ALNUM, 48));
		c->redirect_uri = xstrdup(redirect);
		c->scope = xstrdup(scope);
		c->account = xstrdup(user);
		c->challenge = challenge && *challenge ? xstrdup(challenge) : NULL;
		c->challenge_method = method && *method ? xstrdup(method) : NULL;
		/* GE-05: a refresh token on first offline consent, or again with prompt=consent. */
		c->offline = offline && (!g->offline_consented ||
		                         (prompt && strstr(prompt, "consent") != NULL));
		if (offline)
			g->offline_consented = true;
		c->expires_s = now + G_CODE_TTL_S;
		c->next = g->codes;
		g->codes = c;
		g->n_codes++;
		g->n.authorizations++;
		const char *kv[] = {"code", c->code, "scope", scope, "state", state, NULL};
		r.location = sb_redirect_with(req->arena, redirect, kv);
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void token_answer(struct g_reply *r, struct g_access *acc, const char *refresh)
{
	json_t *o = json_pack("{s:s,s:i,s:s,s:s}", "access_token", acc->token, "expires_in",
	                      G_ACCESS_TTL_S, "scope", acc->grant->scope, "token_type", "Bearer");
	if (refresh)
		json_object_set_new(o, "refresh_token", json_string(refresh));
	reply_json(r, 200, o);
	r->cache_control = "no-store";
}

static void h_token(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	const char *grant_type = http_form(req, "grant_type");
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	int64_t now = sb_now_s(sb);
	if (!client_ok(req)) {
		oauth_error(&r, 401, "invalid_client", "Unauthorized");
	} else if (!grant_type) {
		oauth_error(&r, 400, "invalid_request", "Missing required parameter: grant_type");
	} else if (strcmp(grant_type, "authorization_code") == 0) {
		const char *code = http_form(req, "code");
		const char *redirect = http_form(req, "redirect_uri");
		const char *verifier = http_form(req, "code_verifier");
		struct g_code *c = NULL;
		for (struct g_code *x = g->codes; code && x; x = x->next)
			if (strcmp(x->code, code) == 0)
				c = x;
		if (!code) {
			oauth_error(&r, 400, "invalid_request", "Missing required parameter: code");
		} else if (!c || c->used || c->expires_s <= now) {
			oauth_error(&r, 400, "invalid_grant", "Bad Request");
		} else if (!redirect || strcmp(redirect, c->redirect_uri) != 0) {
			c->used = true;
			oauth_error(&r, 400, "redirect_uri_mismatch", "Bad Request");
		} else if (c->challenge &&
		           (!verifier ||
		            !sb_pkce_ok(c->challenge, c->challenge_method, verifier))) {
			c->used = true;
			oauth_error(&r, 400, "invalid_grant",
			            verifier ? "Bad Request" : "Missing code verifier.");
		} else if (g->n_grants >= G_MAX_GRANTS) {
			oauth_error(&r, 400, "invalid_grant", "Bad Request");
		} else {
			c->used = true;
			struct g_grant *gr = xcalloc(1, sizeof(*gr));
			gr->id = g->next_grant_id++;
			gr->account = xstrdup(c->account);
			gr->scope = xstrdup(c->scope);
			gr->created_s = now;
			if (c->offline)
				gr->refresh_token =
				    xasprintf("1//0sandbox-%s",
				              sb_random_string(sb, req->arena, G_ALNUM "-_", 96));
			gr->next = g->grants;
			g->grants = gr;
			g->n_grants++;
			g->n.code_exchanges++;
			token_answer(&r, issue_access(sb, req->arena, gr), gr->refresh_token);
		}
	} else if (strcmp(grant_type, "refresh_token") == 0) {
		const char *rt = http_form(req, "refresh_token");
		struct g_grant *gr = NULL;
		for (struct g_grant *x = g->grants; rt && x; x = x->next)
			if (x->refresh_token && strcmp(x->refresh_token, rt) == 0)
				gr = x;
		if (!rt) {
			oauth_error(&r, 400, "invalid_request",
			            "Missing required parameter: refresh_token");
		} else if (!gr || gr->revoked) {
			oauth_error(&r, 400, "invalid_grant", "Token has been expired or revoked.");
		} else {
			g->n.token_refreshes++;
			token_answer(&r, issue_access(sb, req->arena, gr), NULL);
		}
	} else {
		oauth_error(&r, 400, "unsupported_grant_type",
		            arena_printf(req->arena, "Invalid grant_type: %.64s", grant_type));
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_revoke(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	const char *tok = http_query(req, "token");
	if (!tok)
		tok = http_form(req, "token");
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = NULL;
	int64_t now = sb_now_s(sb);
	for (struct g_grant *x = g->grants; tok && x && !gr; x = x->next)
		if (x->refresh_token && strcmp(x->refresh_token, tok) == 0)
			gr = x;
	for (struct g_access *x = g->access; tok && x && !gr; x = x->next)
		if (strcmp(x->token, tok) == 0 && x->expires_s > now)
			gr = x->grant;
	if (!gr || gr->revoked) {
		oauth_error(&r, 400, "invalid_token", "Token expired or revoked");
	} else {
		/* GE-09: revoking either token ends the whole grant, and the consent with it. */
		gr->revoked = true;
		g->offline_consented = false;
		g->n.revocations++;
		reply_json(&r, 200, json_object());
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ calendarList */

static json_t *calendar_entry(const struct g_calendar *c)
{
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:[],s:{s:[s]}}", "kind",
	    "calendar#calendarListEntry", "etag", "\"1700000000000000\"", "id", c->id, "summary",
	    c->summary, "timeZone", "UTC", "colorId", c->color_id, "backgroundColor", c->background,
	    "foregroundColor", "#000000", "accessRole", "owner", "selected", 1, "defaultReminders",
	    "conferenceProperties", "allowedConferenceSolutionTypes", "hangoutsMeet");
	if (c->primary)
		json_object_set_new(o, "primary", json_true());
	return o;
}

static bool parse_uint(const char *s, long lo, long hi, long *out)
{
	char *end;
	if (!s || !*s)
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static void h_calendar_list(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_calendar_list, &r);
	if (!gr)
		goto out;
	long max = G_CALLIST_MAX, offset = 0;
	const char *mr = http_query(req, "maxResults");
	const char *pt = http_query(req, "pageToken");
	const char *st = http_query(req, "syncToken");
	if (mr && !parse_uint(mr, 1, 1000000, &max)) {
		api_error(&r, 400, "global", "invalid",
		          arena_printf(req->arena,
		                       "Invalid value '%.32s'. Values must be within the "
		                       "range: [1, 250]",
		                       mr),
		          "parameter", "maxResults");
		goto out;
	}
	if (max > G_CALLIST_MAX)
		max = G_CALLIST_MAX;
	if (pt) {
		char *dec = sb_hex_decode(req->arena, pt);
		if (!dec || sscanf(dec, "cl:%ld", &offset) != 1 || offset < 0) {
			api_error(&r, 400, "global", "invalid", "Invalid page token value.",
			          "parameter", "pageToken");
			goto out;
		}
	}
	json_t *items = json_array();
	size_t n_cal = sizeof(g_calendars) / sizeof(g_calendars[0]);
	if (st) {
		unsigned gen;
		char *dec = sb_hex_decode(req->arena, st);
		if (!dec || sscanf(dec, "cls:%u", &gen) != 1 || gen != g->sync_gen) {
			json_decref(items);
			api_error(&r, 410, "global", "fullSyncRequired",
			          "Sync token is no longer valid, a full sync is required.", NULL,
			          NULL);
			goto out;
		}
		/* The seeded calendars never change, so an incremental listing is empty. */
		offset = (long)n_cal;
	}
	size_t listed = 0;
	for (size_t i = (size_t)offset; i < n_cal && listed < (size_t)max; i++) {
		if (strcmp(g_calendars[i].owner, gr->account) != 0)
			continue;
		json_array_append_new(items, calendar_entry(&g_calendars[i]));
		listed++;
	}
	size_t next = (size_t)offset + listed;
	json_t *o = json_pack("{s:s,s:s,s:o}", "kind", "calendar#calendarList", "etag",
	                      "\"1700000000000000\"", "items", items);
	if (next < n_cal)
		json_object_set_new(o, "nextPageToken",
		                    json_string(sb_hex_encode(
		                        req->arena, arena_printf(req->arena, "cl:%zu", next))));
	else
		json_object_set_new(
		    o, "nextSyncToken",
		    json_string(sb_hex_encode(req->arena,
		                              arena_printf(req->arena, "cls:%u", g->sync_gen))));
	reply_json(&r, 200, o);
out:
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ events.list */

struct g_item {
	struct g_event *ev;
	int64_t start_s; /* the instance's start (or the event's) */
	bool instance;
	int64_t key; /* the listing's sort key (order_key) */
};

enum g_order { G_ORDER_NONE, G_ORDER_START, G_ORDER_UPDATED, G_ORDER_CHANGE };

/* The item's key under the listing's order. */
static int64_t order_key(const struct g_item *it, enum g_order order)
{
	switch (order) {
	case G_ORDER_START:
		return it->start_s;
	case G_ORDER_UPDATED:
		return it->ev->updated_ms;
	case G_ORDER_CHANGE:
		return (int64_t)it->ev->change_seq;
	default:
		return (int64_t)it->ev->create_seq;
	}
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct g_item *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->ev->create_seq != b->ev->create_seq)
		return a->ev->create_seq < b->ev->create_seq ? -1 : 1;
	return a->start_s < b->start_s ? -1 : a->start_s > b->start_s;
}

static bool ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

static bool matches_q(const struct g_event *e, const char *q)
{
	static const char *const keys[] = {"summary", "description", "location"};
	for (size_t i = 0; i < 3; i++)
		if (ci_contains(json_string_value(json_object_get(e->fields, keys[i])), q))
			return true;
	return false;
}

static bool matches_property(const struct g_event *e, const char *kind, const char *nv)
{
	const char *eq = strchr(nv, '=');
	if (!eq)
		return false;
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)(eq - nv), nv);
	const json_t *v = json_object_get(
	    json_object_get(json_object_get(e->fields, "extendedProperties"), kind), name);
	return json_is_string(v) && strcmp(json_string_value(v), eq + 1) == 0;
}

static bool parse_bool_param(const char *s, bool *out)
{
	if (!s)
		return true;
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

/* A listing cursor: what the page and sync tokens carry (hex of "ev:gen:since:snap:offset:cal"). */
struct g_cursor {
	unsigned gen;
	uint64_t since; /* 0 = full listing */
	uint64_t snap;  /* the change sequence the listing started at */
	long offset;
};

static bool decode_cursor(struct arena *a, const char *tok, const char *prefix, const char *cal,
                          struct g_cursor *c)
{
	char *dec = sb_hex_decode(a, tok);
	size_t pl = strlen(prefix);
	int used = 0;
	if (!dec || strncmp(dec, prefix, pl) != 0 || dec[pl] != ':')
		return false;
	dec += pl + 1;
	if (sscanf(dec, "%u:%" SCNu64 ":%" SCNu64 ":%ld:%n", &c->gen, &c->since, &c->snap,
	           &c->offset, &used) != 4 ||
	    used == 0 || c->offset < 0)
		return false;
	return strcmp(dec + used, cal) == 0;
}

static char *encode_cursor(struct arena *a, const char *prefix, const char *cal,
                           const struct g_cursor *c)
{
	return sb_hex_encode(a, arena_printf(a, "%s:%u:%" PRIu64 ":%" PRIu64 ":%ld:%s", prefix,
	                                     c->gen, c->since, c->snap, c->offset, cal));
}

/* The Events envelope of a listing around items (taken). */
static json_t *events_page(struct sb *sb, struct arena *a, const struct g_calendar *cal,
                           json_t *items)
{
	char updated[32];
	fmt_ms(sb_now_ms(sb), updated);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[],s:o}", "kind", "calendar#events", "etag",
	                 arena_printf(a, "\"p%" PRIu64 "\"", gstate(sb)->seq), "summary",
	                 cal->summary, "updated", updated, "timeZone", "UTC", "accessRole", "owner",
	                 "defaultReminders", "items", items);
}

static void h_events_list(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	struct g_item *items = NULL;
	size_t n_items = 0, cap = 0;
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_read, &r);
	if (!gr)
		goto out;
	const struct g_calendar *cal = find_calendar(http_param(req, "calendarId"), gr->account);
	if (!cal) {
		api_error(&r, 404, "global", "notFound", "Not Found", NULL, NULL);
		goto out;
	}
	const char *time_min = http_query(req, "timeMin");
	const char *time_max = http_query(req, "timeMax");
	const char *order = http_query(req, "orderBy");
	const char *q = http_query(req, "q");
	const char *updated_min = http_query(req, "updatedMin");
	const char *priv = http_query(req, "privateExtendedProperty");
	const char *shared = http_query(req, "sharedExtendedProperty");
	const char *ical = http_query(req, "iCalUID");
	const char *sync = http_query(req, "syncToken");
	const char *page = http_query(req, "pageToken");
	const char *mr = http_query(req, "maxResults");
	bool single = false, show_deleted = false;
	int64_t tmin = INT64_MIN, tmax = INT64_MAX, umin_s = 0;
	long max = G_LIST_DEFAULT;
	if (!parse_bool_param(http_query(req, "singleEvents"), &single) ||
	    !parse_bool_param(http_query(req, "showDeleted"), &show_deleted)) {
		api_error(&r, 400, "global", "invalid", "Invalid boolean value.", "parameter",
		          "singleEvents");
		goto out;
	}
	if (time_min && time_parse_rfc3339(time_min, &tmin, NULL) != CX_OK) {
		api_error(&r, 400, "global", "badRequest", "Bad Request", "parameter", "timeMin");
		goto out;
	}
	if (time_max && time_parse_rfc3339(time_max, &tmax, NULL) != CX_OK) {
		api_error(&r, 400, "global", "badRequest", "Bad Request", "parameter", "timeMax");
		goto out;
	}
	if (updated_min && time_parse_rfc3339(updated_min, &umin_s, NULL) != CX_OK) {
		api_error(&r, 400, "global", "badRequest", "Bad Request", "parameter",
		          "updatedMin");
		goto out;
	}
	if (time_min && time_max && tmax <= tmin) {
		api_error(&r, 400, "calendar", "timeRangeEmpty",
		          "The specified time range is empty.", "parameter", "timeMax");
		goto out;
	}
	if (mr && !parse_uint(mr, 1, 1000000, &max)) {
		api_error(&r, 400, "global", "invalid",
		          arena_printf(req->arena,
		                       "Invalid value '%.32s'. Values must be within the "
		                       "range: [1, 2500]",
		                       mr),
		          "parameter", "maxResults");
		goto out;
	}
	if (max > G_LIST_MAX)
		max = G_LIST_MAX;
	enum g_order ord = G_ORDER_NONE;
	if (order) {
		if (strcmp(order, "startTime") == 0 && single) {
			ord = G_ORDER_START;
		} else if (strcmp(order, "updated") == 0) {
			ord = G_ORDER_UPDATED;
		} else {
			api_error(&r, 400, "global", "badRequest",
			          "The requested ordering is not available for the particular "
			          "query.",
			          NULL, NULL);
			goto out;
		}
	}
	struct g_cursor cur = {.gen = g->sync_gen, .since = 0, .snap = g->seq, .offset = 0};
	if (sync) {
		const char *bad = time_min      ? "timeMin"
		                  : time_max    ? "timeMax"
		                  : order       ? "orderBy"
		                  : q           ? "q"
		                  : updated_min ? "updatedMin"
		                  : priv        ? "privateExtendedProperty"
		                  : shared      ? "sharedExtendedProperty"
		                  : ical        ? "iCalUID"
		                  : (http_query(req, "showDeleted") && !show_deleted)
		                      ? "showDeleted"
		                      : NULL;
		if (bad) {
			api_error(&r, 400, "global", "invalid",
			          arena_printf(req->arena,
			                       "Syncing with a sync token is not "
			                       "supported together with %s.",
			                       bad),
			          "parameter", bad);
			goto out;
		}
	}
	if (page) {
		if (!decode_cursor(req->arena, page, "ev", cal->id, &cur)) {
			api_error(&r, 400, "global", "invalid", "Invalid page token value.",
			          "parameter", "pageToken");
			goto out;
		}
		if (cur.since && cur.gen != g->sync_gen)
			goto gone;
	} else if (sync) {
		if (!decode_cursor(req->arena, sync, "sync", cal->id, &cur) ||
		    cur.gen != g->sync_gen)
			goto gone;
		cur.since = cur.snap;
		cur.snap = g->seq;
		cur.offset = 0;
		/* A token with nothing before it still means "incremental". */
		if (cur.since == 0)
			cur.since = UINT64_MAX;
	}
	bool incremental = cur.since != 0;
	uint64_t since = cur.since == UINT64_MAX ? 0 : cur.since;
	if (incremental || updated_min)
		show_deleted = true;
	for (struct g_event *e = g->events; e; e = e->next) {
		if (strcmp(e->calendar_id, cal->id) != 0)
			continue;
		if (incremental ? (e->change_seq <= since || e->change_seq > cur.snap)
		                : e->create_seq > cur.snap)
			continue;
		if (e->cancelled && !show_deleted)
			continue;
		if (updated_min && e->updated_ms / 1000 < umin_s)
			continue;
		if (q && !matches_q(e, q))
			continue;
		if (priv && !matches_property(e, "private", priv))
			continue;
		if (shared && !matches_property(e, "shared", shared))
			continue;
		if (ical && strcmp(ical_uid(req->arena, e), ical) != 0)
			continue;
		const json_t *rec = json_object_get(e->fields, "recurrence");
		struct google_recur rr;
		int64_t starts[G_MAX_INSTANCES];
		size_t n_starts = 1;
		starts[0] = e->start_s;
		bool recurring =
		    json_is_array(rec) && json_array_size(rec) > 0 && google_recur_parse(rec, &rr);
		if (recurring && !(e->cancelled && incremental))
			n_starts = expand(e, &rr, tmax, starts, G_MAX_INSTANCES);
		int64_t dur = e->end_s - e->start_s;
		bool any = false;
		for (size_t i = 0; i < n_starts; i++) {
			bool in = starts[i] + dur > tmin && starts[i] < tmax;
			if (!in)
				continue;
			if (single && recurring && e->n_exceptions &&
			    find_event(g, e->calendar_id, instance_id(req->arena, e, starts[i])))
				continue;
			any = true;
			if (!single || !recurring || (e->cancelled && incremental))
				break;
			if (n_items == cap) {
				cap = cap ? cap * 2 : 64;
				items = xrealloc(items, cap * sizeof(*items));
			}
			items[n_items++] = (struct g_item){e, starts[i], true, 0};
		}
		if (recurring && n_starts == 0 && e->cancelled && incremental)
			any = true;
		if (!any || (single && recurring && !(e->cancelled && incremental)))
			continue;
		if (n_items == cap) {
			cap = cap ? cap * 2 : 64;
			items = xrealloc(items, cap * sizeof(*items));
		}
		items[n_items++] = (struct g_item){e, e->start_s, false, 0};
	}
	enum g_order sort_by = incremental && ord == G_ORDER_NONE ? G_ORDER_CHANGE : ord;
	for (size_t i = 0; i < n_items; i++)
		items[i].key = order_key(&items[i], sort_by);
	if (n_items > 1)
		qsort(items, n_items, sizeof(*items), item_cmp);
	json_t *arr = json_array();
	if (g->short_pages)
		max = max / 2 > 0 ? max / 2 : 1;
	long end = cur.offset + max;
	/* Short-page mode: the items run out one page before the listing ends, so the last page is
	 * empty and only it carries nextSyncToken. */
	bool empty_tail = g->short_pages && (size_t)cur.offset < n_items && (size_t)end >= n_items;
	if (empty_tail)
		end = (long)n_items;
	for (size_t i = (size_t)cur.offset; i < n_items && (long)i < end; i++) {
		settle_conference(g, items[i].ev);
		json_array_append_new(
		    arr, items[i].instance
		             ? instance_json(sb, req->arena, items[i].ev, items[i].start_s)
		             : event_json(sb, req->arena, items[i].ev, incremental));
	}
	json_t *o = events_page(sb, req->arena, cal, arr);
	if ((size_t)end < n_items || empty_tail) {
		struct g_cursor next = cur;
		next.offset = end;
		json_object_set_new(o, "nextPageToken",
		                    json_string(encode_cursor(req->arena, "ev", cal->id, &next)));
	} else {
		struct g_cursor next = {.gen = g->sync_gen, .since = 0, .snap = cur.snap};
		json_object_set_new(o, "nextSyncToken",
		                    json_string(encode_cursor(req->arena, "sync", cal->id, &next)));
	}
	g->n.lists++;
	reply_json(&r, 200, o);
	goto out;
gone:
	api_error(&r, 410, "global", "fullSyncRequired",
	          "Sync token is no longer valid, a full sync is required.", NULL, NULL);
out:
	sb_unlock(sb);
	free(items);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ writing events */

/* The Event fields a client may write and the emulator stores verbatim. */
static const char *const g_writable[] = {"anyoneCanAddSelf",
                                         "attachments",
                                         "attendees",
                                         "colorId",
                                         "description",
                                         "end",
                                         "endTimeUnspecified",
                                         "extendedProperties",
                                         "guestsCanInviteOthers",
                                         "guestsCanModify",
                                         "guestsCanSeeOtherGuests",
                                         "location",
                                         "recurrence",
                                         "reminders",
                                         "source",
                                         "start",
                                         "status",
                                         "summary",
                                         "transparency",
                                         "visibility",
                                         "sequence",
                                         "locked",
                                         "privateCopy",
                                         "workingLocationProperties",
                                         "outOfOfficeProperties",
                                         "focusTimeProperties",
                                         "gadget",
                                         "birthdayProperties",
                                         "eventType",
                                         NULL};

static bool writable(const char *key)
{
	for (size_t i = 0; g_writable[i]; i++)
		if (strcmp(g_writable[i], key) == 0)
			return true;
	return false;
}

static bool valid_client_id(const char *id)
{
	size_t n = strlen(id);
	if (n < 5 || n > 1024)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(G_BASE32HEX, id[i]))
			return false;
	return true;
}

/* Checks the merged fields and derives the event's times. Answers 400 in r on failure. */
static bool check_fields(const json_t *f, struct g_event *tmp, struct g_reply *r)
{
	const char *why = NULL;
	const json_t *v;
	const char *key;
	json_object_foreach((json_t *)f, key, v)
	{
		bool str = strcmp(key, "summary") == 0 || strcmp(key, "description") == 0 ||
		           strcmp(key, "location") == 0 || strcmp(key, "colorId") == 0 ||
		           strcmp(key, "transparency") == 0 || strcmp(key, "visibility") == 0;
		if (str && !json_is_string(v)) {
			api_error(r, 400, "global", "invalid",
			          "Invalid value for: field must be a string", NULL, NULL);
			return false;
		}
	}
	/* The other typed members the answers echo (discovery types: boolean, int32, array):
	 * a value of another type is refused, never stored and answered back. */
	static const char *const bools[] = {"anyoneCanAddSelf",
	                                    "endTimeUnspecified",
	                                    "guestsCanInviteOthers",
	                                    "guestsCanModify",
	                                    "guestsCanSeeOtherGuests",
	                                    "locked",
	                                    "privateCopy",
	                                    NULL};
	for (size_t i = 0; bools[i]; i++) {
		const json_t *b = json_object_get(f, bools[i]);
		if (b && !json_is_boolean(b)) {
			api_error(r, 400, "global", "invalid",
			          "Invalid value for: field must be a boolean", NULL, NULL);
			return false;
		}
	}
	const json_t *seq = json_object_get(f, "sequence");
	const json_t *rem = json_object_get(f, "reminders");
	const json_t *use_default = json_object_get(rem, "useDefault");
	if ((seq && (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
	             json_integer_value(seq) > INT32_MAX)) ||
	    (rem && !json_is_object(rem)) || (use_default && !json_is_boolean(use_default))) {
		api_error(r, 400, "global", "invalid", "Invalid value for: wrong type", NULL, NULL);
		return false;
	}
	static const char *const arrays[] = {"attendees", "recurrence", "attachments", NULL};
	for (size_t i = 0; arrays[i]; i++) {
		const json_t *a = json_object_get(f, arrays[i]);
		if (a && !json_is_array(a)) {
			api_error(r, 400, "global", "invalid",
			          "Invalid value for: field must be a list", NULL, NULL);
			return false;
		}
	}
	const json_t *summary = json_object_get(f, "summary");
	if (summary && json_string_length(summary) > 1024 * 8) {
		api_error(r, 400, "global", "invalid", "Summary too long.", NULL, NULL);
		return false;
	}
	const json_t *status = json_object_get(f, "status");
	if (status &&
	    (!json_is_string(status) || (strcmp(json_string_value(status), "confirmed") != 0 &&
	                                 strcmp(json_string_value(status), "tentative") != 0))) {
		api_error(r, 400, "global", "invalid", "Invalid status value.", NULL, NULL);
		return false;
	}
	const json_t *ext = json_object_get(f, "extendedProperties");
	if (ext) {
		if (!json_is_object(ext)) {
			api_error(r, 400, "global", "invalid", "Invalid extended properties.", NULL,
			          NULL);
			return false;
		}
		json_object_foreach((json_t *)ext, key, v)
		{
			const char *k2;
			const json_t *v2;
			if ((strcmp(key, "private") != 0 && strcmp(key, "shared") != 0) ||
			    !json_is_object(v)) {
				api_error(r, 400, "global", "invalid",
				          "Invalid extended properties.", NULL, NULL);
				return false;
			}
			json_object_foreach((json_t *)v, k2, v2)
			{
				if (!json_is_string(v2)) {
					api_error(r, 400, "global", "invalid",
					          "Invalid extended property value.", NULL, NULL);
					return false;
				}
			}
		}
	}
	const json_t *start = json_object_get(f, "start");
	const json_t *end = json_object_get(f, "end");
	if (!start || !end) {
		api_error(r, 400, "global", "required",
		          start ? "Missing end time."
		                : "Missing "
		                  "start time.",
		          NULL, NULL);
		return false;
	}
	int64_t s, e;
	int so, eo;
	bool sa, ea;
	if (!parse_edt(start, &s, &so, &sa, &why) || !parse_edt(end, &e, &eo, &ea, &why)) {
		api_error(r, 400, "global", strstr(why, "Missing") ? "required" : "invalid", why,
		          NULL, NULL);
		return false;
	}
	if (sa != ea) {
		api_error(r, 400, "global", "invalid", "Invalid start time.", NULL, NULL);
		return false;
	}
	if (e <= s) {
		api_error(r, 400, "calendar", "timeRangeEmpty",
		          "The specified time range is empty.", NULL, NULL);
		return false;
	}
	const json_t *rec = json_object_get(f, "recurrence");
	if (rec && !json_is_null(rec)) {
		struct google_recur rr;
		if (!json_is_array(rec) ||
		    (json_array_size(rec) > 0 && !google_recur_parse(rec, &rr))) {
			api_error(r, 400, "global", "invalid", "Invalid recurrence rule.", NULL,
			          NULL);
			return false;
		}
		if (json_array_size(rec) > 0 && !sa &&
		    !json_is_string(json_object_get(start, "timeZone"))) {
			api_error(r, 400, "global", "required",
			          "Missing time zone definition for start time.", NULL, NULL);
			return false;
		}
	}
	tmp->start_s = s;
	tmp->end_s = e;
	tmp->offset_min = so;
	tmp->all_day = sa;
	return true;
}

/* Applies body to fields: replace=true for insert/update, false for patch (nulls remove). */
static void merge_fields(json_t *fields, const json_t *body, bool patch)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		if (!writable(key))
			continue;
		if (json_is_null(v)) {
			json_object_del(fields, key);
		} else if (patch && strcmp(key, "extendedProperties") == 0 && json_is_object(v) &&
		           json_is_object(json_object_get(fields, key))) {
			/* Patch merges private and shared maps key by key. */
			json_t *cur = json_object_get(fields, key);
			const char *k2;
			json_t *v2;
			json_object_foreach(v, k2, v2)
			{
				if (json_is_object(v2) && json_is_object(json_object_get(cur, k2)))
					json_object_update(json_object_get(cur, k2), v2);
				else
					json_object_set(cur, k2, v2);
			}
		} else {
			json_object_set_new(fields, key, json_deep_copy(v));
		}
	}
}

/* conferenceData with conferenceDataVersion=1 (GE-26). */
static void apply_conference(struct sb *sb, struct arena *a, struct g_event *e, const json_t *cd)
{
	struct sb_google *g = gstate(sb);
	if (json_is_null(cd)) {
		e->conf = G_CONF_NONE;
		return;
	}
	if (!json_is_object(cd))
		return;
	const json_t *cr = json_object_get(cd, "createRequest");
	if (json_is_object(cr)) {
		const char *rid = json_string_value(json_object_get(cr, "requestId"));
		const char *type = json_string_value(
		    json_object_get(json_object_get(cr, "conferenceSolutionKey"), "type"));
		if (!rid || !type)
			return;
		/* A repeated requestId is ignored. */
		if (e->conf_request_id && strcmp(e->conf_request_id, rid) == 0)
			return;
		free(e->conf_request_id);
		free(e->conf_type);
		e->conf_request_id = xstrdup(rid);
		e->conf_type = xstrdup(type);
		if (strcmp(type, "hangoutsMeet") != 0) {
			e->conf = G_CONF_FAILURE;
			return;
		}
		free(e->meet_code);
		e->meet_code =
		    xasprintf("%s-%s-%s", sb_random_string(sb, a, "abcdefghijklmnopqrstuvwxyz", 3),
		              sb_random_string(sb, a, "abcdefghijklmnopqrstuvwxyz", 4),
		              sb_random_string(sb, a, "abcdefghijklmnopqrstuvwxyz", 3));
		e->conf = G_CONF_PENDING;
		if (g->meet_immediate)
			settle_conference(g, e);
		return;
	}
	json_decref(e->conf_verbatim);
	e->conf_verbatim = json_deep_copy(cd);
	e->conf = G_CONF_VERBATIM;
}

static void touch(struct sb *sb, struct g_event *e)
{
	struct sb_google *g = gstate(sb);
	int64_t now = sb_now_ms(sb);
	e->change_seq = ++g->seq;
	e->updated_ms = now > e->updated_ms ? now : e->updated_ms + 1;
	e->etag_n++;
}

/* Inserts an event from body into cal; r gets the answer. */
static struct g_event *insert_event(struct sb *sb, struct http_request *req,
                                    const struct g_calendar *cal, const json_t *body,
                                    bool conference, struct g_reply *r)
{
	struct sb_google *g = gstate(sb);
	const json_t *idv = json_object_get(body, "id");
	if (idv && (!json_is_string(idv) || !valid_client_id(json_string_value(idv)))) {
		api_error(r, 400, "global", "invalid", "Invalid resource id value.", NULL, NULL);
		return NULL;
	}
	if (idv && json_object_get(body, "iCalUID")) {
		api_error(r, 400, "global", "invalid", "Specify either id or iCalUID, not both.",
		          NULL, NULL);
		return NULL;
	}
	if (idv && find_event(g, cal->id, json_string_value(idv))) {
		api_error(r, 409, "global", "duplicate", "The requested identifier already exists.",
		          NULL, NULL);
		return NULL;
	}
	if (g->n_events >= G_MAX_EVENTS) {
		api_error(r, 403, "usageLimits", "quotaExceeded", "Calendar usage limits exceeded.",
		          NULL, NULL);
		return NULL;
	}
	struct g_event tmp = {0};
	json_t *fields = json_object();
	merge_fields(fields, body, false);
	if (!check_fields(fields, &tmp, r)) {
		json_decref(fields);
		return NULL;
	}
	struct g_event *e = xcalloc(1, sizeof(*e));
	*e = tmp;
	e->calendar_id = cal->id;
	e->id = idv ? xstrdup(json_string_value(idv))
	            : xstrdup(sb_random_string(sb, req->arena, G_BASE32HEX, 26));
	e->fields = fields;
	e->create_seq = g->seq + 1;
	e->created_ms = sb_now_ms(sb);
	touch(sb, e);
	if (conference && json_object_get(body, "conferenceData"))
		apply_conference(sb, req->arena, e, json_object_get(body, "conferenceData"));
	e->next = g->events;
	g->events = e;
	g->n_events++;
	notify_change(sb, req->arena, cal->id, r);
	return e;
}

static bool conference_version(struct http_request *req, struct g_reply *r, bool *out)
{
	const char *v = http_query(req, "conferenceDataVersion");
	*out = false;
	if (!v || strcmp(v, "0") == 0)
		return true;
	if (strcmp(v, "1") == 0) {
		*out = true;
		return true;
	}
	api_error(r, 400, "global", "invalid",
	          "Invalid conference data version. Values must be within the range: [0, 1]",
	          "parameter", "conferenceDataVersion");
	return false;
}

static void h_events_insert(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	bool conf;
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_write, &r);
	if (!gr || !conference_version(req, &r, &conf))
		goto out;
	const struct g_calendar *cal = find_calendar(http_param(req, "calendarId"), gr->account);
	if (!cal) {
		api_error(&r, 404, "global", "notFound", "Not Found", NULL, NULL);
		goto out;
	}
	if (!(body = body_object(req, &r)))
		goto out;
	struct g_event *e = insert_event(sb, req, cal, body, conf, &r);
	if (e) {
		g->n.inserts++;
		reply_json(&r, 200, event_json(sb, req->arena, e, false));
	}
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static bool if_match_ok(struct http_request *req, struct g_event *e, struct g_reply *r)
{
	const char *m = http_header(req, "If-Match");
	if (!m || strcmp(m, "*") == 0 || strcmp(m, etag_of(req->arena, e)) == 0)
		return true;
	api_error(r, 412, "global", "conditionNotMet", "Precondition Failed", "header", "If-Match");
	return false;
}

/* The recurring series e as parsed recurrence rules; false when e is no series. */
static bool series_rules(const struct g_event *e, struct google_recur *rr)
{
	const json_t *rec = json_object_get(e->fields, "recurrence");
	return !e->recurring_id && json_is_array(rec) && json_array_size(rec) > 0 &&
	       google_recur_parse(rec, rr);
}

/* The occurrence an instance id names ("{seriesId}_{key}"): its live series and start. */
static bool find_occurrence(struct sb_google *g, struct arena *a, const char *cal_id,
                            const char *id, struct g_event **series, int64_t *start)
{
	const char *us = strrchr(id, '_');
	if (!us || us == id)
		return false;
	struct g_event *e = find_event(g, cal_id, arena_strndup(a, id, (size_t)(us - id)));
	struct google_recur rr;
	if (!e || e->cancelled || !series_rules(e, &rr))
		return false;
	int64_t *starts = arena_alloc(a, G_MAX_INSTANCES * sizeof(*starts));
	size_t n = expand(e, &rr, INT64_MAX, starts, G_MAX_INSTANCES);
	for (size_t i = 0; i < n; i++)
		if (strcmp(instance_id(a, e, starts[i]), id) == 0) {
			*series = e;
			*start = starts[i];
			return true;
		}
	return false;
}

/* What an event id in a request names: a stored event (ev), or an occurrence of a series that has
 * no exception yet (series and start). */
struct g_target {
	struct g_event *ev;
	struct g_event *series;
	int64_t start_s;
};

/* Finds the target of calendarId/eventId; false with 404 in r when there is none. */
static bool lookup_target(struct sb *sb, struct http_request *req, struct g_grant *gr,
                          const char *cal_param, const char *id, struct g_target *t,
                          struct g_reply *r)
{
	const struct g_calendar *cal = find_calendar(cal_param, gr ? gr->account : NULL);
	*t = (struct g_target){0};
	if (cal && !(t->ev = find_event(gstate(sb), cal->id, id)) &&
	    find_occurrence(gstate(sb), req->arena, cal->id, id, &t->series, &t->start_s))
		return true;
	if (!t->ev)
		api_error(r, 404, "global", "notFound", "Not Found", NULL, NULL);
	return t->ev != NULL;
}

/* Stores an exception for the occurrence of series at start: the series' fields at that
 * occurrence, without recurrence. Not yet touched; drop_exception undoes it. */
static struct g_event *add_exception(struct sb *sb, struct arena *a, struct g_event *series,
                                     int64_t start)
{
	struct sb_google *g = gstate(sb);
	int64_t dur = series->end_s - series->start_s;
	struct g_event *e = xcalloc(1, sizeof(*e));
	e->calendar_id = series->calendar_id;
	e->id = xstrdup(instance_id(a, series, start));
	e->fields = json_deep_copy(series->fields);
	json_object_del(e->fields, "recurrence");
	e->start_s = start;
	e->end_s = start + dur;
	e->offset_min = instance_offset(series, start);
	e->all_day = series->all_day;
	json_object_set_new(
	    e->fields, "start",
	    edt_json(start, e->offset_min, e->all_day, json_object_get(series->fields, "start")));
	json_object_set_new(e->fields, "end",
	                    edt_json(start + dur, instance_offset(series, start + dur), e->all_day,
	                             json_object_get(series->fields, "end")));
	e->recurring_id = xstrdup(series->id);
	e->original_start_s = start;
	e->original_start = original_start_json(series, start);
	e->create_seq = g->seq + 1;
	e->created_ms = series->created_ms;
	e->updated_ms = series->updated_ms;
	if (series->conf != G_CONF_NONE) {
		e->conf = series->conf;
		e->conf_request_id =
		    series->conf_request_id ? xstrdup(series->conf_request_id) : NULL;
		e->conf_type = series->conf_type ? xstrdup(series->conf_type) : NULL;
		e->meet_code = series->meet_code ? xstrdup(series->meet_code) : NULL;
		e->conf_verbatim = json_deep_copy(series->conf_verbatim);
	}
	e->next = g->events;
	g->events = e;
	g->n_events++;
	series->n_exceptions++;
	return e;
}

/* Removes the exception add_exception just stored (a write to it failed). */
static void drop_exception(struct sb *sb, struct g_event *series, struct g_event *e)
{
	struct sb_google *g = gstate(sb);
	assert(g->events == e);
	g->events = e->next;
	g->n_events--;
	series->n_exceptions--;
	free_event(e);
}

/* If-Match against the target: an occurrence without exception carries its series' etag. */
static bool target_match_ok(struct http_request *req, const struct g_target *t, struct g_reply *r)
{
	return if_match_ok(req, t->ev ? t->ev : t->series, r);
}

/* The stored event a write goes to: t's event, or a new exception for t's occurrence. *added
 * tells which. */
static struct g_event *write_target(struct sb *sb, struct http_request *req, struct g_target *t,
                                    bool *added, struct g_reply *r)
{
	*added = false;
	if (t->ev)
		return t->ev;
	if (gstate(sb)->n_events >= G_MAX_EVENTS) {
		api_error(r, 403, "usageLimits", "quotaExceeded", "Calendar usage limits exceeded.",
		          NULL, NULL);
		return NULL;
	}
	*added = true;
	return add_exception(sb, req->arena, t->series, t->start_s);
}

static void h_events_get(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_read, &r);
	struct g_target t;
	if (gr && lookup_target(sb, req, gr, http_param(req, "calendarId"),
	                        http_param(req, "eventId"), &t, &r)) {
		struct g_event *e = t.ev ? t.ev : t.series;
		settle_conference(g, e);
		g->n.gets++;
		reply_json(&r, 200,
		           t.ev ? event_json(sb, req->arena, e, false)
		                : instance_json(sb, req->arena, e, t.start_s));
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* Changes an event from a patch (or full update) body; shared by the API and outside edits. */
static bool modify_event(struct sb *sb, struct http_request *req, struct g_event *e,
                         const json_t *body, bool patch, bool conference, struct g_reply *r)
{
	json_t *fields = patch ? json_deep_copy(e->fields) : json_object();
	const json_t *st = json_object_get(body, "status");
	bool cancel = json_is_string(st) && strcmp(json_string_value(st), "cancelled") == 0;
	json_t *b = json_deep_copy(body);
	if (cancel)
		json_object_del(b, "status");
	/* An occurrence cannot recur itself. */
	if (e->recurring_id)
		json_object_del(b, "recurrence");
	merge_fields(fields, b, patch);
	json_decref(b);
	struct g_event tmp = {0};
	if (!check_fields(fields, &tmp, r)) {
		json_decref(fields);
		return false;
	}
	json_decref(e->fields);
	e->fields = fields;
	e->start_s = tmp.start_s;
	e->end_s = tmp.end_s;
	e->offset_min = tmp.offset_min;
	e->all_day = tmp.all_day;
	if (cancel)
		e->cancelled = true;
	else if (json_is_string(st))
		e->cancelled = false;
	if (conference && json_object_get(body, "conferenceData"))
		apply_conference(sb, req->arena, e, json_object_get(body, "conferenceData"));
	settle_conference(gstate(sb), e);
	touch(sb, e);
	notify_change(sb, req->arena, e->calendar_id, r);
	return true;
}

static void events_write(struct http_request *req, bool patch)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	bool conf;
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_write, &r);
	if (!gr || !conference_version(req, &r, &conf))
		goto out;
	struct g_target t;
	struct g_event *e;
	bool added;
	if (!lookup_target(sb, req, gr, http_param(req, "calendarId"), http_param(req, "eventId"),
	                   &t, &r) ||
	    !target_match_ok(req, &t, &r) || !(body = body_object(req, &r)) ||
	    !(e = write_target(sb, req, &t, &added, &r)))
		goto out;
	if (modify_event(sb, req, e, body, patch, conf, &r)) {
		if (patch)
			g->n.patches++;
		else
			g->n.updates++;
		reply_json(&r, 200, event_json(sb, req->arena, e, false));
	} else if (added) {
		drop_exception(sb, t.series, e);
	}
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_events_patch(struct http_request *req)
{
	events_write(req, true);
}

static void h_events_update(struct http_request *req)
{
	events_write(req, false);
}

/* Cancels an event (GE-23); r gets 410 when it already was. */
static bool cancel_event(struct sb *sb, struct http_request *req, struct g_event *e,
                         struct g_reply *r)
{
	if (e->cancelled) {
		api_error(r, 410, "global", "deleted", "Resource has been deleted", NULL, NULL);
		return false;
	}
	e->cancelled = true;
	touch(sb, e);
	/* Deleting a series deletes its changed occurrences with it. */
	for (struct g_event *x = e->n_exceptions ? gstate(sb)->events : NULL; x; x = x->next)
		if (x->recurring_id && !x->cancelled && strcmp(x->recurring_id, e->id) == 0 &&
		    strcmp(x->calendar_id, e->calendar_id) == 0) {
			x->cancelled = true;
			touch(sb, x);
		}
	gstate(sb)->n.deletes++;
	notify_change(sb, req->arena, e->calendar_id, r);
	r->status = 204;
	return true;
}

static void h_events_delete(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	sb_lock(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_write, &r);
	struct g_target t;
	struct g_event *e;
	bool added;
	if (gr &&
	    lookup_target(sb, req, gr, http_param(req, "calendarId"), http_param(req, "eventId"),
	                  &t, &r) &&
	    target_match_ok(req, &t, &r) && (e = write_target(sb, req, &t, &added, &r)))
		cancel_event(sb, req, e, &r);
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* GET .../events/{eventId}/instances: the occurrences of a series in order, each one either the
 * expanded occurrence or its exception (cancelled ones only with showDeleted=true). */
static void h_events_instances(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_read, &r);
	if (!gr)
		goto out;
	const struct g_calendar *cal = find_calendar(http_param(req, "calendarId"), gr->account);
	struct g_event *e = cal ? find_event(g, cal->id, http_param(req, "eventId")) : NULL;
	struct google_recur rr;
	if (!e || e->cancelled || !series_rules(e, &rr)) {
		api_error(&r, 404, "global", "notFound", "Not Found", NULL, NULL);
		goto out;
	}
	const char *time_min = http_query(req, "timeMin");
	const char *time_max = http_query(req, "timeMax");
	const char *page = http_query(req, "pageToken");
	const char *mr = http_query(req, "maxResults");
	bool show_deleted = false;
	int64_t tmin = INT64_MIN, tmax = INT64_MAX;
	long max = G_LIST_DEFAULT;
	if (!parse_bool_param(http_query(req, "showDeleted"), &show_deleted)) {
		api_error(&r, 400, "global", "invalid", "Invalid boolean value.", "parameter",
		          "showDeleted");
		goto out;
	}
	const char *bad = time_min && time_parse_rfc3339(time_min, &tmin, NULL) != CX_OK ? "timeMin"
	                  : time_max && time_parse_rfc3339(time_max, &tmax, NULL) != CX_OK
	                      ? "timeMax"
	                      : NULL;
	if (bad) {
		api_error(&r, 400, "global", "badRequest", "Bad Request", "parameter", bad);
		goto out;
	}
	if (mr && !parse_uint(mr, 1, G_LIST_MAX, &max)) {
		api_error(&r, 400, "global", "invalid", "Invalid value for maxResults.",
		          "parameter", "maxResults");
		goto out;
	}
	const char *scope = arena_printf(req->arena, "%s/%s", cal->id, e->id);
	struct g_cursor cur = {.gen = g->sync_gen, .snap = g->seq};
	if (page && !decode_cursor(req->arena, page, "in", scope, &cur)) {
		api_error(&r, 400, "global", "invalid", "Invalid page token value.", "parameter",
		          "pageToken");
		goto out;
	}
	int64_t *starts = arena_alloc(req->arena, G_MAX_INSTANCES * sizeof(*starts));
	size_t n = expand(e, &rr, tmax, starts, G_MAX_INSTANCES);
	int64_t dur = e->end_s - e->start_s;
	json_t *arr = json_array();
	long seen = 0;
	bool more = false;
	for (size_t i = 0; i < n; i++) {
		if (starts[i] + dur <= tmin || starts[i] >= tmax)
			continue;
		struct g_event *x =
		    e->n_exceptions ? find_event(g, cal->id, instance_id(req->arena, e, starts[i]))
		                    : NULL;
		if (x && x->cancelled && !show_deleted)
			continue;
		if (seen++ < cur.offset)
			continue;
		if ((long)json_array_size(arr) == max) {
			more = true;
			break;
		}
		if (x)
			settle_conference(g, x);
		json_array_append_new(arr, x ? event_json(sb, req->arena, x, false)
		                             : instance_json(sb, req->arena, e, starts[i]));
	}
	settle_conference(g, e);
	json_t *o = events_page(sb, req->arena, cal, arr);
	if (more) {
		struct g_cursor next = cur;
		next.offset = cur.offset + max;
		json_object_set_new(o, "nextPageToken",
		                    json_string(encode_cursor(req->arena, "in", scope, &next)));
	}
	g->n.lists++;
	reply_json(&r, 200, o);
out:
	sb_unlock(sb);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ channels */

static void h_events_watch(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, g_scopes_read, &r);
	if (!gr)
		goto out;
	const struct g_calendar *cal = find_calendar(http_param(req, "calendarId"), gr->account);
	if (!cal) {
		api_error(&r, 404, "global", "notFound", "Not Found", NULL, NULL);
		goto out;
	}
	if (!(body = body_object(req, &r)))
		goto out;
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *type = json_string_value(json_object_get(body, "type"));
	const char *address = json_string_value(json_object_get(body, "address"));
	const json_t *tokv = json_object_get(body, "token");
	const json_t *expv = json_object_get(body, "expiration");
	int64_t now_ms = sb_now_ms(sb), exp_ms = now_ms + (int64_t)G_CHANNEL_MAX_TTL_S * 1000;
	if (!id || !*id || strlen(id) > 64) {
		api_error(&r, 400, "global", "required", "Channel id is required.", NULL, NULL);
		goto out;
	}
	if (!type || (strcmp(type, "web_hook") != 0 && strcmp(type, "webhook") != 0)) {
		api_error(&r, 400, "push", "invalidChannelType", "Invalid channel type.", NULL,
		          NULL);
		goto out;
	}
	if (!address ||
	    (strncmp(address, "http://", 7) != 0 && strncmp(address, "https://", 8) != 0) ||
	    strlen(address) > 2048) {
		api_error(&r, 400, "push", "webhookUrlNotHttps",
		          "WebHook callback must be HTTPS: ", NULL, NULL);
		goto out;
	}
	if (tokv && (!json_is_string(tokv) || json_string_length(tokv) > 256)) {
		api_error(&r, 400, "global", "invalid", "Invalid channel token.", NULL, NULL);
		goto out;
	}
	if (expv && !json_is_null(expv)) {
		long long want;
		char *end = NULL;
		if (json_is_integer(expv))
			want = json_integer_value(expv);
		else if (json_is_string(expv))
			want = strtoll(json_string_value(expv), &end, 10);
		else
			want = -1;
		if (want <= now_ms || (end && *end)) {
			api_error(&r, 400, "global", "invalid", "Invalid expiration.", NULL, NULL);
			goto out;
		}
		if (want < exp_ms)
			exp_ms = want;
	}
	for (struct g_channel *c = g->channels; c; c = c->next)
		if (strcmp(c->id, id) == 0) {
			api_error(&r, 400, "push", "channelIdNotUnique", "Channel id not unique.",
			          NULL, NULL);
			goto out;
		}
	if (g->n_channels >= G_MAX_CHANNELS) {
		api_error(&r, 403, "usageLimits", "quotaExceeded",
		          "Calendar usage limits exceeded.", NULL, NULL);
		goto out;
	}
	struct g_channel *c = xcalloc(1, sizeof(*c));
	c->id = xstrdup(id);
	c->resource_id = xstrdup(sb_random_string(sb, req->arena, G_ALNUM "-_", 27));
	c->calendar_id = cal->id;
	c->address = xstrdup(address);
	c->token = json_is_string(tokv) ? xstrdup(json_string_value(tokv)) : NULL;
	c->account = xstrdup(gr->account);
	c->expiration_ms = exp_ms;
	c->next = g->channels;
	g->channels = c;
	g->n_channels++;
	g->n.channels++;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "api#channel", "id", c->id,
	                      "resourceId", c->resource_id, "resourceUri",
	                      arena_printf(req->arena,
	                                   "%s/google/calendar/v3/calendars/%s/events?"
	                                   "alt=json",
	                                   sb->base_url, sb_url_encode(req->arena, cal->id)),
	                      "expiration", arena_printf(req->arena, "%" PRId64, exp_ms));
	if (c->token)
		json_object_set_new(o, "token", json_string(c->token));
	reply_json(&r, 200, o);
	add_push(&r, make_push(sb, req->arena, c, "sync"));
	g->n.pushes++;
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_channels_stop(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	struct g_grant *gr = api_auth(sb, req, NULL, &r);
	if (!gr || !(body = body_object(req, &r)))
		goto out;
	const char *id = json_string_value(json_object_get(body, "id"));
	const char *rid = json_string_value(json_object_get(body, "resourceId"));
	struct g_channel *c = NULL;
	for (struct g_channel *x = g->channels; id && rid && x; x = x->next)
		if (strcmp(x->id, id) == 0 && strcmp(x->resource_id, rid) == 0 &&
		    strcmp(x->account, gr->account) == 0 && !x->stopped)
			c = x;
	if (!c) {
		api_error(
		    &r, 404, "global", "notFound",
		    arena_printf(req->arena, "Channel '%.64s' not found for project", id ? id : ""),
		    NULL, NULL);
		goto out;
	}
	c->stopped = true;
	r.status = 204;
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

/* ------------------------------------------------------------------ Meet join page */

static void h_meet(struct http_request *req)
{
	struct sb *sb = sb_get();
	const char *code = http_param(req, "code");
	bool known = false;
	sb_lock(sb);
	for (struct g_event *e = gstate(sb)->events; e && !known; e = e->next)
		known = e->meet_code && strcmp(e->meet_code, code) == 0;
	sb_unlock(sb);
	const char *html;
	if (known)
		html = arena_printf(req->arena,
		                    "<!doctype html><meta charset=utf-8><title>Google Meet"
		                    "</title><h1>You joined</h1><p>You joined the Google "
		                    "Meet call %s.</p>",
		                    code);
	else
		html =
		    "<!doctype html><meta charset=utf-8><title>Google Meet</title><h1>Check your "
		    "meeting code</h1><p>Make sure that you entered the correct meeting code in "
		    "the URL.</p>";
	http_reply(req, known ? 200 : 404, "text/html; charset=utf-8", html, strlen(html));
}

/* ------------------------------------------------------------------ outside edits (/_sandbox) */

static json_t *sandbox_body(struct http_request *req, struct g_reply *r)
{
	json_t *error;
	json_t *v = sb_control_body(req, &error);
	if (!v)
		reply_json(r, 400, error);
	return v;
}

static void sandbox_not_found(struct g_reply *r)
{
	reply_json(r, 404,
	           json_pack("{s:{s:s,s:s}}", "error", "code", "not_found", "message",
	                     "no such calendar or event"));
}

/* POST /_sandbox/google/calendars/{calendarId}/events: a person creates an event in Google. */
static void h_outside_create(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	const struct g_calendar *cal = find_calendar(http_param(req, "calendarId"), NULL);
	if (!cal) {
		sandbox_not_found(&r);
		goto out;
	}
	if (!(body = sandbox_body(req, &r)))
		goto out;
	struct g_event *e = insert_event(sb, req, cal, body, true, &r);
	if (e) {
		gstate(sb)->n.outside_edits++;
		settle_conference(gstate(sb), e);
		reply_json(&r, 200, event_json(sb, req->arena, e, false));
	}
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_outside_patch(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	struct g_target t;
	struct g_event *e;
	bool added;
	if (!lookup_target(sb, req, NULL, http_param(req, "calendarId"), http_param(req, "eventId"),
	                   &t, &r) ||
	    !(body = sandbox_body(req, &r)) || !(e = write_target(sb, req, &t, &added, &r)))
		goto out;
	if (modify_event(sb, req, e, body, true, true, &r)) {
		gstate(sb)->n.outside_edits++;
		reply_json(&r, 200, event_json(sb, req->arena, e, false));
	} else if (added) {
		drop_exception(sb, t.series, e);
	}
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

static void h_outside_delete(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	sb_lock(sb);
	struct g_target t;
	struct g_event *e = NULL;
	bool added;
	if (lookup_target(sb, req, NULL, http_param(req, "calendarId"), http_param(req, "eventId"),
	                  &t, &r))
		e = write_target(sb, req, &t, &added, &r);
	if (e && cancel_event(sb, req, e, &r)) {
		gstate(sb)->n.outside_edits++;
		reply_json(&r, 200, event_json(sb, req->arena, e, false));
	}
	sb_unlock(sb);
	finish(req, sb, &r);
}

static void h_invalidate_sync_tokens(struct http_request *req)
{
	struct sb *sb = sb_get();
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	g->sync_gen++;
	g->n.sync_invalidations++;
	sb_unlock(sb);
	http_reply_json(req, 200, json_pack("{s:b}", "invalidated", 1));
}

/* POST /_sandbox/google/rate_limit {"limit":N,"window_s":60,"status":403|429}; limit 0 = off. */
static void h_rate_limit(struct http_request *req)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	struct sb_google *g = gstate(sb);
	if (!(body = sandbox_body(req, &r)))
		goto out;
	long long limit = json_integer_value(json_object_get(body, "limit"));
	long long window = json_is_integer(json_object_get(body, "window_s"))
	                       ? json_integer_value(json_object_get(body, "window_s"))
	                       : 60;
	long long status = json_is_integer(json_object_get(body, "status"))
	                       ? json_integer_value(json_object_get(body, "status"))
	                       : 403;
	if (limit < 0 || limit > 1000000 || window < 1 || window > 86400 ||
	    (status != 403 && status != 429)) {
		reply_json(&r, 400,
		           json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request", "message",
		                     "limit 0..1000000, window_s 1..86400, "
		                     "status 403 or 429"));
		goto out;
	}
	g->rl_limit = (int)limit;
	g->rl_window_s = (int)window;
	g->rl_status = (int)status;
	g->rl_count = 0;
	g->rl_window_start = sb_now_s(sb);
	reply_json(
	    &r, 200,
	    json_pack("{s:I,s:I,s:I}", "limit", limit, "window_s", window, "status", status));
out:
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

/* Sets the switch at offset flag of struct sb_google from the body member key (true or not) and
 * answers {key: value}. */
static void set_switch(struct http_request *req, const char *key, size_t flag)
{
	struct sb *sb = sb_get();
	struct g_reply r = {0};
	json_t *body = NULL;
	sb_lock(sb);
	if ((body = sandbox_body(req, &r))) {
		bool *on = (bool *)((char *)gstate(sb) + flag);
		*on = json_is_true(json_object_get(body, key));
		reply_json(&r, 200, json_pack("{s:b}", key, *on));
	}
	sb_unlock(sb);
	json_decref(body);
	finish(req, sb, &r);
}

/* POST /_sandbox/google/meet_mode {"immediate":true}: createRequest succeeds in the insert answer.
 */
static void h_meet_mode(struct http_request *req)
{
	set_switch(req, "immediate", offsetof(struct sb_google, meet_immediate));
}

/* POST /_sandbox/google/page_mode {"short":true}: short pages and an empty last page (GE-15). */
static void h_page_mode(struct http_request *req)
{
	set_switch(req, "short", offsetof(struct sb_google, short_pages));
}

/* ------------------------------------------------------------------ state */

static char *prefix_of(const char *token)
{
	return token ? xstrndup(token, 12) : NULL;
}

static json_t *google_state(struct sb *sb)
{
	struct sb_google *g = gstate(sb);
	struct arena *a = arena_new();
	int64_t now = sb_now_s(sb);
	json_t *cals = json_array();
	for (size_t i = 0; i < sizeof(g_calendars) / sizeof(g_calendars[0]); i++)
		json_array_append_new(cals, json_pack("{s:s,s:s,s:s,s:b}", "id", g_calendars[i].id,
		                                      "summary", g_calendars[i].summary, "owner",
		                                      g_calendars[i].owner, "primary",
		                                      g_calendars[i].primary));
	json_t *grants = json_array();
	for (struct g_grant *x = g->grants; x; x = x->next) {
		int live = 0;
		json_t *prefixes = json_array();
		for (struct g_access *t = g->access; t; t = t->next)
			if (t->grant == x && t->expires_s > now) {
				live++;
				char *p = prefix_of(t->token);
				json_array_append_new(prefixes, json_string(p));
				free(p);
			}
		char *rp = prefix_of(x->refresh_token);
		json_array_append_new(
		    grants,
		    json_pack("{s:i,s:s,s:s,s:s,s:o,s:i,s:o,s:b,s:I}", "id", x->id, "account",
		              x->account, "client_id", G_CLIENT_ID, "scope", x->scope,
		              "refresh_token_prefix", rp ? json_string(rp) : json_null(),
		              "live_access_tokens", live, "access_token_prefixes", prefixes,
		              "revoked", x->revoked, "created", (json_int_t)x->created_s));
		free(rp);
	}
	json_t *events = json_array();
	for (struct g_event *e = g->events; e; e = e->next) {
		json_t *ev = event_json(sb, a, e, false);
		json_object_set_new(ev, "calendarId", json_string(e->calendar_id));
		json_array_append_new(events, ev);
	}
	json_t *channels = json_array();
	for (struct g_channel *c = g->channels; c; c = c->next)
		json_array_append_new(
		    channels,
		    json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b,s:b}", "id", c->id, "resourceId",
		              c->resource_id, "calendarId", c->calendar_id, "address", c->address,
		              "expiration", (json_int_t)c->expiration_ms, "messages",
		              (json_int_t)c->message_number, "stopped", c->stopped, "expired",
		              c->expiration_ms <= sb_now_ms(sb)));
	json_t *counters =
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	              "authorizations", (json_int_t)g->n.authorizations, "denials",
	              (json_int_t)g->n.denials, "code_exchanges", (json_int_t)g->n.code_exchanges,
	              "token_refreshes", (json_int_t)g->n.token_refreshes, "revocations",
	              (json_int_t)g->n.revocations, "inserts", (json_int_t)g->n.inserts, "patches",
	              (json_int_t)g->n.patches, "updates", (json_int_t)g->n.updates, "deletes",
	              (json_int_t)g->n.deletes, "outside_edits", (json_int_t)g->n.outside_edits,
	              "lists", (json_int_t)g->n.lists, "gets", (json_int_t)g->n.gets, "channels",
	              (json_int_t)g->n.channels, "pushes", (json_int_t)g->n.pushes,
	              "sync_invalidations", (json_int_t)g->n.sync_invalidations, "rate_limited",
	              (json_int_t)g->n.rate_limited, "meet_created", (json_int_t)g->n.meet_created);
	json_t *ids = json_array();
	for (size_t i = 0; i < sizeof(g_calendars) / sizeof(g_calendars[0]); i++)
		json_array_append_new(ids, json_string(g_calendars[i].id));
	json_t *o = json_pack("{s:[{s:s,s:o,s:b}],s:o,s:o,s:o,s:o,s:o}", "accounts", "email",
	                      g_emails[0], "calendars", ids, "offline_consent",
	                      g->offline_consented, "grants", grants, "calendars", cals, "events",
	                      events, "channels", channels, "counters", counters);
	arena_free(a);
	return o;
}

/* ------------------------------------------------------------------ routes */

static const struct http_route g_routes[] = {
    {"GET", "/google/o/oauth2/v2/auth", h_authorize},
    {"POST", "/google/o/oauth2/v2/auth/decision", h_authorize_decision},
    {"POST", "/google/token", h_token},
    {"POST", "/google/revoke", h_revoke},
    {"GET", "/google/calendar/v3/users/me/calendarList", h_calendar_list},
    {"POST", "/google/calendar/v3/calendars/{calendarId}/events/watch", h_events_watch},
    {"GET", "/google/calendar/v3/calendars/{calendarId}/events", h_events_list},
    {"POST", "/google/calendar/v3/calendars/{calendarId}/events", h_events_insert},
    {"GET", "/google/calendar/v3/calendars/{calendarId}/events/{eventId}", h_events_get},
    {"GET", "/google/calendar/v3/calendars/{calendarId}/events/{eventId}/instances",
     h_events_instances},
    {"PATCH", "/google/calendar/v3/calendars/{calendarId}/events/{eventId}", h_events_patch},
    {"PUT", "/google/calendar/v3/calendars/{calendarId}/events/{eventId}", h_events_update},
    {"DELETE", "/google/calendar/v3/calendars/{calendarId}/events/{eventId}", h_events_delete},
    {"POST", "/google/calendar/v3/channels/stop", h_channels_stop},
    {"GET", "/google/meet/{code}", h_meet},
    {"POST", "/_sandbox/google/calendars/{calendarId}/events", h_outside_create},
    {"POST", "/_sandbox/google/calendars/{calendarId}/events/{eventId}/patch", h_outside_patch},
    {"POST", "/_sandbox/google/calendars/{calendarId}/events/{eventId}/delete", h_outside_delete},
    {"POST", "/_sandbox/google/invalidate_sync_tokens", h_invalidate_sync_tokens},
    {"POST", "/_sandbox/google/rate_limit", h_rate_limit},
    {"POST", "/_sandbox/google/meet_mode", h_meet_mode},
    {"POST", "/_sandbox/google/page_mode", h_page_mode},
};

const struct sb_provider sb_google_provider = {
    .name = "google",
    .routes = g_routes,
    .n_routes = sizeof(g_routes) / sizeof(g_routes[0]),
    .init = google_init,
    .reset = google_reset,
    .state = google_state,
    .free = google_free,
};
