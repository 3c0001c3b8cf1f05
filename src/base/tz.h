/* tz.h: UTC offsets of IANA time zones, read from the system zoneinfo (TZif v1/v2/v3 files and
 * their POSIX TZ footer for instants after the last listed transition), so Calendox can turn a UTC
 * instant into the organizer's wall-clock time without touching libc's process-global TZ state.
 *
 * Zone names follow time_zone_valid() (base/time.h): the same shape check and the same directory
 * (CALENDOX_ZONEINFO, default /usr/share/zoneinfo). "UTC" and "Etc/UTC" need no file.
 * Every function reads the file anew and keeps no state: thread-safe. A struct tz_zone is owned by
 * its caller and may be shared read-only between threads once loaded. */
#ifndef CX_BASE_TZ_H
#define CX_BASE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define TZ_FILE_MAX (256 * 1024) /* larger zoneinfo files are refused as corrupt */
#define TZ_LOCAL_MAX 20          /* "yyyy-MM-ddTHH:mm:ss" + NUL */

struct tz_zone;

/* Loads a zone. CX_ENOTFOUND when time_zone_valid() refuses the name (badly shaped, no such file,
 * not a TZif file), CX_EINVAL when the TZif file is truncated or corrupt. Caller frees with
 * tz_zone_free(). */
enum cx_err tz_zone_load(const char *name, struct tz_zone **out);
void tz_zone_free(struct tz_zone *z);
/* Offset from UTC in seconds (east positive) at the UTC instant unix_s. Never fails. */
int tz_zone_offset(const struct tz_zone *z, int64_t unix_s);

/* One-shot forms of the above. */
enum cx_err tz_offset_at(const char *name, int64_t unix_s, int *offset_s);
/* The wall-clock time in the zone as "yyyy-MM-ddTHH:mm:ss" (no offset) into out (n >=
 * TZ_LOCAL_MAX); *offset_s (may be NULL) gets the offset used. Errors as tz_zone_load(). */
enum cx_err tz_local_time(const char *name, int64_t unix_s, char *out, size_t n, int *offset_s);

/* Parses a POSIX TZ rule string as found in TZif footers ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0530>-5:30", "EST5EDT,M3.2.0,M11.1.0") and gives the offset at unix_s. Exposed for tests and
 * the fuzzer. CX_EINVAL on anything it cannot read. */
enum cx_err tz_posix_offset(const char *rule, int64_t unix_s, int *offset_s);

#endif
