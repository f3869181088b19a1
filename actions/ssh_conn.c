/*
 * ssh_conn: sessions with pinned host keys and bounded exec channels
 * (ssh_conn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <libssh/libssh.h>

#include "../agent/esc.h"
#include "../agent/log.h"
#include "../agent/secret.h"
#include "../agent/vault.h"
#include "ssh_conn.h"

static void	spare_drop(struct sconn *);

#define SSH_READ_SLICE_MS	20
#define SSH_OUT_RESERVE		4096

const char *
ssh_opt_str(const struct target *t, const char *k)
{
	return json_string_value(json_object_get(t->opts, k));
}

long
ssh_opt_int(const struct target *t, const char *k, long def)
{
	json_t	*v = json_object_get(t->opts, k);

	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

int
ssh_opt_sudo(const struct target *t)
{
	json_t		*v = json_object_get(t->opts, "sudo");
	const char	*u = ssh_opt_str(t, "user");

	if (json_is_boolean(v))
		return json_is_true(v);
	/* Anyone but root needs sudo for what the verbs do. */
	return u == NULL || strcmp(u, "root") != 0;
}

int
ssh_account_ok(const char *s)
{
	size_t	n, i;

	if (s == NULL || (n = strlen(s)) == 0 || n > SSH_ACCOUNT_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-')
			continue;
		if (s[i] == '$' && i == n - 1)
			continue;
		return 0;
	}
	return 1;
}

int
ssh_key_fp(ssh_key k, char *out, size_t len)
{
	unsigned char	*h = NULL;
	size_t		 hl = 0;
	char		*fp;
	int		 n;

	if (ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &h,
	    &hl) != 0)
		return -EINVAL;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, h, hl);
	ssh_clean_pubkey_hash(&h);
	if (fp == NULL)
		return -EINVAL;
	n = snprintf(out, len, "%s", fp);
	ssh_string_free_char(fp);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *
ssh_known_name(enum ssh_known_hosts_e k)
{
	switch (k) {
	case SSH_KNOWN_HOSTS_OK:
		return "pinned (accepted)";
	case SSH_KNOWN_HOSTS_CHANGED:
		return "host key CHANGED (possible man-in-the-middle)";
	case SSH_KNOWN_HOSTS_OTHER:
		return "host key of another type than the pinned one";
	case SSH_KNOWN_HOSTS_UNKNOWN:
		return "host key unknown (not pinned)";
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		return "known_hosts file not found";
	default:
		return "host key check failed";
	}
}

/* Proceeds only on SSH_KNOWN_HOSTS_OK; never updates known_hosts. */
static int
host_verify(ssh_session s, const struct target *t, const char *host,
    int port, char *err, size_t errlen)
{
	enum ssh_known_hosts_e	 k;
	ssh_key			 srv = NULL;
	char			 fp[128] = "?";

	if (ssh_get_server_publickey(s, &srv) == SSH_OK) {
		if (ssh_key_fp(srv, fp, sizeof(fp)) != 0)
			(void)snprintf(fp, sizeof(fp), "?");
		ssh_key_free(srv);
	}
	k = ssh_session_is_known_server(s);
	if (k == SSH_KNOWN_HOSTS_OK)
		return 0;
	(void)snprintf(err, errlen, "%s:%d: %s; server key %s; refusing "
	    "(check the fingerprint out of band, then a lead runs: cordon "
	    "hosts trust %s --fingerprint %s%s)", host, port,
	    ssh_known_name(k), fp, t->name, fp,
	    k == SSH_KNOWN_HOSTS_CHANGED || k == SSH_KNOWN_HOSTS_OTHER ?
	    " --replace" : "");
	return -EPERM;
}

static int	file_private(const char *, const char **);

static int
auth_login(ssh_session s, const struct target *t, ssh_key key, char *err,
    size_t errlen)
{
	struct secret	*pw = NULL;
	ssh_key		 own = NULL;
	const char	*why, *kf = ssh_opt_str(t, "key_file");
	int		 rc, r = -EACCES;

	if (key == NULL && kf != NULL) {
		/* Again at use: a key made readable since load is spent. */
		if ((r = file_private(kf, &why)) != 0) {
			(void)snprintf(err, errlen, "key_file '%s': %s", kf,
			    why);
			r = -EACCES;
			goto out;
		}
		r = -EACCES;
		if (ssh_pki_import_privkey_file(kf, NULL, NULL, NULL,
		    &own) != SSH_OK) {
			(void)snprintf(err, errlen, "cannot load key_file "
			    "'%s'", kf);
			goto out;
		}
		key = own;
	}
	if (key != NULL) {
		rc = ssh_userauth_publickey(s, NULL, key);
	} else {
		if ((r = secret_read_file(ssh_opt_str(t, "password_file"),
		    &pw, &why)) != 0) {
			(void)snprintf(err, errlen, "password_file: %s", why);
			goto out;
		}
		rc = ssh_userauth_password(s, NULL, pw->s);
	}
	if (rc != SSH_AUTH_SUCCESS) {
		(void)snprintf(err, errlen, "authentication refused");
		r = -EACCES;
		goto out;
	}
	r = 0;
out:
	secret_free(pw);
	ssh_key_free(own);
	return r;
}

void
ssh_session_end(ssh_session s)
{
	if (s == NULL)
		return;
	if (ssh_is_connected(s))
		ssh_disconnect(s);
	ssh_free(s);
}

/* A session connected to the target as user, host key not yet judged. */
static int
session_connect(const struct target *t, const char *user,
    ssh_session *ret, char *err, size_t errlen)
{
	ssh_session	 s;
	const char	*host = ssh_opt_str(t, "host");
	long		 timeout = ssh_opt_int(t, "timeout",
	    SSH_TIMEOUT_DEFAULT);
	unsigned int	 port = (unsigned int)ssh_opt_int(t, "port", 22);
	int		 no = 0, r;

	if ((s = ssh_new()) == NULL)
		fatalx("ssh_new: out of memory");
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, host) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, user) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS,
	    ssh_opt_str(t, "known_hosts")) != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	    "/dev/null") != 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != 0) {
		(void)snprintf(err, errlen, "cannot set session options");
		r = -EINVAL;
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		(void)snprintf(err, errlen, "connect to %s:%u: %s", host,
		    port, ssh_get_error(s));
		r = -EIO;
		goto out;
	}
	*ret = s;
	s = NULL;
	r = 0;
out:
	ssh_session_end(s);
	return r;
}

int
ssh_session_new(const struct target *t, const char *user, ssh_key key,
    ssh_session *ret, char *err, size_t errlen)
{
	ssh_session	 s = NULL;
	double		 t0 = now_mono(), t1;
	int		 r;

	if ((r = session_connect(t, user, &s, err, errlen)) != 0)
		return r;
	t1 = now_mono();
	if ((r = host_verify(s, t, ssh_opt_str(t, "host"),
	    (int)ssh_opt_int(t, "port", 22), err, errlen)) != 0 ||
	    (r = auth_login(s, t, key, err, errlen)) != 0)
		goto out;
	/* The bench (scripts/bench-ssh.sh) sums these: where time goes. */
	log_debug("ssh-time %s connect %.4f auth %.4f", t->name, t1 - t0,
	    now_mono() - t1);
	*ret = s;
	s = NULL;
	r = 0;
out:
	ssh_session_end(s);
	return r;
}

int
ssh_hostkey_probe(const struct target *t, struct ssh_hostkey *hk,
    char *err, size_t errlen)
{
	ssh_key	srv = NULL;
	int	r;

	memset(hk, 0, sizeof(*hk));
	if ((r = session_connect(t, ssh_opt_str(t, "user"), &hk->s, err,
	    errlen)) != 0)
		return r;
	if (ssh_get_server_publickey(hk->s, &srv) != SSH_OK ||
	    ssh_key_fp(srv, hk->fp, sizeof(hk->fp)) != 0) {
		(void)snprintf(err, errlen, "no host key from the server");
		ssh_key_free(srv);
		ssh_hostkey_free(hk);
		return -EIO;
	}
	(void)snprintf(hk->type, sizeof(hk->type), "%s",
	    ssh_key_type_to_char(ssh_key_type(srv)));
	ssh_key_free(srv);
	hk->known = ssh_session_is_known_server(hk->s);
	return 0;
}

void
ssh_hostkey_free(struct ssh_hostkey *hk)
{
	ssh_session_end(hk->s);
	hk->s = NULL;
}

int
ssh_conn_open(const struct target *t, struct sconn **ret, char *err,
    size_t errlen)
{
	struct sconn	*c = xcalloc(1, sizeof(*c));
	int		 r;

	c->t = t;
	c->host = ssh_opt_str(t, "host");
	c->user = ssh_opt_str(t, "user");
	c->port = (int)ssh_opt_int(t, "port", 22);
	c->timeout = ssh_opt_int(t, "timeout", SSH_TIMEOUT_DEFAULT);
	c->sudo = ssh_opt_sudo(t);
	if ((r = ssh_session_new(t, c->user, NULL, &c->s, err,
	    errlen)) != 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void
ssh_conn_close(struct sconn *c)
{
	if (c == NULL)
		return;
	spare_drop(c);
	ssh_session_end(c->s);
	free(c->park_key);
	free(c);
}

int
ssh_cmdline(const struct sconn *c, enum ssh_who who, const char *account,
    const char *const *argv, char **ret)
{
	struct buf	b;
	size_t		i;
	int		r = 0;

	buf_init(&b, SSH_CMD_MAX);
	if (who == SSH_AS_ACCOUNT && !ssh_account_ok(account)) {
		r = -EINVAL;
		goto out;
	}
	if (who != SSH_AS_LOGIN && c->sudo) {
		r = buf_adds(&b, "sudo -n ");
		if (r == 0 && who == SSH_AS_ACCOUNT &&
		    ((r = buf_adds(&b, "-u ")) != 0 ||
		    (r = esc_shell_word(&b, account)) != 0 ||
		    (r = buf_addc(&b, ' ')) != 0))
			goto out;
	} else if (who == SSH_AS_ACCOUNT) {
		/* Logged in as root without sudo. */
		if ((r = buf_adds(&b, "runuser -u ")) != 0 ||
		    (r = esc_shell_word(&b, account)) != 0 ||
		    (r = buf_adds(&b, " -- ")) != 0)
			goto out;
	}
	for (i = 0; r == 0 && argv[i]; i++) {
		if (i == SSH_ARGV_MAX) {
			r = -E2BIG;
			break;
		}
		if (i > 0)
			r = buf_addc(&b, ' ');
		if (r == 0)
			r = esc_shell_word(&b, argv[i]);
	}
	if (r == 0 && i == 0)
		r = -EINVAL;
out:
	if (r == 0)
		*ret = buf_steal(&b);
	buf_free(&b);
	return r;
}

/* One allocation up front, so the buffer never leaves copies behind. */
static void
res_init(struct ssh_res *res)
{
	buf_init(&res->out, SSH_OUT_MAX);
	buf_init(&res->err, SSH_OUT_MAX);
	res->out.p = xmalloc(SSH_OUT_RESERVE);
	res->out.cap = SSH_OUT_RESERVE;
	res->out.p[0] = '\0';
	res->err.p = xmalloc(SSH_OUT_RESERVE);
	res->err.cap = SSH_OUT_RESERVE;
	res->err.p[0] = '\0';
	res->status = -1;
}

void
ssh_res_free(struct ssh_res *res)
{
	if (res->out.p)
		explicit_bzero(res->out.p, res->out.cap);
	if (res->err.p)
		explicit_bzero(res->err.p, res->err.cap);
	buf_free(&res->out);
	buf_free(&res->err);
}

void
ssh_res_errline(const struct ssh_res *res, char *out, size_t len)
{
	size_t	i;

	if (len == 0)
		return;
	for (i = 0; i + 1 < len && res->err.p && i < res->err.len &&
	    res->err.p[i] != '\n'; i++)
		out[i] = (unsigned char)res->err.p[i] < 0x20 ||
		    res->err.p[i] == 0x7f ? '?' : res->err.p[i];
	out[i] = '\0';
}

static int
write_all(ssh_channel ch, const void *in, size_t len)
{
	const char	*p = in;
	int		 w;

	while (len > 0) {
		w = ssh_channel_write(ch, p, len > 32768 ? 32768 :
		    (uint32_t)len);
		if (w == SSH_ERROR)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A session channel: the spare one a reused session proved alive with. */
static int
channel_open(struct sconn *c, ssh_channel *ret)
{
	ssh_channel	ch;

	if ((ch = c->spare) != NULL) {
		c->spare = NULL;
		*ret = ch;
		return 0;
	}
	if ((ch = ssh_channel_new(c->s)) == NULL)
		return -EIO;
	if (ssh_channel_open_session(ch) != SSH_OK) {
		ssh_channel_free(ch);
		return -EIO;
	}
	*ret = ch;
	return 0;
}

static void
spare_drop(struct sconn *c)
{
	if (c->spare == NULL)
		return;
	if (ssh_channel_is_open(c->spare))
		(void)ssh_channel_close(c->spare);
	ssh_channel_free(c->spare);
	c->spare = NULL;
}

int
ssh_run_line(struct sconn *c, const char *cmd, const void *in, size_t inlen,
    struct ssh_res *res)
{
	ssh_channel	 ch = NULL;
	char		 chunk[8192];
	double		 deadline = now_mono() + (double)c->timeout;
	long		 left;
	int		 n, m, r;

	res_init(res);
	if ((r = channel_open(c, &ch)) != 0)
		goto out;
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		r = -EIO;
		goto out;
	}
	if ((in && (r = write_all(ch, in, inlen)) != 0))
		goto out;
	if (ssh_channel_send_eof(ch) != SSH_OK) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		left = (long)((deadline - now_mono()) * 1000);
		if (left <= 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		n = ssh_channel_read_timeout(ch, chunk, sizeof(chunk), 0,
		    left < SSH_READ_SLICE_MS ? (int)left : SSH_READ_SLICE_MS);
		if (n == SSH_ERROR) {
			r = -EIO;
			goto out;
		}
		if (n > 0 && (r = buf_add(&res->out, chunk, (size_t)n)) != 0)
			goto out;
		m = ssh_channel_read_nonblocking(ch, chunk, sizeof(chunk), 1);
		if (m == SSH_ERROR) {
			r = -EIO;
			goto out;
		}
		if (m > 0 && (r = buf_add(&res->err, chunk, (size_t)m)) != 0)
			goto out;
		if (n <= 0 && m <= 0 && (ssh_channel_is_eof(ch) ||
		    ssh_channel_is_closed(ch)))
			break;
	}
	res->status = ssh_channel_get_exit_status(ch);
	log_debug("ssh-time %s exec %.4f", c->host, now_mono() - (deadline -
	    (double)c->timeout));
	r = 0;
out:
	if (r == -EIO || r == -ETIMEDOUT)
		c->broken = 1;
	explicit_bzero(chunk, sizeof(chunk));
	if (ch) {
		if (ssh_channel_is_open(ch))
			(void)ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return r;
}

int
ssh_run(struct sconn *c, enum ssh_who who, const char *account,
    const char *const *argv, const void *in, size_t inlen,
    struct ssh_res *res)
{
	char	*cmd = NULL;
	int	 r;

	if ((r = ssh_cmdline(c, who, account, argv, &cmd)) != 0) {
		res_init(res);
		return r;
	}
	r = ssh_run_line(c, cmd, in, inlen, res);
	free(cmd);
	return r;
}

/* Moves len bytes of p into res's stdout (reserved: no stale copies). */
static int
res_take(struct ssh_res *res, const char *p, size_t len)
{
	return buf_add(&res->out, p, len);
}

int
ssh_run_seq(struct sconn *c, const struct ssh_cmd *cmds, size_t n,
    const void *in, size_t inlen, struct ssh_res *res)
{
	struct ssh_res	 all;
	struct buf	 line;
	unsigned char	 rnd[16];
	char		 mark[40], *one = NULL, *p, *end, *q;
	size_t		 i, k;
	long		 st;
	int		 r = 0;

	for (i = 0; i < n; i++)
		res_init(&res[i]);
	memset(&all, 0, sizeof(all));
	if (n == 0 || n > SSH_SEQ_MAX)
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	mark[0] = '\0';
	for (k = 0; k < sizeof(rnd); k++)
		(void)snprintf(mark + 2 * k, 3, "%02x", rnd[k]);
	buf_init(&line, SSH_CMD_MAX);
	/* cmd; printf '\n%s %d\n' MARK $?; cmd </dev/null; ... */
	for (i = 0; i < n && r == 0; i++) {
		if ((r = ssh_cmdline(c, cmds[i].who, cmds[i].account,
		    cmds[i].argv, &one)) != 0)
			break;
		r = buf_adds(&line, one);
		free(one);
		if (r == 0 && i > 0)
			r = buf_adds(&line, " </dev/null");
		if (r == 0 && i + 1 < n)
			r = buf_adds(&line, "; printf '\\n%s %d\\n' ");
		if (r == 0 && i + 1 < n)
			r = buf_adds(&line, mark);
		if (r == 0 && i + 1 < n)
			r = buf_adds(&line, " \"$?\"; ");
	}
	if (r != 0 || (r = ssh_run_line(c, line.p, in, inlen, &all)) != 0)
		goto out;
	p = all.out.p;
	end = all.out.p + all.out.len;
	for (i = 0; i + 1 < n; i++) {
		/* "\nMARK STATUS\n" ends command i's output. */
		for (q = p; (q = memmem(q, (size_t)(end - q), mark,
		    strlen(mark))) != NULL; q++)
			if (q > p && q[-1] == '\n')
				break;
		if (q == NULL) {
			r = -EIO;		/* the shell did not finish */
			goto out;
		}
		if ((r = res_take(&res[i], p, (size_t)(q - 1 - p))) != 0)
			goto out;
		q += strlen(mark);
		st = strtol(q, &q, 10);
		res[i].status = (int)st;
		if (q >= end || *q != '\n') {
			r = -EIO;
			goto out;
		}
		p = q + 1;
	}
	if ((r = res_take(&res[n - 1], p, (size_t)(end - p))) != 0 ||
	    (r = buf_add(&res[n - 1].err, all.err.p, all.err.len)) != 0)
		goto out;
	res[n - 1].status = all.status;
out:
	ssh_res_free(&all);
	buf_free(&line);
	explicit_bzero(mark, sizeof(mark));
	return r;
}

int
ssh_opt_int_in(const struct target *t, const char *k, long min, long max,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(t->opts, k);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		(void)snprintf(err, errlen, "'%s' must be an integer from %ld "
		    "to %ld", k, min, max);
		return -EINVAL;
	}
	return 0;
}

int
ssh_pw_policy_check(const struct target *t, long def_len, char *err,
    size_t errlen)
{
	long	len = ssh_opt_int(t, "password_length", def_len);
	size_t	n = secret_alphabet_len(ssh_opt_str(t, "password_alphabet"));
	double	bits = (double)len * log2((double)n);

	if (bits < SSH_PW_BITS_MIN) {
		(void)snprintf(err, errlen, "password policy too weak: %ld "
		    "characters from %zu give %.0f bits, at least %d are "
		    "needed (raise 'password_length' or widen "
		    "'password_alphabet')", len, n, bits, SSH_PW_BITS_MIN);
		return -EINVAL;
	}
	return 0;
}

static int
file_private(const char *path, const char **why)
{
	struct stat	st;
	int		fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		*why = "cannot open";
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		*why = "cannot stat";
		r = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		r = -EPERM;
	} else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*why = "readable or writable by group or others (chmod 600)";
		r = -EPERM;
	}
	(void)close(fd);
	return r;
}

int
ssh_conn_check(const struct target *t, int key_only, char *err,
    size_t errlen)
{
	static const char	*req[] = { "host", "user", "known_hosts" };
	struct secret		*pw = NULL;
	struct stat		 st;
	ssh_key			 k = NULL;
	const char		*h, *kf, *pf, *why, *s;
	json_t			*v;
	size_t			 i;
	int			 r;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (ssh_opt_str(t, req[i]) == NULL) {
			(void)snprintf(err, errlen, "missing '%s'", req[i]);
			return -EINVAL;
		}
	h = ssh_opt_str(t, "host");
	if (*h == '\0' || strlen(h) > 253 || strspn(h, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_") != strlen(h)) {
		(void)snprintf(err, errlen, "'host' must be a host name or "
		    "address");
		return -EINVAL;
	}
	if (!ssh_account_ok(ssh_opt_str(t, "user"))) {
		(void)snprintf(err, errlen, "'user' must be a POSIX user name");
		return -EINVAL;
	}
	if ((r = ssh_opt_int_in(t, "port", 1, 65535, err, errlen)) != 0 ||
	    (r = ssh_opt_int_in(t, "timeout", 1, SSH_TIMEOUT_MAX, err,
	    errlen)) != 0)
		return r;
	if ((v = json_object_get(t->opts, "sudo")) && !json_is_boolean(v)) {
		(void)snprintf(err, errlen, "'sudo' must be true or false");
		return -EINVAL;
	}
	/* Pinned host keys: a file others could add keys to pins nothing. */
	s = ssh_opt_str(t, "known_hosts");
	if (stat(s, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "known_hosts '%s': not a readable "
		    "file", s);
		return -EINVAL;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		(void)snprintf(err, errlen, "known_hosts '%s': writable by "
		    "group or others", s);
		return -EPERM;
	}
	kf = ssh_opt_str(t, "key_file");
	pf = ssh_opt_str(t, "password_file");
	if (key_only && (kf == NULL || pf != NULL)) {
		(void)snprintf(err, errlen, "needs 'key_file' (and no "
		    "'password_file')");
		return -EINVAL;
	}
	if ((kf == NULL) == (pf == NULL)) {
		(void)snprintf(err, errlen, "needs exactly one of 'key_file' "
		    "or 'password_file'");
		return -EINVAL;
	}
	if (kf) {
		if ((r = file_private(kf, &why)) != 0) {
			(void)snprintf(err, errlen, "key_file '%s': %s", kf,
			    why);
			return r;
		}
		if (ssh_pki_import_privkey_file(kf, NULL, NULL, NULL, &k) !=
		    SSH_OK) {
			(void)snprintf(err, errlen, "key_file '%s': not an "
			    "unencrypted private key", kf);
			return -EINVAL;
		}
		ssh_key_free(k);
		return 0;
	}
	if ((r = secret_read_file(pf, &pw, &why)) != 0) {
		(void)snprintf(err, errlen, "password_file '%s': %s", pf, why);
		return r;
	}
	secret_free(pw);
	return 0;
}

/* ---- parked sessions (ssh_conn.h) ---------------------------------- */

struct parked {
	struct sconn	*c;
	double		 at;
};

static pthread_mutex_t	 park_mu = PTHREAD_MUTEX_INITIALIZER;
static struct parked	 park[SSH_PARK_MAX];
static size_t		 nparked;

/*
 * Everything that decided how a session was opened.  known_hosts is named
 * by its identity too: a re-pinned file never reuses a session verified
 * against the old one.
 */
static char *
park_key(const struct target *t)
{
	struct stat	 st;
	const char	*kh = ssh_opt_str(t, "known_hosts");
	const char	*kf = ssh_opt_str(t, "key_file");
	const char	*pf = ssh_opt_str(t, "password_file");

	if (kh == NULL || stat(kh, &st) != 0)
		return NULL;
	return xasprintf("%s\n%ld\n%s\n%s\n%s\n%s\n%ld:%ld:%lld:%ld.%09ld"
	    "\n%ld\n%d", ssh_opt_str(t, "host"), ssh_opt_int(t, "port", 22),
	    ssh_opt_str(t, "user"), kf ? kf : "", pf ? pf : "", kh,
	    (long)st.st_dev, (long)st.st_ino, (long long)st.st_size,
	    (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	    ssh_opt_int(t, "timeout", SSH_TIMEOUT_DEFAULT), ssh_opt_sudo(t));
}

/* Takes the parked sessions past their time out of the park (locked). */
static size_t
park_expired(struct sconn **out, size_t max)
{
	double	now = now_mono();
	size_t	i = 0, n = 0;

	while (i < nparked && n < max) {
		if (now - park[i].at > SSH_PARK_S) {
			out[n++] = park[i].c;
			park[i] = park[--nparked];
		} else
			i++;
	}
	return n;
}

/* A parked session opened as key would be, or NULL; reaps the old. */
static struct sconn *
park_take(const char *key)
{
	struct sconn	*c = NULL, *old[16];
	size_t		 i, n;

	if (pthread_mutex_lock(&park_mu) != 0)
		fatalx("%s: mutex", __func__);
	n = park_expired(old, ARRAY_SIZE(old));
	for (i = 0; key && i < nparked; i++)
		if (strcmp(park[i].c->park_key, key) == 0) {
			c = park[i].c;
			park[i] = park[--nparked];
			break;
		}
	(void)pthread_mutex_unlock(&park_mu);
	for (i = 0; i < n; i++)
		ssh_conn_close(old[i]);
	return c;
}

/*
 * Ends expired sessions while the park holds any, so an idle agent does
 * not keep connections open to every host; exits when the park is empty.
 */
static int	reaper_running;

static void *
park_reaper(void *arg)
{
	struct timespec	 ts = { 1, 0 };
	struct sconn	*old[16];
	size_t		 i, n, left;

	(void)arg;
	for (;;) {
		while (nanosleep(&ts, NULL) != 0 && errno == EINTR)
			;
		if (pthread_mutex_lock(&park_mu) != 0)
			fatalx("%s: mutex", __func__);
		n = park_expired(old, ARRAY_SIZE(old));
		if ((left = nparked) == 0)
			reaper_running = 0;
		(void)pthread_mutex_unlock(&park_mu);
		for (i = 0; i < n; i++)
			ssh_conn_close(old[i]);
		if (left == 0)
			return NULL;
	}
}

/* Starts the reaper if none runs (park_mu held). */
static void
reaper_start(void)
{
	pthread_attr_t	at;
	pthread_t	th;

	if (reaper_running || pthread_attr_init(&at) != 0)
		return;
	if (pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) == 0 &&
	    pthread_create(&th, &at, park_reaper, NULL) == 0)
		reaper_running = 1;
	(void)pthread_attr_destroy(&at);
}

int
ssh_conn_vopen(const struct target *t, void **ret, char *err, size_t errlen)
{
	struct sconn	*c = NULL;
	char		*key = park_key(t);
	int		 r;

	if ((c = park_take(key)) != NULL) {
		/* One round trip proves it alive; the channel is used next. */
		if (ssh_is_connected(c->s) && channel_open(c, &c->spare) ==
		    0) {
			free(key);
			/* The config may have been reloaded since. */
			c->t = t;
			c->host = ssh_opt_str(t, "host");
			c->user = ssh_opt_str(t, "user");
			*ret = c;
			return 0;
		}
		ssh_conn_close(c);
		c = NULL;
	}
	if ((r = ssh_conn_open(t, &c, err, errlen)) != 0) {
		free(key);
		return r;
	}
	c->park_key = key;
	*ret = c;
	return 0;
}

void
ssh_conn_vclose(void *p)
{
	struct sconn	*c = p, *old[16];
	size_t		 i, n;
	int		 parked = 0;

	if (c == NULL)
		return;
	if (pthread_mutex_lock(&park_mu) != 0)
		fatalx("%s: mutex", __func__);
	n = park_expired(old, ARRAY_SIZE(old));
	if (!c->broken && c->park_key && nparked < SSH_PARK_MAX &&
	    ssh_is_connected(c->s)) {
		/* Parked sessions point at no config: it may be reloaded. */
		spare_drop(c);
		c->t = NULL;
		c->host = c->user = NULL;
		park[nparked].c = c;
		park[nparked++].at = now_mono();
		parked = 1;
		reaper_start();
	}
	(void)pthread_mutex_unlock(&park_mu);
	for (i = 0; i < n; i++)
		ssh_conn_close(old[i]);
	if (!parked)
		ssh_conn_close(c);
}

int
ssh_each(void *conn, struct act **v, size_t n, ssh_one_fn fn)
{
	size_t	i;
	int	r;

	for (i = 0; i < n; i++)
		if ((r = fn(conn, v[i])) < 0)
			return r;
	return 0;
}
