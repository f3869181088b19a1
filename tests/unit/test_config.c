/*
 * test_config: loading the agent's config (agent/config.c) with the ldap
 * driver's target check (actions/ldap.c), and role lookup.
 *
 * Each test writes its config into a fresh mkdtemp directory next to a
 * password file.  Configs come from one template with a fixed line layout
 * so each error can be checked for its exact "file:line:" prefix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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

#define ERR_MAX		1024

/* Line numbers in conf_text(), as errors must report them. */
#define L_ROLES		11
#define L_TARGET	14
#define L_EXTRA		22

struct conf_opts {
	const char	*roles;
	const char	*type;
	const char	*flavour;
	const char	*uri;
	const char	*pwfile;
	const char	*extra;
};

struct fixture {
	char		 dir[64];
	char		*path;		/* the config file */
	char		*pw;		/* a 0600 password file */
	struct config	*cfg;
	char		 err[ERR_MAX];
};

static char *
conf_text(const struct fixture *f, const struct conf_opts *o)
{
	return xasprintf(
	    "# cordon test config\n"					/*  1 */
	    "agent: {\n"						/*  2 */
	    "\tsocket = \"%s/cordon.sock\";\n"				/*  3 */
	    "\tstore = \"%s/cordon.db\";\n"				/*  4 */
	    "\tapproval_ttl = \"4h\";\n"				/*  5 */
	    "};\n"							/*  6 */
	    "customers = (\n"						/*  7 */
	    "\t{\n"							/*  8 */
	    "\t\tname = \"acme\";\n"					/*  9 */
	    "\t\troles = (\n"						/* 10 */
	    "\t\t\t%s\n"						/* 11 */
	    "\t\t);\n"							/* 12 */
	    "\t\ttargets = (\n"						/* 13 */
	    "\t\t\t{\n"							/* 14 */
	    "\t\t\t\tname = \"corp-ldap\";\n"				/* 15 */
	    "\t\t\t\ttype = \"%s\";\n"					/* 16 */
	    "\t\t\t\tflavour = \"%s\";\n"				/* 17 */
	    "\t\t\t\turi = \"%s\";\n"					/* 18 */
	    "\t\t\t\tbind_dn = \"cn=svc,dc=example,dc=test\";\n"	/* 19 */
	    "\t\t\t\tpassword_file = \"%s\";\n"				/* 20 */
	    "\t\t\t\tbase_dn = \"ou=people,dc=example,dc=test\";\n"	/* 21 */
	    "\t\t\t\t%s\n"						/* 22 */
	    "\t\t\t}\n"							/* 23 */
	    "\t\t);\n"							/* 24 */
	    "\t}\n"							/* 25 */
	    ");\n",							/* 26 */
	    f->dir, f->dir,
	    o->roles ? o->roles : "{ user = \"irene-lead\"; role = \"lead\"; }",
	    o->type ? o->type : "ldap",
	    o->flavour ? o->flavour : "openldap",
	    o->uri ? o->uri : "ldaps://ldap.example.test",
	    o->pwfile ? o->pwfile : f->pw,
	    o->extra ? o->extra : "");
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	/* fchmod: the umask must not decide what the test checks. */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-config-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/cordon.conf", f->dir);
	f->pw = xasprintf("%s/corp-ldap.pw", f->dir);
	write_file(f->pw, "s3cret\n", 0600);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	struct dirent	*de;
	DIR		*d;
	char		*p;

	config_free(f->cfg);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			p = xasprintf("%s/%s", f->dir, de->d_name);
			(void)unlink(p);
			free(p);
		}
		(void)closedir(d);
	}
	(void)rmdir(f->dir);
	free(f->path);
	free(f->pw);
	free(f);
	return 0;
}

static int
load(struct fixture *f, char *text)
{
	write_file(f->path, text, 0600);
	free(text);
	f->err[0] = '\0';
	return config_load(f->path, &f->cfg, f->err, sizeof(f->err));
}

static void
load_ok(struct fixture *f, const struct conf_opts *o)
{
	if (load(f, conf_text(f, o)) != 0)
		fail_msg("config_load: %s", f->err);
	assert_non_null(f->cfg);
}

/* Loading must fail with "<path>:<line>: <msg>..." */
static void
load_bad_text(struct fixture *f, char *text, int line, const char *msg)
{
	char	*want;

	assert_int_equal(load(f, text), -EINVAL);
	assert_null(f->cfg);
	want = xasprintf("%s:%d: %s", f->path, line, msg);
	if (strncmp(f->err, want, strlen(want)) != 0)
		fail_msg("err '%s' does not start with '%s'", f->err, want);
	free(want);
}

static void
load_bad(struct fixture *f, const struct conf_opts *o, int line,
    const char *msg)
{
	load_bad_text(f, conf_text(f, o), line, msg);
}

static void
test_config_valid(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = {
		.roles = "{ user = \"irene-lead\"; role = \"lead\"; }, "
		    "{ group = \"secops\"; role = \"operator\"; }",
		.extra = "user_attr = \"uid\"; timeout = 5; starttls = false;",
	};
	struct customer	*cu;
	struct target	*t;
	char		*want;

	load_ok(f, &o);
	want = xasprintf("%s/cordon.sock", f->dir);
	assert_string_equal(f->cfg->socket_path, want);
	free(want);
	assert_string_equal(f->cfg->path, f->path);
	assert_null(f->cfg->secrets_dir);
	assert_int_equal(f->cfg->approval_ttl, 4 * 3600);
	assert_int_equal(f->cfg->batch, 500);
	assert_int_equal(f->cfg->max_actions, 100000);
	assert_int_equal(f->cfg->ncustomers, 1);

	assert_non_null(cu = config_customer(f->cfg, "acme"));
	assert_null(config_customer(f->cfg, "acm"));
	assert_int_equal(cu->two_leads_above, 0);
	assert_int_equal(cu->nroles, 2);
	assert_string_equal(cu->roles[0].user, "irene-lead");
	assert_null(cu->roles[0].group);
	assert_int_equal(cu->roles[0].role, ROLE_LEAD);
	assert_string_equal(cu->roles[1].group, "secops");
	assert_int_equal(cu->roles[1].role, ROLE_OPERATOR);

	assert_int_equal(cu->ntargets, 1);
	assert_non_null(t = config_target(cu, "corp-ldap"));
	assert_null(config_target(cu, "corp"));
	assert_string_equal(t->type, "ldap");
	assert_int_equal(t->line, L_TARGET);
	assert_ptr_equal(t->customer, cu);
	/* Every setting reaches the driver as JSON, typed. */
	assert_string_equal(json_string_value(json_object_get(t->opts,
	    "uri")), "ldaps://ldap.example.test");
	assert_string_equal(json_string_value(json_object_get(t->opts,
	    "password_file")), f->pw);
	assert_int_equal(json_integer_value(json_object_get(t->opts,
	    "timeout")), 5);
	assert_true(json_is_false(json_object_get(t->opts, "starttls")));
}

static void
test_config_password_file_too_open(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { 0 };

	assert_int_equal(chmod(f->pw, 0644), 0);
	load_bad(f, &o, L_TARGET, "target 'corp-ldap': password_file '");
	assert_non_null(strstr(f->err, "group or others"));
	/* The secret itself never lands in the error text. */
	assert_null(strstr(f->err, "s3cret"));

	assert_int_equal(chmod(f->pw, 0640), 0);
	load_bad(f, &o, L_TARGET, "target 'corp-ldap': password_file '");
	assert_non_null(strstr(f->err, "group or others"));

	assert_int_equal(chmod(f->pw, 0400), 0);
	load_ok(f, &o);
}

static void
test_config_password_file_missing(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { .pwfile = "/nonexistent/cordon.pw" };

	load_bad(f, &o, L_TARGET, "target 'corp-ldap': password_file "
	    "'/nonexistent/cordon.pw': cannot open");
}

static void
test_config_unknown_target_type(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { .type = "telnet" };

	load_bad(f, &o, L_TARGET, "unknown target type 'telnet'");
}

static void
test_config_ldap_target_checks(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { .flavour = "novell" };

	load_bad(f, &o, L_TARGET, "target 'corp-ldap': flavour must be "
	    "\"openldap\" or \"ad\"");
	o.flavour = NULL;
	o.uri = "http://ldap.example.test";
	load_bad(f, &o, L_TARGET, "target 'corp-ldap': uri must be ldap://");
}

/* An AD target names its CA: never whatever ldap.conf trusts. */
static void
test_config_ad_needs_ca_file(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { .flavour = "ad" };
	char		*ca = xasprintf("%s/ca.pem", f->dir), *extra;

	load_bad(f, &o, L_TARGET, "target 'corp-ldap': flavour \"ad\" needs "
	    "ca_file");
	write_file(ca, "not checked at load\n", 0644);
	extra = xasprintf("ca_file = \"%s\";", ca);
	o.extra = extra;
	load_ok(f, &o);
	free(extra);
	free(ca);
}

static void
test_config_cleartext_remote_refused(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { .uri = "ldap://ldap.example.test" };

	load_bad(f, &o, L_TARGET, "target 'corp-ldap': cleartext ldap:// to "
	    "a remote host");
	o.uri = "LDAP://ldap.example.test:389";
	load_bad(f, &o, L_TARGET, "target 'corp-ldap': cleartext ldap:// to "
	    "a remote host");
	/* A setting that is not the boolean true does not count. */
	o.uri = "ldap://ldap.example.test";
	o.extra = "starttls = \"yes\";";
	load_bad(f, &o, L_TARGET, "target 'corp-ldap': cleartext ldap:// to "
	    "a remote host");
	o.extra = "starttls = false;";
	load_bad(f, &o, L_TARGET, "target 'corp-ldap': cleartext ldap:// to "
	    "a remote host");
}

static void
test_config_cleartext_allowed_cases(void **state)
{
	struct fixture	*f = *state;
	static const char *uris[] = {
		"ldap://127.0.0.1:3389", "ldap://localhost",
		"ldap://[::1]:389", "ldapi://%2Frun%2Fslapd.sock",
		"ldaps://ldap.example.test",
	};
	struct conf_opts o = { .uri = "ldap://ldap.example.test",
	    .extra = "starttls = true;" };
	size_t		 i;

	load_ok(f, &o);
	config_free(f->cfg);
	f->cfg = NULL;
	o.extra = NULL;
	for (i = 0; i < ARRAY_SIZE(uris); i++) {
		o.uri = uris[i];
		load_ok(f, &o);
		config_free(f->cfg);
		f->cfg = NULL;
	}
}

static void
test_config_unknown_role(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = {
		.roles = "{ user = \"bob\"; role = \"admin\"; }",
	};

	load_bad(f, &o, L_ROLES, "unknown role 'admin'");
}

static void
test_config_role_needs_one_of_user_group(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = {
		.roles = "{ user = \"bob\"; group = \"secops\"; "
		    "role = \"lead\"; }",
	};

	load_bad(f, &o, L_ROLES, "role entry needs exactly one of 'user' or "
	    "'group'");
	o.roles = "{ role = \"lead\"; }";
	load_bad(f, &o, L_ROLES, "role entry needs exactly one of 'user' or "
	    "'group'");
	o.roles = "{ user = \"bob\"; }";
	load_bad(f, &o, L_ROLES, "missing 'role'");
}

static void
test_config_syntax_error(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { .extra = "timeout = ;" };

	load_bad(f, &o, L_EXTRA, "syntax error");
}

static void
test_config_missing_agent(void **state)
{
	struct fixture	*f = *state;

	/* No line holds the missing group: the root setting's line, 0. */
	load_bad_text(f, xstrdup(
	    "# no agent group\n"
	    "customers = ( { name = \"acme\"; } );\n"), 0,
	    "missing group 'agent'");
	load_bad_text(f, xstrdup(
	    "agent = 5;\n"
	    "customers = ( { name = \"acme\"; } );\n"), 0,
	    "missing group 'agent'");
}

/* A HEC URL goes into logs and error messages: no user:pass@ in it. */
static void
test_config_hec_url_userinfo_refused(void **state)
{
	struct fixture	*f = *state;

	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "\tfeeds = ( { type = \"hec\"; token_file = \"/tmp/t\";\n"
	    "\t\turl = \"https://u:s3cret@127.0.0.1:8088/services/collector\"; } );\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; } );\n"), 3,
	    "feed: 'url' must not hold a user name or password");
	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "\tfeeds = ( { type = \"hec\"; token_file = \"/tmp/t\";\n"
	    "\t\turl = \"https://splunk@hec.example.test/services/collector\"; } );\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; } );\n"), 3,
	    "feed: 'url' must not hold a user name or password");
	/* An '@' after the host is not a user name. */
	assert_int_equal(load(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "\tfeeds = ( { type = \"hec\"; token_file = \"/tmp/t\";\n"
	    "\t\turl = \"https://127.0.0.1:8088/services/collector?c=a@b\"; } );\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; } );\n")), 0);
}

static void
test_config_agent_settings(void **state)
{
	struct fixture	*f = *state;

	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tstore = \"/tmp/x.db\";\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; } );\n"), 1, "missing 'socket'");
	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "\tapproval_ttl = \"4x\";\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; } );\n"), 3,
	    "'approval_ttl' must be a duration");
	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "\n"
	    "\tbatch = 0;\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; } );\n"), 4,
	    "'batch' must be between 1 and 10000");
	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "};\n"
	    "customers = ( );\n"), 4, "'customers' must be a non-empty list");

	assert_int_equal(load(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "\tapproval_ttl = 90; batch = 10000; max_actions = 7;\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; two_leads_above = 50; } );\n")),
	    0);
	assert_int_equal(f->cfg->approval_ttl, 90);
	assert_int_equal(f->cfg->batch, 10000);
	assert_int_equal(f->cfg->max_actions, 7);
	assert_int_equal(f->cfg->customers[0].two_leads_above, 50);
	assert_int_equal(f->cfg->customers[0].ntargets, 0);
}

static void
test_config_duplicate_customer(void **state)
{
	struct fixture	*f = *state;

	load_bad_text(f, xstrdup(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "};\n"
	    "customers = (\n"
	    "\t{ name = \"acme\"; },\n"
	    "\t{ name = \"globex\"; },\n"
	    "\n"
	    "\t{ name = \"acme\"; }\n"
	    ");\n"), 8, "duplicate customer 'acme'");
}

static void
test_config_duplicate_target(void **state)
{
	struct fixture	*f = *state;
	char		*text;

	text = xasprintf(
	    "agent: {\n"
	    "\tsocket = \"/tmp/x.sock\"; store = \"/tmp/x.db\";\n"
	    "};\n"
	    "customers = ( { name = \"acme\"; targets = (\n"
	    "\t{ name = \"l\"; type = \"ldap\"; flavour = \"openldap\";\n"
	    "\t  uri = \"ldapi:///\"; bind_dn = \"cn=a\"; base_dn = \"o=b\";\n"
	    "\t  password_file = \"%s\"; },\n"
	    "\t{ name = \"l\"; type = \"ldap\"; }\n"
	    "); } );\n", f->pw);
	load_bad_text(f, text, 8, "duplicate target 'l'");
}

static void
test_config_unreadable_file(void **state)
{
	struct fixture	*f = *state;
	char		*want;

	assert_int_not_equal(config_load("/nonexistent/cordon.conf", &f->cfg,
	    f->err, sizeof(f->err)), 0);
	assert_null(f->cfg);
	want = xasprintf("%s: cannot read", "/nonexistent/cordon.conf");
	assert_true(strncmp(f->err, want, strlen(want)) == 0);
	free(want);
}

static void
test_config_role_lookup(void **state)
{
	struct fixture	*f = *state;
	struct conf_opts o = { 0 };
	struct passwd	*pw;
	struct group	*gr;
	char		*me, *mygroup, *roles;
	uid_t		 other = (uid_t)-1;

	assert_non_null(pw = getpwuid(getuid()));
	me = xstrdup(pw->pw_name);
	assert_non_null(gr = getgrgid(pw->pw_gid));
	mygroup = xstrdup(gr->gr_name);
	/* Some other account that exists, to prove names are compared. */
	setpwent();
	while ((pw = getpwent()) != NULL)
		if (pw->pw_uid != getuid() && strcmp(pw->pw_name, me) != 0 &&
		    pw->pw_gid != getgid()) {
			other = pw->pw_uid;
			break;
		}
	endpwent();

	roles = xasprintf("{ user = \"%s\"; role = \"operator\"; }, "
	    "{ user = \"%s-not\"; role = \"lead\"; }", me, me);
	o.roles = roles;
	load_ok(f, &o);
	assert_int_equal(config_role(&f->cfg->customers[0], getuid()),
	    ROLE_OPERATOR);
	if (other != (uid_t)-1)
		assert_int_equal(config_role(&f->cfg->customers[0], other),
		    ROLE_NONE);
	/* A uid with no account has no name, so no role. */
	assert_int_equal(config_role(&f->cfg->customers[0], (uid_t)3999999),
	    ROLE_NONE);
	config_free(f->cfg);
	f->cfg = NULL;
	free(roles);

	/* The highest role wins, by user or by group. */
	roles = xasprintf("{ user = \"%s\"; role = \"auditor\"; }, "
	    "{ group = \"%s\"; role = \"lead\"; }", me, mygroup);
	o.roles = roles;
	load_ok(f, &o);
	assert_int_equal(config_role(&f->cfg->customers[0], getuid()),
	    ROLE_LEAD);
	if (other != (uid_t)-1)
		assert_int_equal(config_role(&f->cfg->customers[0], other),
		    ROLE_NONE);
	free(roles);
	free(me);
	free(mygroup);
}

static void
test_config_role_name(void **state)
{
	(void)state;
	assert_string_equal(role_name(ROLE_LEAD), "lead");
	assert_string_equal(role_name(ROLE_OPERATOR), "operator");
	assert_string_equal(role_name(ROLE_AUDITOR), "auditor");
	assert_string_equal(role_name(ROLE_NONE), "none");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config_valid),
		T(test_config_password_file_too_open),
		T(test_config_password_file_missing),
		T(test_config_unknown_target_type),
		T(test_config_ldap_target_checks),
		T(test_config_ad_needs_ca_file),
		T(test_config_cleartext_remote_refused),
		T(test_config_cleartext_allowed_cases),
		T(test_config_unknown_role),
		T(test_config_role_needs_one_of_user_group),
		T(test_config_syntax_error),
		T(test_config_missing_agent),
		T(test_config_agent_settings),
		T(test_config_hec_url_userinfo_refused),
		T(test_config_duplicate_customer),
		T(test_config_duplicate_target),
		T(test_config_unreadable_file),
		T(test_config_role_lookup),
		T(test_config_role_name),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
