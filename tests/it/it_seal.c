/*
 * it_seal: a password rotated on a real sshd (scripts/sshd-start.sh on
 * 127.0.0.1:IT_SSH_PORT) is handed over with `cordon secret seal`, opened
 * by the standard tool (`openssl cms -decrypt` with the recipient's key,
 * made by the openssl CLI here), and the opened password logs in through
 * OpenSSH's own ssh and sshpass.  Also: the wrong role and an unknown
 * recipient are refused and journaled, the journal names recipient and
 * certificate but never holds the secret, and a bad certificate in the
 * config is a file:line error.  One more test runs a Linux lock_account
 * and its undo: the ssh driver's verbs now pass through ssh_win.c's
 * dispatch by os, and this proves the Unix path, undo included.
 *
 * Users: cordon-t-sagent is cordon's login (key, sudo NOPASSWD through
 * /etc/sudoers.d/cordon-t-sagent), cordon-t-seal1 the account rotated;
 * both differ from it_ssh's, so the two programs never share state.
 * Group teardown removes both, the sudoers file and the sshd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38950
#define IT_SSH_PORT	22290
#define IT_AGENT_USER	"cordon-t-sagent"
#define IT_ACCT		"cordon-t-seal1"
#define IT_OLD_PW	"Old-seal-pw-1 'q' $x"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-sagent"
#define IT_TEXT_MAX	16384
#define IT_NAME_MARK	"\t\tname = \"acme\";\n"
#define IT_PEM_HEAD	"-----BEGIN CMS-----\n"

static char	sshd_dir[IT_PATH_MAX];
static char	targets[IT_TEXT_MAX];
static int	sshd_up, users_made;

/* The recipient's key and certificate, and a bad "certificate". */
static int
dpo_make(struct it_env *e)
{
	char		 k[IT_PATH_MAX], c[IT_PATH_MAX], k2[IT_PATH_MAX];
	char		 c2[IT_PATH_MAX], bad[IT_PATH_MAX];
	const char	*req[] = { "openssl", "req", "-x509", "-newkey",
	    "rsa:3072", "-nodes", "-keyout", k, "-out", c, "-days", "2",
	    "-subj", "/CN=dpo.example.test", NULL };
	const char	*req2[] = { "openssl", "req", "-x509", "-newkey",
	    "rsa:2048", "-nodes", "-keyout", k2, "-out", c2, "-days", "2",
	    "-subj", "/CN=other.example.test", NULL };

	(void)it_gpath(e, "dpo.key", k);
	(void)it_gpath(e, "dpo.pem", c);
	(void)it_gpath(e, "other.key", k2);
	(void)it_gpath(e, "other.pem", c2);
	if (it_run_ok(e, req) != 0 || it_run_ok(e, req2) != 0)
		return -1;
	return it_write_file(it_gpath(e, "notacert.pem", bad), "not a cert\n",
	    11, 0644);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 key[IT_PATH_MAX], kh[IT_PATH_MAX];
	static const char sudoers[] = IT_AGENT_USER
	    " ALL=(ALL) NOPASSWD: ALL\n";
	int		 n;

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
	    it_user_fresh(e, IT_ACCT, NULL) != 0 || dpo_make(e) != 0)
		return -1;
	it_pfmt(kh, sizeof(kh), "%s/known_hosts", sshd_dir);
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"web1\"; type = \"ssh\"; host = \"127.0.0.1\"; "
	    "port = %d; user = \"" IT_AGENT_USER "\"; key_file = \"%s\"; "
	    "known_hosts = \"%s\"; timeout = 10; password_length = 24; }",
	    IT_SSH_PORT, key, kh);
	if (n < 0 || (size_t)n >= sizeof(targets))
		return -1;
	return it_write_file(it_gpath(e, "old.pw", key), IT_OLD_PW,
	    strlen(IT_OLD_PW), 0600);
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

/* Runs argv as root with stdin from the file in; 0 when it exits 0. */
static int
run_stdin(const char *const *argv, const char *in)
{
	pid_t	pid;
	int	st, fd;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open(in, O_RDONLY)) < 0 || dup2(fd, 0) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The test account with its old password. */
static int
acct_reset(struct it_env *e)
{
	char		 in[256], f[IT_PATH_MAX];
	const char	*pw[] = { "chpasswd", NULL };
	const char	*ul[] = { "usermod", "-U", IT_ACCT, NULL };
	const char	*ce[] = { "chage", "-E", "-1", IT_ACCT, NULL };
	int		 r;

	it_pfmt(in, sizeof(in), "%s:%s\n", IT_ACCT, IT_OLD_PW);
	if (it_write_file(it_gpath(e, "chpasswd.in", f), in, strlen(in),
	    0600) != 0)
		return -1;
	r = run_stdin(pw, f);
	(void)unlink(f);
	if (r != 0)
		return -1;
	(void)it_runv(e, IT_ROOT, NULL, ul, 10);
	return it_run_ok(e, ce);
}

/* Inserts text after the first mark in the config file. */
static int
conf_insert(const char *path, const char *mark, const char *text)
{
	char	*t = NULL, *out = NULL, *at;
	size_t	 n = 0, len;
	int	 k, r = -1;

	if (it_read_file(path, &t, &n) != 0 || (at = strstr(t, mark)) == NULL)
		goto out;
	at += strlen(mark);
	len = n + strlen(text) + 1;
	if ((out = malloc(len)) == NULL)
		goto out;
	k = snprintf(out, len, "%.*s%s%s", (int)(at - t), t, text, at);
	if (k < 0 || (size_t)k >= len)
		goto out;
	r = it_write_file(path, out, (size_t)k, 0600);
out:
	free(out);
	free(t);
	return r;
}

/* The harness config plus a vault, the target and recipients. */
static int
conf_make(struct it_env *e, const char *path, const char *dpo_cert)
{
	struct it_conf	 c = { .targets_extra = targets };
	char		 vault[IT_PATH_MAX], sd[IT_PATH_MAX + 32];
	char		 rc[3 * IT_PATH_MAX], other[IT_PATH_MAX];

	(void)it_tpath(e, "vault", vault);
	it_pfmt(sd, sizeof(sd), "\tsecrets_dir = \"%s\";\n", vault);
	it_pfmt(rc, sizeof(rc), "\t\trecipients = {\n\t\t\tdpo = \"%s\";\n"
	    "\t\t\tother = \"%s\";\n\t\t};\n", dpo_cert,
	    it_gpath(e, "other.pem", other));
	if (it_config_write(e, path, &c) != 0 ||
	    conf_insert(path, "agent: {\n", sd) != 0 ||
	    conf_insert(path, IT_NAME_MARK, rc) != 0)
		return -1;
	return 0;
}

static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	char		 dpo[IT_PATH_MAX], outd[IT_PATH_MAX];

	if (acct_reset(e) != 0 || it_test_dir(e) != 0 ||
	    conf_make(e, e->conf, it_gpath(e, "dpo.pem", dpo)) != 0)
		return -1;
	/* Where the lead's client may write its -o file. */
	if (mkdir(it_tpath(e, "out", outd), 0700) != 0 ||
	    chmod(outd, 01777) != 0)
		return -1;
	return it_agent_start(e, 0);
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/* verb on web1 for IT_ACCT, approval none; the action id. */
static int64_t
run_verb(struct it_env *e, const char *verb)
{
	char	inc[32];
	int64_t	id;

	assert_int_equal(it_incident_open(e, inc), 0);
	id = it_step_for(e, inc, verb, "web1", "account = \"${item}\";", 0,
	    IT_ACCT);
	if (e->status != 0)
		fail_msg("run: exit %d: %s%s", e->status, e->out, e->err);
	assert_true(id > 0);
	if (it_wait_action(e, id, "succeeded", 30) != 0)
		fail_msg("A%lld did not succeed", (long long)id);
	return id;
}

static int64_t
rotate(struct it_env *e)
{
	return run_verb(e, "ssh.rotate_password");
}

/* Logs in with OpenSSH's ssh and sshpass: 0 logged in. */
static int
login_pw(struct it_env *e, const char *pwfile)
{
	char		 port[16], dest[64], khopt[IT_PATH_MAX + 32];
	const char	*argv[] = { "sshpass", "-f", pwfile, "ssh", "-F",
	    "/dev/null", "-p", port, "-o", khopt, "-o",
	    "GlobalKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
	    "-o", "PreferredAuthentications=password", "-o",
	    "ConnectTimeout=5", "-o", "NumberOfPasswordPrompts=1", dest,
	    "id", "-un", NULL };

	it_pfmt(khopt, sizeof(khopt), "UserKnownHostsFile=%s/known_hosts",
	    sshd_dir);
	it_pfmt(port, sizeof(port), "%d", IT_SSH_PORT);
	it_pfmt(dest, sizeof(dest), "%s@127.0.0.1", IT_ACCT);
	return it_runv(e, IT_ROOT, NULL, argv, 20);
}

/* `openssl cms -decrypt` of in with key/cert into out: its status. */
static int
cms_open(struct it_env *e, const char *in, const char *key, const char *cert,
    const char *out)
{
	const char	*argv[] = { "openssl", "cms", "-decrypt", "-in", in,
	    "-inform", "PEM", "-inkey", key, "-recip", cert, "-out", out,
	    NULL };

	(void)unlink(out);
	return it_runv(e, IT_ROOT, NULL, argv, 20);
}

/* The lowercase hex SHA-256 of cert's DER, by the openssl CLI. */
static void
cert_fp(struct it_env *e, const char *cert, char out[65])
{
	const char	*argv[] = { "openssl", "x509", "-in", cert, "-noout",
	    "-fingerprint", "-sha256", NULL };
	const char	*p;
	size_t		 k = 0;

	assert_int_equal(it_runv(e, IT_ROOT, NULL, argv, 20), 0);
	assert_non_null(p = strchr(e->out, '='));
	for (p++; *p && *p != '\n' && k < 64; p++)
		if (*p != ':')
			out[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 :
			    *p);
	out[k] = '\0';
	assert_int_equal(k, 64);
}

/* The one journal entry with event for action id: its payload. */
static json_t *
entry_payload(struct it_env *e, const char *event, int64_t id)
{
	json_t	*j = it_journal(e), *x, *p = NULL;
	size_t	 i;

	assert_non_null(j);
	json_array_foreach(j, i, x) {
		if (strcmp(json_string_value(json_object_get(x, "event")) ?
		    json_string_value(json_object_get(x, "event")) : "",
		    event) != 0 || json_integer_value(json_object_get(x,
		    "action")) != id)
			continue;
		assert_null(p);
		p = json_incref(json_object_get(x, "payload"));
	}
	json_decref(j);
	assert_non_null(p);
	return p;
}

static void
test_seal_rotated_password_opens_and_logs_in(void **state)
{
	struct it_env	*e = *state;
	char		 aid[32], vf[IT_PATH_MAX], env[IT_PATH_MAX];
	char		 opened[IT_PATH_MAX], key[IT_PATH_MAX];
	char		 cert[IT_PATH_MAX];
	char		 old[IT_PATH_MAX], fp[65], name[64], okey[IT_PATH_MAX];
	char		 ocert[IT_PATH_MAX], *pw = NULL, *got = NULL;
	char		*pem = NULL;
	size_t		 pwlen = 0, glen = 0, plen = 0;
	json_t		*p;
	int64_t		 id;

	(void)it_gpath(e, "old.pw", old);
	assert_int_equal(login_pw(e, old), 0);
	id = rotate(e);
	it_pfmt(aid, sizeof(aid), "A%lld", (long long)id);
	it_pfmt(name, sizeof(name), "vault/A%lld-password", (long long)id);
	assert_int_equal(it_read_file(it_tpath(e, name, vf), &pw, &pwlen), 0);
	assert_int_equal(pwlen, 24);

	/* The lead seals it to the DPO, into a file. */
	it_pfmt(env, sizeof(env), "%s/out/pw.cms", e->tdir);
	if (it_cordon(e, IT_LEAD, "secret", "seal", aid, "--to", "dpo", "-o",
	    env, NULL) != 0)
		fail_msg("secret seal: exit %d: %s", e->status, e->err);
	assert_true(it_err_has(e, "sealed to 'dpo'"));
	assert_false(it_out_has(e, pw));
	assert_false(it_err_has(e, pw));
	assert_int_equal(it_read_file(env, &pem, &plen), 0);
	assert_true(strncmp(pem, IT_PEM_HEAD, strlen(IT_PEM_HEAD)) == 0);
	assert_null(memmem(pem, plen, pw, pwlen));
	free(pem);

	/* The standard tool opens it: exactly the vault's bytes. */
	(void)it_gpath(e, "dpo.key", key);
	(void)it_gpath(e, "dpo.pem", cert);
	it_tpath(e, "opened.pw", opened);
	assert_int_equal(cms_open(e, env, key, cert, opened), 0);
	assert_int_equal(it_read_file(opened, &got, &glen), 0);
	assert_int_equal(glen, pwlen);
	assert_memory_equal(got, pw, pwlen);
	free(got);
	/* Another recipient's key opens nothing. */
	(void)it_gpath(e, "other.key", okey);
	(void)it_gpath(e, "other.pem", ocert);
	assert_int_not_equal(cms_open(e, env, okey, ocert, opened), 0);

	/* The opened password logs in; the old one no longer does. */
	assert_int_equal(cms_open(e, env, key, cert, opened), 0);
	assert_int_equal(chmod(opened, 0600), 0);
	assert_int_equal(login_pw(e, opened), 0);
	assert_true(it_out_has(e, IT_ACCT));
	assert_int_not_equal(login_pw(e, old), 0);

	/* Journaled: action, label, recipient, the certificate's hash. */
	p = entry_payload(e, "secret_sealed", id);
	assert_string_equal(json_string_value(json_object_get(p, "label")),
	    "password");
	assert_string_equal(json_string_value(json_object_get(p,
	    "recipient")), "dpo");
	cert_fp(e, cert, fp);
	assert_string_equal(json_string_value(json_object_get(p,
	    "cert_sha256")), fp);
	assert_true(strncmp(json_string_value(json_object_get(p,
	    "fingerprint")), "sha256:", 7) == 0);
	json_decref(p);

	/* Without -o the envelope goes to stdout; a second entry. */
	assert_int_equal(it_cordon(e, IT_LEAD, "secret", "seal", aid,
	    "password", "--to", "other", NULL), 0);
	assert_true(strncmp(e->out, IT_PEM_HEAD, strlen(IT_PEM_HEAD)) == 0);
	assert_false(it_out_has(e, pw));
	assert_int_equal(it_journal_count(e, "secret_sealed", id), 2);

	/* The secret is in no journal line and no log line. */
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", NULL), 0);
	assert_null(strstr(e->out, pw));
	assert_non_null(strstr(e->out, fp));
	assert_int_equal(it_file_has(e->log, pw), 0);
	explicit_bzero(pw, pwlen);
	free(pw);
}

static void
test_seal_refused(void **state)
{
	struct it_env	*e = *state;
	char		 aid[32];
	int64_t		 id;

	id = rotate(e);
	it_pfmt(aid, sizeof(aid), "A%lld", (long long)id);
	/* An operator is below secret_role (lead). */
	assert_int_equal(it_cordon(e, IT_OP, "secret", "seal", aid, "--to",
	    "dpo", NULL), 3);
	assert_false(it_out_has(e, "BEGIN CMS"));
	assert_true(it_err_has(e, "secrets need 'lead'"));
	/* Nobody may name a recipient the config does not have. */
	assert_int_equal(it_cordon(e, IT_LEAD, "secret", "seal", aid, "--to",
	    "mallory", NULL), 3);
	assert_false(it_out_has(e, "BEGIN CMS"));
	assert_true(it_err_has(e, "no recipient 'mallory'"));
	assert_int_equal(it_journal_count(e, "refused", id), 2);
	assert_int_equal(it_journal_count(e, "secret_sealed", id), 0);
	/* Usage errors: no --to, an unknown flag. */
	assert_int_equal(it_cordon(e, IT_LEAD, "secret", "seal", aid, NULL),
	    2);
	assert_int_equal(it_cordon(e, IT_LEAD, "secret", "seal", aid, "--to",
	    "dpo", "--armor", NULL), 2);
	assert_int_equal(it_journal_count(e, "secret_sealed", id), 0);
}

static void
test_seal_config_checked(void **state)
{
	struct it_env	*e = *state;
	char		 conf[IT_PATH_MAX], bad[IT_PATH_MAX], want[64];
	char		*t = NULL, *at;
	size_t		 n = 0;
	int		 line = 1;

	assert_int_equal(conf_make(e, it_tpath(e, "bad.conf", conf),
	    it_gpath(e, "notacert.pem", bad)), 0);
	assert_int_equal(it_read_file(conf, &t, &n), 0);
	assert_non_null(at = strstr(t, "dpo = "));
	for (; at > t; at--)
		line += at[-1] == '\n';
	free(t);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	it_pfmt(want, sizeof(want), ":%d: recipient 'dpo': certificate", line);
	if (!it_err_has(e, want))
		fail_msg("want '%s' in '%s'", want, e->err);
	assert_true(it_err_has(e, "no PEM X.509 certificate"));
	/* A relative path is refused too. */
	assert_int_equal(conf_make(e, conf, "dpo.pem"), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "absolute path"));
	/* And the good one passes. */
	assert_int_equal(conf_make(e, conf, it_gpath(e, "dpo.pem", bad)), 0);
	if (it_cordon(e, IT_ROOT, "check-config", conf, NULL) != 0)
		fail_msg("check-config: %s", e->err);
}

static void
test_seal_linux_lock_undo_dispatch(void **state)
{
	struct it_env	*e = *state;
	char		 old[IT_PATH_MAX], aid[32];
	long long	 uid = 0;
	const char	*p;
	int64_t		 id;

	(void)it_gpath(e, "old.pw", old);
	assert_int_equal(login_pw(e, old), 0);
	id = run_verb(e, "ssh.lock_account");
	assert_int_not_equal(login_pw(e, old), 0);
	it_pfmt(aid, sizeof(aid), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", aid, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	assert_int_equal(it_wait_action(e, uid, "succeeded", 30), 0);
	assert_int_equal(login_pw(e, old), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_seal_rotated_password_opens_and_logs_in, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_seal_refused,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_seal_config_checked,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(
		    test_seal_linux_lock_undo_dispatch, test_setup,
		    test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
