/* Tests for base/arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include "base/arena.h"
#include "base/banned.h"

static void test_alloc_is_zeroed_and_aligned(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	for (size_t size = 1; size < 200; size += 7) {
		unsigned char *p = arena_alloc(a, size);
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		for (size_t i = 0; i < size; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xab, size);
	}
	arena_free(a);
}

static void test_allocations_do_not_overlap(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	unsigned char *ptrs[500];
	for (int i = 0; i < 500; i++) {
		ptrs[i] = arena_alloc(a, 100);
		memset(ptrs[i], i & 0xff, 100);
	}
	for (int i = 0; i < 500; i++) {
		for (int k = 0; k < 100; k++)
			assert_int_equal(ptrs[i][k], i & 0xff);
	}
	assert_int_equal(arena_used(a), 500 * 100);
	arena_free(a);
}

static void test_large_allocation(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char *small = arena_strdup(a, "before");
	char *big = arena_alloc(a, 1 << 20);
	memset(big, 'z', 1 << 20);
	char *after = arena_strdup(a, "after");
	assert_string_equal(small, "before");
	assert_string_equal(after, "after");
	assert_int_equal(big[(1 << 20) - 1], 'z');
	assert_int_equal(arena_used(a), 7 + (1 << 20) + 6);
	arena_free(a);
}

static void test_strings(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	assert_string_equal(arena_strdup(a, "zoom"), "zoom");
	assert_string_equal(arena_strndup(a, "google", 3), "goo");
	assert_string_equal(arena_strndup(a, "ms", 10), "ms");
	assert_string_equal(arena_printf(a, "%s/%d", "events", 42), "events/42");
	char long_text[20000];
	memset(long_text, 'q', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	char *p = arena_printf(a, "<%s>", long_text);
	assert_int_equal(strlen(p), sizeof(long_text) + 1);
	arena_free(a);
}

static void test_reset_releases_and_reuses(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 1000; i++)
			arena_alloc(a, 64);
		arena_alloc(a, 100000);
		assert_true(arena_used(a) >= 1000 * 64 + 100000);
		arena_reset(a);
		assert_int_equal(arena_used(a), 0);
		char *p = arena_alloc(a, 16);
		for (int i = 0; i < 16; i++)
			assert_int_equal(p[i], 0);
		arena_reset(a);
	}
	arena_free(a);
	arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_is_zeroed_and_aligned),
	    cmocka_unit_test(test_allocations_do_not_overlap),
	    cmocka_unit_test(test_large_allocation),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_reset_releases_and_reuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
