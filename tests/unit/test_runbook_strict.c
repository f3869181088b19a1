/*
 * test_runbook_strict: what a runbook may not do -- include other files,
 * reuse a step name, carry unknown keys -- and a default of the wrong
 * type, which once read freed memory while reporting it.
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
#include "../../agent/config.h"
#include "../../agent/runbook.h"
#include "../../agent/util.h"

#define RB_FILE	"t.runbook"
#define ERR_MAX	1024

#define STEP(name) \
	"\t{ name = \"" name "\"; verb = \"ldap.disable_account\";\n" \
	"\t  target = \"corp-ldap\"; args = { account = \"alice\"; }; }"

static void
parse_fails(const char *text, const char *want)
{
	struct runbook	*rb = (struct runbook *)0x1;
	char		 err[ERR_MAX];

	assert_int_not_equal(runbook_parse(RB_FILE, text, &rb, err,
	    sizeof(err)), 0);
	assert_ptr_equal(rb, (struct runbook *)0x1);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s', want prefix '%s'", err, want);
}

static void
test_runbook_include_refused(void **state)
{
	(void)state;
	parse_fails("steps = (\n" STEP("a") "\n);\n  @include \"/etc/passwd\"\n",
	    RB_FILE ":5: @include is not allowed");
}

static void
test_runbook_duplicate_step_refused(void **state)
{
	(void)state;
	parse_fails("steps = (\n" STEP("a") ",\n" STEP("a") "\n);\n",
	    RB_FILE ":4: duplicate step name 'a'");
}

static void
test_runbook_unknown_keys_refused(void **state)
{
	(void)state;
	parse_fails("params = (\n\t{ name = \"n\"; type = \"int\"; "
	    "requird = true; }\n);\nsteps = (\n" STEP("a") "\n);\n",
	    RB_FILE ":2: unknown key 'requird'");
	parse_fails("steps = (\n\t{ name = \"a\"; verb = "
	    "\"ldap.disable_account\";\n\t  target = \"corp-ldap\"; "
	    "args = { account = \"x\"; };\n\t  aproval = \"none\"; }\n);\n",
	    RB_FILE ":4: unknown key 'aproval'");
	parse_fails("params = (\n\t{ name = \"n\"; type = \"int\"; "
	    "required = 1; }\n);\nsteps = (\n" STEP("a") "\n);\n",
	    RB_FILE ":2: 'required' must be true or false");
}

static void
parse_ok(const char *text)
{
	struct runbook	*rb = NULL;
	char		 err[ERR_MAX];

	if (runbook_parse(RB_FILE, text, &rb, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	runbook_free(rb);
}

/* An irreversible verb (no undo) is never run without an approver. */
static void
test_runbook_irreversible_needs_approval(void **state)
{
	(void)state;
	parse_fails("steps = (\n\t{ name = \"r\"; verb = "
	    "\"ldap.reset_password\";\n\t  target = \"corp-ldap\"; "
	    "args = { account = \"x\"; };\n\t  approval = \"none\"; }\n"
	    ");\n", RB_FILE ":4: step 'r': ldap.reset_password cannot be "
	    "undone and needs approval = \"required\"");
	parse_ok("steps = (\n\t{ name = \"r\"; verb = "
	    "\"ldap.reset_password\";\n\t  target = \"corp-ldap\"; "
	    "args = { account = \"x\"; };\n\t  approval = \"required\"; "
	    "}\n);\n");
	/* The default is "required". */
	parse_ok("steps = (\n\t{ name = \"r\"; verb = "
	    "\"ldap.reset_password\";\n\t  target = \"corp-ldap\"; "
	    "args = { account = \"x\"; }; }\n);\n");
	/* Its issue does not ask this of ssh.rotate_password. */
	parse_ok("steps = (\n\t{ name = \"r\"; verb = "
	    "\"ssh.rotate_password\";\n\t  target = \"h\"; "
	    "args = { account = \"x\"; };\n\t  approval = \"none\"; }\n"
	    ");\n");
}

static void
test_runbook_bad_int_default_reported(void **state)
{
	static const char text[] =
	    "params = (\n\t{ name = \"n\"; type = \"int\"; "
	    "default = \"abc\"; }\n);\nsteps = (\n" STEP("a") "\n);\n";
	struct customer	 cu;
	struct target	 t;
	struct runbook	*rb = NULL;
	struct act	**v = NULL;
	json_t		*given = json_object();
	char		 err[ERR_MAX];
	size_t		 n = 0;

	(void)state;
	memset(&cu, 0, sizeof(cu));
	memset(&t, 0, sizeof(t));
	cu.name = "acme";
	cu.targets = &t;
	cu.ntargets = 1;
	t.name = "corp-ldap";
	t.type = "ldap";
	t.customer = &cu;
	assert_int_equal(runbook_parse(RB_FILE, text, &rb, err, sizeof(err)),
	    0);
	assert_int_not_equal(runbook_expand(rb, &cu, given, 10, &v, &n, err,
	    sizeof(err)), 0);
	assert_string_equal(err, RB_FILE ":2: parameter 'n' must be an "
	    "integer, not 'abc'");
	json_decref(given);
	runbook_free(rb);
}

static void
test_runbook_list_of_wrong_type_refused(void **state)
{
	static const char text[] =
	    "params = (\n\t{ name = \"accounts\"; type = \"list\"; }\n);\n"
	    "steps = (\n\t{ name = \"a\"; verb = \"ldap.disable_account\";\n"
	    "\t  target = \"corp-ldap\"; foreach = \"${accounts}\";\n"
	    "\t  args = { account = \"${item}\"; }; }\n);\n";
	struct customer	 cu;
	struct target	 t;
	struct runbook	*rb = NULL;
	struct act	**v = NULL;
	json_t		*given;
	char		 err[ERR_MAX];
	size_t		 n = 0;

	(void)state;
	memset(&cu, 0, sizeof(cu));
	memset(&t, 0, sizeof(t));
	cu.name = "acme";
	cu.targets = &t;
	cu.ntargets = 1;
	t.name = "corp-ldap";
	t.type = "ldap";
	t.customer = &cu;
	assert_int_equal(runbook_parse(RB_FILE, text, &rb, err, sizeof(err)),
	    0);
	given = json_pack("{s:i}", "accounts", 5);
	assert_int_not_equal(runbook_expand(rb, &cu, given, 10, &v, &n, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "must be a list"));
	json_decref(given);
	given = json_pack("{s:[s,s]}", "accounts", "", "alice");
	assert_int_not_equal(runbook_expand(rb, &cu, given, 10, &v, &n, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "item 1 is not a non-empty string"));
	json_decref(given);
	runbook_free(rb);
}

/* A step aimed at a target group runs once per member and item. */
static void
test_runbook_target_group_fans_out(void **state)
{
	static const char text[] =
	    "params = ( { name = \"accounts\"; type = \"list\"; } );\n"
	    "steps = (\n\t{ name = \"a\"; verb = \"ldap.disable_account\";\n"
	    "\t  target = \"all-dirs\"; foreach = \"${accounts}\";\n"
	    "\t  args = { account = \"${item}\"; }; }\n);\n";
	struct customer		 cu;
	struct target		 t[2];
	struct target		*members[2] = { &t[0], &t[1] };
	struct target_group	 g;
	struct runbook		*rb = NULL;
	struct act		**v = NULL;
	json_t			*given = json_pack("{s:s}", "accounts",
	    "alice,bob");
	char			 err[ERR_MAX];
	size_t			 n = 0, i;

	(void)state;
	memset(&cu, 0, sizeof(cu));
	memset(t, 0, sizeof(t));
	cu.name = "acme";
	cu.targets = t;
	cu.ntargets = 2;
	t[0].name = "dir1";
	t[1].name = "dir2";
	t[0].type = t[1].type = "ldap";
	t[0].customer = t[1].customer = &cu;
	g.name = "all-dirs";
	g.members = members;
	g.nmembers = 2;
	g.line = 1;
	cu.tgroups = &g;
	cu.ntgroups = 1;
	assert_int_equal(runbook_parse(RB_FILE, text, &rb, err, sizeof(err)),
	    0);
	assert_int_equal(runbook_expand(rb, &cu, given, 10, &v, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0]->target_name, "dir1");
	assert_string_equal(act_param(v[1], "account"), "bob");
	assert_string_equal(v[3]->target_name, "dir2");
	assert_ptr_equal(v[3]->target, &t[1]);
	/* The cap counts every member's actions. */
	for (i = 0; i < n; i++)
		act_free(v[i]);
	free(v);
	v = NULL;
	assert_int_not_equal(runbook_expand(rb, &cu, given, 3, &v, &n, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "exceed 3 actions"));
	json_decref(given);
	runbook_free(rb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runbook_include_refused),
		cmocka_unit_test(test_runbook_duplicate_step_refused),
		cmocka_unit_test(test_runbook_unknown_keys_refused),
		cmocka_unit_test(test_runbook_irreversible_needs_approval),
		cmocka_unit_test(test_runbook_bad_int_default_reported),
		cmocka_unit_test(test_runbook_list_of_wrong_type_refused),
		cmocka_unit_test(test_runbook_target_group_fans_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
