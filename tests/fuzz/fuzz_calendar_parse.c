/* fuzz_calendar_parse: every Google Calendar and Microsoft Graph parser on arbitrary bytes (event,
 * page, calendar list, user, change notifications), both classifiers on those bytes as an error
 * body under several statuses, and the meeting block helper on the bytes as a description, with
 * its invariants checked: adding twice equals adding once, and removal leaves no block. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "providers/calendar.h"
#include "providers/google.h"
#include "providers/graph.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_event(const struct cal_event *e)
{
	if (!e->external_id || (e->all_day && strlen(e->start_date) != 10))
		abort();
}

static void parsers(const char *body, size_t len)
{
	struct cal_event e;
	struct cal_event_page p;
	struct cal_calendar_page c;
	struct graph_user u;
	struct graph_notifications n;

	if (google_parse_event_body(body, len, "primary", &e) == CX_OK) {
		check_event(&e);
		cal_event_release(&e);
	}
	if (google_parse_event_page_body(body, len, "primary", &p) == CX_OK) {
		for (size_t i = 0; i < p.n; i++)
			check_event(&p.events[i]);
		cal_event_page_release(&p);
	}
	if (google_parse_calendar_list_body(body, len, &c) == CX_OK)
		cal_calendar_page_release(&c);
	if (graph_parse_event_body(body, len, NULL, &e) == CX_OK) {
		check_event(&e);
		cal_event_release(&e);
	}
	if (graph_parse_event_page_body(body, len, NULL, &p) == CX_OK) {
		for (size_t i = 0; i < p.n; i++)
			check_event(&p.events[i]);
		cal_event_page_release(&p);
	}
	if (graph_parse_calendars_body(body, len, &c) == CX_OK)
		cal_calendar_page_release(&c);
	if (graph_parse_user_body(body, len, &u) == CX_OK)
		graph_user_release(&u);
	if (graph_parse_notifications(body, len, &n) == CX_OK) {
		for (size_t i = 0; i < n.n; i++)
			if (!n.items[i].subscription_id)
				abort();
		graph_notifications_release(&n);
	}
}

static void responses(char *body, size_t len)
{
	static const long statuses[] = {200, 201, 400, 401, 403, 404, 409, 410, 412, 429, 503};
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct egress_response r = {0};
		struct cal_error err;
		struct cal_event_page p;
		struct cal_event e;
		r.status = statuses[i];
		r.body = body;
		r.body_len = len;
		r.headers[0] = "retry-after: 3";
		r.n_headers = 1;
		enum cx_err g = google_classify(&r, 0, &err);
		if ((g == CX_OK) != (r.status < 300) ||
		    memchr(err.reason, '\0', sizeof(err.reason)) == NULL)
			abort();
		enum cx_err m = graph_classify(&r, 0, &err);
		if ((m == CX_OK) != (r.status < 300))
			abort();
		if (google_parse_event_page(&r, 0, NULL, &p, &err) == CX_OK)
			cal_event_page_release(&p);
		if (graph_parse_event(&r, 0, NULL, &e, &err) == CX_OK)
			cal_event_release(&e);
	}
}

static void blocks(const char *text, bool html)
{
	static const struct cal_meeting_block m = {.provider_name = "Zoom",
	                                           .join_url = "https://zoom.us/j/1?pwd=x",
	                                           .meeting_id = "1",
	                                           .passcode = "p"};
	char *once = NULL, *twice = NULL, *gone = NULL;
	if (cal_description_set_block(text, &m, html, &once) != CX_OK)
		goto out;
	if (cal_description_set_block(once, &m, html, &twice) != CX_OK || strcmp(once, twice) != 0)
		abort();
	if (cal_description_set_block(once, NULL, html, &gone) != CX_OK ||
	    cal_description_has_block(gone))
		abort();
out:
	free(once);
	free(twice);
	free(gone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = xmalloc(size + 1);
	memcpy(body, data, size);
	body[size] = '\0';
	parsers(body, size);
	responses(body, size);
	blocks(body, false);
	blocks(body, true);
	free(body);
	return 0;
}
