/* Tests for base/alloc and base/err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/banned.h"

static void test_xstrdup_copies(void **state)
{
	(void)state;
	const char *src = "calendar";
	char *p = xstrdup(src);
	assert_string_equal(p, "calendar");
	assert_ptr_not_equal(p, src);
	free(p);
}

static void test_xstrndup_stops_at_n_and_nul(void **state)
{
	(void)state;
	char *p = xstrndup("meeting", 4);
	assert_string_equal(p, "meet");
	free(p);
	p = xstrndup("ab", 10);
	assert_string_equal(p, "ab");
	free(p);
	p = xstrndup("abc", 0);
	assert_string_equal(p, "");
	free(p);
}

static void test_xasprintf_formats(void **state)
{
	(void)state;
	char *p = xasprintf("%s=%d", "port", 8080);
	assert_string_equal(p, "port=8080");
	free(p);
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p = xasprintf("[%s]", big);
	assert_int_equal(strlen(p), sizeof(big) + 1);
	assert_int_equal(p[0], '[');
	assert_int_equal(p[sizeof(big)], ']');
	free(p);
}

static void test_xmalloc_zero_and_realloc(void **state)
{
	(void)state;
	char *p = xmalloc(0);
	assert_non_null(p);
	p = xrealloc(p, 100);
	memset(p, 'a', 100);
	p = xrealloc(p, 10000);
	assert_int_equal(p[99], 'a');
	free(p);
	int *z = xcalloc(16, sizeof(int));
	for (int i = 0; i < 16; i++)
		assert_int_equal(z[i], 0);
	free(z);
}

static void test_strerror_names(void **state)
{
	(void)state;
	assert_string_equal(cx_strerror(CX_OK), "ok");
	assert_string_equal(cx_strerror(CX_EINVAL), "einval");
	assert_string_equal(cx_strerror(CX_ENOTFOUND), "enotfound");
	assert_string_equal(cx_strerror(CX_ECONFLICT), "econflict");
	assert_string_equal(cx_strerror(CX_EUPSTREAM), "eupstream");
	assert_string_equal(cx_strerror(CX_ETIMEOUT), "etimeout");
	assert_string_equal(cx_strerror(CX_ETOOBIG), "etoobig");
	assert_string_equal(cx_strerror(CX_EDB), "edb");
	assert_string_equal(cx_strerror(CX_EAUTH), "eauth");
	assert_string_equal(cx_strerror(CX_EFORBIDDEN), "eforbidden");
	assert_string_equal(cx_strerror(CX_EIO), "eio");
	assert_string_equal(cx_strerror(CX_EBUSY), "ebusy");
	assert_string_equal(cx_strerror(CX_ECRYPTO), "ecrypto");
	assert_string_equal(cx_strerror((enum cx_err)999), "eunknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xstrdup_copies),
	    cmocka_unit_test(test_xstrndup_stops_at_n_and_nul),
	    cmocka_unit_test(test_xasprintf_formats),
	    cmocka_unit_test(test_xmalloc_zero_and_realloc),
	    cmocka_unit_test(test_strerror_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
