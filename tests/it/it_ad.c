/*
 * it_ad: the ldap family's Active Directory flavour against a real Samba
 * AD DC (scripts/samba-ad-start.sh), provisioned once per program in its
 * own network namespace; every test makes its own users, so tests share
 * nothing but the domain.  The harness's slapd (port 38925) is unused.
 *
 * Independent readers: ldapsearch/ldapmodify as Administrator, and binds
 * as the user (AD answers "data 533" for a disabled account, "data 52e"
 * for a wrong password).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "../../agent/driver.h"
#include "../../agent/util.h"
#include "../../actions/ldap_ad.h"

#define AD_PORT		38925
#define AD_BASE		"DC=cordon,DC=test"
#define AD_USERS	"CN=Users," AD_BASE
#define AD_ADMIN	"Administrator@cordon.test"
#define AD_ADMIN_PW	"Adm1n!Pass-2024"
#define AD_SVC_DN	"CN=cordon-svc," AD_USERS
#define AD_USER_PW	"Us3r!Pass-2024x"
#define AD_START_S	300		/* a loaded 2-core machine */
#define AD_QOU		"OU=Quarantine," AD_BASE
#define AD_ELSEWHERE	"OU=Elsewhere," AD_BASE
#define AD_TIER0	"CN=Tier0,CN=Users," AD_BASE
#define AD_TIER0SUB	"CN=Tier0 Sub,CN=Users," AD_BASE
#define AD_BULK		"OU=Bulk," AD_BASE
#define AD_PLAIN	"CN=Plain,CN=Users," AD_BASE	/* not privileged */
#define AD_BIG		"CN=Big Group,CN=Users," AD_BASE
#define AD_BIG_N	1600		/* > Samba's 1500 values per range */
#define HOURS_ZERO_B64	"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"	/* 21 zero bytes */
#define HOURS_FF_B64	"////////////////////////////"	/* 21 x 0xff */

static char	ad_dir[IT_PATH_MAX];
static char	ad_ns[32];
static char	ad_ip[32];
static char	ad_uri[64];
static char	ad_ca[IT_PATH_MAX + 32];
static char	other_ca[IT_PATH_MAX];	/* a CA that signed nothing here */
static int	ad_up;

/*
 * A TCP relay 127.0.0.1:fwd_port -> the DC's LDAPS port, one connection
 * at a time: the DC reached under an address its certificate does not
 * name (it names only dc1.cordon.test and the namespace address).
 */
static int		fwd_fd = -1;
static int		fwd_port;
static volatile int	fwd_stop;
static pthread_t	fwd_thr;
static int		fwd_running;

#define FWD_POLL_MS	100
#define FWD_BUF		16384

static void
fwd_relay(int a)
{
	struct sockaddr_in	sin;
	struct pollfd		p[2];
	char			buf[FWD_BUF];
	ssize_t			k;
	int			b, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(636);
	if (inet_pton(AF_INET, ad_ip, &sin.sin_addr) != 1 ||
	    (b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(b, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		(void)close(b);
		return;
	}
	p[0].fd = a;
	p[1].fd = b;
	while (!fwd_stop) {
		p[0].events = p[1].events = POLLIN;
		if (poll(p, 2, FWD_POLL_MS) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((k = read(p[i].fd, buf, sizeof(buf))) <= 0 ||
			    write(p[1 - i].fd, buf, (size_t)k) != k)
				goto out;
		}
	}
out:
	(void)close(b);
}

static void *
fwd_main(void *arg)
{
	struct pollfd	p;
	int		a;

	(void)arg;
	p.fd = fwd_fd;
	p.events = POLLIN;
	while (!fwd_stop) {
		if (poll(&p, 1, FWD_POLL_MS) <= 0)
			continue;
		if ((a = accept4(fwd_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		fwd_relay(a);
		(void)close(a);
	}
	return NULL;
}

static int
fwd_start(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;		/* any free port */
	if ((fwd_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fwd_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fwd_fd, 4) != 0 ||
	    getsockname(fwd_fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	fwd_port = ntohs(sin.sin_port);
	fwd_stop = 0;
	if (pthread_create(&fwd_thr, NULL, fwd_main, NULL) != 0)
		return -1;
	fwd_running = 1;
	return 0;
}

static void
fwd_end(void)
{
	fwd_stop = 1;
	if (fwd_running)
		(void)pthread_join(fwd_thr, NULL);
	fwd_running = 0;
	if (fwd_fd >= 0)
		(void)close(fwd_fd);
	fwd_fd = -1;
}

static void
ad_script(struct it_env *e, const char *name, char *const args[])
{
	char		 path[IT_PATH_MAX];
	const char	*argv[6] = { path, NULL };
	size_t		 i;

	(void)snprintf(path, sizeof(path), "%s/%s", e->scripts, name);
	for (i = 0; args[i] && i < 4; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (it_runv(e, IT_ROOT, NULL, argv, AD_START_S) != 0)
		(void)fprintf(stderr, "%s: exit %d: %s\n", name, e->status,
		    e->err);
}

static int	ad_modify(struct it_env *, const char *, int);

/*
 * A group with AD_BIG_N members, all made in one LDIF (users without
 * passwords: Samba takes ~37 s for 2,000 with them, seconds without).
 */
static int
big_group(struct it_env *e)
{
	size_t	 cap = (size_t)AD_BIG_N * 256 + 4096, n = 0;
	char	*l = malloc(cap);
	int	 i, k, r;

	if (l == NULL)
		return -1;
	n += (size_t)snprintf(l + n, cap - n, "dn: " AD_BULK "\n"
	    "objectClass: organizationalUnit\n\n");
	for (i = 0; i < AD_BIG_N; i++)
		n += (size_t)snprintf(l + n, cap - n, "dn: CN=bulk%04d,"
		    AD_BULK "\nobjectClass: user\nsAMAccountName: bulk%04d\n"
		    "userAccountControl: 544\n\n", i, i);
	n += (size_t)snprintf(l + n, cap - n, "dn: " AD_BIG "\n"
	    "objectClass: group\nsAMAccountName: biggroup\n");
	for (i = 0; i < AD_BIG_N; i++) {
		k = snprintf(l + n, cap - n, "member: CN=bulk%04d," AD_BULK
		    "\n", i);
		n += (size_t)k;
	}
	/* Into sam.ldb directly, one transaction: LDAP adds take minutes. */
	{
		char		 path[IT_PATH_MAX], db[IT_PATH_MAX + 32];
		const char	*argv[] = { "ldbadd", "--nosync", "-H", db, path,
		    NULL };

		(void)snprintf(db, sizeof(db), "%s/private/sam.ldb", ad_dir);
		(void)it_gpath(e, "big.ldif", path);
		r = n < cap && it_write_file(path, l, n, 0600) == 0 ?
		    it_runv(e, IT_ROOT, NULL, argv, AD_START_S) : -1;
	}
	if (r != 0)
		(void)fprintf(stderr, "big group: %s\n", e->err);
	free(l);
	return r;
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		*args[4];
	int		 n;

	if (it_group_setup(state, AD_PORT) != 0)
		return -1;
	e = *state;
	n = (int)(getpid() % 200);
	(void)snprintf(ad_ns, sizeof(ad_ns), "cdadit%d", n);
	(void)snprintf(ad_ip, sizeof(ad_ip), "10.77.0.%d", 20 + n);
	(void)snprintf(ad_uri, sizeof(ad_uri), "ldaps://%s", ad_ip);
	(void)it_gpath(e, "ad", ad_dir);
	(void)snprintf(ad_ca, sizeof(ad_ca), "%s/tls/ca.pem", ad_dir);
	if (setenv("LDAPTLS_CACERT", ad_ca, 1) != 0)
		return -1;
	args[0] = ad_dir;
	args[1] = ad_ns;
	args[2] = ad_ip;
	args[3] = NULL;
	ad_script(e, "samba-ad-start.sh", args);
	if (e->status != 0)
		return -1;
	ad_up = 1;
	/* A CA of its own that signed nothing the DC shows. */
	{
		char		 key[IT_PATH_MAX];
		const char	*argv[] = { "openssl", "req", "-x509",
		    "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
		    "/CN=some other CA", "-keyout", key, "-out", other_ca,
		    NULL };

		(void)it_gpath(e, "other-ca.key", key);
		(void)it_gpath(e, "other-ca.pem", other_ca);
		if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0) {
			(void)fprintf(stderr, "other CA: %s\n", e->err);
			return -1;
		}
	}
	if (fwd_start() != 0) {
		(void)fprintf(stderr, "relay: %s\n", strerror(errno));
		return -1;
	}
	/* Shared fixtures: OUs, and a protected group with a nested one. */
	if (ad_modify(e,
	    "dn: " AD_QOU "\nobjectClass: organizationalUnit\n\n"
	    "dn: " AD_ELSEWHERE "\nobjectClass: organizationalUnit\n\n"
	    "dn: " AD_TIER0SUB "\nobjectClass: group\n"
	    "sAMAccountName: tier0sub\n\n"
	    "dn: " AD_PLAIN "\nobjectClass: group\nsAMAccountName: plain\n\n"
	    "dn: " AD_TIER0 "\nobjectClass: group\nsAMAccountName: tier0\n"
	    "member: " AD_TIER0SUB "\n", 1) != 0) {
		(void)fprintf(stderr, "fixtures: %s\n", e->err);
		return -1;
	}
	return big_group(e);
}

static int
group_teardown(void **state)
{
	struct it_env	*e = *state;
	char		*args[2] = { ad_dir, NULL };

	fwd_end();
	if (e && ad_up) {
		ad_script(e, "samba-ad-stop.sh", args);
		ad_up = 0;
	}
	return it_group_teardown(state);
}

/* Runs `ldapmodify -a` (add = 1) or ldapmodify on ldif as Administrator. */
static int
ad_modify(struct it_env *e, const char *ldif, int add)
{
	char		 path[IT_PATH_MAX];
	const char	*argv[] = { "ldapmodify", "-x", "-H", ad_uri, "-D",
	    AD_ADMIN, "-w", AD_ADMIN_PW, add ? "-a" : "-c", "-f", path, NULL };

	(void)it_tpath(e, "mod.ldif", path);
	if (it_write_file(path, ldif, strlen(ldif), 0600) != 0)
		return -1;
	return it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S);
}

/* A user CN=<cn>,CN=Users with sAMAccountName sam, enabled (512). */
static void
ad_user_add(struct it_env *e, const char *cn, const char *sam)
{
	char			 ldif[2048], pw[128], b64[256];
	const char		*q = "\"" AD_USER_PW "\"";
	size_t			 i, n = 0;
	int			 k;

	/* unicodePwd:: base64 of "password" in UTF-16LE. */
	for (i = 0; q[i]; i++) {
		pw[n++] = q[i];
		pw[n++] = 0;
	}
	{
		static const char b[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
		    "klmnopqrstuvwxyz0123456789+/";
		size_t j, o = 0;

		for (j = 0; j < n; j += 3) {
			unsigned v = (unsigned char)pw[j] << 16;

			if (j + 1 < n)
				v |= (unsigned char)pw[j + 1] << 8;
			if (j + 2 < n)
				v |= (unsigned char)pw[j + 2];
			b64[o++] = b[(v >> 18) & 63];
			b64[o++] = b[(v >> 12) & 63];
			b64[o++] = j + 1 < n ? b[(v >> 6) & 63] : '=';
			b64[o++] = j + 2 < n ? b[v & 63] : '=';
		}
		b64[o] = '\0';
	}
	k = snprintf(ldif, sizeof(ldif),
	    "dn: CN=%s,%s\n"
	    "objectClass: user\n"
	    "sAMAccountName: %s\n"
	    "userPrincipalName: %s@cordon.test\n"
	    "unicodePwd:: %s\n"
	    "userAccountControl: 512\n", cn, AD_USERS, sam, sam, b64);
	assert_true(k > 0 && (size_t)k < sizeof(ldif));
	if (ad_modify(e, ldif, 1) != 0)
		fail_msg("cannot add '%s': %s", sam, e->err);
}

/* userAccountControl of sam as Administrator reads it; -1 if none. */
static long
ad_uac(struct it_env *e, const char *sam)
{
	char		 f[256];
	const char	*argv[] = { "ldapsearch", "-LLL", "-o", "ldif-wrap=no",
	    "-x", "-H", ad_uri, "-D", AD_ADMIN, "-w", AD_ADMIN_PW, "-b",
	    AD_BASE, f, "userAccountControl", NULL };
	const char	*p;
	size_t		 i, o;

	/* RFC 4515 for the few metacharacters the tests use. */
	o = (size_t)snprintf(f, sizeof(f), "(sAMAccountName=");
	for (i = 0; sam[i] && o + 4 < sizeof(f); i++)
		if (strchr("()*\\", sam[i]))
			o += (size_t)snprintf(f + o, sizeof(f) - o, "\\%02x",
			    (unsigned char)sam[i]);
		else
			f[o++] = sam[i];
	f[o++] = ')';
	f[o] = '\0';
	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0 ||
	    (p = strstr(e->out, "userAccountControl: ")) == NULL)
		return -1;
	return strtol(p + 20, NULL, 10);
}

/* (sAMAccountName=sam), RFC 4515 for the metacharacters tests use. */
static void
sam_filter(const char *sam, char *f, size_t len)
{
	size_t	i, o;

	o = (size_t)snprintf(f, len, "(sAMAccountName=");
	for (i = 0; sam[i] && o + 5 < len; i++)
		if (strchr("()*\\", sam[i]))
			o += (size_t)snprintf(f + o, len - o, "\\%02x",
			    (unsigned char)sam[i]);
		else
			f[o++] = sam[i];
	f[o++] = ')';
	f[o] = '\0';
}

/* The DN of sam as Administrator reads it (over LDAP), into dn. */
static void
ad_dn(struct it_env *e, const char *sam, char *dn, size_t len)
{
	char		 f[256];
	const char	*argv[] = { "ldapsearch", "-LLL", "-o", "ldif-wrap=no",
	    "-x", "-H", ad_uri, "-D", AD_ADMIN, "-w", AD_ADMIN_PW, "-b",
	    AD_BASE, f, "1.1", NULL };
	const char	*p;
	size_t		 n;

	sam_filter(sam, f, sizeof(f));
	assert_int_equal(it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S),
	    0);
	*dn = '\0';
	if ((p = strstr(e->out, "dn: ")) == NULL)
		return;
	p += 4;
	n = strcspn(p, "\n");
	assert_true(n < len);
	memcpy(dn, p, n);
	dn[n] = '\0';
}

/*
 * sam's entry as ldbsearch reads it straight from the DC's sam.ldb (not
 * through LDAP, not through cordon): leaves the LDIF in e->out.
 */
static void
ad_ldb(struct it_env *e, const char *sam, const char *attr)
{
	char		 f[256], db[IT_PATH_MAX + 32];
	const char	*argv[] = { "ldbsearch", "-H", db, f, attr, NULL };

	sam_filter(sam, f, sizeof(f));
	(void)snprintf(db, sizeof(db), "%s/private/sam.ldb", ad_dir);
	assert_int_equal(it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S),
	    0);
	assert_non_null(strstr(e->out, "# 1 entries"));
}

static void
ad_set_hours(struct it_env *e, const char *dn, const char *b64)
{
	char	ldif[1024];

	(void)snprintf(ldif, sizeof(ldif), "dn: %s\nchangetype: modify\n"
	    "replace: logonHours\nlogonHours:: %s\n-\n", dn, b64);
	assert_int_equal(ad_modify(e, ldif, 0), 0);
}

static void
ad_set_uac(struct it_env *e, const char *cn, long v)
{
	char	ldif[512];

	(void)snprintf(ldif, sizeof(ldif), "dn: CN=%s,%s\nchangetype: modify\n"
	    "replace: userAccountControl\nuserAccountControl: %ld\n-\n", cn,
	    AD_USERS, v);
	assert_int_equal(ad_modify(e, ldif, 0), 0);
}

/* Exit code of a bind as sam@cordon.test (0 ok, 49 refused). */
static int
ad_bind(struct it_env *e, const char *sam, const char *pw)
{
	char		 who[256];
	const char	*argv[] = { "ldapsearch", "-x", "-H", ad_uri, "-D", who,
	    "-w", pw, "-b", "", "-s", "base", "1.1", NULL };

	(void)snprintf(who, sizeof(who), "%s@cordon.test", sam);
	return it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S);
}

/* 1 if the group (a DN) lists user CN as member, as Administrator sees. */
static int
ad_member(struct it_env *e, const char *group, const char *cn)
{
	char		 f[512];
	const char	*argv[] = { "ldapsearch", "-LLL", "-x", "-H", ad_uri,
	    "-D", AD_ADMIN, "-w", AD_ADMIN_PW, "-b", group, "-s", "base", f,
	    "1.1", NULL };

	(void)snprintf(f, sizeof(f), "(member=CN=%s,%s)", cn, AD_USERS);
	assert_int_equal(it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S),
	    0);
	return strstr(e->out, "dn:") != NULL;
}

static void
ad_member_add(struct it_env *e, const char *group, const char *cn)
{
	char	ldif[512];

	(void)snprintf(ldif, sizeof(ldif), "dn: %s\nchangetype: modify\n"
	    "add: member\nmember: CN=%s,%s\n-\n", group, cn, AD_USERS);
	assert_int_equal(ad_modify(e, ldif, 0), 0);
}

static void
runbook_write_to(struct it_env *e, const char *name, const char *verb,
    const char *target, const char *extra_params, const char *extra_args)
{
	char	path[IT_PATH_MAX], rb[2048];
	int	n;

	(void)it_gpath(e, name, path);
	n = snprintf(rb, sizeof(rb),
	    "name = \"%s\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; }%s );\n"
	    "steps = ( { name = \"s\"; verb = \"%s\"; target = \"%s\";\n"
	    "  foreach = \"${accounts}\";\n"
	    "  args = { account = \"${item}\";%s };\n"
	    "  approval = \"required\"; on_failure = \"continue\"; } );\n",
	    name, extra_params, verb, target, extra_args);
	assert_true(n > 0 && (size_t)n < sizeof(rb));
	assert_int_equal(it_write_file(path, rb, (size_t)n, 0644), 0);
}

static void
runbook_write(struct it_env *e, const char *name, const char *verb,
    const char *extra_params, const char *extra_args)
{
	runbook_write_to(e, name, verb, "corp-ad", extra_params, extra_args);
}

static int
setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c;
	char		 tgt[4096], *text = NULL, *p, vault[IT_PATH_MAX];
	char		 conf[8192];
	size_t		 len;
	int		 n;

	memset(&c, 0, sizeof(c));
	n = snprintf(tgt, sizeof(tgt), "{\n"
	    "\t\t\t\tname = \"corp-ad\";\n"
	    "\t\t\t\ttype = \"ldap\";\n"
	    "\t\t\t\tflavour = \"ad\";\n"
	    "\t\t\t\turi = \"%s\";\n"
	    "\t\t\t\tca_file = \"%s\";\n"
	    "\t\t\t\tbind_dn = \"" AD_SVC_DN "\";\n"
	    "\t\t\t\tpassword_file = \"%s/svc.pw\";\n"
	    "\t\t\t\tbase_dn = \"" AD_BASE "\";\n"
	    "\t\t\t\tuser_attr = \"sAMAccountName\";\n"
	    "\t\t\t\tquarantine_ou = \"" AD_QOU "\";\n"
	    "\t\t\t\tpage_size = 1;\n"
	    "\t\t\t\trange_size = 500;\n"
	    "\t\t\t},\n"
	    /* The same DC, but its certificate signed by another CA. */
	    "\t\t\t{ name = \"ad-otherca\"; type = \"ldap\"; "
	    "flavour = \"ad\"; uri = \"%s\"; ca_file = \"%s\";\n"
	    "\t\t\t  bind_dn = \"" AD_SVC_DN "\"; password_file = "
	    "\"%s/svc.pw\"; base_dn = \"" AD_BASE "\"; },\n"
	    /* The same DC under an address its certificate does not name. */
	    "\t\t\t{ name = \"ad-othername\"; type = \"ldap\"; "
	    "flavour = \"ad\"; uri = \"ldaps://127.0.0.1:%d\"; "
	    "ca_file = \"%s\";\n"
	    "\t\t\t  bind_dn = \"" AD_SVC_DN "\"; password_file = "
	    "\"%s/svc.pw\"; base_dn = \"" AD_BASE "\"; },\n"
	    /* StartTLS on the plain LDAP port. */
	    "\t\t\t{ name = \"ad-starttls\"; type = \"ldap\"; "
	    "flavour = \"ad\"; uri = \"ldap://%s\"; starttls = true; "
	    "ca_file = \"%s\";\n"
	    "\t\t\t  bind_dn = \"" AD_SVC_DN "\"; password_file = "
	    "\"%s/svc.pw\"; base_dn = \"" AD_BASE "\"; }",
	    ad_uri, ad_ca, ad_dir, ad_uri, other_ca, ad_dir, fwd_port, ad_ca,
	    ad_dir, ad_ip, ad_ca, ad_dir);
	if (n < 0 || (size_t)n >= sizeof(tgt))
		return -1;
	c.targets_extra = tgt;
	c.protected_extra = "\"adprot\"";
	if (it_test_dir(e) != 0 || it_config_write(e, e->conf, &c) != 0 ||
	    it_read_file(e->conf, &text, &len) != 0)
		return -1;
	/* The standard config has no vault; reset_password needs one. */
	(void)it_tpath(e, "vault", vault);
	if ((p = strstr(text, "agent: {\n")) == NULL)
		return -1;
	p += strlen("agent: {\n");
	n = snprintf(conf, sizeof(conf), "%.*s\tsecrets_dir = \"%s\";\n%s",
	    (int)(p - text), text, vault, p);
	free(text);
	if (n < 0 || (size_t)n >= sizeof(conf))
		return -1;
	/* The customer's protected group (members nested in it too). */
	{
		char	 conf2[8192];
		char	*q = strstr(conf, "\t\tprotected = [");

		if (q == NULL)
			return -1;
		n = snprintf(conf2, sizeof(conf2), "%.*s\t\tprotected_groups "
		    "= [ \"" AD_TIER0 "\" ];\n%s", (int)(q - conf), conf, q);
		if (n < 0 || (size_t)n >= sizeof(conf2))
			return -1;
		memcpy(conf, conf2, (size_t)n + 1);
	}
	if (it_write_file(e->conf, conf, (size_t)n, 0600) != 0)
		return -1;
	/*
	 * The helper commands (ldapsearch, ldapmodify) trust the test CA
	 * through LDAPTLS_CACERT; the agent must not: it has only each
	 * target's ca_file.
	 */
	if (unsetenv("LDAPTLS_CACERT") != 0)
		return -1;
	n = it_agent_start(e, 0);
	if (setenv("LDAPTLS_CACERT", ad_ca, 1) != 0)
		return -1;
	return n;
}

static int
teardown(void **state)
{
	return it_test_teardown(*state);
}

static const char *
aref(int64_t id, char buf[32])
{
	(void)snprintf(buf, 32, "A%lld", (long long)id);
	return buf;
}

/* The action's message; fails the test if it has none. */
static char *
action_msg(struct it_env *e, int64_t id)
{
	json_t		*a;
	const char	*m;
	char		*out;

	assert_non_null(a = it_action(e, id));
	m = json_string_value(json_object_get(a, "message"));
	if (m == NULL)
		fail_msg("A%lld has no message", (long long)id);
	out = strdup(m);
	json_decref(a);
	assert_non_null(out);
	return out;
}

/* Runs runbook for accounts, approves every action, waits for want. */
static size_t
run_approve(struct it_env *e, const char *runbook, const char *accounts,
    int64_t *ids, size_t max, const char *want)
{
	char	inc[32], path[IT_PATH_MAX], ref[32];
	size_t	n, i;

	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, runbook, path);
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, accounts, ids,
	    max, &n), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(it_cordon(e, IT_LEAD, "approve",
		    aref(ids[i], ref), NULL), 0);
		if (want)
			assert_int_equal(it_wait_action(e, ids[i], want,
			    IT_SETTLE_S), 0);
	}
	return n;
}

/* Queues and approves the undo of id; waits for it to succeed. */
static void
undo_approve(struct it_env *e, int64_t id)
{
	char		ref[32];
	long long	u, r;

	assert_int_equal(it_cordon(e, IT_OP, "undo", aref(id, ref), NULL), 0);
	if (sscanf(e->out, "undo of %*s queued as A%lld (run %lld)", &u,
	    &r) != 2)
		fail_msg("cannot read the undo id from '%s'", e->out);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(u, ref), NULL),
	    0);
	assert_int_equal(it_wait_action(e, u, "succeeded", IT_SETTLE_S), 0);
	assert_int_equal(it_wait_action(e, id, "undone", IT_SETTLE_S), 0);
}

static void
test_ad_disable_and_undo(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	json_t		*a;

	ad_user_add(e, "Dis One", "dis1");
	ad_set_uac(e, "Dis One", 512 | 0x10000);	/* other bits kept */
	assert_int_equal(ad_bind(e, "dis1", AD_USER_PW), 0);
	runbook_write(e, "ad-disable.runbook", "ldap.disable_account", "", "");
	assert_int_equal(run_approve(e, "ad-disable.runbook", "dis1", &id, 1,
	    "succeeded"), 1);
	assert_int_equal(ad_uac(e, "dis1"), 512 | 0x10000 | 2);
	assert_int_equal(ad_bind(e, "dis1", AD_USER_PW), 49);
	assert_true(strstr(e->err, "data 533") != NULL);
	assert_non_null(a = it_action(e, id));
	assert_non_null(json_object_get(json_object_get(a, "before"),
	    "guid"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a,
	    "observed"), "uac")), 512 | 0x10000 | 2);
	json_decref(a);

	undo_approve(e, id);
	assert_int_equal(ad_uac(e, "dis1"), 512 | 0x10000);
	assert_int_equal(ad_bind(e, "dis1", AD_USER_PW), 0);
}

static void
test_ad_disable_already_disabled(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;

	ad_user_add(e, "Dis Two", "dis2");
	ad_set_uac(e, "Dis Two", 514);
	runbook_write(e, "ad-disable.runbook", "ldap.disable_account", "", "");
	assert_int_equal(run_approve(e, "ad-disable.runbook", "dis2", &id, 1,
	    "succeeded"), 1);
	assert_true(it_journal_count(e, "succeeded", id) == 1);
	/* The journal says "no change" for it. */
	{
		json_t	*j, *x;
		size_t	 i;
		int	 seen = 0;

		assert_non_null(j = it_journal(e));
		json_array_foreach(j, i, x)
			if (json_integer_value(json_object_get(x, "action")) ==
			    id && strcmp(json_string_value(json_object_get(x,
			    "event")), "succeeded") == 0 &&
			    json_is_true(json_object_get(json_object_get(x,
			    "payload"), "no_change")))
				seen++;
		json_decref(j);
		assert_int_equal(seen, 1);
	}
	assert_int_equal(ad_uac(e, "dis2"), 514);
	/* Undo of a no-change action leaves the account disabled. */
	undo_approve(e, id);
	assert_int_equal(ad_uac(e, "dis2"), 514);
}

static void
test_ad_disable_concurrent_change(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX], ref[32];
	int64_t		 id;
	size_t		 n;
	int		 i;

	ad_user_add(e, "Cas One", "cas1");
	runbook_write(e, "ad-disable.runbook", "ldap.disable_account", "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-disable.runbook", path);
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "cas1", &id, 1,
	    &n), 0);
	/* Somebody else changes the attribute after check. */
	ad_set_uac(e, "Cas One", 512 | 0x10000);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	for (i = 0; i < 100 && it_journal_count(e, "plan_changed", id) < 1;
	    i++)
		(void)usleep(100 * 1000);
	assert_true(it_journal_count(e, "plan_changed", id) >= 1);
	assert_int_equal(it_wait_action(e, id, "awaiting_approval",
	    IT_SETTLE_S), 0);
	/* Never overwritten: the other writer's value stands. */
	assert_int_equal(ad_uac(e, "cas1"), 512 | 0x10000);
	/* Approving the new plan applies it on top of the new value. */
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	assert_int_equal(ad_uac(e, "cas1"), 512 | 0x10000 | 2);
}

/* The file must be readable (else it proves nothing) and lack pw. */
static void
assert_not_in(const char *path, const char *pw)
{
	int	r = it_file_has(path, pw);

	if (r < 0)
		fail_msg("cannot read '%s'", path);
	if (r == 1)
		fail_msg("the new password is in '%s'", path);
}

static void
test_ad_reset_password(void **state)
{
	struct it_env	*e = *state;
	char		 vf[IT_PATH_MAX], side[IT_PATH_MAX + 16], *pw = NULL;
	char		 name[64];
	int64_t		 id;
	size_t		 len;
	json_t		*a, *j;
	char		*dump;

	ad_user_add(e, "Res One", "res1");
	runbook_write(e, "ad-reset.runbook", "ldap.reset_password", "",
	    " twice = \"true\";");
	assert_int_equal(it_incident_open(e, name), 0);
	{
		char path[IT_PATH_MAX], inc[32];
		size_t n;

		memcpy(inc, name, sizeof(inc));
		(void)it_gpath(e, "ad-reset.runbook", path);
		/* The plan says so. */
		assert_int_equal(it_cordon(e, IT_OP, "plan", path,
		    "--incident", inc, "--set", "accounts=res1", NULL), 0);
		assert_true(it_out_has(e, "irreversible"));
		assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "res1",
		    &id, 1, &n), 0);
		assert_int_equal(it_cordon(e, IT_LEAD, "approve",
		    aref(id, name), NULL), 0);
		assert_int_equal(it_wait_action(e, id, "succeeded",
		    IT_SETTLE_S), 0);
	}
	(void)snprintf(name, sizeof(name), "vault/A%lld-password",
	    (long long)id);
	(void)it_tpath(e, name, vf);
	assert_int_equal(it_read_file(vf, &pw, &len), 0);
	assert_true(len >= 12);
	assert_int_equal(ad_bind(e, "res1", AD_USER_PW), 49);
	assert_true(strstr(e->err, "data 52e") != NULL);
	assert_int_equal(ad_bind(e, "res1", pw), 0);

	/* Only the fingerprint leaves the vault. */
	assert_non_null(a = it_action(e, id));
	assert_non_null(json_object_get(json_object_get(a, "observed"),
	    "password_fp"));
	json_decref(a);
	assert_non_null(j = it_journal(e));
	assert_non_null(dump = json_dumps(j, 0));
	assert_null(strstr(dump, pw));
	free(dump);
	json_decref(j);
	assert_not_in(e->log, pw);
	assert_not_in(e->store, pw);
	(void)snprintf(side, sizeof(side), "%s-wal", e->store);
	assert_not_in(side, pw);
	(void)snprintf(side, sizeof(side), "%s-shm", e->store);
	assert_not_in(side, pw);
	/* No undo for an irreversible verb. */
	assert_int_equal(it_cordon(e, IT_OP, "undo", aref(id, name), NULL),
	    3);
	explicit_bzero(pw, len);
	free(pw);
}

static void
test_ad_remove_from_groups(void **state)
{
	struct it_env	*e = *state;
	const char	*bo = "CN=Backup Operators,CN=Builtin," AD_BASE;
	const char	*po = "CN=Print Operators,CN=Builtin," AD_BASE;
	const char	*da = "CN=Domain Admins," AD_USERS;
	char		 inc[32], path[IT_PATH_MAX], ref[32];
	int64_t		 id;
	size_t		 n;
	json_t		*a;

	ad_user_add(e, "Grp One", "grp1");
	ad_user_add(e, "Grp Two", "grp2");
	ad_member_add(e, bo, "Grp One");
	ad_member_add(e, po, "Grp One");
	ad_member_add(e, bo, "Grp Two");
	runbook_write(e, "ad-groups.runbook", "ldap.remove_from_groups",
	    ", { name = \"groups\"; type = \"string\"; required = true; }",
	    " groups = \"${groups}\";");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-groups.runbook", path);
	assert_int_equal(it_cordon(e, IT_OP, "run", path, "--incident", inc,
	    "--set", "accounts=grp1", "--set", "groups=privileged", "--json",
	    NULL), 0);
	assert_non_null(a = it_out_json(e));
	id = json_integer_value(json_array_get(json_object_get(a, "actions"),
	    0));
	json_decref(a);
	(void)n;
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	assert_int_equal(ad_member(e, bo, "Grp One"), 0);
	assert_int_equal(ad_member(e, po, "Grp One"), 0);
	assert_int_equal(ad_member(e, da, "Grp One"), 0);
	assert_int_equal(ad_member(e, bo, "Grp Two"), 1);	/* untouched */
	assert_non_null(a = it_action(e, id));
	assert_int_equal(json_array_size(json_object_get(json_object_get(a,
	    "before"), "groups")), 2);
	json_decref(a);

	undo_approve(e, id);
	assert_int_equal(ad_member(e, bo, "Grp One"), 1);
	assert_int_equal(ad_member(e, po, "Grp One"), 1);
	assert_int_equal(ad_member(e, da, "Grp One"), 0);	/* never was */
}

static void
test_ad_metacharacters(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX];
	int64_t		 ids[4];
	size_t		 n;

	ad_user_add(e, "Meta One", "meta1");
	ad_user_add(e, "Meta Two", "meta2");
	ad_user_add(e, "Doe\\, John", "pa(r)en");
	runbook_write(e, "ad-disable.runbook", "ldap.disable_account", "", "");
	/* A wildcard is a literal '*': no such account, nothing touched. */
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-disable.runbook", path);
	(void)it_run_accounts(e, IT_OP, path, inc, "meta*", ids, 4, &n);
	assert_int_equal(n, 1);
	assert_int_equal(it_wait_action(e, ids[0], "failed", IT_SETTLE_S), 0);
	assert_int_equal(ad_uac(e, "meta1"), 512);
	assert_int_equal(ad_uac(e, "meta2"), 512);
	(void)it_run_accounts(e, IT_OP, path, inc,
	    "meta1)(sAMAccountName=meta2", ids, 4, &n);
	assert_int_equal(n, 1);
	assert_int_equal(it_wait_action(e, ids[0], "failed", IT_SETTLE_S), 0);
	assert_int_equal(ad_uac(e, "meta1"), 512);
	assert_int_equal(ad_uac(e, "meta2"), 512);
	/* Parentheses in the name and a comma in the DN. */
	assert_int_equal(run_approve(e, "ad-disable.runbook", "pa(r)en", ids,
	    1, "succeeded"), 1);
	assert_int_equal(ad_uac(e, "pa(r)en"), 514);
	assert_int_equal(ad_uac(e, "meta1"), 512);
	assert_int_equal(ad_uac(e, "meta2"), 512);
	undo_approve(e, ids[0]);
	assert_int_equal(ad_uac(e, "pa(r)en"), 512);
}

static void
test_ad_protected_refused(void **state)
{
	struct it_env	*e = *state;
	static const char *who[] = { "Administrator", "krbtgt", "cordon-svc",
	    "adprot" };
	char		 inc[32], path[IT_PATH_MAX];
	int64_t		 ids[4];
	size_t		 n, i;

	ad_user_add(e, "Ad Prot", "adprot");
	runbook_write(e, "ad-disable.runbook", "ldap.disable_account", "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-disable.runbook", path);
	for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		assert_int_equal(it_run_accounts(e, IT_OP, path, inc, who[i],
		    ids, 4, &n), 3);
		assert_true(it_err_has(e, "protected"));
	}
	assert_int_equal(ad_uac(e, "adprot"), 512);
	assert_int_equal(ad_uac(e, "cordon-svc"), 512);
	assert_int_equal(ad_bind(e, "Administrator", AD_ADMIN_PW), 0);
}

static void
test_ad_quarantine_and_undo(void **state)
{
	struct it_env	*e = *state;
	char		 dn[512];
	int64_t		 id;
	json_t		*a;

	/* A comma and parentheses: the RDN must survive the move as is. */
	ad_user_add(e, "Doe\\, Jane (Q)", "q(1)");
	ad_user_add(e, "Doe", "q2");
	runbook_write(e, "ad-q.runbook", "ldap.quarantine_ou", "", "");
	assert_int_equal(run_approve(e, "ad-q.runbook", "q(1)", &id, 1,
	    "succeeded"), 1);
	ad_dn(e, "q(1)", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Doe\\, Jane (Q)," AD_QOU);
	ad_dn(e, "q2", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Doe," AD_USERS);	/* untouched */
	assert_non_null(a = it_action(e, id));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "observed"), "dn")), "CN=Doe\\, Jane (Q)," AD_QOU);
	json_decref(a);
	/* The account can still bind: a move is not a disable. */
	assert_int_equal(ad_bind(e, "q(1)", AD_USER_PW), 0);

	/* Undo finds it by objectGUID in its new place. */
	undo_approve(e, id);
	ad_dn(e, "q(1)", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Doe\\, Jane (Q)," AD_USERS);
	ad_dn(e, "q2", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Doe," AD_USERS);
}

static void
test_ad_quarantine_concurrent_move(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX], ref[32], dn[512];
	int64_t		 id;
	size_t		 n;
	int		 i;
	json_t		*a;

	ad_user_add(e, "Qc One", "qc1");
	runbook_write(e, "ad-q.runbook", "ldap.quarantine_ou", "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-q.runbook", path);
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "qc1", &id, 1,
	    &n), 0);
	/* Somebody else moves the account after check. */
	assert_int_equal(ad_modify(e, "dn: CN=Qc One," AD_USERS "\n"
	    "changetype: modrdn\nnewrdn: CN=Qc One\ndeleteoldrdn: 1\n"
	    "newsuperior: " AD_ELSEWHERE "\n", 0), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	for (i = 0; i < 100 && it_journal_count(e, "plan_changed", id) < 1;
	    i++)
		(void)usleep(100 * 1000);
	assert_true(it_journal_count(e, "plan_changed", id) >= 1);
	assert_int_equal(it_wait_action(e, id, "awaiting_approval",
	    IT_SETTLE_S), 0);
	ad_dn(e, "qc1", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Qc One," AD_ELSEWHERE);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	ad_dn(e, "qc1", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Qc One," AD_QOU);
	/*
	 * Moved out of the quarantine by someone, and not to where it was
	 * (OU=Elsewhere, as the re-check saw): the undo moves nothing.
	 */
	assert_int_equal(ad_modify(e, "dn: CN=Qc One," AD_QOU "\n"
	    "changetype: modrdn\nnewrdn: CN=Qc Two\ndeleteoldrdn: 1\n"
	    "newsuperior: " AD_USERS "\n", 0), 0);
	if (it_cordon(e, IT_OP, "undo", aref(id, ref), NULL) == 0) {
		long long	u, r;

		if (sscanf(e->out, "undo of %*s queued as A%lld (run %lld)",
		    &u, &r) != 2)
			fail_msg("cannot read the undo id from '%s'", e->out);
		(void)it_cordon(e, IT_LEAD, "approve", aref(u, ref), NULL);
		assert_int_equal(it_wait_action(e, u, "failed", IT_SETTLE_S),
		    0);
		assert_non_null(a = it_action(e, u));
		assert_non_null(strstr(json_string_value(json_object_get(a,
		    "message")), "no longer where cordon moved it"));
		json_decref(a);
	} else
		assert_true(it_err_has(e, "no longer where cordon moved it"));
	ad_dn(e, "qc1", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Qc Two," AD_USERS);
}

static void
test_ad_logon_hours_and_undo(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2];
	char		 dn[512];

	ad_user_add(e, "Hrs One", "hrs1");		/* no logonHours */
	ad_user_add(e, "Hrs Two", "hrs2");
	ad_dn(e, "hrs2", dn, sizeof(dn));
	ad_set_hours(e, dn, HOURS_FF_B64);
	ad_ldb(e, "hrs1", "logonHours");
	assert_null(strstr(e->out, "logonHours"));
	runbook_write(e, "ad-h.runbook", "ldap.deny_logon_hours", "", "");
	assert_int_equal(run_approve(e, "ad-h.runbook", "hrs1,hrs2", ids, 2,
	    "succeeded"), 2);
	ad_ldb(e, "hrs1", "logonHours");
	assert_non_null(strstr(e->out, "logonHours:: " HOURS_ZERO_B64 "\n"));
	ad_ldb(e, "hrs2", "logonHours");
	assert_non_null(strstr(e->out, "logonHours:: " HOURS_ZERO_B64 "\n"));
	/* AD refuses a logon outside the hours: data 530. */
	assert_int_equal(ad_bind(e, "hrs1", AD_USER_PW), 49);
	assert_non_null(strstr(e->err, "data 530"));

	undo_approve(e, ids[0]);
	undo_approve(e, ids[1]);
	ad_ldb(e, "hrs1", "logonHours");
	assert_null(strstr(e->out, "logonHours"));	/* absent again */
	ad_ldb(e, "hrs2", "logonHours");
	assert_non_null(strstr(e->out, "logonHours:: " HOURS_FF_B64 "\n"));
	assert_int_equal(ad_bind(e, "hrs1", AD_USER_PW), 0);
}

static void
test_ad_logon_hours_concurrent(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX], ref[32], dn[512];
	int64_t		 id;
	size_t		 n;
	int		 i;

	ad_user_add(e, "Hrc One", "hrc1");
	runbook_write(e, "ad-h.runbook", "ldap.deny_logon_hours", "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-h.runbook", path);
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "hrc1", &id, 1,
	    &n), 0);
	ad_dn(e, "hrc1", dn, sizeof(dn));
	ad_set_hours(e, dn, HOURS_FF_B64);	/* someone else, after check */
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	for (i = 0; i < 100 && it_journal_count(e, "plan_changed", id) < 1;
	    i++)
		(void)usleep(100 * 1000);
	assert_true(it_journal_count(e, "plan_changed", id) >= 1);
	assert_int_equal(it_wait_action(e, id, "awaiting_approval",
	    IT_SETTLE_S), 0);
	ad_ldb(e, "hrc1", "logonHours");
	assert_non_null(strstr(e->out, "logonHours:: " HOURS_FF_B64 "\n"));
}

static void
test_ad_protected_group(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], path[IT_PATH_MAX], ref[32];
	int64_t		 ids[4];
	size_t		 n;

	ad_user_add(e, "Pg One", "pg1");
	ad_user_add(e, "Pg Two", "pg2");
	/* Nested: pg1 is in Tier0 Sub, which is in Tier0. */
	ad_member_add(e, AD_TIER0SUB, "Pg One");
	runbook_write(e, "ad-disable.runbook", "ldap.disable_account", "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-disable.runbook", path);
	/* Refused in the plan. */
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "pg1", ids, 4,
	    &n), 3);
	assert_true(it_err_has(e, "protected group"));
	runbook_write(e, "ad-q.runbook", "ldap.quarantine_ou", "", "");
	(void)it_gpath(e, "ad-q.runbook", path);
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "pg1", ids, 4,
	    &n), 3);
	assert_true(it_err_has(e, "protected group"));
	/* Refused at apply: joined the group after the plan. */
	(void)it_gpath(e, "ad-disable.runbook", path);
	assert_int_equal(it_run_accounts(e, IT_OP, path, inc, "pg2", ids, 4,
	    &n), 0);
	ad_member_add(e, AD_TIER0, "Pg Two");
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(ids[0], ref),
	    NULL), 0);
	assert_int_equal(it_wait_action(e, ids[0], "failed", IT_SETTLE_S), 0);
	{
		char *m = action_msg(e, ids[0]);

		if (strstr(m, "protected group") == NULL)
			fail_msg("A%lld: '%s'", (long long)ids[0], m);
		free(m);
	}
	assert_int_equal(ad_uac(e, "pg1"), 512);
	assert_int_equal(ad_uac(e, "pg2"), 512);
}

static void
test_ad_big_group_all(void **state)
{
	struct it_env	*e = *state;
	const char	*bo = "CN=Backup Operators,CN=Builtin," AD_BASE;
	char		 inc[32], path[IT_PATH_MAX], ref[32];
	int64_t		 id;
	json_t		*a, *sz;

	ad_user_add(e, "Big One", "big1");
	ad_member_add(e, AD_BIG, "Big One");
	ad_member_add(e, bo, "Big One");
	runbook_write(e, "ad-groups.runbook", "ldap.remove_from_groups",
	    ", { name = \"groups\"; type = \"string\"; required = true; }",
	    " groups = \"${groups}\";");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-groups.runbook", path);
	/* "all": found by a paged search (page_size = 1: two pages). */
	assert_int_equal(it_cordon(e, IT_OP, "run", path, "--incident", inc,
	    "--set", "accounts=big1", "--set", "groups=all", "--json",
	    NULL), 0);
	assert_non_null(a = it_out_json(e));
	id = json_integer_value(json_array_get(json_object_get(a, "actions"),
	    0));
	json_decref(a);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	assert_int_equal(ad_member(e, AD_BIG, "Big One"), 0);
	assert_int_equal(ad_member(e, bo, "Big One"), 0);
	assert_non_null(a = it_action(e, id));
	assert_int_equal(json_array_size(json_object_get(json_object_get(a,
	    "before"), "groups")), 2);
	/* Verify read every range of the big group's member values. */
	sz = json_object_get(json_object_get(a, "observed"), "group_sizes");
	assert_int_equal(json_integer_value(json_object_get(sz, AD_BIG)),
	    AD_BIG_N);
	json_decref(a);

	undo_approve(e, id);
	assert_int_equal(ad_member(e, AD_BIG, "Big One"), 1);
	assert_int_equal(ad_member(e, bo, "Big One"), 1);
}

/* The act on target fails to connect, with why in its message. */
static void
tls_refused(struct it_env *e, const char *target, const char *sam,
    const char *why)
{
	char	 inc[32], path[IT_PATH_MAX], *m;
	int64_t	 id;
	size_t	 n;

	runbook_write_to(e, "ad-tls.runbook", "ldap.disable_account", target,
	    "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-tls.runbook", path);
	(void)it_run_accounts(e, IT_OP, path, inc, sam, &id, 1, &n);
	assert_int_equal(n, 1);
	assert_int_equal(it_wait_action(e, id, "failed", IT_SETTLE_S), 0);
	m = action_msg(e, id);
	if (strstr(m, "cannot reach target") == NULL || strstr(m, why) ==
	    NULL)
		fail_msg("A%lld: '%s' does not say '%s'", (long long)id, m,
		    why);
	free(m);
	assert_int_equal(ad_uac(e, sam), 512);		/* nothing changed */
}

/* ca_file decides: a CA that did not sign the DC's certificate fails. */
static void
test_ad_tls_other_ca(void **state)
{
	struct it_env	*e = *state;

	ad_user_add(e, "Tls One", "tls1");
	tls_refused(e, "ad-otherca", "tls1", "must chain to ca_file");
}

/* The right CA, but the certificate does not name 127.0.0.1. */
static void
test_ad_tls_other_name(void **state)
{
	struct it_env	*e = *state;

	ad_user_add(e, "Tls Two", "tls2");
	tls_refused(e, "ad-othername", "tls2", "must chain to ca_file");
}

/* ldap:// with starttls = true, verified against ca_file. */
static void
test_ad_starttls(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;

	ad_user_add(e, "Stls One", "stls1");
	runbook_write_to(e, "ad-stls.runbook", "ldap.disable_account",
	    "ad-starttls", "", "");
	assert_int_equal(run_approve(e, "ad-stls.runbook", "stls1", &id, 1,
	    "succeeded"), 1);
	assert_int_equal(ad_uac(e, "stls1"), 514);
}

struct range_probe {
	struct it_env	*e;
	const char	*group;
	size_t		 seen;
	int		 deleted;
};

/* Deletes the group while its first range is being read. */
static int
range_seen(struct lconn *c, const struct berval *v, void *arg)
{
	struct range_probe	*rp = arg;
	char			 ldif[512];

	(void)c;
	(void)v;
	if (rp->seen++ == 0) {
		(void)snprintf(ldif, sizeof(ldif), "dn: %s\nchangetype: "
		    "delete\n", rp->group);
		rp->deleted = ad_modify(rp->e, ldif, 0) == 0;
	}
	return 0;
}

/*
 * A range read that fails after the first range (the group is gone) is
 * an error, not "every member read": the 0 of the callbacks before it
 * must not become the result.
 */
static void
test_ad_range_read_error(void **state)
{
	struct it_env		*e = *state;
	const char		*gdn = "CN=Gone Group,CN=Users," AD_BASE;
	const struct driver	*d = driver_find("ldap");
	struct range_probe	 rp = { e, gdn, 0, 0 };
	struct target		 t;
	char			 pwf[IT_PATH_MAX], err[512];
	size_t			 cap = (size_t)AD_BIG_N * 64 + 512, n = 0;
	char			*l;
	void			*conn = NULL;
	int			 i, r;

	/* A group of AD_BIG_N members: more than one range. */
	assert_non_null(l = malloc(cap));
	n += (size_t)snprintf(l, cap, "dn: %s\nobjectClass: group\n"
	    "sAMAccountName: gonegroup\n", gdn);
	for (i = 0; i < AD_BIG_N; i++)
		n += (size_t)snprintf(l + n, cap - n, "member: CN=bulk%04d,"
		    AD_BULK "\n", i);
	assert_true(n < cap);
	r = ad_modify(e, l, 1);
	free(l);
	assert_int_equal(r, 0);

	(void)it_tpath(e, "admin.pw", pwf);
	assert_int_equal(it_write_file(pwf, AD_ADMIN_PW, strlen(AD_ADMIN_PW),
	    0600), 0);
	memset(&t, 0, sizeof(t));
	t.name = "direct";
	t.type = "ldap";
	/* Samba does not cap a range read: ask for 1000 values a time. */
	assert_non_null(t.opts = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i}",
	    "flavour", "ad", "uri", ad_uri, "ca_file", ad_ca, "bind_dn",
	    AD_ADMIN, "password_file", pwf, "base_dn", AD_BASE, "range_size",
	    1000));
	assert_non_null(d);
	if (d->open(&t, &conn, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	err[0] = '\0';
	r = ldap_ad_values(conn, gdn, "member", range_seen, &rp, err,
	    sizeof(err));
	d->close(conn);
	json_decref(t.opts);
	assert_true(rp.deleted);
	/* The first range came in whole; the second read found no group. */
	assert_int_equal(rp.seen, 1000);
	assert_true(r < 0);
	if (strstr(err, "reading member of") == NULL)
		fail_msg("err '%s'", err);
}

/*
 * The deny-list is the configuration's of the moment of apply: accounts
 * added to it by a reload after the plan are refused, for each AD verb
 * whose apply skips a separate check (they compare and swap).
 */
static void
test_ad_deny_list_reload(void **state)
{
	struct it_env	*e = *state;
	static const char *rb[] = { "ad-disable.runbook", "ad-q.runbook",
	    "ad-h.runbook" };
	static const char *who[] = { "rl1", "rl2", "rl3" };
	char		 inc[32], path[IT_PATH_MAX], ref[32], dn[512];
	char		*text = NULL, *conf, *q, *m;
	int64_t		 ids[3];
	size_t		 n, len, i;

	ad_user_add(e, "Rl One", "rl1");
	ad_user_add(e, "Rl Two", "rl2");
	ad_user_add(e, "Rl Three", "rl3");
	runbook_write(e, rb[0], "ldap.disable_account", "", "");
	runbook_write(e, rb[1], "ldap.quarantine_ou", "", "");
	runbook_write(e, rb[2], "ldap.deny_logon_hours", "", "");
	assert_int_equal(it_incident_open(e, inc), 0);
	for (i = 0; i < 3; i++) {
		(void)it_gpath(e, rb[i], path);
		assert_int_equal(it_run_accounts(e, IT_OP, path, inc, who[i],
		    &ids[i], 1, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(it_wait_action(e, ids[i],
		    "awaiting_approval", IT_SETTLE_S), 0);
	}
	/* The customer protects all three now. */
	assert_int_equal(it_read_file(e->conf, &text, &len), 0);
	assert_non_null(q = strstr(text, "\"adprot\""));
	q += strlen("\"adprot\"");
	assert_true(asprintf(&conf, "%.*s, \"rl1\", \"rl2\", \"rl3\"%s",
	    (int)(q - text), text, q) > 0);
	free(text);
	assert_int_equal(it_write_file(e->conf, conf, strlen(conf), 0600), 0);
	free(conf);
	assert_int_equal(kill(e->agent, SIGHUP), 0);
	assert_int_equal(it_wait_file_has(e->log, "config reloaded", 10), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(it_cordon(e, IT_LEAD, "approve",
		    aref(ids[i], ref), NULL), 0);
		assert_int_equal(it_wait_action(e, ids[i], "failed",
		    IT_SETTLE_S), 0);
		m = action_msg(e, ids[i]);
		/* From apply itself: these verbs skip the re-check. */
		if (strstr(m, "is a protected account (refused at apply)") ==
		    NULL)
			fail_msg("A%lld: '%s'", (long long)ids[i], m);
		free(m);
	}
	/* Nothing changed. */
	assert_int_equal(ad_uac(e, "rl1"), 512);
	ad_dn(e, "rl2", dn, sizeof(dn));
	assert_string_equal(dn, "CN=Rl Two," AD_USERS);
	ad_ldb(e, "rl3", "logonHours");
	assert_null(strstr(e->out, "logonHours"));
}

/*
 * Undo re-adds exactly the groups cordon removed (observed.removed): not
 * one the account left by somebody else's hand after the first plan,
 * nor one cordon never touched (a non-privileged group).
 */
static void
test_ad_groups_undo_only_removed(void **state)
{
	struct it_env	*e = *state;
	const char	*bo = "CN=Backup Operators,CN=Builtin," AD_BASE;
	const char	*po = "CN=Print Operators,CN=Builtin," AD_BASE;
	char		 inc[32], path[IT_PATH_MAX], ref[32], ldif[512];
	int64_t		 id;
	json_t		*a, *rm;
	int		 i;

	ad_user_add(e, "Gru One", "gru1");
	ad_member_add(e, bo, "Gru One");
	ad_member_add(e, po, "Gru One");
	ad_member_add(e, AD_PLAIN, "Gru One");
	runbook_write(e, "ad-groups.runbook", "ldap.remove_from_groups",
	    ", { name = \"groups\"; type = \"string\"; required = true; }",
	    " groups = \"${groups}\";");
	assert_int_equal(it_incident_open(e, inc), 0);
	(void)it_gpath(e, "ad-groups.runbook", path);
	assert_int_equal(it_cordon(e, IT_OP, "run", path, "--incident", inc,
	    "--set", "accounts=gru1", "--set", "groups=privileged", "--json",
	    NULL), 0);
	assert_non_null(a = it_out_json(e));
	id = json_integer_value(json_array_get(json_object_get(a, "actions"),
	    0));
	json_decref(a);
	assert_int_equal(it_wait_action(e, id, "awaiting_approval",
	    IT_SETTLE_S), 0);
	/* Somebody else takes it out of Print Operators after the plan. */
	(void)snprintf(ldif, sizeof(ldif), "dn: %s\nchangetype: modify\n"
	    "delete: member\nmember: CN=Gru One,%s\n-\n", po, AD_USERS);
	assert_int_equal(ad_modify(e, ldif, 0), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", aref(id, ref),
	    NULL), 0);
	/* The re-check before apply sees it and asks again. */
	for (i = 0; i < 100 && it_journal_count(e, "plan_changed", id) < 1;
	    i++)
		(void)usleep(100 * 1000);
	assert_true(it_journal_count(e, "plan_changed", id) >= 1);
	assert_int_equal(it_wait_action(e, id, "awaiting_approval",
	    IT_SETTLE_S), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
	assert_non_null(a = it_action(e, id));
	rm = json_object_get(json_object_get(a, "observed"), "removed");
	assert_int_equal(json_array_size(rm), 1);
	assert_string_equal(json_string_value(json_array_get(rm, 0)), bo);
	json_decref(a);
	assert_int_equal(ad_member(e, bo, "Gru One"), 0);
	assert_int_equal(ad_member(e, po, "Gru One"), 0);

	assert_int_equal(ad_member(e, AD_PLAIN, "Gru One"), 1);

	undo_approve(e, id);
	assert_int_equal(ad_member(e, bo, "Gru One"), 1);
	assert_int_equal(ad_member(e, po, "Gru One"), 0);	/* not ours */
	assert_int_equal(ad_member(e, AD_PLAIN, "Gru One"), 1);
	assert_non_null(a = it_action(e, id));
	assert_int_equal(json_array_size(json_object_get(json_object_get(a,
	    "before"), "removed")), 1);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ad_disable_and_undo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ad_disable_already_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ad_disable_concurrent_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_reset_password, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ad_remove_from_groups,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_metacharacters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ad_protected_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_quarantine_and_undo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ad_quarantine_concurrent_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_logon_hours_and_undo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ad_logon_hours_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_protected_group,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_big_group_all,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_range_read_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_tls_other_ca,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_tls_other_name,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_starttls,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ad_deny_list_reload,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ad_groups_undo_only_removed, setup, teardown),
	};

	return cmocka_run_group_tests_name("it_ad", tests, group_setup,
	    group_teardown);
}
