/*
 * test_pending_act_nochange: an approved action that check finds already
 * done must be able to settle -- fails until fixed.
 *
 * agent/exec.c decide(): for an act in "approved" whose check reports
 * ACT_NOCHANGE (the account was already locked at plan time, so change
 * is NULL and needs_check() is true), settle() asks queue_transition()
 * for approved -> succeeded.  act_transition_ok() refuses that edge, so
 * decide() returns -EPERM, exec_round() rolls the whole batch back and
 * logs "exec: cannot record batch: not an error", and the next round does
 * the same, for ever.  Every other act in the batch is never applied.
 * Reproduced with slapd: alice pre-locked, run accounts=alice,bob with
 * approval = "none"; both stay "approved" and bob is never locked.
 *
 * This test asserts the fix in act.c (allow approved -> succeeded, the
 * "nothing to do" outcome).  If the fix goes into exec.c instead
 * (approved -> running -> succeeded), drop this file; if it goes into
 * act.c, add { ST_APPROVED, ST_SUCCEEDED } to the edges in test_act.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../agent/act.h"

static void
test_pending_act_nochange_approved_settles(void **state)
{
	(void)state;
	assert_true(act_transition_ok(ST_APPROVED, ST_SUCCEEDED));
	/* Still never straight from awaiting: approval comes first. */
	assert_false(act_transition_ok(ST_AWAITING, ST_SUCCEEDED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_act_nochange_approved_settles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
