/* The shared calendar helpers (providers/calendar.c): the meeting block in descriptions (text and
 * HTML), Retry-After, status classification, strict body parsing, wall-clock times and zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/time.h"
#include "providers/calendar.h"
#include "base/banned.h"

static const struct cal_meeting_block zoom = {
    .provider_name = "Zoom",
    .join_url = "https://zoom.us/j/92674392836?pwd=abc",
    .meeting_id = "92674392836",
    .passcode = "123456",
};

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Not inlined: GCC 12 at -O2 otherwise mistakes the string it returns for a pointer to its local
 * `out` (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *set(const char *d, const struct cal_meeting_block *b,
					   bool html)
{
	char *out = NULL;
	assert_int_equal(cal_description_set_block(d, b, html, &out), CX_OK);
	assert_non_null(out);
	return out;
}

static void text_block_add_replace_remove(void **st)
{
	(void)st;
	char *a = set("Agenda:\n1. numbers", &zoom, false);
	assert_string_equal(a, "Agenda:\n1. numbers\n\n" CAL_BLOCK_BEGIN "\n"
	                       "Join Zoom meeting: https://zoom.us/j/92674392836?pwd=abc\n"
	                       "Meeting ID: 92674392836\nPasscode: 123456\n" CAL_BLOCK_END);
	assert_true(cal_description_has_block(a));

	/* The same block again: identical text, one block. */
	char *b = set(a, &zoom, false);
	assert_string_equal(a, b);
	assert_int_equal(count(b, CAL_BLOCK_BEGIN), 1);

	/* Another link replaces the old one in place. */
	struct cal_meeting_block other = {.provider_name = "Zoom",
	                                  .join_url = "https://zoom.us/j/1"};
	char *c = set(b, &other, false);
	assert_int_equal(count(c, CAL_BLOCK_BEGIN), 1);
	assert_null(strstr(c, "92674392836"));
	assert_non_null(strstr(c, "https://zoom.us/j/1\n" CAL_BLOCK_END));

	/* Removing restores the person's text exactly, and removing twice changes nothing. */
	char *d = set(c, NULL, false);
	assert_string_equal(d, "Agenda:\n1. numbers");
	assert_false(cal_description_has_block(d));
	char *e = set(d, NULL, false);
	assert_string_equal(e, d);

	/* What counts as a Zoom link in a location. */
	assert_true(cal_is_zoom_link("https://us02web.zoom.us/j/92674392836?pwd=abc"));
	assert_true(cal_is_zoom_link("https://zoom.us/w/92674392836"));
	assert_true(cal_is_zoom_link("http://127.0.0.1:9100/zoom/j/92674392836?pwd=abc"));
	assert_false(cal_is_zoom_link("Room 1, zoom.us/j/1 upstairs"));
	assert_false(cal_is_zoom_link("https://meet.google.com/abc-defg-hij"));
	assert_false(cal_is_zoom_link(NULL));
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

static void text_block_edge_cases(void **st)
{
	(void)st;
	/* Empty or NULL description: the block alone, no leading blank line. */
	char *a = set(NULL, &zoom, false);
	assert_int_equal(strncmp(a, CAL_BLOCK_BEGIN, strlen(CAL_BLOCK_BEGIN)), 0);
	char *r = set(a, NULL, false);
	assert_string_equal(r, "");
	free(r);

	/* A trailing newline of the person's text survives add + remove. */
	char *b = set("notes\n", &zoom, false);
	char *b2 = set(b, NULL, false);
	assert_string_equal(b2, "notes\n");

	/* Two blocks (pasted twice by hand) collapse into one. */
	char *two = xasprintf("x\n\n%s\n\n%s", a, a);
	char *c = set(two, &zoom, false);
	assert_int_equal(count(c, CAL_BLOCK_BEGIN), 1);
	assert_int_equal(count(c, CAL_BLOCK_END), 1);
	assert_int_equal(strncmp(c, "x\n\n" CAL_BLOCK_BEGIN, 3 + strlen(CAL_BLOCK_BEGIN)), 0);

	/* Text after a block stays, with its own line. */
	char *mid = xasprintf("before\n\n%s\nafter", a);
	char *d = set(mid, NULL, false);
	assert_string_equal(d, "before\n\nafter");

	/* A start marker without an end marker: the rest is ours. */
	char *e = set("keep\n\n" CAL_BLOCK_BEGIN "\nJoin: https://old", NULL, false);
	assert_string_equal(e, "keep");

	/* Newlines in values cannot forge marker lines. */
	struct cal_meeting_block evil = {.provider_name = "Zoom",
	                                 .join_url = "https://z/j/1\n" CAL_BLOCK_END "\nowned"};
	char *f = set("t", &evil, false);
	assert_int_equal(count(f, CAL_BLOCK_END), 2); /* one inside the value line, one real */
	char *g = set(f, NULL, false);
	assert_int_equal(count(g, CAL_BLOCK_BEGIN), 0);

	/* A block needs a link. */
	struct cal_meeting_block nolink = {.provider_name = "Zoom"};
	char *h = NULL;
	assert_int_equal(cal_description_set_block("x", &nolink, false, &h), CX_EINVAL);
	assert_null(h);

	free(a);
	free(b);
	free(b2);
	free(two);
	free(c);
	free(mid);
	free(d);
	free(e);
	free(f);
	free(g);
}

static void html_block(void **st)
{
	(void)st;
	struct cal_meeting_block m = {.provider_name = "Zoom",
	                              .join_url = "https://zoom.us/j/9?pwd=a&b=\"<x>\"",
	                              .passcode = "p<1>"};
	const char *body = "<html><body><p>Hello</p></body></html>";
	char *a = set(body, &m, true);
	assert_non_null(strstr(a, "<p>Hello</p><div class=\"calendox-meeting\">"));
	assert_non_null(strstr(a, "https://zoom.us/j/9?pwd=a&amp;b=&quot;&lt;x&gt;&quot;"));
	assert_non_null(strstr(a, "Passcode: p&lt;1&gt;"));
	assert_null(strstr(a, "<x>"));
	assert_non_null(strstr(a, "</div></body></html>"));
	char *b = set(a, &m, true);
	assert_string_equal(a, b);
	char *c = set(b, NULL, true);
	assert_string_equal(c, body);

	/* Without <body>: appended; removal restores. */
	char *d = set("plain <b>text</b>", &m, true);
	char *e = set(d, NULL, true);
	assert_string_equal(e, "plain <b>text</b>");
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

static void block_too_big(void **st)
{
	(void)st;
	char *big = xmalloc(CAL_TEXT_MAX + 1);
	memset(big, 'a', CAL_TEXT_MAX);
	big[CAL_TEXT_MAX] = '\0';
	char *out = NULL;
	assert_int_equal(cal_description_set_block(big, &zoom, false, &out), CX_ETOOBIG);
	assert_null(out);
	free(big);
}

static void retry_after(void **st)
{
	(void)st;
	struct egress_response r = {0};
	r.headers[0] = "retry-after: 7";
	r.n_headers = 1;
	assert_int_equal(cal_retry_after(&r, 0), 7);
	r.headers[0] = "retry-after: 9999999";
	assert_int_equal(cal_retry_after(&r, 0), 86400);
	r.headers[0] = "retry-after: -3";
	assert_int_equal(cal_retry_after(&r, 0), 0);
	r.headers[0] = "retry-after: 5x";
	assert_int_equal(cal_retry_after(&r, 0), 0);
	int64_t at;
	assert_int_equal(time_parse_rfc3339("2015-10-21T07:28:00Z", &at, NULL), CX_OK);
	r.headers[0] = "retry-after: Wed, 21 Oct 2015 07:28:00 GMT";
	assert_int_equal(cal_retry_after(&r, at - 30), 30);
	assert_int_equal(cal_retry_after(&r, at + 30), 0);
	r.headers[0] = "retry-after: Wed, 21 Foo 2015 07:28:00 GMT";
	assert_int_equal(cal_retry_after(&r, at - 30), 0);
	r.n_headers = 0;
	assert_int_equal(cal_retry_after(&r, 0), 0);
}

static enum cx_err classify(long status, struct cal_error *e)
{
	struct egress_response r = {0};
	r.status = status;
	r.body = "";
	return cal_classify_status(&r, 0, "why", "msg", e);
}

static void status_classes(void **st)
{
	(void)st;
	struct cal_error e;
	assert_int_equal(classify(200, &e), CX_OK);
	assert_int_equal(classify(204, &e), CX_OK);
	assert_int_equal(classify(401, &e), CX_EAUTH);
	assert_true(e.auth_invalid);
	assert_string_equal(e.reason, "why");
	assert_string_equal(e.message, "msg");
	assert_int_equal(classify(403, &e), CX_EFORBIDDEN);
	assert_int_equal(classify(404, &e), CX_ENOTFOUND);
	assert_true(e.not_found);
	assert_int_equal(classify(409, &e), CX_ECONFLICT);
	assert_true(e.conflict);
	assert_int_equal(classify(410, &e), CX_ENOTFOUND);
	assert_true(e.gone);
	assert_int_equal(classify(412, &e), CX_ECONFLICT);
	assert_true(e.precondition);
	assert_int_equal(classify(429, &e), CX_EBUSY);
	assert_true(e.rate_limited && e.retryable);
	assert_int_equal(classify(503, &e), CX_EUPSTREAM);
	assert_true(e.retryable);
	assert_int_equal(classify(400, &e), CX_EUPSTREAM);
	assert_false(e.retryable);

	struct egress_response t = {0};
	t.err = CX_ETIMEOUT;
	t.body = "";
	assert_int_equal(cal_classify_status(&t, 0, NULL, NULL, &e), CX_EUPSTREAM);
	assert_int_equal(e.transport, CX_ETIMEOUT);
	assert_true(e.retryable);
	assert_int_equal(e.http_status, 0);
}

static void strict_objects(void **st)
{
	(void)st;
	json_t *o = NULL;
	assert_int_equal(cal_parse_object("{\"a\":1}", 7, &o), CX_OK);
	json_decref(o);
	assert_int_equal(cal_parse_object("[1]", 3, &o), CX_EUPSTREAM);
	assert_null(o);
	assert_int_equal(cal_parse_object("{\"a\":1,\"a\":2}", 13, &o), CX_EUPSTREAM);
	assert_int_equal(cal_parse_object("<html>", 6, &o), CX_EUPSTREAM);
	assert_int_equal(cal_parse_object("", 0, &o), CX_EUPSTREAM);
	assert_int_equal(cal_parse_object("{}", CAL_BODY_MAX + 1, &o), CX_ETOOBIG);
}

static void cut_on_utf8_boundary(void **st)
{
	(void)st;
	char *s = cal_strdup_cut("ab\xc3\xa9z", 3); /* "abé z": é is 2 bytes at 2..3 */
	assert_string_equal(s, "ab");
	free(s);
	s = cal_strdup_cut("abc", 10);
	assert_string_equal(s, "abc");
	free(s);
	assert_null(cal_strdup_cut(NULL, 3));
}

static void wall_times_and_zones(void **st)
{
	(void)st;
	int64_t w, u, expect;
	assert_int_equal(cal_parse_wall_time("2016-12-25T06:00:00.0000000", &w), CX_OK);
	assert_int_equal(time_parse_rfc3339("2016-12-25T06:00:00Z", &expect, NULL), CX_OK);
	assert_true(w == expect);
	assert_int_equal(cal_parse_wall_time("2016-12-25T06:00:00", &w), CX_OK);
	assert_int_equal(cal_parse_wall_time("2016-12-25T06:00:00Z", &w), CX_EINVAL);
	assert_int_equal(cal_parse_wall_time("2016-12-25T06:00:00.", &w), CX_EINVAL);
	assert_int_equal(cal_parse_wall_time("2016-12-25 06:00:00", &w), CX_EINVAL);
	assert_int_equal(cal_parse_wall_time(NULL, &w), CX_EINVAL);

	/* Berlin in winter is UTC+1, in summer UTC+2. */
	assert_int_equal(cal_parse_wall_time("2026-01-15T10:00:00", &w), CX_OK);
	assert_int_equal(cal_wall_to_utc("Europe/Berlin", w, &u), CX_OK);
	assert_true(u == w - 3600);
	assert_int_equal(cal_parse_wall_time("2026-07-15T10:00:00", &w), CX_OK);
	assert_int_equal(cal_wall_to_utc("Europe/Berlin", w, &u), CX_OK);
	assert_true(u == w - 7200);
	/* 02:30 on the spring-forward day does not exist: it moves to 03:30 CEST = 01:30Z. */
	assert_int_equal(cal_parse_wall_time("2026-03-29T02:30:00", &w), CX_OK);
	assert_int_equal(cal_wall_to_utc("Europe/Berlin", w, &u), CX_OK);
	assert_int_equal(time_parse_rfc3339("2026-03-29T01:30:00Z", &expect, NULL), CX_OK);
	assert_true(u == expect);
	/* 02:30 on the fall-back day happens twice: the earlier (CEST) wins = 00:30Z. */
	assert_int_equal(cal_parse_wall_time("2026-10-25T02:30:00", &w), CX_OK);
	assert_int_equal(cal_wall_to_utc("Europe/Berlin", w, &u), CX_OK);
	assert_int_equal(time_parse_rfc3339("2026-10-25T00:30:00Z", &expect, NULL), CX_OK);
	assert_true(u == expect);
	assert_int_equal(cal_wall_to_utc("UTC", w, &u), CX_OK);
	assert_true(u == w);
	assert_int_equal(cal_wall_to_utc("Nowhere/Atlantis", w, &u), CX_ENOTFOUND);
}

static void error_code_mapping(void **st)
{
	(void)st;
	struct cal_error e = {.http_status = 500};
	assert_int_equal(cal_error_code(&e), CX_EUPSTREAM);
	e = (struct cal_error){.http_status = 403, .rate_limited = true, .forbidden = false};
	assert_int_equal(cal_error_code(&e), CX_EBUSY);
	e = (struct cal_error){.transport = CX_EIO};
	assert_int_equal(cal_error_code(&e), CX_EUPSTREAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(text_block_add_replace_remove),
	    cmocka_unit_test(text_block_edge_cases),
	    cmocka_unit_test(html_block),
	    cmocka_unit_test(block_too_big),
	    cmocka_unit_test(retry_after),
	    cmocka_unit_test(status_classes),
	    cmocka_unit_test(strict_objects),
	    cmocka_unit_test(cut_on_utf8_boundary),
	    cmocka_unit_test(wall_times_and_zones),
	    cmocka_unit_test(error_code_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
