/*
 * test_time: parse_time() must refuse dates that do not exist (fixed in
 * agent/util.c; offsets and zones are tested in test_tz).
 *
 * agent/util.c parse_time(): glibc strptime() accepts any day 1..31 in
 * any month, and timegm() then normalises, so "2026-02-30T00:00:00Z"
 * becomes 2026-03-02 and "2025-02-29 10:00" becomes 2025-03-01 10:00,
 * silently.  parse_time() reads --aware-at, from which the incident's
 * 72-hour authority deadline is computed (agent/incident.c), so a typo
 * moves a legal deadline by days instead of being refused.  A fix:
 * after timegm(), gmtime_r() the result and compare year, month and day
 * with what was parsed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "../../agent/util.h"

static void
test_pending_time_impossible_dates_refused(void **state)
{
	static const char *bad[] = {
		"2026-02-30T00:00:00Z", "2026-02-31", "2025-02-29 10:00",
		"2026-04-31T12:00Z", "2026-06-31 00:00:00", "2100-02-29",
	};
	time_t	t;
	size_t	i, nbad = 0;

	(void)state;
	/* Every case is tried, so one run lists all that slip through. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t = 777;
		if (parse_time(bad[i], &t) != -EINVAL || t != 777) {
			print_error("'%s' was accepted as %lld\n", bad[i],
			    (long long)t);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
	/* Leap days that exist stay valid. */
	assert_int_equal(parse_time("2024-02-29T12:00:00Z", &t), 0);
	assert_int_equal(t, 1709208000);
	assert_int_equal(parse_time("2000-02-29", &t), 0);
	assert_int_equal(t, 951782400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_time_impossible_dates_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
