/*
 * test_fw_profile_strict: what a profile may not say, refused at load
 * with file:line -- a capture that would overwrite a built-in variable,
 * a condition written without spaces (it would load and never hold), a
 * non-boolean idempotent, a missing top-level field -- and which steps
 * count as safe to resend.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../actions/fw_expr.h"
#include "../../actions/fw_profile.h"

#define HEAD	"name = \"t\";\nhost = \"ip\";\nauth = { type = \"none\"; };\n"
#define REL	"release = ( { method = \"POST\"; url = \"${base_url|raw}/b\"; " \
		"} );\n"

static char	dir[64];

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/test_fw_strict.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char	p[128];

	(void)state;
	(void)snprintf(p, sizeof(p), "%s/t.profile", dir);
	(void)unlink(p);
	return rmdir(dir);
}

/* Writes text as DIR/t.profile and loads it: 0 or -errno, err filled. */
static int
load_text(const char *text, struct fw_profile **ret, char *err, size_t len)
{
	char	 p[128];
	FILE	*f;

	(void)snprintf(p, sizeof(p), "%s/t.profile", dir);
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	*ret = NULL;
	err[0] = '\0';
	return fw_profile_load(dir, "t", ret, err, len);
}

static void
want_err(const char *text, const char *needle)
{
	struct fw_profile	*p;
	char			 err[512];

	if (load_text(text, &p, err, sizeof(err)) != -EINVAL) {
		fw_profile_free(p);
		fail_msg("loaded, want '%s'", needle);
	}
	assert_null(p);
	if (strstr(err, needle) == NULL)
		fail_msg("want '%s' in '%s'", needle, err);
}

/* A capture may not take a built-in's or a profile var's name. */
static void
test_capture_reserved(void **state)
{
	static const char *const names[] = { "host", "reason", "base_url",
	    "key", "secret", "now", "incident", "action", "alias" };
	char	text[1024], want[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)snprintf(text, sizeof(text), HEAD
		    "vars = { alias = \"q\"; };\n"
		    "isolate = ( { method = \"POST\";\n"
		    "  url = \"${base_url|raw}/a\";\n"
		    "  capture = {\n"
		    "    %s = \"$.x\"; }; } );\n" REL, names[i]);
		(void)snprintf(want, sizeof(want), "t.profile:8: capture '%s' "
		    "would overwrite", names[i]);
		want_err(text, want);
	}
	/* Any other name is fine. */
	{
		struct fw_profile	*p;
		char			 err[512];

		assert_int_equal(load_text(HEAD "isolate = ( { method = "
		    "\"POST\"; url = \"${base_url|raw}/a\"; capture = { "
		    "rule_id = \"$.id\"; }; } );\n" REL, &p, err,
		    sizeof(err)), 0);
		assert_string_equal(p->isolate.v[0]->cap_name[0], "rule_id");
		fw_profile_free(p);
	}
}

/* "$.status==\"Failed\"" is a condition without spaces, not a path. */
static void
test_condition_without_spaces(void **state)
{
	(void)state;
	want_err(HEAD "isolate = ( { method = \"POST\";\n"
	    "  url = \"${base_url|raw}/a\";\n"
	    "  success = [ \"$.status==\\\"Failed\\\"\" ]; } );\n" REL,
	    "t.profile:6: bad condition");
	want_err(HEAD "isolate = ( { method = \"POST\";\n"
	    "  url = \"${base_url|raw}/a\";\n"
	    "  fail = [ \"$.a.b!=1\" ]; } );\n" REL,
	    "t.profile:6: bad condition");
	assert_int_not_equal(fw_path_check("$.status==\"x\""), 0);
	assert_int_not_equal(fw_path_check("$.a>1"), 0);
	assert_int_not_equal(fw_path_check("$.a~x"), 0);
	/* The spaced form, and a quoted key holding '=', still load. */
	assert_int_equal(fw_path_check("$.status"), 0);
	assert_int_equal(fw_path_check("$[\"a=b\"]"), 0);
	{
		char	why[256];

		assert_int_equal(fw_cond_check("$.status == \"Failed\"", NULL,
		    why, sizeof(why)), 0);
		assert_int_not_equal(fw_cond_check("$.status==\"Failed\"",
		    NULL, why, sizeof(why)), 0);
	}
}

/* GET, or a step marked idempotent, may be resent; other writes not. */
static void
test_idempotent(void **state)
{
	struct fw_profile	*p;
	char			 err[512];

	(void)state;
	assert_int_equal(load_text(HEAD
	    "state = ( { method = \"GET\"; url = \"${base_url|raw}/s\"; } );\n"
	    "isolated = \"$.x == 1\";\n"
	    "isolate = ( { method = \"POST\"; url = \"${base_url|raw}/a\"; },\n"
	    "  { method = \"PUT\"; url = \"${base_url|raw}/a\";\n"
	    "    idempotent = true; } );\n" REL, &p, err, sizeof(err)), 0);
	assert_true(p->state.v[0]->idempotent);
	assert_false(p->isolate.v[0]->idempotent);
	assert_true(p->isolate.v[1]->idempotent);
	assert_false(p->release.v[0]->idempotent);
	fw_profile_free(p);
	want_err(HEAD "isolate = ( { method = \"POST\";\n"
	    "  url = \"${base_url|raw}/a\";\n"
	    "  idempotent = \"yes\"; } );\n" REL,
	    "t.profile:6: idempotent must be true or false");
}

/* A field missing at the top has no line: file:1, at top level. */
static void
test_missing_top_level(void **state)
{
	(void)state;
	want_err("name = \"t\";\nhost = \"ip\";\n"
	    "isolate = ( { method = \"POST\"; url = \"${base_url|raw}/a\"; "
	    "} );\n" REL, "t.profile:1: missing 'auth' (at top level)");
	want_err(HEAD REL, "t.profile:1: missing 'isolate' (at top level)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capture_reserved, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_condition_without_spaces,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_top_level, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
