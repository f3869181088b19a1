/*
 * it_core: cordon end to end against a real slapd -- incidents, plan,
 * four-eyes approval, the lock itself, no-change, not-found, undo, a plan
 * that changes under its approval, and the hash-chained journal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/cli.h"
#include "harness.h"
#include "../../agent/journal.h"

#define PORT	38921
#define BUF	512

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

static const char *
aref(int64_t id, char buf[32])
{
	(void)snprintf(buf, 32, "A%lld", (long long)id);
	return buf;
}

static void
assert_state(struct it_env *e, int64_t id, const char *want)
{
	char	st[64];

	assert_int_equal(it_action_state(e, id, st, sizeof(st)), 0);
	assert_string_equal(st, want);
}

/* Asserts uid's pwdAccountLockedTime is value (NULL: absent). */
static void
assert_lock(struct it_env *e, const char *uid, const char *value)
{
	char	v[128];
	int	r = it_ldap_lock(e, uid, v, sizeof(v));

	if (value == NULL) {
		if (r != 0)
			fail_msg("%s: expected no pwdAccountLockedTime, "
			    "found '%s' (%d)", uid, v, r);
		return;
	}
	if (r != 1)
		fail_msg("%s: expected pwdAccountLockedTime %s, found none "
		    "(%d)", uid, value, r);
	assert_string_equal(v, value);
}

/* Queues a lock of one account as the operator and has a lead approve
 * it; returns the action id once it succeeded. */
static int64_t
lock_via_cordon(struct it_env *e, const char *inc, const char *uid)
{
	int64_t	id = 0;
	size_t	n;
	char	ref[32];

	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, uid, &id, 1,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	return id;
}

/* Waits until the journal holds an entry of event for action. */
static int
wait_journal(struct it_env *e, const char *event, int64_t id, double secs)
{
	int	i;

	for (i = 0; i < (int)(secs * 20); i++) {
		if (it_journal_count(e, event, id) > 0)
			return 0;
		(void)usleep(50000);
	}
	return -1;
}

static void
test_cli_without_agent(void **state)
{
	struct it_env	*e = *state;
	char		 nosock[IT_PATH_MAX];

	(void)it_gpath(e, "no-agent.sock", nosock);
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "--version", NULL),
	    0);
	assert_string_equal(e->out, "cordon " CORDON_VERSION "\n");
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "--help", NULL), 0);
	assert_true(it_out_has(e, "usage: cordon"));
	assert_true(it_out_has(e, "  plan "));
	assert_true(it_out_has(e, "  approve "));
	assert_true(it_out_has(e, "  journal "));
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "plan", "--help",
	    NULL), 0);
	assert_true(it_out_has(e, "usage: cordon plan RUNBOOK --incident ID"));

	/* Every client command needs the agent: 4 when it is not there. */
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "queue", NULL), 4);
	assert_true(it_err_has(e, "cannot reach the agent"));
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "incident", "open",
	    "--customer", "acme", "--title", "x", NULL), 4);
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "plan", e->runbook,
	    "--incident", "INC-2026-0001", "--set", "accounts=alice", NULL),
	    4);
	assert_int_equal(it_cordon_sock(e, IT_LEAD, nosock, "approve", "A1",
	    NULL), 4);
	assert_int_equal(it_cordon_sock(e, IT_AUD, nosock, "journal", "export",
	    NULL), 4);
	/* Not a command, with or without an agent: usage. */
	assert_int_equal(it_cordon_sock(e, IT_OP, nosock, "frobnicate", NULL),
	    2);
}

static void
test_incident_open(void **state)
{
	struct it_env	*e = *state;
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 want[64];

	(void)gmtime_r(&now, &tm);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "phishing wave", NULL), 0);
	(void)snprintf(want, sizeof(want), "INC-%04d-0001  ",
	    tm.tm_year + 1900);
	if (strncmp(e->out, want, strlen(want)) != 0)
		fail_msg("first incident: '%s', want '%s...'", e->out, want);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "second", NULL), 0);
	(void)snprintf(want, sizeof(want), "INC-%04d-0002  ",
	    tm.tm_year + 1900);
	if (strncmp(e->out, want, strlen(want)) != 0)
		fail_msg("second incident: '%s', want '%s...'", e->out, want);

	/* No role, no incident; an auditor may not open one either. */
	assert_int_equal(it_cordon(e, IT_NOBODY, "incident", "open",
	    "--customer", "acme", "--title", "x", NULL), 3);
	assert_true(it_err_has(e, "needs 'operator'"));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "open",
	    "--customer", "acme", "--title", "x", NULL), 3);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open",
	    "--customer", "nosuch", "--title", "x", NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "list", "--json",
	    NULL), 0);
	{
		json_t *o = it_out_json(e);

		assert_non_null(o);
		assert_int_equal(json_array_size(json_object_get(o,
		    "incidents")), 2);
		json_decref(o);
	}
}

static void
test_plan_writes_nothing(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	json_t		*o, *a;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=alice,bob", NULL), 0);
	assert_true(it_out_has(e, "dn:     uid=alice," IT_PEOPLE "\n"));
	assert_true(it_out_has(e, "dn:     uid=bob," IT_PEOPLE "\n"));
	assert_true(it_out_has(e, "state:  enabled\n"));
	assert_true(it_out_has(e, "change: add pwdAccountLockedTime: "
	    IT_LOCK_FOREVER "\n"));
	assert_true(it_out_has(e, "2 action(s): 2 change, 0 already done, "
	    "0 cannot run"));

	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=alice,bob", "--json", NULL), 0);
	assert_non_null(o = it_out_json(e));
	assert_int_equal(json_array_size(json_object_get(o, "actions")), 2);
	a = json_array_get(json_object_get(o, "actions"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "dn")), "uid=alice," IT_PEOPLE);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "state")), "enabled");
	assert_string_equal(json_string_value(json_object_get(a, "outcome")),
	    "change");
	json_decref(o);

	/* A dry run: nothing queued, nothing written, alice still binds. */
	assert_int_equal(it_queue_count(e), 0);
	assert_lock(e, "alice", NULL);
	assert_lock(e, "bob", NULL);
	assert_int_equal(it_ldap_user_bind(e, "alice"), 0);
	assert_int_equal(it_ldap_user_bind(e, "bob"), 0);
}

static void
test_four_eyes_then_lock(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32], run[32];
	int64_t		 ids[4], lid;
	size_t		 n;
	json_t		*a, *apps;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "alice,bob",
	    ids, 4, &n), 0);
	assert_int_equal(n, 2);
	(void)snprintf(run, sizeof(run), "%lld", (long long)e->last_run);
	assert_state(e, ids[0], "awaiting_approval");
	assert_state(e, ids[1], "awaiting_approval");

	/* An operator is not a lead. */
	assert_int_equal(it_cordon(e, IT_OP, "approve", aref(ids[0], ref),
	    NULL), 3);
	assert_true(it_err_has(e, "needs 'lead'"));
	/* A lead never approves what they requested. */
	assert_int_equal(it_run_accounts(e, IT_LEAD, NULL, inc, "dave", &lid,
	    1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(lid, ref),
	    NULL), 3);
	assert_true(it_err_has(e, "four-eyes"));
	assert_state(e, lid, "awaiting_approval");
	assert_state(e, ids[0], "awaiting_approval");

	/* The lead approves the operator's run. */
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(ids[0], ref),
	    NULL), 0);
	assert_true(it_out_has(e, "approved 1 action(s)"));
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(ids[1], ref),
	    NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "wait", run, "--timeout", "30",
	    NULL), 0);
	assert_true(it_out_has(e, "done 2 failed 0 waiting 0 total 2"));
	assert_state(e, ids[0], "succeeded");
	assert_state(e, ids[1], "succeeded");

	assert_lock(e, "alice", IT_LOCK_FOREVER);
	assert_lock(e, "bob", IT_LOCK_FOREVER);
	assert_int_equal(it_ldap_user_bind(e, "alice"), 49);
	assert_int_equal(it_ldap_user_bind(e, "bob"), 49);
	/* Nobody else was touched; dave's run still waits. */
	assert_lock(e, "carol", NULL);
	assert_int_equal(it_ldap_user_bind(e, "carol"), 0);
	assert_lock(e, "dave", NULL);
	assert_int_equal(it_ldap_user_bind(e, "dave"), 0);
	assert_state(e, lid, "awaiting_approval");

	/* Only the lead's approval is on record; a settled action is not
	 * approved again. */
	assert_non_null(a = it_action(e, ids[0]));
	json_decref(a);
	{
		json_t *o = it_out_json(e);

		assert_non_null(o);
		apps = json_object_get(o, "approvals");
		assert_int_equal(json_array_size(apps), 1);
		assert_non_null(strstr(json_string_value(json_object_get(
		    json_array_get(apps, 0), "approver")), IT_LEAD "("));
		json_decref(o);
	}
	assert_int_equal(it_cordon(e, IT_LEAD2, "approve", aref(ids[0], ref),
	    NULL), 3);
	assert_true(it_err_has(e, "not awaiting approval"));
}

static void
test_already_locked_no_change(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32];
	int64_t		 id;
	size_t		 n, i;
	json_t		*a, *j, *x;
	const char	*msg;
	int		 seen = 0;

	assert_int_equal(it_ldap_set_lock(e, "alice", IT_LOCK_FOREVER), 0);
	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=alice", NULL), 0);
	assert_true(it_out_has(e, "change: none (already done)"));
	assert_true(it_out_has(e, "1 action(s): 0 change, 1 already done"));

	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "alice", &id, 1,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_state(e, id, "awaiting_approval");
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	assert_non_null(a = it_action(e, id));
	msg = json_string_value(json_object_get(a, "message"));
	if (msg == NULL || strstr(msg, "no change") == NULL)
		fail_msg("A%lld message '%s' lacks 'no change'", (long long)id,
		    msg ? msg : "(null)");
	json_decref(a);
	assert_non_null(j = it_journal(e));
	json_array_foreach(j, i, x) {
		if (json_integer_value(json_object_get(x, "action")) == id &&
		    strcmp(json_string_value(json_object_get(x, "event")),
		    "succeeded") == 0 &&
		    json_is_true(json_object_get(json_object_get(x, "payload"),
		    "no_change")))
			seen++;
	}
	json_decref(j);
	assert_int_equal(seen, 1);
	assert_lock(e, "alice", IT_LOCK_FOREVER);
}

static void
test_unknown_account_fails(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], run[32];
	int64_t		 ids[2];
	size_t		 n;
	json_t		*a;
	const char	*msg;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=nosuchuser", NULL), 0);
	assert_true(it_out_has(e, "FAILS: no entry with uid='nosuchuser'"));

	/* The run queues the failure as a record; the exit says so. */
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "nosuchuser",
	    ids, 2, &n), 1);
	assert_int_equal(n, 1);
	assert_state(e, ids[0], "failed");
	assert_non_null(a = it_action(e, ids[0]));
	msg = json_string_value(json_object_get(a, "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "no entry"));
	json_decref(a);
	(void)snprintf(run, sizeof(run), "%lld", (long long)e->last_run);
	assert_int_equal(it_cordon(e, IT_OP, "wait", run, "--timeout", "10",
	    NULL), 1);
	assert_true(it_err_has(e, "1 action(s) failed"));
}

static void
test_show_and_refusals_journaled(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32];
	int64_t		 id;
	size_t		 n, i;
	json_t		*j, *x;
	int		 op_refused = 0, nobody_refused = 0;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "alice", &id, 1,
	    &n), 0);
	assert_int_equal(it_cordon(e, IT_AUD, "show", aref(id, ref), NULL), 0);
	assert_true(it_out_has(e, "awaiting_approval"));
	assert_true(it_out_has(e, "\"dn\":\"uid=alice," IT_PEOPLE "\""));
	assert_true(it_out_has(e, "change            add pwdAccountLockedTime: "
	    IT_LOCK_FOREVER "\n"));
	assert_true(it_out_has(e, "requested by      " IT_OP "("));

	assert_int_equal(it_cordon(e, IT_OP, "approve", ref, NULL), 3);
	assert_int_equal(it_cordon(e, IT_NOBODY, "incident", "open",
	    "--customer", "acme", "--title", "x", NULL), 3);
	assert_int_equal(it_cordon(e, IT_NOBODY, "show", ref, NULL), 3);

	assert_non_null(j = it_journal(e));
	json_array_foreach(j, i, x) {
		const char *ev = json_string_value(json_object_get(x, "event"));
		const char *actor = json_string_value(json_object_get(x,
		    "actor"));
		const char *why = json_string_value(json_object_get(
		    json_object_get(x, "payload"), "reason"));

		if (ev == NULL || strcmp(ev, "refused") != 0)
			continue;
		assert_non_null(why);
		assert_true(*why != '\0');
		if (strncmp(actor, IT_OP "(", strlen(IT_OP) + 1) == 0)
			op_refused++;
		if (strncmp(actor, IT_NOBODY "(", strlen(IT_NOBODY) + 1) == 0)
			nobody_refused++;
	}
	json_decref(j);
	assert_int_equal(op_refused, 1);
	assert_int_equal(nobody_refused, 2);
	/*
	 * The refusals of 'approve A<id>' (operator) and 'show A<id>'
	 * (nobody) say which action was refused.
	 */
	if (it_journal_count(e, "refused", id) != 2)
		fail_msg("the refused 'approve A%lld' by " IT_OP " and 'show' "
		    "by " IT_NOBODY " are not both journaled with the action "
		    "id", (long long)id);
}

static void
test_undo_restores(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32];
	int64_t		 id, uid;
	long long	 u, r;

	assert_int_equal(it_incident_open(e, inc), 0);
	id = lock_via_cordon(e, inc, "alice");
	assert_lock(e, "alice", IT_LOCK_FOREVER);
	assert_int_equal(it_ldap_user_bind(e, "alice"), 49);

	assert_int_equal(it_cordon(e, IT_OP, "undo", aref(id, ref), NULL), 0);
	if (sscanf(e->out, "undo of %*s queued as A%lld (run %lld)", &u,
	    &r) != 2)
		fail_msg("cannot read the undo id from '%s'", e->out);
	uid = u;
	assert_true(it_out_has(e, ": awaiting_approval"));
	assert_state(e, uid, "awaiting_approval");
	/* Nothing is restored before the approval. */
	assert_lock(e, "alice", IT_LOCK_FOREVER);

	/* Same policy as the lock: a lead, not the requester. */
	assert_int_equal(it_cordon(e, IT_OP, "approve", aref(uid, ref), NULL),
	    3);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, uid, "succeeded", IT_SETTLE_S), 0);
	assert_int_equal(it_wait_action(e, id, "undone", IT_SETTLE_S), 0);
	assert_lock(e, "alice", NULL);
	assert_int_equal(it_ldap_user_bind(e, "alice"), 0);

	/* Neither the undone action nor the undo can be undone again. */
	assert_int_equal(it_cordon(e, IT_OP, "undo", aref(id, ref), NULL), 3);
	assert_int_equal(it_cordon(e, IT_OP, "undo", aref(uid, ref), NULL), 3);
}

static void
test_plan_change_voids_approval(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32];
	int64_t		 id;
	size_t		 n;
	json_t		*a, *o, *apps;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "carol", &id, 1,
	    &n), 0);
	assert_state(e, id, "awaiting_approval");
	/* Someone puts a temporary lock on carol after the plan was made. */
	assert_int_equal(it_ldap_set_lock(e, "carol", "20991231000000Z"), 0);

	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	assert_int_equal(wait_journal(e, "plan_changed", id, IT_SETTLE_S), 0);
	assert_state(e, id, "awaiting_approval");
	/* The stale plan ("add") did not run. */
	assert_lock(e, "carol", "20991231000000Z");
	assert_non_null(a = it_action(e, id));
	assert_string_equal(json_string_value(json_object_get(a, "change")),
	    "replace pwdAccountLockedTime: 20991231000000Z -> "
	    IT_LOCK_FOREVER);
	json_decref(a);
	assert_non_null(o = it_out_json(e));
	apps = json_object_get(o, "approvals");
	assert_int_equal(json_array_size(apps), 1);
	assert_true(json_is_false(json_object_get(json_array_get(apps, 0),
	    "current")));
	json_decref(o);

	/* Approving the plan as it now stands runs it. */
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	assert_lock(e, "carol", IT_LOCK_FOREVER);
	assert_int_equal(it_ldap_user_bind(e, "carol"), 49);
}

/* Splits text into lines (without their newlines); returns the count. */
static size_t
split_lines(char *text, char **lines, size_t max)
{
	size_t	n = 0;
	char	*p = text, *nl;

	while (*p && n < max) {
		lines[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

static void
write_lines(const char *path, char **lines, size_t n)
{
	FILE	*f = fopen(path, "w");
	size_t	 i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		assert_true(fprintf(f, "%s\n", lines[i]) > 0);
	assert_int_equal(fclose(f), 0);
}

/* Changes one letter inside a string of the line's payload. */
static void
alter_payload(char *line)
{
	char	*p = strstr(line, "\"payload\":{");
	int	 in_str = 0;

	assert_non_null(p);
	for (p += strlen("\"payload\":{"); *p; p++) {
		if (*p == '"' && p[-1] != '\\') {
			in_str = !in_str;
			continue;
		}
		if (in_str && *p >= 'a' && *p <= 'y' && p[-1] != '\\') {
			(*p)++;
			return;
		}
	}
	fail_msg("no letter to alter in '%s'", line);
}

/* `cordon journal verify path` must fail, naming line. */
static void
assert_verify_fails_at(struct it_env *e, const char *path, size_t line)
{
	char	want[64];

	(void)snprintf(want, sizeof(want), "line %zu (", line);
	assert_int_equal(it_cordon(e, IT_ROOT, "journal", "verify", path,
	    NULL), 1);
	if (!it_err_has(e, "verify FAILED") || !it_err_has(e, want))
		fail_msg("verify of '%s' should name '%s': %s", path, want,
		    e->err);
}

static void
test_journal_export_verify_tamper(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX], bad[IT_PATH_MAX];
	char		 want[64], head[HASH_HEX_LEN + 1], err[512];
	char		*text, *lines[4096], *tmp;
	size_t		 n, m;
	int64_t		 count = 0;
	FILE		*f;

	assert_int_equal(it_incident_open(e, inc), 0);
	(void)lock_via_cordon(e, inc, "alice");
	(void)lock_via_cordon(e, inc, "bob");

	/* The whole chain is for those who may audit every customer. */
	assert_int_equal(it_cordon(e, IT_NOBODY, "journal", "export", NULL),
	    3);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", NULL), 0);
	(void)it_tpath(e, "journal.jsonl", path);
	assert_int_equal(it_write_file(path, e->out, e->outlen, 0644), 0);
	assert_non_null(text = strdup(e->out));
	n = split_lines(text, lines, 4096);
	assert_true(n >= 10);

	assert_int_equal(it_cordon(e, IT_ROOT, "journal", "verify", path,
	    NULL), 0);
	(void)snprintf(want, sizeof(want), ": ok, %zu entries, head ", n);
	assert_true(it_out_has(e, want));
	/* The library agrees, and so does a verify of the agent's copy. */
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(journal_verify_stream(f, &count, head, err,
	    sizeof(err)), 0);
	(void)fclose(f);
	assert_int_equal(count, (int64_t)n);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "verify", NULL), 0);

	m = n / 2;	/* 0-based index of the middle entry */

	/* One byte of one payload. */
	{
		char *orig = lines[m];

		assert_non_null(tmp = strdup(orig));
		alter_payload(tmp);
		lines[m] = tmp;
		(void)it_tpath(e, "altered.jsonl", bad);
		write_lines(bad, lines, n);
		lines[m] = orig;
		free(tmp);
		assert_verify_fails_at(e, bad, m + 1);
	}
	/* A deleted entry. */
	(void)it_tpath(e, "deleted.jsonl", bad);
	{
		char *orig = lines[m];

		memmove(&lines[m], &lines[m + 1], (n - m - 1) * sizeof(*lines));
		write_lines(bad, lines, n - 1);
		memmove(&lines[m + 1], &lines[m], (n - m - 1) * sizeof(*lines));
		lines[m] = orig;
		assert_verify_fails_at(e, bad, m + 1);
	}
	/* Two entries swapped. */
	(void)it_tpath(e, "swapped.jsonl", bad);
	tmp = lines[m];
	lines[m] = lines[m + 1];
	lines[m + 1] = tmp;
	write_lines(bad, lines, n);
	assert_verify_fails_at(e, bad, m + 1);
	free(text);

	/* The untouched export still verifies. */
	assert_int_equal(it_cordon(e, IT_ROOT, "journal", "verify", path,
	    NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_without_agent),
		cmocka_unit_test_setup_teardown(test_incident_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_plan_writes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_four_eyes_then_lock,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_locked_no_change,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_account_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_show_and_refusals_journaled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_restores, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_plan_change_voids_approval, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_journal_export_verify_tamper, setup, teardown),
	};

	return cmocka_run_group_tests_name("it_core", tests, group_setup,
	    group_teardown);
}
