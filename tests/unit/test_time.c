/* Tests for base/time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/time.h"
#include "base/banned.h"

static void test_days_from_civil_known_dates(void **state)
{
	(void)state;
	assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(time_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(time_days_from_civil(2026, 11, 24), 20781);
	assert_int_equal(time_days_from_civil(1, 1, 1), -719162);
	assert_int_equal(time_days_from_civil(9999, 12, 31), 2932896);
}

static void test_civil_round_trip(void **state)
{
	(void)state;
	for (int64_t days = -800000; days <= 3000000; days += 997) {
		int64_t y;
		unsigned m, d;
		time_civil_from_days(days, &y, &m, &d);
		assert_true(m >= 1 && m <= 12);
		assert_true(d >= 1 && d <= 31);
		assert_int_equal(time_days_from_civil(y, m, d), days);
	}
	int64_t y;
	unsigned m, d;
	time_civil_from_days(20781, &y, &m, &d);
	assert_int_equal(y, 2026);
	assert_int_equal(m, 11);
	assert_int_equal(d, 24);
}

static void test_parse_valid(void **state)
{
	(void)state;
	int64_t t;
	int off = 99;
	assert_int_equal(time_parse_rfc3339("1970-01-01T00:00:00Z", &t, &off), CX_OK);
	assert_int_equal(t, 0);
	assert_int_equal(off, 0);
	assert_int_equal(time_parse_rfc3339("2026-11-24T09:30:00Z", &t, NULL), CX_OK);
	assert_int_equal(t, 1795512600);
	assert_int_equal(time_parse_rfc3339("2026-11-24T10:30:00.5+01:00", &t, &off), CX_OK);
	assert_int_equal(t, 1795512600);
	assert_int_equal(off, 60);
	assert_int_equal(time_parse_rfc3339("2026-11-24t04:00:00.123456789-05:30", &t, &off),
	                 CX_OK);
	assert_int_equal(t, 1795512600);
	assert_int_equal(off, -330);
	assert_int_equal(time_parse_rfc3339("2026-11-24T09:30:00z", &t, &off), CX_OK);
	assert_int_equal(t, 1795512600);
	assert_int_equal(time_parse_rfc3339("2024-02-29T23:59:59+23:59", &t, &off), CX_OK);
	assert_int_equal(off, 23 * 60 + 59);
	assert_int_equal(time_parse_rfc3339("2000-02-29T00:00:00Z", &t, NULL), CX_OK);
	assert_int_equal(time_parse_rfc3339("0001-01-01T00:00:00Z", &t, NULL), CX_OK);
	assert_int_equal(t, -62135596800LL);
	assert_int_equal(time_parse_rfc3339("9999-12-31T23:59:59Z", &t, NULL), CX_OK);
	assert_int_equal(t, 253402300799LL);
	assert_int_equal(time_parse_rfc3339("1969-12-31T23:59:59Z", &t, NULL), CX_OK);
	assert_int_equal(t, -1);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "2026-11-24",
	    "2026-11-24T09:30:00",  /* no offset */
	    "2026-11-24 09:30:00Z", /* space separator */
	    "2026-11-24T09:30Z",    /* no seconds */
	    "2026-11-24T09:30:60Z", /* leap second */
	    "2026-11-24T24:00:00Z",
	    "2026-11-24T23:60:00Z",
	    "2026-13-01T00:00:00Z",
	    "2026-00-01T00:00:00Z",
	    "2026-11-00T00:00:00Z",
	    "2026-11-31T00:00:00Z",
	    "2026-02-29T00:00:00Z", /* not a leap year */
	    "1900-02-29T00:00:00Z", /* century, not leap */
	    "0000-01-01T00:00:00Z",
	    "10000-01-01T00:00:00Z",
	    "2026-11-24T09:30:00.Z",           /* empty fraction */
	    "2026-11-24T09:30:00.1234567890Z", /* ten fraction digits */
	    "2026-11-24T09:30:00+24:00",
	    "2026-11-24T09:30:00+01:60",
	    "2026-11-24T09:30:00+0100",
	    "2026-11-24T09:30:00+1:00",
	    "2026-11-24T09:30:00Z ",
	    "2026-11-24T09:30:00ZZ",
	    " 2026-11-24T09:30:00Z",
	    "2026-1-24T09:30:00Z",
	    "+026-11-24T09:30:00Z",
	    "2026-11-24T09:30:00UTC",
	    "2026-11-24T9:30:00Z",
	    "2026/11/24T09:30:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 12345;
		if (time_parse_rfc3339(bad[i], &t, NULL) != CX_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(t, 12345);
	}
	int64_t t;
	assert_int_equal(time_parse_rfc3339(NULL, &t, NULL), CX_EINVAL);
}

static void test_parse_date(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(time_parse_date("2026-11-24", &t), CX_OK);
	assert_int_equal(t, 20781LL * 86400);
	assert_int_equal(time_parse_date("2024-02-29", &t), CX_OK);
	assert_int_equal(time_parse_date("2023-02-29", &t), CX_EINVAL);
	assert_int_equal(time_parse_date("2026-11-24T00:00:00Z", &t), CX_EINVAL);
	assert_int_equal(time_parse_date("2026-11-2", &t), CX_EINVAL);
	assert_int_equal(time_parse_date("2026-11-244", &t), CX_EINVAL);
	assert_int_equal(time_parse_date("", &t), CX_EINVAL);
}

static void test_format(void **state)
{
	(void)state;
	char out[40];
	assert_int_equal(time_format_rfc3339(1795512600, 0, out, sizeof(out)), 20);
	assert_string_equal(out, "2026-11-24T09:30:00Z");
	assert_int_equal(time_format_rfc3339(1795512600, 60, out, sizeof(out)), 25);
	assert_string_equal(out, "2026-11-24T10:30:00+01:00");
	assert_int_equal(time_format_rfc3339(1795512600, -330, out, sizeof(out)), 25);
	assert_string_equal(out, "2026-11-24T04:00:00-05:30");
	assert_int_equal(time_format_rfc3339(-1, 0, out, sizeof(out)), 20);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	assert_int_equal(time_format_rfc3339(0, 0, out, 25), 0);
	assert_int_equal(time_format_rfc3339(0, 0, out, 26), 20);
	assert_int_equal(time_format_rfc3339(253402300800LL, 0, out, sizeof(out)), 0);
	assert_int_equal(time_format_rfc3339(0, 24 * 60, out, sizeof(out)), 0);

	assert_int_equal(time_format_rfc3339_ms(1795512600123LL, out, sizeof(out)), 24);
	assert_string_equal(out, "2026-11-24T09:30:00.123Z");
	assert_int_equal(time_format_rfc3339_ms(-1, out, sizeof(out)), 24);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	assert_int_equal(time_format_rfc3339_ms(0, out, 24), 0);

	assert_int_equal(time_format_date(1795512600, out, sizeof(out)), 10);
	assert_string_equal(out, "2026-11-24");
	assert_int_equal(time_format_date(1795512600, out, 10), 0);
}

static void test_format_parse_round_trip(void **state)
{
	(void)state;
	char out[40];
	for (int64_t t = -62135596800LL + 86400; t < 253402300799LL - 86400; t += 7777777) {
		for (int off = -1439; off <= 1439; off += 479) {
			int64_t back;
			int back_off;
			assert_true(time_format_rfc3339(t, off, out, sizeof(out)) > 0);
			assert_int_equal(time_parse_rfc3339(out, &back, &back_off), CX_OK);
			assert_int_equal(back, t);
			assert_int_equal(back_off, off);
		}
	}
}

static void test_clocks(void **state)
{
	(void)state;
	int64_t a = time_now_ms();
	usleep(20000);
	int64_t b = time_now_ms();
	assert_true(b - a >= 15);
	int64_t wall = time_wall_s();
	assert_true(wall > 1700000000);
	assert_true(time_wall_ms() / 1000 - wall <= 1);
}

static void test_zone_names(void **state)
{
	(void)state;
	char dir[] = "/tmp/cx_zoneinfo_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/Europe", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/Europe/Berlin", dir);
	FILE *f = fopen(path, "w");
	fputs("TZif2 rest of the file", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/Fake", dir);
	f = fopen(path, "w");
	fputs("not a zone", f);
	fclose(f);
	setenv("CALENDOX_ZONEINFO", dir, 1);

	assert_true(time_zone_valid("Europe/Berlin"));
	assert_true(time_zone_valid("UTC"));
	assert_true(time_zone_valid("Etc/UTC"));
	assert_false(time_zone_valid("Europe/Paris")); /* missing here */
	assert_false(time_zone_valid("Fake"));         /* not TZif */
	assert_false(time_zone_valid("Europe"));       /* a directory */
	assert_false(time_zone_valid("../Europe/Berlin"));
	assert_false(time_zone_valid("Europe/../Europe/Berlin"));
	assert_false(time_zone_valid("/etc/passwd"));
	assert_false(time_zone_valid("Europe/Berlin/"));
	assert_false(time_zone_valid("Europe//Berlin"));
	assert_false(time_zone_valid("Europe/Ber lin"));
	assert_false(time_zone_valid("Europe/Berlin\n"));
	assert_false(time_zone_valid(""));
	assert_false(time_zone_valid(NULL));

	unsetenv("CALENDOX_ZONEINFO");
	snprintf(path, sizeof(path), "%s/Europe/Berlin", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Fake", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Europe", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_days_from_civil_known_dates),
	    cmocka_unit_test(test_civil_round_trip),
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_parse_date),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_parse_round_trip),
	    cmocka_unit_test(test_clocks),
	    cmocka_unit_test(test_zone_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
