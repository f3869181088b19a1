/*
 * test_tz: times with offsets and IANA zones (agent/tz.c) across DST
 * changes -- Europe/Berlin spring forward and fall back, America/
 * Los_Angeles, Asia/Kolkata (+05:30), Australia/Lord_Howe (a 30-minute
 * DST shift) -- and that a 72-hour deadline is 72 real hours across them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/register.h"
#include "../../agent/tz.h"
#include "../../agent/util.h"

struct ok_case {
	const char	*in;
	const char	*utc;
	const char	*given;
};

static void
check_ok(const struct ok_case *c, size_t n, enum tz_mode mode)
{
	char	given[TZ_GIVEN_MAX], err[256], s[32];
	time_t	t;
	size_t	i, nbad = 0;

	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (tz_time(c[i].in, mode, &t, given, err, sizeof(err)) != 0) {
			print_error("'%s' refused: %s\n", c[i].in, err);
			nbad++;
			continue;
		}
		fmt_time(t, s);
		if (strcmp(s, c[i].utc) || strcmp(given, c[i].given)) {
			print_error("'%s' -> %s '%s', want %s '%s'\n",
			    c[i].in, s, given, c[i].utc, c[i].given);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
}

static void
check_bad(const char *in, enum tz_mode mode, const char *why)
{
	char	given[TZ_GIVEN_MAX], err[256] = "";
	time_t	t = 777;

	assert_int_equal(tz_time(in, mode, &t, given, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(t, 777);
	if (strstr(err, why) == NULL)
		fail_msg("'%s': error '%s' does not say '%s'", in, err, why);
}

static void
test_tz_offsets_and_utc(void **state)
{
	static const struct ok_case c[] = {
		{ "2026-03-29T01:30:00Z", "2026-03-29T01:30:00Z", "" },
		{ "2026-03-29 01:30", "2026-03-29T01:30:00Z", "" },
		{ "2026-03-29T01:30:00+01:00", "2026-03-29T00:30:00Z",
		  "2026-03-29T01:30:00+01:00" },
		{ "2026-03-29T01:30+0100", "2026-03-29T00:30:00Z",
		  "2026-03-29T01:30:00+01:00" },
		{ "2026-03-28T17:30:00-07:00", "2026-03-29T00:30:00Z",
		  "2026-03-28T17:30:00-07:00" },
		{ "2026-03-29T06:00:00+05:30", "2026-03-29T00:30:00Z",
		  "2026-03-29T06:00:00+05:30" },
		{ "2026-01-01T00:15:00+05:45", "2025-12-31T18:30:00Z",
		  "2026-01-01T00:15:00+05:45" },
	};

	(void)state;
	check_ok(c, ARRAY_SIZE(c), TZ_NO_RESOLVE);
	check_bad("2026-03-29T01:30:00+25:00", TZ_NO_RESOLVE, "not a time");
	check_bad("2026-02-30T01:30:00+01:00", TZ_NO_RESOLVE, "not a time");
	check_bad("2026-03-29T01:30:00 +01:00", TZ_NO_RESOLVE, "not a time");
	check_bad("yesterday", TZ_NO_RESOLVE, "not a time");
	check_bad("2026-+3-29T01:30:00+01:00", TZ_NO_RESOLVE, "not a time");
	check_bad("2026-03-29T 1:30:00+01:00", TZ_NO_RESOLVE, "not a time");
	check_bad("2026-03-29T01:30:00+1:00", TZ_NO_RESOLVE, "not a time");
	check_bad("2026-03-29T01:30[Europe/Berlin", TZ_RESOLVE, "not a time");
}

static void
test_tz_zones_across_dst(void **state)
{
	static const struct ok_case c[] = {
		/* Berlin: CET +01 until 2026-03-29 02:00, then CEST +02. */
		{ "2026-03-29T01:59:59[Europe/Berlin]",
		  "2026-03-29T00:59:59Z",
		  "2026-03-29T01:59:59+01:00[Europe/Berlin]" },
		{ "2026-03-29T03:00[Europe/Berlin]", "2026-03-29T01:00:00Z",
		  "2026-03-29T03:00:00+02:00[Europe/Berlin]" },
		/* Fall back 2026-10-25 03:00 CEST -> 02:00 CET: an offset
		 * picks the reading. */
		{ "2026-10-25T02:30:00+02:00[Europe/Berlin]",
		  "2026-10-25T00:30:00Z",
		  "2026-10-25T02:30:00+02:00[Europe/Berlin]" },
		{ "2026-10-25T02:30+01:00[Europe/Berlin]",
		  "2026-10-25T01:30:00Z",
		  "2026-10-25T02:30:00+01:00[Europe/Berlin]" },
		/* Los Angeles: PST -08 -> PDT -07 on 2026-03-08 02:00. */
		{ "2026-03-08T01:30[America/Los_Angeles]",
		  "2026-03-08T09:30:00Z",
		  "2026-03-08T01:30:00-08:00[America/Los_Angeles]" },
		{ "2026-03-08T03:30[America/Los_Angeles]",
		  "2026-03-08T10:30:00Z",
		  "2026-03-08T03:30:00-07:00[America/Los_Angeles]" },
		{ "2026-11-01T01:30-08:00[America/Los_Angeles]",
		  "2026-11-01T09:30:00Z",
		  "2026-11-01T01:30:00-08:00[America/Los_Angeles]" },
		/* +05:30 all year. */
		{ "2026-03-29T06:00[Asia/Kolkata]", "2026-03-29T00:30:00Z",
		  "2026-03-29T06:00:00+05:30[Asia/Kolkata]" },
		/* Lord Howe: +10:30, and +11 in summer (a 30-minute shift);
		 * summer ends 2026-04-05 02:00 -> 01:30. */
		{ "2026-04-05T01:15[Australia/Lord_Howe]",
		  "2026-04-04T14:15:00Z",
		  "2026-04-05T01:15:00+11:00[Australia/Lord_Howe]" },
		{ "2026-04-05T01:45+11:00[Australia/Lord_Howe]",
		  "2026-04-04T14:45:00Z",
		  "2026-04-05T01:45:00+11:00[Australia/Lord_Howe]" },
		{ "2026-04-05T01:45+10:30[Australia/Lord_Howe]",
		  "2026-04-04T15:15:00Z",
		  "2026-04-05T01:45:00+10:30[Australia/Lord_Howe]" },
		{ "2026-06-01T12:00[Australia/Lord_Howe]",
		  "2026-06-01T01:30:00Z",
		  "2026-06-01T12:00:00+10:30[Australia/Lord_Howe]" },
	};

	(void)state;
	check_ok(c, ARRAY_SIZE(c), TZ_RESOLVE);
	/* Gaps: these wall-clock times never happened. */
	check_bad("2026-03-29T02:30[Europe/Berlin]", TZ_RESOLVE,
	    "does not exist in Europe/Berlin");
	check_bad("2026-03-08T02:00[America/Los_Angeles]", TZ_RESOLVE,
	    "does not exist");
	check_bad("2026-10-04T02:15[Australia/Lord_Howe]", TZ_RESOLVE,
	    "does not exist");
	/* Folds: happened twice, the offset must be given. */
	check_bad("2026-10-25T02:30[Europe/Berlin]", TZ_RESOLVE,
	    "add the offset, +02:00 (the first) or +01:00 (the second)");
	check_bad("2026-11-01T01:30[America/Los_Angeles]", TZ_RESOLVE,
	    "-07:00 (the first) or -08:00 (the second)");
	check_bad("2026-04-05T01:45[Australia/Lord_Howe]", TZ_RESOLVE,
	    "+11:00 (the first) or +10:30 (the second)");
	/* An offset the zone does not have then; unknown zones. */
	check_bad("2026-07-01T12:00+01:00[Europe/Berlin]", TZ_RESOLVE,
	    "is not Europe/Berlin's at that time (+02:00)");
	check_bad("2026-07-01T12:00[Mars/Olympus]", TZ_RESOLVE,
	    "unknown time zone 'Mars/Olympus'");
	check_bad("2026-07-01T12:00[../../etc/passwd]", TZ_RESOLVE,
	    "not a time");
	/* The agent does not resolve: a zone needs its offset there. */
	check_bad("2026-07-01T12:00[Europe/Berlin]", TZ_NO_RESOLVE,
	    "needs its UTC offset");
	check_bad("2026-07-01T12:00+02:00[Mars/Olympus]", TZ_NO_RESOLVE,
	    "unknown time zone");
}

/* aware_at + 72 h on UTC seconds: real hours, whatever the clocks do. */
static void
test_tz_72_hours_are_real_hours(void **state)
{
	static const struct {
		const char	*aware;
		const char	*due_utc;
		const char	*due_local;	/* the wall clock at due */
		const char	*zone;
	} c[] = {
		/* Spring forward: the wall clock shows 73 hours later. */
		{ "2026-03-27T12:00[Europe/Berlin]", "2026-03-30T11:00:00Z",
		  "2026-03-30T13:00", "Europe/Berlin" },
		/* Fall back: it shows 71. */
		{ "2026-10-23T12:00[Europe/Berlin]", "2026-10-26T10:00:00Z",
		  "2026-10-26T11:00", "Europe/Berlin" },
		{ "2026-03-06T09:00[America/Los_Angeles]",
		  "2026-03-09T17:00:00Z", "2026-03-09T10:00",
		  "America/Los_Angeles" },
		{ "2026-04-03T10:00[Australia/Lord_Howe]",
		  "2026-04-05T23:00:00Z", "2026-04-06T09:30",
		  "Australia/Lord_Howe" },
		{ "2026-03-27T18:30[Asia/Kolkata]", "2026-03-30T13:00:00Z",
		  "2026-03-30T18:30", "Asia/Kolkata" },
	};
	char	given[TZ_GIVEN_MAX], err[256], s[32], loc[80];
	time_t	t, back;
	size_t	i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		assert_int_equal(tz_time(c[i].aware, TZ_RESOLVE, &t, given,
		    err, sizeof(err)), 0);
		fmt_time(t + ART33_SECONDS, s);
		assert_string_equal(s, c[i].due_utc);
		/* The due instant read back through the zone. */
		(void)snprintf(loc, sizeof(loc), "%s[%s]", c[i].due_local,
		    c[i].zone);
		assert_int_equal(tz_time(loc, TZ_RESOLVE, &back, given, err,
		    sizeof(err)), 0);
		assert_int_equal(back, t + ART33_SECONDS);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tz_offsets_and_utc),
		cmocka_unit_test(test_tz_zones_across_dst),
		cmocka_unit_test(test_tz_72_hours_are_real_hours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
