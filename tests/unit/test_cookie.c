/* test_cookie.c: Cookie header parsing. (Set-Cookie is checked end to end in test_server.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "http/http.h"

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

static const char *parse(const char *header, const char *name)
{
	return http_cookie_parse(a, header, name);
}

static void test_simple_pairs(void **state)
{
	assert_string_equal(parse("a=1; b=2", "a"), "1");
	assert_string_equal(parse("a=1; b=2", "b"), "2");
	assert_string_equal(parse("a=1;b=2", "b"), "2");
	assert_null(parse("a=1; b=2", "c"));
	assert_string_equal(parse("calendox_session=abc-_DEF", "calendox_session"), "abc-_DEF");
}

static void test_names_match_exactly(void **state)
{
	assert_null(parse("ab=1", "a"));
	assert_null(parse("a=1", "ab"));
	assert_null(parse("A=1", "a"));
	assert_string_equal(parse("xa=0; a=1", "a"), "1");
	/* A name inside another cookie's value is not a name. */
	assert_null(parse("x=a=1", "a"));
	assert_string_equal(parse("x=a=1", "x"), "a=1");
}

static void test_first_occurrence_wins(void **state)
{
	assert_string_equal(parse("sid=first; sid=second", "sid"), "first");
}

static void test_quoted_values(void **state)
{
	assert_string_equal(parse("a=\"quoted\"; b=2", "a"), "quoted");
	assert_string_equal(parse("a=\"\"", "a"), "");
	/* An unbalanced quote is kept as it is. */
	assert_string_equal(parse("a=\"half", "a"), "\"half");
	assert_string_equal(parse("a=\"", "a"), "\"");
}

static void test_spaces_and_empty_pairs(void **state)
{
	assert_string_equal(parse("  a = 1 ;  b= 2  ", "a"), "1");
	assert_string_equal(parse("  a = 1 ;  b= 2  ", "b"), "2");
	assert_string_equal(parse(";;; ; a=1;;", "a"), "1");
	assert_string_equal(parse("a=; b=2", "a"), "");
	assert_string_equal(parse("\ta=1\t", "a"), "1");
}

static void test_malformed_pairs_skipped(void **state)
{
	assert_string_equal(parse("garbage; a=1", "a"), "1");
	assert_string_equal(parse("=nope; a=1", "a"), "1");
	assert_null(parse("=nope", ""));
	assert_null(parse("a", "a"));
	assert_null(parse("", "a"));
	assert_null(parse(";", "a"));
	assert_null(parse("=", "a"));
	assert_null(parse(NULL, "a"));
	assert_null(parse("a=1", NULL));
}

static void test_never_reads_past_the_end(void **state)
{
	/* Exactly sized heap copies so ASan catches any overread. */
	const char *inputs[] = {"a", "a=", "a=\"", "a=1;", " ", ";", "a=1; b", "b=\"x"};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t len = strlen(inputs[i]);
		char *copy = malloc(len + 1);
		memcpy(copy, inputs[i], len + 1);
		(void)http_cookie_parse(a, copy, "a");
		(void)http_cookie_parse(a, copy, "b");
		free(copy);
	}
	assert_string_equal(parse("a=1; b", "a"), "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_pairs),
	    cmocka_unit_test(test_names_match_exactly),
	    cmocka_unit_test(test_first_occurrence_wins),
	    cmocka_unit_test(test_quoted_values),
	    cmocka_unit_test(test_spaces_and_empty_pairs),
	    cmocka_unit_test(test_malformed_pairs_skipped),
	    cmocka_unit_test(test_never_reads_past_the_end),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
