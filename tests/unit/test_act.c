/*
 * test_act: the action state machine (agent/act.c).
 *
 * act_transition_ok() is the only judge of a state change, so it is
 * checked over the whole ST__COUNT x ST__COUNT matrix against a list of
 * allowed edges written out here by hand: a new edge in act.c must be
 * added here on purpose, never slip in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/act.h"
#include "../../agent/util.h"

static const struct {
	enum act_state	from, to;
} edges[] = {
	{ ST_PLANNED, ST_AWAITING },	/* approval required */
	{ ST_PLANNED, ST_APPROVED },	/* approval = "none" */
	{ ST_PLANNED, ST_FAILED },	/* check failed at plan time */
	{ ST_AWAITING, ST_APPROVED },
	{ ST_AWAITING, ST_REJECTED },
	{ ST_AWAITING, ST_EXPIRED },
	{ ST_AWAITING, ST_AWAITING },	/* one of two approvals given */
	{ ST_APPROVED, ST_RUNNING },
	{ ST_APPROVED, ST_AWAITING },	/* plan changed, approval expired */
	{ ST_APPROVED, ST_FAILED },
	{ ST_APPROVED, ST_SUCCEEDED },
	{ ST_RUNNING, ST_SUCCEEDED },
	{ ST_RUNNING, ST_FAILED },
	{ ST_RUNNING, ST_UNKNOWN },	/* agent died mid-apply */
	{ ST_RUNNING, ST_AWAITING },	/* atomic apply found it stale */
	{ ST_RUNNING, ST_APPROVED },
	{ ST_UNKNOWN, ST_APPROVED },	/* reconciled: not applied */
	{ ST_UNKNOWN, ST_SUCCEEDED },	/* reconciled: applied */
	{ ST_UNKNOWN, ST_FAILED },
	{ ST_SUCCEEDED, ST_UNDONE },
};

static int
edge_listed(enum act_state from, enum act_state to)
{
	size_t	i;

	for (i = 0; i < ARRAY_SIZE(edges); i++)
		if (edges[i].from == from && edges[i].to == to)
			return 1;
	return 0;
}

static void
test_act_transition_matrix(void **state)
{
	int	from, to, n = 0;

	(void)state;
	for (from = 0; from < ST__COUNT; from++)
		for (to = 0; to < ST__COUNT; to++) {
			int want = edge_listed((enum act_state)from,
			    (enum act_state)to);
			int got = act_transition_ok((enum act_state)from,
			    (enum act_state)to);

			if (!!got != want)
				fail_msg("%s -> %s: act.c says %d, expected "
				    "%d", act_state_name((enum act_state)from),
				    act_state_name((enum act_state)to), got,
				    want);
			n += want;
		}
	assert_int_equal(n, ARRAY_SIZE(edges));
}

static void
test_act_transition_happy_path(void **state)
{
	(void)state;
	assert_true(act_transition_ok(ST_PLANNED, ST_AWAITING));
	assert_true(act_transition_ok(ST_AWAITING, ST_APPROVED));
	assert_true(act_transition_ok(ST_APPROVED, ST_RUNNING));
	assert_true(act_transition_ok(ST_RUNNING, ST_SUCCEEDED));
	assert_true(act_transition_ok(ST_RUNNING, ST_FAILED));
	assert_true(act_transition_ok(ST_RUNNING, ST_UNKNOWN));
	assert_true(act_transition_ok(ST_UNKNOWN, ST_APPROVED));
	assert_true(act_transition_ok(ST_UNKNOWN, ST_SUCCEEDED));
	assert_true(act_transition_ok(ST_UNKNOWN, ST_FAILED));
	assert_true(act_transition_ok(ST_SUCCEEDED, ST_UNDONE));
}

static void
test_act_transition_refused(void **state)
{
	int	to;

	(void)state;
	/* Never run again what already ran, or revive what a lead refused. */
	assert_false(act_transition_ok(ST_SUCCEEDED, ST_RUNNING));
	assert_false(act_transition_ok(ST_FAILED, ST_APPROVED));
	assert_false(act_transition_ok(ST_REJECTED, ST_APPROVED));
	assert_false(act_transition_ok(ST_EXPIRED, ST_APPROVED));
	/* Nothing runs without passing through approved. */
	assert_false(act_transition_ok(ST_AWAITING, ST_RUNNING));
	assert_false(act_transition_ok(ST_PLANNED, ST_RUNNING));
	assert_false(act_transition_ok(ST_UNKNOWN, ST_RUNNING));
	/* An undo is undone once. */
	for (to = 0; to < ST__COUNT; to++)
		assert_false(act_transition_ok(ST_UNDONE,
		    (enum act_state)to));
	/* Final states are final, except succeeded -> undone. */
	for (to = 0; to < ST__COUNT; to++) {
		assert_false(act_transition_ok(ST_FAILED, (enum act_state)to));
		assert_false(act_transition_ok(ST_REJECTED,
		    (enum act_state)to));
		assert_false(act_transition_ok(ST_EXPIRED,
		    (enum act_state)to));
		if (to != ST_UNDONE)
			assert_false(act_transition_ok(ST_SUCCEEDED,
			    (enum act_state)to));
	}
}

static void
test_act_transition_out_of_range(void **state)
{
	(void)state;
	assert_false(act_transition_ok(ST__COUNT, ST_PLANNED));
	assert_false(act_transition_ok(ST_PLANNED, ST__COUNT));
	assert_false(act_transition_ok((enum act_state)-1, ST_APPROVED));
	assert_false(act_transition_ok(ST_AWAITING, (enum act_state)-1));
	assert_false(act_transition_ok(ST_AWAITING, (enum act_state)40));
}

static void
test_act_state_name_parse_round_trip(void **state)
{
	static const char *want[ST__COUNT] = {
		"planned", "awaiting_approval", "approved", "running",
		"succeeded", "failed", "unknown", "rejected", "expired",
		"undone",
	};
	enum act_state	 got;
	int		 i;

	(void)state;
	for (i = 0; i < ST__COUNT; i++) {
		assert_string_equal(act_state_name((enum act_state)i),
		    want[i]);
		got = ST__COUNT;
		assert_int_equal(act_state_parse(want[i], &got), 0);
		assert_int_equal(got, i);
	}
	assert_string_equal(act_state_name(ST__COUNT), "?");
}

static void
test_act_state_parse_bogus(void **state)
{
	static const char *bad[] = {
		"bogus", "", "Planned", "plan", "planned ", "awaiting",
		"succeeded\n",
	};
	enum act_state	 got;
	size_t		 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		got = ST_UNDONE;
		assert_int_not_equal(act_state_parse(bad[i], &got), 0);
		/* The output is left alone on failure. */
		assert_int_equal(got, ST_UNDONE);
	}
}

static void
test_act_state_final(void **state)
{
	int	s;

	(void)state;
	for (s = 0; s < ST__COUNT; s++) {
		int want = s == ST_SUCCEEDED || s == ST_FAILED ||
		    s == ST_REJECTED || s == ST_EXPIRED || s == ST_UNDONE;

		assert_int_equal(!!act_state_final((enum act_state)s), want);
	}
}

static void
test_act_fail_and_param(void **state)
{
	struct act	*a = act_new();
	char		 longv[2 * ACT_MSG_MAX];

	(void)state;
	assert_int_equal(a->outcome, ACT_OK);
	assert_string_equal(act_outcome_name(a), "change");
	a->outcome = ACT_NOCHANGE;
	assert_string_equal(act_outcome_name(a), "no_change");
	a->outcome = ACT_REFUSED;
	assert_string_equal(act_outcome_name(a), "refused");

	act_fail(a, "no such account '%s'", "bob");
	assert_int_equal(a->outcome, ACT_FAIL);
	assert_string_equal(a->msg, "no such account 'bob'");
	assert_string_equal(act_outcome_name(a), "failed");

	/* A long message is cut at ACT_MSG_MAX, still terminated. */
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	act_fail(a, "%s", longv);
	assert_int_equal(strlen(a->msg), ACT_MSG_MAX - 1);

	assert_null(act_param(a, "account"));
	a->params = json_pack("{s:s,s:i}", "account", "*)(uid=*", "n", 3);
	assert_string_equal(act_param(a, "account"), "*)(uid=*");
	/* Only strings are parameters. */
	assert_null(act_param(a, "n"));
	assert_null(act_param(a, "missing"));
	act_free(a);
	act_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_act_transition_matrix),
		cmocka_unit_test(test_act_transition_happy_path),
		cmocka_unit_test(test_act_transition_refused),
		cmocka_unit_test(test_act_transition_out_of_range),
		cmocka_unit_test(test_act_state_name_parse_round_trip),
		cmocka_unit_test(test_act_state_parse_bogus),
		cmocka_unit_test(test_act_state_final),
		cmocka_unit_test(test_act_fail_and_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
