/* tz.c: a small reader of TZif files (RFC 8536) and of the POSIX TZ strings in their footers.
 * libc's localtime_r depends on the process-global TZ variable, which threads cannot change safely,
 * so Calendox reads the zoneinfo itself: the 64-bit section of a v2+ file (or the 32-bit one of a
 * v1 file) gives the transitions, and the footer rule covers instants after the last one, which
 * matters for "slim" zoneinfo files that list transitions only up to the last rule change. */
#include "base/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/time.h"
#include "base/banned.h"

#define TZ_HEADER_LEN 44
#define TZ_MAX_TYPES 256
#define TZ_POSIX_MAX 128
#define TZ_OFFSET_LIMIT_S (26 * 3600) /* beyond any real zone's offset */

/* One end of a daylight-saving period in a POSIX rule. */
struct posix_date {
	char form;  /* 'J' (1..365, no Feb 29), 'D' (0..365 zero-based), 'M' (month.week.day) */
	int day;    /* J/D: the day; M: weekday 0 = Sunday */
	int week;   /* M: 1..5, 5 = last */
	int month;  /* M: 1..12 */
	int time_s; /* local time of the change, may be negative or beyond 24 h (v3) */
};

struct posix_rule {
	int std_off; /* UTC offset in seconds, east positive */
	bool has_dst;
	int dst_off;
	struct posix_date start, end;
};

struct tz_zone {
	size_t n_trans;
	int64_t *trans; /* ascending UTC instants */
	uint8_t *idx;   /* type index per transition */
	size_t n_types;
	int32_t *utoff; /* per type */
	bool has_rule;
	struct posix_rule rule;
};

/* ---- POSIX TZ strings ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A zone abbreviation: at least three letters, or <...> with letters, digits, '+' and '-'. */
static bool parse_name(const char **p)
{
	const char *s = *p;
	size_t n = 0;
	if (*s == '<') {
		s++;
		while (is_alpha(*s) || is_digit(*s) || *s == '+' || *s == '-') {
			s++;
			n++;
		}
		if (*s != '>' || n < 3)
			return false;
		s++;
	} else {
		while (is_alpha(*s)) {
			s++;
			n++;
		}
		if (n < 3)
			return false;
	}
	*p = s;
	return true;
}

/* Reads up to max_digits digits; false when there is none. */
static bool parse_num(const char **p, int max_digits, int *out)
{
	const char *s = *p;
	int v = 0, n = 0;
	while (is_digit(*s) && n < max_digits) {
		v = v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; the result in seconds with its sign. */
static bool parse_hms(const char **p, int max_h, int *out)
{
	const char *s = *p;
	int sign = 1, h = 0, m = 0, sec = 0;
	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
	}
	if (!parse_num(&s, 3, &h) || h > max_h)
		return false;
	if (*s == ':') {
		s++;
		if (!parse_num(&s, 2, &m) || m > 59)
			return false;
		if (*s == ':') {
			s++;
			if (!parse_num(&s, 2, &sec) || sec > 59)
				return false;
		}
	}
	*p = s;
	*out = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool parse_date(const char **p, struct posix_date *d)
{
	const char *s = *p;
	memset(d, 0, sizeof(*d));
	d->time_s = 2 * 3600;
	if (*s == 'J') {
		s++;
		d->form = 'J';
		if (!parse_num(&s, 3, &d->day) || d->day < 1 || d->day > 365)
			return false;
	} else if (*s == 'M') {
		s++;
		d->form = 'M';
		if (!parse_num(&s, 2, &d->month) || d->month < 1 || d->month > 12 || *s++ != '.')
			return false;
		if (!parse_num(&s, 1, &d->week) || d->week < 1 || d->week > 5 || *s++ != '.')
			return false;
		if (!parse_num(&s, 1, &d->day) || d->day > 6)
			return false;
	} else {
		d->form = 'D';
		if (!parse_num(&s, 3, &d->day) || d->day > 365)
			return false;
	}
	if (*s == '/') {
		s++;
		if (!parse_hms(&s, 167, &d->time_s))
			return false;
	}
	*p = s;
	return true;
}

static enum cx_err parse_posix(const char *rule, struct posix_rule *out)
{
	enum cx_err err = CX_EINVAL;
	const char *s = rule;
	int off;
	memset(out, 0, sizeof(*out));
	if (!rule || strnlen(rule, TZ_POSIX_MAX + 1) > TZ_POSIX_MAX)
		goto out;
	if (!parse_name(&s) || !parse_hms(&s, 24, &off))
		goto out;
	out->std_off = -off; /* POSIX counts west of Greenwich as positive */
	if (*s == '\0') {
		err = CX_OK;
		goto out;
	}
	if (!parse_name(&s))
		goto out;
	out->has_dst = true;
	out->dst_off = out->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (!parse_hms(&s, 24, &off))
			goto out;
		out->dst_off = -off;
	}
	if (*s == '\0') {
		/* No dates: POSIX leaves it to the implementation; tzcode uses the US rules. */
		s = ",M3.2.0,M11.1.0";
	}
	if (*s++ != ',' || !parse_date(&s, &out->start) || *s++ != ',' ||
	    !parse_date(&s, &out->end) || *s != '\0')
		goto out;
	err = CX_OK;
out:
	return err;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* The Unix second, in local time of the offset in force before the change, at which d happens in
 * year y (measured as if the local clock were UTC). */
static int64_t date_local_s(int64_t y, const struct posix_date *d)
{
	int64_t day;
	if (d->form == 'J') {
		day = time_days_from_civil(y, 1, 1) + d->day - 1;
		if (is_leap(y) && d->day >= 60)
			day++;
	} else if (d->form == 'D') {
		day = time_days_from_civil(y, 1, 1) + d->day;
	} else {
		int64_t first = time_days_from_civil(y, (unsigned)d->month, 1);
		int wday = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
		int dom = 1 + (d->day - wday + 7) % 7 + (d->week - 1) * 7;
		while (dom > month_days(y, d->month))
			dom -= 7;
		day = first + dom - 1;
	}
	return day * 86400 + d->time_s;
}

static int posix_offset(const struct posix_rule *r, int64_t t)
{
	if (!r->has_dst)
		return r->std_off;
	int64_t days = (t + r->std_off) >= 0 ? (t + r->std_off) / 86400
	                                     : -((-(t + r->std_off) + 86399) / 86400);
	int64_t y;
	unsigned mo, d;
	time_civil_from_days(days, &y, &mo, &d);
	/* The change into DST happens at a standard-time wall clock, the change back at a DST one.
	 */
	int64_t start = date_local_s(y, &r->start) - r->std_off;
	int64_t end = date_local_s(y, &r->end) - r->dst_off;
	bool dst;
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start); /* southern hemisphere: DST spans the new year */
	return dst ? r->dst_off : r->std_off;
}

enum cx_err tz_posix_offset(const char *rule, int64_t unix_s, int *offset_s)
{
	struct posix_rule r;
	enum cx_err err = parse_posix(rule, &r);
	if (err)
		goto out;
	*offset_s = posix_offset(&r, unix_s);
out:
	return err;
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static enum cx_err read_file(const char *path, uint8_t **out, size_t *out_len)
{
	enum cx_err err = CX_ENOTFOUND;
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	err = CX_EINVAL;
	if (st.st_size <= 0 || st.st_size > TZ_FILE_MAX)
		goto out;
	data = xmalloc((size_t)st.st_size);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = CX_EIO;
			goto out;
		}
		len += (size_t)n;
	}
	err = CX_OK;
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		free(data);
		data = NULL;
		len = 0;
	}
	*out = data;
	*out_len = len;
	return err;
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static bool read_header(const uint8_t *p, size_t len, struct tzif_counts *c, char *version)
{
	if (len < TZ_HEADER_LEN || memcmp(p, "TZif", 4) != 0)
		return false;
	*version = (char)p[4];
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	/* Bounds from RFC 8536 that also keep the size arithmetic below far from overflow. */
	return c->type >= 1 && c->type <= TZ_MAX_TYPES && c->time <= TZ_FILE_MAX &&
	       c->leap <= TZ_FILE_MAX && c->chars <= TZ_FILE_MAX &&
	       (c->isut == 0 || c->isut == c->type) && (c->isstd == 0 || c->isstd == c->type);
}

static size_t block_len(const struct tzif_counts *c, size_t time_size)
{
	return c->time * time_size + c->time + c->type * 6 + c->chars + c->leap * (time_size + 4) +
	       c->isstd + c->isut;
}

/* Parses the data block at p (time_size 4 or 8 bytes per instant) into z. */
static enum cx_err read_block(const uint8_t *p, const struct tzif_counts *c, size_t time_size,
                              struct tz_zone *z)
{
	enum cx_err err = CX_EINVAL;
	const uint8_t *idx = p + c->time * time_size;
	const uint8_t *types = idx + c->time;
	z->n_trans = c->time;
	z->n_types = c->type;
	z->trans = xcalloc(c->time + 1, sizeof(*z->trans));
	z->idx = xcalloc(c->time + 1, 1);
	z->utoff = xcalloc(c->type, sizeof(*z->utoff));
	for (size_t i = 0; i < c->time; i++) {
		const uint8_t *t = p + i * time_size;
		z->trans[i] = time_size == 8 ? be64(t) : (int64_t)(int32_t)be32(t);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			goto out;
		z->idx[i] = idx[i];
		if (idx[i] >= c->type)
			goto out;
	}
	for (size_t i = 0; i < c->type; i++) {
		int32_t off = (int32_t)be32(types + i * 6);
		if (off <= -TZ_OFFSET_LIMIT_S || off >= TZ_OFFSET_LIMIT_S)
			goto out;
		z->utoff[i] = off;
	}
	err = CX_OK;
out:
	return err;
}

static enum cx_err parse_tzif(const uint8_t *data, size_t len, struct tz_zone *z)
{
	enum cx_err err = CX_EINVAL;
	struct tzif_counts c;
	char version;
	if (!read_header(data, len, &c, &version))
		goto out;
	size_t v1_len = block_len(&c, 4);
	if (len - TZ_HEADER_LEN < v1_len)
		goto out;
	if (version == '\0') {
		err = read_block(data + TZ_HEADER_LEN, &c, 4, z);
		goto out;
	}
	const uint8_t *h2 = data + TZ_HEADER_LEN + v1_len;
	size_t rest = len - TZ_HEADER_LEN - v1_len;
	if (!read_header(h2, rest, &c, &version))
		goto out;
	size_t v2_len = block_len(&c, 8);
	if (rest - TZ_HEADER_LEN < v2_len)
		goto out;
	err = read_block(h2 + TZ_HEADER_LEN, &c, 8, z);
	if (err)
		goto out;
	/* Footer: "\n" rule "\n". A missing or unreadable rule just means "last transition holds".
	 */
	const char *foot = (const char *)h2 + TZ_HEADER_LEN + v2_len;
	size_t foot_len = rest - TZ_HEADER_LEN - v2_len;
	if (foot_len >= 2 && foot[0] == '\n') {
		const char *nl = memchr(foot + 1, '\n', foot_len - 1);
		if (nl && nl > foot + 1 && (size_t)(nl - foot - 1) <= TZ_POSIX_MAX) {
			char rule[TZ_POSIX_MAX + 1];
			memcpy(rule, foot + 1, (size_t)(nl - foot - 1));
			rule[nl - foot - 1] = '\0';
			z->has_rule = parse_posix(rule, &z->rule) == CX_OK;
		}
	}
out:
	return err;
}

static bool is_utc_name(const char *name)
{
	return strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0;
}

enum cx_err tz_zone_load(const char *name, struct tz_zone **out)
{
	enum cx_err err = CX_ENOTFOUND;
	struct tz_zone *z = xcalloc(1, sizeof(*z));
	uint8_t *data = NULL;
	size_t len = 0;
	char path[4096];
	*out = NULL;
	if (!name || !time_zone_valid(name))
		goto out;
	if (is_utc_name(name)) {
		z->n_types = 1;
		z->utoff = xcalloc(1, sizeof(*z->utoff));
		err = CX_OK;
		goto out;
	}
	const char *dir = getenv("CALENDOX_ZONEINFO");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		goto out;
	err = read_file(path, &data, &len);
	if (err)
		goto out;
	err = parse_tzif(data, len, z);
out:
	free(data);
	if (err) {
		tz_zone_free(z);
		z = NULL;
	}
	*out = z;
	return err;
}

void tz_zone_free(struct tz_zone *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->idx);
	free(z->utoff);
	free(z);
}

int tz_zone_offset(const struct tz_zone *z, int64_t unix_s)
{
	if (z->n_trans == 0 || unix_s < z->trans[0]) {
		if (z->n_trans == 0 && z->has_rule)
			return posix_offset(&z->rule, unix_s);
		return z->utoff[0]; /* RFC 8536: type 0 applies before the first transition */
	}
	if (unix_s >= z->trans[z->n_trans - 1] && z->has_rule)
		return posix_offset(&z->rule, unix_s);
	size_t lo = 0, hi = z->n_trans; /* find the last transition <= unix_s */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= unix_s)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->idx[lo]];
}

enum cx_err tz_offset_at(const char *name, int64_t unix_s, int *offset_s)
{
	struct tz_zone *z = NULL;
	enum cx_err err = tz_zone_load(name, &z);
	if (err)
		goto out;
	*offset_s = tz_zone_offset(z, unix_s);
out:
	tz_zone_free(z);
	return err;
}

enum cx_err tz_local_time(const char *name, int64_t unix_s, char *out, size_t n, int *offset_s)
{
	int off = 0;
	enum cx_err err = CX_EINVAL;
	if (n < TZ_LOCAL_MAX)
		goto out;
	err = tz_offset_at(name, unix_s, &off);
	if (err)
		goto out;
	int64_t local = unix_s + off;
	int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t sod = local - days * 86400;
	int64_t y;
	unsigned mo, d;
	time_civil_from_days(days, &y, &mo, &d);
	err = CX_EINVAL;
	if (y < 1 || y > 9999)
		goto out;
	snprintf(out, n, "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, mo, d, (int)(sod / 3600),
	         (int)(sod / 60 % 60), (int)(sod % 60));
	if (offset_s)
		*offset_s = off;
	err = CX_OK;
out:
	return err;
}
