/*
 * fixture: pieces several integration tests share (fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/util.h"
#include "fixture.h"
#include "harness.h"

int64_t
it_step(struct it_env *e, const char *inc, const char *verb,
    const char *target, const char *args, int approval)
{
	char	rb[IT_PATH_MAX], text[4096];
	int64_t	ids[4];
	size_t	n = 0;
	int	r;

	it_pfmt(text, sizeof(text),
	    "name = \"it-step\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; } );\n"
	    "steps = ( { name = \"s\"; verb = \"%s\"; target = \"%s\";\n"
	    "  foreach = \"${accounts}\";\n"
	    "  args = { %s };\n"
	    "  approval = \"%s\"; on_failure = \"continue\"; } );\n",
	    verb, target, args, approval ? "required" : "none");
	(void)it_tpath(e, "rb.runbook", rb);
	assert_int_equal(it_write_file(rb, text, strlen(text), 0644), 0);
	r = it_run_accounts(e, IT_OP, rb, inc, "x", ids, 4, &n);
	if (r == 3)
		return 0;		/* refused: the reason is in e->err */
	if (r != 0 && r != 1)
		fail_msg("run %s: exit %d: %s%s", verb, r, e->out, e->err);
	return n == 1 ? ids[0] : 0;
}

const char *
it_action_msg(struct it_env *e, int64_t id, char *buf, size_t len)
{
	json_t		*a = it_action(e, id);
	const char	*m = json_string_value(json_object_get(a, "message"));

	it_pfmt(buf, len, "%s", a == NULL ? "?" : m ? m : "");
	json_decref(a);
	return buf;
}

void
it_wait_state(struct it_env *e, int64_t id, const char *want,
    double timeout_s)
{
	char	m[512];

	if (it_wait_action(e, id, want, timeout_s) != 0)
		fail_msg("A%lld is not %s: %s", (long long)id, want,
		    it_action_msg(e, id, m, sizeof(m)));
}

void
it_incident_from(struct it_env *e, time_t from, char inc[32])
{
	char	ts[32], set[64];

	assert_int_equal(it_incident_open(e, inc), 0);
	fmt_time(from, ts);
	it_pfmt(set, sizeof(set), "occurred_from=%s", ts);
	if (it_cordon(e, IT_OP, "incident", "update", inc, "--set", set,
	    NULL) != 0)
		fail_msg("incident update: %s", e->err);
}

void
it_file_is(const char *path, const char *want)
{
	char	*t;
	size_t	 n;

	if (it_read_file(path, &t, &n) != 0)
		fail_msg("cannot read '%s'", path);
	if (n != strlen(want) || memcmp(t, want, n) != 0) {
		/* Copied out: fail_msg does not return to free t. */
		char	got[512];

		(void)snprintf(got, sizeof(got), "%.*s", (int)n, t);
		free(t);
		fail_msg("'%s' holds '%s', want '%s'", path, got, want);
	}
	free(t);
}
