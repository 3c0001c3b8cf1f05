/* test_url.c: percent-decoding, query encoding and the k=v&k=v lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "http/internal.h"

#include "base/banned.h"

static struct arena *a;

static int setup(void **state)
{
	a = arena_new();
	return 0;
}

static int teardown(void **state)
{
	arena_free(a);
	return 0;
}

static const char *dec(const char *s, bool plus)
{
	return http_url_decode(a, s, strlen(s), plus);
}

static void test_decode(void **state)
{
	assert_string_equal(dec("plain", false), "plain");
	assert_string_equal(dec("a%20b%2Fc%3d", false), "a b/c=");
	assert_string_equal(dec("%C3%A9", false), "\xc3\xa9");
	assert_string_equal(dec("a+b", false), "a+b");
	assert_string_equal(dec("a+b", true), "a b");
	assert_string_equal(dec("%2B", true), "+");
	assert_string_equal(dec("", false), "");
	/* Only len bytes are read. */
	assert_string_equal(http_url_decode(a, "abc%41", 3, false), "abc");
}

static void test_decode_rejects_bad_escapes(void **state)
{
	assert_null(dec("%", false));
	assert_null(dec("%4", false));
	assert_null(dec("%4g", false));
	assert_null(dec("%g4", false));
	assert_null(dec("abc%", false));
	assert_null(dec("a%00b", false));
	/* An escape cut by len is bad even if the string goes on. */
	assert_null(http_url_decode(a, "%41", 2, false));
}

static void test_encode(void **state)
{
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(http_url_encode(&b, "a b&c=d/é~-._"), CX_OK);
	assert_string_equal(b.data, "a%20b%26c%3Dd%2F%C3%A9~-._");
	buf_release(&b);

	buf_init(&b, 4);
	assert_int_equal(http_url_encode(&b, "abc d"), CX_ETOOBIG);
	buf_release(&b);
}

static void test_round_trip(void **state)
{
	struct buf b;
	const char *s = "https://x.example/cb?state=a+b&code=%zz";
	buf_init(&b, 1024);
	assert_int_equal(http_url_encode(&b, s), CX_OK);
	assert_string_equal(http_url_decode(a, b.data, b.len, true), s);
	buf_release(&b);
}

static const char *look(const char *s, const char *name)
{
	return http_form_lookup(a, s, strlen(s), name);
}

static void test_form_lookup(void **state)
{
	const char *q = "a=1&b=two+words&c=%26%3D&empty=&flag&a=2&&d=x%zz&e";
	assert_string_equal(look(q, "a"), "1");
	assert_string_equal(look(q, "b"), "two words");
	assert_string_equal(look(q, "c"), "&=");
	assert_string_equal(look(q, "empty"), "");
	assert_string_equal(look(q, "flag"), "");
	assert_string_equal(look(q, "e"), "");
	assert_null(look(q, "d"));
	assert_null(look(q, "missing"));
	assert_null(look(q, "fla"));
	assert_string_equal(look("caf%C3%A9=ok", "caf\xc3\xa9"), "ok");
	assert_string_equal(look("x+y=1", "x y"), "1");
	assert_null(look("", "a"));
	assert_null(http_form_lookup(a, NULL, 0, "a"));
	/* len bounds the search. */
	assert_null(http_form_lookup(a, "a=1&b=2", 3, "b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),      cmocka_unit_test(test_decode_rejects_bad_escapes),
	    cmocka_unit_test(test_encode),      cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_form_lookup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
