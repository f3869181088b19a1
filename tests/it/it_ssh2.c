/*
 * it_ssh2: the ssh driver's guards and limits against a real OpenSSH sshd
 * (scripts/sshd-start.sh on 127.0.0.1:IT_SSH_PORT) and against listeners
 * this program holds itself on IT_EXTRA_PORT:
 *
 *   - root, system accounts (uid below UID_MIN) are refused when the run
 *     is queued, nothing on the host changes; allow_system_accounts lets
 *     a throwaway system-uid user be locked and its processes ended;
 *   - a host that accepts TCP but never sends a banner fails on its
 *     timeout, next to a healthy host in the same group that succeeds;
 *   - agent.parallel bounds the simultaneous connections, measured on a
 *     listener that counts them;
 *   - rotate_authorized_keys' keep argument: a mistyped value is refused,
 *     "none" and a fingerprint list leave exactly what they say;
 *   - a changed host key aborts with the new fingerprint and leaves the
 *     pinned known_hosts byte for byte as it was.
 *
 * Users (all "cordon-t-ss2*"): ss2agent is cordon's login (key auth, sudo
 * NOPASSWD through /etc/sudoers.d/cordon-t-ss2agent); ss2acct an ordinary
 * account; ss2sys a system-uid account (useradd -r).  Group teardown
 * removes them, the sudoers file and the sshd; every process this program
 * starts is stopped by its pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/util.h"
#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38994
#define IT_EXTRA_PORT	38995		/* the test's own listeners */
#define IT_SSH_PORT	22320
#define IT_AGENT_USER	"cordon-t-ss2agent"
#define IT_ACCT		"cordon-t-ss2acct"
#define IT_SYS		"cordon-t-ss2sys"
#define IT_ALIAS	"cordon-t-ss2alias"	/* cordon's login's uid */
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-ss2agent"
#define IT_HUNG_TIMEOUT	2		/* seconds, the hung targets' */
#define IT_NPAR		5		/* targets behind the counter */

static char	sshd_dir[IT_PATH_MAX];
static int	sshd_up, users_made;
static pid_t	kids[8];		/* sleepers and counters, by pid */

static void
kid_add(pid_t pid)
{
	size_t	i;

	for (i = 0; i < ARRAY_SIZE(kids); i++)
		if (kids[i] == 0) {
			kids[i] = pid;
			return;
		}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	fail_msg("too many children");
}

/* Stops pid (one of ours) and reaps it; its wait status or -1. */
static int
kid_end(pid_t pid)
{
	size_t	i;
	int	st = -1;

	for (i = 0; i < ARRAY_SIZE(kids); i++)
		if (kids[i] == pid) {
			kids[i] = 0;
			(void)kill(pid, SIGKILL);
			if (waitpid(pid, &st, 0) != pid)
				st = -1;
		}
	return st;
}

static void
kids_end(void)
{
	size_t	i;

	for (i = 0; i < ARRAY_SIZE(kids); i++)
		if (kids[i] != 0)
			(void)kid_end(kids[i]);
}

/* The alias shares the agent's uid: no pkill, no home to remove. */
static void
alias_del(struct it_env *e)
{
	const char	*argv[] = { "userdel", IT_ALIAS, NULL };

	if (getpwnam(IT_ALIAS) != NULL &&
	    it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0)
		(void)fprintf(stderr, "userdel %s: %s\n", IT_ALIAS, e->err);
}

static int
file_text(const char *path, char *buf, size_t len)
{
	char	*t;
	size_t	 n;

	if (it_read_file(path, &t, &n) != 0)
		return -1;
	it_pfmt(buf, len, "%s", t);
	free(t);
	return 0;
}

/* name's line in /etc/shadow into buf; 0, or -1 when there is none. */
static int
shadow_line(const char *name, char *buf, size_t len)
{
	char	*t, *p, *nl;
	size_t	 n, nlen = strlen(name);
	int	 r = -1;

	if (it_read_file("/etc/shadow", &t, &n) != 0)
		return -1;
	for (p = t; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
			it_pfmt(buf, len, "%.*s", nl ? (int)(nl - p) :
			    (int)strlen(p), p);
			r = 0;
			break;
		}
	}
	free(t);
	return r;
}

/* Field k (0-based) of a shadow line, copied into buf. */
static const char *
shadow_field(const char *line, int k, char *buf, size_t len)
{
	const char	*p = line, *e;

	for (; k > 0 && p; k--)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	assert_non_null(p);
	e = strchr(p, ':');
	it_pfmt(buf, len, "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
	return buf;
}

/*
 * `sleep 120` running as user, under a root parent that reaps it at once
 * (pgrep counts zombies) and exits with 128+signal when it is killed.
 * The sleeper dies with that parent.  The parent's pid.
 */
static pid_t
sleeper(const char *user)
{
	struct passwd	*pw = getpwnam(user);
	pid_t		 pid, gc;
	int		 st;

	assert_non_null(pw);
	if ((pid = fork()) < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		pid_t me = getpid();

		if ((gc = fork()) < 0)
			_exit(125);
		if (gc == 0) {
			if (setgroups(0, NULL) != 0 ||
			    setgid(pw->pw_gid) != 0 ||
			    setuid(pw->pw_uid) != 0 ||
			    prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
			    getppid() != me)
				_exit(126);
			execl("/bin/sleep", "sleep", "120", (char *)NULL);
			_exit(127);
		}
		if (waitpid(gc, &st, 0) != gc)
			_exit(124);
		_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) :
		    WEXITSTATUS(st));
	}
	kid_add(pid);
	return pid;
}

/* 1 while our child pid has not exited (it is not reaped until then). */
static int
kid_alive(pid_t pid)
{
	size_t	i;

	if (waitpid(pid, NULL, WNOHANG) == 0)
		return 1;
	for (i = 0; i < ARRAY_SIZE(kids); i++)
		if (kids[i] == pid)
			kids[i] = 0;		/* reaped: never kill it again */
	return 0;
}

/*
 * A listening TCP socket on 127.0.0.1:port, or -1 (why printed).  The
 * port lies in the ephemeral range: a client elsewhere on the machine may
 * hold it for a moment, so binding is retried for up to 10 s.  Kept in
 * held_fd so that teardown closes it when a test fails midway.
 */
static int	held_fd = -1;

static int
listener(int port)
{
	struct sockaddr_in	sa;
	double			t0 = it_mono();
	int			fd, one = 1, r;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		(void)close(fd);
		return -1;
	}
	while ((r = bind(fd, (struct sockaddr *)&sa, sizeof(sa))) != 0 &&
	    errno == EADDRINUSE && it_mono() - t0 < 10)
		it_nap_ms(200);
	if (r != 0 || listen(fd, 64) != 0) {
		(void)fprintf(stderr, "listener on %d: %s\n", port,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	held_fd = fd;
	return fd;
}

static void
held_close(void)
{
	if (held_fd >= 0)
		(void)close(held_fd);
	held_fd = -1;
}

/* One ssh target as cordon logs in to 127.0.0.1:port; extra inside. */
static void
target(FILE *f, const char *name, int port, const char *key,
    const char *kh, int timeout, const char *extra)
{
	(void)fprintf(f, "\t\t{ name = \"%s\"; type = \"ssh\"; host = "
	    "\"127.0.0.1\"; port = %d; user = \"" IT_AGENT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s\"; timeout = %d;%s }",
	    name, port, key, kh, timeout, extra);
}

static int
write_config(struct it_env *e)
{
	char	*buf = NULL, key[IT_PATH_MAX], kh[IT_PATH_MAX], name[16];
	char	 vault[IT_PATH_MAX], khx[IT_PATH_MAX], khp[IT_PATH_MAX];
	size_t	 len = 0;
	int	 k, r = -1;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return -1;
	(void)it_gpath(e, "agent_key", key);
	it_pfmt(kh, sizeof(kh), "%s/known_hosts", sshd_dir);
	(void)it_gpath(e, "kh_extra", khx);
	(void)it_gpath(e, "kh_pinned", khp);
	(void)fprintf(f, "agent: {\n\tsocket = \"%s\";\n\tstore = \"%s\";\n"
	    "\tsecrets_dir = \"%s\";\n\tparallel = 2;\n};\n"
	    "customers = ( {\n"
	    "\tname = \"acme\";\n\tprotected = [ \"breakglass\" ];\n"
	    "\troles = (\n"
	    "\t\t{ user = \"" IT_OP "\"; role = \"operator\"; },\n"
	    "\t\t{ user = \"" IT_LEAD "\"; role = \"lead\"; },\n"
	    "\t\t{ user = \"" IT_AUD "\"; role = \"auditor\"; }\n\t);\n"
	    "\ttargets = (\n", e->sock, e->store,
	    it_tpath(e, "vault", vault));
	target(f, "s1", IT_SSH_PORT, key, kh, 10, "");
	(void)fputs(",\n", f);
	target(f, "s1-allow", IT_SSH_PORT, key, kh, 10,
	    " allow_system_accounts = true;");
	(void)fputs(",\n", f);
	target(f, "pinned", IT_EXTRA_PORT, key, khp, 10, "");
	(void)fputs(",\n", f);
	target(f, "hung", IT_EXTRA_PORT, key, khx, IT_HUNG_TIMEOUT, "");
	for (k = 1; k <= IT_NPAR; k++) {
		it_pfmt(name, sizeof(name), "p%d", k);
		(void)fputs(",\n", f);
		target(f, name, IT_EXTRA_PORT, key, khx, IT_HUNG_TIMEOUT, "");
	}
	(void)fprintf(f, "\n\t);\n\ttarget_groups = (\n"
	    "\t\t{ name = \"mixed\"; members = [ \"s1\", \"hung\" ]; },\n"
	    "\t\t{ name = \"five\"; members = [ ");
	for (k = 1; k <= IT_NPAR; k++)
		(void)fprintf(f, "\"p%d\"%s", k, k < IT_NPAR ? ", " : "");
	(void)fprintf(f, " ]; }\n\t);\n} );\n");
	if (fclose(f) != 0)
		goto out;
	r = it_write_file(e->conf, buf, len, 0600);
out:
	free(buf);
	return r;
}

/* A fresh system-uid user (useradd -r), for the guard's UID_MIN test. */
static int
sys_user_fresh(struct it_env *e, const char *name)
{
	const char	*add[] = { "useradd", "-r", "-m", "-s", "/bin/sh",
	    name, NULL };

	if (it_user_del(e, name) != 0)
		return -1;
	return it_run_ok(e, add);
}

/* Ends what the test account still runs, by its name's uid. */
static void
procs_end(struct it_env *e, const char *name)
{
	const char	*pk[] = { "pkill", "-KILL", "-u", name, NULL };

	if (getpwnam(name) != NULL)
		(void)it_runv(e, IT_ROOT, NULL, pk, 10);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 key[IT_PATH_MAX];
	static const char sudoers[] = IT_AGENT_USER
	    " ALL=(ALL) NOPASSWD: ALL\n";

	if (it_group_setup(state, IT_SLAPD_PORT) != 0)
		return -1;
	e = *state;
	it_pfmt(sshd_dir, sizeof(sshd_dir), "%s/sshd", e->dir);
	sshd_up = 1;
	if (it_sshd_start(e, sshd_dir, IT_SSH_PORT) != 0)
		return -1;
	users_made = 1;
	if (it_login_user(e, IT_AGENT_USER, NULL, IT_SUDOERS, sudoers,
	    it_gpath(e, "agent_key", key)) != 0 ||
	    it_user_fresh(e, IT_ACCT, NULL) != 0 ||
	    sys_user_fresh(e, IT_SYS) != 0)
		return -1;
	{
		/* A second name for cordon's own uid (useradd -o). */
		struct passwd	*pw = getpwnam(IT_AGENT_USER);
		char		 uid[32];
		const char	*add[] = { "useradd", "-o", "-u", uid, "-M",
		    "-s", "/bin/sh", IT_ALIAS, NULL };

		if (pw == NULL)
			return -1;
		it_pfmt(uid, sizeof(uid), "%ld", (long)pw->pw_uid);
		alias_del(e);
		if (it_run_ok(e, add) != 0)
			return -1;
	}
	if (it_write_file(it_gpath(e, "kh_extra", key), "", 0, 0644) != 0 ||
	    it_write_file(it_gpath(e, "kh_pinned", key), "", 0, 0644) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_ACCT, IT_SYS, IT_AGENT_USER,
	    NULL };
	struct it_env	*e = *state;
	char		 dir[IT_PATH_MAX];
	struct stat	 st;
	int		 r = 0;

	if (e == NULL)
		return 0;
	kids_end();
	/* The second sshd of the host-key test, if a test left it. */
	if (stat(it_gpath(e, "sshd_x/sshd.pid", dir), &st) == 0 &&
	    it_sshd_stop(e, it_gpath(e, "sshd_x", dir)) != 0)
		r = -1;
	if (users_made) {
		procs_end(e, IT_ACCT);
		procs_end(e, IT_SYS);
		procs_end(e, IT_AGENT_USER);
		/* Before its uid's owner goes: the alias has no home. */
		alias_del(e);
	}
	if (it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    users_made ? users : NULL, IT_SUDOERS) != 0)
		r = -1;
	return r;
}

/* The test accounts as every test starts: unlocked, no processes. */
static int
accts_reset(struct it_env *e)
{
	static const char *const names[] = { IT_ACCT, IT_SYS };
	size_t	i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		const char *ul[] = { "usermod", "-U", names[i], NULL };
		const char *ce[] = { "chage", "-E", "-1", names[i], NULL };

		procs_end(e, names[i]);
		(void)it_runv(e, IT_ROOT, NULL, ul, 10);
		if (it_run_ok(e, ce) != 0)
			return -1;
	}
	return 0;
}

static int
test_setup(void **state)
{
	struct it_env	*e = *state;

	if (accts_reset(e) != 0 || it_test_dir(e) != 0 ||
	    write_config(e) != 0)
		return -1;
	return it_agent_start(e, 0);
}

static int
test_teardown(void **state)
{
	char	key[IT_PATH_MAX];

	/* test_ssh2_key_mode_at_use loosens it; never leave it so. */
	(void)chmod(it_gpath(*state, "agent_key", key), 0600);
	kids_end();
	held_close();
	return it_test_teardown(*state);
}

/* A one-step runbook for verb on target (a host or a group). */
static const char *
runbook(struct it_env *e, const char *verb, const char *target,
    const char *extra, int approval, char buf[IT_PATH_MAX])
{
	char	text[2048];

	it_pfmt(text, sizeof(text),
	    "name = \"it-ssh2\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; } );\n"
	    "steps = ( { name = \"s\"; verb = \"%s\"; target = \"%s\";\n"
	    "  foreach = \"${accounts}\";\n"
	    "  args = { account = \"${item}\"; %s };\n"
	    "  approval = \"%s\"; on_failure = \"continue\"; } );\n",
	    verb, target, extra ? extra : "", approval ? "required" : "none");
	(void)it_tpath(e, "rb.runbook", buf);
	assert_int_equal(it_write_file(buf, text, strlen(text), 0644), 0);
	return buf;
}

/* `cordon run`: its exit code; the action ids into ids. */
static int
run_ids(struct it_env *e, const char *verb, const char *target,
    const char *extra, int approval, const char *acct, int64_t *ids,
    size_t max, size_t *ret_n)
{
	char	rb[IT_PATH_MAX], inc[32];

	assert_int_equal(it_incident_open(e, inc), 0);
	return it_run_accounts(e, IT_OP, runbook(e, verb, target, extra,
	    approval, rb), inc, acct, ids, max, ret_n);
}

/* One action of verb for acct, no approval: its id. */
static int64_t
run_verb(struct it_env *e, const char *verb, const char *target,
    const char *extra, const char *acct)
{
	char	inc[32], args[512];
	int64_t	id;

	assert_int_equal(it_incident_open(e, inc), 0);
	it_pfmt(args, sizeof(args), "account = \"${item}\"; %s",
	    extra ? extra : "");
	if ((id = it_step_for(e, inc, verb, target, args, 0, acct)) == 0)
		fail_msg("run %s: exit %d: %s%s", verb, e->status, e->out,
		    e->err);
	return id;
}

static pid_t
sshd_pid(void)
{
	char	f[IT_PATH_MAX], t[64];

	it_pfmt(f, sizeof(f), "%s/sshd.pid", sshd_dir);
	assert_int_equal(file_text(f, t, sizeof(t)), 0);
	return (pid_t)strtol(t, NULL, 10);
}

/*
 * root, daemon and a system-uid user: every verb is refused when the run
 * is queued, and nothing on the host changes.  Approval "required" keeps
 * a guard that failed from acting before the assertions catch it.
 */
static void
test_ssh2_system_refused(void **state)
{
	struct it_env		*e = *state;
	static const char *const accts[] = { "root", "daemon", IT_SYS };
	static const char *const verbs[] = { "ssh.end_sessions",
	    "ssh.lock_account", "ssh.rotate_password",
	    "ssh.rotate_authorized_keys" };
	char			 sh0[3][512], sh1[512], f[32];
	pid_t			 dpid, spid, sshd;
	int64_t			 ids[4];
	size_t			 i, j, n;

	sshd = sshd_pid();
	dpid = sleeper("daemon");
	spid = sleeper(IT_SYS);
	for (i = 0; i < ARRAY_SIZE(accts); i++)
		assert_int_equal(shadow_line(accts[i], sh0[i],
		    sizeof(sh0[i])), 0);
	for (i = 0; i < ARRAY_SIZE(accts); i++)
		for (j = 0; j < ARRAY_SIZE(verbs); j++) {
			n = 99;
			if (run_ids(e, verbs[j], "s1", NULL, 1, accts[i], ids,
			    4, &n) != 3 || !it_err_has(e, "system account"))
				fail_msg("%s %s: exit %d, '%s'", verbs[j],
				    accts[i], e->status, e->err);
			assert_int_equal(n, 0);
			assert_true(it_err_has(e, "allow_system_accounts"));
		}
	/* Another name for cordon's own uid: refused as that uid. */
	for (j = 0; j < ARRAY_SIZE(verbs); j++) {
		if (run_ids(e, verbs[j], "s1", NULL, 1, IT_ALIAS, ids, 4, &n)
		    != 3 || !it_err_has(e, "the uid cordon logs in as"))
			fail_msg("%s %s: exit %d, '%s'", verbs[j], IT_ALIAS,
			    e->status, e->err);
	}
	assert_int_equal(it_queue_count(e), 0);
	/* Nothing changed: the processes live, the shadow lines stand. */
	assert_true(kid_alive(dpid));
	assert_true(kid_alive(spid));
	assert_int_equal(kill(sshd, 0), 0);
	for (i = 0; i < ARRAY_SIZE(accts); i++) {
		assert_int_equal(shadow_line(accts[i], sh1, sizeof(sh1)), 0);
		assert_string_equal(sh0[i], sh1);
	}
	/* An ordinary account on the same target is not refused. */
	it_wait_state(e, run_verb(e, "ssh.lock_account", "s1", NULL, IT_ACCT),
	    "succeeded", 30);
	assert_int_equal(shadow_line(IT_ACCT, sh1, sizeof(sh1)), 0);
	assert_string_equal(shadow_field(sh1, 7, f, sizeof(f)), "0");
}

/* allow_system_accounts: the system-uid user is locked and its sleeper
 * ended, for real. */
static void
test_ssh2_system_allowed(void **state)
{
	struct it_env	*e = *state;
	char		 sh[512], f[32];
	pid_t		 spid, dpid;
	double		 t0;
	int		 st = 0;

	dpid = sleeper("daemon");
	spid = sleeper(IT_SYS);
	/* Locked means the expiry too (a system user has no password). */
	assert_int_equal(shadow_line(IT_SYS, sh, sizeof(sh)), 0);
	assert_string_equal(shadow_field(sh, 7, f, sizeof(f)), "");
	it_wait_state(e, run_verb(e, "ssh.lock_account", "s1-allow", NULL,
	    IT_SYS), "succeeded", 30);
	assert_int_equal(shadow_line(IT_SYS, sh, sizeof(sh)), 0);
	assert_string_equal(shadow_field(sh, 7, f, sizeof(f)), "0");
	assert_true(shadow_field(sh, 1, f, sizeof(f))[0] == '!');
	it_wait_state(e, run_verb(e, "ssh.end_sessions", "s1-allow", NULL,
	    IT_SYS), "succeeded", 30);
	/* The sleeper died of SIGKILL (kid_end's is not sent yet). */
	for (t0 = it_mono(); it_mono() - t0 < 5; it_nap_ms(50))
		if (waitpid(spid, &st, WNOHANG) == spid)
			break;
	assert_true(it_mono() - t0 < 5);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL);
	{
		size_t i;

		for (i = 0; i < ARRAY_SIZE(kids); i++)
			if (kids[i] == spid)
				kids[i] = 0;
	}
	/* Only that user's: daemon's sleeper lives on. */
	assert_true(kid_alive(dpid));
}

/*
 * A host whose port accepts TCP but never sends a banner, next to a
 * healthy one in the same group: the healthy one succeeds, the hung one
 * fails on its own timeout, and the run ends.
 */
static void
test_ssh2_hung_host(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[4];
	size_t		 n = 0, i, ok = 0, bad = 0;
	double		 t0, dt;
	const char	*msg, *tg;
	json_t		*a;
	int		 lfd, r;

	/* Held open, never accept()ed: the kernel completes the handshake
	 * and nothing ever answers. */
	assert_true((lfd = listener(IT_EXTRA_PORT)) >= 0);
	t0 = it_mono();
	r = run_ids(e, "ssh.lock_account", "mixed", NULL, 0, IT_ACCT, ids, 4,
	    &n);
	if (r != 0 && r != 1)
		fail_msg("run: exit %d: %s%s", r, e->out, e->err);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_non_null(a = it_action(e, ids[i]));
		tg = json_string_value(json_object_get(a, "target"));
		assert_non_null(tg);
		if (strcmp(tg, "s1") == 0)
			ok = i + 1;
		else if (strcmp(tg, "hung") == 0)
			bad = i + 1;
		json_decref(a);
	}
	assert_true(ok != 0 && bad != 0);
	/* The hung host first: when it failed is what is measured. */
	it_wait_state(e, ids[bad - 1], "failed", 30);
	dt = it_mono() - t0;
	assert_non_null(a = it_action(e, ids[bad - 1]));
	msg = json_string_value(json_object_get(a, "message"));
	assert_non_null(msg);
	if (strstr(msg, "imeout") == NULL && strstr(msg, "timed out") == NULL)
		fail_msg("hung: message '%s' names no timeout", msg);
	json_decref(a);
	(void)fprintf(stderr, "  hung host: failed after %.2f s (timeout %d "
	    "s)\n", dt, IT_HUNG_TIMEOUT);
	/* It waited for the timeout, and not much longer. */
	assert_true(dt >= IT_HUNG_TIMEOUT - 0.5);
	assert_true(dt <= IT_HUNG_TIMEOUT + 8.0);
	/* The healthy host in the same group did its work. */
	it_wait_state(e, ids[ok - 1], "succeeded", 30);
	(void)fprintf(stderr, "  hung host: run settled in %.2f s\n",
	    it_mono() - t0);
	held_close();
}

/*
 * The counter: accepts every connection on lfd, never writes, and tracks
 * how many are open at once.  When ctl becomes readable it writes "MAX
 * TOTAL" to out and exits; it gives up after 120 s.
 */
static void
counter(int lfd, int ctl, int out)
{
	struct pollfd	 p[64];
	size_t		 np = 2, i;
	int		 open_now = 0, max = 0, total = 0, fd;
	char		 b[64];
	double		 t0 = it_mono();

	p[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = ctl, .events = POLLIN };
	while (it_mono() - t0 < 120) {
		if (poll(p, np, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		for (i = 2; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (read(p[i].fd, b, sizeof(b)) > 0)
				continue;
			(void)close(p[i].fd);
			p[i--] = p[--np];
			open_now--;
		}
		if ((p[0].revents & POLLIN) && np < ARRAY_SIZE(p) &&
		    (fd = accept(lfd, NULL, NULL)) >= 0) {
			/* Closes the agent made before this connect count
			 * first, even when poll saw the connect first. */
			for (i = 2; i < np; i++)
				if (recv(p[i].fd, b, sizeof(b), MSG_PEEK |
				    MSG_DONTWAIT) == 0) {
					(void)close(p[i].fd);
					p[i--] = p[--np];
					open_now--;
				}
			p[np++] = (struct pollfd){ .fd = fd,
			    .events = POLLIN };
			total++;
			if (++open_now > max)
				max = open_now;
		}
	}
	i = (size_t)snprintf(b, sizeof(b), "%d %d\n", max, total);
	_exit(write(out, b, i) == (ssize_t)i ? 0 : 1);
}

/*
 * agent.parallel = 2, five targets behind the counter: at most two
 * connections are ever open at once, and two are (it is parallel).
 */
static void
test_ssh2_parallel_limit(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[8];
	size_t		 n = 0, i;
	int		 lfd, ctl[2], out[2], max = -1, total = -1, r;
	char		 b[64];
	ssize_t		 got;
	double		 t0;
	pid_t		 pid;

	assert_true((lfd = listener(IT_EXTRA_PORT)) >= 0);
	assert_int_equal(pipe2(ctl, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	if ((pid = fork()) < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		(void)close(ctl[1]);
		(void)close(out[0]);
		counter(lfd, ctl[0], out[1]);
	}
	kid_add(pid);
	held_close();
	(void)close(ctl[0]);
	(void)close(out[1]);
	t0 = it_mono();
	r = run_ids(e, "ssh.lock_account", "five", NULL, 0, IT_ACCT, ids, 8,
	    &n);
	if (r != 0 && r != 1)
		fail_msg("run: exit %d: %s%s", r, e->out, e->err);
	assert_int_equal(n, IT_NPAR);
	for (i = 0; i < n; i++)
		it_wait_state(e, ids[i], "failed", 30);
	(void)fprintf(stderr, "  %d hung targets, parallel 2: settled in "
	    "%.2f s\n", IT_NPAR, it_mono() - t0);
	/* Let the last closes reach the counter, then ask for its count. */
	it_nap_ms(300);
	assert_int_equal(write(ctl[1], "x", 1), 1);
	got = read(out[0], b, sizeof(b) - 1);
	assert_true(got > 0);
	b[got] = '\0';
	assert_int_equal(sscanf(b, "%d %d", &max, &total), 2);
	(void)close(ctl[1]);
	(void)close(out[0]);
	(void)kid_end(pid);
	(void)fprintf(stderr, "  at most %d connection(s) open at once, %d "
	    "in all\n", max, total);
	assert_int_equal(max, 2);
	assert_true(total >= IT_NPAR);
}

/* Logs in as user with key through OpenSSH: 0 logged in, else ssh's. */
static int
login_key(struct it_env *e, const char *user, const char *key)
{
	return it_ssh_login(e, sshd_dir, IT_SSH_PORT, user, key);
}

/* A new key pair at name; its public line into pub, fingerprint into fp. */
static void
key_make(struct it_env *e, const char *name, char path[IT_PATH_MAX],
    char pub[1024], char fp[128])
{
	char		 pf[IT_PATH_MAX];
	const char	*lf[] = { "ssh-keygen", "-l", "-E", "sha256", "-f", pf,
	    NULL };
	char		*sp;

	(void)it_tpath(e, name, path);
	it_pfmt(pf, sizeof(pf), "%s.pub", path);
	assert_int_equal(it_keygen(e, path), 0);
	assert_int_equal(file_text(pf, pub, 1024), 0);
	assert_int_equal(it_run_ok(e, lf), 0);
	/* "256 SHA256:... comment (ED25519)" */
	assert_non_null(sp = strchr(e->out, ' '));
	it_pfmt(fp, 128, "%s", sp + 1);
	fp[strcspn(fp, " ")] = '\0';
	assert_int_equal(strncmp(fp, "SHA256:", 7), 0);
}

static size_t
key_lines(const char *path)
{
	char	*t, *p;
	size_t	 n, k = 0;

	assert_int_equal(it_read_file(path, &t, &n), 0);
	for (p = t; (p = strstr(p, "ssh-ed25519 ")) != NULL; p++)
		k++;
	free(t);
	return k;
}

/*
 * keep: a mistyped value is refused when the runbook loads, with its
 * file:line; "none" empties the file; a fingerprint list keeps exactly
 * those keys and the new one, proven by logging in with OpenSSH.
 */
static void
test_ssh2_keep(void **state)
{
	struct it_env	*e = *state;
	char		 k1[IT_PATH_MAX], k2[IT_PATH_MAX], p1[1024], p2[1024];
	char		 f1[128], f2[128], ak[2400], akf[IT_PATH_MAX];
	char		 extra[256], rb[IT_PATH_MAX];
	struct passwd	*pw = getpwnam(IT_ACCT);
	int64_t		 ids[4];
	size_t		 n = 0;

	assert_non_null(pw);
	it_pfmt(akf, sizeof(akf), "%s/.ssh/authorized_keys", pw->pw_dir);
	key_make(e, "k1", k1, p1, f1);
	key_make(e, "k2", k2, p2, f2);
	it_pfmt(ak, sizeof(ak), "%s%s", p1, p2);

	/* A typo: refused at load, file:line, nothing queued. */
	assert_int_not_equal(run_ids(e, "ssh.rotate_authorized_keys", "s1",
	    "keep = \"nwe\";", 0, IT_ACCT, ids, 4, &n), 0);
	it_pfmt(extra, sizeof(extra), "%s:5: ", it_tpath(e, "rb.runbook",
	    rb));
	if (!it_err_has(e, extra) || !it_err_has(e, "'keep' is \"nwe\""))
		fail_msg("typo: '%s'", e->err);
	assert_int_equal(it_queue_count(e), 0);

	/* keep = "none": no key logs in afterwards. */
	assert_int_equal(it_ak_set(IT_ACCT, ak, strlen(ak), 0600), 0);
	assert_int_equal(login_key(e, IT_ACCT, k1), 0);
	assert_int_equal(login_key(e, IT_ACCT, k2), 0);
	it_wait_state(e, run_verb(e, "ssh.rotate_authorized_keys", "s1",
	    "keep = \"none\";", IT_ACCT), "succeeded", 30);
	assert_int_equal(key_lines(akf), 0);
	assert_int_not_equal(login_key(e, IT_ACCT, k1), 0);
	assert_int_not_equal(login_key(e, IT_ACCT, k2), 0);

	/* keep = k1's fingerprint: k1 and the new key stay, k2 goes. */
	assert_int_equal(it_ak_set(IT_ACCT, ak, strlen(ak), 0600), 0);
	it_pfmt(extra, sizeof(extra), "keep = \"%s\";", f1);
	it_wait_state(e, run_verb(e, "ssh.rotate_authorized_keys", "s1", extra,
	    IT_ACCT), "succeeded", 30);
	assert_int_equal(key_lines(akf), 2);
	assert_int_equal(it_file_has(akf, strchr(p1, ' ') + 1) , 1);
	assert_int_equal(it_file_has(akf, "cordon-A"), 1);
	assert_int_equal(login_key(e, IT_ACCT, k1), 0);
	assert_int_not_equal(login_key(e, IT_ACCT, k2), 0);
}

/* sshd-start.sh or sshd-stop.sh on the extra port's sshd. */
static int
sshd_x(struct it_env *e, int start)
{
	char	dir[IT_PATH_MAX];

	(void)it_gpath(e, "sshd_x", dir);
	return start ? it_sshd_start(e, dir, IT_EXTRA_PORT) :
	    it_sshd_stop(e, dir);
}

/*
 * The pinned host changes its key: the action aborts naming the new
 * fingerprint, and the pinned known_hosts keeps every byte and its mode.
 */
static void
test_ssh2_hostkey_changed(void **state)
{
	struct it_env	*e = *state;
	char		 d[IT_PATH_MAX], src[IT_PATH_MAX], khp[IT_PATH_MAX];
	char		 fpf[IT_PATH_MAX], fp[128], fp0[128];
	char		*t0, *t1, *t;
	size_t		 n0, n1, n;
	struct stat	 st0, st1;
	const char	*msg;
	json_t		*a;
	int64_t		 id;

	(void)it_gpath(e, "sshd_x", d);
	it_pfmt(src, sizeof(src), "%s/known_hosts", d);
	it_pfmt(fpf, sizeof(fpf), "%s/host_fp", d);
	(void)it_gpath(e, "kh_pinned", khp);
	assert_int_equal(sshd_x(e, 1), 0);
	assert_int_equal(it_read_file(src, &t, &n), 0);
	/* Not a bare copy: a comment and a second line must survive too. */
	{
		char k[IT_PATH_MAX], pub[1024], kfp[128], *pin;

		/* Another host's real key line, comment dropped. */
		key_make(e, "otherhost", k, pub, kfp);
		*strrchr(pub, ' ') = '\0';
		pin = xasprintf("# pinned by it_ssh2\n%s[127.0.0.9]:22 %s\n",
		    t, pub);

		assert_int_equal(it_write_file(khp, pin, strlen(pin), 0644),
		    0);
		free(pin);
	}
	free(t);
	assert_int_equal(file_text(fpf, fp0, sizeof(fp0)), 0);
	fp0[strcspn(fp0, "\n")] = '\0';
	/* The pin works: the first action succeeds. */
	it_wait_state(e, run_verb(e, "ssh.lock_account", "pinned", NULL,
	    IT_ACCT), "succeeded", 30);
	assert_int_equal(it_read_file(khp, &t0, &n0), 0);
	assert_int_equal(stat(khp, &st0), 0);

	/* A new host key; a new agent, so no parked session is reused. */
	assert_int_equal(sshd_x(e, 0), 0);
	assert_int_equal(sshd_x(e, 1), 0);
	assert_int_equal(file_text(fpf, fp, sizeof(fp)), 0);
	fp[strcspn(fp, "\n")] = '\0';
	assert_string_not_equal(fp, fp0);
	assert_int_equal(it_agent_stop(e), 0);
	assert_int_equal(it_agent_start(e, 0), 0);
	id = run_verb(e, "ssh.end_sessions", "pinned", NULL, IT_ACCT);
	it_wait_state(e, id, "failed", 30);
	assert_non_null(a = it_action(e, id));
	msg = json_string_value(json_object_get(a, "message"));
	assert_non_null(msg);
	if (strstr(msg, "CHANGED") == NULL || strstr(msg, fp) == NULL)
		fail_msg("message '%s' lacks 'CHANGED' or '%s'", msg, fp);
	json_decref(a);
	/* known_hosts: the same bytes, the same mode, the same inode. */
	assert_int_equal(it_read_file(khp, &t1, &n1), 0);
	assert_int_equal(n0, n1);
	assert_memory_equal(t0, t1, n0);
	assert_int_equal(stat(khp, &st1), 0);
	assert_int_equal(st0.st_mode, st1.st_mode);
	assert_int_equal(st0.st_ino, st1.st_ino);
	assert_int_equal(st0.st_mtim.tv_sec, st1.st_mtim.tv_sec);
	assert_int_equal(st0.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
	free(t0);
	free(t1);
	assert_int_equal(sshd_x(e, 0), 0);
}

/*
 * key_file is checked again when used: made group/world-readable after
 * the config loaded, it is refused and the host is left alone.
 */
static void
test_ssh2_key_mode_at_use(void **state)
{
	struct it_env	*e = *state;
	char		 key[IT_PATH_MAX], sh0[512], sh1[512];
	const char	*msg;
	json_t		*a;
	int64_t		 id;

	(void)it_gpath(e, "agent_key", key);
	assert_int_equal(shadow_line(IT_ACCT, sh0, sizeof(sh0)), 0);
	assert_int_equal(chmod(key, 0644), 0);
	id = run_verb(e, "ssh.lock_account", "s1", NULL, IT_ACCT);
	assert_int_equal(chmod(key, 0600), 0);
	it_wait_state(e, id, "failed", 30);
	assert_non_null(a = it_action(e, id));
	msg = json_string_value(json_object_get(a, "message"));
	assert_non_null(msg);
	if (strstr(msg, "key_file") == NULL || strstr(msg, "chmod 600") ==
	    NULL)
		fail_msg("message '%s' does not name the loose key", msg);
	json_decref(a);
	assert_int_equal(shadow_line(IT_ACCT, sh1, sizeof(sh1)), 0);
	assert_string_equal(sh0, sh1);
	/* Tightened again, the same key works. */
	it_wait_state(e, run_verb(e, "ssh.lock_account", "s1", NULL, IT_ACCT),
	    "succeeded", 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ssh2_system_refused,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh2_system_allowed,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh2_hung_host,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh2_parallel_limit,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh2_keep,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh2_hostkey_changed,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh2_key_mode_at_use,
		    test_setup, test_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
