/* Tests for base/buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/banned.h"

static void test_append_and_nul_termination(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1024);
	assert_null(b.data);
	assert_int_equal(buf_puts(&b, "hello"), CX_OK);
	assert_int_equal(buf_append(&b, " world", 6), CX_OK);
	assert_int_equal(b.len, 11);
	assert_string_equal(b.data, "hello world");
	assert_int_equal(buf_printf(&b, " %d", 42), CX_OK);
	assert_string_equal(b.data, "hello world 42");
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 1024);
}

static void test_max_is_enforced_exactly(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "0123456789"), CX_OK);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_append(&b, "x", 1), CX_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(buf_printf(&b, "%s", "y"), CX_ETOOBIG);
	assert_string_equal(b.data, "0123456789");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_puts(&b, "01234567890"), CX_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "abc", SIZE_MAX), CX_ETOOBIG);
	buf_release(&b);
}

static void test_binary_data_and_growth(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	unsigned char bytes[256];
	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, bytes, sizeof(bytes)), CX_OK);
	assert_int_equal(b.len, 256000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 255 * 256, bytes, 256);
	buf_release(&b);
}

static void test_detach(void **state)
{
	(void)state;
	struct buf b;
	size_t len = 99;
	buf_init(&b, 100);
	char *empty = buf_detach(&b, &len);
	assert_non_null(empty);
	assert_string_equal(empty, "");
	assert_int_equal(len, 0);
	free(empty);
	buf_printf(&b, "%s-%s", "a", "b");
	char *s = buf_detach(&b, &len);
	assert_string_equal(s, "a-b");
	assert_int_equal(len, 3);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_and_nul_termination),
	    cmocka_unit_test(test_max_is_enforced_exactly),
	    cmocka_unit_test(test_binary_data_and_growth),
	    cmocka_unit_test(test_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
