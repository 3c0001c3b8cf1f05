/* google_recur.h: recurrence rules for the calendar emulators: Google's RRULE/EXDATE lines and, by
 * conversion, Graph's patternedRecurrence, expanded into instance start times. A timed series
 * expands in its time zone (so it keeps its wall time across DST), an all-day one on dates. Pure
 * functions apart from reading zone files; thread-safe. */
#ifndef CX_SANDBOX_GOOGLE_RECUR_H
#define CX_SANDBOX_GOOGLE_RECUR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOOGLE_RECUR_EXDATES 16

struct google_recur {
	int freq; /* 1 daily, 2 weekly, 3 monthly, 4 yearly */
	int interval;
	int count;       /* 0 = unbounded */
	int64_t until_s; /* INT64_MAX = unbounded */
	unsigned byday;  /* bit 0 = Monday … bit 6 = Sunday; 0 = the start's weekday */
	char exdates[GOOGLE_RECUR_EXDATES][17]; /* "YYYYMMDD[THHMMSS]" local */
	int n_exdates;
};

/* Parses the recurrence[] lines Calendox and common clients write: one RRULE with FREQ, INTERVAL,
 * COUNT, UNTIL, BYDAY (plain weekdays, optionally WKST) plus EXDATE values. False on anything
 * else. */
bool google_recur_parse(const json_t *lines, struct google_recur *rr);

/* Instance start times (UTC) in order, at most max, stopping at the first start at or after
 * limit_s. start_s is the first instance; zone (an IANA or Windows name) or, when NULL or unknown,
 * the fixed offset_min gives the wall time the rule steps in. */
size_t google_recur_expand(const struct google_recur *rr, int64_t start_s, int offset_min,
                           const char *zone, bool all_day, int64_t limit_s, int64_t *out,
                           size_t max);

#endif
