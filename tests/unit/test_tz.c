/* Tests for base/tz: offsets read from the system zoneinfo around real DST transitions, the POSIX
 * footer rules on their own, hand-made TZif files (slim: footer only; v1; corrupt) and unknown or
 * badly shaped names. */
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
#include "base/tz.h"
#include "base/banned.h"

static int64_t at(const char *rfc3339)
{
	int64_t t = 0;
	assert_int_equal(time_parse_rfc3339(rfc3339, &t, NULL), CX_OK);
	return t;
}

static int offset(const char *zone, const char *rfc3339)
{
	int off = -999999;
	assert_int_equal(tz_offset_at(zone, at(rfc3339), &off), CX_OK);
	return off;
}

static void test_berlin_dst_transitions(void **state)
{
	(void)state;
	/* 2024: CET→CEST at 01:00Z on 31 March, back at 01:00Z on 27 October. */
	assert_int_equal(offset("Europe/Berlin", "2024-03-31T00:59:59Z"), 3600);
	assert_int_equal(offset("Europe/Berlin", "2024-03-31T01:00:00Z"), 7200);
	assert_int_equal(offset("Europe/Berlin", "2024-07-01T12:00:00Z"), 7200);
	assert_int_equal(offset("Europe/Berlin", "2024-10-27T00:59:59Z"), 7200);
	assert_int_equal(offset("Europe/Berlin", "2024-10-27T01:00:00Z"), 3600);
	assert_int_equal(offset("Europe/Berlin", "2024-12-24T18:00:00Z"), 3600);
	/* Far beyond any listed transition: the footer rule decides. */
	assert_int_equal(offset("Europe/Berlin", "2091-03-25T00:59:59Z"), 3600);
	assert_int_equal(offset("Europe/Berlin", "2091-03-25T01:00:00Z"), 7200);
	/* History: no DST in 1960, CET all year. */
	assert_int_equal(offset("Europe/Berlin", "1960-07-01T12:00:00Z"), 3600);

	char local[TZ_LOCAL_MAX];
	int off = 0;
	assert_int_equal(
	    tz_local_time("Europe/Berlin", at("2026-11-24T08:30:00Z"), local, sizeof(local), &off),
	    CX_OK);
	assert_string_equal(local, "2026-11-24T09:30:00");
	assert_int_equal(off, 3600);
	assert_int_equal(
	    tz_local_time("Europe/Berlin", at("2026-06-30T22:15:00Z"), local, sizeof(local), NULL),
	    CX_OK);
	assert_string_equal(local, "2026-07-01T00:15:00");
}

static void test_new_york(void **state)
{
	(void)state;
	/* 2024: EST→EDT at 07:00Z on 10 March, back at 06:00Z on 3 November. */
	assert_int_equal(offset("America/New_York", "2024-03-10T06:59:59Z"), -5 * 3600);
	assert_int_equal(offset("America/New_York", "2024-03-10T07:00:00Z"), -4 * 3600);
	assert_int_equal(offset("America/New_York", "2024-11-03T05:59:59Z"), -4 * 3600);
	assert_int_equal(offset("America/New_York", "2024-11-03T06:00:00Z"), -5 * 3600);
	char local[TZ_LOCAL_MAX];
	assert_int_equal(tz_local_time("America/New_York", at("2025-01-01T03:00:00Z"), local,
	                               sizeof(local), NULL),
	                 CX_OK);
	assert_string_equal(local, "2024-12-31T22:00:00");
}

static void test_kolkata_and_utc(void **state)
{
	(void)state;
	assert_int_equal(offset("Asia/Kolkata", "2024-01-15T00:00:00Z"), 5 * 3600 + 1800);
	assert_int_equal(offset("Asia/Kolkata", "2024-07-15T00:00:00Z"), 5 * 3600 + 1800);
	char local[TZ_LOCAL_MAX];
	assert_int_equal(
	    tz_local_time("Asia/Kolkata", at("2024-01-15T20:00:00Z"), local, sizeof(local), NULL),
	    CX_OK);
	assert_string_equal(local, "2024-01-16T01:30:00");
	assert_int_equal(offset("UTC", "2024-07-15T00:00:00Z"), 0);
	assert_int_equal(offset("Etc/UTC", "2024-07-15T00:00:00Z"), 0);
	assert_int_equal(tz_local_time("UTC", 0, local, sizeof(local), NULL), CX_OK);
	assert_string_equal(local, "1970-01-01T00:00:00");
	/* Southern hemisphere: Sydney is on daylight time in January. */
	assert_int_equal(offset("Australia/Sydney", "2024-01-15T00:00:00Z"), 11 * 3600);
	assert_int_equal(offset("Australia/Sydney", "2024-07-15T00:00:00Z"), 10 * 3600);
}

static void test_unknown_and_bad_names(void **state)
{
	(void)state;
	int off = 42;
	char local[TZ_LOCAL_MAX];
	assert_int_equal(tz_offset_at("Mars/Olympus_Mons", 0, &off), CX_ENOTFOUND);
	assert_int_equal(off, 42);
	assert_int_equal(tz_offset_at("../../etc/passwd", 0, &off), CX_ENOTFOUND);
	assert_int_equal(tz_offset_at("/etc/passwd", 0, &off), CX_ENOTFOUND);
	assert_int_equal(tz_offset_at("", 0, &off), CX_ENOTFOUND);
	assert_int_equal(tz_offset_at(NULL, 0, &off), CX_ENOTFOUND);
	assert_int_equal(tz_offset_at("Europe", 0, &off), CX_ENOTFOUND); /* a directory */
	assert_int_equal(tz_local_time("Nowhere/City", 0, local, sizeof(local), NULL),
	                 CX_ENOTFOUND);
	assert_int_equal(tz_local_time("UTC", 0, local, 5, NULL), CX_EINVAL);
}

static void test_posix_rules(void **state)
{
	(void)state;
	int off = 0;
	const char *cet = "CET-1CEST,M3.5.0,M10.5.0/3";
	assert_int_equal(tz_posix_offset(cet, at("2030-03-31T00:59:59Z"), &off), CX_OK);
	assert_int_equal(off, 3600);
	assert_int_equal(tz_posix_offset(cet, at("2030-03-31T01:00:00Z"), &off), CX_OK);
	assert_int_equal(off, 7200);
	assert_int_equal(tz_posix_offset(cet, at("2030-10-27T00:59:59Z"), &off), CX_OK);
	assert_int_equal(off, 7200);
	assert_int_equal(tz_posix_offset(cet, at("2030-10-27T01:00:00Z"), &off), CX_OK);
	assert_int_equal(off, 3600);
	assert_int_equal(tz_posix_offset("<+0530>-5:30", 0, &off), CX_OK);
	assert_int_equal(off, 19800);
	assert_int_equal(
	    tz_posix_offset("EST5EDT,M3.2.0,M11.1.0", at("2030-07-01T00:00:00Z"), &off), CX_OK);
	assert_int_equal(off, -4 * 3600);
	/* Julian forms: J60 is 1 March in every year; 59 (zero-based) is 29 Feb in leap years. */
	assert_int_equal(tz_posix_offset("AAA0BBB,J60/0,J300/0", at("2028-03-01T00:00:00Z"), &off),
	                 CX_OK);
	assert_int_equal(off, 3600);
	assert_int_equal(tz_posix_offset("AAA0BBB,J60/0,J300/0", at("2028-02-29T23:59:59Z"), &off),
	                 CX_OK);
	assert_int_equal(off, 0);
	assert_int_equal(tz_posix_offset("AAA0BBB,59/0,300/0", at("2028-02-29T00:00:00Z"), &off),
	                 CX_OK);
	assert_int_equal(off, 3600);
	/* Negative and beyond-24h times (TZif v3), as in America/Nuuk's "<-02>2<-01>,M3.5.0/-1,…".
	 */
	assert_int_equal(
	    tz_posix_offset("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", at("2030-03-31T00:59:59Z"), &off),
	    CX_OK);
	assert_int_equal(off, -7200);
	assert_int_equal(
	    tz_posix_offset("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", at("2030-03-31T01:00:00Z"), &off),
	    CX_OK);
	assert_int_equal(off, -3600);

	const char *bad[] = {"",
	                     "C",
	                     "CET",
	                     "CET-1CEST,M13.1.0,M10.5.0",
	                     "CET-1CEST,M3.6.0,M10.5.0",
	                     "CET-1CEST,M3.5.7,M10.5.0",
	                     "CET-1CEST,M3.5.0",
	                     "CET-1CEST,J0,J10",
	                     "CET-25",
	                     "<AB>1",
	                     "CET-1CEST,M3.5.0,M10.5.0x",
	                     "CET-1:60"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tz_posix_offset(bad[i], 0, &off), CX_EINVAL);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A TZif header: version, then isut, isstd, leap, time, type, char counts. */
static size_t header(uint8_t *p, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
	memset(p, 0, 44);
	memcpy(p, "TZif", 4);
	p[4] = (uint8_t)version;
	put32(p + 32, timecnt);
	put32(p + 36, typecnt);
	put32(p + 40, charcnt);
	return 44;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_handmade_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/calendox-tz-XXXXXX";
	char path[256];
	uint8_t f[512];
	size_t n = 0;
	int off = 0;
	assert_non_null(mkdtemp(dir));
	setenv("CALENDOX_ZONEINFO", dir, 1);

	/* "Slim": no transitions, one type, and the rule in the footer. */
	n = header(f, '2', 0, 1, 4);
	put32(f + n, 3600), f[n + 4] = 0, f[n + 5] = 0, memcpy(f + n + 6, "CET", 4);
	n += 10;
	n += header(f + n, '2', 0, 1, 4);
	put32(f + n, 3600), f[n + 4] = 0, f[n + 5] = 0, memcpy(f + n + 6, "CET", 4);
	n += 10;
	memcpy(f + n, "\nCET-1CEST,M3.5.0,M10.5.0/3\n", 28);
	n += 28;
	snprintf(path, sizeof(path), "%s/Slim", dir);
	write_file(path, f, n);
	assert_int_equal(tz_offset_at("Slim", at("2024-07-01T00:00:00Z"), &off), CX_OK);
	assert_int_equal(off, 7200);
	assert_int_equal(tz_offset_at("Slim", at("2024-01-01T00:00:00Z"), &off), CX_OK);
	assert_int_equal(off, 3600);

	/* v1 with one transition from +01:00 to +02:00 at t = 1000. */
	n = header(f, '\0', 1, 2, 4);
	put32(f + n, 1000);
	f[n + 4] = 1;
	n += 5;
	put32(f + n, 3600), f[n + 4] = 0, f[n + 5] = 0;
	put32(f + n + 6, 7200), f[n + 10] = 1, f[n + 11] = 0;
	n += 12;
	memcpy(f + n, "XYZ", 4);
	n += 4;
	snprintf(path, sizeof(path), "%s/Old", dir);
	write_file(path, f, n);
	assert_int_equal(tz_offset_at("Old", 999, &off), CX_OK);
	assert_int_equal(off, 3600);
	assert_int_equal(tz_offset_at("Old", 1000, &off), CX_OK);
	assert_int_equal(off, 7200);

	/* Corrupt: a type index beyond the types, a truncated file, a non-TZif file. */
	f[44 + 4] = 7;
	snprintf(path, sizeof(path), "%s/BadIndex", dir);
	write_file(path, f, n);
	assert_int_equal(tz_offset_at("BadIndex", 0, &off), CX_EINVAL);
	snprintf(path, sizeof(path), "%s/Short", dir);
	write_file(path, f, 50);
	assert_int_equal(tz_offset_at("Short", 0, &off), CX_EINVAL);
	snprintf(path, sizeof(path), "%s/Text", dir);
	write_file(path, (const uint8_t *)"not a zone file at all, just some text here......", 50);
	assert_int_equal(tz_offset_at("Text", 0, &off), CX_ENOTFOUND); /* time_zone_valid's rule */

	unsetenv("CALENDOX_ZONEINFO");
	const char *names[] = {"Slim", "Old", "BadIndex", "Short", "Text"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void test_zone_object_reuse(void **state)
{
	(void)state;
	struct tz_zone *z = NULL;
	assert_int_equal(tz_zone_load("Europe/Berlin", &z), CX_OK);
	assert_non_null(z);
	assert_int_equal(tz_zone_offset(z, at("2024-01-01T00:00:00Z")), 3600);
	assert_int_equal(tz_zone_offset(z, at("2024-08-01T00:00:00Z")), 7200);
	tz_zone_free(z);
	z = (struct tz_zone *)1;
	assert_int_equal(tz_zone_load("No/Such_Zone", &z), CX_ENOTFOUND);
	assert_null(z);
	tz_zone_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_berlin_dst_transitions),
	    cmocka_unit_test(test_new_york),
	    cmocka_unit_test(test_kolkata_and_utc),
	    cmocka_unit_test(test_unknown_and_bad_names),
	    cmocka_unit_test(test_posix_rules),
	    cmocka_unit_test(test_handmade_files),
	    cmocka_unit_test(test_zone_object_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
