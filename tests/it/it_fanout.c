/*
 * it_fanout: one runbook step aimed at a target group fans out to every
 * member, against 21 real sshd "hosts" (scripts/nshosts-start.sh), each in
 * its own network namespace with a private /etc.  Every change is proven
 * by logging in for real (sshpass + OpenSSH), and isolation by reading the
 * private /etc copies themselves: a host outside the group keeps its
 * shadow line byte for byte, and the accounts do not exist at all in the
 * machine's own /etc/shadow.  (That file is not compared whole: other
 * test programs may add users to it meanwhile.)
 *
 * Hosts h1..h20 form the group "web"; h21 is a target outside it.  Users
 * (nshosts-start.sh): cdsh-agent is cordon's login, cdsh-user and
 * cdsh-user2 the accounts acted on.  The hosts live for the whole group;
 * the tests run in order: rotate, lock, one host unreachable, then three
 * hosts unreachable and `cordon retry --failed` once they are back.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38935
#define NHOSTS		21		/* h1..h20 in "web", h21 outside */
#define NGROUP		20
#define IT_ACCT		"cdsh-user"
#define IT_ACCT2	"cdsh-user2"
#define DOWN_HOST	7		/* stopped before the last run */
#define NDOWN		3		/* hosts down in the retry test */
#define LOGIN_WAIT_S	30
#define CONF_MAX	(32 * 1024)

static char	nsh[IT_PATH_MAX];		/* DIR/nsh */
static char	addr[NHOSTS + 1][32];		/* 1-based */
static int	hosts_up;

static const char *
npath(const char *name, char buf[IT_PATH_MAX])
{
	it_pfmt(buf, IT_PATH_MAX, "%s/%s", nsh, name);
	return buf;
}

/* The cdsh-user line of host i's private /etc/shadow (or the real one). */
static void
shadow_line(int i, const char *acct, char *buf, size_t len)
{
	char	 p[IT_PATH_MAX], pre[64], *t, *s, *nl;
	size_t	 n;

	if (i > 0)
		it_pfmt(p, sizeof(p), "%s/h%d/etc/shadow", nsh, i);
	else
		it_pfmt(p, sizeof(p), "/etc/shadow");
	assert_int_equal(it_read_file(p, &t, &n), 0);
	it_pfmt(pre, sizeof(pre), "\n%s:", acct);
	if ((s = strstr(t, pre)) == NULL) {
		it_pfmt(buf, len, "(none)");
	} else {
		s++;
		if ((nl = strchr(s, '\n')) != NULL)
			*nl = '\0';
		it_pfmt(buf, len, "%s", s);
	}
	free(t);
}

/*
 * Logins to many hosts at once, with OpenSSH itself: for host k (when
 * want[k] is not -1) user logs in with the password in pwf[k] (key NULL)
 * or with key.  ret[k] is 0 when it logged in, else ssh's exit status.
 */
static void
logins(const char *user, char pwf[][IT_PATH_MAX], const char *key,
    const int *want, int *ret)
{
	pid_t	 pid[NHOSTS + 1];
	char	 kh[IT_PATH_MAX], khopt[IT_PATH_MAX + 32], dest[NHOSTS + 1][64];
	double	 deadline;
	int	 k, st, left = 0;

	it_pfmt(khopt, sizeof(khopt), "UserKnownHostsFile=%s",
	    npath("known_hosts", kh));
	for (k = 1; k <= NHOSTS; k++) {
		pid[k] = 0;
		ret[k] = -1;
		if (want[k] == -1)
			continue;
		it_pfmt(dest[k], sizeof(dest[k]), "%s@%s", user, addr[k]);
		if ((pid[k] = fork()) == 0) {
			const char *pw[] = { "sshpass", "-f", pwf ? pwf[k] :
			    "/dev/null", "ssh", "-F", "/dev/null", "-o", khopt,
			    "-o", "GlobalKnownHostsFile=/dev/null", "-o",
			    "PubkeyAuthentication=no", "-o",
			    "PreferredAuthentications=password", "-o",
			    "NumberOfPasswordPrompts=1", "-o",
			    "ConnectTimeout=10", dest[k], "true", NULL };
			const char *ky[] = { "ssh", "-F", "/dev/null", "-i", key,
			    "-o", khopt, "-o", "GlobalKnownHostsFile=/dev/null",
			    "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			    "-o", "PasswordAuthentication=no", "-o",
			    "ConnectTimeout=10", dest[k], "true", NULL };
			int fd = open("/dev/null", O_RDWR);

			if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
			    dup2(fd, 2) < 0)
				_exit(126);
			if (key)
				execvp(ky[0], (char *const *)ky);
			else
				execvp(pw[0], (char *const *)pw);
			_exit(127);
		}
		assert_true(pid[k] > 0);
		left++;
	}
	deadline = it_mono() + LOGIN_WAIT_S;
	while (left > 0) {
		for (k = 1; k <= NHOSTS; k++) {
			if (pid[k] <= 0)
				continue;
			if (waitpid(pid[k], &st, WNOHANG) == pid[k]) {
				ret[k] = WIFEXITED(st) ? WEXITSTATUS(st) :
				    128 + WTERMSIG(st);
				pid[k] = 0;
				left--;
			} else if (it_mono() > deadline) {
				(void)kill(pid[k], SIGKILL);
			}
		}
		if (left > 0)
			it_nap_ms(20);
	}
}

/* Asserts each host with want[k] != -1 logged in (1) or not (0). */
static void
expect_logins(const char *what, const int *want, const int *ret)
{
	int	k, bad = 0;

	for (k = 1; k <= NHOSTS; k++) {
		if (want[k] == -1 || (want[k] == 1) == (ret[k] == 0))
			continue;
		(void)fprintf(stderr, "%s: h%d: login %s (ssh %d)\n", what, k,
		    want[k] ? "refused" : "accepted", ret[k]);
		bad++;
	}
	if (bad)
		fail_msg("%s: %d hosts wrong", what, bad);
}

static int
hosts_read(void)
{
	char	 p[IT_PATH_MAX], *t, *s;
	size_t	 n;
	int	 i, got = 0;

	if (it_read_file(npath("hosts", p), &t, &n) != 0)
		return -1;
	for (s = t; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 :
	    NULL) {
		char a[32];

		if (sscanf(s, "%d %31s", &i, a) == 2 && i >= 1 &&
		    i <= NHOSTS) {
			memcpy(addr[i], a, sizeof(a));
			got++;
		}
	}
	free(t);
	return got == NHOSTS ? 0 : -1;
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 script[IT_PATH_MAX], n[16];

	if (it_group_setup(state, IT_SLAPD_PORT) != 0)
		return -1;
	e = *state;
	it_pfmt(nsh, sizeof(nsh), "%s/nsh", e->dir);
	it_pfmt(script, sizeof(script), "%s/nshosts-start.sh", e->scripts);
	it_pfmt(n, sizeof(n), "%d", NHOSTS);
	{
		const char *argv[] = { script, nsh, n, "0", NULL };

		hosts_up = 1;
		if (it_run_ok(e, argv) != 0)
			return -1;
	}
	return hosts_read();
}

static int
group_teardown(void **state)
{
	struct it_env	*e = *state;
	char		 script[IT_PATH_MAX];
	int		 r = 0;

	if (e == NULL)
		return 0;
	if (hosts_up) {
		const char *argv[] = { script, nsh, NULL };

		it_pfmt(script, sizeof(script), "%s/nshosts-stop.sh", e->scripts);
		if (it_run_ok(e, argv) != 0)
			r = -1;
	}
	if (it_group_teardown(state) != 0)
		r = -1;
	return r;
}

/* A config with 21 ssh targets, the group "web" and a vault. */
static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	char		*buf = NULL, key[IT_PATH_MAX], kh[IT_PATH_MAX];
	char		 vault[IT_PATH_MAX];
	size_t		 len = 0;
	int		 k, r = -1;
	FILE		*f;

	if (it_test_dir(e) != 0 || (f = open_memstream(&buf, &len)) == NULL)
		return -1;
	(void)npath("agent_key", key);
	(void)npath("known_hosts", kh);
	(void)fprintf(f, "agent: {\n\tsocket = \"%s\";\n\tstore = \"%s\";\n"
	    "\tsecrets_dir = \"%s\";\n};\ncustomers = ( {\n"
	    "\tname = \"acme\";\n\tprotected = [ \"breakglass\" ];\n"
	    "\troles = (\n"
	    "\t\t{ user = \"" IT_OP "\"; role = \"operator\"; },\n"
	    "\t\t{ user = \"" IT_LEAD "\"; role = \"lead\"; },\n"
	    "\t\t{ user = \"" IT_AUD "\"; role = \"auditor\"; }\n\t);\n"
	    "\ttargets = (\n", e->sock, e->store,
	    it_tpath(e, "vault", vault));
	for (k = 1; k <= NHOSTS; k++)
		(void)fprintf(f, "\t\t{ name = \"h%d\"; type = \"ssh\"; "
		    "host = \"%s\"; user = \"cdsh-agent\"; key_file = \"%s\"; "
		    "known_hosts = \"%s\"; timeout = 5; "
		    "password_length = 20; }%s\n", k, addr[k], key, kh,
		    k < NHOSTS ? "," : "");
	(void)fprintf(f, "\t);\n\ttarget_groups = ( { name = \"web\"; "
	    "members = [ ");
	for (k = 1; k <= NGROUP; k++)
		(void)fprintf(f, "\"h%d\"%s", k, k < NGROUP ? ", " : "");
	(void)fprintf(f, " ]; } );\n} );\n");
	if (fclose(f) != 0)
		goto out;
	if (it_write_file(e->conf, buf, len, 0600) != 0)
		goto out;
	r = it_agent_start(e, 0);
out:
	free(buf);
	return r;
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/*
 * Runs verb over the group for acct; action ids by host number (0 when
 * the host got none).  Returns the number of actions.
 */
static size_t
run_group(struct it_env *e, const char *verb, const char *acct,
    int64_t byhost[NHOSTS + 1])
{
	char	 rb[IT_PATH_MAX], text[1024], inc[32];
	int64_t	 ids[64];
	size_t	 n = 0, i;
	int	 r, k;
	json_t	*a;
	double	 t0;

	it_pfmt(text, sizeof(text),
	    "name = \"it-fanout\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; } );\n"
	    "steps = ( { name = \"s\"; verb = \"%s\"; target = \"web\";\n"
	    "  foreach = \"${accounts}\";\n"
	    "  args = { account = \"${item}\"; };\n"
	    "  approval = \"none\"; on_failure = \"continue\"; } );\n", verb);
	assert_int_equal(it_write_file(it_tpath(e, "rb.runbook", rb), text,
	    strlen(text), 0644), 0);
	assert_int_equal(it_incident_open(e, inc), 0);
	t0 = it_mono();
	r = it_run_accounts(e, IT_OP, rb, inc, acct, ids, 64, &n);
	if (r != 0 && r != 1)
		fail_msg("run %s: exit %d: %s%s", verb, r, e->out, e->err);
	memset(byhost, 0, sizeof(int64_t) * (NHOSTS + 1));
	for (i = 0; i < n; i++) {
		const char *t;

		assert_non_null(a = it_action(e, ids[i]));
		t = json_string_value(json_object_get(a, "target"));
		assert_non_null(t);
		assert_true(t[0] == 'h');
		k = atoi(t + 1);
		assert_true(k >= 1 && k <= NGROUP);
		assert_int_equal(byhost[k], 0);
		byhost[k] = ids[i];
		json_decref(a);
	}
	(void)fprintf(stderr, "  %s over 'web': %zu actions queued in "
	    "%.2f s\n", verb, n, it_mono() - t0);
	return n;
}

/* Waits for every action; returns how many reached want. */
static int
settle(struct it_env *e, int64_t byhost[NHOSTS + 1], const char *want,
    int except, const char *except_want)
{
	double	 t0 = it_mono();
	int	 k, n = 0;

	for (k = 1; k <= NGROUP; k++) {
		const char *w = k == except ? except_want : want;

		if (it_wait_action(e, byhost[k], w, 30) != 0) {
			json_t *a = it_action(e, byhost[k]);

			fail_msg("h%d: A%lld is not %s: %s", k,
			    (long long)byhost[k], w, a ? json_string_value(
			    json_object_get(a, "message")) : "?");
		}
		n++;
	}
	(void)fprintf(stderr, "  settled in %.2f s\n", it_mono() - t0);
	return n;
}

static void
journal_ok(struct it_env *e)
{
	if (it_cordon(e, IT_AUD, "journal", "verify", NULL) != 0)
		fail_msg("journal verify: exit %d: %s%s", e->status, e->out,
		    e->err);
}

static void
old_pw(char pwf[][IT_PATH_MAX])
{
	int	k;

	for (k = 1; k <= NHOSTS; k++)
		(void)npath("user.pw", pwf[k]);
}

/* rotate_password over "web": 20 new passwords, h21 and /etc untouched. */
static void
test_fanout_rotate(void **state)
{
	struct it_env		*e = *state;
	static char		 pwf[NHOSTS + 1][IT_PATH_MAX];
	static char		 oldf[NHOSTS + 1][IT_PATH_MAX];
	int64_t			 ids[NHOSTS + 1];
	int			 want[NHOSTS + 1], ret[NHOSTS + 1], k;
	char			 before[512], after[512], name[64];
	char			 h21[512], h21b[512];

	shadow_line(NHOSTS, IT_ACCT, h21, sizeof(h21));
	shadow_line(1, IT_ACCT, before, sizeof(before));
	assert_string_not_equal(before, "(none)");
	assert_int_equal(run_group(e, "ssh.rotate_password", IT_ACCT, ids),
	    NGROUP);
	assert_int_equal(settle(e, ids, "succeeded", 0, NULL), NGROUP);

	/* The new password from the vault logs in; the old one fails. */
	old_pw(oldf);
	for (k = 1; k <= NHOSTS; k++) {
		if (k <= NGROUP) {
			it_pfmt(name, sizeof(name), "vault/A%lld-password",
			    (long long)ids[k]);
			(void)it_tpath(e, name, pwf[k]);
		} else
			(void)npath("user.pw", pwf[k]);
		want[k] = 1;
	}
	logins(IT_ACCT, pwf, NULL, want, ret);
	expect_logins("new password", want, ret);
	for (k = 1; k <= NHOSTS; k++)
		want[k] = k > NGROUP;		/* h21 still takes the old */
	logins(IT_ACCT, oldf, NULL, want, ret);
	expect_logins("old password", want, ret);

	/* Isolation: each host's private /etc changed alone. */
	shadow_line(1, IT_ACCT, after, sizeof(after));
	assert_string_not_equal(before, after);
	shadow_line(NHOSTS, IT_ACCT, h21b, sizeof(h21b));
	assert_string_equal(h21, h21b);
	shadow_line(0, IT_ACCT, after, sizeof(after));
	assert_string_equal(after, "(none)");
	assert_int_equal(it_journal_count(e, "succeeded", 0) >= NGROUP, 1);
	journal_ok(e);
}

/* lock_account over "web": password and key logins refused on all 20. */
static void
test_fanout_lock(void **state)
{
	struct it_env	*e = *state;
	static char	 pwf[NHOSTS + 1][IT_PATH_MAX];
	char		 key[IT_PATH_MAX];
	int64_t		 ids[NHOSTS + 1];
	int		 want[NHOSTS + 1], ret[NHOSTS + 1], k;

	(void)npath("user_key", key);
	old_pw(pwf);
	for (k = 1; k <= NHOSTS; k++)
		want[k] = 1;
	logins(IT_ACCT2, NULL, key, want, ret);
	expect_logins("key before lock", want, ret);

	assert_int_equal(run_group(e, "ssh.lock_account", IT_ACCT2, ids),
	    NGROUP);
	assert_int_equal(settle(e, ids, "succeeded", 0, NULL), NGROUP);
	for (k = 1; k <= NHOSTS; k++)
		want[k] = k > NGROUP;
	logins(IT_ACCT2, NULL, key, want, ret);
	expect_logins("key after lock", want, ret);
	logins(IT_ACCT2, pwf, NULL, want, ret);
	expect_logins("password after lock", want, ret);
	journal_ok(e);
}

/* One host down: it fails alone, the 19 others rotate. */
static void
test_fanout_one_down(void **state)
{
	struct it_env	*e = *state;
	static char	 pwf[NHOSTS + 1][IT_PATH_MAX];
	char		 script[IT_PATH_MAX], pidf[IT_PATH_MAX], pat[IT_PATH_MAX];
	char		 before[512], after[512], name[64];
	int64_t		 ids[NHOSTS + 1];
	int		 want[NHOSTS + 1], ret[NHOSTS + 1], k;
	const char	*msg;
	json_t		*a;

	it_pfmt(script, sizeof(script), "%s/stop-pidfile.sh", e->scripts);
	it_pfmt(pidf, sizeof(pidf), "%s/h%d/bgpid", nsh, DOWN_HOST);
	it_pfmt(pat, sizeof(pat), "sshd.*%s/h%d/", nsh, DOWN_HOST);
	{
		const char *argv[] = { script, pidf, pat, "it_fanout", NULL };

		assert_int_equal(it_run_ok(e, argv), 0);
	}
	shadow_line(DOWN_HOST, IT_ACCT, before, sizeof(before));
	assert_int_equal(run_group(e, "ssh.rotate_password", IT_ACCT, ids),
	    NGROUP);
	assert_int_equal(settle(e, ids, "succeeded", DOWN_HOST, "failed"),
	    NGROUP);
	assert_non_null(a = it_action(e, ids[DOWN_HOST]));
	msg = json_string_value(json_object_get(a, "message"));
	assert_non_null(msg);
	if (strstr(msg, "h7") == NULL && strstr(msg, addr[DOWN_HOST]) == NULL)
		fail_msg("message does not name the host: '%s'", msg);
	json_decref(a);
	shadow_line(DOWN_HOST, IT_ACCT, after, sizeof(after));
	assert_string_equal(before, after);

	for (k = 1; k <= NHOSTS; k++) {
		want[k] = k == DOWN_HOST || k > NGROUP ? -1 : 1;
		if (want[k] == 1) {
			it_pfmt(name, sizeof(name), "vault/A%lld-password",
			    (long long)ids[k]);
			(void)it_tpath(e, name, pwf[k]);
		}
	}
	logins(IT_ACCT, pwf, NULL, want, ret);
	expect_logins("new password, one host down", want, ret);
	journal_ok(e);
}


/* Logins of cordon's own user that host k's sshd accepted so far. */
static int
agent_logins(int k)
{
	char	 p[IT_PATH_MAX], *t, *s;
	size_t	 n;
	int	 c = 0;

	it_pfmt(p, sizeof(p), "%s/h%d/sshd.log", nsh, k);
	assert_int_equal(it_read_file(p, &t, &n), 0);
	for (s = t; (s = strstr(s, "Accepted publickey for cdsh-agent")); s++)
		c++;
	free(t);
	return c;
}

static void
host_stop(struct it_env *e, int k)
{
	char	script[IT_PATH_MAX], pidf[IT_PATH_MAX], pat[IT_PATH_MAX];

	it_pfmt(script, sizeof(script), "%s/stop-pidfile.sh", e->scripts);
	it_pfmt(pidf, sizeof(pidf), "%s/h%d/bgpid", nsh, k);
	it_pfmt(pat, sizeof(pat), "sshd.*%s/h%d/", nsh, k);
	{
		const char *argv[] = { script, pidf, pat, "it_fanout", NULL };

		assert_int_equal(it_run_ok(e, argv), 0);
	}
}

static void
host_restart(struct it_env *e, int k)
{
	char	script[IT_PATH_MAX], n[16];

	it_pfmt(script, sizeof(script), "%s/nshosts-start.sh", e->scripts);
	it_pfmt(n, sizeof(n), "%d", k);
	{
		const char *argv[] = { script, nsh, "--restart", n, NULL };

		assert_int_equal(it_run_ok(e, argv), 0);
	}
}

/*
 * Three hosts down: they fail, the others rotate.  Back up, `cordon retry
 * RUN --failed` queues one new action for each of the three only, linked
 * to the failed one; the 17 others see no new login and keep their shadow
 * line byte for byte.  A second retry finds nothing left to retry.
 */
static void
test_fanout_retry(void **state)
{
	struct it_env	*e = *state;
	static const int down[NDOWN] = { 3, DOWN_HOST, 12 };
	static char	 pwf[NHOSTS + 1][IT_PATH_MAX];
	char		 sh1[NHOSTS + 1][512], sh2[512], name[64], run[32];
	int64_t		 ids[NHOSTS + 1], rid[NHOSTS + 1];
	int		 isdown[NHOSTS + 1], logins1[NHOSTS + 1];
	int		 want[NHOSTS + 1], ret[NHOSTS + 1], k;
	size_t		 i;
	json_t		*j, *a;

	memset(isdown, 0, sizeof(isdown));
	for (i = 0; i < NDOWN; i++) {
		isdown[down[i]] = 1;
		/* DOWN_HOST is still down from the test before. */
		if (down[i] != DOWN_HOST)
			host_stop(e, down[i]);
	}
	for (k = 1; k <= NGROUP; k++)
		shadow_line(k, IT_ACCT, sh1[k], sizeof(sh1[k]));
	assert_int_equal(run_group(e, "ssh.rotate_password", IT_ACCT, ids),
	    NGROUP);
	for (k = 1; k <= NGROUP; k++)
		if (it_wait_action(e, ids[k], isdown[k] ? "failed" :
		    "succeeded", 30) != 0)
			fail_msg("h%d: A%lld did not settle as expected", k,
			    (long long)ids[k]);
	for (k = 1; k <= NGROUP; k++) {
		shadow_line(k, IT_ACCT, sh2, sizeof(sh2));
		if (isdown[k])
			assert_string_equal(sh1[k], sh2);
		else
			assert_string_not_equal(sh1[k], sh2);
		it_pfmt(sh1[k], sizeof(sh1[k]), "%s", sh2);
		logins1[k] = agent_logins(k);
	}
	assert_non_null(a = it_action(e, ids[1]));
	it_pfmt(run, sizeof(run), "%lld", (long long)json_integer_value(
	    json_object_get(a, "run")));
	json_decref(a);

	/* Only an operator may retry; an auditor is refused. */
	assert_int_equal(it_cordon(e, IT_AUD, "retry", run, "--failed", NULL),
	    3);
	for (i = 0; i < NDOWN; i++)
		host_restart(e, down[i]);
	assert_int_equal(it_cordon(e, IT_OP, "retry", run, "--failed",
	    "--json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	assert_int_equal(json_array_size(json_object_get(j, "actions")),
	    NDOWN);
	memset(rid, 0, sizeof(rid));
	json_array_foreach(json_object_get(j, "actions"), i, a) {
		const char *t = json_string_value(json_object_get(a,
		    "target"));

		k = atoi(t + 1);
		assert_true(k >= 1 && k <= NGROUP && isdown[k]);
		assert_int_equal(json_integer_value(json_object_get(a,
		    "retry_of")), ids[k]);
		rid[k] = json_integer_value(json_object_get(a, "id"));
	}
	it_pfmt(run, sizeof(run), "%lld", (long long)json_integer_value(
	    json_object_get(j, "run")));
	json_decref(j);
	for (k = 1; k <= NGROUP; k++)
		if (isdown[k] && it_wait_action(e, rid[k], "succeeded",
		    30) != 0)
			fail_msg("h%d: retry A%lld did not succeed", k,
			    (long long)rid[k]);

	/* The retried hosts changed; the others were not even logged in. */
	for (k = 1; k <= NGROUP; k++) {
		shadow_line(k, IT_ACCT, sh2, sizeof(sh2));
		if (isdown[k])
			assert_string_not_equal(sh1[k], sh2);
		else {
			assert_string_equal(sh1[k], sh2);
			assert_int_equal(agent_logins(k), logins1[k]);
		}
		want[k] = isdown[k] ? 1 : -1;
		if (isdown[k]) {
			it_pfmt(name, sizeof(name), "vault/A%lld-password",
			    (long long)rid[k]);
			(void)it_tpath(e, name, pwf[k]);
		}
	}
	want[NHOSTS] = -1;
	logins(IT_ACCT, pwf, NULL, want, ret);
	expect_logins("retried hosts, new password", want, ret);

	/* Per-host status of the retry run; one "retried" per original. */
	assert_int_equal(it_cordon(e, IT_AUD, "queue", "--run", run, "--all",
	    "--json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	assert_int_equal(json_array_size(j), NDOWN);
	json_array_foreach(j, i, a)
		assert_string_equal(json_string_value(json_object_get(a,
		    "state")), "succeeded");
	json_decref(j);
	for (i = 0; i < NDOWN; i++)
		assert_int_equal(it_journal_count(e, "retried",
		    ids[down[i]]), 1);
	it_pfmt(run, sizeof(run), "%lld", (long long)json_integer_value(
	    json_object_get(a = it_action(e, ids[1]), "run")));
	json_decref(a);
	assert_int_equal(it_cordon(e, IT_OP, "retry", run, "--failed", NULL),
	    2);
	assert_true(it_err_has(e, "no failed action left"));
	journal_ok(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fanout_rotate,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_fanout_lock,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_fanout_one_down,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_fanout_retry,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
