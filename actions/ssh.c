/*
 * ssh: credential containment on Unix hosts over SSH (libssh 0.10).
 *
 *   rotate_password         chpasswd fed on stdin; the new password goes
 *                           to the vault (before chpasswd runs, so a crash
 *                           never loses it), the journal gets its
 *                           fingerprint.  Irreversible: no undo.
 *   lock_account            usermod -L + chage -E 0: the expiry also stops
 *                           key logins under UsePAM yes.  Undo restores
 *                           the lock flag and expiry that check saw.
 *   end_sessions            loginctl terminate-user, then pkill -KILL -u
 *                           for whatever is left; verify: pgrep finds
 *                           nothing.  Irreversible.
 *   rotate_authorized_keys  make-before-break: a new ed25519 key is
 *                           appended and must log in through a new
 *                           session before the file is rewritten with only
 *                           the kept keys.  Undo writes back the exact
 *                           bytes and mode check saw.
 *
 * One session per batch (ssh_conn.h), kept from the check when the run
 * was queued; one exec channel per command, or per short sequence where
 * a round trip can be saved (ssh_run_seq: check reads passwd and shadow
 * together; rotate_password's apply reads the hash back on the channel
 * that changed it, and verify judges that read-back).
 * Every runbook value is validated (a POSIX account name) and then quoted
 * as one shell word; secrets reach the target only on stdin.  The shadow
 * hash is read to detect a change but never leaves this file: before and
 * observed hold a fingerprint of it.  authorized_keys is read and written
 * as the account itself (sudo -u), so a hostile symlink in its home gains
 * it nothing.
 *
 * Per-act helpers return 0, 1 when they failed the act (act_fail), or
 * -errno when the session broke (the batch stops there).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "../agent/driver.h"
#include "../agent/hash.h"
#include "../agent/log.h"
#include "../agent/vault.h"
#include "ssh_akeys.h"
#include "ssh_conn.h"
#include "ssh_win.h"

#define SSH_PW_LEN_DEFAULT	24
#define SSH_PW_LEN_MIN		12
#define SSH_PW_LEN_MAX		256
#define SSH_CHPASSWD		"/usr/sbin/chpasswd"
#define SSH_HOME_MAX		1024
#define SSH_KILL_WAIT_S		5
#define SSH_ERRLINE		160
#define SSH_UID_MIN_DEFAULT	"1000"

/* -EIO/-ETIMEDOUT break the batch; anything else fails this act. */
static int
run_fail(struct act *a, const char *what, int r)
{
	if (r == -EIO || r == -ETIMEDOUT)
		return r;
	act_fail(a, "%s: %s", what, strerror(-r));
	return 1;
}

static int
status_fail(struct act *a, const char *what, const struct ssh_res *res)
{
	char	line[SSH_ERRLINE];

	ssh_res_errline(res, line, sizeof(line));
	act_fail(a, "%s exited %d%s%s", what, res->status, *line ? ": " : "",
	    line);
	return 1;
}

/* Runs argv; 0 with res filled, or as run_fail. */
static int
run(struct sconn *c, struct act *a, enum ssh_who who, const char *acct,
    const char *const *argv, struct ssh_res *res)
{
	int	r;

	if ((r = ssh_run(c, who, acct, argv, NULL, 0, res)) != 0)
		return run_fail(a, argv[0], r);
	return 0;
}

/* The account parameter, validated and not protected; NULL after fail. */
static const char *
account_of(struct sconn *c, struct act *a)
{
	const struct customer	*cu = a->customer;
	const char		*acct = act_param(a, "account");
	size_t			 i;

	if (acct == NULL || !ssh_account_ok(acct)) {
		act_fail(a, "'account' must be a POSIX user name "
		    "([a-z_][a-z0-9_-]*, at most %d characters)",
		    SSH_ACCOUNT_MAX);
		return NULL;
	}
	if (strcmp(acct, c->user) == 0) {
		act_fail(a, "'%s' is cordon's own login on this host", acct);
		a->outcome = ACT_REFUSED;
		return NULL;
	}
	for (i = 0; cu && i < cu->nprotected; i++)
		if (strcmp(cu->protected[i], acct) == 0) {
			act_fail(a, "'%s' is a protected account", acct);
			a->outcome = ACT_REFUSED;
			return NULL;
		}
	return acct;
}

static int	digits_ok(const char *, size_t);

struct pwent {
	long	uid;
	char	home[SSH_HOME_MAX];
};

/* getent passwd's answer: 0 found, 1 act failed (not found). */
static int
pw_parse(struct sconn *c, struct act *a, const char *acct,
    struct ssh_res *res, struct pwent *pw)
{
	char	*f[7], *p, *nl;
	int	 i;

	if (res->status == 2) {
		act_fail(a, "no account '%s' on %s", acct, c->host);
		return 1;
	}
	if (res->status != 0)
		return status_fail(a, "getent passwd", res);
	if ((nl = strchr(res->out.p, '\n')) != NULL)
		*nl = '\0';
	p = res->out.p;
	for (i = 0; i < 7; i++) {
		f[i] = p;
		if ((p = strchr(p, ':')) == NULL && i < 6)
			break;
		if (p)
			*p++ = '\0';
	}
	if (i < 7 || strcmp(f[0], acct) != 0 || f[5][0] != '/' ||
	    strlen(f[5]) >= sizeof(pw->home)) {
		act_fail(a, "unexpected passwd entry for '%s'", acct);
		return 1;
	}
	pw->uid = strtol(f[2], NULL, 10);
	memcpy(pw->home, f[5], strlen(f[5]) + 1);
	return 0;
}

/* getent passwd: 0 found, 1 act failed (not found), <0 broken. */
static int
pw_lookup(struct sconn *c, struct act *a, const char *acct,
    struct pwent *pw)
{
	const char	*argv[] = { "getent", "passwd", acct, NULL };
	struct ssh_res	 res;
	int		 r;

	if ((r = run(c, a, SSH_AS_LOGIN, NULL, argv, &res)) == 0)
		r = pw_parse(c, a, acct, &res, pw);
	ssh_res_free(&res);
	return r;
}

/*
 * cordon's login uid and the host's UID_MIN (login.defs, 1000 when it
 * says nothing), read once per session: the system-account guard.  Check
 * reads it on the channel that reads the account (pw_shadow_read).
 */
static const char sys_script[] =
    "id -u || exit 3\n"
    "m=$(sed -n 's/^[[:space:]]*UID_MIN[[:space:]][[:space:]]*"
    "\\([0-9][0-9]*\\).*/\\1/p' /etc/login.defs 2>/dev/null | "
    "tail -n 1)\n"
    "echo \"${m:-" SSH_UID_MIN_DEFAULT "}\"\n";
static const char *const sys_argv[] = { "sh", "-c", sys_script, NULL };

static int
sys_wanted(const struct sconn *c)
{
	return !c->sys_read && !json_is_true(json_object_get(c->t->opts,
	    "allow_system_accounts"));
}

/* sys_script's answer into c; 1 after act_fail. */
static int
sys_parse(struct sconn *c, struct act *a, struct ssh_res *res)
{
	char	*l2, *nl;

	if (res->status != 0)
		return status_fail(a, "reading UID_MIN", res);
	if (res->out.p == NULL || (nl = strchr(res->out.p, '\n')) == NULL)
		goto bad;
	*nl = '\0';
	l2 = nl + 1;
	if ((nl = strchr(l2, '\n')) != NULL)
		*nl = '\0';
	if (*res->out.p == '\0' || *l2 == '\0' || !digits_ok(res->out.p, 9) ||
	    !digits_ok(l2, 9))
		goto bad;
	c->login_uid = strtol(res->out.p, NULL, 10);
	c->uid_min = strtol(l2, NULL, 10);
	c->sys_read = 1;
	return 0;
bad:
	act_fail(a, "unexpected answer reading the login's uid and UID_MIN");
	return 1;
}

static int
sys_read(struct sconn *c, struct act *a)
{
	struct ssh_res	 res;
	int		 r;

	if (c->sys_read)
		return 0;
	if ((r = run(c, a, SSH_AS_LOGIN, NULL, sys_argv, &res)) == 0)
		r = sys_parse(c, a, &res);
	ssh_res_free(&res);
	return r;
}

/*
 * Root, system accounts (uid below UID_MIN) and any account sharing
 * cordon's login's uid are refused unless the target allows them: killing
 * every root process or locking a daemon's account takes the host down.
 */
static int
sys_guard(struct sconn *c, struct act *a, const char *acct, long uid)
{
	int	r;

	if (json_is_true(json_object_get(c->t->opts,
	    "allow_system_accounts")))
		return 0;
	if ((r = sys_read(c, a)) != 0)
		return r;
	if (uid == 0 || uid < c->uid_min || uid == c->login_uid) {
		act_fail(a, "'%s' is a system account on %s (uid %ld; %s): "
		    "set allow_system_accounts = true on the target to act "
		    "on it", acct, c->host, uid, uid == 0 ? "root" :
		    uid == c->login_uid ? "the uid cordon logs in as" :
		    "below UID_MIN");
		a->outcome = ACT_REFUSED;
		return 1;
	}
	return 0;
}

/*
 * The name checks and the uid, read fresh: apply reads them again rather
 * than trust what the check saw.
 */
static int
acct_guard(struct sconn *c, struct act *a, const char **ret_acct)
{
	struct pwent	 pw;
	const char	*acct;
	int		 r;

	if ((acct = account_of(c, a)) == NULL)
		return 1;
	if ((r = pw_lookup(c, a, acct, &pw)) != 0 ||
	    (r = sys_guard(c, a, acct, pw.uid)) != 0)
		return r;
	*ret_acct = acct;
	return 0;
}

struct shadow {
	int	locked;			/* hash starts with '!' */
	char	lastchg[24];		/* days since 1970, "" if unset */
	char	expire[24];		/* days since 1970, "" = never */
	char	hash_fp[24];		/* secret_fp of the hash */
};

static int
digits_ok(const char *s, size_t max)
{
	size_t	n = strlen(s), i;

	if (n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* getent shadow's answer; the hash itself is wiped with the output. */
static int
shadow_parse(struct act *a, const char *acct, struct ssh_res *res,
    struct shadow *sh)
{
	struct secret	 h;
	char		*f[9], *p, *nl;
	int		 i;

	memset(sh, 0, sizeof(*sh));
	if (res->status != 0)
		return status_fail(a, "getent shadow", res);
	if ((nl = strchr(res->out.p, '\n')) != NULL)
		*nl = '\0';
	p = res->out.p;
	for (i = 0; i < 9; i++) {
		f[i] = p;
		if ((p = strchr(p, ':')) == NULL && i < 8)
			break;
		if (p)
			*p++ = '\0';
	}
	if (i < 9 || strcmp(f[0], acct) != 0 || !digits_ok(f[2], 20) ||
	    !digits_ok(f[7], 20)) {
		act_fail(a, "unexpected shadow entry for '%s'", acct);
		return 1;
	}
	sh->locked = f[1][0] == '!';
	h.s = f[1];
	h.len = strlen(f[1]);
	secret_fp(&h, sh->hash_fp);
	memcpy(sh->lastchg, f[2], strlen(f[2]) + 1);
	memcpy(sh->expire, f[7], strlen(f[7]) + 1);
	return 0;
}

/* getent shadow as root. */
static int
shadow_read(struct sconn *c, struct act *a, const char *acct,
    struct shadow *sh)
{
	const char	*argv[] = { "getent", "shadow", acct, NULL };
	struct ssh_res	 res;
	int		 r;

	memset(sh, 0, sizeof(*sh));
	if ((r = run(c, a, SSH_AS_ROOT, NULL, argv, &res)) == 0)
		r = shadow_parse(a, acct, &res, sh);
	ssh_res_free(&res);
	return r;
}

/* passwd and shadow entries in one round trip (check reads both). */
static int
pw_shadow_read(struct sconn *c, struct act *a, const char *acct,
    struct pwent *pw, struct shadow *sh)
{
	const char	*pa[] = { "getent", "passwd", acct, NULL };
	const char	*sa[] = { "getent", "shadow", acct, NULL };
	struct ssh_cmd	 cmds[] = {
		{ SSH_AS_LOGIN, NULL, pa },
		{ SSH_AS_ROOT, NULL, sa },
		{ SSH_AS_LOGIN, NULL, sys_argv },
	};
	struct ssh_res	 res[3];
	size_t		 n = sys_wanted(c) ? 3 : 2, i;
	int		 r;

	memset(sh, 0, sizeof(*sh));
	memset(res, 0, sizeof(res));
	if ((r = ssh_run_seq(c, cmds, n, NULL, 0, res)) != 0)
		r = run_fail(a, "getent", r);
	else if ((r = pw_parse(c, a, acct, &res[0], pw)) == 0 &&
	    (r = shadow_parse(a, acct, &res[1], sh)) == 0 && n == 3)
		r = sys_parse(c, a, &res[2]);
	for (i = 0; i < 3; i++)
		ssh_res_free(&res[i]);
	return r;
}

/* Runs a command that must exit 0. */
static int
must(struct sconn *c, struct act *a, enum ssh_who who, const char *acct,
    const char *const *argv)
{
	struct ssh_res	res;
	int		r;

	if ((r = run(c, a, who, acct, argv, &res)) == 0 && res.status != 0)
		r = status_fail(a, argv[0], &res);
	ssh_res_free(&res);
	return r;
}

/* Keeps what apply put into observed (fingerprints) under verify's. */
static void
observe(struct act *a, json_t *o)
{
	if (a->observed)
		(void)json_object_update_missing(o, a->observed);
	json_decref(a->observed);
	a->observed = o;
}

static void
set_change(struct act *a, char *s)
{
	free(a->change);
	a->change = s;
}

/* ---- rotate_password -------------------------------------------------- */

static int
pw_check_one(struct sconn *c, struct act *a)
{
	struct pwent	 pw;
	struct shadow	 sh;
	const char	*acct;
	int		 r;

	if ((acct = account_of(c, a)) == NULL)
		return 1;
	if ((r = pw_shadow_read(c, a, acct, &pw, &sh)) != 0 ||
	    (r = sys_guard(c, a, acct, pw.uid)) != 0)
		return r;
	json_decref(a->before);
	a->before = json_pack("{s:s,s:I,s:b,s:s,s:s}", "account", acct,
	    "uid", (json_int_t)pw.uid, "locked", sh.locked, "hash_fp",
	    sh.hash_fp, "last_change", sh.lastchg);
	set_change(a, xasprintf("set a new random password (%ld "
	    "characters) for '%s' on %s (irreversible; the password goes to "
	    "the vault)%s", ssh_opt_int(c->t, "password_length",
	    SSH_PW_LEN_DEFAULT), acct, c->host, sh.locked ?
	    "; the password lock stays" : ""));
	a->outcome = ACT_OK;
	return 0;
}

static int
pw_check(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, pw_check_one);
}

/*
 * chpasswd on stdin, the lock again if there was one (chpasswd replaces
 * the whole hash, '!' with it), and the read-back: one channel, one round
 * trip.  The read-back goes into observed for verify to judge.
 */
static int
pw_apply_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	const char	*cmd = ssh_opt_str(c->t, "chpasswd");
	const char	*argv[] = { cmd ? cmd : SSH_CHPASSWD, NULL };
	const char	*lock[] = { "usermod", "-L", acct, NULL };
	const char	*rd[] = { "getent", "shadow", acct, NULL };
	const char	*old = json_string_value(json_object_get(a->before,
	    "hash_fp"));
	struct ssh_cmd	 cmds[3];
	struct secret	*pw = NULL;
	struct ssh_res	 res[3];
	struct shadow	 sh;
	char		 fp[24], *in = NULL, line[SSH_ERRLINE];
	size_t		 inlen = 0, alen, n = 0, i;
	int		 r, relock;

	memset(res, 0, sizeof(res));
	if ((r = acct_guard(c, a, &acct)) != 0)
		return r;
	if ((r = secret_random((size_t)ssh_opt_int(c->t, "password_length",
	    SSH_PW_LEN_DEFAULT), ssh_opt_str(c->t, "password_alphabet"),
	    &pw)) != 0) {
		act_fail(a, "cannot generate a password: %s", strerror(-r));
		return 1;
	}
	/* Vault first: if we die after chpasswd, the password is kept. */
	if ((r = vault_put(a->id, "password", pw->s, pw->len, fp)) != 0) {
		act_fail(a, "cannot store the new password in the vault: %s",
		    strerror(-r));
		r = 1;
		goto out;
	}
	alen = strlen(acct);
	inlen = alen + 1 + pw->len + 1;
	in = xmalloc(inlen);
	memcpy(in, acct, alen);
	in[alen] = ':';
	memcpy(in + alen + 1, pw->s, pw->len);
	in[inlen - 1] = '\n';
	relock = json_is_true(json_object_get(a->before, "locked"));
	cmds[n++] = (struct ssh_cmd){ SSH_AS_ROOT, NULL, argv };
	if (relock)
		cmds[n++] = (struct ssh_cmd){ SSH_AS_ROOT, NULL, lock };
	cmds[n++] = (struct ssh_cmd){ SSH_AS_ROOT, NULL, rd };
	if ((r = ssh_run_seq(c, cmds, n, in, inlen, res)) != 0) {
		r = run_fail(a, "chpasswd", r);
		goto out;
	}
	if (res[0].status != 0) {
		/* A configured command might echo its input: never repeat
		 * output that holds the password.  stderr is all in the
		 * last res. */
		ssh_res_errline(&res[n - 1], line, sizeof(line));
		for (i = 0; i < n; i++)
			if (memmem(res[i].err.p, res[i].err.len, pw->s,
			    pw->len) || memmem(res[i].out.p, res[i].out.len,
			    pw->s, pw->len))
				break;
		if (i < n)
			act_fail(a, "'%s' exited %d (output withheld: it "
			    "contains the password)", argv[0], res[0].status);
		else
			act_fail(a, "%s exited %d%s%s", argv[0],
			    res[0].status, *line ? ": " : "", line);
		r = 1;
		goto out;
	}
	if (relock && res[1].status != 0) {
		ssh_res_errline(&res[n - 1], line, sizeof(line));
		act_fail(a, "usermod -L exited %d%s%s", res[1].status,
		    *line ? ": " : "", line);
		r = 1;
		goto out;
	}
	json_decref(a->observed);
	a->observed = json_pack("{s:s,s:s}", "password_fp", fp,
	    "vault_label", "password");
	if ((r = shadow_parse(a, acct, &res[n - 1], &sh)) != 0)
		goto out;
	(void)json_object_update_new(a->observed, json_pack("{s:b,s:s,s:b}",
	    "hash_changed", old == NULL || strcmp(old, sh.hash_fp) != 0,
	    "last_change", sh.lastchg, "locked", sh.locked));
	a->outcome = ACT_OK;
	r = 0;
out:
	if (in) {
		explicit_bzero(in, inlen);
		free(in);
	}
	for (i = 0; i < 3; i++)
		ssh_res_free(&res[i]);
	secret_free(pw);
	return r;
}

static int
pw_apply(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, pw_apply_one);
}

static int
pw_verify_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	const char	*old = json_string_value(json_object_get(a->before,
	    "hash_fp"));
	int		 waslocked = json_is_true(json_object_get(a->before,
	    "locked"));
	json_t		*hc = json_object_get(a->observed, "hash_changed");
	struct shadow	 sh;
	int		 r, changed;

	/* apply read it back on its own channel, after chpasswd. */
	if (json_is_boolean(hc)) {
		changed = json_is_true(hc);
		sh.locked = json_is_true(json_object_get(a->observed,
		    "locked"));
	} else {
		if ((r = shadow_read(c, a, acct, &sh)) != 0)
			return r;
		changed = old == NULL || strcmp(old, sh.hash_fp) != 0;
		observe(a, json_pack("{s:b,s:s,s:b}", "hash_changed",
		    changed, "last_change", sh.lastchg, "locked",
		    sh.locked));
	}
	if (!changed)
		act_fail(a, "read back: the password hash of '%s' did not "
		    "change", acct);
	else if (sh.locked != waslocked)
		act_fail(a, "read back: the password lock of '%s' changed",
		    acct);
	else
		a->outcome = ACT_OK;
	return 0;
}

static int
pw_verify(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, pw_verify_one);
}

/* ---- lock_account ----------------------------------------------------- */

static void
lock_want(const struct act *a, int *ret_locked, const char **ret_expire)
{
	const char	*e;

	if (a->restore) {
		*ret_locked = json_is_true(json_object_get(a->restore,
		    "locked"));
		e = json_string_value(json_object_get(a->restore, "expire"));
		*ret_expire = e ? e : "";
	} else {
		*ret_locked = 1;
		*ret_expire = "0";
	}
}

static const char *
expire_text(const char *e)
{
	return *e ? e : "never";
}

static int
lock_check_one(struct sconn *c, struct act *a)
{
	struct pwent	 pw;
	struct shadow	 sh;
	const char	*acct, *wexp;
	int		 wl, r;

	if ((acct = account_of(c, a)) == NULL)
		return 1;
	if (a->restore && !digits_ok(json_string_value(json_object_get(
	    a->restore, "expire")) ? json_string_value(json_object_get(
	    a->restore, "expire")) : "", 20)) {
		act_fail(a, "bad expiry in the state to restore");
		return 1;
	}
	if ((r = pw_shadow_read(c, a, acct, &pw, &sh)) != 0 ||
	    (r = sys_guard(c, a, acct, pw.uid)) != 0)
		return r;
	json_decref(a->before);
	a->before = json_pack("{s:s,s:b,s:s}", "account", acct, "locked",
	    sh.locked, "expire", sh.expire);
	lock_want(a, &wl, &wexp);
	if (sh.locked == wl && strcmp(sh.expire, wexp) == 0) {
		set_change(a, NULL);
		a->outcome = ACT_NOCHANGE;
		return 0;
	}
	set_change(a, xasprintf("%s the password of '%s' and set its "
	    "account expiry to %s (now: %s, expiry %s)", wl ? "lock" :
	    "unlock", acct, *wexp ? wexp : "never (-1)", sh.locked ?
	    "locked" : "unlocked", expire_text(sh.expire)));
	a->outcome = ACT_OK;
	return 0;
}

static int
lock_check(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, lock_check_one);
}

/* Writes the wanted state; also the undo (a->restore set). */
static int
lock_apply_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account"), *wexp;
	struct shadow	 sh;
	int		 wl, r;

	if ((r = acct_guard(c, a, &acct)) != 0)
		return r;
	lock_want(a, &wl, &wexp);
	if ((r = shadow_read(c, a, acct, &sh)) != 0)
		return r;
	if (sh.locked != wl) {
		const char *argv[] = { "usermod", wl ? "-L" : "-U", acct,
		    NULL };

		if ((r = must(c, a, SSH_AS_ROOT, NULL, argv)) != 0)
			return r;
	}
	if (strcmp(sh.expire, wexp) != 0) {
		const char *argv[] = { "chage", "-E", *wexp ? wexp : "-1",
		    acct, NULL };

		if ((r = must(c, a, SSH_AS_ROOT, NULL, argv)) != 0)
			return r;
	}
	a->outcome = ACT_OK;
	return 0;
}

static int
lock_apply(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, lock_apply_one);
}

static int
lock_verify_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account"), *wexp;
	struct shadow	 sh;
	int		 wl, r;

	lock_want(a, &wl, &wexp);
	if ((r = shadow_read(c, a, acct, &sh)) != 0)
		return r;
	observe(a, json_pack("{s:b,s:s}", "locked", sh.locked, "expire",
	    sh.expire));
	if (sh.locked != wl || strcmp(sh.expire, wexp) != 0)
		act_fail(a, "read back: '%s' is %s with expiry %s, not the "
		    "wanted state", acct, sh.locked ? "locked" : "unlocked",
		    expire_text(sh.expire));
	else
		a->outcome = ACT_OK;
	return 0;
}

static int
lock_verify(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, lock_verify_one);
}

/* ---- end_sessions ----------------------------------------------------- */

/* Processes running as acct (pgrep -c -u), or <0 / 1 as usual. */
static int
proc_count(struct sconn *c, struct act *a, const char *acct, long *ret)
{
	const char	*argv[] = { "pgrep", "-c", "-u", acct, NULL };
	struct ssh_res	 res;
	int		 r;

	if ((r = run(c, a, SSH_AS_ROOT, NULL, argv, &res)) != 0)
		goto out;
	if (res.status != 0 && res.status != 1) {
		r = status_fail(a, "pgrep", &res);
		goto out;
	}
	*ret = strtol(res.out.p, NULL, 10);
	r = 0;
out:
	ssh_res_free(&res);
	return r;
}

static int
es_check_one(struct sconn *c, struct act *a)
{
	const char	*acct;
	int		 r;

	if ((r = acct_guard(c, a, &acct)) != 0)
		return r;
	/*
	 * The count is not part of the plan: it changes between queueing
	 * and apply (the rotation steps before this one log in as acct),
	 * and a changed plan would send an approved action back for a
	 * second approval.  What the lead approves is "nothing of acct
	 * keeps running", so the action always applies, even on none now:
	 * a session may open before it runs.
	 */
	json_decref(a->before);
	a->before = json_pack("{s:s}", "account", acct);
	set_change(a, xasprintf("end every session and process of '%s' on "
	    "%s (irreversible)", acct, c->host));
	a->outcome = ACT_OK;
	return 0;
}

static int
es_check(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, es_check_one);
}

static int
es_apply_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	const char	*lc[] = { "loginctl", "terminate-user", acct, NULL };
	const char	*pk[] = { "pkill", "-KILL", "-u", acct, NULL };
	struct ssh_res	 res;
	int		 r, lok;

	if ((r = acct_guard(c, a, &acct)) != 0)
		return r;
	/* logind ends the sessions cleanly where it runs ... */
	if ((r = run(c, a, SSH_AS_ROOT, NULL, lc, &res)) != 0) {
		ssh_res_free(&res);
		return r;
	}
	lok = res.status == 0;
	ssh_res_free(&res);
	/* ... and pkill gets everything outside them (or everything). */
	if ((r = run(c, a, SSH_AS_ROOT, NULL, pk, &res)) != 0) {
		ssh_res_free(&res);
		return r;
	}
	if (res.status != 0 && res.status != 1) {
		r = status_fail(a, "pkill", &res);
		ssh_res_free(&res);
		return r;
	}
	ssh_res_free(&res);
	/* Static strings: the per-act scratch needs no free. */
	a->drv = (void *)(lok ? "loginctl+pkill" : "pkill");
	a->outcome = ACT_OK;
	return 0;
}

static int
es_apply(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, es_apply_one);
}

static int
es_verify_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	struct timespec	 nap = { 0, 100 * 1000 * 1000 };
	double		 deadline = now_mono() + SSH_KILL_WAIT_S;
	long		 np = 0;
	int		 r;

	/* SIGKILL is delivered asynchronously: give the kernel a moment. */
	for (;;) {
		if ((r = proc_count(c, a, acct, &np)) != 0)
			return r;
		if (np == 0 || now_mono() > deadline)
			break;
		(void)nanosleep(&nap, NULL);
	}
	observe(a, json_pack("{s:I,s:s?}", "processes_left", (json_int_t)np,
	    "method", (const char *)a->drv));
	if (np != 0)
		act_fail(a, "read back: %ld process(es) of '%s' still run",
		    np, acct);
	else
		a->outcome = ACT_OK;
	return 0;
}

static int
es_verify(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, es_verify_one);
}

/* ---- rotate_authorized_keys ------------------------------------------- */

struct akfile {
	int	 exists;
	char	 mode[8];		/* "600" */
	char	*data;
	size_t	 len;
};

static void
akfile_free(struct akfile *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

static int
mode_ok(const char *m)
{
	size_t	n = strlen(m), i;

	if (n < 3 || n > 4)
		return 0;
	for (i = 0; i < n; i++)
		if (m[i] < '0' || m[i] > '7')
			return 0;
	return 1;
}

static int
ak_path(struct act *a, const struct pwent *pw, char *out, size_t len)
{
	int	n = snprintf(out, len, "%s/.ssh/authorized_keys", pw->home);

	if (n < 0 || (size_t)n >= len) {
		act_fail(a, "home directory path too long");
		return 1;
	}
	return 0;
}

/* Reads the file as the account: exists, mode and exact bytes. */
static int
ak_read(struct sconn *c, struct act *a, const char *acct, const char *path,
    struct akfile *f)
{
	static const char script[] =
	    "f=$1\n"
	    "if [ -e \"$f\" ] || [ -L \"$f\" ]; then\n"
	    "  stat -L -c '%a %U' -- \"$f\" || exit 3\n"
	    "  cat -- \"$f\" || exit 3\n"
	    "else echo absent; fi\n";
	const char	*argv[] = { "sh", "-c", script, "sh", path, NULL };
	struct ssh_res	 res;
	char		*nl, *sp;
	size_t		 hl;
	int		 r;

	memset(f, 0, sizeof(*f));
	if ((r = run(c, a, SSH_AS_ACCOUNT, acct, argv, &res)) != 0)
		goto out;
	if (res.status != 0) {
		r = status_fail(a, "reading authorized_keys", &res);
		goto out;
	}
	if ((nl = memchr(res.out.p, '\n', res.out.len)) == NULL) {
		act_fail(a, "reading authorized_keys: no answer");
		r = 1;
		goto out;
	}
	*nl = '\0';
	hl = (size_t)(nl - res.out.p) + 1;
	if (strcmp(res.out.p, "absent") == 0) {
		f->exists = 0;
		(void)snprintf(f->mode, sizeof(f->mode), "600");
		f->data = xstrdup("");
		r = 0;
		goto out;
	}
	if ((sp = strchr(res.out.p, ' ')) == NULL) {
		act_fail(a, "reading authorized_keys: bad answer");
		r = 1;
		goto out;
	}
	*sp++ = '\0';
	if (!mode_ok(res.out.p) || strcmp(sp, acct) != 0) {
		act_fail(a, "'%s' is owned by '%s', not by '%s' (mode %s): "
		    "refusing to rewrite it", path, sp, acct, res.out.p);
		r = 1;
		goto out;
	}
	if (res.out.len - hl > SSH_AKEYS_MAX) {
		act_fail(a, "'%s' is larger than %d bytes", path, SSH_AKEYS_MAX);
		r = 1;
		goto out;
	}
	f->exists = 1;
	(void)snprintf(f->mode, sizeof(f->mode), "%s", res.out.p);
	f->len = res.out.len - hl;
	f->data = xmalloc(f->len + 1);
	memcpy(f->data, res.out.p + hl, f->len);
	f->data[f->len] = '\0';
	r = 0;
out:
	ssh_res_free(&res);
	return r;
}

/*
 * Replaces the file atomically, as the account: a temporary file in the
 * same directory, the mode, then rename.  The owner stays the account.
 */
static int
ak_write(struct sconn *c, struct act *a, const char *acct, const char *path,
    const char *mode, const char *data, size_t len)
{
	static const char script[] =
	    "set -e\n"
	    "f=$1 m=$2 d=${1%/*}\n"
	    "[ -d \"$d\" ] || mkdir -m 700 -- \"$d\"\n"
	    "t=$(mktemp -- \"$d/.authorized_keys.cordon.XXXXXX\")\n"
	    "trap 'rm -f -- \"$t\"' EXIT\n"
	    "cat >\"$t\"\n"
	    "chmod -- \"$m\" \"$t\"\n"
	    "mv -f -- \"$t\" \"$f\"\n"
	    "trap - EXIT\n";
	const char	*argv[] = { "sh", "-c", script, "sh", path, mode, NULL };
	struct ssh_res	 res;
	int		 r;

	if (!mode_ok(mode)) {
		act_fail(a, "bad file mode '%s'", mode);
		return 1;
	}
	if ((r = ssh_run(c, SSH_AS_ACCOUNT, acct, argv, data, len,
	    &res)) != 0)
		r = run_fail(a, "writing authorized_keys", r);
	else if (res.status != 0)
		r = status_fail(a, "writing authorized_keys", &res);
	ssh_res_free(&res);
	return r;
}

static int
ak_remove(struct sconn *c, struct act *a, const char *acct,
    const char *path)
{
	const char	*argv[] = { "rm", "-f", "--", path, NULL };

	return must(c, a, SSH_AS_ACCOUNT, acct, argv);
}

/*
 * Common to check, apply (guarded: both refuse system accounts) and
 * verify: account, passwd entry, path.
 */
static int
ak_where(struct sconn *c, struct act *a, int guard, const char **ret_acct,
    char *path, size_t len)
{
	struct pwent	 pw;
	const char	*acct;
	int		 r;

	if (guard)
		acct = account_of(c, a);
	else if ((acct = act_param(a, "account")) == NULL ||
	    !ssh_account_ok(acct)) {
		act_fail(a, "invalid account");
		acct = NULL;
	}
	if (acct == NULL)
		return 1;
	if ((r = pw_lookup(c, a, acct, &pw)) != 0 ||
	    (guard && (r = sys_guard(c, a, acct, pw.uid)) != 0) ||
	    (r = ak_path(a, &pw, path, len)) != 0)
		return r;
	*ret_acct = acct;
	return 0;
}

static json_t *
ak_state(const char *acct, const char *path, const struct akfile *f)
{
	char	*b = ssh_b64_encode(f->data, f->len);
	char	 h[HASH_HEX_LEN + 1];
	json_t	*o;

	sha256_hex(f->data, f->len, h);
	o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:o}", "account", acct,
	    "path", path, "exists", f->exists, "mode", f->mode,
	    "content_b64", b, "sha256", h, "keys",
	    ssh_akeys_fps(f->data, f->len));
	free(b);
	return o;
}

/* 1 when the file is exactly as st describes (exists, mode, bytes). */
static int
ak_same(const struct akfile *f, const json_t *st)
{
	const char	*m = json_string_value(json_object_get(st, "mode"));
	const char	*b = json_string_value(json_object_get(st,
	    "content_b64"));
	char		*d = NULL;
	size_t		 n = 0;
	int		 same;

	if (json_is_true(json_object_get(st, "exists")) != f->exists)
		return 0;
	if (!f->exists)
		return 1;
	if (m == NULL || b == NULL || ssh_b64_decode(b, &d, &n) != 0)
		return 0;
	same = strcmp(m, f->mode) == 0 && n == f->len &&
	    memcmp(d, f->data, n) == 0;
	free(d);
	return same;
}

static int
ak_check_one(struct sconn *c, struct act *a)
{
	struct akfile	 f;
	enum ssh_keep_mode	 km;
	json_t		*keep = NULL, *keys, *v;
	const char	*acct;
	char		 path[SSH_HOME_MAX + 32];
	size_t		 i, dropped = 0;
	int		 r;

	memset(&f, 0, sizeof(f));
	if ((r = ak_where(c, a, 1, &acct, path, sizeof(path))) != 0 ||
	    (!a->restore && (r = ssh_keep_parse(a, &km, &keep)) != 0) ||
	    (r = ak_read(c, a, acct, path, &f)) != 0)
		goto out;
	json_decref(a->before);
	a->before = ak_state(acct, path, &f);
	keys = json_object_get(a->before, "keys");
	if (a->restore) {
		if (ak_same(&f, a->restore)) {
			set_change(a, NULL);
			a->outcome = ACT_NOCHANGE;
			goto out;
		} else if (json_is_true(json_object_get(a->restore,
		    "exists")))
			set_change(a, xasprintf("write back the previous "
			    "%s (%zu key(s), mode %s, sha256 %.16s)", path,
			    json_array_size(json_object_get(a->restore,
			    "keys")), json_string_value(json_object_get(
			    a->restore, "mode")), json_string_value(
			    json_object_get(a->restore, "sha256"))));
		else
			set_change(a, xasprintf("remove %s (it did not exist "
			    "before)", path));
		goto ok;
	}
	json_array_foreach(keep, i, v)
		if (!ssh_akeys_has(keys, json_string_value(v))) {
			act_fail(a, "keep lists %s, which is not in %s",
			    json_string_value(v), path);
			r = 1;
			goto out;
		}
	json_array_foreach(keys, i, v)
		dropped += !ssh_akeys_has(keep, json_string_value(v));
	if (km == SSH_KEEP_NONE) {
		if (json_array_size(keys) == 0 && f.len == 0) {
			set_change(a, NULL);
			a->outcome = ACT_NOCHANGE;
			goto out;
		}
		set_change(a, xasprintf("empty %s (remove all %zu key(s)) "
		    "of '%s' on %s", path, json_array_size(keys), acct,
		    c->host));
	} else
		set_change(a, xasprintf("add a new ed25519 key to %s, prove "
		    "it logs in as '%s', then keep only it%s (remove %zu "
		    "key(s)); the private key goes to the vault", path, acct,
		    km == SSH_KEEP_LIST ? " and the listed keys" : "", dropped));
ok:
	a->outcome = ACT_OK;
	r = 0;
out:
	json_decref(keep);
	akfile_free(&f);
	return r;
}

static int
ak_check(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, ak_check_one);
}

/* Logs in as acct with key through a new session: the proof. */
static int
ak_prove(struct sconn *c, const char *acct, ssh_key key, char *err,
    size_t errlen)
{
	ssh_session	s = NULL;
	int		r;

	r = ssh_session_new(c->t, acct, key, &s, err, errlen);
	ssh_session_end(s);
	return r;
}

static int
ak_rotate(struct sconn *c, struct act *a, const char *acct,
    const char *path, struct akfile *cur, enum ssh_keep_mode km,
    const json_t *keep)
{
	ssh_key	 k = NULL;
	char	*pem = NULL, *pub = NULL, *kept = NULL, *line = NULL;
	char	*d1 = NULL, kfp[128], sfp[24], err[512];
	size_t	 klen = 0, llen, n1;
	int	 r;

	if (km == SSH_KEEP_NONE) {
		r = ak_write(c, a, acct, path, cur->mode, "", 0);
		goto done;
	}
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k) != SSH_OK ||
	    ssh_pki_export_privkey_base64(k, NULL, NULL, NULL, &pem) !=
	    SSH_OK || ssh_pki_export_pubkey_base64(k, &pub) != SSH_OK ||
	    ssh_key_fp(k, kfp, sizeof(kfp)) != 0) {
		act_fail(a, "cannot generate an ed25519 key");
		r = 1;
		goto out;
	}
	/* Vault first: a key that logs in is never lost. */
	if ((r = vault_put(a->id, "private_key", pem, strlen(pem),
	    sfp)) != 0) {
		act_fail(a, "cannot store the new key in the vault: %s",
		    strerror(-r));
		r = 1;
		goto out;
	}
	line = xasprintf("ssh-ed25519 %s cordon-A%lld\n", pub,
	    (long long)a->id);
	llen = strlen(line);
	/* Make: the old file plus the new key. */
	n1 = cur->len + 1 + llen;
	d1 = xmalloc(n1 + 1);
	memcpy(d1, cur->data, cur->len);
	n1 = cur->len;
	if (n1 > 0 && d1[n1 - 1] != '\n')
		d1[n1++] = '\n';
	memcpy(d1 + n1, line, llen);
	n1 += llen;
	if ((r = ak_write(c, a, acct, path, cur->mode, d1, n1)) != 0)
		goto out;
	/* Prove: a new session logs in with the new key. */
	if (ak_prove(c, acct, k, err, sizeof(err)) != 0) {
		r = cur->exists ? ak_write(c, a, acct, path, cur->mode,
		    cur->data, cur->len) : ak_remove(c, a, acct, path);
		if (r < 0)
			goto out;
		act_fail(a, "the new key did not log in as '%s' (%s); "
		    "authorized_keys %s", acct, err, r == 0 ? "restored" :
		    "NOT restored");
		r = 1;
		goto out;
	}
	/* Break: only the kept keys and the new one. */
	kept = ssh_akeys_kept(cur->data, cur->len, keep, &klen);
	kept = xreallocarray(kept, klen + llen + 1, 1);
	memcpy(kept + klen, line, llen + 1);
	if ((r = ak_write(c, a, acct, path, cur->mode, kept,
	    klen + llen)) != 0)
		goto out;
	line[llen - 1] = '\0';
	json_decref(a->observed);
	a->observed = json_pack("{s:s,s:s,s:s,s:s}", "key_fp", kfp,
	    "private_key_fp", sfp, "vault_label", "private_key",
	    "public_key", line);
done:
	if (r == 0)
		a->outcome = ACT_OK;
out:
	if (pem) {
		explicit_bzero(pem, strlen(pem));
		ssh_string_free_char(pem);
	}
	ssh_string_free_char(pub);
	ssh_key_free(k);
	free(line);
	free(d1);
	free(kept);
	return r;
}

/* apply, and undo (a->restore: the exact previous bytes and mode). */
static int
ak_apply_one(struct sconn *c, struct act *a)
{
	struct akfile	 cur;
	enum ssh_keep_mode	 km;
	json_t		*keep = NULL;
	const char	*acct, *m, *b;
	char		 path[SSH_HOME_MAX + 32], *d = NULL;
	size_t		 n = 0;
	int		 r;

	memset(&cur, 0, sizeof(cur));
	if ((r = ak_where(c, a, 1, &acct, path, sizeof(path))) != 0)
		goto out;
	if (a->restore) {
		if (!json_is_true(json_object_get(a->restore, "exists"))) {
			r = ak_remove(c, a, acct, path);
		} else if ((m = json_string_value(json_object_get(a->restore,
		    "mode"))) == NULL || (b = json_string_value(
		    json_object_get(a->restore, "content_b64"))) == NULL ||
		    ssh_b64_decode(b, &d, &n) != 0) {
			act_fail(a, "bad state to restore");
			r = 1;
		} else
			r = ak_write(c, a, acct, path, m, d, n);
		if (r == 0)
			a->outcome = ACT_OK;
		goto out;
	}
	if ((r = ssh_keep_parse(a, &km, &keep)) != 0 ||
	    (r = ak_read(c, a, acct, path, &cur)) != 0)
		goto out;
	r = ak_rotate(c, a, acct, path, &cur, km, keep);
out:
	free(d);
	json_decref(keep);
	akfile_free(&cur);
	return r;
}

static int
ak_apply(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, ak_apply_one);
}

/* The new key from the vault logs in again. */
static int
ak_prove_vault(struct sconn *c, struct act *a, const char *acct)
{
	struct secret	*s = NULL;
	ssh_key		 k = NULL;
	char		 err[512];
	int		 r;

	if ((r = vault_get(a->id, "private_key", &s)) != 0) {
		act_fail(a, "read back: the new key is not in the vault: %s",
		    strerror(-r));
		return 1;
	}
	if (ssh_pki_import_privkey_base64(s->s, NULL, NULL, NULL, &k) !=
	    SSH_OK) {
		act_fail(a, "read back: the vault key does not load");
		r = 1;
	} else if (ak_prove(c, acct, k, err, sizeof(err)) != 0) {
		act_fail(a, "read back: the new key no longer logs in as "
		    "'%s': %s", acct, err);
		r = 1;
	}
	ssh_key_free(k);
	secret_free(s);
	return r;
}

static int
ak_verify_one(struct sconn *c, struct act *a)
{
	struct akfile	 f;
	enum ssh_keep_mode	 km;
	json_t		*keep = NULL, *keys, *v;
	const char	*acct, *nfp;
	char		 path[SSH_HOME_MAX + 32];
	size_t		 i;
	int		 r;

	memset(&f, 0, sizeof(f));
	if ((r = ak_where(c, a, 0, &acct, path, sizeof(path))) != 0 ||
	    (r = ak_read(c, a, acct, path, &f)) != 0)
		goto out;
	{
		json_t *st = ak_state(acct, path, &f);

		(void)json_object_del(st, "content_b64");
		(void)json_object_del(st, "account");
		observe(a, st);
	}
	keys = json_object_get(a->observed, "keys");
	if (a->restore) {
		if (!ak_same(&f, a->restore))
			act_fail(a, "read back: %s differs from the state to "
			    "restore", path);
		else
			a->outcome = ACT_OK;
		goto out;
	}
	if ((r = ssh_keep_parse(a, &km, &keep)) != 0)
		goto out;
	nfp = json_string_value(json_object_get(a->observed, "key_fp"));
	if (km == SSH_KEEP_NONE) {
		if (json_array_size(keys) != 0) {
			act_fail(a, "read back: %s still holds %zu key(s)",
			    path, json_array_size(keys));
			r = 1;
			goto out;
		}
		a->outcome = ACT_OK;
		goto out;
	}
	if (nfp == NULL || !ssh_akeys_has(keys, nfp)) {
		act_fail(a, "read back: the new key is not in %s", path);
		r = 1;
		goto out;
	}
	json_array_foreach(keys, i, v)
		if (strcmp(json_string_value(v), nfp) != 0 &&
		    !ssh_akeys_has(keep, json_string_value(v))) {
			act_fail(a, "read back: %s still holds %s", path,
			    json_string_value(v));
			r = 1;
			goto out;
		}
	if ((r = ak_prove_vault(c, a, acct)) != 0)
		goto out;
	a->outcome = ACT_OK;
out:
	json_decref(keep);
	akfile_free(&f);
	return r < 0 ? r : 0;
}

static int
ak_verify(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, ak_verify_one);
}

/* ---- target ----------------------------------------------------------- */

static const char *const ssh_keys[] = {
	"name", "type", "host", "port", "user", "key_file", "password_file",
	"known_hosts", "sudo", "password_length", "password_alphabet",
	"timeout", "chpasswd", "os", "allow_system_accounts",
};


/* An owner-only file, as ssh wants its keys; why on failure. */

static int
alphabet_ok(const char *s)
{
	size_t	n = strlen(s), i;

	if (n < 2 || n > 94)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ||
		    memchr(s + i + 1, s[i], n - i - 1) != NULL)
			return 0;
	return 1;
}

static int
ssh_target_check(const struct target *t, char *err, size_t errlen)
{
	const char	*key;
	json_t		*v;
	size_t		 i;
	int		 r;

	if ((r = ssh_win_os(t, err, errlen)) != 0)	/* os = "windows" */
		return r < 0 ? r : ssh_win_target_check(t, err, errlen);
	json_object_foreach(t->opts, key, v) {
		for (i = 0; i < ARRAY_SIZE(ssh_keys); i++)
			if (strcmp(key, ssh_keys[i]) == 0)
				break;
		if (i == ARRAY_SIZE(ssh_keys)) {
			(void)snprintf(err, errlen, "unknown setting '%s'",
			    key);
			return -EINVAL;
		}
	}
	if ((r = ssh_conn_check(t, 0, err, errlen)) != 0 ||
	    (r = ssh_opt_int_in(t, "password_length", SSH_PW_LEN_MIN,
	    SSH_PW_LEN_MAX, err, errlen)) != 0)
		return r;
	if ((v = json_object_get(t->opts, "password_alphabet")) &&
	    (!json_is_string(v) || !alphabet_ok(json_string_value(v)))) {
		(void)snprintf(err, errlen, "'password_alphabet' must be 2 to "
		    "94 distinct printable ASCII characters, no space");
		return -EINVAL;
	}
	if ((r = ssh_pw_policy_check(t, SSH_PW_LEN_DEFAULT, err,
	    errlen)) != 0)
		return r;
	if ((v = json_object_get(t->opts, "allow_system_accounts")) &&
	    !json_is_boolean(v)) {
		(void)snprintf(err, errlen, "'allow_system_accounts' must be "
		    "true or false");
		return -EINVAL;
	}
	if ((v = json_object_get(t->opts, "chpasswd")) && (!json_is_string(v)
	    || json_string_value(v)[0] != '/' ||
	    strlen(json_string_value(v)) > 255)) {
		(void)snprintf(err, errlen, "'chpasswd' must be an absolute "
		    "path");
		return -EINVAL;
	}
	return 0;
}

/* The Unix verbs; the driver runs them through ssh_win.c's dispatch. */
const struct verb ssh_verbs[] = {
	{
		.name = "rotate_password",
		.summary = "set a new random password (chpasswd on stdin)",
		.check = pw_check,
		.apply = pw_apply,
		.verify = pw_verify,
		.undo = NULL,
		.required_params = { "account", NULL },
	},
	{
		.name = "lock_account",
		.summary = "lock the password and expire the account",
		.check = lock_check,
		.apply = lock_apply,
		.verify = lock_verify,
		.undo = lock_apply,
		.required_params = { "account", NULL },
	},
	{
		.name = "end_sessions",
		.summary = "end every session and process of an account",
		.check = es_check,
		.apply = es_apply,
		.verify = es_verify,
		.undo = NULL,
		.required_params = { "account", NULL },
	},
	{
		.name = "rotate_authorized_keys",
		.summary = "replace authorized_keys with a new proven key",
		.arg_check = ssh_keep_arg_check,
		.check = ak_check,
		.apply = ak_apply,
		.verify = ak_verify,
		.undo = ak_apply,
		.required_params = { "account", NULL },
	},
	{ .name = NULL },
};

const struct driver ssh_driver = {
	.name = "ssh",
	.verbs = ssh_os_verbs,		/* ssh_win.c: by the target's os */
	.target_check = ssh_target_check,
	.open = ssh_conn_vopen,
	.close = ssh_conn_vclose,
	.parallel = 1,
};
