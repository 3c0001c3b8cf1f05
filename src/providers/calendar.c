/* calendar.c: what the Google and Graph clients share: releasing the neutral structs, status
 * classification, Retry-After, strict body parsing, wall-clock times and the meeting block. */
#include "providers/calendar.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/time.h"
#include "base/tz.h"
#include "base/banned.h"

void cal_calendar_page_release(struct cal_calendar_page *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].external_id);
		free(p->items[i].name);
		free(p->items[i].color);
	}
	free(p->items);
	free(p->next_page_token);
	free(p->next_sync_token);
	memset(p, 0, sizeof(*p));
}

void cal_event_release(struct cal_event *e)
{
	free(e->external_id);
	free(e->calendar_external_id);
	free(e->title);
	free(e->description);
	free(e->location);
	free(e->time_zone);
	free(e->recurring_series_id);
	free(e->etag);
	free(e->join_url);
	memset(e, 0, sizeof(*e));
}

void cal_event_page_release(struct cal_event_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		cal_event_release(&p->events[i]);
	free(p->events);
	free(p->next_page_token);
	free(p->next_sync_token);
	memset(p, 0, sizeof(*p));
}

enum cx_err cal_error_code(const struct cal_error *e)
{
	if (e->transport != CX_OK)
		return CX_EUPSTREAM;
	if (e->http_status >= 200 && e->http_status < 300)
		return CX_OK;
	if (e->auth_invalid)
		return CX_EAUTH;
	if (e->rate_limited)
		return CX_EBUSY;
	if (e->forbidden)
		return CX_EFORBIDDEN;
	if (e->not_found || e->gone)
		return CX_ENOTFOUND;
	if (e->conflict || e->precondition)
		return CX_ECONFLICT;
	return CX_EUPSTREAM;
}

static int month_index(const char *m)
{
	static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	for (int i = 0; i < 12; i++)
		if (strncmp(m, names[i], 3) == 0)
			return i + 1;
	return 0;
}

/* Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); only the IMF-fixdate
 * form is read, which is what every current server sends. */
long cal_retry_after(const struct egress_response *resp, int64_t now_s)
{
	const long max = 86400;
	const char *v = resp ? egress_response_header(resp, "retry-after") : NULL;
	long result = 0;
	if (!v)
		goto out;
	while (*v == ' ')
		v++;
	if (*v >= '0' && *v <= '9') {
		char *end;
		long long n = strtoll(v, &end, 10);
		while (*end == ' ')
			end++;
		if (*end == '\0' && n > 0)
			result = n > max ? max : (long)n;
		goto out;
	}
	char wd[4], mon[4], zone[4];
	int d, y, hh, mm, ss;
	if (sscanf(v, "%3s, %d %3s %d %d:%d:%d %3s", wd, &d, mon, &y, &hh, &mm, &ss, zone) != 8)
		goto out;
	int m = month_index(mon);
	if (m == 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || hh > 23 || mm > 59 || ss > 60 ||
	    hh < 0 || mm < 0 || ss < 0 || strcmp(zone, "GMT") != 0)
		goto out;
	int64_t at =
	    time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60 + ss;
	if (at > now_s)
		result = at - now_s > max ? max : (long)(at - now_s);
out:
	return result;
}

static void copy_text(char *dst, size_t n, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, n, "%s", src);
}

enum cx_err cal_classify_status(const struct egress_response *resp, int64_t now_s,
                                const char *reason, const char *message, struct cal_error *err)
{
	memset(err, 0, sizeof(*err));
	err->transport = resp->err;
	err->sent = resp->sent;
	if (resp->err != CX_OK) {
		err->retryable = true;
		copy_text(err->message, sizeof(err->message), resp->error);
		goto out;
	}
	err->http_status = resp->status;
	copy_text(err->reason, sizeof(err->reason), reason);
	copy_text(err->message, sizeof(err->message), message);
	long s = resp->status;
	if (s >= 200 && s < 300)
		goto out;
	err->retry_after_s = cal_retry_after(resp, now_s);
	switch (s) {
	case 401:
		err->auth_invalid = true;
		break;
	case 403:
		err->forbidden = true;
		break;
	case 404:
		err->not_found = true;
		break;
	case 409:
		err->conflict = true;
		break;
	case 410:
		err->gone = true;
		break;
	case 412:
		err->precondition = true;
		break;
	case 429:
		err->rate_limited = true;
		err->retryable = true;
		break;
	default:
		if (s >= 500 || s < 200)
			err->retryable = true;
		break;
	}
out:
	return cal_error_code(err);
}

enum cx_err cal_parse_object(const char *body, size_t len, json_t **out)
{
	enum cx_err err = CX_OK;
	json_t *doc = NULL;
	*out = NULL;
	if (len > CAL_BODY_MAX) {
		err = CX_ETOOBIG;
		goto out;
	}
	if (!body || json_parse_strict(body, len, &doc, NULL, 0) != CX_OK || !json_is_object(doc)) {
		err = CX_EUPSTREAM;
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	json_decref(doc);
	return err;
}

char *cal_strdup_cut(const char *s, size_t max)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	if (len <= max)
		return xstrdup(s);
	/* Step back over continuation bytes so a multi-byte character is never split. */
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return xstrndup(s, max);
}

const char *cal_json_str(const json_t *obj, const char *key, size_t max)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!json_is_string(v) || json_string_length(v) > max)
		return NULL;
	/* Strict parsing already refused NUL bytes; this keeps hand-built values honest too. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

enum cx_err cal_parse_wall_time(const char *s, int64_t *unix_s)
{
	char buf[32];
	size_t len = s ? strlen(s) : 0;
	if (len < 19 || len > 29 || s[10] != 'T')
		return CX_EINVAL;
	for (size_t i = 19; i < len; i++) {
		bool digit = s[i] >= '0' && s[i] <= '9';
		if (!(i == 19 ? s[i] == '.' : digit))
			return CX_EINVAL;
	}
	if (len == 20)
		return CX_EINVAL; /* a '.' without digits */
	snprintf(buf, sizeof(buf), "%.19sZ", s);
	return time_parse_rfc3339(buf, unix_s, NULL);
}

/* A wall time w in a zone is the instant u with u + offset(u) = w. Trying the offsets in force a
 * day either side covers every real transition; among the instants that match the earliest wins
 * (overlap), and when none matches (a gap) the wall time moves forward by the gap. */
enum cx_err cal_wall_to_utc(const char *iana_zone, int64_t wall_s, int64_t *utc_s)
{
	struct tz_zone *z = NULL;
	enum cx_err err = tz_zone_load(iana_zone, &z);
	if (err)
		goto out;
	int before = tz_zone_offset(z, wall_s - 86400);
	int after = tz_zone_offset(z, wall_s + 86400);
	int64_t a = wall_s - before, b = wall_s - after;
	bool a_ok = tz_zone_offset(z, a) == before;
	bool b_ok = tz_zone_offset(z, b) == after;
	if (a_ok && b_ok)
		*utc_s = a < b ? a : b;
	else if (a_ok)
		*utc_s = a;
	else if (b_ok)
		*utc_s = b;
	else
		*utc_s = wall_s - before; /* in a gap: the old offset moves it forward */
out:
	tz_zone_free(z);
	return err;
}

/* --- the meeting block --- */

static const char *find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

bool cal_is_zoom_link(const char *s)
{
	return s && strncmp(s, "http", 4) == 0 &&
	       (strstr(s, "zoom.us/j/") || strstr(s, "zoom.us/w/") || strstr(s, "/zoom/j/"));
}

bool cal_description_has_block(const char *description)
{
	return description && strstr(description, CAL_BLOCK_BEGIN) != NULL;
}

/* The span of the first block in s: from its start marker (back over the opening tags that wrap
 * it in HTML) to the end marker (forward over closing tags). In text, the blank line we wrote
 * before a block at the end goes with it; a block with text after it takes up to two following
 * newlines, so the person's text keeps its shape. Returns false when there is no start marker. */
static bool block_span(const char *s, bool html, size_t *from, size_t *to)
{
	const char *b = strstr(s, CAL_BLOCK_BEGIN);
	if (!b)
		return false;
	size_t start = (size_t)(b - s);
	int opened = 0;
	/* Opening tags only, and no more than our own block opens (<div><p>): a closing tag, or an
	 * earlier opening one, belongs to the person's text. */
	while (html && opened < 2 && start > 0 && s[start - 1] == '>') {
		size_t lt = start - 1;
		while (lt > 0 && s[lt] != '<')
			lt--;
		if (s[lt] != '<' || s[lt + 1] == '/')
			break;
		start = lt;
		opened++;
	}
	const char *e = strstr(b, CAL_BLOCK_END);
	size_t end;
	if (!e) {
		end = strlen(s);
	} else {
		end = (size_t)(e - s) + strlen(CAL_BLOCK_END);
		/* As many closing tags as the block opened: the rest close the person's HTML. */
		for (; opened > 0 && s[end] == '<' && s[end + 1] == '/'; opened--) {
			const char *gt = strchr(s + end, '>');
			if (!gt)
				break;
			end = (size_t)(gt - s) + 1;
		}
	}
	if (!html && s[end] == '\0') {
		for (int i = 0; i < 2 && start > 0 && s[start - 1] == '\n'; i++)
			start--;
	} else if (!html) {
		for (int i = 0; i < 2 && s[end] == '\n'; i++)
			end++;
	}
	*from = start;
	*to = end;
	return true;
}

static enum cx_err append_html_escaped(struct buf *b, const char *s)
{
	enum cx_err err = CX_OK;
	for (const char *p = s; *p && !err; p++) {
		switch (*p) {
		case '&':
			err = buf_puts(b, "&amp;");
			break;
		case '<':
			err = buf_puts(b, "&lt;");
			break;
		case '>':
			err = buf_puts(b, "&gt;");
			break;
		case '"':
			err = buf_puts(b, "&quot;");
			break;
		case '\'':
			err = buf_puts(b, "&#39;");
			break;
		default:
			err = buf_append(b, p, 1);
			break;
		}
	}
	return err;
}

/* One-line values only: a newline in a link or passcode would let it fake a marker line. */
static char *one_line(const char *s)
{
	char *c = xstrdup(s ? s : "");
	for (char *p = c; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return c;
}

static enum cx_err write_block(struct buf *b, const struct cal_meeting_block *m, bool html)
{
	enum cx_err err = CX_OK;
	char *name = one_line(m->provider_name && *m->provider_name ? m->provider_name : "video");
	char *url = one_line(m->join_url), *id = one_line(m->meeting_id),
	     *pass = one_line(m->passcode);
	if (!html) {
		err = buf_printf(b, "%s\nJoin %s meeting: %s\n", CAL_BLOCK_BEGIN, name, url);
		if (!err && *id)
			err = buf_printf(b, "Meeting ID: %s\n", id);
		if (!err && *pass)
			err = buf_printf(b, "Passcode: %s\n", pass);
		if (!err)
			err = buf_puts(b, CAL_BLOCK_END);
		goto out;
	}
	err = buf_puts(b, "<div class=\"calendox-meeting\"><p>" CAL_BLOCK_BEGIN "</p><p>Join ");
	if (!err)
		err = append_html_escaped(b, name);
	if (!err)
		err = buf_puts(b, " meeting: <a href=\"");
	if (!err)
		err = append_html_escaped(b, url);
	if (!err)
		err = buf_puts(b, "\">");
	if (!err)
		err = append_html_escaped(b, url);
	if (!err)
		err = buf_puts(b, "</a></p>");
	if (!err && *id) {
		err = buf_puts(b, "<p>Meeting ID: ");
		if (!err)
			err = append_html_escaped(b, id);
		if (!err)
			err = buf_puts(b, "</p>");
	}
	if (!err && *pass) {
		err = buf_puts(b, "<p>Passcode: ");
		if (!err)
			err = append_html_escaped(b, pass);
		if (!err)
			err = buf_puts(b, "</p>");
	}
	if (!err)
		err = buf_puts(b, "<p>" CAL_BLOCK_END "</p></div>");
out:
	free(name);
	free(url);
	free(id);
	free(pass);
	return err;
}

enum cx_err cal_description_set_block(const char *description,
                                      const struct cal_meeting_block *block, bool html, char **out)
{
	enum cx_err err = CX_OK;
	struct buf b;
	char *text = xstrdup(description ? description : "");
	size_t from, to;
	buf_init(&b, CAL_TEXT_MAX);
	*out = NULL;
	if (block && (!block->join_url || !*block->join_url)) {
		err = CX_EINVAL;
		goto out;
	}
	/* Remove every block first: this is what makes the operation idempotent. */
	while (block_span(text, html, &from, &to))
		memmove(text + from, text + to, strlen(text + to) + 1);
	if (!block) {
		err = buf_puts(&b, text);
		goto out;
	}
	const char *body_end = html ? find_ci(text, "</body>") : NULL;
	size_t head = body_end ? (size_t)(body_end - text) : strlen(text);
	err = buf_append(&b, text, head);
	if (!err && head > 0 && !html)
		err = buf_puts(&b, "\n\n");
	if (!err)
		err = write_block(&b, block, html);
	if (!err)
		err = buf_puts(&b, text + head);
out:
	if (!err)
		*out = buf_detach(&b, NULL);
	buf_release(&b);
	free(text);
	return err;
}

enum cx_err cal_page_links(const json_t *doc, const char *next_key, const char *final_key,
                           char **next, char **final)
{
	const json_t *n = json_object_get(doc, next_key);
	const json_t *f = json_object_get(doc, final_key);
	if ((n && !cal_json_str(doc, next_key, CAL_LINK_MAX)) ||
	    (f && !cal_json_str(doc, final_key, CAL_LINK_MAX)))
		return CX_EUPSTREAM;
	*next = n ? xstrdup(json_string_value(n)) : NULL;
	if (final)
		*final = f ? xstrdup(json_string_value(f)) : NULL;
	return CX_OK;
}

enum cx_err cal_parse_event_with(const char *body, size_t len, const char *calendar_id,
                                 cal_event_parser parse, struct cal_event *out)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof(*out));
	enum cx_err err = cal_parse_object(body, len, &doc);
	if (!err)
		err = parse(doc, calendar_id, out);
	if (err)
		cal_event_release(out);
	json_decref(doc);
	return err;
}

void cal_collect_events(const json_t *items, const char *calendar_id, cal_event_parser parse,
                        struct cal_event_page *out)
{
	out->events = xcalloc(json_array_size(items) + 1, sizeof(*out->events));
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		if (json_is_object(it) && parse(it, calendar_id, &out->events[out->n]) == CX_OK)
			out->n++;
		else
			cal_event_release(&out->events[out->n]);
	}
}

void cal_mark_garbage(struct cal_error *err)
{
	if (err) {
		err->retryable = true;
		snprintf(err->message, sizeof(err->message), "%s",
		         "the answer is not the expected JSON");
	}
}
