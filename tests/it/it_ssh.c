/*
 * it_ssh: the ssh driver against a real OpenSSH sshd (scripts/sshd-start.sh
 * on 127.0.0.1:IT_SSH_PORT, UsePAM yes), with every change proven by
 * logging in for real: OpenSSH's ssh and sshpass, not cordon's own code.
 *
 * Users: cordon-t-agent is cordon's login (key auth, sudo NOPASSWD through
 * /etc/sudoers.d/cordon-t-agent); cordon-t-ssh1 is the account the verbs
 * act on, reset before each test (password, authorized_keys, no lock).
 * Group teardown removes both users, the sudoers file and the sshd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
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

#include "../../actions/ssh_conn.h"
#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38926
#define IT_SSH_PORT	22260
#define IT_SSH2_PORT	38952		/* the sshd whose key gets trusted */
#define IT_AGENT_USER	"cordon-t-agent"
#define IT_ACCT		"cordon-t-ssh1"
#define IT_OLD_PW	"Old-pw-1 with 'quotes' and $x"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-agent"
#define IT_TEXT_MAX	16384

static char	sshd_dir[IT_PATH_MAX];
static char	targets[IT_TEXT_MAX];
static int	sshd_up, users_made, sshd2_up;

static int
ak_path(const char *name, char buf[IT_PATH_MAX])
{
	struct passwd	*pw = getpwnam(name);

	if (pw == NULL)
		return -1;
	it_pfmt(buf, IT_PATH_MAX, "%s/.ssh/authorized_keys",
	    pw->pw_dir);
	return 0;
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

/* Login proofs with OpenSSH itself: 0 logged in, else ssh's status. */
static int
login_pw(struct it_env *e, const char *user, const char *pwfile)
{
	char		 kh[IT_PATH_MAX], port[16], dest[64];
	const char	*argv[] = { "sshpass", "-f", pwfile, "ssh", "-F",
	    "/dev/null", "-p", port, "-o", NULL, "-o",
	    "GlobalKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
	    "-o", "PreferredAuthentications=password", "-o",
	    "ConnectTimeout=5", "-o", "NumberOfPasswordPrompts=1", dest,
	    "id", "-un", NULL };
	char		 khopt[IT_PATH_MAX + 32];

	it_pfmt(kh, sizeof(kh), "%s/known_hosts", sshd_dir);
	it_pfmt(khopt, sizeof(khopt), "UserKnownHostsFile=%s", kh);
	it_pfmt(port, sizeof(port), "%d", IT_SSH_PORT);
	it_pfmt(dest, sizeof(dest), "%s@127.0.0.1", user);
	argv[9] = khopt;
	return it_runv(e, IT_ROOT, NULL, argv, 20);
}

static void
ssh_key_argv(const char *user, const char *key, const char *cmd,
    const char *argv[24], char port[16], char dest[64],
    char khopt[IT_PATH_MAX + 32])
{
	const char	*v[] = { "ssh", "-F", "/dev/null", "-p", port, "-i", key,
	    "-o", khopt, "-o", "GlobalKnownHostsFile=/dev/null", "-o",
	    "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o",
	    "PasswordAuthentication=no", "-o", "ConnectTimeout=5", dest, cmd,
	    NULL };
	size_t		 i;

	it_pfmt(port, 16, "%d", IT_SSH_PORT);
	it_pfmt(dest, 64, "%s@127.0.0.1", user);
	it_pfmt(khopt, IT_PATH_MAX + 32,
	    "UserKnownHostsFile=%s/known_hosts", sshd_dir);
	for (i = 0; i < ARRAY_SIZE(v); i++)
		argv[i] = v[i];
}

static int
login_key(struct it_env *e, const char *user, const char *key)
{
	const char	*argv[24];
	char		 port[16], dest[64], khopt[IT_PATH_MAX + 32];

	ssh_key_argv(user, key, "id -un", argv, port, dest, khopt);
	return it_runv(e, IT_ROOT, NULL, argv, 20);
}

static int
write_targets(struct it_env *e)
{
	char	key[IT_PATH_MAX], kh[IT_PATH_MAX], khe[IT_PATH_MAX];
	char	khc[IT_PATH_MAX], kht[IT_PATH_MAX];
	int	n;

	(void)it_gpath(e, "kh_trust", kht);
	(void)it_gpath(e, "agent_key", key);
	it_pfmt(kh, sizeof(kh), "%s/known_hosts", sshd_dir);
	(void)it_gpath(e, "kh_empty", khe);
	(void)it_gpath(e, "kh_changed", khc);
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"web1\"; type = \"ssh\"; host = \"127.0.0.1\"; "
	    "port = %d; user = \"" IT_AGENT_USER "\"; key_file = \"%s\"; "
	    "known_hosts = \"%s\"; timeout = 10; password_length = 20; },\n"
	    "\t\t\t{ name = \"web1-unknown\"; type = \"ssh\"; host = "
	    "\"127.0.0.1\"; port = %d; user = \"" IT_AGENT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s\"; timeout = 5; },\n"
	    "\t\t\t{ name = \"web1-changed\"; type = \"ssh\"; host = "
	    "\"127.0.0.1\"; port = %d; user = \"" IT_AGENT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s\"; timeout = 5; },\n"
	    "\t\t\t{ name = \"web2\"; type = \"ssh\"; host = "
	    "\"127.0.0.1\"; port = %d; user = \"" IT_AGENT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s\"; timeout = 5; }",
	    IT_SSH_PORT, key, kh, IT_SSH_PORT, key, khe, IT_SSH_PORT, key,
	    khc, IT_SSH2_PORT, key, kht);
	return n < 0 || (size_t)n >= sizeof(targets) ? -1 : 0;
}

/* A second host key pinned for our address: the "changed" case. */
static int
pin_files(struct it_env *e)
{
	char	k[IT_PATH_MAX], pub[IT_PATH_MAX], line[1024], kh[IT_PATH_MAX];
	char	*nl;

	(void)it_gpath(e, "otherhost", k);
	it_pfmt(pub, sizeof(pub), "%s.pub", k);
	if (it_keygen(e, k) != 0 || file_text(pub, line, sizeof(line)) != 0)
		return -1;
	if ((nl = strrchr(line, ' ')) != NULL)
		*nl = '\0';		/* drop the comment */
	{
		char buf[1200];

		it_pfmt(buf, sizeof(buf), "[127.0.0.1]:%d %s\n",
		    IT_SSH_PORT, line);
		if (it_write_file(it_gpath(e, "kh_changed", kh), buf,
		    strlen(buf), 0644) != 0)
			return -1;
	}
	if (it_write_file(it_gpath(e, "kh_trust", kh), "", 0, 0644) != 0)
		return -1;
	return it_write_file(it_gpath(e, "kh_empty", kh), "", 0, 0644);
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
	    it_user_fresh(e, IT_ACCT, NULL) != 0)
		return -1;
	if (it_keygen(e, it_gpath(e, "old_key", key)) != 0 ||
	    pin_files(e) != 0 || write_targets(e) != 0)
		return -1;
	(void)it_write_file(it_gpath(e, "old.pw", key), IT_OLD_PW,
	    strlen(IT_OLD_PW), 0600);
	return 0;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_ACCT, IT_AGENT_USER, NULL };
	struct it_env	*e = *state;
	const char	*pk[] = { "pkill", "-KILL", "-u", IT_ACCT, NULL };

	/* Only the test account's own leftovers, by uid. */
	if (e != NULL && users_made && getpwnam(IT_ACCT) != NULL)
		(void)it_runv(e, IT_ROOT, NULL, pk, 10);
	return it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    users_made ? users : NULL, IT_SUDOERS);
}

/* The test account as it starts every test. */
static int
acct_reset(struct it_env *e)
{
	char		 in[256], pub[IT_PATH_MAX], text[1200], ak[2400];
	const char	*pw[] = { "chpasswd", NULL };
	const char	*ul[] = { "usermod", "-U", IT_ACCT, NULL };
	const char	*ce[] = { "chage", "-E", "-1", IT_ACCT, NULL };
	const char	*pk[] = { "pkill", "-KILL", "-u", IT_ACCT, NULL };
	char		 f[IT_PATH_MAX];
	int		 fd, r;

	(void)it_runv(e, IT_ROOT, NULL, pk, 10);
	/* chpasswd reads stdin: feed it through a file. */
	it_pfmt(in, sizeof(in), "%s:%s\n", IT_ACCT, IT_OLD_PW);
	if (it_write_file(it_gpath(e, "chpasswd.in", f), in, strlen(in),
	    0600) != 0)
		return -1;
	if ((fd = open(f, O_RDONLY)) < 0)
		return -1;
	{
		int save = dup(0);

		(void)dup2(fd, 0);
		(void)close(fd);
		/* it_runv gives children /dev/null; run chpasswd here. */
		r = 0;
		{
			pid_t pid = fork();
			int st;

			if (pid == 0) {
				execvp(pw[0], (char *const *)pw);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &st, 0) != pid ||
			    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				r = -1;
		}
		(void)dup2(save, 0);
		(void)close(save);
	}
	(void)unlink(f);
	if (r != 0)
		return -1;
	(void)it_runv(e, IT_ROOT, NULL, ul, 10);
	if (it_run_ok(e, ce) != 0)
		return -1;
	it_pfmt(pub, sizeof(pub), "%s/old_key.pub", e->dir);
	if (file_text(pub, text, sizeof(text)) != 0)
		return -1;
	it_pfmt(ak, sizeof(ak), "# managed by hand\n"
	    "from=\"127.0.0.1,::1\" %s", text);
	return it_ak_set(IT_ACCT, ak, strlen(ak), 0644);
}

/* Config with the ssh targets and a vault; the agent started. */
static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { .targets_extra = targets };
	char		*t, *out, vault[IT_PATH_MAX];
	const char	*mark = "agent: {\n";
	size_t		 n, m, len;
	int		 r, k;

	if (acct_reset(e) != 0 || it_test_dir(e) != 0 ||
	    it_config_write(e, e->conf, &c) != 0)
		return -1;
	/* The harness has no knob for agent settings: add secrets_dir. */
	(void)it_tpath(e, "vault", vault);
	if (it_read_file(e->conf, &t, &n) != 0 || strstr(t, mark) == NULL) {
		free(t);
		return -1;
	}
	m = strlen(mark) + (size_t)(strstr(t, mark) - t);
	len = n + IT_PATH_MAX + 64;
	if ((out = malloc(len)) == NULL) {
		free(t);
		return -1;
	}
	k = snprintf(out, len, "%.*s\tsecrets_dir = \"%s\";\n%s", (int)m, t,
	    vault, t + m);
	if (k < 0 || (size_t)k >= len) {
		free(out);
		free(t);
		return -1;
	}
	n = (size_t)k;
	r = it_write_file(e->conf, out, n, 0600);
	free(out);
	free(t);
	if (r != 0)
		return -1;
	return it_agent_start(e, 0);
}

/* The second sshd (IT_SSH2_PORT); each start makes a new host key. */
static int
sshd2(struct it_env *e, int start)
{
	char		 dir[IT_PATH_MAX], script[IT_PATH_MAX], port[16];
	const char	*up[] = { script, dir, port, NULL };
	const char	*down[] = { script, dir, NULL };

	(void)it_gpath(e, "sshd2", dir);
	it_pfmt(port, sizeof(port), "%d", IT_SSH2_PORT);
	it_pfmt(script, sizeof(script), "%s/sshd-%s.sh", e->scripts,
	    start ? "start" : "stop");
	sshd2_up = start;
	return it_run_ok(e, start ? up : down);
}

static int
test_teardown(void **state)
{
	struct it_env	*e = *state;
	int		 r = 0;

	if (sshd2_up && sshd2(e, 0) != 0)
		r = -1;
	if (it_test_teardown(e) != 0)
		r = -1;
	return r;
}

/* A one-step runbook for verb on target, approval none. */
static const char *
runbook(struct it_env *e, const char *verb, const char *target,
    const char *extra, char buf[IT_PATH_MAX])
{
	char	text[2048];
	int	n;

	n = snprintf(text, sizeof(text),
	    "name = \"it-ssh\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; } );\n"
	    "steps = ( { name = \"s\"; verb = \"%s\"; target = \"%s\";\n"
	    "  foreach = \"${accounts}\";\n"
	    "  args = { account = \"${item}\"; %s };\n"
	    "  approval = \"none\"; on_failure = \"continue\"; } );\n",
	    verb, target, extra ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	(void)it_tpath(e, "rb.runbook", buf);
	assert_int_equal(it_write_file(buf, text, (size_t)n, 0644), 0);
	return buf;
}

/* Runs verb on the account; the action id. */
static int64_t
run_verb(struct it_env *e, const char *verb, const char *target,
    const char *extra, const char *acct)
{
	char	rb[IT_PATH_MAX], inc[32];
	int64_t	ids[4];
	size_t	n = 0;
	int	r;

	assert_int_equal(it_incident_open(e, inc), 0);
	r = it_run_accounts(e, IT_OP, runbook(e, verb, target, extra, rb),
	    inc, acct, ids, 4, &n);
	if (r != 0 && r != 1)
		fail_msg("run %s: exit %d: %s%s", verb, r, e->out, e->err);
	assert_int_equal(n, 1);
	return ids[0];
}

static void
wait_state(struct it_env *e, int64_t id, const char *want)
{
	json_t	*a;

	if (it_wait_action(e, id, want, 30) == 0)
		return;
	a = it_action(e, id);
	fail_msg("A%lld is not %s: %s", (long long)id, want,
	    a ? json_string_value(json_object_get(a, "message")) : "?");
}

/* `cordon undo A<id>` as the operator; the undo's id. */
static int64_t
undo(struct it_env *e, int64_t id)
{
	char		 a[32];
	long long	 u = 0;
	const char	*p;

	it_pfmt(a, sizeof(a), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", a, NULL) != 0)
		fail_msg("undo %s: %s", a, e->err);
	if ((p = strstr(e->out, "queued as A")) == NULL ||
	    sscanf(p, "queued as A%lld", &u) != 1)
		fail_msg("no undo id in '%s'", e->out);
	return u;
}

static const char *
vault_file(struct it_env *e, int64_t id, const char *label,
    char buf[IT_PATH_MAX])
{
	char	name[64];

	it_pfmt(name, sizeof(name), "vault/A%lld-%s", (long long)id,
	    label);
	return it_tpath(e, name, buf);
}

static void
test_ssh_rotate_password(void **state)
{
	struct it_env	*e = *state;
	char		 old[IT_PATH_MAX], vf[IT_PATH_MAX], aid[32];
	char		 pw[256], path[IT_PATH_MAX], *bytes, fpbuf[64];
	const char	*fp;
	json_t		*a;
	size_t		 len;
	int64_t		 id;

	(void)it_gpath(e, "old.pw", old);
	assert_int_equal(login_pw(e, IT_ACCT, old), 0);
	id = run_verb(e, "ssh.rotate_password", "web1", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
	(void)vault_file(e, id, "password", vf);
	assert_int_equal(file_text(vf, pw, sizeof(pw)), 0);
	assert_int_equal(strlen(pw), 20);
	/* Real proof: the old password fails, the new one logs in. */
	assert_int_not_equal(login_pw(e, IT_ACCT, old), 0);
	assert_int_equal(login_pw(e, IT_ACCT, vf), 0);
	assert_true(it_out_has(e, IT_ACCT));
	a = it_action(e, id);
	assert_non_null(a);
	fp = json_string_value(json_object_get(json_object_get(a,
	    "observed"), "password_fp"));
	assert_non_null(fp);
	assert_true(strncmp(fp, "sha256:", 7) == 0);
	it_pfmt(fpbuf, sizeof(fpbuf), "%s", fp);
	json_decref(a);

	/* Hand-over: a lead sees it, an operator is refused; journaled. */
	it_pfmt(aid, sizeof(aid), "A%lld", (long long)id);
	if (it_cordon(e, IT_LEAD, "secret", "show", aid, NULL) != 0)
		fail_msg("secret show: exit %d: %s", e->status, e->err);
	assert_true(strncmp(e->out, pw, strlen(pw)) == 0);
	assert_int_equal(e->out[strlen(pw)], '\n');
	assert_int_equal(it_cordon(e, IT_OP, "secret", "show", aid,
	    "password", NULL), 3);
	assert_false(it_out_has(e, pw));
	assert_int_equal(it_journal_count(e, "secret_viewed", id), 1);
	assert_int_equal(it_journal_count(e, "refused", id), 1);

	/* The password is nowhere but in the vault. */
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", NULL), 0);
	assert_true(e->outlen > 0);
	assert_null(strstr(e->out, pw));
	assert_true(strstr(e->out, fpbuf) != NULL);
	assert_int_equal(it_file_has(e->log, pw), 0);
	assert_int_equal(it_file_has(e->store, pw), 0);
	it_pfmt(path, sizeof(path), "%s-wal", e->store);
	if (it_read_file(path, &bytes, &len) == 0) {
		assert_null(memmem(bytes, len, pw, strlen(pw)));
		free(bytes);
	}
	/* Irreversible: no undo. */
	assert_int_equal(it_cordon(e, IT_OP, "undo", aid, NULL), 3);
}

static void
test_ssh_lock_and_undo(void **state)
{
	struct it_env	*e = *state;
	char		 old[IT_PATH_MAX], key[IT_PATH_MAX];
	int64_t		 id, u;
	json_t		*a;

	(void)it_gpath(e, "old.pw", old);
	(void)it_gpath(e, "old_key", key);
	assert_int_equal(login_pw(e, IT_ACCT, old), 0);
	assert_int_equal(login_key(e, IT_ACCT, key), 0);
	id = run_verb(e, "ssh.lock_account", "web1", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
	/* Both doors shut: usermod -L alone would leave keys working. */
	assert_int_not_equal(login_pw(e, IT_ACCT, old), 0);
	assert_int_not_equal(login_key(e, IT_ACCT, key), 0);
	a = it_action(e, id);
	assert_true(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "locked")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(a, "observed"), "expire")), "0");
	json_decref(a);

	u = undo(e, id);
	wait_state(e, u, "succeeded");
	wait_state(e, id, "undone");
	assert_int_equal(login_pw(e, IT_ACCT, old), 0);
	assert_int_equal(login_key(e, IT_ACCT, key), 0);
	a = it_action(e, u);
	assert_false(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "locked")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(a, "observed"), "expire")), "");
	json_decref(a);
}

static void
test_ssh_authorized_keys(void **state)
{
	struct it_env	*e = *state;
	char		 path[IT_PATH_MAX], key[IT_PATH_MAX], vf[IT_PATH_MAX];
	char		 nk[IT_PATH_MAX], *before, *after, *pem;
	size_t		 blen, alen, plen;
	struct stat	 st0, st;
	int64_t		 id, u;

	assert_int_equal(ak_path(IT_ACCT, path), 0);
	(void)it_gpath(e, "old_key", key);
	assert_int_equal(it_read_file(path, &before, &blen), 0);
	assert_int_equal(stat(path, &st0), 0);
	assert_int_equal(st0.st_mode & 07777, 0644);
	assert_int_equal(login_key(e, IT_ACCT, key), 0);

	id = run_verb(e, "ssh.rotate_authorized_keys", "web1", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
	/* Owner and mode kept, so StrictModes still accepts the file. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, st0.st_uid);
	assert_int_equal(st.st_gid, st0.st_gid);
	assert_int_not_equal(login_key(e, IT_ACCT, key), 0);
	(void)vault_file(e, id, "private_key", vf);
	assert_int_equal(it_read_file(vf, &pem, &plen), 0);
	assert_int_equal(it_write_file(it_tpath(e, "new_key", nk), pem, plen,
	    0600), 0);
	free(pem);
	assert_int_equal(login_key(e, IT_ACCT, nk), 0);
	assert_true(it_out_has(e, IT_ACCT));
	assert_int_equal(it_file_has(path, "# managed by hand"), 0);

	u = undo(e, id);
	wait_state(e, u, "succeeded");
	assert_int_equal(it_read_file(path, &after, &alen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, st0.st_uid);
	assert_int_equal(login_key(e, IT_ACCT, key), 0);
	assert_int_not_equal(login_key(e, IT_ACCT, nk), 0);
	free(before);
	free(after);
}

static int
procs_of(struct it_env *e, const char *user)
{
	const char	*argv[] = { "pgrep", "-c", "-u", user, NULL };

	(void)it_runv(e, IT_ROOT, NULL, argv, 10);
	return (int)strtol(e->out, NULL, 10);
}

static void
test_ssh_end_sessions(void **state)
{
	struct it_env	*e = *state;
	const char	*argv[24];
	char		 key[IT_PATH_MAX], port[16], dest[64];
	char		 khopt[IT_PATH_MAX + 32];
	double		 deadline;
	pid_t		 pid, w = 0;
	int		 st = 0, fd;
	int64_t		 id;

	(void)it_gpath(e, "old_key", key);
	ssh_key_argv(IT_ACCT, key, "sleep 60", argv, port, dest, khopt);
	if ((pid = fork()) == 0) {
		if ((fd = open("/dev/null", O_RDWR)) < 0 || dup2(fd, 0) < 0 ||
		    dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_true(pid > 0);
	deadline = it_mono() + 10;
	while (procs_of(e, IT_ACCT) < 2 && it_mono() < deadline)
		it_nap_ms(50);
	if (procs_of(e, IT_ACCT) < 2) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		fail_msg("the session did not start");
	}
	id = run_verb(e, "ssh.end_sessions", "web1", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
	/* The client sees its session end: it exits long before 60 s. */
	deadline = it_mono() + 10;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && it_mono() < deadline)
		it_nap_ms(50);
	if (w != pid) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		fail_msg("the session opened before is still there");
	}
	assert_int_equal(procs_of(e, IT_ACCT), 0);
	/* Nothing left: it still runs (a session may open any time). */
	id = run_verb(e, "ssh.end_sessions", "web1", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
}

/* Unknown and changed host keys abort with the fingerprint; no change. */
static void
test_ssh_host_keys_refused(void **state)
{
	struct it_env	*e = *state;
	static const char *const tg[] = { "web1-unknown", "web1-changed" };
	static const char *const why[] = { "unknown", "CHANGED" };
	char		 old[IT_PATH_MAX], fpf[IT_PATH_MAX], fp[128];
	const char	*msg;
	json_t		*a;
	size_t		 i;
	int64_t		 id;

	(void)it_gpath(e, "old.pw", old);
	it_pfmt(fpf, sizeof(fpf), "%s/host_fp", sshd_dir);
	assert_int_equal(file_text(fpf, fp, sizeof(fp)), 0);
	fp[strcspn(fp, "\n")] = '\0';
	for (i = 0; i < ARRAY_SIZE(tg); i++) {
		id = run_verb(e, "ssh.rotate_password", tg[i], NULL, IT_ACCT);
		wait_state(e, id, "failed");
		a = it_action(e, id);
		msg = json_string_value(json_object_get(a, "message"));
		assert_non_null(msg);
		if (strstr(msg, why[i]) == NULL || strstr(msg, fp) == NULL)
			fail_msg("%s: message '%s' lacks '%s' or '%s'", tg[i],
			    msg, why[i], fp);
		json_decref(a);
		assert_int_equal(login_pw(e, IT_ACCT, old), 0);
	}
	/* known_hosts was never written. */
	assert_int_equal(it_file_has(it_gpath(e, "kh_empty", fpf), "ssh-"), 0);
}

/* Hostile account names never reach a shell; quoting holds for real. */
static void
test_ssh_quoting(void **state)
{
	struct it_env	*e = *state;
	struct target	 t;
	struct sconn	*c = NULL;
	struct ssh_res	 res;
	char		 err[512], key[IT_PATH_MAX], kh[IT_PATH_MAX], *line;
	const char	*argv[] = { "printf", "%s|", "a b", "it's", "$(id)",
	    "x;y", "l1\nl2", "`id`", NULL };
	const char	*acct[] = { "id", NULL };
	json_t		*a;
	int64_t		 id;

	memset(&t, 0, sizeof(t));
	(void)it_gpath(e, "agent_key", key);
	it_pfmt(kh, sizeof(kh), "%s/known_hosts", sshd_dir);
	t.name = "q";
	t.type = "ssh";
	t.opts = json_pack("{s:s,s:i,s:s,s:s,s:s}", "host", "127.0.0.1",
	    "port", IT_SSH_PORT, "user", IT_AGENT_USER, "key_file", key,
	    "known_hosts", kh);
	assert_int_equal(ssh_conn_open(&t, &c, err, sizeof(err)), 0);
	assert_int_equal(ssh_run(c, SSH_AS_LOGIN, NULL, argv, NULL, 0, &res),
	    0);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out.p, "a b|it's|$(id)|x;y|l1\nl2|`id`|");
	ssh_res_free(&res);
	assert_int_equal(ssh_cmdline(c, SSH_AS_ACCOUNT, "x;y", acct, &line),
	    -EINVAL);
	assert_int_equal(ssh_cmdline(c, SSH_AS_ACCOUNT, "bob", acct, &line),
	    0);
	assert_string_equal(line, "sudo -n -u 'bob' 'id'");
	free(line);
	ssh_conn_close(c);
	json_decref(t.opts);

	/* Through the agent: refused as a user name, nothing run. */
	id = run_verb(e, "ssh.lock_account", "web1", NULL, "x$(touch /tmp/pwn)");
	wait_state(e, id, "failed");
	a = it_action(e, id);
	assert_non_null(strstr(json_string_value(json_object_get(a,
	    "message")), "POSIX user name"));
	json_decref(a);
	/* cordon's own login is refused when the run is queued. */
	{
		char	rb[IT_PATH_MAX], inc[32];
		int64_t	ids[4];
		size_t	n = 0;

		assert_int_equal(it_incident_open(e, inc), 0);
		assert_int_equal(it_run_accounts(e, IT_OP, runbook(e,
		    "ssh.lock_account", "web1", NULL, rb), inc, IT_AGENT_USER,
		    ids, 4, &n), 3);
		assert_true(it_err_has(e, "cordon's own login"));
	}
}

/* target_check: loose key file, missing known_hosts. */
static void
test_ssh_config_refused(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c;
	char		 conf[IT_PATH_MAX], key[IT_PATH_MAX], loose[IT_PATH_MAX];
	char		 tx[2048], *pem;
	size_t		 len;

	(void)it_gpath(e, "agent_key", key);
	assert_int_equal(it_read_file(key, &pem, &len), 0);
	assert_int_equal(it_write_file(it_tpath(e, "loose_key", loose), pem,
	    len, 0644), 0);
	free(pem);
	memset(&c, 0, sizeof(c));
	c.targets_extra = tx;
	it_pfmt(tx, sizeof(tx), "{ name = \"x\"; type = \"ssh\"; "
	    "host = \"127.0.0.1\"; user = \"u\"; key_file = \"%s\"; "
	    "known_hosts = \"%s/known_hosts\"; }", loose, sshd_dir);
	assert_int_equal(it_config_write(e, it_tpath(e, "bad1.conf", conf),
	    &c), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "chmod 600"));
	it_pfmt(tx, sizeof(tx), "{ name = \"x\"; type = \"ssh\"; "
	    "host = \"127.0.0.1\"; user = \"u\"; key_file = \"%s\"; }", key);
	assert_int_equal(it_config_write(e, it_tpath(e, "bad2.conf", conf),
	    &c), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "missing 'known_hosts'"));
}


/* The fingerprint sshd-start.sh wrote for the second sshd. */
static void
sshd2_fp(struct it_env *e, char fp[128])
{
	char	d[IT_PATH_MAX], p[IT_PATH_MAX];

	it_pfmt(p, sizeof(p), "%s/host_fp", it_gpath(e, "sshd2", d));
	assert_int_equal(file_text(p, fp, 128), 0);
	fp[strcspn(fp, "\n")] = '\0';
	assert_non_null(strstr(fp, "SHA256:"));
}

/* A rotation on web2 that must fail with why and fp; nothing changed. */
static void
refused_with(struct it_env *e, const char *why, const char *fp)
{
	char		 old[IT_PATH_MAX];
	const char	*msg;
	json_t		*a;
	int64_t		 id;

	id = run_verb(e, "ssh.rotate_password", "web2", NULL, IT_ACCT);
	wait_state(e, id, "failed");
	a = it_action(e, id);
	msg = json_string_value(json_object_get(a, "message"));
	if (msg == NULL || strstr(msg, why) == NULL || strstr(msg, fp) == NULL)
		fail_msg("message '%s' lacks '%s' or '%s'", msg ? msg : "",
		    why, fp);
	json_decref(a);
	assert_int_equal(login_pw(e, IT_ACCT, it_gpath(e, "old.pw", old)), 0);
}

/* Lines of the pinned file for web2, and whether one holds needle. */
static int
kh_lines(struct it_env *e, const char *needle, int *has)
{
	char	p[IT_PATH_MAX], *t, *q;
	size_t	n;
	int	lines = 0;

	assert_int_equal(it_read_file(it_gpath(e, "kh_trust", p), &t, &n), 0);
	for (q = t; *q; q++)
		lines += *q == '\n';
	*has = needle && strstr(t, needle) != NULL;
	free(t);
	return lines;
}

/*
 * `cordon hosts`: an unknown key aborts with its fingerprint; a wrong
 * fingerprint or an operator cannot pin; a lead with the right one can,
 * and the action then runs; a new host key (sshd restarted) aborts again
 * and is only replaced with --replace.  Every pin is journaled.
 */
static void
test_ssh_hosts_trust(void **state)
{
	struct it_env	*e = *state;
	char		 fp[128], fp2[128], kh[IT_PATH_MAX], pub[IT_PATH_MAX];
	char		 key[512];
	json_t		*j, *h;
	int		 has;
	int64_t		 id;

	assert_int_equal(it_write_file(it_gpath(e, "kh_trust", kh), "", 0,
	    0644), 0);
	assert_int_equal(sshd2(e, 1), 0);
	sshd2_fp(e, fp);
	refused_with(e, "unknown", fp);
	assert_int_equal(kh_lines(e, NULL, &has), 0);

	/* show: what the server presents, and that it is not pinned. */
	assert_int_equal(it_cordon(e, IT_OP, "hosts", "show", "web2",
	    "--json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	h = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(h,
	    "fingerprint")), fp);
	assert_string_equal(json_string_value(json_object_get(h, "status")),
	    "unknown");
	json_decref(j);
	assert_int_equal(it_cordon(e, IT_OP, "hosts", "scan", NULL), 1);
	assert_true(it_out_has(e, fp));
	assert_true(it_out_has(e, "web2"));

	/* A wrong fingerprint, and an operator, pin nothing. */
	assert_int_equal(it_cordon(e, IT_LEAD, "hosts", "trust", "web2",
	    "--fingerprint", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    NULL), 3);
	assert_true(it_err_has(e, fp));
	assert_int_equal(it_cordon(e, IT_OP, "hosts", "trust", "web2",
	    "--fingerprint", fp, NULL), 3);
	assert_true(it_err_has(e, "needs 'lead'"));
	assert_int_equal(kh_lines(e, NULL, &has), 0);
	assert_int_equal(it_journal_count(e, "host_trusted", 0), 0);
	assert_true(it_journal_count(e, "refused", 0) >= 2);

	/* The lead pins it; the action runs. */
	assert_int_equal(it_cordon(e, IT_LEAD, "hosts", "trust", "web2",
	    "--fingerprint", fp, NULL), 0);
	it_pfmt(pub, sizeof(pub), "%s/hostkey.pub", it_gpath(e, "sshd2", kh));
	assert_int_equal(file_text(pub, key, sizeof(key)), 0);
	*strrchr(key, ' ') = '\0';		/* type and key, no comment */
	assert_int_equal(kh_lines(e, key, &has), 1);
	assert_true(has);
	assert_int_equal(it_journal_count(e, "host_trusted", 0), 1);
	assert_int_equal(it_cordon(e, IT_OP, "hosts", "show", "web2", NULL),
	    0);
	id = run_verb(e, "ssh.rotate_password", "web2", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
	assert_int_equal(it_cordon(e, IT_LEAD, "hosts", "trust", "web2",
	    "--fingerprint", fp, NULL), 0);
	assert_true(it_out_has(e, "already pinned"));
	assert_int_equal(it_journal_count(e, "host_trusted", 0), 1);

	/*
	 * A new host key: refused again, kept out without --replace.  Like a
	 * reinstalled host, the old server's connections go too: cordon
	 * keeps a verified session for a few seconds (ssh_conn.h), and
	 * sshd's per-connection processes outlive its listener.  They are
	 * found by their socket on our port and ended by pid.
	 */
	assert_int_equal(acct_reset(e), 0);
	assert_int_equal(sshd2(e, 0), 0);
	{
		char		 cmd[256];
		const char	*argv[] = { "sh", "-c", cmd, NULL };

		it_pfmt(cmd, sizeof(cmd), "ss -Htnp state established "
		    "'( sport = :%d )' | grep -o 'pid=[0-9]*' | cut -d= -f2 | "
		    "sort -u | xargs -r kill", IT_SSH2_PORT);
		assert_int_equal(it_run_ok(e, argv), 0);
	}
	assert_int_equal(sshd2(e, 1), 0);
	sshd2_fp(e, fp2);
	assert_string_not_equal(fp, fp2);
	refused_with(e, "CHANGED", fp2);
	assert_int_equal(it_cordon(e, IT_LEAD, "hosts", "trust", "web2",
	    "--fingerprint", fp2, NULL), 3);
	assert_true(it_err_has(e, "--replace"));
	assert_int_equal(kh_lines(e, key, &has), 1);
	assert_true(has);
	assert_int_equal(it_cordon(e, IT_LEAD, "hosts", "trust", "web2",
	    "--fingerprint", fp2, "--replace", "--json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    j, "old_fingerprints"), 0)), fp);
	json_decref(j);
	assert_int_equal(kh_lines(e, key, &has), 1);
	assert_false(has);
	assert_int_equal(it_journal_count(e, "host_trusted", 0), 2);
	id = run_verb(e, "ssh.rotate_password", "web2", NULL, IT_ACCT);
	wait_state(e, id, "succeeded");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ssh_rotate_password,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_lock_and_undo,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_authorized_keys,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_end_sessions,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_host_keys_refused,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_quoting,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_config_refused,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_ssh_hosts_trust,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
