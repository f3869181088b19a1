/*
 * tz: register times as people give them -- with a UTC offset or an IANA
 * zone -- turned into UTC, keeping what was given.
 *
 * Accepted (T or a space between date and time, seconds optional):
 *   2026-03-29T01:30:00Z                 UTC (also the older forms
 *   2026-03-29 01:30, 2026-03-29, now    parse_time() takes: UTC)
 *   2026-03-29T01:30:00+01:00            an offset (+01:00, +0100, +01)
 *   2026-03-29T02:30[Europe/Berlin]      local time in an IANA zone
 *   2026-03-29T03:30:00+02:00[Europe/Berlin]  both (the stored form)
 *
 * A zone without an offset is resolved against the tz database: a local
 * time in a DST gap is refused (it never happened), one in a DST fold is
 * refused with the two offsets to choose from.  A zone with an offset is
 * checked: the offset must be the zone's at that instant.  Arithmetic on
 * the result is on UTC seconds, so 72 hours are 72 real hours whatever
 * the clocks did.
 *
 * *given gets the canonical text to keep ("YYYY-MM-DDTHH:MM:SS+HH:MM" and
 * the "[Zone]" if one was named), or "" for a plain UTC time.
 *
 * Resolving a zone sets TZ for the process for a moment (mktime has no
 * other interface): TZ_RESOLVE is for single-threaded callers, i.e. the
 * cordon client.  The agent, which runs threads, calls with TZ_NO_RESOLVE
 * and accepts a zone only next to an offset (the client sends that form),
 * checking that the zone exists.
 */
#ifndef CORDON_TZ_H
#define CORDON_TZ_H

#include <stddef.h>
#include <time.h>

#define TZ_GIVEN_MAX	96
#define TZ_ZONE_MAX	64

enum tz_mode { TZ_NO_RESOLVE = 0, TZ_RESOLVE = 1 };

/* 0, or -EINVAL with a message for a person in err. */
int	tz_time(const char *in, enum tz_mode, time_t *ret_utc,
	    char given[TZ_GIVEN_MAX], char *err, size_t errlen);

#endif
