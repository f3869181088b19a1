/*
 * it_sshwin: the ssh driver's Windows verbs (os = "windows") end to end
 * over a real sshd (scripts/sshd-start.sh on 127.0.0.1:IT_SSH_PORT).
 *
 * No Windows host can run here.  cordon's login on this sshd has
 * tests/it/fake_powershell.py as its shell: it accepts only the exact
 * `powershell ... -EncodedCommand` form, decodes the script, reads the
 * account name with PowerShell's quoting rule and keeps Windows-like
 * account state in DIR/winstate.  So this proves the wiring -- dispatch by
 * os, the command line, stdin delivery of the password, parsing of CRLF
 * output, verify and undo -- and that a hostile account name survives
 * the trip as one value; the scripts' text itself is pinned byte for
 * byte by tests/unit/test_ssh_win.c.  Whether real PowerShell behaves as
 * the fake does is not proven here.
 *
 * administrators_authorized_keys is, on the fake host, the real
 * authorized_keys of cordon-t-wadm (the fake writes it through sudo -u),
 * so the make-before-break proof and the old key's end are real logins.
 *
 * The users cordon-t-win and cordon-t-wadm and the sudoers file are made
 * by group setup and removed by teardown.
 */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38951
#define IT_SSH_PORT	22290
#define IT_WIN_USER	"cordon-t-win"
#define IT_ADM_USER	"cordon-t-wadm"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-win"
/* Allowed by Windows; every character PowerShell could misread. */
#define IT_HOSTILE	"O'Brien \xe2\x80\x98x\xe2\x80\x99 $(y)`"
#define IT_SID		"S-1-5-21-1-2-3-1001"
#define IT_PWSET0	"2026-01-01T00:00:00.0000000Z"
#define IT_TEXT_MAX	4096

static char	sshd_dir[IT_PATH_MAX], state_dir[IT_PATH_MAX];
static char	targets[IT_TEXT_MAX];
static int	sshd_up, user_made;

/* A file owned by the fake Windows login. */
static int
win_file(const char *path, const char *text, mode_t mode)
{
	struct passwd	*pw = getpwnam(IT_WIN_USER);

	if (pw == NULL || it_write_file(path, text, strlen(text), mode) != 0 ||
	    chown(path, pw->pw_uid, pw->pw_gid) != 0)
		return -1;
	return 0;
}

/* The accounts the fake host has, as Windows would report them. */
static int
state_reset(void)
{
	char	path[IT_PATH_MAX + 32], text[1024];
	char	*names[] = { "password-0", "password-1", "scripts.log",
	    "acl.json" };
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		it_pfmt(path, sizeof(path), "%s/%s", state_dir, names[i]);
		(void)unlink(path);
	}
	it_pfmt(text, sizeof(text), "{\"%s\": {\"enabled\": true, \"sid\": "
	    "\"" IT_SID "\", \"pwlastset\": \"" IT_PWSET0 "\"}, "
	    "\"Administrator\": {\"enabled\": true, \"sid\": "
	    "\"S-1-5-21-1-2-3-500\", \"pwlastset\": \"\"}, "
	    "\"" IT_ADM_USER "\": {\"enabled\": true, \"admin\": true, "
	    "\"sid\": \"S-1-5-21-1-2-3-1002\", \"pwlastset\": \"\"}}",
	    "O'Brien \xe2\x80\x98x\xe2\x80\x99 $(y)`");
	it_pfmt(path, sizeof(path), "%s/accounts.json", state_dir);
	return win_file(path, text, 0644);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	struct passwd	*pw;
	char		 shell[IT_PATH_MAX], src[IT_PATH_MAX], key[IT_PATH_MAX];
	char		 kh[IT_PATH_MAX], *text = NULL;
	size_t		 len = 0;
	static const char sudoers[] = IT_WIN_USER " ALL=(" IT_ADM_USER
	    ") NOPASSWD: ALL\n";
	int		 n;

	if (it_group_setup(state, IT_SLAPD_PORT) != 0)
		return -1;
	e = *state;
	it_pfmt(sshd_dir, sizeof(sshd_dir), "%s/sshd", e->dir);
	sshd_up = 1;
	if (it_sshd_start(e, sshd_dir, IT_SSH_PORT) != 0)
		return -1;
	/* The fake shell, readable and runnable by the test user. */
	it_pfmt(src, sizeof(src), "%s/../tests/it/fake_powershell.py",
	    e->scripts);
	(void)it_gpath(e, "fake_powershell.py", shell);
	if (it_read_file(src, &text, &len) != 0 ||
	    it_write_file(shell, text, len, 0755) != 0) {
		free(text);
		return -1;
	}
	free(text);
	user_made = 1;
	/* key ends up as the agent's, which the target below uses. */
	if (it_user_fresh(e, IT_ADM_USER, NULL) != 0 ||
	    it_keygen(e, it_gpath(e, "old_key", key)) != 0 ||
	    it_login_user(e, IT_WIN_USER, shell, IT_SUDOERS, sudoers,
	    it_gpath(e, "agent_key", key)) != 0 ||
	    (pw = getpwnam(IT_WIN_USER)) == NULL)
		return -1;
	(void)it_gpath(e, "winstate", state_dir);
	if (mkdir(state_dir, 0755) != 0 ||
	    chown(state_dir, pw->pw_uid, pw->pw_gid) != 0)
		return -1;
	it_pfmt(kh, sizeof(kh), "%s/known_hosts", sshd_dir);
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"win1\"; type = \"ssh\"; os = \"windows\"; "
	    "host = \"127.0.0.1\"; port = %d; user = \"" IT_WIN_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s\"; timeout = 15; "
	    "password_length = 20; }", IT_SSH_PORT, key, kh);
	return n < 0 || (size_t)n >= sizeof(targets) ? -1 : 0;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_WIN_USER, IT_ADM_USER, NULL };

	return it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    user_made ? users : NULL, IT_SUDOERS);
}

/* A comment line, then the public keys of the named group key files. */
static void
keys_text(struct it_env *e, const char *const *names, char *out, size_t len)
{
	char	base[IT_PATH_MAX], path[IT_PATH_MAX + 8], *t = NULL;
	size_t	n = 0, used;

	it_pfmt(out, len, "# managed by hand\n");
	for (; *names; names++) {
		it_pfmt(path, sizeof(path), "%s.pub", it_gpath(e, *names, base));
		assert_int_equal(it_read_file(path, &t, &n), 0);
		used = strlen(out);
		it_pfmt(out + used, len - used, "%s", t);
		free(t);
	}
}

/* OpenSSH's ssh as user with key: 0 logged in. */
static int
login_key(struct it_env *e, const char *user, const char *key)
{
	char		 port[16], dest[64], khopt[IT_PATH_MAX + 32];
	const char	*argv[] = { "ssh", "-F", "/dev/null", "-p", port, "-i",
	    key, "-o", khopt, "-o", "GlobalKnownHostsFile=/dev/null", "-o",
	    "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o",
	    "PasswordAuthentication=no", "-o", "ConnectTimeout=5", dest,
	    "true", NULL };

	it_pfmt(port, sizeof(port), "%d", IT_SSH_PORT);
	it_pfmt(dest, sizeof(dest), "%s@127.0.0.1", user);
	it_pfmt(khopt, sizeof(khopt), "UserKnownHostsFile=%s/known_hosts",
	    sshd_dir);
	return it_runv(e, IT_ROOT, NULL, argv, 20);
}

static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { .targets_extra = targets };
	char		 vault[IT_PATH_MAX], line[IT_PATH_MAX + 32];
	char		*t = NULL, *out = NULL, *at;
	size_t		 n = 0, len;
	int		 k, r = -1;

	if (state_reset() != 0 || it_test_dir(e) != 0 ||
	    it_config_write(e, e->conf, &c) != 0)
		return -1;
	(void)it_tpath(e, "vault", vault);
	it_pfmt(line, sizeof(line), "\tsecrets_dir = \"%s\";\n", vault);
	if (it_read_file(e->conf, &t, &n) != 0 ||
	    (at = strstr(t, "agent: {\n")) == NULL)
		goto out;
	at += 9;
	len = n + strlen(line) + 1;
	if ((out = malloc(len)) == NULL)
		goto out;
	k = snprintf(out, len, "%.*s%s%s", (int)(at - t), t, line, at);
	if (k < 0 || (size_t)k >= len ||
	    it_write_file(e->conf, out, (size_t)k, 0600) != 0)
		goto out;
	r = it_agent_start(e, 0);
out:
	free(out);
	free(t);
	return r;
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/* verb on win1 for one account; waits for want; the action id. */
static int64_t
run_verb(struct it_env *e, const char *verb, const char *acct,
    const char *want)
{
	char	inc[32];
	int64_t	id;

	assert_int_equal(it_incident_open(e, inc), 0);
	id = it_step_for(e, inc, verb, "win1", "account = \"${item}\";", 0,
	    acct);
	assert_true(id > 0);
	it_wait_state(e, id, want, 30);
	return id;
}

/* accounts.json on the fake host: the hostile account's object. */
static json_t *
win_account(void)
{
	char		 path[IT_PATH_MAX + 32];
	json_t		*j, *u;

	it_pfmt(path, sizeof(path), "%s/accounts.json", state_dir);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	u = json_incref(json_object_get(j, IT_HOSTILE));
	json_decref(j);
	assert_non_null(u);
	return u;
}

static void
test_sshwin_rotate_password(void **state)
{
	struct it_env	*e = *state;
	char		 name[64], vf[IT_PATH_MAX], got[IT_PATH_MAX + 32];
	char		*pw = NULL, *rx = NULL, *log = NULL;
	size_t		 pl = 0, rl = 0, ll = 0;
	json_t		*u;
	int64_t		 id;

	id = run_verb(e, "ssh.rotate_password", IT_HOSTILE, "succeeded");
	it_pfmt(name, sizeof(name), "vault/A%lld-password", (long long)id);
	assert_int_equal(it_read_file(it_tpath(e, name, vf), &pw, &pl), 0);
	assert_int_equal(pl, 20);
	/* The host got exactly the vault's password, on stdin. */
	it_pfmt(got, sizeof(got), "%s/password-0", state_dir);
	assert_int_equal(it_read_file(got, &rx, &rl), 0);
	assert_int_equal(rl, pl);
	assert_memory_equal(rx, pw, pl);
	/* For the hostile name, not another: the quoting held. */
	u = win_account();
	assert_string_not_equal(json_string_value(json_object_get(u,
	    "pwlastset")), IT_PWSET0);
	json_decref(u);
	/* No command line and no script held it. */
	it_pfmt(got, sizeof(got), "%s/scripts.log", state_dir);
	assert_int_equal(it_read_file(got, &log, &ll), 0);
	assert_null(memmem(log, ll, pw, pl));
	assert_non_null(strstr(log, "Set-LocalUser -InputObject $u "
	    "-Password $p"));
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", NULL), 0);
	assert_null(strstr(e->out, pw));
	assert_int_equal(it_file_has(e->log, pw), 0);
	free(log);
	free(rx);
	free(pw);
}

static void
test_sshwin_lock_and_undo(void **state)
{
	struct it_env	*e = *state;
	char		 aid[32];
	long long	 uid = 0;
	const char	*p;
	json_t		*u, *a;
	int64_t		 id;

	id = run_verb(e, "ssh.lock_account", IT_HOSTILE, "succeeded");
	u = win_account();
	assert_false(json_is_true(json_object_get(u, "enabled")));
	json_decref(u);
	a = it_action(e, id);
	assert_non_null(a);
	assert_false(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "enabled")));
	json_decref(a);

	it_pfmt(aid, sizeof(aid), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", aid, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	assert_int_equal(it_wait_action(e, uid, "succeeded", 30), 0);
	assert_int_equal(it_wait_action(e, id, "undone", 30), 0);
	u = win_account();
	assert_true(json_is_true(json_object_get(u, "enabled")));
	json_decref(u);
}

static void
test_sshwin_refusals(void **state)
{
	struct it_env	*e = *state;
	json_t		*a;
	int64_t		 id;

	/* Not built for Windows: fails clearly, touches nothing. */
	id = run_verb(e, "ssh.end_sessions", IT_HOSTILE, "failed");
	a = it_action(e, id);
	assert_non_null(strstr(json_string_value(json_object_get(a,
	    "message")), "not available on Windows"));
	json_decref(a);
	/* A name Windows forbids never reaches the host. */
	id = run_verb(e, "ssh.lock_account", "a;b", "failed");
	/* An unknown account: the fake says so as Windows would (exit 2). */
	id = run_verb(e, "ssh.lock_account", "Nobody", "failed");
	a = it_action(e, id);
	assert_non_null(strstr(json_string_value(json_object_get(a,
	    "message")), "no local account 'Nobody'"));
	json_decref(a);
	/* cordon's own login, in any case: the run is refused. */
	{
		char	inc[32], rb[IT_PATH_MAX];
		int64_t	ids[4];
		size_t	n = 0;

		assert_int_equal(it_incident_open(e, inc), 0);
		assert_int_equal(it_run_accounts(e, IT_OP, it_tpath(e,
		    "rb.runbook", rb), inc, "CORDON-T-WIN", ids, 4, &n), 3);
		assert_true(it_err_has(e, "cordon's own login"));
	}
	a = win_account();
	assert_true(json_is_true(json_object_get(a, "enabled")));
	json_decref(a);
}

static void
test_sshwin_config_refused(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { 0 };
	char		 conf[IT_PATH_MAX], tx[IT_TEXT_MAX];
	char		*p;

	c.targets_extra = tx;
	it_pfmt(tx, sizeof(tx), "%s", targets);
	assert_non_null(p = strstr(tx, "os = \"windows\";"));
	memcpy(p, "os = \"solaris\";", 15);
	assert_int_equal(it_config_write(e, it_tpath(e, "bad1.conf", conf),
	    &c), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "'os' must be"));
	it_pfmt(tx, sizeof(tx), "%.*s sudo = true; }", (int)(strlen(targets) - 1),
	    targets);
	assert_int_equal(it_config_write(e, conf, &c), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "'sudo' cannot be used"));
}

static void
test_sshwin_admin_keys(void **state)
{
	struct it_env	*e = *state;
	static const char *const old[] = { "old_key", NULL };
	static const char *const own[] = { "old_key", "agent_key", NULL };
	char		 text[4096], key[IT_PATH_MAX], name[64];
	char		 vk[IT_PATH_MAX], f[IT_PATH_MAX + 32], aid[32];
	char		*now = NULL;
	long long	 uid = 0;
	const char	*p;
	size_t		 n = 0;
	json_t		*a;
	int64_t		 id;

	keys_text(e, old, text, sizeof(text));
	assert_int_equal(it_ak_set(IT_ADM_USER, text, strlen(text), 0600),
	    0);
	(void)it_gpath(e, "old_key", key);
	assert_int_equal(login_key(e, IT_ADM_USER, key), 0);
	id = run_verb(e, "ssh.rotate_authorized_keys", IT_ADM_USER,
	    "succeeded");
	/* Make-before-break, for real: the old key is out, the new in. */
	assert_int_not_equal(login_key(e, IT_ADM_USER, key), 0);
	it_pfmt(name, sizeof(name), "vault/A%lld-private_key", (long long)id);
	assert_int_equal(login_key(e, IT_ADM_USER, it_tpath(e, name, vk)), 0);
	a = it_action(e, id);
	assert_true(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "acl_exact")));
	json_decref(a);
	it_pfmt(f, sizeof(f), "%s/acl.json", state_dir);
	assert_int_equal(access(f, F_OK), 0);

	/* Undo: the exact previous bytes; the old key works again. */
	it_pfmt(aid, sizeof(aid), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", aid, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	assert_int_equal(it_wait_action(e, uid, "succeeded", 30), 0);
	it_pfmt(f, sizeof(f), "/home/%s/.ssh/authorized_keys", IT_ADM_USER);
	assert_int_equal(it_read_file(f, &now, &n), 0);
	assert_string_equal(now, text);
	free(now);
	assert_int_equal(login_key(e, IT_ADM_USER, key), 0);
	assert_int_not_equal(login_key(e, IT_ADM_USER, vk), 0);

	/* The file is shared: cordon will not drop its own login key. */
	keys_text(e, own, text, sizeof(text));
	assert_int_equal(it_ak_set(IT_ADM_USER, text, strlen(text), 0600),
	    0);
	id = run_verb(e, "ssh.rotate_authorized_keys", IT_ADM_USER, "failed");
	a = it_action(e, id);
	assert_non_null(strstr(json_string_value(json_object_get(a,
	    "message")), "cordon's own login key"));
	json_decref(a);
	assert_int_equal(login_key(e, IT_ADM_USER, key), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sshwin_rotate_password,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_sshwin_lock_and_undo,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_sshwin_admin_keys,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_sshwin_refusals,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_sshwin_config_refused,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
