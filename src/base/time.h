/* time.h: the one monotonic clock for deadlines, the wall clock, RFC 3339 and IANA zone names.
 * Times in Calendox are Unix seconds (UTC) plus, where it matters for display, an offset in
 * minutes. Parsing is strict: anything that is not RFC 3339 is rejected. Thread-safe. */
#ifndef CX_BASE_TIME_H
#define CX_BASE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Milliseconds from an arbitrary start, never going back (CLOCK_MONOTONIC). */
int64_t time_now_ms(void);
/* Unix time in seconds and milliseconds (CLOCK_REALTIME). */
int64_t time_wall_s(void);
int64_t time_wall_ms(void);

/* RFC 3339 date-time with a mandatory offset: "2026-11-24T09:30:00Z", "2026-11-24T09:30:00.5+01:00"
 * ("t"/"z" lower case allowed, fraction truncated, leap second 60 rejected). Out: Unix seconds and the
 * offset in minutes (may be NULL). CX_EINVAL on anything else, including impossible dates. */
enum cx_err time_parse_rfc3339(const char *s, int64_t *unix_s, int *offset_min);
/* A full-date "2026-11-24" → Unix seconds at 00:00 UTC. */
enum cx_err time_parse_date(const char *s, int64_t *unix_s);

/* Formats with the given offset; offset 0 prints "Z". Needs n >= 26. Returns the length or 0. */
size_t time_format_rfc3339(int64_t unix_s, int offset_min, char *out, size_t n);
/* "2026-11-24T08:00:00.123Z" for logs. Needs n >= 25. */
size_t time_format_rfc3339_ms(int64_t unix_ms, char *out, size_t n);
/* "2026-11-24". Needs n >= 11. */
size_t time_format_date(int64_t unix_s, char *out, size_t n);

/* Civil date helpers on the proleptic Gregorian calendar (no libc time zone state). */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* An IANA time zone name ("Europe/Berlin", "UTC") that the system zoneinfo knows. The name is checked
 * for shape first (no "..", no leading "/", only [A-Za-z0-9_+-/]) so it can never escape the zoneinfo
 * directory. CALENDOX_ZONEINFO may point elsewhere (tests); default /usr/share/zoneinfo. */
bool time_zone_valid(const char *name);

#endif
