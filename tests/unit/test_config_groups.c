/*
 * test_config_groups: target groups, the fan-out of a runbook step over
 * several targets -- resolved by name, members checked at load with
 * file:line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/config.h"
#include "../../agent/util.h"

static char	dir[64];

static int
load(const char *groups, struct config **ret, char *err, size_t errlen)
{
	char	 path[128], pw[128], *text;
	FILE	*f;
	int	 r;

	(void)snprintf(pw, sizeof(pw), "%s/pw", dir);
	(void)snprintf(path, sizeof(path), "%s/c.conf", dir);
	if ((f = fopen(pw, "w")) == NULL)
		return -1;
	(void)fputs("x", f);
	(void)fclose(f);
	(void)chmod(pw, 0600);
	text = xasprintf(
	    "agent: { socket = \"%s/s\"; store = \"%s/db\"; };\n"	/* 1 */
	    "customers = ( {\n"						/* 2 */
	    "  name = \"acme\";\n"					/* 3 */
	    "  targets = (\n"						/* 4 */
	    "    { name = \"d1\"; type = \"ldap\"; flavour = \"openldap\";"
	    " uri = \"ldap://127.0.0.1:1\"; bind_dn = \"cn=a\";"
	    " password_file = \"%s\"; base_dn = \"dc=x\"; },\n"		/* 5 */
	    "    { name = \"d2\"; type = \"ldap\"; flavour = \"openldap\";"
	    " uri = \"ldap://127.0.0.1:2\"; bind_dn = \"cn=a\";"
	    " password_file = \"%s\"; base_dn = \"dc=x\"; }\n"		/* 6 */
	    "  );\n"							/* 7 */
	    "  target_groups = (\n"					/* 8 */
	    "%s\n"							/* 9 */
	    "  );\n"							/* 10 */
	    "} );\n", dir, dir, pw, pw, groups);
	if ((f = fopen(path, "w")) == NULL) {
		free(text);
		return -1;
	}
	(void)fputs(text, f);
	(void)fclose(f);
	free(text);
	r = config_load(path, ret, err, errlen);
	return r;
}

static void
test_config_groups_resolve(void **state)
{
	struct config	 *c = NULL;
	struct target	**ts = NULL;
	char		  err[512];
	size_t		  n = 0;

	(void)state;
	assert_int_equal(load("    { name = \"dirs\"; members = "
	    "[ \"d2\", \"d1\" ]; }", &c, err, sizeof(err)), 0);
	assert_int_equal(config_targets(&c->customers[0], "dirs", &ts, &n),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(ts[0]->name, "d2");
	assert_string_equal(ts[1]->name, "d1");
	free(ts);
	assert_int_equal(config_targets(&c->customers[0], "d1", &ts, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ts[0]->name, "d1");
	free(ts);
	assert_int_equal(config_targets(&c->customers[0], "nope", &ts, &n),
	    -ENOENT);
	config_free(c);
}

static void
test_config_groups_refused(void **state)
{
	struct config	*c = NULL;
	char		 err[512], want[256];

	(void)state;
	(void)snprintf(want, sizeof(want), "%s/c.conf:9: target group 'g': "
	    "no target 'd3'", dir);
	assert_int_not_equal(load("    { name = \"g\"; members = [ \"d1\", "
	    "\"d3\" ]; }", &c, err, sizeof(err)), 0);
	assert_string_equal(err, want);
	(void)snprintf(want, sizeof(want), "%s/c.conf:9: target group 'd1' "
	    "has the name of a target", dir);
	assert_int_not_equal(load("    { name = \"d1\"; members = [ \"d2\" ]; "
	    "}", &c, err, sizeof(err)), 0);
	assert_string_equal(err, want);
	(void)snprintf(want, sizeof(want), "%s/c.conf:9: target group 'g' "
	    "needs a non-empty 'members' list", dir);
	assert_int_not_equal(load("    { name = \"g\"; members = [ ]; }", &c,
	    err, sizeof(err)), 0);
	assert_string_equal(err, want);
}

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/cordon-groups-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char	p[128];

	(void)state;
	(void)snprintf(p, sizeof(p), "%s/c.conf", dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/pw", dir);
	(void)unlink(p);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_groups_resolve),
		cmocka_unit_test(test_config_groups_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
