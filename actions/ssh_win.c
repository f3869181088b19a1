/*
 * ssh_win: the ssh driver's verbs on Windows OpenSSH hosts, through
 * PowerShell scripts passed as -EncodedCommand (ssh_win.h).
 *
 * The scripts are fixed text (ssh_win_ps.c); the only runbook value in
 * them is the account name, as a single-quoted literal.  Their output is
 * key=value lines of our own making (never a value echoed back), and
 * errors are caught in the script and written as one plain line to
 * stderr, so PowerShell's CLIXML error stream never reaches a message.
 *
 * Per-act helpers return 0, 1 when they failed the act (act_fail), or
 * -errno when the session broke, as in ssh.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libssh/libssh.h>

#include "../agent/hash.h"
#include "../agent/log.h"
#include "../agent/vault.h"
#include "ssh_akeys.h"
#include "ssh_conn.h"
#include "ssh_win.h"

#define WIN_PW_LEN_DEFAULT	24
#define WIN_PW_LEN_MIN		12
#define WIN_PW_LEN_MAX		127		/* local accounts */
#define WIN_VAL_MAX		256		/* one key=value line's value */
#define WIN_ERRLINE		160
#define SID_ADMINS		"S-1-5-32-544"
#define SID_SYSTEM		"S-1-5-18"

/* The Unix verbs (ssh.c). */
extern const struct verb	ssh_verbs[];

/* ---- running a script ------------------------------------------------- */

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
	char	line[WIN_ERRLINE];

	ssh_res_errline(res, line, sizeof(line));
	act_fail(a, "%s exited %d%s%s", what, res->status, *line ? ": " : "",
	    line);
	return 1;
}

/*
 * Runs the script *textp (made by a generator that returned sr; freed
 * here: a pointer, so it is read after the generator ran) with stdin in;
 * res filled (free it after, also on failure).  0, 1 (act failed), or
 * -errno.
 */
static int
win_run(struct sconn *c, struct act *a, const char *what, int sr,
    char **textp, const void *in, size_t inlen, struct ssh_res *res)
{
	char	*cmd = NULL, *text = *textp;
	int	 r;

	*textp = NULL;
	buf_init(&res->out, SSH_OUT_MAX);
	buf_init(&res->err, SSH_OUT_MAX);
	res->status = -1;
	if (sr != 0 || (r = ssh_win_cmdline(text, &cmd)) != 0) {
		r = run_fail(a, what, sr != 0 ? sr : r);
		goto out;
	}
	if ((r = ssh_run_line(c, cmd, in, inlen, res)) != 0)
		r = run_fail(a, what, r);
out:
	free(cmd);
	free(text);
	return r;
}

/* The value of "key=" in the output (CRLF tolerated); 0, or -1. */
static int
kv(const struct ssh_res *res, const char *key, char *out, size_t len)
{
	const char	*p = res->out.p, *e;
	size_t		 kl = strlen(key), n;

	for (; p && *p; p = *e ? e + 1 : e) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			if (n - kl - 1 >= len)
				return -1;
			memcpy(out, p + kl + 1, n - kl - 1);
			out[n - kl - 1] = '\0';
			return 0;
		}
		if (n == kl + 1 && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			out[0] = '\0';
			return 0;
		}
	}
	return -1;
}

/* ---- accounts --------------------------------------------------------- */

static const char *
account_of(struct sconn *c, struct act *a)
{
	const struct customer	*cu = a->customer;
	const char		*acct = act_param(a, "account");
	size_t			 i;

	if (acct == NULL || !ssh_win_account_ok(acct)) {
		act_fail(a, "'account' must be a Windows local account name "
		    "(at most %d characters, none of \"/\\[]:;|=,+*?<>)",
		    SSH_WIN_ACCOUNT_MAX);
		return NULL;
	}
	/* Windows compares account names without case. */
	if (strcasecmp(acct, c->user) == 0) {
		act_fail(a, "'%s' is cordon's own login on this host", acct);
		a->outcome = ACT_REFUSED;
		return NULL;
	}
	for (i = 0; cu && i < cu->nprotected; i++)
		if (strcasecmp(cu->protected[i], acct) == 0) {
			act_fail(a, "'%s' is a protected account", acct);
			a->outcome = ACT_REFUSED;
			return NULL;
		}
	return acct;
}

static int
sid_is_admin500(const char *sid)
{
	size_t	n = strlen(sid);

	return n > 4 && strcmp(sid + n - 4, "-500") == 0;
}

struct wuser {
	int	enabled;
	char	sid[WIN_VAL_MAX];
	char	pwlastset[WIN_VAL_MAX];
};

/* 0 read, 1 act failed (no such account, odd output), <0 broken. */
static int
user_read(struct sconn *c, struct act *a, const char *acct, struct wuser *u)
{
	struct ssh_res	 res;
	char		*text = NULL, en[16];
	int		 r;

	r = win_run(c, a, "Get-LocalUser", ssh_win_script_user_read(acct,
	    &text), &text, NULL, 0, &res);
	if (r != 0)
		goto out;
	if (res.status == 2) {
		act_fail(a, "no local account '%s' on %s", acct, c->host);
		r = 1;
		goto out;
	}
	if (res.status != 0) {
		r = status_fail(a, "Get-LocalUser", &res);
		goto out;
	}
	if (kv(&res, "enabled", en, sizeof(en)) != 0 ||
	    (strcmp(en, "True") != 0 && strcmp(en, "False") != 0) ||
	    kv(&res, "sid", u->sid, sizeof(u->sid)) != 0 ||
	    strncmp(u->sid, "S-1-", 4) != 0 ||
	    kv(&res, "pwlastset", u->pwlastset, sizeof(u->pwlastset)) != 0) {
		act_fail(a, "unexpected Get-LocalUser output for '%s'", acct);
		r = 1;
		goto out;
	}
	u->enabled = strcmp(en, "True") == 0;
	/* The built-in Administrator (RID 500), whatever it was renamed. */
	if (sid_is_admin500(u->sid) && !json_is_true(json_object_get(
	    c->t->opts, "allow_system_accounts"))) {
		act_fail(a, "'%s' is the built-in Administrator on %s (%s): "
		    "set allow_system_accounts = true on the target to act "
		    "on it", acct, c->host, u->sid);
		a->outcome = ACT_REFUSED;
		r = 1;
		goto out;
	}
	r = 0;
out:
	ssh_res_free(&res);
	return r;
}

static void
set_change(struct act *a, char *s)
{
	free(a->change);
	a->change = s;
}

static void
observe(struct act *a, json_t *o)
{
	if (a->observed)
		(void)json_object_update_missing(o, a->observed);
	json_decref(a->observed);
	a->observed = o;
}

/* ---- rotate_password -------------------------------------------------- */

static int
pw_check_one(struct sconn *c, struct act *a)
{
	struct wuser	 u;
	const char	*acct;
	int		 r;

	if ((acct = account_of(c, a)) == NULL)
		return 1;
	if ((r = user_read(c, a, acct, &u)) != 0)
		return r;
	json_decref(a->before);
	a->before = json_pack("{s:s,s:s,s:b,s:s}", "account", acct, "sid",
	    u.sid, "enabled", u.enabled, "password_last_set", u.pwlastset);
	set_change(a, xasprintf("set a new random password (%ld characters) "
	    "for Windows account '%s' on %s with Set-LocalUser "
	    "(irreversible; the password goes to the vault)",
	    ssh_opt_int(c->t, "password_length", WIN_PW_LEN_DEFAULT), acct,
	    c->host));
	a->outcome = ACT_OK;
	return 0;
}

static int
pw_apply_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	struct secret	*pw = NULL;
	struct ssh_res	 res;
	char		 fp[24], *in = NULL, *text = NULL;
	size_t		 inlen = 0;
	int		 r;

	memset(&res, 0, sizeof(res));
	if (acct == NULL || !ssh_win_account_ok(acct)) {
		act_fail(a, "invalid account");
		return 1;
	}
	if ((r = secret_random((size_t)ssh_opt_int(c->t, "password_length",
	    WIN_PW_LEN_DEFAULT), ssh_opt_str(c->t, "password_alphabet"),
	    &pw)) != 0) {
		act_fail(a, "cannot generate a password: %s", strerror(-r));
		return 1;
	}
	/* Vault first: if we die after Set-LocalUser, the password is kept. */
	if ((r = vault_put(a->id, "password", pw->s, pw->len, fp)) != 0) {
		act_fail(a, "cannot store the new password in the vault: %s",
		    strerror(-r));
		r = 1;
		goto out;
	}
	inlen = pw->len + 1;
	in = xmalloc(inlen);
	memcpy(in, pw->s, pw->len);
	in[pw->len] = '\n';
	if ((r = win_run(c, a, "Set-LocalUser", ssh_win_script_set_password(
	    acct, &text), &text, in, inlen, &res)) != 0)
		goto out;
	if (res.status != 0) {
		if (memmem(res.err.p, res.err.len, pw->s, pw->len) ||
		    memmem(res.out.p, res.out.len, pw->s, pw->len))
			act_fail(a, "Set-LocalUser exited %d (output withheld: "
			    "it contains the password)", res.status);
		else
			(void)status_fail(a, "Set-LocalUser", &res);
		r = 1;
		goto out;
	}
	json_decref(a->observed);
	a->observed = json_pack("{s:s,s:s}", "password_fp", fp,
	    "vault_label", "password");
	a->outcome = ACT_OK;
	r = 0;
out:
	if (in) {
		explicit_bzero(in, inlen);
		free(in);
	}
	ssh_res_free(&res);
	secret_free(pw);
	return r;
}

static int
pw_verify_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	const char	*old = json_string_value(json_object_get(a->before,
	    "password_last_set"));
	struct wuser	 u;
	int		 r;

	if ((r = user_read(c, a, acct, &u)) != 0)
		return r;
	observe(a, json_pack("{s:s,s:b}", "password_last_set", u.pwlastset,
	    "enabled", u.enabled));
	if (u.pwlastset[0] == '\0' || (old != NULL &&
	    strcmp(old, u.pwlastset) == 0))
		act_fail(a, "read back: the password of '%s' was not set "
		    "(PasswordLastSet unchanged)", acct);
	else
		a->outcome = ACT_OK;
	return 0;
}

/* ---- lock_account ----------------------------------------------------- */

/* The Enabled state wanted: disabled, or what check saw (undo). */
static int
lock_want_enabled(const struct act *a)
{
	return a->restore ? json_is_true(json_object_get(a->restore,
	    "enabled")) : 0;
}

static int
lock_check_one(struct sconn *c, struct act *a)
{
	struct wuser	 u;
	const char	*acct;
	int		 want, r;

	if ((acct = account_of(c, a)) == NULL)
		return 1;
	if ((r = user_read(c, a, acct, &u)) != 0)
		return r;
	json_decref(a->before);
	a->before = json_pack("{s:s,s:s,s:b}", "account", acct, "sid", u.sid,
	    "enabled", u.enabled);
	want = lock_want_enabled(a);
	if (u.enabled == want) {
		set_change(a, NULL);
		a->outcome = ACT_NOCHANGE;
		return 0;
	}
	set_change(a, xasprintf("%s Windows account '%s' on %s (now %s)",
	    want ? "Enable-LocalUser:" : "Disable-LocalUser:", acct, c->host,
	    u.enabled ? "enabled" : "disabled"));
	a->outcome = ACT_OK;
	return 0;
}

/* apply, and undo (a->restore). */
static int
lock_apply_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	struct ssh_res	 res;
	struct wuser	 u;
	char		*text = NULL;
	int		 want = lock_want_enabled(a), r;

	if (acct == NULL || !ssh_win_account_ok(acct)) {
		act_fail(a, "invalid account");
		return 1;
	}
	if ((r = user_read(c, a, acct, &u)) != 0)
		return r;
	if (u.enabled != want) {
		r = win_run(c, a, want ? "Enable-LocalUser" :
		    "Disable-LocalUser", ssh_win_script_set_enabled(acct, want,
		    &text), &text, NULL, 0, &res);
		if (r == 0 && res.status != 0)
			r = status_fail(a, want ? "Enable-LocalUser" :
			    "Disable-LocalUser", &res);
		ssh_res_free(&res);
		if (r != 0)
			return r;
	}
	a->outcome = ACT_OK;
	return 0;
}

static int
lock_verify_one(struct sconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	struct wuser	 u;
	int		 want = lock_want_enabled(a), r;

	if ((r = user_read(c, a, acct, &u)) != 0)
		return r;
	observe(a, json_pack("{s:b}", "enabled", u.enabled));
	if (u.enabled != want)
		act_fail(a, "read back: '%s' is %s", acct, u.enabled ?
		    "enabled" : "disabled");
	else
		a->outcome = ACT_OK;
	return 0;
}

/* ---- rotate_authorized_keys (administrators) -------------------------- */

struct wak {
	int	 admin;
	int	 exists;
	int	 acl_exact;		/* protected; only Admins and SYSTEM */
	char	*data;
	size_t	 len;
	json_t	*aces;			/* ["SID Allow", ...] */
};

static void
wak_free(struct wak *f)
{
	free(f->data);
	json_decref(f->aces);
	memset(f, 0, sizeof(*f));
}

static int
ak_read(struct sconn *c, struct act *a, const char *acct, struct wak *f)
{
	struct ssh_res	 res;
	const char	*p, *e;
	char		*text = NULL, adm[16], ex[16];
	int		 prot = 0, others = 0, r;

	memset(f, 0, sizeof(*f));
	f->aces = json_array();
	r = win_run(c, a, "reading " SSH_WIN_AK_PATH, ssh_win_script_ak_read(
	    acct, &text), &text, NULL, 0, &res);
	if (r != 0)
		goto out;
	if (res.status == 2) {
		act_fail(a, "no local account '%s' on %s", acct, c->host);
		r = 1;
		goto out;
	}
	if (res.status != 0) {
		r = status_fail(a, "reading administrators_authorized_keys",
		    &res);
		goto out;
	}
	if (kv(&res, "admin", adm, sizeof(adm)) != 0 ||
	    kv(&res, "exists", ex, sizeof(ex)) != 0) {
		act_fail(a, "unexpected output reading %s", SSH_WIN_AK_PATH);
		r = 1;
		goto out;
	}
	f->admin = strcmp(adm, "True") == 0;
	f->exists = strcmp(ex, "True") == 0;
	for (p = res.out.p; f->exists && *p; p = *e ? e + 1 : e) {
		size_t n;

		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 4 && strncmp(p, "ace=", 4) == 0) {
			(void)json_array_append_new(f->aces,
			    json_stringn(p + 4, n - 4));
			others |= !((n - 4 == strlen(SID_ADMINS " Allow") &&
			    strncmp(p + 4, SID_ADMINS " Allow", n - 4) == 0) ||
			    (n - 4 == strlen(SID_SYSTEM " Allow") &&
			    strncmp(p + 4, SID_SYSTEM " Allow", n - 4) == 0));
		} else if (n == 14 && strncmp(p, "protected=True", 14) == 0)
			prot = 1;
		else if (n >= 4 && strncmp(p, "b64=", 4) == 0) {
			char *b = xstrndup(p + 4, n - 4);

			if (ssh_b64_decode(b, &f->data, &f->len) != 0) {
				free(b);
				act_fail(a, "unreadable content of %s",
				    SSH_WIN_AK_PATH);
				r = 1;
				goto out;
			}
			free(b);
		}
	}
	if (f->exists && f->data == NULL) {
		act_fail(a, "no content read from %s", SSH_WIN_AK_PATH);
		r = 1;
		goto out;
	}
	if (f->data == NULL)
		f->data = xstrdup("");
	f->acl_exact = prot && !others && json_array_size(f->aces) > 0;
	r = 0;
out:
	ssh_res_free(&res);
	return r;
}

/* Writes data (or removes the file when data is NULL). */
static int
ak_write(struct sconn *c, struct act *a, const char *data, size_t len)
{
	struct ssh_res	 res;
	char		*text = NULL, *b = NULL, *in = NULL;
	int		 r;

	if (data == NULL)
		r = win_run(c, a, "removing " SSH_WIN_AK_PATH,
		    ssh_win_script_ak_remove(&text), &text, NULL, 0, &res);
	else {
		b = ssh_b64_encode(data, len);
		in = xasprintf("%s\n", b);
		r = win_run(c, a, "writing " SSH_WIN_AK_PATH,
		    ssh_win_script_ak_write(&text), &text, in, strlen(in),
		    &res);
	}
	if (r == 0 && res.status != 0)
		r = status_fail(a, "writing administrators_authorized_keys",
		    &res);
	ssh_res_free(&res);
	free(b);
	free(in);
	return r;
}

static json_t *
ak_state(const char *acct, const struct wak *f)
{
	char	*b = ssh_b64_encode(f->data, f->len);
	char	 h[HASH_HEX_LEN + 1];
	json_t	*o;

	sha256_hex(f->data, f->len, h);
	o = json_pack("{s:s,s:s,s:b,s:s,s:s,s:o,s:O,s:b}", "account", acct,
	    "path", SSH_WIN_AK_PATH, "exists", f->exists, "content_b64", b,
	    "sha256", h, "keys", ssh_akeys_fps(f->data, f->len), "acl",
	    f->aces, "acl_exact", f->acl_exact);
	free(b);
	return o;
}

static int
ak_same(const struct wak *f, const json_t *st)
{
	const char	*b = json_string_value(json_object_get(st,
	    "content_b64"));
	char		*d = NULL;
	size_t		 n = 0;
	int		 same;

	if (json_is_true(json_object_get(st, "exists")) != f->exists)
		return 0;
	if (!f->exists)
		return 1;
	if (b == NULL || ssh_b64_decode(b, &d, &n) != 0)
		return 0;
	same = n == f->len && memcmp(d, f->data, n) == 0;
	free(d);
	return same;
}

/* The fingerprint of cordon's own login key, "" if it logs in otherwise. */
static void
own_key_fp(const struct sconn *c, char *out, size_t len)
{
	const char	*kf = ssh_opt_str(c->t, "key_file");
	ssh_key		 k = NULL;

	out[0] = '\0';
	if (kf != NULL && ssh_pki_import_privkey_file(kf, NULL, NULL, NULL,
	    &k) == SSH_OK && ssh_key_fp(k, out, len) != 0)
		out[0] = '\0';
	ssh_key_free(k);
}

static int
ak_check_one(struct sconn *c, struct act *a)
{
	struct wak	 f;
	enum ssh_keep_mode km = SSH_KEEP_NEW;
	json_t		*keep = NULL, *keys, *v;
	const char	*acct;
	char		 own[128];
	size_t		 i, dropped = 0;
	int		 r;

	memset(&f, 0, sizeof(f));
	if ((acct = account_of(c, a)) == NULL)
		return 1;
	if ((!a->restore && (r = ssh_keep_parse(a, &km, &keep)) != 0) ||
	    (r = ak_read(c, a, acct, &f)) != 0)
		goto out;
	if (!f.admin) {
		act_fail(a, "'%s' is not in Administrators: on Windows only "
		    "administrators_authorized_keys is managed", acct);
		r = 1;
		goto out;
	}
	json_decref(a->before);
	a->before = ak_state(acct, &f);
	keys = json_object_get(a->before, "keys");
	if (a->restore) {
		if (ak_same(&f, a->restore) && f.acl_exact) {
			set_change(a, NULL);
			a->outcome = ACT_NOCHANGE;
		} else {
			set_change(a, xasprintf("write back the previous %s "
			    "(%zu key(s))", SSH_WIN_AK_PATH, json_array_size(
			    json_object_get(a->restore, "keys"))));
			a->outcome = ACT_OK;
		}
		r = 0;
		goto out;
	}
	json_array_foreach(keep, i, v)
		if (!ssh_akeys_has(keys, json_string_value(v))) {
			act_fail(a, "keep lists %s, which is not in %s",
			    json_string_value(v), SSH_WIN_AK_PATH);
			r = 1;
			goto out;
		}
	/* The file is every administrator's, cordon's login included. */
	own_key_fp(c, own, sizeof(own));
	if (*own && ssh_akeys_has(keys, own) && !ssh_akeys_has(keep, own)) {
		act_fail(a, "keep would remove cordon's own login key %s from "
		    "%s; list it in keep", own, SSH_WIN_AK_PATH);
		r = 1;
		goto out;
	}
	json_array_foreach(keys, i, v)
		dropped += !ssh_akeys_has(keep, json_string_value(v));
	set_change(a, km == SSH_KEEP_NONE ? xasprintf("empty %s (remove all "
	    "%zu key(s); the file is shared by every administrator) on %s",
	    SSH_WIN_AK_PATH, json_array_size(keys), c->host) :
	    xasprintf("add a new ed25519 key to %s, prove it logs in as "
	    "'%s', then keep only it%s (remove %zu key(s); the file is "
	    "shared by every administrator); ACL: Administrators and SYSTEM "
	    "only; the private key goes to the vault", SSH_WIN_AK_PATH, acct,
	    km == SSH_KEEP_LIST ? " and the listed keys" : "", dropped));
	a->outcome = ACT_OK;
	r = 0;
out:
	json_decref(keep);
	wak_free(&f);
	return r;
}

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
    const struct wak *cur, enum ssh_keep_mode km, const json_t *keep)
{
	ssh_key	 k = NULL;
	char	*pem = NULL, *pub = NULL, *kept = NULL, *line = NULL;
	char	*d1 = NULL, kfp[128], sfp[24], err[512];
	size_t	 klen = 0, llen, n1;
	int	 r;

	if (km == SSH_KEEP_NONE) {
		if ((r = ak_write(c, a, "", 0)) == 0)
			a->outcome = ACT_OK;
		goto out;
	}
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k) != SSH_OK ||
	    ssh_pki_export_privkey_base64(k, NULL, NULL, NULL, &pem) !=
	    SSH_OK || ssh_pki_export_pubkey_base64(k, &pub) != SSH_OK ||
	    ssh_key_fp(k, kfp, sizeof(kfp)) != 0) {
		act_fail(a, "cannot generate an ed25519 key");
		r = 1;
		goto out;
	}
	if ((r = vault_put(a->id, "private_key", pem, strlen(pem),
	    sfp)) != 0) {
		act_fail(a, "cannot store the new key in the vault: %s",
		    strerror(-r));
		r = 1;
		goto out;
	}
	/* CRLF would do too; sshd for Windows reads LF files. */
	line = xasprintf("ssh-ed25519 %s cordon-A%lld\n", pub,
	    (long long)a->id);
	llen = strlen(line);
	d1 = xmalloc(cur->len + 1 + llen + 1);
	memcpy(d1, cur->data, cur->len);
	n1 = cur->len;
	if (n1 > 0 && d1[n1 - 1] != '\n')
		d1[n1++] = '\n';
	memcpy(d1 + n1, line, llen);
	n1 += llen;
	if ((r = ak_write(c, a, d1, n1)) != 0)
		goto out;
	if (ak_prove(c, acct, k, err, sizeof(err)) != 0) {
		r = ak_write(c, a, cur->exists ? cur->data : NULL, cur->len);
		if (r < 0)
			goto out;
		act_fail(a, "the new key did not log in as '%s' (%s); %s %s",
		    acct, err, SSH_WIN_AK_PATH, r == 0 ? "restored" :
		    "NOT restored");
		r = 1;
		goto out;
	}
	kept = ssh_akeys_kept(cur->data, cur->len, keep, &klen);
	kept = xreallocarray(kept, klen + llen + 1, 1);
	memcpy(kept + klen, line, llen + 1);
	if ((r = ak_write(c, a, kept, klen + llen)) != 0)
		goto out;
	line[llen - 1] = '\0';
	json_decref(a->observed);
	a->observed = json_pack("{s:s,s:s,s:s,s:s}", "key_fp", kfp,
	    "private_key_fp", sfp, "vault_label", "private_key",
	    "public_key", line);
	a->outcome = ACT_OK;
	r = 0;
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

static int
ak_apply_one(struct sconn *c, struct act *a)
{
	struct wak	 cur;
	enum ssh_keep_mode km;
	json_t		*keep = NULL;
	const char	*acct = act_param(a, "account"), *b;
	char		*d = NULL;
	size_t		 n = 0;
	int		 r;

	memset(&cur, 0, sizeof(cur));
	if (acct == NULL || !ssh_win_account_ok(acct)) {
		act_fail(a, "invalid account");
		return 1;
	}
	if (a->restore) {
		if (!json_is_true(json_object_get(a->restore, "exists")))
			r = ak_write(c, a, NULL, 0);
		else if ((b = json_string_value(json_object_get(a->restore,
		    "content_b64"))) == NULL || ssh_b64_decode(b, &d,
		    &n) != 0) {
			act_fail(a, "bad state to restore");
			r = 1;
		} else
			r = ak_write(c, a, d, n);
		if (r == 0)
			a->outcome = ACT_OK;
		goto out;
	}
	if ((r = ssh_keep_parse(a, &km, &keep)) != 0 ||
	    (r = ak_read(c, a, acct, &cur)) != 0)
		goto out;
	r = ak_rotate(c, a, acct, &cur, km, keep);
out:
	free(d);
	json_decref(keep);
	wak_free(&cur);
	return r;
}

static int
ak_verify_one(struct sconn *c, struct act *a)
{
	struct wak	 f;
	struct secret	*s = NULL;
	enum ssh_keep_mode km;
	ssh_key		 k = NULL;
	json_t		*keep = NULL, *keys, *v, *st;
	const char	*acct = act_param(a, "account"), *nfp;
	char		 err[512];
	size_t		 i;
	int		 r;

	memset(&f, 0, sizeof(f));
	if ((r = ak_read(c, a, acct, &f)) != 0)
		goto out;
	st = ak_state(acct, &f);
	(void)json_object_del(st, "content_b64");
	(void)json_object_del(st, "account");
	observe(a, st);
	keys = json_object_get(a->observed, "keys");
	r = 1;
	if (f.exists && !f.acl_exact) {
		act_fail(a, "read back: the ACL of %s grants more than "
		    "Administrators and SYSTEM (sshd ignores such a file)",
		    SSH_WIN_AK_PATH);
		goto out;
	}
	if (a->restore) {
		if (!ak_same(&f, a->restore))
			act_fail(a, "read back: %s differs from the state to "
			    "restore", SSH_WIN_AK_PATH);
		else
			a->outcome = ACT_OK;
		r = 0;
		goto out;
	}
	if ((r = ssh_keep_parse(a, &km, &keep)) != 0)
		goto out;
	r = 1;
	nfp = json_string_value(json_object_get(a->observed, "key_fp"));
	if (km == SSH_KEEP_NONE) {
		if (json_array_size(keys) != 0)
			act_fail(a, "read back: %s still holds %zu key(s)",
			    SSH_WIN_AK_PATH, json_array_size(keys));
		else
			a->outcome = ACT_OK;
		r = 0;
		goto out;
	}
	if (nfp == NULL || !ssh_akeys_has(keys, nfp)) {
		act_fail(a, "read back: the new key is not in %s",
		    SSH_WIN_AK_PATH);
		goto out;
	}
	json_array_foreach(keys, i, v)
		if (strcmp(json_string_value(v), nfp) != 0 &&
		    !ssh_akeys_has(keep, json_string_value(v))) {
			act_fail(a, "read back: %s still holds %s",
			    SSH_WIN_AK_PATH, json_string_value(v));
			goto out;
		}
	if (vault_get(a->id, "private_key", &s) != 0 ||
	    ssh_pki_import_privkey_base64(s->s, NULL, NULL, NULL, &k) !=
	    SSH_OK) {
		act_fail(a, "read back: the new key is not in the vault");
		goto out;
	}
	if (ak_prove(c, acct, k, err, sizeof(err)) != 0) {
		act_fail(a, "read back: the new key no longer logs in as "
		    "'%s': %s", acct, err);
		goto out;
	}
	a->outcome = ACT_OK;
	r = 0;
out:
	ssh_key_free(k);
	secret_free(s);
	json_decref(keep);
	wak_free(&f);
	return r < 0 ? r : 0;
}

/* ---- dispatch --------------------------------------------------------- */

struct win_verb {
	const char	*name;
	ssh_one_fn	 check, apply, verify, undo;
};

static const struct win_verb win_verbs[] = {
	{ "rotate_password", pw_check_one, pw_apply_one, pw_verify_one,
	    NULL },
	{ "lock_account", lock_check_one, lock_apply_one, lock_verify_one,
	    lock_apply_one },
	{ "rotate_authorized_keys", ak_check_one, ak_apply_one,
	    ak_verify_one, ak_apply_one },
};

enum { PH_CHECK, PH_APPLY, PH_VERIFY, PH_UNDO };

/*
 * A batch has one target and one verb (the executor groups them so):
 * Windows targets get the verbs above, the others ssh.c's.
 */
static int
os_phase(void *conn, struct act **v, size_t n, int ph)
{
	struct sconn		*c = conn;
	const struct verb	*uv;
	const char		*name;
	verb_fn			 fn;
	ssh_one_fn		 wf = NULL;
	size_t			 i;

	if (n == 0 || (name = strchr(v[0]->verb, '.')) == NULL)
		return 0;
	name++;
	if (ssh_win_os(c->t, NULL, 0) != 1) {
		for (uv = ssh_verbs; uv->name; uv++)
			if (strcmp(uv->name, name) == 0)
				break;
		fn = uv->name == NULL ? NULL : ph == PH_CHECK ? uv->check :
		    ph == PH_APPLY ? uv->apply : ph == PH_VERIFY ? uv->verify :
		    uv->undo;
		if (fn == NULL)
			return -EINVAL;
		return fn(conn, v, n);
	}
	for (i = 0; i < ARRAY_SIZE(win_verbs); i++)
		if (strcmp(win_verbs[i].name, name) == 0)
			wf = ph == PH_CHECK ? win_verbs[i].check :
			    ph == PH_APPLY ? win_verbs[i].apply :
			    ph == PH_VERIFY ? win_verbs[i].verify :
			    win_verbs[i].undo;
	if (wf == NULL) {
		for (i = 0; i < n; i++)
			act_fail(v[i], "ssh.%s is not available on Windows "
			    "targets", name);
		return 0;
	}
	return ssh_each(conn, v, n, wf);
}

static int
os_check(void *conn, struct act **v, size_t n)
{
	return os_phase(conn, v, n, PH_CHECK);
}

static int
os_apply(void *conn, struct act **v, size_t n)
{
	return os_phase(conn, v, n, PH_APPLY);
}

static int
os_verify(void *conn, struct act **v, size_t n)
{
	return os_phase(conn, v, n, PH_VERIFY);
}

static int
os_undo(void *conn, struct act **v, size_t n)
{
	return os_phase(conn, v, n, PH_UNDO);
}

/* ssh.c's table with every phase routed by os; test_ssh_win checks. */
const struct verb ssh_os_verbs[] = {
	{
		.name = "rotate_password",
		.summary = "set a new random password (chpasswd on stdin)",
		.check = os_check,
		.apply = os_apply,
		.verify = os_verify,
		.undo = NULL,
		.required_params = { "account", NULL },
	},
	{
		.name = "lock_account",
		.summary = "lock the password and expire the account",
		.check = os_check,
		.apply = os_apply,
		.verify = os_verify,
		.undo = os_undo,
		.required_params = { "account", NULL },
	},
	{
		.name = "end_sessions",
		.summary = "end every session and process of an account",
		.check = os_check,
		.apply = os_apply,
		.verify = os_verify,
		.undo = NULL,
		.required_params = { "account", NULL },
	},
	{
		.name = "rotate_authorized_keys",
		.summary = "replace authorized_keys with a new proven key",
		.arg_check = ssh_keep_arg_check,
		.check = os_check,
		.apply = os_apply,
		.verify = os_verify,
		.undo = os_undo,
		.required_params = { "account", NULL },
	},
	{ .name = NULL },
};

/* ---- target ----------------------------------------------------------- */

int
ssh_win_os(const struct target *t, char *err, size_t errlen)
{
	json_t		*v = json_object_get(t->opts, "os");
	const char	*s = json_string_value(v);

	if (v == NULL || (s && strcmp(s, "linux") == 0))
		return 0;
	if (s && strcmp(s, "windows") == 0)
		return 1;
	if (err != NULL)
		(void)snprintf(err, errlen, "'os' must be \"linux\" or "
		    "\"windows\"");
	return -EINVAL;
}

static const char *const win_keys[] = {
	"name", "type", "host", "port", "user", "key_file", "password_file",
	"known_hosts", "timeout", "password_length", "password_alphabet",
	"os", "sudo", "allow_system_accounts",
};

int
ssh_win_target_check(const struct target *t, char *err, size_t errlen)
{
	const char	*key, *al;
	json_t		*v;
	size_t		 i, n;
	int		 r;

	json_object_foreach(t->opts, key, v) {
		for (i = 0; i < ARRAY_SIZE(win_keys); i++)
			if (strcmp(key, win_keys[i]) == 0)
				break;
		if (i == ARRAY_SIZE(win_keys)) {
			(void)snprintf(err, errlen, "unknown setting '%s' for "
			    "os = \"windows\"", key);
			return -EINVAL;
		}
	}
	if ((v = json_object_get(t->opts, "allow_system_accounts")) &&
	    !json_is_boolean(v)) {
		(void)snprintf(err, errlen, "'allow_system_accounts' must be "
		    "true or false");
		return -EINVAL;
	}
	/* Windows has no sudo: the login must be an administrator. */
	if (json_is_true(json_object_get(t->opts, "sudo"))) {
		(void)snprintf(err, errlen, "'sudo' cannot be used with os = "
		    "\"windows\" (log in as an administrator)");
		return -EINVAL;
	}
	if ((r = ssh_conn_check(t, 0, err, errlen)) != 0 ||
	    (r = ssh_opt_int_in(t, "password_length", WIN_PW_LEN_MIN,
	    WIN_PW_LEN_MAX, err, errlen)) != 0)
		return r;
	if ((v = json_object_get(t->opts, "password_alphabet")) != NULL) {
		al = json_string_value(v);
		n = al ? strlen(al) : 0;
		for (i = 0; i < n; i++)
			if ((unsigned char)al[i] < 0x21 ||
			    (unsigned char)al[i] > 0x7e ||
			    memchr(al + i + 1, al[i], n - i - 1) != NULL)
				break;
		if (al == NULL || n < 2 || n > 94 || i < n) {
			(void)snprintf(err, errlen, "'password_alphabet' must "
			    "be 2 to 94 distinct printable ASCII characters, "
			    "no space");
			return -EINVAL;
		}
	}
	if ((r = ssh_pw_policy_check(t, WIN_PW_LEN_DEFAULT, err,
	    errlen)) != 0)
		return r;
	return 0;
}
