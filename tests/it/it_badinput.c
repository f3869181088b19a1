/*
 * it_badinput: what cordon does with broken or hostile input -- configs,
 * a reload onto a broken config, malformed runbooks, account names built
 * to escape an LDAP filter or DN, oversized and NUL-carrying values, empty
 * lists, and action ids that do not exist.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PORT	38922

static const char *const people[] = {
	"alice", "bob", "carol", "dave", "breakglass",
};

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

/* A test dir and no agent: for tests that start cordon themselves. */
static int
setup_dir(void **state)
{
	return it_test_dir(*state);
}

static int
teardown_dir(void **state)
{
	return it_test_teardown(*state);
}

/* Asserts that stderr carries "PATH:LINE: ". */
static void
assert_err_at(struct it_env *e, const char *path, int line)
{
	char	want[IT_PATH_MAX + 32];

	(void)snprintf(want, sizeof(want), "%s:%d: ", path, line);
	if (!it_err_has(e, want))
		fail_msg("stderr lacks '%s': %s", want, e->err);
}

/* 1-based number of the first line of the file holding needle. */
static int
line_of(const char *path, const char *needle)
{
	char	*text, *p, *hit;
	size_t	 len;
	int	 line = 1;

	assert_int_equal(it_read_file(path, &text, &len), 0);
	assert_non_null(hit = strstr(text, needle));
	for (p = text; p < hit; p++)
		if (*p == '\n')
			line++;
	free(text);
	return line;
}

/* Every test user is unlocked and binds with its password. */
static void
assert_directory_untouched(struct it_env *e)
{
	char	v[128];
	size_t	i;

	for (i = 0; i < sizeof(people) / sizeof(*people); i++) {
		if (it_ldap_lock(e, people[i], v, sizeof(v)) != 0)
			fail_msg("'%s' has pwdAccountLockedTime '%s'",
			    people[i], v);
		assert_int_equal(it_ldap_user_bind(e, people[i]), 0);
	}
}

static void
test_config_syntax_error(void **state)
{
	struct it_env	*e = *state;
	static const char broken[] =
	    "agent: {\n"
	    "\tsocket = \"/tmp/cordon-it-never.sock\";\n"
	    "\tstore = \"/tmp/cordon-it-never.db\";\n"
	    "\tbatch = ;\n"
	    "};\n";
	char		 path[IT_PATH_MAX];

	(void)it_tpath(e, "broken.conf", path);
	assert_int_equal(it_write_file(path, broken, strlen(broken), 0600), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", path, NULL), 2);
	assert_err_at(e, path, 4);
	assert_int_equal(it_cordonv(e, IT_ROOT, NULL, (const char *[]){
	    "agent", "-c", path, NULL }, 10), 2);
	assert_err_at(e, path, 4);
	assert_int_equal(access("/tmp/cordon-it-never.sock", F_OK), -1);

	/* A well-formed file that says something wrong: same form. */
	{
		const struct it_conf c = {
			.roles_extra = "{ user = \"" IT_NOBODY "\"; "
			    "role = \"boss\"; }",
		};

		(void)it_tpath(e, "badrole.conf", path);
		assert_int_equal(it_config_write(e, path, &c), 0);
		assert_int_equal(it_cordon(e, IT_ROOT, "check-config", path,
		    NULL), 2);
		assert_err_at(e, path, line_of(path, "boss"));
		assert_true(it_err_has(e, "unknown role 'boss'"));
		assert_int_equal(it_cordonv(e, IT_ROOT, NULL, (const char *[]){
		    "agent", "-c", path, NULL }, 10), 2);
		assert_err_at(e, path, line_of(path, "boss"));
	}
	/* The control: the standard config is fine. */
	assert_int_equal(it_config_write(e, e->conf, NULL), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", e->conf, NULL),
	    0);
	assert_true(it_out_has(e, ": ok (1 customer)"));
}

static void
test_password_file_mode(void **state)
{
	struct it_env	*e = *state;
	char		 pw[IT_PATH_MAX], conf[IT_PATH_MAX];
	const struct it_conf c = { .password_file = pw };

	(void)it_tpath(e, "loose.pw", pw);
	(void)it_tpath(e, "loose.conf", conf);
	assert_int_equal(it_write_file(pw, IT_SVC_PW, strlen(IT_SVC_PW),
	    0644), 0);
	assert_int_equal(it_config_write(e, conf, &c), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "group or others"));
	assert_err_at(e, conf, line_of(conf, "name = \"corp-ldap\"") - 1);
	assert_int_equal(it_cordonv(e, IT_ROOT, NULL, (const char *[]){
	    "agent", "-c", conf, NULL }, 10), 2);
	assert_true(it_err_has(e, "group or others"));
	/* The secret itself is never part of the complaint. */
	assert_false(it_err_has(e, IT_SVC_PW));

	/* Group-readable is as bad as world-readable. */
	assert_int_equal(it_write_file(pw, IT_SVC_PW, strlen(IT_SVC_PW),
	    0640), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "group or others"));
	assert_int_equal(it_write_file(pw, IT_SVC_PW, strlen(IT_SVC_PW),
	    0600), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 0);
}

static void
test_sighup_broken_config_keeps_old(void **state)
{
	struct it_env	*e = *state;
	static const char broken[] = "agent: {\n\tsocket = \n";
	const struct it_conf more = {
		.roles_extra = "{ user = \"" IT_NOBODY "\"; "
		    "role = \"operator\"; }",
	};

	assert_int_equal(it_write_file(e->conf, broken, strlen(broken),
	    0600), 0);
	assert_int_equal(kill(e->agent, SIGHUP), 0);
	assert_int_equal(it_wait_file_has(e->log, "reload refused", 5), 0);
	assert_true(it_file_has(e->log, e->conf) == 1);
	assert_true(it_agent_alive(e));
	/* Still serving, on the config it had. */
	assert_int_equal(it_cordon(e, IT_OP, "queue", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "after a bad reload", NULL), 0);
	assert_int_equal(it_cordon(e, IT_NOBODY, "incident", "open",
	    "--customer", "acme", "--title", "x", NULL), 3);

	/* A good config is taken. */
	assert_int_equal(it_config_write(e, e->conf, &more), 0);
	assert_int_equal(kill(e->agent, SIGHUP), 0);
	assert_int_equal(it_wait_file_has(e->log, "config reloaded", 5), 0);
	assert_int_equal(it_cordon(e, IT_NOBODY, "incident", "open",
	    "--customer", "acme", "--title", "x", NULL), 0);
	assert_true(it_agent_alive(e));
}

struct bad_runbook {
	const char	*name;
	const char	*text;
	const char	*set2;		/* a second --set, or NULL */
	int		 line;		/* where the error is */
	const char	*why;
};

#define RB_PARAMS \
	"name = \"t\";\n" \
	"params = (\n" \
	"\t{ name = \"accounts\"; type = \"list\"; required = true; }\n" \
	");\n"

static const struct bad_runbook bad_runbooks[] = {
	{ "syntax.runbook", RB_PARAMS
	    "steps = (\n"
	    "\t{\n"
	    "\t\tname == \"lock\";\n"			/* 7 */
	    "\t\tverb = \"ldap.disable_account\";\n"
	    "\t}\n"
	    ");\n", NULL, 7, "syntax error" },
	{ "verb.runbook", RB_PARAMS
	    "steps = (\n"
	    "\t{\n"
	    "\t\tname = \"lock\";\n"
	    "\t\tverb = \"ldap.format_disk\";\n"	/* 8 */
	    "\t\ttarget = \"corp-ldap\";\n"
	    "\t\tforeach = \"${accounts}\";\n"
	    "\t\targs = { account = \"${item}\"; };\n"
	    "\t}\n"
	    ");\n", NULL, 8, "unknown verb 'ldap.format_disk'" },
	{ "target.runbook", RB_PARAMS
	    "steps = (\n"
	    "\t{\n"					/* 6 */
	    "\t\tname = \"lock\";\n"
	    "\t\tverb = \"ldap.disable_account\";\n"
	    "\t\ttarget = \"other-ldap\";\n"
	    "\t\tforeach = \"${accounts}\";\n"
	    "\t\targs = { account = \"${item}\"; };\n"
	    "\t}\n"
	    ");\n", NULL, 6, "no target or target group 'other-ldap'" },
	{ "missing.runbook",
	    "name = \"t\";\n"
	    "params = (\n"
	    "\t{ name = \"accounts\"; type = \"list\"; required = true; },\n"
	    "\t{ name = \"ticket\"; type = \"string\"; required = true; }\n"
	    ");\n"					/* 4 */
	    "steps = (\n"
	    "\t{\n"
	    "\t\tname = \"lock\";\n"
	    "\t\tverb = \"ldap.disable_account\";\n"
	    "\t\ttarget = \"corp-ldap\";\n"
	    "\t\tforeach = \"${accounts}\";\n"
	    "\t\targs = { account = \"${item}\"; };\n"
	    "\t}\n"
	    ");\n", NULL, 4, "missing parameter 'ticket'" },
	{ "int.runbook",
	    "name = \"t\";\n"
	    "params = (\n"
	    "\t{ name = \"accounts\"; type = \"list\"; required = true; },\n"
	    "\t{ name = \"limit\"; type = \"int\"; required = true; }\n"
	    ");\n"					/* 4 */
	    "steps = (\n"
	    "\t{\n"
	    "\t\tname = \"lock\";\n"
	    "\t\tverb = \"ldap.disable_account\";\n"
	    "\t\ttarget = \"corp-ldap\";\n"
	    "\t\tforeach = \"${accounts}\";\n"
	    "\t\targs = { account = \"${item}\"; };\n"
	    "\t}\n"
	    ");\n", "limit=ten", 4, "must be an integer" },
};

static void
test_runbook_malformed(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX];
	size_t		 i;

	assert_int_equal(it_incident_open(e, inc), 0);
	for (i = 0; i < sizeof(bad_runbooks) / sizeof(*bad_runbooks); i++) {
		const struct bad_runbook *b = &bad_runbooks[i];
		const char *plan[] = { "plan", path, "--incident", inc,
		    "--set", "accounts=alice", b->set2 ? "--set" : NULL,
		    b->set2, NULL };

		(void)it_tpath(e, b->name, path);
		assert_int_equal(it_write_file(path, b->text, strlen(b->text),
		    0644), 0);
		if (it_cordonv(e, IT_OP, NULL, plan, IT_CMD_TIMEOUT_S) != 2)
			fail_msg("%s: plan exit %d, want 2: %s", b->name,
			    e->status, e->err);
		assert_err_at(e, path, b->line);
		if (!it_err_has(e, b->why))
			fail_msg("%s: stderr lacks '%s': %s", b->name, b->why,
			    e->err);
		plan[0] = "run";
		assert_int_equal(it_cordonv(e, IT_OP, NULL, plan,
		    IT_CMD_TIMEOUT_S), 2);
		assert_err_at(e, path, b->line);
	}
	assert_int_equal(it_queue_count(e), 0);
	assert_directory_untouched(e);
}

static void
test_hostile_account_names(void **state)
{
	struct it_env	*e = *state;
	static const char *const names[] = {
		"*)(uid=*", "bob,ou=x", "alice)(|(uid=*",
	};
	static const char file[] = "*)(uid=*\nbob,ou=x\nalice)(|(uid=*\n";
	char		 inc[32], path[IT_PATH_MAX], set[IT_PATH_MAX + 16];
	int64_t		 ids[8];
	size_t		 n, i;
	json_t		*a;
	const char	*msg;

	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_tpath(e, "hostile.txt", path);
	assert_int_equal(it_write_file(path, file, strlen(file), 0644), 0);
	(void)snprintf(set, sizeof(set), "accounts=%s", path);
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set-file", set, "--json", NULL), 1);
	{
		json_t *o = it_out_json(e), *v;

		assert_non_null(o);
		n = 0;
		json_array_foreach(json_object_get(o, "actions"), i, v)
			if (n < 8)
				ids[n++] = json_integer_value(v);
		json_decref(o);
	}
	assert_int_equal(n, 3);
	/* Queued as typed, each one failing to find anything. */
	for (i = 0; i < n; i++) {
		assert_non_null(a = it_action(e, ids[i]));
		assert_string_equal(json_string_value(json_object_get(a,
		    "state")), "failed");
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(a, "params"), "account")), names[i]);
		msg = json_string_value(json_object_get(a, "message"));
		if (msg == NULL || strstr(msg, "no entry") == NULL)
			fail_msg("A%lld: message '%s'", (long long)ids[i],
			    msg ? msg : "(null)");
		json_decref(a);
	}
	/* A bare wildcard is a name, never "everyone". */
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "*", ids, 8,
	    &n), 1);
	assert_int_equal(n, 1);
	assert_non_null(a = it_action(e, ids[0]));
	assert_string_equal(json_string_value(json_object_get(a, "state")),
	    "failed");
	assert_non_null(strstr(json_string_value(json_object_get(a,
	    "message")), "no entry"));
	json_decref(a);

	/* A lead has nothing to approve, and nothing changed. */
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", "--all-for", inc,
	    NULL), 2);
	assert_true(it_err_has(e, "nothing awaits approval"));
	assert_directory_untouched(e);
}

static void
test_oversized_and_nul_names(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX], set[IT_PATH_MAX + 16];
	char		*big;
	static const char nul[] = "ali\0ce\nbob\n";

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_non_null(big = malloc(10002));
	memset(big, 'a', 10000);
	big[10000] = '\n';
	big[10001] = '\0';
	(void)it_tpath(e, "long.txt", path);
	assert_int_equal(it_write_file(path, big, 10001, 0644), 0);
	free(big);
	(void)snprintf(set, sizeof(set), "accounts=%s", path);
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set-file", set, NULL), 2);
	assert_true(it_err_has(e, "too long"));
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set-file", set, NULL), 2);

	(void)it_tpath(e, "nul.txt", path);
	assert_int_equal(it_write_file(path, nul, sizeof(nul) - 1, 0644), 0);
	(void)snprintf(set, sizeof(set), "accounts=%s", path);
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set-file", set, NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set-file", set, NULL), 2);

	assert_int_equal(it_queue_count(e), 0);
	assert_true(it_agent_alive(e));
	assert_directory_untouched(e);
}

static void
test_empty_foreach(void **state)
{
	struct it_env	*e = *state;
	static const char blank[] = "\n\n";
	char		 inc[32], path[IT_PATH_MAX], set[IT_PATH_MAX + 16];

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set", "accounts=", NULL), 2);
	assert_true(it_err_has(e, "empty"));
	assert_int_equal(it_cordon(e, IT_OP, "plan", e->runbook, "--incident",
	    inc, "--set", "accounts=", NULL), 2);
	assert_true(it_err_has(e, "empty"));
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set", "accounts=,", NULL), 2);
	assert_true(it_err_has(e, "empty"));
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set", "accounts=,,,", NULL), 2);
	assert_true(it_err_has(e, "empty"));
	(void)it_tpath(e, "blank.txt", path);
	assert_int_equal(it_write_file(path, blank, strlen(blank), 0644), 0);
	(void)snprintf(set, sizeof(set), "accounts=%s", path);
	assert_int_equal(it_cordon(e, IT_OP, "run", e->runbook, "--incident",
	    inc, "--set-file", set, NULL), 2);
	assert_true(it_err_has(e, "empty"));
	assert_int_equal(it_queue_count(e), 0);
	assert_directory_untouched(e);
}

static void
test_unknown_action_ids(void **state)
{
	struct it_env	*e = *state;

	assert_int_equal(it_cordon(e, IT_LEAD, "approve", "A999", NULL), 2);
	assert_true(it_err_has(e, "no action A999"));
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", "Abc", NULL), 2);
	assert_true(it_err_has(e, "bad action id"));
	assert_int_equal(it_cordon(e, IT_LEAD, "reject", "A999", "--reason",
	    "x", NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "undo", "A999", NULL), 2);
	assert_int_equal(it_cordon(e, IT_AUD, "show", "A999", NULL), 2);
	assert_int_equal(it_cordon(e, IT_AUD, "wait", "999", "--timeout", "5",
	    NULL), 2);
	/* Still there, still serving. */
	assert_true(it_agent_alive(e));
	assert_int_equal(it_cordon(e, IT_OP, "queue", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_syntax_error,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_password_file_mode,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
		    test_sighup_broken_config_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runbook_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_account_names,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_and_nul_names,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_foreach, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_action_ids, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("it_badinput", tests, group_setup,
	    group_teardown);
}
