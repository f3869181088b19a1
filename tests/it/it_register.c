/*
 * it_register: the breach-register record through the real agent: field
 * updates journaled as old -> new, the Art. 33 clock and its refusal of a
 * late notification without reasons, the Art. 34 warning, `incident due`
 * exit codes, roles, and closing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define PORT	38929

static int
group_setup(void **state)
{
	return it_group_setup(state, PORT);
}

static int
setup(void **state)
{
	return it_test_setup(*state, NULL);
}

static int
teardown(void **state)
{
	return it_test_teardown(*state);
}

/* An incident whose 72 hours ran out yesterday. */
static void
open_overdue(struct it_env *e, char id[32])
{
	int	y, n;

	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "old breach", "--aware-at",
	    "2026-01-05T08:00:00Z", NULL), 0);
	assert_int_equal(sscanf(e->out, "INC-%4d-%4d", &y, &n), 2);
	(void)snprintf(id, 32, "INC-%04d-%04d", y, n);
}

static void
test_register_update_journaled_old_new(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];
	json_t		*j, *ent, *ch;
	size_t		 i;
	int		 found = 0;

	assert_int_equal(it_incident_open(e, id), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=risk", "--set", "approx_subjects=1200", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=high", NULL), 0);
	assert_true(it_out_has(e, "Art. 34"));
	j = it_journal(e);
	assert_non_null(j);
	json_array_foreach(j, i, ent) {
		if (strcmp(json_string_value(json_object_get(ent, "event")),
		    "incident_updated") != 0)
			continue;
		ch = json_object_get(json_object_get(json_object_get(ent,
		    "payload"), "changes"), "risk");
		if (ch && json_is_string(json_object_get(ch, "old"))) {
			assert_string_equal(json_string_value(
			    json_object_get(ch, "old")), "risk");
			assert_string_equal(json_string_value(
			    json_object_get(ch, "new")), "high");
			found = 1;
		}
	}
	json_decref(j);
	assert_true(found);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id,
	    "--json", NULL), 0);
	j = it_out_json(e);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(j, "incident"), "record"), "approx_subjects")),
	    1200);
	json_decref(j);
	/* Bad values are usage errors; an auditor may not write. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=extreme", NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "no_such_field=1", NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "detected_at=2026-02-30T00:00:00Z", NULL), 2);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "update", id,
	    "--set", "risk=none", NULL), 3);
}

static void
test_register_late_notification_needs_reasons(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];

	open_overdue(e, id);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 1);
	assert_true(it_out_has(e, id));
	assert_true(it_out_has(e, "OVERDUE"));
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=now", NULL), 3);
	assert_true(it_err_has(e, "reasons_for_delay"));
	assert_true(it_journal_count(e, "refused", 0) >= 1);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=now", "--set",
	    "reasons_for_delay=forensics took three days", NULL), 0);
	/* Notified: nothing is due any more. */
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 0);
	assert_false(it_out_has(e, id));
}

static void
test_register_close_needs_lead(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];

	assert_int_equal(it_incident_open(e, id), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "close", id, NULL),
	    3);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", id, NULL),
	    0);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", id, NULL),
	    2);
	assert_int_equal(it_journal_count(e, "incident_closed", 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_register_update_journaled_old_new, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_late_notification_needs_reasons, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_close_needs_lead, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    it_group_teardown);
}
