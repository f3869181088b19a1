/*
 * test_fw_expr: the provider-profile languages (actions/fw_expr.h) --
 * chained escapings, and conditions on the raw answer and by regular
 * expression -- which every vendor profile's safety rests on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../actions/fw_expr.h"

static void
expands(const char *tmpl, const char *host, const char *want)
{
	json_t	*v = json_pack("{s:s}", "host", host);
	char	*out = NULL, err[256];

	if (fw_expand(tmpl, v, &out, err, sizeof(err)) != 0)
		fail_msg("%s: %s", tmpl, err);
	assert_string_equal(out, want);
	free(out);
	json_decref(v);
}

static void
test_fw_expr_chains(void **state)
{
	(void)state;
	/* XML inside a form field: entities first, then %XX. */
	expands("${host|xml|form}", "a<\"&'", "a%26lt%3b%26quot%3b%26amp%3b"
	    "%26apos%3b");
	/* An OData literal inside a URL: quote doubled, then %XX. */
	expands("'${host|odata|url}'", "o'k q", "'o%27%27k%20q'");
	/* A literal in a regex inside a JSON string. */
	expands("\"${host|re|json}\"", "a.b\\(c)", "\"a\\\\.b\\\\\\\\\\\\(c\\\\)\"");
	expands("${host|odata}", "it''s", "it''''s");
	expands("${host|re}", "^a[b]{2}$|x*+?", "\\^a\\[b]\\{2}\\$\\|x\\*\\+\\?");
}

static void
test_fw_expr_chain_refused(void **state)
{
	static const char *const noraw[] = { "host", NULL };
	char	err[256];

	(void)state;
	assert_int_equal(fw_template_check("${host|raw|url}", noraw, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "raw cannot be chained"));
	assert_int_equal(fw_template_check("${x|json|json|json|json|json}",
	    noraw, err, sizeof(err)), -EINVAL);
	assert_int_equal(fw_template_check("${x|xml|nope}", noraw, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown escaping 'nope'"));
	assert_int_equal(fw_template_check("${x|xml|url}", noraw, err,
	    sizeof(err)), 0);
}

static void
test_fw_expr_body_and_regex(void **state)
{
	static const char xml[] = "<response status=\"success\"><result>"
	    "<entry ip=\"10.0.0.1\"><tag><member>q-1</member></tag></entry>"
	    "</result></response>";
	json_t	*doc = json_pack("{s:s,s:[s,s]}", "status", "done", "v", "ab",
	    "xy");
	char	 err[256];

	(void)state;
	assert_int_equal(fw_cond_eval_text("body ~ \"<response status="
	    "\\\"success\\\"\"", NULL, xml), 1);
	assert_int_equal(fw_cond_eval_text("body ~ \"<member>q-1</member>\"",
	    NULL, xml), 1);
	assert_int_equal(fw_cond_eval_text("body ~ \"<member>q-2</member>\"",
	    NULL, xml), 0);
	assert_int_equal(fw_cond_eval_text("body ~ \"status=.error\"", NULL,
	    xml), 0);
	assert_int_equal(fw_cond_eval_text("body", NULL, xml), 1);
	assert_int_equal(fw_cond_eval_text("body", NULL, ""), 0);
	assert_int_equal(fw_cond_eval_text("body ~ \"x\"", NULL, NULL), 0);
	assert_int_equal(fw_cond_eval_text("body == \"abc\"", NULL, "abc"), 1);
	/* ~ on JSON values: strings only. */
	assert_int_equal(fw_cond_eval("$.status ~ \"^(done|ok)$\"", doc), 1);
	assert_int_equal(fw_cond_eval("$.v[*] ~ \"^x\"", doc), 1);
	assert_int_equal(fw_cond_eval("$.v[*] ~ \"^z\"", doc), 0);
	/* A bad expression or a body ordering is refused at load. */
	assert_int_equal(fw_cond_check("body ~ \"(\"", NULL, err,
	    sizeof(err)), -EINVAL);
	assert_int_equal(fw_cond_check("body > \"a\"", NULL, err,
	    sizeof(err)), -EINVAL);
	assert_int_equal(fw_cond_check("$.a ~ 3", NULL, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(fw_cond_check("body ~ \"<m>${tag|xml|re|json}</m>\"",
	    NULL, err, sizeof(err)), 0);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fw_expr_chains),
		cmocka_unit_test(test_fw_expr_chain_refused),
		cmocka_unit_test(test_fw_expr_body_and_regex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
