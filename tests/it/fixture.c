/*
 * fixture: pieces several integration tests share (fixture.h).
 */
#include <errno.h>
#include <signal.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/util.h"
#include "fixture.h"
#include "harness.h"

int64_t
it_step(struct it_env *e, const char *inc, const char *verb,
    const char *target, const char *args, int approval)
{
	return it_step_for(e, inc, verb, target, args, approval, "x");
}

int64_t
it_step_for(struct it_env *e, const char *inc, const char *verb,
    const char *target, const char *args, int approval, const char *accounts)
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
	r = it_run_accounts(e, IT_OP, rb, inc, accounts, ids, 4, &n);
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

int
it_run_ok(struct it_env *e, const char *const argv[])
{
	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) == 0)
		return 0;
	(void)fprintf(stderr, "'%s %s' exited %d: %s%s\n", argv[0],
	    argv[1] ? argv[1] : "", e->status, e->out, e->err);
	return -1;
}

double
it_mono(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
it_nap_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
it_sshd_start(struct it_env *e, const char *dir, int port)
{
	char		 script[IT_PATH_MAX], p[16];
	const char	*argv[] = { script, dir, p, NULL };
	int		 n;

	n = snprintf(script, sizeof(script), "%s/sshd-start.sh", e->scripts);
	if (n < 0 || (size_t)n >= sizeof(script))
		return -1;
	(void)snprintf(p, sizeof(p), "%d", port);
	return it_run_ok(e, argv);
}

int
it_sshd_stop(struct it_env *e, const char *dir)
{
	char		 script[IT_PATH_MAX];
	const char	*argv[] = { script, dir, NULL };
	int		 n;

	n = snprintf(script, sizeof(script), "%s/sshd-stop.sh", e->scripts);
	if (n < 0 || (size_t)n >= sizeof(script))
		return -1;
	return it_run_ok(e, argv);
}

int
it_user_fresh(struct it_env *e, const char *name, const char *shell)
{
	const char	*add[] = { "useradd", "-m", "-s",
	    shell ? shell : "/bin/sh", name, NULL };

	if (it_user_del(e, name) != 0)
		return -1;
	return it_run_ok(e, add);
}

int
it_user_del(struct it_env *e, const char *name)
{
	const char	*argv[] = { "userdel", "-f", "-r", name, NULL };

	if (getpwnam(name) == NULL)
		return 0;
	return it_run_ok(e, argv);
}

int
it_keygen(struct it_env *e, const char *path)
{
	const char	*argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N",
	    "", "-C", "cordon-it", "-f", path, NULL };

	(void)unlink(path);
	return it_run_ok(e, argv);
}

int
it_ak_set(const char *user, const void *data, size_t len, mode_t mode)
{
	struct passwd	*pw = getpwnam(user);
	char		 d[IT_PATH_MAX], f[IT_PATH_MAX + 32];
	int		 n;

	if (pw == NULL) {
		(void)fprintf(stderr, "%s: no user %s\n", __func__, user);
		return -1;
	}
	n = snprintf(d, sizeof(d), "%s/.ssh", pw->pw_dir);
	if (n < 0 || (size_t)n >= sizeof(d))
		return -1;
	(void)snprintf(f, sizeof(f), "%s/authorized_keys", d);
	if ((mkdir(d, 0700) != 0 && errno != EEXIST) ||
	    chown(d, pw->pw_uid, pw->pw_gid) != 0 ||
	    it_write_file(f, data, len, mode) != 0 ||
	    chown(f, pw->pw_uid, pw->pw_gid) != 0) {
		(void)fprintf(stderr, "%s: %s: %s\n", __func__, f,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
it_login_key(struct it_env *e, const char *user, const char *key)
{
	char	pub[IT_PATH_MAX], *text = NULL;
	size_t	len = 0;
	int	n, r;

	n = snprintf(pub, sizeof(pub), "%s.pub", key);
	if (n < 0 || (size_t)n >= sizeof(pub) || it_keygen(e, key) != 0)
		return -1;
	if (it_read_file(pub, &text, &len) != 0) {
		(void)fprintf(stderr, "%s: cannot read %s\n", __func__, pub);
		return -1;
	}
	r = it_ak_set(user, text, len, 0600);
	free(text);
	return r;
}

int
it_login_user(struct it_env *e, const char *user, const char *shell,
    const char *sudoers_path, const char *sudoers_text, const char *key)
{
	if (it_user_fresh(e, user, shell) != 0)
		return -1;
	if (sudoers_path != NULL && it_write_file(sudoers_path, sudoers_text,
	    strlen(sudoers_text), 0440) != 0) {
		(void)fprintf(stderr, "%s: cannot write %s\n", __func__,
		    sudoers_path);
		return -1;
	}
	return it_login_key(e, user, key);
}

int
it_sshd_group_teardown(void **state, const char *sshd_dir,
    const char *const users[], const char *sudoers)
{
	struct it_env	*e = *state;
	size_t		 i;
	int		 r = 0;

	if (e == NULL)
		return 0;
	if (sshd_dir != NULL && it_sshd_stop(e, sshd_dir) != 0)
		r = -1;
	for (i = 0; users != NULL && users[i] != NULL; i++)
		if (it_user_del(e, users[i]) != 0)
			r = -1;
	if (users != NULL && sudoers != NULL && unlink(sudoers) != 0 &&
	    errno != ENOENT) {
		(void)fprintf(stderr, "%s: %s: %s\n", __func__, sudoers,
		    strerror(errno));
		r = -1;
	}
	if (it_group_teardown(state) != 0)
		r = -1;
	return r;
}

static const char *
py3(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
	    "python3";
}

int
it_fake_vendors_start(struct it_env *e, int port, const char *secret,
    char dir[IT_PATH_MAX], pid_t *pid)
{
	char	kf[IT_PATH_MAX], sf[IT_PATH_MAX], rdy[IT_PATH_MAX];
	char	script[IT_PATH_MAX], p[16], *sec;
	size_t	slen = strlen(secret);
	int	i, r;

	*pid = 0;
	it_pfmt(dir, IT_PATH_MAX, "%s/fake", e->dir);
	it_pfmt(kf, sizeof(kf), "%s/fw.key", e->dir);
	it_pfmt(sf, sizeof(sf), "%s/fw.secret", e->dir);
	it_pfmt(rdy, sizeof(rdy), "%s/fake.ready", dir);
	it_pfmt(script, sizeof(script), "%s/../tests/it/fake_vendors.py",
	    e->scripts);
	it_pfmt(p, sizeof(p), "%d", port);
	if ((sec = malloc(slen + 1)) == NULL)
		return -1;
	memcpy(sec, secret, slen);
	sec[slen] = '\n';
	r = mkdir(dir, 0755) != 0 || it_write_file(kf, "id\n", 3, 0600) != 0 ||
	    it_write_file(sf, sec, slen + 1, 0600) != 0;
	free(sec);
	if (r) {
		(void)fprintf(stderr, "%s: %s: %s\n", __func__, dir,
		    strerror(errno));
		return -1;
	}
	if ((*pid = fork()) < 0) {
		*pid = 0;
		return -1;
	}
	if (*pid == 0) {
		const char *argv[] = { py3(), script, "--dir", dir,
		    "--port", p, "--key-file", kf, "--secret-file", sf,
		    NULL };

		if (strchr(argv[0], '/'))
			execv(argv[0], (char *const *)argv);
		else
			execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 300; i++) {
		if (access(rdy, F_OK) == 0)
			return 0;
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			(void)fprintf(stderr, "%s: fake_vendors.py exited\n",
			    __func__);
			return -1;
		}
		(void)usleep(100000);
	}
	(void)fprintf(stderr, "%s: fake_vendors.py not ready in 30 s\n",
	    __func__);
	return -1;
}

void
it_fake_vendors_stop(pid_t *pid)
{
	int	i;

	if (*pid <= 0)
		return;
	(void)kill(*pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		(void)usleep(100000);
	}
	(void)kill(*pid, SIGKILL);
	(void)waitpid(*pid, NULL, 0);
	*pid = 0;
}

int
it_ssh_login(struct it_env *e, const char *sshd_dir, int port,
    const char *user, const char *key)
{
	char		 p[16], dest[64], khopt[IT_PATH_MAX + 32];
	const char	*argv[] = { "ssh", "-F", "/dev/null", "-p", p, "-i",
	    key, "-o", khopt, "-o", "GlobalKnownHostsFile=/dev/null", "-o",
	    "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o",
	    "PasswordAuthentication=no", "-o", "ConnectTimeout=5", dest,
	    "true", NULL };

	it_pfmt(p, sizeof(p), "%d", port);
	it_pfmt(dest, sizeof(dest), "%s@127.0.0.1", user);
	it_pfmt(khopt, sizeof(khopt), "UserKnownHostsFile=%s/known_hosts",
	    sshd_dir);
	return it_runv(e, IT_ROOT, NULL, argv, 20);
}
