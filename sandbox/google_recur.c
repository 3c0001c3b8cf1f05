/* google_recur.c: recurrence rules and their expansion (see google_recur.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "google_recur.h"
#include "microsoft_zone.h"
#include "base/banned.h"

static int weekday_mon0(int64_t days)
{
	/* 1970-01-01 was a Thursday (Monday = 0 → Thursday = 3). */
	return (int)((((days + 3) % 7) + 7) % 7);
}

bool google_recur_parse(const json_t *rec, struct google_recur *rr)
{
	memset(rr, 0, sizeof(*rr));
	rr->interval = 1;
	rr->until_s = INT64_MAX;
	size_t i;
	const json_t *line;
	bool have_rule = false;
	json_array_foreach(rec, i, line)
	{
		if (!json_is_string(line))
			return false;
		const char *s = json_string_value(line);
		if (strncmp(s, "RRULE:", 6) == 0) {
			if (have_rule)
				return false;
			have_rule = true;
			char buf[512];
			if (strlen(s + 6) >= sizeof(buf))
				return false;
			snprintf(buf, sizeof(buf), "%s", s + 6);
			char *save = NULL;
			for (char *p = strtok_r(buf, ";", &save); p;
			     p = strtok_r(NULL, ";", &save)) {
				char *eq = strchr(p, '=');
				if (!eq)
					return false;
				*eq = '\0';
				const char *v = eq + 1;
				if (strcmp(p, "FREQ") == 0) {
					rr->freq = strcmp(v, "DAILY") == 0     ? 1
					           : strcmp(v, "WEEKLY") == 0  ? 2
					           : strcmp(v, "MONTHLY") == 0 ? 3
					           : strcmp(v, "YEARLY") == 0  ? 4
					                                       : 0;
				} else if (strcmp(p, "INTERVAL") == 0 || strcmp(p, "COUNT") == 0) {
					char *end;
					long n = strtol(v, &end, 10);
					if (*end || n < 1 || n > 10000)
						return false;
					if (p[0] == 'I')
						rr->interval = (int)n;
					else
						rr->count = (int)n;
				} else if (strcmp(p, "UNTIL") == 0) {
					unsigned y, mo, d, h = 23, mi = 59, se = 59;
					if (strlen(v) >= 15 && sscanf(v, "%4u%2u%2uT%2u%2u%2u", &y,
					                              &mo, &d, &h, &mi, &se) == 6) {
					} else if (strlen(v) != 8 ||
					           sscanf(v, "%4u%2u%2u", &y, &mo, &d) != 3) {
						return false;
					}
					if (mo < 1 || mo > 12 || d < 1 || d > 31)
						return false;
					rr->until_s = time_days_from_civil(y, mo, d) * 86400 +
					              h * 3600 + mi * 60 + se;
				} else if (strcmp(p, "BYDAY") == 0) {
					static const char *const names[] = {"MO", "TU", "WE", "TH",
					                                    "FR", "SA", "SU"};
					for (const char *q = v; *q;) {
						int k = 0;
						for (; k < 7; k++)
							if (strncmp(q, names[k], 2) == 0)
								break;
						if (k == 7)
							return false;
						rr->byday |= 1u << k;
						q += 2;
						if (*q == ',')
							q++;
						else if (*q)
							return false;
					}
				} else if (strcmp(p, "WKST") != 0) {
					return false;
				}
			}
			if (!rr->freq)
				return false;
		} else if (strncmp(s, "EXDATE", 6) == 0) {
			const char *v = strchr(s, ':');
			if (!v)
				return false;
			v++;
			while (*v && rr->n_exdates < 16) {
				size_t len = strcspn(v, ",");
				if (len >= 8 && len <= 16) {
					snprintf(rr->exdates[rr->n_exdates], 17, "%.*s", (int)len,
					         v);
					if (rr->exdates[rr->n_exdates][len - 1] == 'Z')
						rr->exdates[rr->n_exdates][len - 1] = '\0';
					rr->n_exdates++;
				}
				v += len;
				if (*v == ',')
					v++;
			}
		} else {
			return false;
		}
	}
	return have_rule;
}

/* Whether an EXDATE names the instance at this wall time. */
static bool excluded(const struct google_recur *rr, int64_t local_s, bool all_day)
{
	char key[20];
	int64_t y;
	unsigned m, d;
	int64_t days = local_s / 86400, rem = local_s % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	time_civil_from_days(days, &y, &m, &d);
	if (all_day)
		snprintf(key, sizeof(key), "%04d%02u%02u", (int)y, m, d);
	else
		snprintf(key, sizeof(key), "%04d%02u%02uT%02d%02d%02d", (int)y, m, d,
		         (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	for (int i = 0; i < rr->n_exdates; i++)
		if (strcmp(rr->exdates[i], key) == 0 ||
		    (all_day && strncmp(rr->exdates[i], key, 8) == 0))
			return true;
	return false;
}

size_t google_recur_expand(const struct google_recur *rr, int64_t start_s, int offset_min,
                           const char *zone_name, bool all_day, int64_t limit_s, int64_t *out,
                           size_t max)
{
	/* A timed series expands in its start's timeZone, so it keeps its wall time across DST. */
	struct microsoft_zone *zone = all_day || !zone_name ? NULL : microsoft_zone_open(zone_name);
	int64_t off = zone ? microsoft_zone_offset_in(zone, start_s) : (int64_t)offset_min * 60;
	int64_t local0 = start_s + off;
	int64_t day0 = local0 >= 0 ? local0 / 86400 : (local0 - 86399) / 86400;
	int64_t tod = local0 - day0 * 86400;
	int64_t y0;
	unsigned m0, d0;
	time_civil_from_days(day0, &y0, &m0, &d0);
	size_t n = 0;
	int produced = 0;
	for (int64_t k = 0; n < max && k < 100000; k++) {
		int64_t cand[7];
		int nc = 0;
		if (rr->freq == 1) {
			cand[nc++] = day0 + k * rr->interval;
		} else if (rr->freq == 2) {
			int64_t week_start = day0 - weekday_mon0(day0) + 7 * k * rr->interval;
			unsigned mask = rr->byday ? rr->byday : 1u << weekday_mon0(day0);
			for (int wd = 0; wd < 7; wd++)
				if (mask & (1u << wd) && week_start + wd >= day0)
					cand[nc++] = week_start + wd;
		} else if (rr->freq == 3) {
			int64_t mi = (int64_t)(m0 - 1) + k * rr->interval;
			int64_t y = y0 + mi / 12;
			unsigned m = (unsigned)(mi % 12) + 1;
			int64_t dd = time_days_from_civil(y, m, d0);
			int64_t yy;
			unsigned mm, ddd;
			time_civil_from_days(dd, &yy, &mm, &ddd);
			if (mm == m)
				cand[nc++] = dd;
		} else {
			int64_t y = y0 + k * rr->interval;
			int64_t dd = time_days_from_civil(y, m0, d0);
			int64_t yy;
			unsigned mm, ddd;
			time_civil_from_days(dd, &yy, &mm, &ddd);
			if (mm == m0)
				cand[nc++] = dd;
		}
		for (int i = 0; i < nc && n < max; i++) {
			int64_t local = cand[i] * 86400 + tod;
			int64_t utc = zone ? microsoft_zone_local_to_utc(zone, local) : local - off;
			/* An all-day UNTIL covers its whole day; INT64_MAX (no UNTIL) must not overflow. */
			int64_t until = rr->until_s;
			if (all_day && until <= INT64_MAX - 86399)
				until += 86399;
			if (utc > until ||
			    (rr->count && produced >= rr->count) || utc >= limit_s)
				goto out;
			produced++;
			if (!excluded(rr, local, all_day))
				out[n++] = utc;
		}
	}
out:
	microsoft_zone_close(zone);
	return n;
}
