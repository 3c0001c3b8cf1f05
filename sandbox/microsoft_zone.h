/* microsoft_zone.h: UTC offsets of named time zones for the calendar emulators (Graph's
 * dateTimeTimeZone and Prefer: outlook.timezone, Google's offset-less dateTime with timeZone and
 * recurrence expansion). Reads the system's TZif files (CALENDOX_ZONEINFO overrides
 * /usr/share/zoneinfo), including the POSIX TZ footer that slim files rely on for future dates;
 * understands IANA names and the common Windows names Graph uses. No shared state, no locks: the
 * one-shot functions read the zone file on every call (a few kilobytes); a loaded zone belongs to
 * its caller. Thread-safe. */
#ifndef CX_SANDBOX_MICROSOFT_ZONE_H
#define CX_SANDBOX_MICROSOFT_ZONE_H

#include <stdbool.h>
#include <stdint.h>

/* The IANA name for an IANA or Windows zone name ("Pacific Standard Time" → "America/Los_Angeles",
 * "UTC" → "UTC"); NULL when the name is unknown or the system has no such zone. Static memory or
 * zone itself. */
const char *microsoft_zone_iana(const char *zone);

/* The zone's UTC offset in seconds at the instant utc_s. false when the zone is unknown. */
bool microsoft_zone_offset(const char *zone, int64_t utc_s, int *offset_s);

/* The instant of a wall-clock time in the zone (local_s: the wall time read as if it were UTC).
 * A wall time in a gap moves forward by the gap's length (02:30 → 03:30); in an overlap the earlier
 * instant wins. false when the zone is unknown. */
bool microsoft_zone_to_utc(const char *zone, int64_t local_s, int64_t *utc_s);

/* A loaded zone for many look-ups (recurrence expansion). NULL when unknown; caller frees with
 * microsoft_zone_close(). */
struct microsoft_zone;
struct microsoft_zone *microsoft_zone_open(const char *zone);
void microsoft_zone_close(struct microsoft_zone *z);
int microsoft_zone_offset_in(const struct microsoft_zone *z, int64_t utc_s);
int64_t microsoft_zone_local_to_utc(const struct microsoft_zone *z, int64_t local_s);

#endif
