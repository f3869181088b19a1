/*
 * test_pending_runbook: list parameters in runbook_expand()
 * (agent/runbook.c, resolve_params) -- fails until fixed.
 *
 * 1. A list parameter given as a JSON array with a non-string item is
 *    cut short at that item, silently: ["alice", 5, "bob"] locks alice
 *    only, and the run looks complete.  It must be refused.
 * 2. A list parameter that falls back to its 'default' leaks the JSON
 *    string made from the default (tmp is overwritten by the
 *    json_array_foreach loop before json_decref(tmp)).  Counted here with
 *    jansson's allocator hooks, so the plain build fails too, not only
 *    LeakSanitizer.
 */
#include <errno.h>
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

#define RB_FILE		"t.runbook"
#define ERR_MAX		1024

/* Live jansson allocations: each block carries its own header. */
static long	json_live;

static void *
count_malloc(size_t n)
{
	void	*p = malloc(n);

	if (p != NULL)
		json_live++;
	return p;
}

static void
count_free(void *p)
{
	if (p != NULL)
		json_live--;
	free(p);
}

static const char rb_text[] =
    "params = (\n"
    "\t{ name = \"accounts\"; type = \"list\"; default = \"alice,bob\"; }\n"
    ");\n"
    "steps = (\n"
    "\t{ name = \"lock\"; verb = \"ldap.disable_account\";\n"
    "\t  target = \"corp-ldap\"; foreach = \"${accounts}\";\n"
    "\t  args = { account = \"${item}\"; }; }\n"
    ");\n";

struct fixture {
	struct customer	 cu;
	struct target	 t;
	struct runbook	*rb;
	char		 err[ERR_MAX];
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	f->cu.name = "acme";
	f->cu.targets = &f->t;
	f->cu.ntargets = 1;
	f->t.name = "corp-ldap";
	f->t.type = "ldap";
	f->t.opts = json_object();
	f->t.customer = &f->cu;
	if (runbook_parse(RB_FILE, rb_text, &f->rb, f->err,
	    sizeof(f->err)) != 0) {
		print_error("%s\n", f->err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	runbook_free(f->rb);
	json_decref(f->t.opts);
	free(f);
	return 0;
}

static void
free_acts(struct act **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		act_free(v[i]);
	free(v);
}

static void
test_pending_runbook_list_non_string_item_refused(void **state)
{
	struct fixture	*f = *state;
	struct act	**v = NULL;
	size_t		  n = 0;
	json_t		 *given;
	int		  r;

	given = json_pack("{s:[s,i,s]}", "accounts", "alice", 5, "bob");
	r = runbook_expand(f->rb, &f->cu, given, 100, &v, &n, f->err,
	    sizeof(f->err));
	json_decref(given);
	if (r == 0) {
		free_acts(v, n);
		fail_msg("['alice', 5, 'bob'] expanded to %zu act(s); "
		    "expected a refusal", n);
	}
	assert_int_equal(r, -EINVAL);
	assert_true(strncmp(f->err, RB_FILE ":2: parameter 'accounts'",
	    strlen(RB_FILE ":2: parameter 'accounts'")) == 0);
}

static void
test_pending_runbook_list_default_no_leak(void **state)
{
	struct fixture	*f = *state;
	struct act	**v = NULL;
	size_t		  n = 0;
	json_t		 *given;
	long		  before;

	before = json_live;
	given = json_object();
	assert_int_equal(runbook_expand(f->rb, &f->cu, given, 100, &v, &n,
	    f->err, sizeof(f->err)), 0);
	json_decref(given);
	assert_int_equal(n, 2);
	assert_string_equal(act_param(v[0], "account"), "alice");
	assert_string_equal(act_param(v[1], "account"), "bob");
	free_acts(v, n);
	/* Everything jansson allocated for the expansion is freed again. */
	assert_int_equal(json_live, before);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pending_runbook_list_non_string_item_refused),
		T(test_pending_runbook_list_default_no_leak),
	};
#undef T

	/* Before any jansson allocation, so every block is counted. */
	json_set_alloc_funcs(count_malloc, count_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
