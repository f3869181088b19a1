/*
 * test_pending_ldap_loopback: the cleartext check of an ldap target must
 * not be fooled by host names -- fails until fixed.
 *
 * actions/ldap.c uri_is_loopback() compares prefixes of the text after
 * "://": "127." and "localhost" match "127.0.0.1.example.test" and
 * "localhost.example.test", which are remote hosts.  It also looks only
 * at the first URI, while ldap_initialize() takes a space- or
 * comma-separated list and falls back to the next one: "ldap://127.0.0.1
 * ldap://ldap.example.test" passes, and the bind password goes in
 * cleartext to the remote host when the local one is down.  Each of these
 * must be refused like any cleartext ldap:// to a remote host.
 */
#include <errno.h>
#include <fcntl.h>
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
#define L_TARGET	5

struct fixture {
	char	 dir[64];
	char	*path;
	char	*pw;
};

static void
write_file(const char *path, const char *text)
{
	int	fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-loop-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/cordon.conf", f->dir);
	f->pw = xasprintf("%s/pw", f->dir);
	write_file(f->pw, "s3cret\n");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	(void)unlink(f->path);
	(void)unlink(f->pw);
	(void)rmdir(f->dir);
	free(f->path);
	free(f->pw);
	free(f);
	return 0;
}

/* Loads a one-target config with uri; returns config_load's result. */
static int
load_uri(struct fixture *f, const char *uri, char *err, size_t errlen)
{
	struct config	*cfg = NULL;
	char		*text;
	int		 r;

	text = xasprintf(
	    "agent: { socket = \"/tmp/x.sock\"; store = \"/tmp/x.db\"; };\n"
	    "customers = (\n"
	    "\t{ name = \"acme\";\n"
	    "\t  targets = (\n"
	    "\t\t{ name = \"corp-ldap\"; type = \"ldap\";\n"
	    "\t\t  flavour = \"openldap\"; uri = \"%s\";\n"
	    "\t\t  bind_dn = \"cn=svc,dc=example,dc=test\";\n"
	    "\t\t  base_dn = \"ou=people,dc=example,dc=test\";\n"
	    "\t\t  password_file = \"%s\"; }\n"
	    "\t  ); }\n"
	    ");\n", uri, f->pw);
	write_file(f->path, text);
	free(text);
	err[0] = '\0';
	r = config_load(f->path, &cfg, err, errlen);
	config_free(cfg);
	return r;
}

static void
test_pending_ldap_loopback_lookalike_hosts_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *uris[] = {
		"ldap://localhost.example.test",
		"ldap://localhostevil.example.test:389",
		"ldap://127.0.0.1.example.test",
		"ldap://127.evil.example.test",
		"ldap://127.0.0.1 ldap://ldap.example.test",
		"ldap://127.0.0.1,ldap://ldap.example.test",
		"ldap://localhost/ ldap://ldap.example.test/",
	};
	char		 err[ERR_MAX], want[ERR_MAX];
	size_t		 i, nbad = 0;
	int		 n;

	n = snprintf(want, sizeof(want), "%s:%d: target 'corp-ldap': "
	    "cleartext ldap:// to a remote host", f->path, L_TARGET);
	assert_true(n > 0 && (size_t)n < sizeof(want));
	/*
	 * Every case is tried, so one run lists all that slip through.  A
	 * list of URIs is refused outright, with its own message.
	 */
	for (i = 0; i < ARRAY_SIZE(uris); i++) {
		if (load_uri(f, uris[i], err, sizeof(err)) == 0) {
			print_error("'%s' was accepted as loopback\n",
			    uris[i]);
			nbad++;
		} else if (strncmp(err, want, strlen(want)) != 0 &&
		    !(strpbrk(uris[i], " ,") != NULL && strstr(err,
		    "target 'corp-ldap': uri must be a single URI") != NULL)) {
			print_error("'%s': err '%s'\n", uris[i], err);
			nbad++;
		}
	}
	assert_int_equal(nbad, 0);
}

static void
test_pending_ldap_loopback_real_loopback_allowed(void **state)
{
	struct fixture	*f = *state;
	static const char *uris[] = {
		"ldap://127.0.0.1:389", "ldap://127.1.2.3/", "ldap://localhost",
		"ldap://localhost:3389/", "ldap://[::1]:389",
	};
	char		 err[ERR_MAX];
	size_t		 i;

	/* The fix must keep real loopback addresses usable. */
	for (i = 0; i < ARRAY_SIZE(uris); i++)
		if (load_uri(f, uris[i], err, sizeof(err)) != 0)
			fail_msg("'%s' refused: %s", uris[i], err);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pending_ldap_loopback_lookalike_hosts_refused),
		T(test_pending_ldap_loopback_real_loopback_allowed),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
