/* Validation of what people type (core/validate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/validate.h"

static void good_emails_are_lower_cased(void **state)
{
	(void)state;
	char out[VALIDATE_EMAIL_MAX + 1];
	assert_true(validate_email("Ada.Lovelace+cal@Example.COM", out, sizeof(out)));
	assert_string_equal(out, "ada.lovelace+cal@example.com");
	assert_true(validate_email("a@b.co", out, sizeof(out)));
	assert_true(validate_email("o'brien@sub.example-host.org", out, sizeof(out)));
}

static void bad_emails(void **state)
{
	(void)state;
	char out[VALIDATE_EMAIL_MAX + 1];
	const char *bad[] = {"", "plain", "@example.com", "a@", "a@b", "a b@example.com",
			     "a@@example.com", "a@-example.com", "a@example-.com", "a@example..com",
			     "a@.example.com", "a@example.com.", "<a@example.com>", "a\"b@example.com",
			     "a@exa_mple.com", "a@ex ample.com", "\x01@example.com"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (validate_email(bad[i], out, sizeof(out)))
			fail_msg("accepted '%s'", bad[i]);
	}
	char long_local[80];
	memset(long_local, 'x', 65);
	memcpy(long_local + 65, "@example.com", 13);
	assert_false(validate_email(long_local, out, sizeof(out)));
	/* Output buffer too small is a refusal, never an overflow. */
	char tiny[4];
	assert_false(validate_email("a@b.co", tiny, sizeof(tiny)));
}

static void utf8(void **state)
{
	(void)state;
	size_t n;
	assert_true(validate_utf8_length("héllo wörld", &n));
	assert_int_equal(n, 11);
	assert_true(validate_utf8_length("日本語", &n));
	assert_int_equal(n, 3);
	assert_true(validate_utf8_length("\xf0\x9f\x98\x80", &n)); /* U+1F600 */
	assert_int_equal(n, 1);
	assert_false(validate_utf8_length("\xc0\xaf", &n));         /* overlong '/' */
	assert_false(validate_utf8_length("\xed\xa0\x80", &n));     /* surrogate */
	assert_false(validate_utf8_length("\xf4\x90\x80\x80", &n)); /* > U+10FFFF */
	assert_false(validate_utf8_length("abc\x80", &n));
	assert_false(validate_utf8_length("\xe6\x97", &n)); /* truncated */
}

static void passwords_and_names(void **state)
{
	(void)state;
	assert_false(validate_password("short"));
	assert_false(validate_password("123456789"));
	assert_true(validate_password("1234567890"));
	assert_true(validate_password("ääääääääää")); /* counted in characters, not bytes */
	assert_false(validate_password("ääääääää"));
	assert_true(validate_name("Ada"));
	assert_true(validate_name("Zoë O'Brien"));
	assert_false(validate_name(""));
	assert_false(validate_name("   "));
	assert_false(validate_name("tab\there"));
	char long_name[260];
	memset(long_name, 'n', 201);
	long_name[201] = '\0';
	assert_false(validate_name(long_name));
	long_name[200] = '\0';
	assert_true(validate_name(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_emails_are_lower_cased),
		cmocka_unit_test(bad_emails),
		cmocka_unit_test(utf8),
		cmocka_unit_test(passwords_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
