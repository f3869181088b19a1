/*
 * test_fw_profile_auth: the profile features CrowdSec needs, kept general
 * -- auth type login, a second credential (alt_auth) chosen per step --
 * as the shipped crowdsec.profile uses them, and what a broken profile
 * using them is told (file:line).  Also the read-back condition on the
 * LAPI's "no decision" answer, the JSON body null.
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

#define HEAD	"name = \"t\";\nhost = \"ip\";\n"
#define STEPS	"isolate = ( { method = \"POST\";\n" \
		"  url = \"${base_url|raw}/a\"; } );\n" \
		"release = ( { method = \"POST\"; url = \"${base_url|raw}/b\"; " \
		"} );\n"
#define LOGIN	"auth = { type = \"login\";\n" \
		"  token_url = \"${base_url|raw}/l\"; body = \"${key|json}:" \
		"${secret|json}\"; token = \"$.token\"; };\n"

static char	dir[64];

static const char *
providers(char *buf, size_t len)
{
	const char	*s = getenv("CORDON_SCRIPTS");

	if (s == NULL)
		return "config/providers";
	(void)snprintf(buf, len, "%s/../config/providers", s);
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/test_fw_profile.XXXXXX");
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
refused(const char *text, const char *want)
{
	struct fw_profile	*p;
	char			 err[512];

	assert_int_equal(load_text(text, &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	if (strstr(err, want) == NULL)
		fail_msg("want '%s' in '%s'", want, err);
}

static void
test_crowdsec_profile_loads(void **state)
{
	struct fw_profile	*p = NULL;
	char			 err[512], buf[512];

	(void)state;
	if (fw_profile_load(providers(buf, sizeof(buf)), "crowdsec", &p, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(p->auth, FW_AUTH_LOGIN);
	assert_string_equal(p->token_path, "$.token");
	assert_int_equal(p->alt_auth, FW_AUTH_HEADER);
	assert_string_equal(p->alt_header, "X-Api-Key");
	assert_string_equal(p->alt_setting, "bouncer_key_file");
	/* SQLite-backed LAPIs fail concurrent alert writes. */
	assert_int_equal(p->max_parallel, 1);
	/* Read-back as a bouncer; writes as the machine. */
	assert_int_equal(p->state.n, 1);
	assert_int_equal(p->state.v[0]->auth, FW_SAUTH_ALT);
	assert_int_equal(p->isolate.n, 2);
	assert_int_equal(p->isolate.v[0]->auth, FW_SAUTH_PROFILE);
	assert_string_equal(p->isolate.v[0]->cap_name[0], "alert_id");
	assert_string_equal(p->isolate.v[1]->cap_name[0], "decision_id");
	assert_int_equal(p->release.n, 1);
	assert_string_equal(p->release.v[0]->method, "DELETE");
	assert_non_null(strstr(p->release.v[0]->url, "${decision_id|url}"));
	fw_profile_free(p);
}

static void
test_bad_auth_refused(void **state)
{
	(void)state;
	refused(HEAD "auth = { type = \"login\"; token_url = "
	    "\"${base_url|raw}/l\";\n  body = \"{}\"; };\n" STEPS,
	    "t.profile:3: auth type login needs 'token_url', 'body' and "
	    "'token'");
	/* A credential pasted raw into the login body. */
	refused(HEAD "auth = { type = \"login\"; token_url = "
	    "\"${base_url|raw}/l\";\n  body = \"${secret|raw}\"; "
	    "token = \"$.token\"; };\n" STEPS, "t.profile:4: '${secret|raw}'");
	refused(HEAD "auth = { type = \"basic\"; token = \"$.token\"; };\n"
	    STEPS, "'body' and 'token' belong to auth type login");
	refused(HEAD LOGIN "isolate = ( { method = \"POST\"; auth = \"alt\";\n"
	    "  url = \"${base_url|raw}/a\"; } );\n"
	    "release = ( { method = \"POST\"; url = \"${base_url|raw}/b\"; "
	    "} );\n", "t.profile:5: auth = \"alt\" needs an 'alt_auth'");
	refused(HEAD LOGIN "isolate = ( { method = \"POST\"; auth = \"key\";\n"
	    "  url = \"${base_url|raw}/a\"; } );\n"
	    "release = ( { method = \"POST\"; url = \"${base_url|raw}/b\"; "
	    "} );\n", "t.profile:5: step auth must be profile, alt or none");
	refused(HEAD LOGIN "alt_auth = { type = \"header\"; name = \"X-K\";\n"
	    "  setting = \"key_file\"; };\n" STEPS,
	    "t.profile:6: alt_auth setting must be a new name");
	refused(HEAD LOGIN "alt_auth = { type = \"basic\"; "
	    "setting = \"x_file\"; };\n" STEPS,
	    "t.profile:5: alt_auth type must be header or bearer");
	refused(HEAD LOGIN "alt_auth = { type = \"header\"; "
	    "setting = \"x_file\"; colour = 1; };\n" STEPS,
	    "t.profile:5: unknown key 'colour' in alt_auth");
	refused(HEAD LOGIN "vars = { now = \"x\"; };\n" STEPS,
	    "t.profile:5: var 'now' is reserved");
	refused(HEAD LOGIN "max_parallel = 0;\n" STEPS,
	    "t.profile:5: 'max_parallel' must be between 1 and 64");
}

static void
test_null_body_is_not_isolated(void **state)
{
	json_t	*doc;
	char	 err[128], *c = NULL;
	json_t	*vars = json_pack("{s:s}", "scenario", "cordon/isolate");

	(void)state;
	assert_int_equal(fw_expand("$[*].scenario == \"${scenario|json}\"",
	    vars, &c, err, sizeof(err)), 0);
	/* GET /v1/decisions?ip= with no decision: HTTP 200, body null. */
	doc = json_loads("null", JSON_DECODE_ANY, NULL);
	assert_int_equal(fw_cond_eval(c, doc), 0);
	json_decref(doc);
	doc = json_loads("[{\"id\":3,\"scenario\":\"manual\",\"type\":\"ban\"},"
	    "{\"id\":4,\"scenario\":\"cordon/isolate\",\"type\":\"ban\"}]", 0,
	    NULL);
	assert_int_equal(fw_cond_eval(c, doc), 1);
	json_decref(doc);
	doc = json_loads("[{\"id\":3,\"scenario\":\"manual\"}]", 0, NULL);
	assert_int_equal(fw_cond_eval(c, doc), 0);
	json_decref(doc);
	free(c);
	json_decref(vars);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crowdsec_profile_loads),
		cmocka_unit_test(test_bad_auth_refused),
		cmocka_unit_test(test_null_body_is_not_isolated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
