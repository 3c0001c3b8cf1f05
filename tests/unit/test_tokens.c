/* Sealed provider tokens (core/tokens.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/crypto.h"
#include "core/tokens.h"

static uint8_t key[SEC_KEY_BYTES], other_key[SEC_KEY_BYTES];

static int setup(void **state)
{
	(void)state;
	if (sec_init() != CX_OK)
		return -1;
	sec_random_bytes(key, sizeof(key));
	sec_random_bytes(other_key, sizeof(other_key));
	return 0;
}

static void round_trip(void **state)
{
	(void)state;
	char *sealed = NULL, *at = NULL, *rt = NULL;
	assert_int_equal(tokens_seal(key, "app_connection", 7, "access-1", "refresh-1", &sealed),
			 CX_OK);
	assert_null(strstr(sealed, "access-1"));
	assert_null(strstr(sealed, "refresh-1"));
	assert_int_equal(tokens_open(key, "app_connection", 7, sealed, &at, &rt), CX_OK);
	assert_string_equal(at, "access-1");
	assert_string_equal(rt, "refresh-1");
	free(at);
	free(rt);
	/* Without a refresh token, and when the caller does not want it. */
	free(sealed);
	assert_int_equal(tokens_seal(key, "zoom.revoke", 3, "only-access", NULL, &sealed), CX_OK);
	assert_int_equal(tokens_open(key, "zoom.revoke", 3, sealed, &at, &rt), CX_OK);
	assert_string_equal(at, "only-access");
	assert_null(rt);
	free(at);
	assert_int_equal(tokens_open(key, "zoom.revoke", 3, sealed, &at, NULL), CX_OK);
	free(at);
	free(sealed);
}

static void bound_to_key_kind_and_row(void **state)
{
	(void)state;
	char *sealed = NULL, *at = NULL;
	assert_int_equal(tokens_seal(key, "app_connection", 7, "a", "r", &sealed), CX_OK);
	assert_int_equal(tokens_open(key, "app_connection", 8, sealed, &at, NULL), CX_ECRYPTO);
	assert_int_equal(tokens_open(key, "calendar_account", 7, sealed, &at, NULL), CX_ECRYPTO);
	assert_int_equal(tokens_open(other_key, "app_connection", 7, sealed, &at, NULL), CX_ECRYPTO);
	assert_null(at);
	sealed[strlen(sealed) / 2] ^= 1;
	assert_int_equal(tokens_open(key, "app_connection", 7, sealed, &at, NULL), CX_ECRYPTO);
	assert_int_equal(tokens_open(key, "app_connection", 7, "not sealed", &at, NULL),
			 CX_ECRYPTO);
	free(sealed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(bound_to_key_kind_and_row),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
