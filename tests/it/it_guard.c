/*
 * it_guard: the guard rails -- protected accounts (by name, in any
 * spelling the directory matches, and by DN), the agent's own bind
 * account, the two-leads threshold, and secrets kept out of the log, the
 * journal and the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PORT	38923

static int
group_setup(void **state)
{
	return it_group_setup(state, PORT);
}

static int
group_teardown(void **state)
{
	return it_group_teardown(state);
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

static int
setup_protected_dn(void **state)
{
	static const struct it_conf c = {
		.protected_extra = "\"UID=Dave,ou=People," IT_SUFFIX "\"",
	};

	return it_test_setup(*state, &c);
}

/* A second target whose accounts are cn= under the suffix, so that the
 * agent's own bind DN can be named by a runbook. */
static int
setup_cn_target(void **state)
{
	struct it_env	*e = *state;
	char		 t[1024];
	struct it_conf	 c = { .targets_extra = t };
	int		 n;

	n = snprintf(t, sizeof(t), "{ name = \"dir-cn\"; type = \"ldap\"; "
	    "flavour = \"openldap\"; uri = \"%s\"; bind_dn = \"" IT_SVC_DN
	    "\"; password_file = \"%s\"; base_dn = \"" IT_SUFFIX "\"; "
	    "user_attr = \"cn\"; policy_dn = \"cn=policy," IT_SUFFIX "\"; }",
	    e->uri, e->pwfile);
	if (n < 0 || (size_t)n >= sizeof(t))
		return -1;
	return it_test_setup(e, &c);
}

static int
setup_two_leads(void **state)
{
	static const struct it_conf c = { .two_leads_above = 2 };

	return it_test_setup(*state, &c);
}

static int
setup_verbose(void **state)
{
	static const struct it_conf c = { .verbose = 1 };

	return it_test_setup(*state, &c);
}

static const char *
aref(int64_t id, char buf[32])
{
	(void)snprintf(buf, 32, "A%lld", (long long)id);
	return buf;
}

static void
assert_unlocked(struct it_env *e, const char *uid)
{
	char	v[128];

	if (it_ldap_lock(e, uid, v, sizeof(v)) != 0)
		fail_msg("'%s' has pwdAccountLockedTime '%s'", uid, v);
	assert_int_equal(it_ldap_user_bind(e, uid), 0);
}

static void
assert_locked(struct it_env *e, const char *uid)
{
	char	v[128] = "";

	assert_int_equal(it_ldap_lock(e, uid, v, sizeof(v)), 1);
	assert_string_equal(v, IT_LOCK_FOREVER);
	assert_int_equal(it_ldap_user_bind(e, uid), 49);
}

static void
test_protected_account_refused(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	int64_t		 ids[4];
	size_t		 n;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=alice,breakglass", NULL), 0);
	assert_true(it_out_has(e, "REFUSED: 'uid=breakglass," IT_PEOPLE
	    "' is a protected account"));
	assert_true(it_out_has(e, "2 action(s): 1 change, 0 already done, "
	    "1 cannot run"));

	/* The whole run is refused: alice is not queued either. */
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc,
	    "alice,breakglass", ids, 4, &n), 3);
	assert_true(it_err_has(e, "protected"));
	assert_int_equal(n, 0);
	assert_int_equal(it_run_accounts(e, IT_LEAD, NULL, inc, "breakglass",
	    ids, 4, &n), 3);
	assert_int_equal(it_queue_count(e), 0);
	assert_true(it_journal_count(e, "refused", 0) >= 2);
	assert_unlocked(e, "breakglass");
	assert_unlocked(e, "alice");
}

static void
test_protected_account_any_spelling(void **state)
{
	struct it_env	*e = *state;
	static const char *const spellings[] = {
		"BREAKGLASS", "Breakglass", " breakglass", "breakglass ",
	};
	char		 inc[32], set[64];
	int64_t		 ids[4];
	size_t		 i, n;

	assert_int_equal(it_incident_open(e, inc), 0);
	for (i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
		/* The directory matches uid case- and space-insensitively:
		 * each of these is the break-glass entry. */
		(void)snprintf(set, sizeof(set), "accounts=%s", spellings[i]);
		assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook,
		    "--incident", inc, "--set", set, NULL), 0);
		assert_true(it_out_has(e, "dn:     uid=breakglass,"));
		if (!it_out_has(e, "REFUSED"))
			fail_msg("plan of '%s' resolves to the protected "
			    "entry but is not refused:\n%s", spellings[i],
			    e->out);
		if (it_run_accounts(e, IT_OP, NULL, inc, spellings[i], ids,
		    4, &n) != 3)
			fail_msg("run of '%s' exit %d, want 3 (refused)",
			    spellings[i], e->status);
	}
	assert_int_equal(it_queue_count(e), 0);
	assert_unlocked(e, "breakglass");
}

static void
test_protected_by_dn(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	int64_t		 ids[4];
	size_t		 n;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "dave", ids, 4,
	    &n), 3);
	assert_true(it_err_has(e, "protected"));
	assert_int_equal(it_queue_count(e), 0);
	assert_unlocked(e, "dave");
}

static void
test_own_bind_dn_refused(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], rb[IT_PATH_MAX], *text, *p;
	int64_t		 ids[4];
	size_t		 len, n;

	/* The stock runbook, aimed at the cn= target. */
	assert_int_equal(it_read_file(e->runbook, &text, &len), 0);
	assert_non_null(p = strstr(text, "\"corp-ldap\""));
	memcpy(p, "\"dir-cn\"   ", 11);	/* same length, a valid file */
	(void)it_tpath(e, "dir-cn.runbook", rb);
	assert_int_equal(it_write_file(rb, text, len, 0644), 0);
	free(text);

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "plan", rb, "--incident", inc,
	    "--set", "accounts=svc", NULL), 0);
	assert_true(it_out_has(e, "dn:     " IT_SVC_DN "\n"));
	assert_true(it_out_has(e, "REFUSED"));
	assert_int_equal(it_run_accounts(e, IT_OP, rb, inc, "svc", ids, 4, &n),
	    3);
	assert_int_equal(it_queue_count(e), 0);
	/* The agent can still bind. */
	assert_int_equal(it_ldap_bind(e, IT_SVC_DN, IT_SVC_PW), 0);
	/* The same target still works for an ordinary account. */
	assert_int_equal(it_run_accounts(e, IT_OP, rb, inc, "carol", ids, 4,
	    &n), 0);
	assert_int_equal(n, 1);
}

static void
test_two_leads_above_threshold(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], inc2[32], ref[32];
	int64_t		 ids[4], small;
	size_t		 n, i;
	json_t		*a;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_incident_open(e, inc2), 0);
	/* At the threshold, one lead is enough; a lead may also reject. */
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc2, "dave,carol",
	    ids, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_non_null(a = it_action(e, ids[0]));
	assert_int_equal(json_integer_value(json_object_get(a,
	    "approvals_needed")), 1);
	json_decref(a);
	small = ids[0];
	assert_int_equal(it_cordon(e, IT_LEAD, "reject", aref(small, ref),
	    "--reason", "wrong person", NULL), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "reject", aref(ids[1], ref),
	    "--reason", "wrong person", NULL), 0);
	assert_int_equal(it_wait_action(e, small, "rejected", 1), 0);

	/* Above it, two distinct leads. */
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc,
	    "alice,bob,carol", ids, 4, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_non_null(a = it_action(e, ids[i]));
		assert_int_equal(json_integer_value(json_object_get(a,
		    "approvals_needed")), 2);
		json_decref(a);
	}
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", "--all-for", inc,
	    NULL), 0);
	assert_true(it_out_has(e, "approved 3 action(s)"));
	for (i = 0; i < n; i++) {
		char st[64];

		assert_int_equal(it_action_state(e, ids[i], st, sizeof(st)),
		    0);
		assert_string_equal(st, "awaiting_approval");
		assert_int_equal(it_journal_count(e, "approval_recorded",
		    ids[i]), 1);
	}
	assert_unlocked(e, "alice");

	/* The same lead twice is still one lead. */
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(ids[0], ref),
	    NULL), 3);
	assert_true(it_err_has(e, "another lead"));
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", "--all-for", inc,
	    NULL), 3);
	assert_int_equal(it_action_state(e, ids[0], ref, sizeof(ref)), 0);
	assert_string_equal(ref, "awaiting_approval");

	/* The second lead completes it. */
	assert_int_equal(it_cordon(e, IT_LEAD2, "approve", "--all-for", inc,
	    NULL), 0);
	assert_true(it_out_has(e, "approved 3 action(s)"));
	for (i = 0; i < n; i++)
		assert_int_equal(it_wait_action(e, ids[i], "succeeded",
		    IT_SETTLE_S), 0);
	assert_locked(e, "alice");
	assert_locked(e, "bob");
	assert_locked(e, "carol");
	assert_unlocked(e, "dave");
}

/* Fails if the file at path contains the service password. */
static void
assert_no_secret_in(const char *path)
{
	int	r = it_file_has(path, IT_SVC_PW);

	if (r == 1)
		fail_msg("'%s' contains the bind password", path);
}

static void
test_secrets_stay_out(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32], path[IT_PATH_MAX];
	int64_t		 ids[4];
	size_t		 n;
	static const char *const files[] = {
		"cordon.db", "cordon.db-wal", "cordon.db-shm", "agent.log",
	};

	assert_int_equal(it_incident_open(e, inc), 0);
	/* Every use of the password: plan, check, apply, verify, undo. */
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=alice,nosuchuser", NULL), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc,
	    "alice,nosuchuser", ids, 4, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(ids[0], ref),
	    NULL), 0);
	assert_int_equal(it_wait_action(e, ids[0], "succeeded", IT_SETTLE_S),
	    0);
	assert_int_equal(it_cordon(e, IT_OP, "undo", ref, NULL), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", "--all-for", inc,
	    NULL), 0);
	assert_int_equal(it_wait_action(e, ids[0], "undone", IT_SETTLE_S), 0);

	/* What clients see. */
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", NULL), 0);
	assert_true(e->outlen > 0);
	assert_null(memmem(e->out, e->outlen, IT_SVC_PW, strlen(IT_SVC_PW)));
	assert_int_equal(it_cordon(e, IT_AUD, "show", ref, "--json", NULL), 0);
	assert_null(strstr(e->out, IT_SVC_PW));
	assert_int_equal(it_cordon(e, IT_AUD, "queue", "--all", "--json",
	    NULL), 0);
	assert_null(strstr(e->out, IT_SVC_PW));

	/* What the agent keeps, while it runs and after it stopped. */
	for (n = 0; n < sizeof(files) / sizeof(*files); n++)
		assert_no_secret_in(it_tpath(e, files[n], path));
	assert_int_equal(it_agent_stop(e), 0);
	for (n = 0; n < sizeof(files) / sizeof(*files); n++)
		assert_no_secret_in(it_tpath(e, files[n], path));
	assert_int_equal(it_file_has(it_tpath(e, "cordon.db", path),
	    "uid=alice"), 1);	/* the control: the store is readable */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_protected_account_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_protected_account_any_spelling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protected_by_dn,
		    setup_protected_dn, teardown),
		cmocka_unit_test_setup_teardown(test_own_bind_dn_refused,
		    setup_cn_target, teardown),
		cmocka_unit_test_setup_teardown(
		    test_two_leads_above_threshold, setup_two_leads, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_stay_out,
		    setup_verbose, teardown),
	};

	return cmocka_run_group_tests_name("it_guard", tests, group_setup,
	    group_teardown);
}
