/* time.c: clocks, strict RFC 3339 and zone names. Civil dates use Howard Hinnant's algorithms
 * (http://howardhinnant.github.io/date_algorithms.html) so nothing depends on libc's time zone
 * state, which is process-global and not thread-safe to change. */
#include "base/time.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/banned.h"

#define TIME_ZONE_NAME_MAX 128
#define OFFSET_MAX_MIN (23 * 60 + 59)

/* Unix seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range RFC 3339 can print. */
#define UNIX_MIN_S (-62135596800LL)
#define UNIX_MAX_S (253402300799LL)

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t time_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;
	const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	const unsigned doe = (unsigned)(days - era * 146097); /* [0, 146096] */
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	const unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n decimal digits; false if any is missing. */
static bool digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DD" at s; validates ranges including leap years. */
static bool parse_full_date(const char *s, int64_t *days)
{
	unsigned y, m, d;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return false;
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*days = time_days_from_civil(y, m, d);
	return true;
}

enum cx_err time_parse_date(const char *s, int64_t *unix_s)
{
	int64_t days;
	if (!s || strnlen(s, 11) != 10 || !parse_full_date(s, &days))
		return CX_EINVAL;
	*unix_s = days * 86400;
	return CX_OK;
}

enum cx_err time_parse_rfc3339(const char *s, int64_t *unix_s, int *offset_min)
{
	int64_t days;
	unsigned hh, mm, ss;
	int offset = 0;

	if (!s || strnlen(s, 20) < 20 || !parse_full_date(s, &days))
		return CX_EINVAL;
	if (s[10] != 'T' && s[10] != 't')
		return CX_EINVAL;
	if (!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' ||
	    !digits(s + 17, 2, &ss))
		return CX_EINVAL;
	if (hh > 23 || mm > 59 || ss > 59)
		return CX_EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		int n = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			n++;
		}
		if (n < 1 || n > 9)
			return CX_EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		unsigned oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			return CX_EINVAL;
		if (oh > 23 || om > 59)
			return CX_EINVAL;
		offset = (int)(oh * 60 + om);
		if (*p == '-')
			offset = -offset;
		p += 6;
	} else {
		return CX_EINVAL;
	}
	if (*p != '\0')
		return CX_EINVAL;

	*unix_s = days * 86400 + (int64_t)hh * 3600 + mm * 60 + ss - (int64_t)offset * 60;
	if (offset_min)
		*offset_min = offset;
	return CX_OK;
}

/* Splits seconds into a civil date and time of day; false outside years 1..9999. */
static bool split(int64_t unix_s, int64_t *y, unsigned *mo, unsigned *d, unsigned *h, unsigned *mi,
                  unsigned *s)
{
	if (unix_s < UNIX_MIN_S || unix_s > UNIX_MAX_S)
		return false;
	int64_t days = unix_s / 86400;
	int64_t rem = unix_s % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	time_civil_from_days(days, y, mo, d);
	*h = (unsigned)(rem / 3600);
	*mi = (unsigned)(rem / 60 % 60);
	*s = (unsigned)(rem % 60);
	return true;
}

size_t time_format_rfc3339(int64_t unix_s, int offset_min, char *out, size_t n)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	if (n < 26 || offset_min < -OFFSET_MAX_MIN || offset_min > OFFSET_MAX_MIN)
		return 0;
	if (unix_s > UNIX_MAX_S + OFFSET_MAX_MIN * 60 || unix_s < UNIX_MIN_S - OFFSET_MAX_MIN * 60)
		return 0;
	if (!split(unix_s + (int64_t)offset_min * 60, &y, &mo, &d, &h, &mi, &s))
		return 0;
	int len = snprintf(out, n, "%04d-%02u-%02uT%02u:%02u:%02u", (int)y, mo, d, h, mi, s);
	if (offset_min == 0) {
		len += snprintf(out + len, n - (size_t)len, "Z");
	} else {
		int a = offset_min < 0 ? -offset_min : offset_min;
		len += snprintf(out + len, n - (size_t)len, "%c%02d:%02d",
		                offset_min < 0 ? '-' : '+', a / 60, a % 60);
	}
	return (size_t)len;
}

size_t time_format_rfc3339_ms(int64_t unix_ms, char *out, size_t n)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	if (n < 25)
		return 0;
	int64_t secs = unix_ms / 1000;
	int64_t ms = unix_ms % 1000;
	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	if (!split(secs, &y, &mo, &d, &h, &mi, &s))
		return 0;
	int len = snprintf(out, n, "%04d-%02u-%02uT%02u:%02u:%02u.%03dZ", (int)y, mo, d, h, mi, s,
	                   (int)ms);
	return (size_t)len;
}

size_t time_format_date(int64_t unix_s, char *out, size_t n)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	if (n < 11 || !split(unix_s, &y, &mo, &d, &h, &mi, &s))
		return 0;
	return (size_t)snprintf(out, n, "%04d-%02u-%02u", (int)y, mo, d);
}

/* Only names made of IANA's characters, in '/'-separated non-empty parts that do not start with
 * '-' or '.', so a name can never leave the zoneinfo directory or look like an option. */
static bool zone_name_shape_ok(const char *name)
{
	size_t len = strnlen(name, TIME_ZONE_NAME_MAX + 1);
	if (len == 0 || len > TIME_ZONE_NAME_MAX)
		return false;
	if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "..") || strstr(name, "//"))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '/';
		if (!ok)
			return false;
		if (c == '-' && (i == 0 || name[i - 1] == '/'))
			return false;
	}
	return true;
}

bool time_zone_valid(const char *name)
{
	if (!name || !zone_name_shape_ok(name))
		return false;
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		return true;
	const char *dir = getenv("CALENDOX_ZONEINFO");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	char path[4096];
	int len = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof(path))
		return false;
	bool ok = false;
	/* Symlinks are followed: zoneinfo links aliases ("US/Eastern") to their zones. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	char magic[4];
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 &&
	    memcmp(magic, "TZif", 4) == 0)
		ok = true;
	close(fd);
	return ok;
}
