/* microsoft_zone.c: zone offsets from TZif files and their POSIX TZ footer (see microsoft_zone.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/time.h"
#include "microsoft_zone.h"
#include "base/banned.h"

#define ZONE_FILE_MAX (256 * 1024)
#define ZONE_TRANSITIONS_MAX 4096
#define ZONE_TYPES_MAX 256

/* Windows zone names Graph accepts, mapped to IANA (CLDR windowsZones, territory 001). */
static const struct {
	const char *windows;
	const char *iana;
} windows_zones[] = {
    {"UTC", "UTC"},
    {"Coordinated Universal Time", "UTC"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"GMT Standard Time", "Europe/London"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Romance Standard Time", "Europe/Paris"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"FLE Standard Time", "Europe/Kiev"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"Israel Standard Time", "Asia/Jerusalem"},
    {"Arabian Standard Time", "Asia/Dubai"},
    {"India Standard Time", "Asia/Kolkata"},
    {"China Standard Time", "Asia/Shanghai"},
    {"Singapore Standard Time", "Asia/Singapore"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"Korea Standard Time", "Asia/Seoul"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
    {"New Zealand Standard Time", "Pacific/Auckland"},
    {"Eastern Standard Time", "America/New_York"},
    {"Central Standard Time", "America/Chicago"},
    {"Mountain Standard Time", "America/Denver"},
    {"US Mountain Standard Time", "America/Phoenix"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"Alaskan Standard Time", "America/Anchorage"},
    {"Hawaiian Standard Time", "Pacific/Honolulu"},
    {"Atlantic Standard Time", "America/Halifax"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"SA Pacific Standard Time", "America/Bogota"},
    {"South Africa Standard Time", "Africa/Johannesburg"},
};

const char *microsoft_zone_iana(const char *zone)
{
	if (!zone || !*zone)
		return NULL;
	for (size_t i = 0; i < sizeof(windows_zones) / sizeof(windows_zones[0]); i++)
		if (strcmp(windows_zones[i].windows, zone) == 0)
			return windows_zones[i].iana;
	return time_zone_valid(zone) ? zone : NULL;
}

/* A POSIX TZ rule date: Mm.w.d/time (the only form tzdata footers use for DST). */
struct rule {
	int month, week, wday;
	int time_s;
};

struct zone {
	int64_t trans[ZONE_TRANSITIONS_MAX];
	int32_t offset_at[ZONE_TRANSITIONS_MAX]; /* the offset from trans[i] on */
	size_t n;
	int32_t first_offset; /* before the first transition */
	bool has_footer, footer_dst;
	int std_off, dst_off; /* seconds east of UTC */
	struct rule start, end;
};

static int64_t be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	if (bytes == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* "-1", "+5:30", "3" → seconds (sign as written). */
static const char *parse_hms(const char *p, int *out)
{
	int sign = 1;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (*p < '0' || *p > '9')
		return NULL;
	int h = (int)strtol(p, (char **)&p, 10), m = 0, s = 0;
	if (*p == ':') {
		m = (int)strtol(p + 1, (char **)&p, 10);
		if (*p == ':')
			s = (int)strtol(p + 1, (char **)&p, 10);
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_name(const char *p)
{
	if (*p == '<') {
		const char *e = strchr(p, '>');
		return e ? e + 1 : NULL;
	}
	const char *s = p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

static const char *parse_rule(const char *p, struct rule *r)
{
	if (*p != 'M')
		return NULL;
	r->month = (int)strtol(p + 1, (char **)&p, 10);
	if (*p != '.')
		return NULL;
	r->week = (int)strtol(p + 1, (char **)&p, 10);
	if (*p != '.')
		return NULL;
	r->wday = (int)strtol(p + 1, (char **)&p, 10);
	r->time_s = 7200;
	if (*p == '/' && !(p = parse_hms(p + 1, &r->time_s)))
		return NULL;
	if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->wday < 0 ||
	    r->wday > 6)
		return NULL;
	return p;
}

/* Parses footers such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0530>-5:30". */
static void parse_footer(const char *s, struct zone *z)
{
	int off;
	const char *p = parse_name(s);
	if (!p || !(p = parse_hms(p, &off)))
		return;
	z->std_off = -off;
	z->has_footer = true;
	if (!*p)
		return;
	if (!(p = parse_name(p)))
		goto no_dst;
	z->dst_off = z->std_off + 3600;
	if (*p != ',') {
		if (!(p = parse_hms(p, &off)))
			goto no_dst;
		z->dst_off = -off;
	}
	if (*p != ',' || !(p = parse_rule(p + 1, &z->start)) || *p != ',' ||
	    !(p = parse_rule(p + 1, &z->end)))
		goto no_dst;
	z->footer_dst = true;
	return;
no_dst:
	z->has_footer = false;
}

/* Reads a TZif file (v1, or v2+ with 64-bit times and the footer). */
static bool load(const char *iana, struct zone *z)
{
	const char *dir = getenv("CALENDOX_ZONEINFO");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", iana);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	unsigned char *buf = xmalloc(ZONE_FILE_MAX);
	size_t len = fread(buf, 1, ZONE_FILE_MAX, f);
	fclose(f);
	bool ok = false;
	memset(z, 0, sizeof(*z));
	const unsigned char *p = buf;
	size_t left = len;
	int tbytes = 4;
	for (int pass = 0; pass < 2; pass++) {
		if (left < 44 || memcmp(p, "TZif", 4) != 0)
			goto out;
		char version = (char)p[4];
		size_t isut = (size_t)be(p + 20, 4), isstd = (size_t)be(p + 24, 4),
		       leap = (size_t)be(p + 28, 4), timecnt = (size_t)be(p + 32, 4),
		       typecnt = (size_t)be(p + 36, 4), charcnt = (size_t)be(p + 40, 4);
		if (timecnt > ZONE_TRANSITIONS_MAX || typecnt == 0 || typecnt > ZONE_TYPES_MAX)
			goto out;
		size_t block = timecnt * (size_t)tbytes + timecnt + typecnt * 6 + charcnt +
		               leap * (size_t)(tbytes + 4) + isstd + isut;
		if (left < 44 + block)
			goto out;
		if (pass == 0 && version >= '2') {
			p += 44 + block;
			left -= 44 + block;
			tbytes = 8;
			continue;
		}
		const unsigned char *times = p + 44;
		const unsigned char *idx = times + timecnt * (size_t)tbytes;
		const unsigned char *types = idx + timecnt;
		z->n = timecnt;
		for (size_t i = 0; i < timecnt; i++) {
			if (idx[i] >= typecnt)
				goto out;
			z->trans[i] = be(times + i * (size_t)tbytes, tbytes);
			z->offset_at[i] = (int32_t)be(types + idx[i] * 6, 4);
		}
		/* Before the first transition: the first standard-time type. */
		z->first_offset = (int32_t)be(types, 4);
		for (size_t i = 0; i < typecnt; i++)
			if (types[i * 6 + 4] == 0) {
				z->first_offset = (int32_t)be(types + i * 6, 4);
				break;
			}
		if (tbytes == 8) {
			const unsigned char *foot = p + 44 + block;
			size_t fl = left - 44 - block;
			if (fl > 2 && foot[0] == '\n') {
				char tz[128];
				size_t n = 0;
				while (n + 1 < fl && n < sizeof(tz) - 1 && foot[1 + n] != '\n') {
					tz[n] = (char)foot[1 + n];
					n++;
				}
				tz[n] = '\0';
				parse_footer(tz, z);
			}
		}
		ok = true;
		break;
	}
out:
	free(buf);
	return ok;
}

/* The UTC instant of a rule's transition in year y, given the offset in force before it. */
static int64_t rule_instant(const struct rule *r, int64_t y, int before_off)
{
	int64_t first = time_days_from_civil(y, (unsigned)r->month, 1);
	int wd_first = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday (4) */
	int64_t day = first + (r->wday - wd_first + 7) % 7 + (int64_t)(r->week - 1) * 7;
	int64_t next_month = r->month == 12 ? time_days_from_civil(y + 1, 1, 1)
	                                    : time_days_from_civil(y, (unsigned)r->month + 1, 1);
	while (day >= next_month)
		day -= 7;
	return day * 86400 + r->time_s - before_off;
}

static int footer_offset(const struct zone *z, int64_t t)
{
	if (!z->footer_dst)
		return z->std_off;
	int64_t y;
	unsigned m, d;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	time_civil_from_days(days, &y, &m, &d);
	int64_t start = rule_instant(&z->start, y, z->std_off);
	int64_t end = rule_instant(&z->end, y, z->dst_off);
	bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
	return dst ? z->dst_off : z->std_off;
}

static int offset_in(const struct zone *z, int64_t t)
{
	if (z->n == 0)
		return z->has_footer ? footer_offset(z, t) : z->first_offset;
	if (t < z->trans[0])
		return z->first_offset;
	if (t >= z->trans[z->n - 1] && z->has_footer)
		return footer_offset(z, t);
	size_t lo = 0, hi = z->n;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->offset_at[lo];
}

struct microsoft_zone *microsoft_zone_open(const char *zone)
{
	const char *iana = microsoft_zone_iana(zone);
	if (!iana)
		return NULL;
	struct zone *z = xcalloc(1, sizeof(*z));
	if (strcmp(iana, "UTC") == 0 || strcmp(iana, "Etc/UTC") == 0)
		return (struct microsoft_zone *)z; /* no transitions, offset 0 */
	if (!load(iana, z)) {
		free(z);
		return NULL;
	}
	return (struct microsoft_zone *)z;
}

void microsoft_zone_close(struct microsoft_zone *mz)
{
	free(mz);
}

int microsoft_zone_offset_in(const struct microsoft_zone *mz, int64_t utc_s)
{
	return offset_in((const struct zone *)mz, utc_s);
}

int64_t microsoft_zone_local_to_utc(const struct microsoft_zone *mz, int64_t local_s)
{
	const struct zone *z = (const struct zone *)mz;
	/* Try the offsets in force a day either side; the earliest that maps back wins. */
	int a = offset_in(z, local_s - 86400), b = offset_in(z, local_s + 86400);
	int64_t ua = local_s - a, ub = local_s - b;
	if (offset_in(z, ua) == a && (offset_in(z, ub) != b || ua <= ub))
		return ua;
	if (offset_in(z, ub) == b)
		return ub;
	return local_s - (a < b ? a : b); /* a gap: moved forward by its length */
}

bool microsoft_zone_offset(const char *zone, int64_t utc_s, int *offset_s)
{
	struct microsoft_zone *z = microsoft_zone_open(zone);
	if (!z)
		return false;
	*offset_s = microsoft_zone_offset_in(z, utc_s);
	microsoft_zone_close(z);
	return true;
}

bool microsoft_zone_to_utc(const char *zone, int64_t local_s, int64_t *utc_s)
{
	struct microsoft_zone *z = microsoft_zone_open(zone);
	if (!z)
		return false;
	*utc_s = microsoft_zone_local_to_utc(z, local_s);
	microsoft_zone_close(z);
	return true;
}
